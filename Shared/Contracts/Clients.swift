import Foundation
import Models
import ServiceClient

extension Endpoint {
    /// The path with its `{name}` parameters filled in.
    public func path(_ parameters: [String: String]) -> String {
        var path = self.path
        for (name, value) in parameters { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
        return path
    }
}

/// Typed calls to the gateway.
public struct GatewayClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    /// The tenant, or nil when there is none with this id.
    public func tenant(_ id: TenantID, context: CallContext) async throws -> GatewayAPI.Tenant? {
        try await self.client.find(GatewayAPI.tenant.path(["id": id.description]), context: context)
    }

    /// Sets the tenant's plan (`lite`, `pro`, `enterprise`). Setting the plan it has changes nothing, so a retry is safe.
    public func setPlan(_ id: TenantID, plan: String, context: CallContext) async throws {
        let body = try JSONEncoder.sokoni.encode(GatewayAPI.TenantPlan(plan: plan))
        _ = try await self.client.send(.PUT, GatewayAPI.setTenantPlan.path(["id": id.description]), body: body, idempotencyKey: nil, context: context)
    }
}

/// Typed calls to the vouchers service.
public struct VouchersClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    /// The station in the tenant the context acts on, or nil when it has none with this id.
    public func station(_ id: StationID, context: CallContext) async throws -> VouchersAPI.Station? {
        try await self.client.find(VouchersAPI.getStation.path(["id": id.description]), context: context)
    }

    /// The voucher with this code issued to this number, in the tenant the context acts on, or nil.
    public func voucher(code: String, msisdn: String, context: CallContext) async throws -> VouchersAPI.VoucherView? {
        let page: Page<VouchersAPI.VoucherView> = try await self.client.get(
            VouchersAPI.listVouchers.path, query: ["code": code, "msisdn": msisdn, "limit": "1"], context: context)
        return page.items.first
    }

    /// Issues one voucher per recipient key of a campaign (idempotent per key: asked again, the same vouchers).
    public func bulkIssue(_ issue: VouchersAPI.BulkIssue, idempotencyKey: String, context: CallContext) async throws -> VouchersAPI.BulkIssued {
        try await self.client.post(VouchersAPI.bulkIssue.path, body: issue, idempotencyKey: idempotencyKey, context: context)
    }
}

/// The delivery reports messaging sends the service that asked for a message (`MessagingAPI.Callback`).
public struct DeliveryReportClient: Sendable {
    public let client: ServiceClient
    public let endpoint: Endpoint

    public init(_ client: ServiceClient, endpoint: Endpoint) {
        self.client = client
        self.endpoint = endpoint
    }

    public func report(_ report: MessagingAPI.DeliveryReport, idempotencyKey: String, context: CallContext) async throws {
        let _: MessagingAPI.Receipt = try await self.client.post(self.endpoint.path, body: report, idempotencyKey: idempotencyKey, context: context)
    }
}

/// Typed calls to messaging.
public struct MessagingClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    /// Queues the notice; the receipt names the message.
    @discardableResult
    public func notify(_ notification: MessagingAPI.Notification, idempotencyKey: String, context: CallContext) async throws -> MessagingAPI.Receipt {
        try await self.client.post(MessagingAPI.notify.path, body: notification, idempotencyKey: idempotencyKey, context: context)
    }
}

/// Typed calls to messaging's consent list (the CRM's opt-in changes).
public struct ConsentClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    public func consent(_ consent: MessagingAPI.Consent, context: CallContext) async throws -> MessagingAPI.ConsentReceipt {
        try await self.client.put(MessagingAPI.consent.path, body: consent, context: context)
    }
}

/// Typed calls to messaging's conversations.
public struct ConversationsClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    /// Up to `limit` messages of the conversation, oldest first (nil: there is no such conversation).
    public func messages(_ conversation: ConversationID, limit: Int = 400, context: CallContext) async throws -> [MessagingAPI.ConversationMessage]? {
        var all: [MessagingAPI.ConversationMessage] = []
        var after = "0"
        while all.count < limit {
            let path = MessagingAPI.conversationMessages.path(["id": conversation.description])
            let page: MessagingAPI.ConversationMessages
            do {
                page = try await self.client.get(path, query: ["after": after, "limit": "200"], context: context)
            } catch ServiceClientError.api(404, _, _) {
                return nil
            }
            all += page.items
            guard let next = page.nextCursor else { break }
            after = next
        }
        return Array(all.prefix(limit))
    }
}

