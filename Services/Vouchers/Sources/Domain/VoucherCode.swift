import Crypto
import Foundation
import ServiceKit

/// Voucher codes: 5 characters from an alphabet without look-alikes (no 0/O, 1/I/L), drawn from the system's
/// cryptographically secure generator with unbiased sampling. 31⁵ ≈ 28.6 million codes.
public enum VoucherCode {
    public static let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    public static let length = 5
    public static let capacity = Int(pow(Double(alphabet.count), Double(length)))

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<self.length).map { _ in self.alphabet[Int.random(in: 0..<self.alphabet.count, using: &generator)] })
    }

    /// Upper-cases and drops spaces and dashes a cashier might type; nil when it cannot be a code.
    public static func normalize(_ text: String) -> String? {
        let cleaned = text.uppercased().filter { $0 != " " && $0 != "-" }
        guard cleaned.count == self.length, cleaned.allSatisfy({ self.alphabet.contains($0) }) else { return nil }
        return cleaned
    }
}

/// What a voucher's QR code says: `SKV1:<code>:<signature>`, the signature an HMAC-SHA256 of the code under the
/// configured secret, so a scanned QR is checked before anything else is looked at.
public struct QRPayload: Sendable {
    let key: SymmetricKey
    static let prefix = "SKV1"

    public init(secret: String) {
        self.key = SymmetricKey(data: Data(("voucher-qr:" + secret).utf8))
    }

    public func payload(code: String) -> String {
        "\(Self.prefix):\(code):\(self.signature(code))"
    }

    func signature(_ code: String) -> String {
        Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data("\(Self.prefix):\(code)".utf8), using: self.key)))
    }

    /// The code inside a genuine payload, or nil.
    public func verify(_ payload: String) -> String? {
        let parts = payload.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.prefix, let code = VoucherCode.normalize(String(parts[1])),
            let given = Base64URL.decode(parts[2]),
            HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data("\(Self.prefix):\(code)".utf8), using: self.key)
        else { return nil }
        return code
    }
}
