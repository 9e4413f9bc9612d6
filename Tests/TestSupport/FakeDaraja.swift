import Foundation
import Hummingbird
import NIOCore
import Synchronization

/// A fake Safaricom Daraja on loopback (serve `router` with `TestUpstream.with`) that speaks Daraja's wire format:
/// `GET /oauth/v1/generate?grant_type=client_credentials` with Basic auth → `{"access_token","expires_in":"3599"}`;
/// `POST /mpesa/stkpush/v1/processrequest` and `POST /mpesa/stkpushquery/v1/query` with the bearer token, checking the
/// Password (base64 of shortcode + passkey + Timestamp) and the Timestamp (`yyyyMMddHHmmss`, Nairobi time, within five
/// minutes), answering Daraja's bodies and its error bodies (`{"requestId","errorCode","errorMessage"}`), and posting
/// the STK callback (`{"Body":{"stkCallback":{…}}}`) to the push's CallBackURL when told to.
public final class FakeDaraja: Sendable {
    /// How the next checkout ends.
    public struct Ending: Sendable {
        /// The real result: what the query answers (unless `queryAnswer` says otherwise).
        public var resultCode: Int
        /// Whether Daraja posts the callback (shortly after the push).
        public var callsBack: Bool
        /// What the callback claims, when it lies (a forgery's result): default `resultCode`.
        public var callbackResultCode: Int?
        /// The query keeps answering "being processed".
        public var queryProcessing: Bool
        public var receipt: String

        public init(_ resultCode: Int, callsBack: Bool = true, callbackResultCode: Int? = nil, queryProcessing: Bool = false, receipt: String? = nil) {
            self.resultCode = resultCode
            self.callsBack = callsBack
            self.callbackResultCode = callbackResultCode
            self.queryProcessing = queryProcessing
            self.receipt = receipt ?? "T" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(9).uppercased()
        }
    }

    public struct Checkout: Sendable {
        public var merchantRequestID: String
        public var checkoutRequestID: String
        public var amount: Int
        public var phone: String
        public var callbackURL: String
        public var accountReference: String
        public var transactionDescription: String
        public var ending: Ending
    }

    struct State {
        var endings: [Ending] = []
        var checkouts: [String: Checkout] = [:]
        var order: [String] = []
        var tokens: [String: ContinuousClock.Instant] = [:]
        var oauthCalls = 0
        var pushes = 0
        var queries = 0
        var refusals: [String] = []
        var deliveries: [Task<Int, Never>] = []
    }

    public let consumerKey: String
    public let consumerSecret: String
    public let shortcode: String
    public let passkey: String
    /// `expires_in` of the tokens it issues, in seconds.
    public let tokenLifetime: Int
    let state = Mutex(State())

    public init(
        consumerKey: String = "fake-consumer-key", consumerSecret: String = "fake-consumer-secret", shortcode: String = "174379",
        passkey: String = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919", tokenLifetime: Int = 3599
    ) {
        self.consumerKey = consumerKey
        self.consumerSecret = consumerSecret
        self.shortcode = shortcode
        self.passkey = passkey
        self.tokenLifetime = tokenLifetime
    }

    /// The settings that point marketplace-wallet at this fake.
    public func settings(url: String, callbackSecret: String) -> [String: String] {
        [
            "WALLET_DARAJA_BASE_URL": url, "WALLET_DARAJA_CONSUMER_KEY": self.consumerKey, "WALLET_DARAJA_CONSUMER_SECRET": self.consumerSecret,
            "WALLET_DARAJA_SHORTCODE": self.shortcode, "WALLET_DARAJA_PASSKEY": self.passkey, "WALLET_MPESA_CALLBACK_SECRET": callbackSecret,
        ]
    }

    /// Queues how the next checkouts end (in order); without one, a checkout is paid and called back.
    public func next(_ endings: Ending...) { self.state.withLock { $0.endings.append(contentsOf: endings) } }

    public var oauthCalls: Int { self.state.withLock { $0.oauthCalls } }
    public var pushes: Int { self.state.withLock { $0.pushes } }
    public var queries: Int { self.state.withLock { $0.queries } }
    /// Requests it refused, with why (a wrong password, an unknown token…).
    public var refusals: [String] { self.state.withLock { $0.refusals } }
    public var checkouts: [Checkout] { self.state.withLock { state in state.order.compactMap { state.checkouts[$0] } } }
    public func checkout(_ id: String) -> Checkout? { self.state.withLock { $0.checkouts[id] } }

    /// Forgets every token it issued: the next call with one is refused as Daraja refuses an expired token.
    public func revokeTokens() { self.state.withLock { $0.tokens = [:] } }

