import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit

/// Google Calendar connections: `POST /v1/calendar/connections` starts the consent (authorization code with PKCE;
/// the answer carries Google's URL), Google sends the admin's browser to the public callback, which checks the
/// one-use state, redeems the code and sends the browser back to the console; list, disconnect, sync now, and
/// Google's free/busy read live.
struct ConnectionsController: Sendable {
    let connections: ConnectionsStore
    let agents: AgentsStore
    let sync: GoogleSync?
    /// Where the callback sends the browser back (the console's Connections page).
    let consoleURL: String

    func addRoutes(to router: Router<AppRequestContext>) {
        router.on(CalendarAPI.listConnections, use: self.list)
        router.on(CalendarAPI.createConnection, use: self.create)
        router.on(CalendarAPI.deleteConnection, use: self.delete)
        router.on(CalendarAPI.syncConnection, use: self.syncNow)
        router.on(CalendarAPI.connectionBusy, use: self.busy)
        router.on(CalendarAPI.googleCallback, use: self.callback)
    }

    static let notConfigured = APIError.conflict(
        "google_not_configured", "Google Calendar is not set up on this platform (GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET).")

    struct ConnectionsPage: Codable, Sendable, Equatable {
        var items: [ConnectionDTO]
        var nextCursor: String?
        /// Whether this platform can connect Google calendars at all.
        var googleConfigured: Bool
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ConnectionsPage> {
        let (_, tenant) = try context.requireTenantCaller()
        let all = try request.queryValues.bool("all") ?? false
        return JSONResponse(
            .ok,
            ConnectionsPage(
                items: try await self.connections.connections(tenant: tenant, all: all, logger: context.logger), nextCursor: nil,
                googleConfigured: self.sync != nil))
    }

    struct CreateBody: Decodable {
        var agentId: String?
        var calendarId: String?
        var createMeetLinks: Bool?
        var loginHint: String?
    }

