import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceKit

/// Places calls through Twilio's REST API: `POST {base}/2010-04-01/Accounts/{AccountSid}/Calls.json`, Basic auth with
/// the account SID and auth token, a form of `To`, `From`, `Twiml` and the status callback; Twilio answers 201 with
/// the call's `sid`, or an error body `{code, message, status}`.
struct TwilioVoice: Sendable {
    let http: HTTPClient
    let baseURL: String

    enum Outcome: Sendable, Equatable {
        case placed(sid: String)
        /// Twilio refused or could not be reached: why, in words the call keeps.
        case refused(String)
    }

    struct Answer: Decodable {
        var sid: String?
        var code: Int?
        var message: String?
    }

    func place(account: CallsStore.TwilioAccount, to: String, twiml: String, statusCallback: String, logger: Logger) async -> Outcome {
        var request = HTTPClientRequest(url: "\(self.baseURL)/2010-04-01/Accounts/\(account.accountSid)/Calls.json")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(account.accountSid):\(account.authToken)".utf8).base64EncodedString())
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(
            ByteBuffer(
                string: FormEncoding.encode([
                    ("To", to), ("From", account.from), ("Twiml", twiml), ("StatusCallback", statusCallback), ("StatusCallbackMethod", "POST"),
                    ("StatusCallbackEvent", "initiated"), ("StatusCallbackEvent", "ringing"), ("StatusCallbackEvent", "answered"),
                    ("StatusCallbackEvent", "completed"),
                ])))
        do {
            let response = try await self.http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            let answer = try? JSONDecoder().decode(Answer.self, from: Data(buffer: body))
            if (200..<300).contains(Int(response.status.code)), let sid = answer?.sid { return .placed(sid: sid) }
            let reason = answer?.message.map { "Twilio refused the call (\(answer?.code.map(String.init) ?? "\(response.status.code)")): \($0)" }
            return .refused(reason ?? "Twilio answered HTTP \(response.status.code).")
        } catch {
            logger.warning("twilio call failed", metadata: ["error": "\(error)"])
            return .refused("Twilio could not be reached.")
        }
    }
}