    /// Waits for the callbacks it is posting; answers their HTTP statuses.
    public func deliveries() async -> [Int] {
        let tasks = self.state.withLock { $0.deliveries }
        var statuses: [Int] = []
        for task in tasks { statuses.append(await task.value) }
        return statuses
    }

    /// The callback Daraja would post for a checkout (`resultCode` overrides what it claims).
    public func callbackBody(_ checkout: Checkout, resultCode: Int? = nil) -> String {
        let code = resultCode ?? checkout.ending.callbackResultCode ?? checkout.ending.resultCode
        let metadata =
            code == 0
            ? #","CallbackMetadata":{"Item":[{"Name":"Amount","Value":\#(checkout.amount).00},{"Name":"MpesaReceiptNumber","Value":"\#(checkout.ending.receipt)"},{"Name":"Balance"},{"Name":"TransactionDate","Value":\#(Self.timestamp(Date()))},{"Name":"PhoneNumber","Value":\#(checkout.phone)}]}"#
            : ""
        return #"""
            {"Body":{"stkCallback":{"MerchantRequestID":"\#(checkout.merchantRequestID)","CheckoutRequestID":"\#(checkout.checkoutRequestID)",\#
            "ResultCode":\#(code),"ResultDesc":"\#(Self.description(code))"\#(metadata)}}}
            """#
    }

    /// Posts a checkout's callback now (again, or a forged one) to its CallBackURL; answers the HTTP status.
    public func deliverCallback(_ checkoutID: String, resultCode: Int? = nil, to url: String? = nil) async throws -> Int {
        guard let checkout = self.checkout(checkoutID) else { throw FakeDarajaError(description: "no checkout \(checkoutID)") }
        let response = try await TestHTTP.request(.POST, url ?? checkout.callbackURL, body: Data(self.callbackBody(checkout, resultCode: resultCode).utf8))
        return response.status
    }

    public static func description(_ code: Int) -> String {
        switch code {
        case 0: "The service request is processed successfully."
        case 1: "The balance is insufficient for the transaction."
        case 1032: "Request cancelled by user"
        case 1037: "DS timeout user cannot be reached"
        case 2001: "The initiator information is invalid."
        default: "Error \(code)"
        }
    }

    /// `yyyyMMddHHmmss` in Nairobi time (UTC+3).
    public static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 3 * 3600)
        formatter.dateFormat = "yyyyMMddHHmmss"
        return formatter.string(from: date)
    }

    // MARK: the server

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        json(
            status,
            #"{"requestId":"\#(Int.random(in: 10000...99999))-\#(Int.random(in: 1_000_000...9_999_999))-1","errorCode":"\#(code)","errorMessage":"\#(message)"}"#
        )
    }

    func refuse(_ why: String, _ response: Response) -> Response {
        self.state.withLock { $0.refusals.append(why) }
        return response
    }

    /// The bearer token is one it issued and still valid; the Password and Timestamp are right.
    func check(_ request: Request, _ body: [String: Any]) -> Response? {
        let authorization = request.headers[.authorization] ?? ""
        let token = authorization.hasPrefix("Bearer ") ? String(authorization.dropFirst(7)) : ""
        let valid = self.state.withLock { state in state.tokens[token].map { ContinuousClock.now < $0 } ?? false }
        guard valid else { return self.refuse("invalid token", Self.error(.notFound, "404.001.03", "Invalid Access Token")) }
        guard body["BusinessShortCode"] as? String == self.shortcode else {
            return self.refuse("shortcode", Self.error(.badRequest, "400.002.02", "Bad Request - Invalid BusinessShortCode"))
        }
        guard let timestamp = body["Timestamp"] as? String, timestamp.count == 14, timestamp.allSatisfy(\.isNumber) else {
            return self.refuse("timestamp", Self.error(.badRequest, "400.002.02", "Bad Request - Invalid Timestamp"))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 3 * 3600)
        formatter.dateFormat = "yyyyMMddHHmmss"
        guard let moment = formatter.date(from: timestamp), abs(moment.timeIntervalSinceNow) < 300 else {
            return self.refuse("timestamp not Nairobi now", Self.error(.badRequest, "400.002.02", "Bad Request - Invalid Timestamp"))
        }
        let expected = Data((self.shortcode + self.passkey + timestamp).utf8).base64EncodedString()
        guard body["Password"] as? String == expected else {
            return self.refuse(
                "password",
                Self.error(.internalServerError, "500.001.1001", "Unable to lock subscriber, a transaction is already in process for the current subscriber"))
        }
        return nil
    }

    static func body(_ request: Request) async throws -> [String: Any] {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]) ?? [:]
    }

    public var router: Router<BasicRequestContext> {
        let router = Router()
        router.get("oauth/v1/generate") { request, _ -> Response in
            self.state.withLock { $0.oauthCalls += 1 }
            let expected = "Basic " + Data("\(self.consumerKey):\(self.consumerSecret)".utf8).base64EncodedString()
            guard request.uri.queryParameters.get("grant_type") == "client_credentials" else {
                return self.refuse("grant_type", Self.error(.badRequest, "400.008.02", "Invalid grant type passed"))
            }
            guard request.headers[.authorization] == expected else {
                return self.refuse("basic auth", Self.error(.badRequest, "400.008.01", "Invalid Authentication passed"))
            }
            let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(28)
            self.state.withLock { $0.tokens[String(token)] = ContinuousClock.now + .seconds(self.tokenLifetime) }
            return Self.json(.ok, #"{"access_token":"\#(token)","expires_in":"\#(self.tokenLifetime)"}"#)
        }
        router.post("mpesa/stkpush/v1/processrequest") { request, _ -> Response in
            let body = try await Self.body(request)
            if let refused = self.check(request, body) { return refused }
            let phone = body["PhoneNumber"] as? String ?? ""
            guard body["TransactionType"] as? String == "CustomerPayBillOnline" else {
                return self.refuse("transaction type", Self.error(.badRequest, "400.002.02", "Bad Request - Invalid TransactionType"))
            }
            guard let amount = body["Amount"] as? Int, amount > 0 else {
                return self.refuse("amount", Self.error(.badRequest, "400.002.02", "Bad Request - Invalid Amount"))
            }
            guard phone.range(of: "^2547[0-9]{8}$|^2541[0-9]{8}$", options: .regularExpression) != nil, body["PartyA"] as? String == phone else {
                return self.refuse("phone", Self.error(.badRequest, "400.002.02", "Bad Request - Invalid PhoneNumber"))
            }
            guard body["PartyB"] as? String == self.shortcode, let callback = body["CallBackURL"] as? String, callback.hasPrefix("http"),
                let reference = body["AccountReference"] as? String, (1...12).contains(reference.count),
                let description = body["TransactionDesc"] as? String, (1...13).contains(description.count)
            else { return self.refuse("fields", Self.error(.badRequest, "400.002.02", "Bad Request - Invalid Remarks")) }
            let merchant = "\(Int.random(in: 10000...99999))-\(Int.random(in: 10_000_000...99_999_999))-1"
            let checkoutID = "ws_CO_\(Self.timestamp(Date()))\(Int.random(in: 100_000_000...999_999_999))"
            let checkout = self.state.withLock { state -> Checkout in
                state.pushes += 1
                let ending = state.endings.isEmpty ? Ending(0) : state.endings.removeFirst()
                let checkout = Checkout(
                    merchantRequestID: merchant, checkoutRequestID: checkoutID, amount: amount, phone: phone, callbackURL: callback,
                    accountReference: reference, transactionDescription: description, ending: ending)
                state.checkouts[checkoutID] = checkout
                state.order.append(checkoutID)
                return checkout
            }
            if checkout.ending.callsBack {
                let task = Task<Int, Never> {
                    try? await Task.sleep(for: .milliseconds(150))
                    return (try? await self.deliverCallback(checkoutID)) ?? 0
                }
                self.state.withLock { $0.deliveries.append(task) }
            }
            return Self.json(
                .ok,
                #"{"MerchantRequestID":"\#(merchant)","CheckoutRequestID":"\#(checkoutID)","ResponseCode":"0","ResponseDescription":"Success. Request accepted for processing","CustomerMessage":"Success. Request accepted for processing"}"#
            )
        }
        router.post("mpesa/stkpushquery/v1/query") { request, _ -> Response in
            let body = try await Self.body(request)
            if let refused = self.check(request, body) { return refused }
            self.state.withLock { $0.queries += 1 }
            guard let id = body["CheckoutRequestID"] as? String, let checkout = self.checkout(id) else {
                return self.refuse("checkout", Self.error(.badRequest, "400.002.02", "Bad Request - Invalid CheckoutRequestID"))
            }
            if checkout.ending.queryProcessing { return Self.error(.internalServerError, "500.001.1001", "The transaction is being processed") }
            let code = checkout.ending.resultCode
            return Self.json(
                .ok,
                #"{"ResponseCode":"0","ResponseDescription":"The service request has been accepted successsfully","MerchantRequestID":"\#(checkout.merchantRequestID)","CheckoutRequestID":"\#(id)","ResultCode":"\#(code)","ResultDesc":"\#(Self.description(code))"}"#
            )
        }
        return router
    }
}

public struct FakeDarajaError: Error, CustomStringConvertible {
    public var description: String
}
