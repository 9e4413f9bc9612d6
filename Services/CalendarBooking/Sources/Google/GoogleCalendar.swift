import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import ServiceKit

/// Google's OAuth 2.0 (authorization code with PKCE, refresh, revoke) and the Calendar API v3 calls calendar-booking
/// makes (the primary calendar, events insert/patch/delete/list with sync tokens, freeBusy), over HTTPS with the
/// request and response bodies Google documents. The URLs are configuration so tests point them at a fake on loopback.
public struct GoogleCalendar: Sendable {
    public struct Configuration: Sendable {
        public var clientID: String
        public var clientSecret: String
        /// Where Google sends the browser back: the gateway's `/v1/calendar/oauth/google/callback`.
        public var redirectURI: String
        public var authorizeURL = "https://accounts.google.com/o/oauth2/v2/auth"
        public var tokenURL = "https://oauth2.googleapis.com/token"
        public var revokeURL = "https://oauth2.googleapis.com/revoke"
        public var apiURL = "https://www.googleapis.com/calendar/v3"

        public init(clientID: String, clientSecret: String, redirectURI: String) {
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.redirectURI = redirectURI
        }
    }

    /// What may be done with a connected calendar: its events, and the free/busy of the others.
    public static let scope = "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly"

    public let configuration: Configuration
    let http: HTTPClient
    let timeout: TimeAmount

    public init(configuration: Configuration, http: HTTPClient, timeout: TimeAmount = .seconds(10)) {
        self.configuration = configuration
        self.http = http
        self.timeout = timeout
    }

    // MARK: OAuth

