import Contracts
import Foundation
import Logging
import Models
import ServiceClient

/// The marketplace tools a selling agent may use (marketplace-wallet answers them): search products, ask vendors for
/// quotes on the customer's behalf (an intent), read the quotes ranked with their reasons, accept one. The customer is
/// the buyer: found or opened by their phone number, and a quote is read or accepted only on the customer's own
/// intent, so no chat can buy with someone else's wallet. Each answer is JSON for the model.
extension Tools {
    static func json(_ value: some Encodable) -> String {
        (try? JSONEncoder.sokoni.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"status":"unavailable"}"#
    }

    static let unavailable = #"{"status":"unavailable"}"#

    struct Found: Encodable {
        struct Product: Encodable {
            var productId: String
            var name: String
            var price: String
            var category: String?
        }
        var products: [Product]
    }

    func productSearch(_ query: String, tenant: TenantID, requestID: String?, logger: Logger) async -> String {
        guard let wallet = self.wallet, !query.allSatisfy(\.isWhitespace) else { return Self.json(Found(products: [])) }
        do {
            let context = try await self.callContext(tenant, requestID)
            let products = try await wallet().products(matching: String(query.prefix(200)), context: context)
            return Self.json(
                Found(
                    products: products.map {
                        .init(
                            productId: $0.id.uuidString.lowercased(), name: $0.name, price: "\($0.price.decimalString) \($0.price.currency.code)",
                            category: $0.category)
                    }))
        } catch {
            logger.warning("product search failed", metadata: ["error": "\(error)"])
            return Self.unavailable
        }
    }

    /// The customer as a buyer: found by phone, or opened in the tenant's currency when `open`.
    func buyer(_ request: AgentAPI.ReplyRequest, tenant: TenantID, open: Bool, context: CallContext, logger: Logger) async throws
        -> WalletAPI.BuyerView?
    {
        guard let wallet = self.wallet, let phone = try? PhoneNumber(parsing: request.contact.address) else { return nil }
        if !open {
            let page: Page<WalletAPI.BuyerView> = try await wallet().client.get(
                WalletAPI.listBuyers.path, query: ["phone": phone.e164, "limit": "1"], context: context)
            return page.items.first
        }
        guard let currency = try await self.tenantCurrency?(tenant, logger) else { return nil }
        return try await wallet().buyer(phone: phone.e164, name: request.contact.name ?? phone.masked, currency: currency, context: context)
    }

    struct Created: Encodable {
        var intentId: String
        var status: String
        var expiresAt: Date
    }

    func createIntent(
        _ arguments: [String: String], request: AgentAPI.ReplyRequest, tenant: TenantID, requestID: String?, logger: Logger
    ) async -> String {
        guard let wallet = self.wallet else { return Self.unavailable }
        do {
            let context = try await self.callContext(tenant, requestID)
            guard let buyer = try await self.buyer(request, tenant: tenant, open: true, context: context, logger: logger) else {
                return #"{"error":"the customer has no phone number to buy with"}"#
            }
            let channel = ["whatsapp", "instagram", "sms", "telegram", "webchat"].contains(request.channelKind) ? request.channelKind : "api"
            let intent = try await wallet().createIntent(
                .init(
                    buyerId: buyer.id.uuidString.lowercased(), channel: channel, category: arguments["category"].map { String($0.prefix(100)) },
                    region: arguments["region"].map { String($0.prefix(100)) }, productId: arguments["productId"].flatMap(UUID.init(uuidString:))?.uuidString,
                    description: arguments["description"].map { String($0.prefix(2000)) }, conversationId: request.conversationId.description),
                context: context)
            return Self.json(Created(intentId: intent.id.uuidString.lowercased(), status: intent.status, expiresAt: intent.expiresAt))
        } catch ServiceClientError.api(let status, let code, _) where status < 500 {
            return #"{"error":"\#(code)"}"#
        } catch {
            logger.warning("creating an intent failed", metadata: ["error": "\(error)"])
            return Self.unavailable
        }
    }

