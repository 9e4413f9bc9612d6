// Domain: checks that a webhook comes from the provider, no I/O (docs/CONTRIBUTING.md).
//
// - Meta (WhatsApp Cloud API) signs the raw body: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`.
//   Check it over the bytes exactly as received, before any JSON decoding: a re-serialised body does not match.
// - Twilio signs the URL it called followed by every POST parameter, name then value, sorted by name:
//   `X-Twilio-Signature: base64(HMAC-SHA1(auth token, url + k1 + v1 + k2 + v2 …))`. The URL must be the public one
//   Twilio was configured with (scheme, host, port, path and query exactly), not the one a proxy forwarded to.
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

    /// Whether `header` (the `X-Twilio-Signature` value) signs `url` and the form `params` under `authToken`.
    static func twilioValid(url: String, params: [String: String], header: String?, authToken: String) -> Bool {
        guard let header, !authToken.isEmpty else { return false }
        let received = Array(header.trimmingCharacters(in: .whitespaces).utf8)
        return constantTimeEqual(received, Array(twilioSignature(url: url, params: params, authToken: authToken).utf8))
    }

    /// The `X-Twilio-Signature` value Twilio sends for a request to `url` with the form `params`.
    static func twilioSignature(url: String, params: [String: String], authToken: String) -> String {
        var signed = Array(url.utf8)
        // Twilio sorts by the parameter names' bytes (case-sensitive, "Body" before "body").
        for (name, value) in params.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            signed.append(contentsOf: name.utf8)
            signed.append(contentsOf: value.utf8)
        }
        let key = SymmetricKey(data: Data(authToken.utf8))
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: signed, using: key)
        return Data(mac).base64EncodedString()
    }

    /// Whether `header` (the `X-Telegram-Bot-Api-Secret-Token` value) is the webhook's secret token.
    static func telegramValid(header: String?, secretToken: String) -> Bool {
        guard let header, !secretToken.isEmpty else { return false }
        return constantTimeEqual(Array(header.utf8), Array(secretToken.utf8))
    }

    /// Equal lengths and equal bytes, reading every byte whatever the first difference. Only the length may show in
    /// the time taken, and the lengths compared here (a signature's, a secret's) are not secret.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }
}
