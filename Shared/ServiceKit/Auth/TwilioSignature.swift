import Crypto
import Foundation

/// Twilio signs the URL it called followed by every POST parameter, name then value, sorted by name:
/// `X-Twilio-Signature: base64(HMAC-SHA1(auth token, url + k1 + v1 + k2 + v2 …))`. The URL must be the public one
/// Twilio was configured with (scheme, host, port, path and query exactly), not the one a proxy forwarded to. Messaging
/// (SMS webhooks) and agent-core (voice status callbacks) check it.
public enum TwilioSignature {
    /// The `X-Twilio-Signature` value Twilio sends for a request to `url` with the form `params`.
    public static func sign(url: String, params: [String: String], authToken: String) -> String {
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

    /// Whether `header` (the `X-Twilio-Signature` value) signs `url` and the form `params` under `authToken`.
    public static func isValid(url: String, params: [String: String], header: String?, authToken: String) -> Bool {
        guard let header, !authToken.isEmpty else { return false }
        let received = Array(header.trimmingCharacters(in: .whitespaces).utf8)
        return ConstantTime.equal(received, Array(Self.sign(url: url, params: params, authToken: authToken).utf8))
    }
}

public enum ConstantTime {
    /// Equal lengths and equal bytes, reading every byte whatever the first difference. Only the length may show in
    /// the time taken, and the lengths compared with it (a signature's, a secret's) are not secret.
    public static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }
}
