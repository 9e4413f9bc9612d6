import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit

/// `GET/POST /v1/calendar/agents`, `GET/PATCH /v1/calendar/agents/{id}`: the tenant's calendars, people who take
/// appointments and resources that are booked, each in its own time zone.
struct AgentsController: Sendable {
    let agents: AgentsStore
    let idempotency: Idempotency

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CalendarAPI.listAgents, use: self.list)
        router.on(CalendarAPI.createAgent, use: self.create)
        router.on(CalendarAPI.getAgent, use: self.get)
        router.on(CalendarAPI.updateAgent, use: self.update)
    }

    static let notFound = APIError.notFound("agent_not_found", "No such calendar agent.")

    struct AgentBody: Decodable {
        var name: String?
        var kind: String?
        var agentCoreId: String?
        var userId: String?
        var email: String?
        var timeZone: String?
        var serviceDurations: [String: Int]?
        var active: Bool?
    }

    /// The body's fields over `fields` (a create starts from none), checked.
    static func apply(_ body: AgentBody, to fields: inout AgentsStore.Fields) throws {
        if let name = body.name {
            try TextRules.check(name, field: "name", length: 1...200)
            fields.name = name
        }
        if let kind = body.kind {
            guard let kind = AgentKind(rawValue: kind) else { throw APIError.unprocessable("invalid_kind", "kind is person or resource.") }
            fields.kind = kind
        }
        if let id = body.agentCoreId {
            guard let id = AgentID(id) else { throw APIError.unprocessable("invalid_agentCoreId", "agentCoreId must be a UUID.") }
            fields.agentCoreId = id
        }
        if let id = body.userId {
            guard let id = UserID(id) else { throw APIError.unprocessable("invalid_userId", "userId must be a UUID.") }
            fields.userId = id
        }
        if let email = body.email {
            try TextRules.check(email, field: "email", length: 3...254)
            guard email.contains("@"), !email.contains(where: \.isWhitespace) else {
                throw APIError.unprocessable("invalid_email", "email must be an address such as agent@example.com.")
            }
            fields.email = email
        }
        if let zone = body.timeZone { fields.timeZone = try AppointmentRules.zoneIdentifier(zone, field: "timeZone") }
        if let durations = body.serviceDurations {
            guard durations.count <= 50,
                durations.allSatisfy({ (1...60).contains(TextRules.length($0.key)) && !TextRules.containsNUL($0.key) && (5...1440).contains($0.value) })
            else {
                throw APIError.unprocessable(
                    "invalid_serviceDurations", "serviceDurations maps up to 50 service types (1 to 60 characters) to 5 to 1440 minutes.")
            }
            fields.serviceDurations = durations
        }
        if let active = body.active { fields.active = active }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Page<CalendarAgentDTO>> {
        let (_, tenant) = try context.requireTenantCaller()
        let page = try request.page(maximum: 200, cursorValues: 2)
        let after = try page.cursor.map { ($0.string(0), try $0.uuid(1)) }
        let items = try await self.agents.agents(tenant: tenant, after: after, limit: page.limit, logger: context.logger)
        return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [$0.name, $0.id.description] }))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(AgentBody.self, context: context)
        guard body.name != nil else { throw APIError.unprocessable("invalid_name", "name is required.") }
        guard body.timeZone != nil else {
            throw APIError.unprocessable("invalid_timeZone", "timeZone is required: an IANA zone such as Africa/Nairobi.")
        }
        var fields = AgentsStore.Fields(
            name: "", kind: .person, agentCoreId: nil, userId: nil, email: nil, timeZone: "", serviceDurations: [:], active: true)
        try Self.apply(body, to: &fields)
        return try await self.idempotency.write(request, context: context, postgres: self.agents.postgres) { connection in
            JSONResponse(
                .created,
                try await self.agents.create(
                    fields, tenant: tenant, actor: caller.subject, requestID: context.requestID, on: connection, logger: context.logger))
        }
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CalendarAgentDTO> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: CalendarAgentID.self)
        guard let agent = try await self.agents.agent(id, tenant: tenant, logger: context.logger) else { throw Self.notFound }
        return JSONResponse(.ok, agent)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<CalendarAgentDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.idParameter("id", as: CalendarAgentID.self)
        let body = try await request.decodeJSON(AgentBody.self, context: context)
        var checked = AgentsStore.Fields(
            name: "", kind: .person, agentCoreId: nil, userId: nil, email: nil, timeZone: "", serviceDurations: [:], active: true)
        try Self.apply(body, to: &checked)  // refusals before any lock is taken
        guard
            let agent = try await self.agents.update(
                id, tenant: tenant, change: { fields in try Self.apply(body, to: &fields) }, actor: caller.subject, requestID: context.requestID,
                logger: context.logger)
        else { throw Self.notFound }
        return JSONResponse(.ok, agent)
    }
}