    /// A PKCE verifier (RFC 7636: 43–128 unreserved characters) and its S256 challenge.
    public static func pkce() -> (verifier: String, challenge: String) {
        let verifier = Base64URL.random(bytes: 48)
        return (verifier, Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8)))))
    }

    /// Where the admin's browser goes to consent: offline access (a refresh token), consent asked again so Google
    /// sends a refresh token even to an account that consented before.
    public func authorizationURL(state: String, challenge: String, loginHint: String?) -> String {
        var components = URLComponents(string: self.configuration.authorizeURL)!
        components.queryItems =
            [
                URLQueryItem(name: "client_id", value: self.configuration.clientID),
                URLQueryItem(name: "redirect_uri", value: self.configuration.redirectURI),
                URLQueryItem(name: "response_type", value: "code"),
                URLQueryItem(name: "scope", value: Self.scope),
                URLQueryItem(name: "access_type", value: "offline"),
                URLQueryItem(name: "prompt", value: "consent"),
                URLQueryItem(name: "include_granted_scopes", value: "true"),
                URLQueryItem(name: "state", value: state),
                URLQueryItem(name: "code_challenge", value: challenge),
                URLQueryItem(name: "code_challenge_method", value: "S256"),
            ] + (loginHint.map { [URLQueryItem(name: "login_hint", value: $0)] } ?? [])
        return components.url!.absoluteString
    }

    /// The token endpoint's answer.
    public struct Tokens: Decodable, Sendable {
        public var accessToken: String
        public var expiresIn: Int
        public var refreshToken: String?
        public var scope: String?
        public var tokenType: String

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
            case expiresIn = "expires_in"
            case refreshToken = "refresh_token"
            case scope
            case tokenType = "token_type"
        }
    }

    /// Redeems the code the callback received, with the verifier of the challenge it was asked with.
    public func exchange(code: String, verifier: String) async throws -> Tokens {
        try await self.token([
            "grant_type": "authorization_code", "code": code, "code_verifier": verifier, "redirect_uri": self.configuration.redirectURI,
        ])
    }

    /// A new access token; `GoogleError.invalidGrant` when Google no longer honours the refresh token (revoked,
    /// expired, the password changed): the connection is broken until someone consents again.
    public func refresh(refreshToken: String) async throws -> Tokens {
        try await self.token(["grant_type": "refresh_token", "refresh_token": refreshToken])
    }

    func token(_ fields: [String: String]) async throws -> Tokens {
        var form = fields
        form["client_id"] = self.configuration.clientID
        form["client_secret"] = self.configuration.clientSecret
        let (status, body) = try await self.send(.POST, self.configuration.tokenURL, form: form)
        guard status == 200 else {
            // {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
            struct OAuthError: Decodable {
                var error: String
                var error_description: String?
            }
            let error = try? JSONDecoder().decode(OAuthError.self, from: body)
            if error?.error == "invalid_grant" { throw GoogleError.invalidGrant(error?.error_description ?? "invalid_grant") }
            throw GoogleError.http(status: status, message: error.map { "\($0.error): \($0.error_description ?? "")" } ?? Self.text(body))
        }
        return try Self.decode(Tokens.self, body)
    }

    /// Revokes a token (best effort when disconnecting).
    public func revoke(token: String) async throws {
        let (status, body) = try await self.send(.POST, self.configuration.revokeURL, form: ["token": token])
        guard status == 200 else { throw GoogleError.http(status: status, message: Self.text(body)) }
    }

    // MARK: Calendar API

    public struct CalendarInfo: Decodable, Sendable {
        public var id: String
        public var summary: String?
        public var timeZone: String?
    }

    public func calendar(_ calendarID: String, token: String) async throws -> CalendarInfo {
        try await self.api(.GET, "/calendars/\(Self.segment(calendarID))", token: token, as: CalendarInfo.self)
    }

    public struct EventTime: Codable, Sendable, Equatable {
        public var dateTime: Date?
        /// An all-day event's day (`2027-03-28`), in the calendar's zone.
        public var date: String?
        public var timeZone: String?

        public init(dateTime: Date? = nil, date: String? = nil, timeZone: String? = nil) {
            self.dateTime = dateTime
            self.date = date
            self.timeZone = timeZone
        }
    }

    /// An event as Sokoni writes it and as Google answers it (the fields this service reads).
    public struct Event: Codable, Sendable {
        public var id: String?
        public var status: String?
        public var summary: String?
        public var description: String?
        public var location: String?
        public var start: EventTime?
        public var end: EventTime?
        /// `opaque` (busy, the default) or `transparent` (shows as free).
        public var transparency: String?
        public var htmlLink: String?
        public var hangoutLink: String?
        public var attendees: [Attendee]?
        public var extendedProperties: ExtendedProperties?
        public var conferenceData: ConferenceData?

        public init(
            id: String? = nil, summary: String? = nil, description: String? = nil, location: String? = nil, start: EventTime? = nil,
            end: EventTime? = nil, attendees: [Attendee]? = nil, extendedProperties: ExtendedProperties? = nil,
            conferenceData: ConferenceData? = nil
        ) {
            self.id = id
            self.summary = summary
            self.description = description
            self.location = location
            self.start = start
            self.end = end
            self.attendees = attendees
            self.extendedProperties = extendedProperties
            self.conferenceData = conferenceData
        }

        /// The appointment an event was written for (`extendedProperties.private.sokoniAppointmentId`).
        public var appointmentID: String? { self.extendedProperties?.private?["sokoniAppointmentId"] }
    }

    public struct Attendee: Codable, Sendable {
        public var email: String
        public var displayName: String?

        public init(email: String, displayName: String? = nil) {
            self.email = email
            self.displayName = displayName
        }
    }

    public struct ExtendedProperties: Codable, Sendable {
        public var `private`: [String: String]?

        public init(private: [String: String]?) {
            self.private = `private`
        }
    }

    /// `conferenceData.createRequest` asks for a Meet link; Google answers `entryPoints`.
    public struct ConferenceData: Codable, Sendable {
        public struct CreateRequest: Codable, Sendable {
            public struct Key: Codable, Sendable { public var type: String }
            public var requestId: String
            public var conferenceSolutionKey: Key
        }
        public struct EntryPoint: Codable, Sendable {
            public var entryPointType: String
            public var uri: String
        }
        public var createRequest: CreateRequest?
        public var entryPoints: [EntryPoint]?

        public static func meet(requestID: String) -> ConferenceData {
            ConferenceData(createRequest: CreateRequest(requestId: requestID, conferenceSolutionKey: .init(type: "hangoutsMeet")), entryPoints: nil)
        }

        public var videoURI: String? { self.entryPoints?.first { $0.entryPointType == "video" }?.uri }
    }

    /// Creates the event under the id given (Google refuses a second insert of one id with 409: `GoogleError.duplicate`).
    public func insert(_ event: Event, calendar: String, meet: Bool, token: String) async throws -> Event {
        try await self.api(
            .POST, "/calendars/\(Self.segment(calendar))/events", query: ["conferenceDataVersion": meet ? "1" : "0", "sendUpdates": "none"],
            body: event, token: token, as: Event.self)
    }

    public func patch(_ eventID: String, _ event: Event, calendar: String, meet: Bool, token: String) async throws -> Event {
        try await self.api(
            .PATCH, "/calendars/\(Self.segment(calendar))/events/\(Self.segment(eventID))",
            query: ["conferenceDataVersion": meet ? "1" : "0", "sendUpdates": "none"], body: event, token: token, as: Event.self)
    }

    /// Deletes the event; one already gone (404, 410) is done.
    public func delete(_ eventID: String, calendar: String, token: String) async throws {
        do {
            let (status, body) = try await self.call(
                .DELETE, "/calendars/\(Self.segment(calendar))/events/\(Self.segment(eventID))", query: ["sendUpdates": "none"], body: nil, token: token)
            guard status == 204 || status == 200 else { throw Self.apiError(status: status, body: body) }
        } catch GoogleError.notFound, GoogleError.gone {
        }
    }

    public struct EventsPage: Decodable, Sendable {
        public var items: [Event]?
        public var nextPageToken: String?
        public var nextSyncToken: String?
    }

    /// One page of events: an incremental one since `syncToken` (Google answers 410, `GoogleError.gone`, when the
    /// token is no longer valid and a full sync is needed), or a full one from `timeMin`. Recurring events come as
    /// their single instances.
    public func events(calendar: String, syncToken: String?, timeMin: Date?, pageToken: String?, token: String) async throws -> EventsPage {
        var query = ["singleEvents": "true", "maxResults": "250", "showDeleted": "true"]
        if let syncToken { query["syncToken"] = syncToken } else if let timeMin { query["timeMin"] = Self.rfc3339(timeMin) }
        if let pageToken { query["pageToken"] = pageToken }
        return try await self.api(.GET, "/calendars/\(Self.segment(calendar))/events", query: query, token: token, as: EventsPage.self)
    }

    /// Busy intervals of the calendar in [from, to), as Google's freeBusy computes them.
    public func freeBusy(calendar: String, from: Date, to: Date, token: String) async throws -> [(start: Date, end: Date)] {
        struct Query: Encodable {
            struct Item: Encodable { var id: String }
            var timeMin: String
            var timeMax: String
            var items: [Item]
        }
        struct Answer: Decodable {
            struct Busy: Decodable {
                var start: Date
                var end: Date
            }
            struct Calendar: Decodable {
                var busy: [Busy]?
                var errors: [[String: String]]?
            }
            var calendars: [String: Calendar]
        }
        let answer = try await self.api(
            .POST, "/freeBusy", body: Query(timeMin: Self.rfc3339(from), timeMax: Self.rfc3339(to), items: [.init(id: calendar)]), token: token,
            as: Answer.self)
        guard let found = answer.calendars[calendar] else { throw GoogleError.malformed("freeBusy did not answer for \(calendar)") }
        if let reason = found.errors?.first?["reason"] { throw GoogleError.http(status: 200, message: "freeBusy: \(reason)") }
        return (found.busy ?? []).map { ($0.start, $0.end) }
    }

    // MARK: HTTP

    func api<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [String: String] = [:], body: (some Encodable)? = nil as String?, token: String,
        as type: Answer.Type
    ) async throws -> Answer {
        let encoded = try body.map { try Self.encoder.encode($0) }
        let (status, answer) = try await self.call(method, path, query: query, body: encoded, token: token)
        guard (200..<300).contains(status) else { throw Self.apiError(status: status, body: answer) }
        return try Self.decode(Answer.self, answer)
    }

    func call(_ method: HTTPMethod, _ path: String, query: [String: String], body: Data?, token: String) async throws -> (Int, Data) {
        var components = URLComponents(string: self.configuration.apiURL + path)!
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        // `+` in a query value is a space to many servers: spell it out
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        var request = HTTPClientRequest(url: components.url!.absoluteString)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return try await self.execute(request)
    }

    func send(_ method: HTTPMethod, _ url: String, form: [String: String]) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.formEncoded(form)))
        return try await self.execute(request)
    }

    func execute(_ request: HTTPClientRequest) async throws -> (Int, Data) {
        do {
            let response = try await self.http.execute(request, timeout: self.timeout)
            let body = try await response.body.collect(upTo: 8 << 20)
            return (Int(response.status.code), Data(buffer: body))
        } catch let error as GoogleError {
            throw error
        } catch {
            throw GoogleError.unavailable(String(describing: error))
        }
    }

    static func formEncoded(_ form: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return form.sorted { $0.key < $1.key }.map {
            "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&")
    }

    /// A path segment (a calendar id is often an email address).
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~@")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `{"error": {"code": 410, "message": …, "errors": [{"reason": "fullSyncRequired"}]}}` and the like.
    static func apiError(status: Int, body: Data) -> GoogleError {
        struct Body: Decodable {
            struct Inner: Decodable {
                var message: String?
            }
            var error: Inner
        }
        let message = (try? JSONDecoder().decode(Body.self, from: body))?.error.message ?? text(body)
        switch status {
        case 401: return .unauthorized(message)
        case 404: return .notFound
        case 409: return .duplicate
        case 410: return .gone
        default: return .http(status: status, message: message)
        }
    }

    static func text(_ body: Data) -> String { String(decoding: body.prefix(300), as: UTF8.self) }

    static func decode<Answer: Decodable>(_ type: Answer.Type, _ body: Data) throws -> Answer {
        do {
            return try Self.decoder.decode(Answer.self, from: body)
        } catch {
            throw GoogleError.malformed(String(describing: error))
        }
    }

    /// RFC 3339 in UTC (`2027-03-28T09:00:00Z`; Google answers `+01:00` offsets and fractions too).
    static func rfc3339(_ date: Date) -> String { date.formatted(.iso8601) }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(rfc3339(date))
        }
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: .iso8601) { return date }
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time: \(text)"))
        }
        return decoder
    }()
}

public enum GoogleError: Error, Equatable, CustomStringConvertible {
    /// The refresh token is no longer honoured.
    case invalidGrant(String)
    /// The access token was refused.
    case unauthorized(String)
    case notFound
    /// An event with that id exists already.
    case duplicate
    /// The sync token expired: a full sync is needed.
    case gone
    case http(status: Int, message: String)
    case malformed(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .invalidGrant(let reason): "Google refused the refresh token: \(reason)"
        case .unauthorized(let message): "Google refused the access token: \(message)"
        case .notFound: "Google: not found"
        case .duplicate: "Google: the event exists already"
        case .gone: "Google: the sync token is no longer valid"
        case .http(let status, let message): "Google answered \(status): \(message)"
        case .malformed(let reason): "Google sent an answer this service cannot read: \(reason)"
        case .unavailable(let reason): "Google could not be reached: \(reason)"
        }
    }
}
