// Domain: checks that a webhook comes from the provider, no I/O (docs/CONTRIBUTING.md).
//
// - Meta (WhatsApp Cloud API) signs the raw body: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`.
//   Check it over the bytes exactly as received, before any JSON decoding: a re-serialised body does not match.
// - Twilio signs the URL and the sorted form (ServiceKit's `TwilioSignature`).
// - Telegram echoes the `secret_token` given to `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`.
// Every comparison takes the same time whatever the position of the first differing byte.
import Crypto
import Foundation
import ServiceKit

enum WebhookSignatures {
    /// Whether `header` (the `X-Hub-Signature-256` value) is the signature of `body` under `appSecret`.
    static func metaValid(body: [UInt8], header: String?, appSecret: String) -> Bool {
        guard let header, !appSecret.isEmpty else { return false }
        let received = header.trimmingCharacters(in: .whitespaces).lowercased()
        return constantTimeEqual(Array(received.utf8), Array(metaSignature(body: body, appSecret: appSecret).utf8))
    }

    /// The `X-Hub-Signature-256` value Meta sends for `body`: "sha256=" and the lower-case hex HMAC-SHA256.
    static func metaSignature(body: [UInt8], appSecret: String) -> String {
        let key = SymmetricKey(data: Data(appSecret.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: key)
        return "sha256=" + Array(mac).hex
    }

    /// Twilio's: ServiceKit's `TwilioSignature` (agent-core's voice callbacks check it too).
    static func twilioValid(url: String, params: [String: String], header: String?, authToken: String) -> Bool {
        TwilioSignature.isValid(url: url, params: params, header: header, authToken: authToken)
    }

    static func twilioSignature(url: String, params: [String: String], authToken: String) -> String {
        TwilioSignature.sign(url: url, params: params, authToken: authToken)
    }

    /// Whether `header` (the `X-Telegram-Bot-Api-Secret-Token` value) is the webhook's secret token.
    static func telegramValid(header: String?, secretToken: String) -> Bool {
        guard let header, !secretToken.isEmpty else { return false }
        return constantTimeEqual(Array(header.utf8), Array(secretToken.utf8))
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        ConstantTime.equal(lhs, rhs)
    }
}
