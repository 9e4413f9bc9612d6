import Crypto
import Foundation

extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte.
    /// (From a table, not `String(format:)`: a fingerprint is hashed on every posting, and formatting each byte
    /// through Foundation cost more than the hash.)
    public var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(self.underestimatedCount * 2)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Hex SHA-256: migration checksums, request fingerprints, stored token hashes.
public func sha256Hex(_ data: some DataProtocol) -> String {
    SHA256.hash(data: data).hex
}
