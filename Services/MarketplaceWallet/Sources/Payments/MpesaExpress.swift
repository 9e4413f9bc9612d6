import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// M-Pesa Express (Safaricom Daraja's STK push), as the subscriptions flow uses it. This folder is one module with
/// one face: `Mpesa.express(…)` answers something that pushes a payment prompt to a phone and queries how it ended,
/// either the real Daraja adapter (`DarajaClient`, against a configurable base URL) or, with no credentials, the
/// offline sandbox (`MpesaSandbox`). `STKCallback` reads what Daraja posts to the callback URL. Nothing here knows
/// tenants, plans or the database.
protocol MpesaExpress: Sendable {
    /// The offline sandbox, when this is one (its outcomes are set through the API, never by a phone).
    var sandbox: MpesaSandbox? { get }
    /// `POST /mpesa/stkpush/v1/processrequest`: the prompt was accepted for processing (not paid).
    func push(_ request: STKPushRequest, logger: Logger) async throws -> STKPushAccepted
    /// `POST /mpesa/stkpushquery/v1/query`: how the checkout ended, or that it is still being processed.
    func query(checkoutRequestID: String, logger: Logger) async throws -> STKQueryOutcome
}

/// One payment prompt.
struct STKPushRequest: Sendable, Equatable {
    /// Whole shillings: Daraja takes no cents.
    var amount: Int64
    /// The paying phone as Daraja writes it: `2547…`, digits only.
    var phone: String
    var callbackURL: String
    /// At most 12 characters (Daraja's limit).
    var accountReference: String
    /// At most 13 characters (Daraja's limit).
    var description: String
}

/// Daraja's synchronous answer to a push: accepted for processing, with the ids the callback and query carry.
struct STKPushAccepted: Sendable, Equatable {
    var merchantRequestID: String
    var checkoutRequestID: String
    var responseDescription: String
    var customerMessage: String
}

/// What an STK query says about a checkout.
enum STKQueryOutcome: Sendable, Equatable {
    /// Daraja has no result yet (`500.001.1001 The transaction is being processed`).
    case processing
    /// The result: 0 paid, 1032 cancelled by the user, 1037 no answer from the phone, 2001 wrong PIN, 1 not enough
    /// money, …
    case result(code: Int, description: String)
}

/// A call to Daraja that did not give an answer to act on.
enum MpesaError: Error, Equatable, CustomStringConvertible {
    /// Daraja answered with an error (`{"requestId","errorCode","errorMessage"}`) or a non-zero `ResponseCode`.
    case refused(status: Int, code: String, message: String)
    /// No answer (connection refused, timeout, reset).
    case unreachable(String)
    /// An answer that was not Daraja's JSON.
    case malformed(String)

    var description: String {
        switch self {
        case .refused(let status, let code, let message): "M-Pesa refused (HTTP \(status), \(code)): \(message)"
        case .unreachable(let reason): "M-Pesa unreachable: \(reason)"
        case .malformed(let reason): "M-Pesa answered something unreadable: \(reason)"
        }
    }
}

/// The Daraja app's credentials and the paybill they collect to.
struct DarajaConfiguration: Sendable {
    /// `https://sandbox.safaricom.co.ke` or `https://api.safaricom.co.ke` (a fake's, in tests).
    var baseURL: String
    var consumerKey: String
    var consumerSecret: String
    /// The paybill (BusinessShortCode, PartyB).
    var shortcode: String
    /// The Lipa na M-Pesa Online passkey.
    var passkey: String
    var timeout: Duration = .seconds(15)
}

enum Mpesa {
    /// The real adapter when credentials are configured, else the offline sandbox.
    static func express(configuration: DarajaConfiguration?, http: HTTPClient) -> any MpesaExpress {
        if let configuration { return DarajaClient(configuration: configuration, http: http) }
        return MpesaSandbox()
    }

    /// `+254712345678` → `254712345678`.
    static func msisdn(e164: String) -> String { String(e164.drop { $0 == "+" }) }

    /// Daraja's timestamp: `yyyyMMddHHmmss` in Nairobi time (EAT, UTC+3, no daylight saving).
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Africa/Nairobi") ?? TimeZone(secondsFromGMT: 3 * 3600)!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { (value ?? 0) < 10 ? "0\(value ?? 0)" : "\(value ?? 0)" }
        return "\(parts.year ?? 0)" + two(parts.month) + two(parts.day) + two(parts.hour) + two(parts.minute) + two(parts.second)
    }

    /// The request's `Password`: base64(shortcode + passkey + timestamp).
    static func password(shortcode: String, passkey: String, timestamp: String) -> String {
        Data((shortcode + passkey + timestamp).utf8).base64EncodedString()
    }
}

/// What Daraja posts to the callback URL: `{"Body":{"stkCallback":{…}}}`. `CallbackMetadata` (amount, receipt, date,
/// phone) comes only with `ResultCode` 0.
struct STKCallback: Sendable, Equatable, Codable {
    var merchantRequestID: String
    var checkoutRequestID: String
    var resultCode: Int
    var resultDescription: String
    /// Whole shillings as Daraja sends them (a number, sometimes with decimals).
    var amount: Double?
    var receiptNumber: String?
    /// `yyyyMMddHHmmss`, Nairobi time.
    var transactionDate: String?
    var phoneNumber: String?

    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ data: Data) throws -> STKCallback {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let body = root["Body"] as? [String: Any],
            let callback = body["stkCallback"] as? [String: Any]
        else { throw Unreadable(description: "not a Daraja STK callback: Body.stkCallback is missing") }
        guard let checkout = callback["CheckoutRequestID"] as? String, !checkout.isEmpty, checkout.count <= 100 else {
            throw Unreadable(description: "CheckoutRequestID is missing")
        }
        guard let code = Self.int(callback["ResultCode"]) else { throw Unreadable(description: "ResultCode is missing") }
        var parsed = STKCallback(
            merchantRequestID: (callback["MerchantRequestID"] as? String) ?? "", checkoutRequestID: checkout, resultCode: code,
            resultDescription: String(((callback["ResultDesc"] as? String) ?? "").prefix(500)))
        let items = ((callback["CallbackMetadata"] as? [String: Any])?["Item"] as? [[String: Any]]) ?? []
        for item in items {
            let value = item["Value"]
            switch item["Name"] as? String {
            case "Amount": parsed.amount = (value as? NSNumber)?.doubleValue ?? (value as? String).flatMap(Double.init)
            case "MpesaReceiptNumber": parsed.receiptNumber = Self.text(value).map { String($0.prefix(40)) }
            case "TransactionDate": parsed.transactionDate = Self.text(value)
            case "PhoneNumber": parsed.phoneNumber = Self.text(value)
            default: break
            }
        }
        return parsed
    }

    /// A number sent as a number or as a string (Daraja does both).
    static func int(_ value: Any?) -> Int? {
        if let number = value as? NSNumber { return number.intValue }
        if let text = value as? String { return Int(text) }
        return nil
    }

    static func text(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        if let number = value as? NSNumber { return number.int64Value == Int64(number.doubleValue) ? "\(number.int64Value)" : "\(number)" }
        return nil
    }
}
