import Contracts
import Foundation
import Logging
import Models
import PostgresNIO
import ServiceKit

/// `marketplace-wallet seed-demo`: the demo tenant's books and market, made through the stores (so the ledger's
/// rules hold for the demo too): a funding account, two fuel vendors with products, a commission schedule, a buyer
/// topped up with 5,000.00 KES, an intent with two quotes, and a completed purchase. Run again, it changes nothing:
/// it makes them only when the tenant has no vendor yet.
enum DemoSeed {
    static func run(postgres: PostgresClient, logger: Logger) async throws {
        let tenant = DemoData.tenant
        let audit = AuditLog(schema: "wallet")
        let vendors = VendorsStore(postgres: postgres, audit: audit)
        guard try await vendors.vendors(tenant: tenant, category: nil, region: nil, status: nil, search: nil, after: nil, limit: 1, logger: logger).isEmpty
        else { return }
        let ledger = LedgerStore(postgres: postgres, audit: audit)
        let purchases = PurchasesStore(postgres: postgres, audit: audit, ledger: ledger, crm: CRMEvents(jobs: JobQueue(schema: "wallet")))
        let actor = "seed-demo"
        let request = "seed-demo"
        func profile(_ name: String, region: String, rating: Double, fulfilment: Double, responseMs: Int64) -> VendorsStore.VendorFields {
            .init(
                name: name, phone: nil, region: region, categories: ["fuel"], rating: rating, fulfilmentRate: fulfilment, avgResponseMs: responseMs,
                totalTrips: 0, status: .active)
        }
        // the parties and the catalogue in one transaction; the money moves through the ledger's own after it
        let (near, far, diesel, funding, buyer) = try await postgres.withTransaction(logger: logger) { connection in
            let near = try await vendors.createVendor(
                profile("Kigali Fuel Depot", region: "Kigali", rating: 4.7, fulfilment: 0.96, responseMs: 90_000), currency: .KES, tenant: tenant, actor: actor,
                requestID: request, on: connection, logger: logger)
            let far = try await vendors.createVendor(
                profile("Huye Energy", region: "Huye", rating: 4.1, fulfilment: 0.88, responseMs: 300_000), currency: .KES, tenant: tenant, actor: actor,
                requestID: request, on: connection, logger: logger)
            let diesel = try await vendors.createProduct(
                .init(
                    name: "Diesel 20 L", description: "Delivered in a sealed jerrycan.", category: "fuel", price: 30_000, currency: .KES, available: true,
                    metadata: ["fuel": .string("diesel"), "litres": .number(20)]), vendor: near.id, tenant: tenant, actor: actor, requestID: request,
                on: connection, logger: logger)
            _ = try await vendors.createProduct(
                .init(
                    name: "Petrol 10 L", description: nil, category: "fuel", price: 16_500, currency: .KES, available: true,
                    metadata: ["fuel": .string("petrol"), "litres": .number(10)]), vendor: far.id, tenant: tenant, actor: actor, requestID: request,
                on: connection, logger: logger)
            _ = try await vendors.createSchedule(
                product: nil, rateBps: 250, flatFee: nil, effectiveFrom: Date(timeIntervalSince1970: 1_767_225_600), tenant: tenant, actor: actor,
                requestID: request, on: connection, logger: logger)
            let funding = try await ledger.createAccount(
                tenant: tenant, ownerType: .platform, ownerID: "funding", currency: .KES, name: "Funding", allowNegative: true, actor: actor,
                requestID: request, on: connection, logger: logger)
            let buyer = try await vendors.createBuyer(
                name: "Aline Uwase", phone: try PhoneNumber(parsing: "+250788123456"), segment: "driver", currency: .KES, tenant: tenant, actor: actor,
                requestID: request, on: connection, logger: logger)
            return (near, far, diesel, funding, buyer)
        }
        _ = try await ledger.post(
            Posting(
                tenant: tenant, type: .topup, reference: "seed-demo/topup", currency: .KES,
                legs: [Leg(from: funding.id, to: buyer.accountId, amount: 500_000)], reason: "Demo top-up", metadata: [:], actor: actor),
            requestID: request, logger: logger)
        // one purchase made and completed, one intent still open with two quotes
        for completed in [true, false] {
            let cheap = try await postgres.withTransaction(logger: logger) { connection in
                let intent = try await purchases.createIntent(
                    .init(
                        buyer: buyer.id, channel: .whatsapp, category: "fuel", region: "Kigali", product: completed ? diesel.id : nil,
                        description: completed ? "Diesel 20 L to Kimihurura" : "Petrol for the weekend", payload: [:], expiresInSeconds: 7 * 86_400,
                        conversationID: nil), tenant: tenant, actor: actor, requestID: request, on: connection, logger: logger)
                let cheap = try await purchases.createQuote(
                    .init(
                        intent: intent.id, vendor: near.id, product: completed ? diesel.id : nil, price: Money(minorUnits: 29_000, currency: .KES),
                        etaMinutes: 30, note: nil), tenant: tenant, actor: actor, requestID: request, on: connection, logger: logger)
                _ = try await purchases.createQuote(
                    .init(intent: intent.id, vendor: far.id, product: nil, price: Money(minorUnits: 31_500, currency: .KES), etaMinutes: 90, note: nil),
                    tenant: tenant, actor: actor, requestID: request, on: connection, logger: logger)
                return cheap
            }
            if completed, let (purchase, _) = try await purchases.acceptQuote(cheap.id, tenant: tenant, actor: actor, requestID: request, logger: logger) {
                _ = try await purchases.completePurchase(purchase.id, tenant: tenant, actor: actor, requestID: request, logger: logger)
            }
        }
    }
}
