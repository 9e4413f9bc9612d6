import Crypto
import Foundation

/// Seals secrets kept at rest (a provider's access token, an OAuth refresh token) with AES-256-GCM.
///
/// Keys come from configuration as `id:base64` pairs, comma-separated; the first seals, all of them open, so a key
/// is rotated by putting a new one first and re-sealing at leisure. The key id is stored beside each sealed value
/// (it is not secret) so that opening never has to try keys in turn.
public struct SecretBox: Sendable {
    public struct Key: Sendable {
        public let id: String
        let key: SymmetricKey
    }

    public struct Sealed: Sendable, Equatable {
        /// nonce ‖ ciphertext ‖ tag, as `AES.GCM.SealedBox.combined` lays them out.
        public var bytes: [UInt8]
        public var keyID: String

        public init(bytes: [UInt8], keyID: String) {
            self.bytes = bytes
            self.keyID = keyID
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case unknownKey(String)
        case tampered
        public var description: String {
            switch self {
            case .unknownKey(let id): "sealed with key \(id), which is not configured"
            case .tampered: "the sealed value does not open with its key"
            }
        }
    }

    let keys: [Key]

    public init(keys: [Key]) {
        precondition(!keys.isEmpty, "a secret box needs a key")
        self.keys = keys
    }

    /// Parses `id:base64,id2:base64`, each key 32 bytes; `key` names the setting in errors.
    public init(configuration text: String, key: String) throws {
        var keys: [Key] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let pieces = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard pieces.count == 2, pieces[0].range(of: "^[A-Za-z0-9_-]{1,32}$", options: .regularExpression) != nil,
                let data = Data(base64Encoded: pieces[1]), data.count == 32
            else {
                throw ConfigurationError(key: key, reason: "must be id:base64 pairs of 32-byte keys, comma-separated")
            }
            guard !keys.contains(where: { $0.id == pieces[0] }) else { throw ConfigurationError(key: key, reason: "names key \(pieces[0]) twice") }
            keys.append(Key(id: pieces[0], key: SymmetricKey(data: data)))
        }
        guard !keys.isEmpty else { throw ConfigurationError(key: key, reason: "is required but empty") }
        self.init(keys: keys)
    }

    /// The id of the key new values are sealed with.
    public var currentKeyID: String { self.keys[0].id }

    public func seal(_ plaintext: [UInt8]) throws -> Sealed {
        let key = self.keys[0]
        guard let combined = try AES.GCM.seal(plaintext, using: key.key, authenticating: Array(key.id.utf8)).combined else {
            throw Failure.tampered
        }
        return Sealed(bytes: Array(combined), keyID: key.id)
    }

    public func open(_ sealed: Sealed) throws -> [UInt8] {
        guard let key = self.keys.first(where: { $0.id == sealed.keyID }) else { throw Failure.unknownKey(sealed.keyID) }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.bytes)
            return Array(try AES.GCM.open(box, using: key.key, authenticating: Array(key.id.utf8)))
        } catch {
            throw Failure.tampered
        }
    }

    /// A value as JSON, sealed.
    public func seal(json value: some Encodable) throws -> Sealed {
        try self.seal(Array(try JSONEncoder.sokoni.encode(value)))
    }

    public func open<Value: Decodable>(_ sealed: Sealed, as type: Value.Type) throws -> Value {
        try JSONDecoder.sokoni.decode(Value.self, from: Data(try self.open(sealed)))
    }

    /// A key configuration (`id:base64`) derived from the service key when a service's own keys are not set:
    /// HKDF-SHA256 of a secret every instance of the service already holds, separated by `purpose`.
    public static func derivedConfiguration(serviceKey: String, purpose: String) -> String {
        "svc-derived:" + Self.derivedKey(serviceKey: serviceKey, purpose: purpose).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// A 32-byte key for `purpose` (a box, an HMAC) derived from the service key.
    public static func derivedKey(serviceKey: String, purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(serviceKey.utf8)), info: Data(purpose.utf8), outputByteCount: 32)
    }
}
