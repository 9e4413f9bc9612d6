import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Models
import NIOCore
import Synchronization

/// A fake Google on loopback (serve `router` with `TestUpstream.with`) speaking OAuth 2.0 and the Calendar API v3 as
/// Google documents them: the consent (`consent(_:)` plays the browser at `/o/oauth2/v2/auth`), `POST /token`
/// (authorization code with the PKCE verifier checked against its S256 challenge, refresh, `invalid_grant` once
/// revoked), `POST /revoke`, and under `/calendar/v3` with the bearer token: `GET /calendars/{id}`, events list
/// (pages, sync tokens, 410 `fullSyncRequired`), insert (client ids, 409 on a second insert, Meet links with
/// `conferenceDataVersion=1`), patch, delete, and `POST /freeBusy`.
public final class FakeGoogle: Sendable {
    public let clientID: String
    public let clientSecret: String
    /// `expires_in` of the access tokens it issues.
    public let tokenLifetime: Int

    struct Grant {
        var challenge: String
        var redirectURI: String
        var account: String
        var scope: String
        var used = false
    }

    struct Event {
        var body: [String: JSONValue]
        var sequence: Int
        var deleted: Bool
    }

    struct State {
        var grants: [String: Grant] = [:]
        var accessTokens: [String: (account: String, expires: Date)] = [:]
        var refreshTokens: [String: String] = [:]
        var calendars: [String: [String: Event]] = [:]
        var sequence = 0
        /// Sync tokens below this are refused with 410.
        var oldestSyncToken = 0
        var requests: [String] = []
        var refusals: [String] = []
        var refreshes = 0
    }

    let state = Mutex(State())

