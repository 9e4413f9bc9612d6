import Crypto
import Foundation
import JWTKit

/// An Ed25519 key identified by `kid`, built from a 32-byte seed written in base64url.
public struct SigningKey: Sendable {
    public let kid: String
    public let privateKey: Curve25519.Signing.PrivateKey

    public init(kid: String, seed: String) throws {
        guard let data = Base64URL.decode(seed), data.count == 32,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: data)
        else {
            throw ConfigurationError(key: "jwt", reason: "key \(kid) is not a base64url 32-byte Ed25519 seed")
        }
        self.kid = kid
        self.privateKey = key
    }

    public init(kid: String, privateKey: Curve25519.Signing.PrivateKey = .init()) {
        self.kid = kid
        self.privateKey = privateKey
    }

    /// A fresh seed in base64url, for configuration.
    public static func generateSeed() -> String {
        Base64URL.encode(Curve25519.Signing.PrivateKey().rawRepresentation)
    }

    public var seed: String { Base64URL.encode(self.privateKey.rawRepresentation) }

    public var publicJWK: PublicJWK {
        PublicJWK(kid: self.kid, x: Base64URL.encode(self.privateKey.publicKey.rawRepresentation))
    }

    /// `kid:seed,kid:seed` (as in `JWT_SIGNING_KEYS`).
    public static func parseList(_ text: String, key: String) throws -> [SigningKey] {
        let keys = try text.split(separator: ",").map { entry -> SigningKey in
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ConfigurationError(key: key, reason: "must be a comma list of kid:base64url-seed")
            }
            return try SigningKey(kid: parts[0], seed: parts[1])
        }
        guard !keys.isEmpty else { throw ConfigurationError(key: key, reason: "must name at least one key") }
        return keys
    }
}

/// One Ed25519 public key as a JWK (`kty` OKP).
public struct PublicJWK: Codable, Sendable, Equatable {
    public var kty: String = "OKP"
    public var crv: String = "Ed25519"
    public var alg: String = "EdDSA"
    public var use: String = "sig"
    public var kid: String
    public var x: String

    public init(kid: String, x: String) {
        self.kid = kid
        self.x = x
    }

    /// `kid:x,kid:x` (as in `JWT_PUBLIC_KEYS`).
    public static func parseList(_ text: String, key: String) throws -> [PublicJWK] {
        try text.split(separator: ",").map { entry in
            let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, Base64URL.decode(parts[1])?.count == 32 else {
                throw ConfigurationError(key: key, reason: "must be a comma list of kid:base64url-public-key")
            }
            return PublicJWK(kid: parts[0], x: parts[1])
        }
    }
}

/// `GET /.well-known/jwks.json`.
public struct JWKSDocument: Codable, Sendable, Equatable {
    public var keys: [PublicJWK]

    public init(keys: [PublicJWK]) {
        self.keys = keys
    }
}

public enum Base64URL {
    public static func encode(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A random URL-safe secret (a feed token, an OAuth state).
    public static func random(bytes count: Int = 32) -> String {
        Self.encode((0..<count).map { _ in UInt8.random(in: 0...255) })
    }

    public static func decode(_ text: some StringProtocol) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