/// Typed calls to agent-core's leads and pipeline, as campaigns' sequences use them.
public struct LeadsClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    /// The tenant's stage moves after `after`, oldest first.
    public func moves(after: Int64, limit: Int = 200, context: CallContext) async throws -> CRMAPI.StageMoves {
        try await self.client.get(CRMAPI.stageMoves.path, query: ["after": String(after), "limit": String(limit)], context: context)
    }

    public func lead(_ id: LeadID, context: CallContext) async throws -> CRMAPI.LeadSummary? {
        try await self.client.find(CRMAPI.getLead.path(["id": id.description]), context: context)
    }

    /// Leads with a score of at least `minScore`, or no contact for `inactiveDays` (the first page, newest first).
    public func leads(minScore: Int? = nil, inactiveDays: Int? = nil, limit: Int = 200, context: CallContext) async throws -> [CRMAPI.LeadSummary] {
        var query = ["limit": String(limit)]
        if let minScore { query["minScore"] = String(minScore) }
        if let inactiveDays { query["inactiveDays"] = String(inactiveDays) }
        let page: Page<CRMAPI.LeadSummary> = try await self.client.get(CRMAPI.listLeads.path, query: query, context: context)
        return page.items
    }

    @discardableResult
    public func move(_ id: LeadID, to stage: String, reason: String, context: CallContext) async throws -> CRMAPI.LeadSummary {
        try await self.client.put(
            CRMAPI.moveLead.path(["id": id.description]), body: CRMAPI.StageChange(stage: stage, reason: reason), context: context)
    }

    /// Calls the lead (the same key places one call).
    public func call(_ id: LeadID, purpose: String?, idempotencyKey: String, context: CallContext) async throws {
        struct Placed: Decodable {}
        let _: Placed = try await self.client.post(
            CRMAPI.requestCall.path, body: CRMAPI.CallRequest(leadId: id, purpose: purpose), idempotencyKey: idempotencyKey, context: context)
    }
}

/// Typed calls to the CRM (agent-core): what happened to a customer.
public struct CRMClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    @discardableResult
    public func record(_ events: [CRMAPI.Event], context: CallContext) async throws -> CRMAPI.EventsReceipt {
        try await self.client.post(CRMAPI.recordEvents.path, body: CRMAPI.Events(events: events), context: context)
    }
}

/// Typed calls to marketplace-wallet: the usage credits an AI reply spends.
public struct WalletClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    /// Reserves credits for a reply, once per reference; a 409 `credits_exhausted` when the tenant has none left.
    public func reserveCredits(_ request: WalletAPI.ReserveCredits, context: CallContext) async throws -> WalletAPI.CreditReservation {
        try await self.client.post(WalletAPI.reserveCredits.path, body: request, idempotencyKey: request.reference, context: context)
    }

    /// The model was called: the reserved credits are used.
    public func settleCredits(reference: String, context: CallContext) async throws -> WalletAPI.CreditReservation {
        try await self.client.post(
            WalletAPI.settleCredits.path(["reference": reference]), body: EmptyBody(), idempotencyKey: "settle/\(reference)", context: context)
    }

    /// The model was not called: the reserved credits are free again.
    public func releaseCredits(reference: String, context: CallContext) async throws -> WalletAPI.CreditReservation {
        try await self.client.post(
            WalletAPI.releaseCredits.path(["reference": reference]), body: EmptyBody(), idempotencyKey: "release/\(reference)", context: context)
    }

    /// Available products matching the words, by name.
    public func products(matching words: String, limit: Int = 5, context: CallContext) async throws -> [WalletAPI.ProductView] {
        let page: Page<WalletAPI.ProductView> = try await self.client.get(
            WalletAPI.listProducts.path, query: ["q": words, "available": "true", "limit": String(limit)], context: context)
        return page.items
    }

    /// The buyer with this phone number, opened (with its wallet) the first time.
    public func buyer(phone: String, name: String, currency: String, context: CallContext) async throws -> WalletAPI.BuyerView {
        let page: Page<WalletAPI.BuyerView> = try await self.client.get(WalletAPI.listBuyers.path, query: ["phone": phone, "limit": "1"], context: context)
        if let found = page.items.first { return found }
        do {
            return try await self.client.post(
                WalletAPI.createBuyer.path, body: WalletAPI.NewBuyer(name: name, phone: phone, currency: currency), context: context)
        } catch ServiceClientError.api(409, "buyer_exists", _) {
            // opened by a reply running at the same moment
            let again: Page<WalletAPI.BuyerView> = try await self.client.get(
                WalletAPI.listBuyers.path, query: ["phone": phone, "limit": "1"], context: context)
            guard let found = again.items.first else { throw ServiceClientError.malformedResponse(service: "marketplace-wallet", reason: "no buyer") }
            return found
        }
    }

    public func createIntent(_ intent: WalletAPI.NewIntent, context: CallContext) async throws -> WalletAPI.IntentView {
        try await self.client.post(WalletAPI.createIntent.path, body: intent, context: context)
    }

    /// The intent with its quotes and ranked vendors, or nil.
    public func intent(_ id: UUID, context: CallContext) async throws -> WalletAPI.IntentView? {
        try await self.client.find(WalletAPI.getIntent.path(["id": id.uuidString.lowercased()]), context: context)
    }

    public func quote(_ id: UUID, context: CallContext) async throws -> WalletAPI.QuoteView? {
        try await self.client.find(WalletAPI.getQuote.path(["id": id.uuidString.lowercased()]), context: context)
    }

    /// Accepts the quote: the purchase at its price, the buyer's funds held (accepting again answers the same).
    public func acceptQuote(_ id: UUID, context: CallContext) async throws -> WalletAPI.PurchaseView {
        try await self.client.post(
            WalletAPI.acceptQuote.path(["id": id.uuidString.lowercased()]), body: EmptyBody(), idempotencyKey: "accept/\(id)", context: context)
    }

    struct EmptyBody: Codable, Sendable {}
}

