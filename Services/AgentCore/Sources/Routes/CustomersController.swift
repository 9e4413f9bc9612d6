import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// What the other services tell the CRM (`POST /v1/crm/events`, service to service) and the customers it makes
/// (`GET /v1/customers`: converted leads with their totals; an `agent` sees their own).
struct CustomersController: Sendable {
    let events: EventsStore

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CRMAPI.recordEvents, use: self.record)
        router.on(CRMAPI.listCustomers, use: self.list)
    }

    @Sendable func record(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CRMAPI.EventsReceipt> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CRMAPI.Events.self, context: context)
        guard (1...100).contains(body.events.count) else { throw APIError.unprocessable("invalid_events", "Send 1 to 100 events at a time.") }
        // every event is checked before any is recorded: a bad one refuses the batch, nothing half-written
        var checked: [CRMAPI.Event] = []
        for var event in body.events {
            try TextRules.check(event.id, field: "events.id", length: 1...200)
            do { event.phone = try PhoneNumber(parsing: event.phone).e164 } catch {
                throw APIError.unprocessable("invalid_phone", "events.phone must be an E.164 number such as +250788123456.")
            }
            if let name = event.name { try TextRules.check(name, field: "events.name", length: 0...200) }
            if let title = event.title { try TextRules.check(title, field: "events.title", length: 0...200) }
            if let kind = event.channelKind { try TextRules.check(kind, field: "events.channelKind", length: 1...20) }
            if event.kind == .purchase {
                guard let code = event.currency, let currency = Currency(code: code), let amount = event.amount,
                    let money = try? Money(decimal: amount, currency: currency), money.minorUnits > 0
                else { throw APIError.unprocessable("invalid_amount", "A purchase has a positive amount in its currency's decimals, and the currency.") }
            }
            checked.append(event)
        }
        var recorded = 0
        for event in checked {
            if try await self.events.record(event, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger) {
                recorded += 1
            }
        }
        return JSONResponse(.ok, CRMAPI.EventsReceipt(recorded: recorded, duplicates: checked.count - recorded))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<EventsStore.Customer>> {
        let (caller, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let after = try page.cursor.map { (micros: try $0.int64(0), id: try $0.uuid(1)) }
        let search = try request.queryValues.string("search", maxLength: 200)
        let items = try await self.events.customers(
            tenant: tenant, visibility: .of(caller), search: search, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.convertedAt.micros), $0.leadId.description] }))
    }
}