    struct Started: Codable, Sendable, Equatable {
        var connection: ConnectionDTO
        /// Where the admin's browser goes to consent (valid ten minutes).
        var authorizationUrl: String
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Started> {
        let (caller, tenant) = try context.requireTenantCaller()
        let body = try await request.decodeJSON(CreateBody.self, context: context)
        guard let text = body.agentId, let agent = CalendarAgentID(text) else {
            throw APIError.unprocessable("invalid_agentId", "agentId is required: a calendar agent's id.")
        }
        try TextRules.check(body.calendarId, field: "calendarId", length: 1...256)
        try TextRules.check(body.loginHint, field: "loginHint", length: 1...256)
        guard let sync = self.sync else { throw Self.notConfigured }
        guard try await self.agents.agent(agent, tenant: tenant, logger: context.logger) != nil else {
            throw APIError.unprocessable("unknown_agent", "No such calendar agent in this tenant.")
        }
        let state = Base64URL.random()
        let (verifier, challenge) = GoogleCalendar.pkce()
        let connection = try await self.connections.begin(
            agent: agent, calendarID: body.calendarId ?? "primary", meet: body.createMeetLinks ?? false, stateHash: sha256Hex(Data(state.utf8)),
            verifier: verifier, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        return JSONResponse(
            .created,
            Started(
                connection: connection, authorizationUrl: sync.google.authorizationURL(state: state, challenge: challenge, loginHint: body.loginHint)))
    }

    /// Google's redirect: `?code=…&state=…` after consent, `?error=access_denied&state=…` when refused. An unknown,
    /// used or expired state is refused outright (a forged or replayed callback); otherwise the browser goes back to
    /// the console with the outcome.
    @Sendable func callback(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.queryValues
        guard let sync = self.sync else { throw Self.notConfigured }
        guard let state = try query.string("state", maxLength: 2048), (16...200).contains(state.count),
            let consent = try await self.connections.redeem(stateHash: sha256Hex(Data(state.utf8)), logger: context.logger)
        else { throw APIError.badRequest("invalid_state", "This sign-in link is unknown, used or expired: connect the calendar again.") }
        guard let code = try query.string("code", maxLength: 2048), !code.isEmpty, code.count <= 2048 else {
            let reason = String((try query.string("error", maxLength: 2048) ?? "no code").prefix(100))
            try await self.connections.abandon(consent, reason: "Google: \(reason)", logger: context.logger)
            return self.back(connection: consent.connection, outcome: "refused")
        }
        do {
            let tokens = try await sync.google.exchange(code: code, verifier: consent.verifier)
            guard let refresh = tokens.refreshToken else {
                throw GoogleError.malformed("no refresh token: offline access was not granted")
            }
            let account = try? await sync.google.calendar(consent.calendarID, token: tokens.accessToken).id
            _ = try await self.connections.activate(
                consent, accessToken: tokens.accessToken, refreshToken: refresh, expiresAt: Date().addingTimeInterval(Double(tokens.expiresIn)),
                scope: tokens.scope, account: account, requestID: context.requestID, logger: context.logger)
            return self.back(connection: consent.connection, outcome: "connected")
        } catch let error as GoogleError {
            context.logger.warning("google consent not completed", metadata: ["connection": "\(consent.connection)", "error": "\(error)"])
            try await self.connections.abandon(consent, reason: error.description, logger: context.logger)
            return self.back(connection: consent.connection, outcome: "failed")
        }
    }

    func back(connection: UUID, outcome: String) -> Response {
        Response(
            status: .seeOther,
            headers: [.location: "\(self.consoleURL)#/connections?google=\(outcome)&connection=\(connection.uuidString.lowercased())"])
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<ConnectionDTO> {
        let (caller, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter("id")
        guard
            let (connection, refresh) = try await self.connections.disconnect(
                id, tenant: tenant, actor: caller.subject, requestID: context.requestID, logger: context.logger)
        else { throw ConnectionsStore.notFound }
        if let refresh, let sync = self.sync {
            // revoking is a courtesy to the account: the tokens are gone from here whatever Google says
            do { try await sync.google.revoke(token: refresh) } catch {
                context.logger.info("google token not revoked", metadata: ["connection": "\(id)", "error": "\(error)"])
            }
        }
        return JSONResponse(.ok, connection)
    }

    struct Synced: Codable, Sendable, Equatable {
        var connection: ConnectionDTO
        var result: GoogleSync.SyncResult
    }

    @Sendable func syncNow(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<Synced> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter("id")
        let connection = try await self.connections.connection(id, tenant: tenant, logger: context.logger)
        guard let sync = self.sync else { throw Self.notConfigured }
        guard connection.status == .active else { throw Self.notActive(connection.status) }
        let result = try await Self.answering { try await sync.sync(id) }
        return JSONResponse(.ok, Synced(connection: try await self.connections.connection(id, tenant: tenant, logger: context.logger), result: result))
    }

    struct BusyView: Codable, Sendable, Equatable {
        struct Interval: Codable, Sendable, Equatable {
            var startsAt: Date
            var endsAt: Date
        }
        var connectionId: CalendarConnectionID
        var busy: [Interval]
    }

    @Sendable func busy(_ request: Request, context: AppRequestContext) async throws -> JSONResponse<BusyView> {
        let (_, tenant) = try context.requireTenantCaller()
        let id = try context.uuidParameter("id")
        let query = request.queryValues
        let from = try AppointmentRules.bounded(try query.instant("from"), "from") ?? Date()
        let to = try AppointmentRules.bounded(try query.instant("to"), "to") ?? from.addingTimeInterval(7 * 86_400)
        guard from < to, to.timeIntervalSince(from) <= AppointmentRules.maxQuerySpan else {
            throw APIError.badRequest("invalid_to", "to must be after from, at most 62 days later.")
        }
        let connection = try await self.connections.connection(id, tenant: tenant, logger: context.logger)
        guard let sync = self.sync else { throw Self.notConfigured }
        guard connection.status == .active, let credentials = try await self.connections.credentials(id, logger: context.logger) else {
            throw Self.notActive(connection.status)
        }
        let busy = try await Self.answering {
            try await sync.withToken(credentials) { try await sync.google.freeBusy(calendar: credentials.calendarID, from: from, to: to, token: $0) }
        }
        return JSONResponse(.ok, BusyView(connectionId: CalendarConnectionID(id), busy: busy.map { .init(startsAt: $0.start, endsAt: $0.end) }))
    }

    static func notActive(_ status: ConnectionStatus) -> APIError {
        .conflict("connection_not_active", "This connection is \(status.rawValue): connect the calendar again.")
    }

    /// Google's refusals as this API's answers: a broken connection is 409, Google down is 502.
    static func answering<Answer>(_ body: () async throws -> Answer) async throws -> Answer {
        do {
            return try await body()
        } catch let error as GoogleError {
            switch error {
            case .invalidGrant: throw Self.notActive(.broken)
            default: throw APIError(.badGateway, code: "google_unavailable", message: error.description)
            }
        }
    }
}