/// Typed calls to calendar-booking: calendars, their free slots, and appointments booked, confirmed, cancelled, moved.
public struct CalendarClient: Sendable {
    public let client: ServiceClient

    public init(_ client: ServiceClient) {
        self.client = client
    }

    /// The tenant's calendars (the first page: up to `limit`).
    public func agents(limit: Int = 50, context: CallContext) async throws -> [CalendarAPI.AgentView] {
        let page: Page<CalendarAPI.AgentView> = try await self.client.get(CalendarAPI.listAgents.path, query: ["limit": String(limit)], context: context)
        return page.items
    }

    /// The agent's free slots between `from` and `to` (the service's defaults: now and a week later), `duration`
    /// minutes long (or the agent's duration for `serviceType`), shown in `tz` (the agent's zone when nil).
    public func slots(
        agentId: CalendarAgentID, from: Date? = nil, to: Date? = nil, duration: Int? = nil, serviceType: String? = nil, tz: String? = nil,
        context: CallContext
    ) async throws -> CalendarAPI.SlotsView {
        var query = ["agentId": agentId.description]
        if let from { query["from"] = ISO8601.format(from) }
        if let to { query["to"] = ISO8601.format(to) }
        if let duration { query["duration"] = String(duration) }
        if let serviceType { query["serviceType"] = serviceType }
        if let tz { query["tz"] = tz }
        return try await self.client.get(CalendarAPI.availability.path, query: query, context: context)
    }

    /// Books a slot; the same key books once. A taken slot is a 409 `slot_taken`, a time the agent does not offer a
    /// 409 `outside_availability`.
    public func book(_ appointment: CalendarAPI.NewAppointment, idempotencyKey: String, context: CallContext) async throws -> CalendarAPI.AppointmentView {
        try await self.client.post(CalendarAPI.createAppointment.path, body: appointment, idempotencyKey: idempotencyKey, context: context)
    }

    /// The appointment, or nil.
    public func appointment(_ id: AppointmentID, context: CallContext) async throws -> CalendarAPI.AppointmentView? {
        try await self.client.find(CalendarAPI.getAppointment.path(["id": id.description]), context: context)
    }

    /// Appointments by the list's filters (`agentId`, `status`, `source`, `serviceType`, `from`, `to`), by start.
    public func appointments(
        agentId: CalendarAgentID? = nil, status: String? = nil, source: String? = nil, serviceType: String? = nil, from: Date? = nil, to: Date? = nil,
        limit: Int = 100, context: CallContext
    ) async throws -> [CalendarAPI.AppointmentView] {
        var query = ["limit": String(limit)]
        if let agentId { query["agentId"] = agentId.description }
        if let status { query["status"] = status }
        if let source { query["source"] = source }
        if let serviceType { query["serviceType"] = serviceType }
        if let from { query["from"] = ISO8601.format(from) }
        if let to { query["to"] = ISO8601.format(to) }
        let page: Page<CalendarAPI.AppointmentView> = try await self.client.get(CalendarAPI.listAppointments.path, query: query, context: context)
        return page.items
    }

    public func confirm(_ id: AppointmentID, idempotencyKey: String? = nil, context: CallContext) async throws -> CalendarAPI.AppointmentView {
        try await self.client.post(
            CalendarAPI.confirmAppointment.path(["id": id.description]), body: CalendarAPI.Action(), idempotencyKey: idempotencyKey, context: context)
    }

    public func cancel(_ id: AppointmentID, reason: String? = nil, idempotencyKey: String? = nil, context: CallContext) async throws
        -> CalendarAPI.AppointmentView
    {
        try await self.client.post(
            CalendarAPI.cancelAppointment.path(["id": id.description]), body: CalendarAPI.Action(reason: reason), idempotencyKey: idempotencyKey,
            context: context)
    }

    /// Moves the appointment (same length) to `startsAt`; a taken time is a 409 `slot_taken`.
    public func reschedule(_ id: AppointmentID, to startsAt: Date, reason: String? = nil, idempotencyKey: String? = nil, context: CallContext) async throws
        -> CalendarAPI.AppointmentView
    {
        try await self.client.post(
            CalendarAPI.rescheduleAppointment.path(["id": id.description]), body: CalendarAPI.Reschedule(startsAt: startsAt, reason: reason),
            idempotencyKey: idempotencyKey, context: context)
    }
}
