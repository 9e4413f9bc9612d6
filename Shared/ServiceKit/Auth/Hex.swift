import Crypto
import Foundation

extension Sequence where Element == UInt8 {
    /// Lower-case hex, two digits a byte.
    public var hex: String { self.map { String(format: "%02x", $0) }.joined() }
}

/// Hex SHA-256: migration checksums, request fingerprints, stored token hashes.
public func sha256Hex(_ data: some DataProtocol) -> String {
    SHA256.hash(data: data).hex
}
