import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Daraja over HTTP: an OAuth token (`GET /oauth/v1/generate?grant_type=client_credentials` with Basic auth) kept
/// until its `expires_in` runs out (one fetch however many calls wait for it), then STK push and STK query with it as
/// a bearer token. A token Daraja calls invalid (`404.001.03`) is dropped and fetched again once.
struct DarajaClient: MpesaExpress {
    let configuration: DarajaConfiguration
    let http: HTTPClient
    let tokens: DarajaTokens
    /// The clock the timestamps come from (a test's, to check the password).
    var now: @Sendable () -> Date = { Date() }

    init(configuration: DarajaConfiguration, http: HTTPClient) {
        self.configuration = configuration
        self.http = http
        self.tokens = DarajaTokens()
    }

    var sandbox: MpesaSandbox? { nil }

    var base: String {
        var base = self.configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    func push(_ request: STKPushRequest, logger: Logger) async throws -> STKPushAccepted {
        let timestamp = Mpesa.timestamp(self.now())
        let body: [String: Any] = [
            "BusinessShortCode": self.configuration.shortcode,
            "Password": Mpesa.password(shortcode: self.configuration.shortcode, passkey: self.configuration.passkey, timestamp: timestamp),
            "Timestamp": timestamp, "TransactionType": "CustomerPayBillOnline", "Amount": request.amount, "PartyA": request.phone,
            "PartyB": self.configuration.shortcode, "PhoneNumber": request.phone, "CallBackURL": request.callbackURL,
            "AccountReference": String(request.accountReference.prefix(12)), "TransactionDesc": String(request.description.prefix(13)),
        ]
        let (status, answer) = try await self.authorized("/mpesa/stkpush/v1/processrequest", body: body, logger: logger)
        guard (200..<300).contains(status) else { throw Self.refusal(status: status, answer) }
        guard let code = STKCallback.text(answer["ResponseCode"]) else { throw MpesaError.malformed("no ResponseCode in the push's answer") }
        guard code == "0" else {
            throw MpesaError.refused(status: status, code: code, message: (answer["ResponseDescription"] as? String) ?? "not accepted")
        }
        guard let checkout = answer["CheckoutRequestID"] as? String, !checkout.isEmpty, checkout.count <= 100 else {
            throw MpesaError.malformed("no CheckoutRequestID in the push's answer")
        }
        return STKPushAccepted(
            merchantRequestID: (answer["MerchantRequestID"] as? String) ?? "", checkoutRequestID: checkout,
            responseDescription: (answer["ResponseDescription"] as? String) ?? "", customerMessage: (answer["CustomerMessage"] as? String) ?? "")
    }

    func query(checkoutRequestID: String, logger: Logger) async throws -> STKQueryOutcome {
        let timestamp = Mpesa.timestamp(self.now())
        let body: [String: Any] = [
            "BusinessShortCode": self.configuration.shortcode,
            "Password": Mpesa.password(shortcode: self.configuration.shortcode, passkey: self.configuration.passkey, timestamp: timestamp),
            "Timestamp": timestamp, "CheckoutRequestID": checkoutRequestID,
        ]
        let (status, answer) = try await self.authorized("/mpesa/stkpushquery/v1/query", body: body, logger: logger)
        if (answer["errorCode"] as? String) == "500.001.1001" { return .processing }
        guard (200..<300).contains(status) else { throw Self.refusal(status: status, answer) }
        guard STKCallback.text(answer["ResponseCode"]) == "0" else {
            throw MpesaError.refused(
                status: status, code: STKCallback.text(answer["ResponseCode"]) ?? "?", message: (answer["ResponseDescription"] as? String) ?? "")
        }
        guard let code = STKCallback.int(answer["ResultCode"]) else { throw MpesaError.malformed("no ResultCode in the query's answer") }
        return .result(code: code, description: String(((answer["ResultDesc"] as? String) ?? "").prefix(500)))
    }

    // MARK: HTTP

    static func refusal(status: Int, _ answer: [String: Any]) -> MpesaError {
        .refused(
            status: status, code: (answer["errorCode"] as? String) ?? "http_\(status)",
            message: (answer["errorMessage"] as? String) ?? (answer["ResponseDescription"] as? String) ?? "HTTP \(status)")
    }

    /// A POST with the current token; once more with a new one when Daraja says the token is invalid.
    func authorized(_ path: String, body: [String: Any], logger: Logger) async throws -> (Int, [String: Any]) {
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        var token = try await self.tokens.token { try await self.fetchToken(logger: logger) }
        for attempt in 0..<2 {
            var request = HTTPClientRequest(url: self.base + path)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: data))
            let (status, answer) = try await self.call(request, logger: logger)
            let invalidToken = (answer["errorCode"] as? String) == "404.001.03" || status == 401
            if invalidToken && attempt == 0 {
                await self.tokens.drop(token)
                token = try await self.tokens.token { try await self.fetchToken(logger: logger) }
                continue
            }
            return (status, answer)
        }
        throw MpesaError.refused(status: 401, code: "404.001.03", message: "Invalid Access Token")
    }

    func fetchToken(logger: Logger) async throws -> (token: String, lifetime: Duration) {
        var request = HTTPClientRequest(url: self.base + "/oauth/v1/generate?grant_type=client_credentials")
        request.method = .GET
        let credentials = Data("\(self.configuration.consumerKey):\(self.configuration.consumerSecret)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        let (status, answer) = try await self.call(request, logger: logger)
        guard (200..<300).contains(status) else { throw Self.refusal(status: status, answer) }
        guard let token = answer["access_token"] as? String, !token.isEmpty else { throw MpesaError.malformed("no access_token") }
        // "3599" (a string) from Daraja; a number from some proxies
        let seconds = STKCallback.int(answer["expires_in"]) ?? 3599
        logger.debug("daraja token fetched", metadata: ["expires_in": "\(seconds)"])
        return (token, .seconds(max(seconds, 0)))
    }

    func call(_ request: HTTPClientRequest, logger: Logger) async throws -> (Int, [String: Any]) {
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            let timeout = self.configuration.timeout.components
            response = try await self.http.execute(
                request, timeout: .nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000), logger: logger)
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw MpesaError.unreachable("\(error)")
        }
        let status = Int(response.status.code)
        let data = Data(bytes.readableBytesView)
        if data.isEmpty { return (status, [:]) }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            if (200..<300).contains(status) { throw MpesaError.malformed("not JSON: \(String(decoding: data.prefix(200), as: UTF8.self))") }
            return (status, ["errorMessage": String(decoding: data.prefix(200), as: UTF8.self)])
        }
        return (status, object)
    }
}

/// The OAuth token, shared by every call of one adapter: kept until a little before it expires (a tenth of its
/// lifetime, at most a minute), and fetched once for all callers waiting on it.
actor DarajaTokens {
    var current: (token: String, expires: ContinuousClock.Instant)?
    var fetching: Task<(token: String, lifetime: Duration), any Error>?

    func token(fetch: @escaping @Sendable () async throws -> (token: String, lifetime: Duration)) async throws -> String {
        if let current, ContinuousClock.now < current.expires { return current.token }
        let task: Task<(token: String, lifetime: Duration), any Error>
        if let fetching {
            task = fetching
        } else {
            task = Task { try await fetch() }
            self.fetching = task
        }
        defer { if self.fetching == task { self.fetching = nil } }
        let (token, lifetime) = try await task.value
        let margin = min(lifetime / 10, .seconds(60))
        self.current = (token, ContinuousClock.now + lifetime - margin)
        return token
    }

    func drop(_ token: String) {
        if self.current?.token == token { self.current = nil }
    }
}