    struct Quotes: Encodable {
        struct Quote: Encodable {
            var quoteId: String
            var vendor: String
            var price: String
            var etaMinutes: Int
            var score: Double?
            var reasons: [String]
        }
        var intentStatus: String
        var quotes: [Quote]
    }

    /// The customer's own intent with its open quotes, best ranked first; nil when it is not theirs.
    func ownIntent(_ id: UUID, request: AgentAPI.ReplyRequest, tenant: TenantID, context: CallContext, logger: Logger) async throws
        -> WalletAPI.IntentView?
    {
        guard let wallet = self.wallet, let buyer = try await self.buyer(request, tenant: tenant, open: false, context: context, logger: logger),
            let intent = try await wallet().intent(id, context: context), intent.buyerId == buyer.id
        else { return nil }
        return intent
    }

    func listQuotes(_ arguments: [String: String], request: AgentAPI.ReplyRequest, tenant: TenantID, requestID: String?, logger: Logger) async -> String {
        guard self.wallet != nil else { return Self.unavailable }
        guard let id = arguments["intentId"].flatMap(UUID.init(uuidString:)) else { return #"{"error":"intentId is required"}"# }
        do {
            let context = try await self.callContext(tenant, requestID)
            guard let intent = try await self.ownIntent(id, request: request, tenant: tenant, context: context, logger: logger) else {
                return #"{"error":"not_found"}"#
            }
            let ranking = intent.ranking ?? []
            let open = (intent.quotes ?? []).filter { $0.status == "pending" }.sorted { first, second in
                let a = ranking.firstIndex { $0.quoteId == first.id } ?? Int.max
                let b = ranking.firstIndex { $0.quoteId == second.id } ?? Int.max
                return a < b
            }
            return Self.json(
                Quotes(
                    intentStatus: intent.status,
                    quotes: open.map { quote in
                        let ranked = ranking.first { $0.quoteId == quote.id }
                        return .init(
                            quoteId: quote.id.uuidString.lowercased(), vendor: ranked?.name ?? "vendor",
                            price: "\(quote.price.decimalString) \(quote.price.currency.code)", etaMinutes: quote.etaMinutes, score: ranked?.score,
                            reasons: ranked?.reasons ?? [])
                    }))
        } catch {
            logger.warning("listing quotes failed", metadata: ["error": "\(error)"])
            return Self.unavailable
        }
    }

    struct Accepted: Encodable {
        var purchaseId: String
        var status: String
        var amount: String
    }

    func acceptQuote(_ arguments: [String: String], request: AgentAPI.ReplyRequest, tenant: TenantID, requestID: String?, logger: Logger) async -> String {
        guard let wallet = self.wallet else { return Self.unavailable }
        guard let id = arguments["quoteId"].flatMap(UUID.init(uuidString:)) else { return #"{"error":"quoteId is required"}"# }
        do {
            let context = try await self.callContext(tenant, requestID)
            guard let quote = try await wallet().quote(id, context: context),
                try await self.ownIntent(quote.intentId, request: request, tenant: tenant, context: context, logger: logger) != nil
            else { return #"{"error":"not_found"}"# }
            let purchase = try await wallet().acceptQuote(id, context: context)
            return Self.json(
                Accepted(
                    purchaseId: purchase.id.uuidString.lowercased(), status: purchase.status,
                    amount: "\(purchase.amount.decimalString) \(purchase.amount.currency.code)"))
        } catch ServiceClientError.api(let status, let code, _) where status < 500 {
            // the customer hears why: insufficient funds, the quote expired, another was accepted
            return #"{"error":"\#(code)"}"#
        } catch {
            logger.warning("accepting a quote failed", metadata: ["error": "\(error)"])
            return Self.unavailable
        }
    }
}
