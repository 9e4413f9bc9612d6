import Foundation
import Models

/// Twilio's Programmable Voice, as its documentation describes it: a call is placed with `POST
/// /2010-04-01/Accounts/{AccountSid}/Calls.json` (form: `To`, `From`, `Twiml`, `StatusCallback`,
/// `StatusCallbackEvent`, `StatusCallbackMethod`), and its progress comes back as signed form posts
/// (`X-Twilio-Signature`) with `CallSid`, `CallStatus`, `CallDuration`, `Direction`, `From`, `To`, `Timestamp`.
enum TwilioCalls {
    /// A call's statuses in the order they happen; the ends are all last (a callback never moves a call back).
    static let rank: [String: Int] = [
        "queued": 0, "ringing": 1, "in-progress": 2, "completed": 3, "failed": 3, "no-answer": 3, "busy": 3, "canceled": 3,
    ]

    static func isEnd(_ status: String) -> Bool { (rank[status] ?? 0) >= 3 }

    /// Twilio's `CallStatus` as the platform's (`initiated` is still queued).
    static func status(_ twilio: String) -> String? {
        switch twilio {
        case "queued", "initiated": "queued"
        case "ringing", "in-progress", "completed", "failed", "no-answer", "busy", "canceled": twilio
        default: nil
        }
    }

    /// The call's instructions: say the purpose (escaped as XML text), then hang up.
    static func twiml(purpose: String?, language: String?) -> String {
        let text = (purpose?.isEmpty == false ? purpose! : "Hello, this is a call from our team. We will call you again shortly.")
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
        let voiceLanguage = ["fr": "fr-FR", "sw": "sw-KE", "en": "en-GB"][language ?? ""] ?? "en-GB"
        return #"<Response><Say language="\#(voiceLanguage)">\#(escaped)</Say></Response>"#
    }

    /// One status callback, read from its form; nil when it names no call or no status the platform knows.
    struct Callback: Sendable, Equatable {
        var callSid: String
        var status: String
        var durationSeconds: Int?
        var direction: String
        var customerNumber: String?
        var recordingURL: String?

        init?(form: [String: String]) {
            guard let sid = form["CallSid"], sid.hasPrefix("CA"), sid.count <= 64, let status = form["CallStatus"].flatMap(TwilioCalls.status) else {
                return nil
            }
            self.callSid = sid
            self.status = status
            self.durationSeconds = form["CallDuration"].flatMap { Int($0) }.flatMap { (0...86_400).contains($0) ? $0 : nil }
            // outbound-api and outbound-dial are the platform's calls; inbound the customer's
            self.direction = form["Direction"] == "inbound" ? "inbound" : "outbound"
            let customer = self.direction == "inbound" ? form["From"] : form["To"]
            self.customerNumber = customer.flatMap { try? PhoneNumber(parsing: $0) }?.e164
            self.recordingURL = form["RecordingUrl"].flatMap { $0.hasPrefix("https://") && $0.count <= 2048 ? $0 : nil }
        }
    }
}
