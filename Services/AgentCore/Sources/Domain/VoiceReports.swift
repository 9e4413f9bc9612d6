import Crypto
import Foundation
import Models
import ServiceKit

/// A voice provider's end-of-call report, read from Vapi's server-URL message (`{"message": {"type":
/// "end-of-call-report", "call": …, "artifact": {"messages": …}, "analysis": …}}`), and the check of its HMAC
/// signature (Vapi's HMAC credential: `x-signature` = hex HMAC-SHA256 of `<x-timestamp>.<raw body>`).
enum VoiceReport {
    struct Line: Sendable, Equatable {
        var speaker: String
        var text: String
        var offsetMs: Int
        var confidence: Double?
    }

    struct Call: Sendable, Equatable {
        var providerCallID: String
        var direction: String
        var platform: String
        var status: String
        var customerNumber: String?
        var startedAt: Date?
        var endedAt: Date?
        var durationSeconds: Int?
        var recordingURL: String?
        var summary: String?
        var sentiment: String?
        var costMicros: Int64?
        var endedReason: String?
        var lines: [Line]
    }

    /// Reports older or newer than this are refused (a replayed capture).
    static let tolerance: TimeInterval = 300

    static func verify(body: [UInt8], signature: String?, timestamp: String?, secret: String, now: Date = Date()) -> Bool {
        guard let signature, let timestamp, let sent = Double(timestamp) else { return false }
        // Vapi's timestamps are milliseconds; seconds are taken too
        let seconds = sent > 10_000_000_000 ? sent / 1000 : sent
        guard abs(now.timeIntervalSince1970 - seconds) <= Self.tolerance else { return false }
        let given = signature.hasPrefix("sha256=") ? String(signature.dropFirst(7)) : signature
        var signed = Array(timestamp.utf8)
        signed.append(UInt8(ascii: "."))
        signed += body
        let expected = Array(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))).hex
        return given.count == expected.count && zip(given.utf8, expected.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func signature(body: [UInt8], timestamp: String, secret: String) -> String {
        var signed = Array(timestamp.utf8)
        signed.append(UInt8(ascii: "."))
        signed += body
        return Array(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))).hex
    }

    /// The call a report describes; nil for another message type (status updates, transcripts as they come).
    /// Only what the report says is kept: no sentiment or confidence is invented when it has none.
    static func parse(_ data: Data) throws -> Call? {
        guard case .object(let root) = try? JSONDecoder().decode(JSONValue.self, from: data), case .object(let message)? = root["message"] else {
            throw APIError.badRequest("invalid_report", "The body is not a voice provider's message.")
        }
        guard message["type"] == .string("end-of-call-report") else { return nil }
        func string(_ value: JSONValue?) -> String? { if case .string(let text)? = value, !text.isEmpty { text } else { nil } }
        func number(_ value: JSONValue?) -> Double? { if case .number(let number)? = value, number.isFinite { number } else { nil } }
        func date(_ value: JSONValue?) -> Date? { string(value).flatMap(ISO8601.parse) }
        let call = message["call"]
        guard let id = string(call?["id"]), id.count <= 200 else { throw APIError.unprocessable("invalid_report", "The report names no call id.") }
        let type = string(call?["type"]) ?? ""
        let reason = string(message["endedReason"])
        let status: String
        switch reason ?? "" {
        case "customer-did-not-answer", "voicemail": status = "no-answer"
        case "customer-busy": status = "busy"
        case let other where other.contains("error") || other.contains("failed"): status = "failed"
        default: status = "completed"
        }
        let started = date(message["startedAt"]) ?? date(call?["startedAt"])
        let ended = date(message["endedAt"]) ?? date(call?["endedAt"])
        let customer = string(call?["customer"]?["number"]).flatMap { text in text.hasPrefix("+") ? (try? PhoneNumber(parsing: text))?.e164 : nil }
        var lines: [Line] = []
        if case .array(let messages)? = message["artifact"]?["messages"] ?? message["messages"] {
            for item in messages {
                let speaker: String
                switch string(item["role"]) {
                case "bot", "assistant": speaker = "agent"
                case "user": speaker = "customer"
                case "system": speaker = "system"
                default: continue
                }
                guard let text = string(item["message"]) else { continue }
                let offset = number(item["secondsFromStart"]).map { Int(($0 * 1000).rounded()) } ?? 0
                let confidence = number(item["confidence"]).flatMap { (0...1).contains($0) ? $0 : nil }
                lines.append(Line(speaker: speaker, text: String(text.prefix(8000)), offsetMs: max(0, offset), confidence: confidence))
                if lines.count == 2000 { break }
            }
        }
        let sentiment = string(message["analysis"]?["structuredData"]?["sentiment"]).flatMap { ["positive", "neutral", "negative"].contains($0) ? $0 : nil }
        var duration = number(message["durationSeconds"]).map { Int($0.rounded()) }
        if duration == nil, let started, let ended { duration = Int(ended.timeIntervalSince(started).rounded()) }
        let recording = string(message["artifact"]?["recordingUrl"]) ?? string(message["recordingUrl"])
        let summary = string(message["analysis"]?["summary"]) ?? string(message["summary"])
        let platform: String
        if type == "webCall" || type.lowercased().contains("websocket") {
            platform = "web"
        } else if type.lowercased().contains("sip") {
            platform = "sip"
        } else {
            platform = "pstn"
        }
        var endedAt = ended
        if let started, let end = ended, end < started { endedAt = started }
        var cost: Int64? = nil
        if let spent = number(message["cost"]), spent >= 0, spent < 1_000_000 { cost = Int64((spent * 1_000_000).rounded()) }
        return Call(
            providerCallID: id, direction: type.hasPrefix("outbound") ? "outbound" : "inbound", platform: platform, status: status,
            customerNumber: customer, startedAt: started, endedAt: endedAt, durationSeconds: duration.map { max(0, $0) },
            recordingURL: recording.flatMap { $0.count <= 2048 && $0.hasPrefix("https://") ? $0 : nil }, summary: summary.map { String($0.prefix(4000)) },
            sentiment: sentiment, costMicros: cost, endedReason: reason.map { String($0.prefix(200)) }, lines: lines)
    }
}