    public init(clientID: String = "fake-client.apps.googleusercontent.com", clientSecret: String = "fake-client-secret", tokenLifetime: Int = 3599) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.tokenLifetime = tokenLifetime
    }

    /// The settings that point calendar-booking at this fake.
    public func settings(url: String) -> [String: String] {
        [
            "GOOGLE_CLIENT_ID": self.clientID, "GOOGLE_CLIENT_SECRET": self.clientSecret, "GOOGLE_AUTHORIZE_URL": "\(url)/o/oauth2/v2/auth",
            "GOOGLE_TOKEN_URL": "\(url)/token", "GOOGLE_REVOKE_URL": "\(url)/revoke", "GOOGLE_API_URL": "\(url)/calendar/v3",
        ]
    }

    // MARK: what a test does and sees

    public struct ConsentError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The browser at Google's consent screen: checks the authorization URL as Google would (client, response type,
    /// offline access, an S256 challenge) and answers where Google sends the browser back: with a code (allowed) or
    /// `error=access_denied`.
    public func consent(_ authorizationURL: String, allow: Bool = true, account: String = "amina@example.com") throws -> String {
        guard let components = URLComponents(string: authorizationURL) else { throw ConsentError(description: "not a URL") }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value }
        guard query["client_id"] == self.clientID else { throw ConsentError(description: "unknown client_id \(query["client_id"] ?? "")") }
        guard query["response_type"] == "code", query["access_type"] == "offline" else { throw ConsentError(description: "not an offline code flow") }
        guard query["code_challenge_method"] == "S256", let challenge = query["code_challenge"], challenge.count == 43 else {
            throw ConsentError(description: "no S256 code challenge")
        }
        guard let redirect = query["redirect_uri"], let state = query["state"], let scope = query["scope"] else {
            throw ConsentError(description: "redirect_uri, state and scope are required")
        }
        var back = URLComponents(string: redirect)!
        guard allow else {
            back.queryItems = [URLQueryItem(name: "error", value: "access_denied"), URLQueryItem(name: "state", value: state)]
            return back.url!.absoluteString
        }
        let code = "4/0A" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        self.state.withLock { $0.grants[code] = Grant(challenge: challenge, redirectURI: redirect, account: account, scope: scope) }
        back.queryItems = [
            URLQueryItem(name: "state", value: state), URLQueryItem(name: "code", value: code), URLQueryItem(name: "scope", value: scope),
        ]
        return back.url!.absoluteString
    }

    /// An event someone made in the account's calendar directly (not through Sokoni).
    @discardableResult
    public func addEvent(
        account: String = "amina@example.com", start: Date, end: Date, summary: String = "Dentist", transparent: Bool = false, allDay: String? = nil
    ) -> String {
        let id = "ev" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        var body: [String: JSONValue] = [
            "id": .string(String(id)), "summary": .string(summary), "status": .string("confirmed"),
            "start": allDay.map { .object(["date": .string($0)]) } ?? .object(["dateTime": .string(Self.rfc3339(start))]),
            "end": allDay.map { .object(["date": .string(Self.day(after: $0))]) } ?? .object(["dateTime": .string(Self.rfc3339(end))]),
        ]
        if transparent { body["transparency"] = .string("transparent") }
        self.state.withLock { state in
            state.sequence += 1
            state.calendars[account, default: [:]][String(id)] = Event(body: body, sequence: state.sequence, deleted: false)
        }
        return String(id)
    }

    /// Someone deleted an event in Google.
    public func deleteEvent(_ id: String, account: String = "amina@example.com") {
        self.state.withLock { state in
            state.sequence += 1
            state.calendars[account]?[id]?.deleted = true
            state.calendars[account]?[id]?.sequence = state.sequence
        }
    }

    /// The account's events as Google holds them (deleted ones too, with `status: cancelled`).
    public func events(account: String = "amina@example.com") -> [[String: JSONValue]] {
        self.state.withLock { state in
            (state.calendars[account] ?? [:]).values.sorted { $0.sequence < $1.sequence }.map { event in
                var body = event.body
                if event.deleted { body["status"] = .string("cancelled") }
                return body
            }
        }
    }

    /// The account revoked access (or changed its password): its refresh and access tokens stop working.
    public func revoke(account: String = "amina@example.com") {
        self.state.withLock { state in
            state.refreshTokens = state.refreshTokens.filter { $0.value != account }
            state.accessTokens = state.accessTokens.filter { $0.value.account != account }
        }
    }

    /// Access tokens expire now (refresh tokens still work).
    public func expireAccessTokens() { self.state.withLock { $0.accessTokens = [:] } }

    /// Every sync token issued so far is too old: the next incremental sync gets 410.
    public func invalidateSyncTokens() { self.state.withLock { $0.oldestSyncToken = $0.sequence + 1 } }

    /// `METHOD path` of every request, in order.
    public var requests: [String] { self.state.withLock { $0.requests } }
    public var refusals: [String] { self.state.withLock { $0.refusals } }
    public var refreshes: Int { self.state.withLock { $0.refreshes } }

    // MARK: the server

    static func rfc3339(_ date: Date) -> String { date.formatted(.iso8601) }

    static func day(after text: String) -> String {
        guard let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) else { return text }
        return String(date.addingTimeInterval(86_400).formatted(.iso8601).prefix(10))
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=UTF-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Google's API error body.
    static func apiError(_ code: Int, _ message: String, reason: String, status: String? = nil) -> Response {
        var error: [String: JSONValue] = [
            "code": .number(Double(code)), "message": .string(message),
            "errors": .array([.object(["domain": .string("global"), "reason": .string(reason), "message": .string(message)])]),
        ]
        if let status { error["status"] = .string(status) }
        return json(HTTPResponse.Status(code: code), .object(["error": .object(error)]))
    }

    static func oauthError(_ status: HTTPResponse.Status, _ error: String, _ description: String) -> Response {
        json(status, .object(["error": .string(error), "error_description": .string(description)]))
    }

    func refuse(_ why: String, _ response: Response) -> Response {
        self.state.withLock { $0.refusals.append(why) }
        return response
    }

    static func form(_ request: Request) async throws -> [String: String] {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        var fields: [String: String] = [:]
        for pair in String(buffer: bytes).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            fields[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }

    static func body(_ request: Request) async throws -> [String: JSONValue]? {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        guard case .object(let fields) = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: bytes)) else { return nil }
        return fields
    }

    /// The account of a valid bearer token.
    func account(_ request: Request) -> String? {
        let authorization = request.headers[.authorization] ?? ""
        guard authorization.hasPrefix("Bearer ") else { return nil }
        let token = String(authorization.dropFirst(7))
        return self.state.withLock { state in
            state.accessTokens[token].flatMap { $0.expires > Date() ? $0.account : nil }
        }
    }

    static let unauthenticated = apiError(
        401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        reason: "authError", status: "UNAUTHENTICATED")

    func issue(account: String, refresh: Bool) -> [String: JSONValue] {
        let access = "ya29." + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        var answer: [String: JSONValue] = [
            "access_token": .string(access), "expires_in": .number(Double(self.tokenLifetime)), "token_type": .string("Bearer"),
            "scope": .string("https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly"),
        ]
        self.state.withLock { state in
            state.accessTokens[access] = (account, Date().addingTimeInterval(Double(self.tokenLifetime)))
            if refresh {
                let token = "1//0g" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
                state.refreshTokens[token] = account
                answer["refresh_token"] = .string(token)
            }
        }
        return answer
    }

    func event(_ body: [String: JSONValue], id: String, sequence: Int, meet: Bool, account: String) -> [String: JSONValue] {
        var event = body
        event["kind"] = .string("calendar#event")
        event["id"] = .string(id)
        event["status"] = body["status"] ?? .string("confirmed")
        event["htmlLink"] = .string("https://www.google.com/calendar/event?eid=\(id)")
        event["etag"] = .string("\"\(sequence)\"")
        event["updated"] = .string(Self.rfc3339(Date()))
        event["organizer"] = .object(["email": .string(account), "self": .bool(true)])
        if meet, case .object(let conference)? = body["conferenceData"], conference["createRequest"] != nil {
            let code = "abc-\(id.prefix(4))-xyz"
            event["hangoutLink"] = .string("https://meet.google.com/\(code)")
            event["conferenceData"] = .object([
                "entryPoints": .array([.object(["entryPointType": .string("video"), "uri": .string("https://meet.google.com/\(code)")])]),
                "conferenceSolution": .object(["key": .object(["type": .string("hangoutsMeet")])]), "conferenceId": .string(code),
            ])
        }
        return event
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    static func validEventID(_ id: String) -> Bool {
        (5...1024).contains(id.count) && id.allSatisfy { ("0"..."9").contains($0) || ("a"..."v").contains($0) }
    }

    static func interval(_ value: JSONValue?) -> Date? {
        guard case .string(let text)? = value?["dateTime"] else { return nil }
        return try? Date(text, strategy: .iso8601)
    }

    public var router: Router<BasicRequestContext> {
        let router = Router()
        router.middlewares.add(
            RecordingMiddleware { line in self.state.withLock { $0.requests.append(line) } })
        router.post("token") { request, _ -> Response in
            let form = try await Self.form(request)
            guard form["client_id"] == self.clientID, form["client_secret"] == self.clientSecret else {
                return self.refuse("client", Self.oauthError(.unauthorized, "invalid_client", "Unauthorized"))
            }
            switch form["grant_type"] {
            case "authorization_code":
                guard let code = form["code"], let verifier = form["code_verifier"] else {
                    return self.refuse("no code or verifier", Self.oauthError(.badRequest, "invalid_request", "Missing required parameter: code_verifier"))
                }
                let grant: Grant? = self.state.withLock { state in
                    guard var grant = state.grants[code], !grant.used else { return nil }
                    grant.used = true
                    state.grants[code] = grant
                    return grant
                }
                guard let grant else { return self.refuse("code", Self.oauthError(.badRequest, "invalid_grant", "Malformed auth code.")) }
                guard form["redirect_uri"] == grant.redirectURI else {
                    return self.refuse("redirect_uri", Self.oauthError(.badRequest, "redirect_uri_mismatch", "Bad Request"))
                }
                let computed = Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                guard computed == grant.challenge else {
                    return self.refuse("code_verifier", Self.oauthError(.badRequest, "invalid_grant", "Invalid code verifier."))
                }
                return Self.json(.ok, .object(self.issue(account: grant.account, refresh: true)))
            case "refresh_token":
                self.state.withLock { $0.refreshes += 1 }
                guard let token = form["refresh_token"], let account = self.state.withLock({ $0.refreshTokens[token] }) else {
                    return self.refuse("refresh_token", Self.oauthError(.badRequest, "invalid_grant", "Token has been expired or revoked."))
                }
                return Self.json(.ok, .object(self.issue(account: account, refresh: false)))
            default:
                return self.refuse("grant_type", Self.oauthError(.badRequest, "unsupported_grant_type", "Invalid grant_type: \(form["grant_type"] ?? "")"))
            }
        }
        router.post("revoke") { request, _ -> Response in
            let form = try await Self.form(request)
            guard let token = form["token"] else { return Self.oauthError(.badRequest, "invalid_request", "Bad Request") }
            let known = self.state.withLock { state in
                if let account = state.refreshTokens.removeValue(forKey: token) {
                    state.accessTokens = state.accessTokens.filter { $0.value.account != account }
                    return true
                }
                return state.accessTokens.removeValue(forKey: token) != nil
            }
            return known ? Self.json(.ok, .object([:])) : Self.oauthError(.badRequest, "invalid_token", "Token expired or revoked")
        }
        let api = router.group("calendar/v3")
        api.get("calendars/:calendar") { request, context -> Response in
            guard let account = self.account(request) else { return self.refuse("token", Self.unauthenticated) }
            let calendar = context.parameters.get("calendar") ?? ""
            guard calendar == "primary" || calendar == account else { return Self.apiError(404, "Not Found", reason: "notFound") }
            return Self.json(
                .ok,
                .object([
                    "kind": .string("calendar#calendar"), "id": .string(account), "summary": .string(account), "timeZone": .string("Africa/Nairobi"),
                ]))
        }
        api.get("calendars/:calendar/events") { request, _ -> Response in
            guard let account = self.account(request) else { return self.refuse("token", Self.unauthenticated) }
            let query = request.uri.queryParameters
            let syncToken = query.get("syncToken")
            let pageToken = query.get("pageToken")
            let pageSize = Int(query.get("maxResults") ?? "250") ?? 250
            // a sync token is `s<sequence>`; a page token `p<since>:<offset>:<snapshot>`
            var since = 0
            var offset = 0
            if let syncToken {
                guard query.get("timeMin") == nil else {
                    return Self.apiError(400, "Sync token is not compatible with timeMin.", reason: "invalid")
                }
                guard syncToken.hasPrefix("s"), let value = Int(syncToken.dropFirst()), value >= self.state.withLock({ $0.oldestSyncToken }) else {
                    return Self.apiError(410, "Sync token is no longer valid, a full sync is required.", reason: "fullSyncRequired")
                }
                since = value
            }
            if let pageToken {
                let parts = pageToken.dropFirst().split(separator: ":").compactMap { Int($0) }
                guard pageToken.hasPrefix("p"), parts.count == 2 else { return Self.apiError(400, "Invalid page token.", reason: "invalid") }
                (since, offset) = (parts[0], parts[1])
            }
            let timeMin = query.get("timeMin").flatMap { try? Date(String($0), strategy: .iso8601) }
            let (events, latest) = self.state.withLock { state in
                ((state.calendars[account] ?? [:]).values.sorted { $0.sequence < $1.sequence }, state.sequence)
            }
            let changed = events.filter { event in
                guard event.sequence > since else { return false }
                // a full sync leaves out deleted events and those that ended before timeMin
                if since == 0 && syncToken == nil {
                    if event.deleted { return false }
                    if let timeMin, let end = Self.interval(event.body["end"]), end <= timeMin { return false }
                }
                return true
            }
            let page = changed.dropFirst(offset).prefix(pageSize)
            var answer: [String: JSONValue] = [
                "kind": .string("calendar#events"), "summary": .string(account), "timeZone": .string("Africa/Nairobi"),
                "items": .array(
                    page.map { event in
                        var body = self.event(event.body, id: Self.string(event.body["id"]) ?? "", sequence: event.sequence, meet: false, account: account)
                        if event.deleted { body = ["kind": .string("calendar#event"), "id": body["id"]!, "status": .string("cancelled")] }
                        return .object(body)
                    }),
            ]
            if offset + page.count < changed.count {
                answer["nextPageToken"] = .string("p\(since):\(offset + page.count)")
            } else {
                answer["nextSyncToken"] = .string("s\(latest)")
            }
            return Self.json(.ok, .object(answer))
        }
        api.post("calendars/:calendar/events") { request, _ -> Response in
            guard let account = self.account(request) else { return self.refuse("token", Self.unauthenticated) }
            guard var body = try await Self.body(request), Self.interval(body["start"]) != nil || body["start"]?["date"] != nil else {
                return Self.apiError(400, "Missing time.", reason: "required")
            }
            let meet = request.uri.queryParameters.get("conferenceDataVersion") == "1"
            var id = "e" + String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(25))
            if case .string(let given)? = body["id"] {
                guard Self.validEventID(given) else { return Self.apiError(400, "Invalid resource id value.", reason: "invalid") }
                id = given
            }
            let exists = self.state.withLock { $0.calendars[account]?[String(id)] != nil }
            guard !exists else { return Self.apiError(409, "The requested identifier already exists.", reason: "duplicate") }
            body["status"] = body["status"] ?? .string("confirmed")
            let sequence = self.state.withLock { state in
                state.sequence += 1
                return state.sequence
            }
            let event = self.event(body, id: String(id), sequence: sequence, meet: meet, account: account)
            self.state.withLock { $0.calendars[account, default: [:]][String(id)] = Event(body: event, sequence: sequence, deleted: false) }
            return Self.json(.ok, .object(event))
        }
        api.patch("calendars/:calendar/events/:event") { request, context -> Response in
            guard let account = self.account(request) else { return self.refuse("token", Self.unauthenticated) }
            let id = context.parameters.get("event") ?? ""
            guard let changes = try await Self.body(request) else { return Self.apiError(400, "Parse Error", reason: "parseError") }
            let meet = request.uri.queryParameters.get("conferenceDataVersion") == "1"
            let patched: [String: JSONValue]? = self.state.withLock { state in
                guard var stored = state.calendars[account]?[id] else { return nil }
                state.sequence += 1
                var body = stored.body
                for (key, value) in changes { body[key] = value }
                if case .string("confirmed")? = changes["status"] { stored.deleted = false }
                stored.body = self.event(body, id: id, sequence: state.sequence, meet: meet, account: account)
                stored.sequence = state.sequence
                state.calendars[account]?[id] = stored
                return stored.body
            }
            guard let patched else { return Self.apiError(404, "Not Found", reason: "notFound") }
            return Self.json(.ok, .object(patched))
        }
        api.delete("calendars/:calendar/events/:event") { request, context -> Response in
            guard let account = self.account(request) else { return self.refuse("token", Self.unauthenticated) }
            let id = context.parameters.get("event") ?? ""
            let outcome: Int = self.state.withLock { state in
                guard let stored = state.calendars[account]?[id] else { return 404 }
                guard !stored.deleted else { return 410 }
                state.sequence += 1
                state.calendars[account]?[id]?.deleted = true
                state.calendars[account]?[id]?.sequence = state.sequence
                return 204
            }
            switch outcome {
            case 204: return Response(status: .noContent)
            case 410: return Self.apiError(410, "Resource has been deleted", reason: "deleted")
            default: return Self.apiError(404, "Not Found", reason: "notFound")
            }
        }
        api.post("freeBusy") { request, _ -> Response in
            guard let account = self.account(request) else { return self.refuse("token", Self.unauthenticated) }
            guard let body = try await Self.body(request), case .string(let minText)? = body["timeMin"], case .string(let maxText)? = body["timeMax"],
                let from = try? Date(minText, strategy: .iso8601), let to = try? Date(maxText, strategy: .iso8601),
                case .array(let items)? = body["items"]
            else { return Self.apiError(400, "Bad Request", reason: "badRequest") }
            var calendars: [String: JSONValue] = [:]
            for item in items {
                guard case .string(let id)? = item["id"] else { continue }
                guard id == "primary" || id == account else {
                    calendars[id] = .object(["errors": .array([.object(["domain": .string("global"), "reason": .string("notFound")])])])
                    continue
                }
                let busy = self.events(account: account).compactMap { event -> JSONValue? in
                    guard event["status"] != .string("cancelled"), event["transparency"] != .string("transparent"),
                        let start = Self.interval(event["start"]), let end = Self.interval(event["end"]), start < to, end > from
                    else { return nil }
                    return .object(["start": .string(Self.rfc3339(max(start, from))), "end": .string(Self.rfc3339(min(end, to)))])
                }
                calendars[id] = .object(["busy": .array(busy)])
            }
            return Self.json(
                .ok, .object(["kind": .string("calendar#freeBusy"), "timeMin": .string(minText), "timeMax": .string(maxText), "calendars": .object(calendars)]))
        }
        return router
    }
}

/// Records `METHOD path` of each request a fake serves.
struct RecordingMiddleware<Context: RequestContext>: RouterMiddleware {
    let record: @Sendable (String) -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        self.record("\(request.method) \(request.uri.path)")
        return try await next(request, context)
    }
}
