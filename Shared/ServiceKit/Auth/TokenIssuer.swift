import Foundation
import JWTKit
import Models
import NIOConcurrencyHelpers

/// Signs access tokens with Ed25519. The gateway holds the user-token keys; every service holds the
/// shared service key, whose tokens may only carry the `service` role.
public final class TokenIssuer: Sendable {
    public let audience: String
    public let issuer: String
    let keys: JWTKeyCollection
    public let activeKid: String
    public let publicKeys: [PublicJWK]

    /// The first key signs; the others stay published so tokens they signed verify until they expire.
    public init(keys signingKeys: [SigningKey], audience: String, issuer: String) async {
        precondition(!signingKeys.isEmpty)
        let collection = JWTKeyCollection()
        for key in signingKeys {
            await collection.add(eddsa: EdDSA.PrivateKey(backing: key.privateKey), kid: JWKIdentifier(string: key.kid))
        }
        self.keys = collection
        self.activeKid = signingKeys[0].kid
        self.publicKeys = signingKeys.map(\.publicJWK)
        self.audience = audience
        self.issuer = issuer
    }

    public func sign(_ claims: AccessClaims) async throws -> String {
        try await self.keys.sign(claims, kid: JWKIdentifier(string: self.activeKid))
    }

    /// Issues an access token for a subject.
    public func issue(
        subject: String, tenantID: TenantID?, roles: [Role], stationID: StationID? = nil, lifetime: Duration = .seconds(900),
        notBefore: Date? = nil, now: Date = Date()
    ) async throws -> String {
        let seconds = Double(lifetime.components.seconds)
        let claims = AccessClaims(
            subject: subject, tenantID: tenantID?.description, roles: roles, stationID: stationID?.description,
            audience: self.audience, issuer: self.issuer, issuedAt: now, expiresAt: now.addingTimeInterval(seconds),
            notBefore: notBefore)
        return try await self.sign(claims)
    }
}

/// Mints and caches the tokens a service presents when it calls another service on its own behalf
/// (background jobs): role `service`, subject `service:<name>`, optionally acting in one tenant.
public final class ServiceTokens: Sendable {
    public static let kid = "service"
    let issuer: TokenIssuer
    let service: ServiceName
    let cache = NIOLockedValueBox<[String: (token: String, expires: ContinuousClock.Instant)]>([:])

    public init(service: ServiceName, seed: String, audience: String, issuer: String) async throws {
        self.service = service
        self.issuer = await TokenIssuer(keys: [try SigningKey(kid: Self.kid, seed: seed)], audience: audience, issuer: issuer)
    }

    public var publicKey: PublicJWK { self.issuer.publicKeys[0] }

    public func token(tenant: TenantID?) async throws -> String {
        let cacheKey = tenant?.description ?? "-"
        if let cached = self.cache.withLockedValue({ $0[cacheKey] }), cached.expires > .now {
            return cached.token
        }
        let token = try await self.issuer.issue(
            subject: "service:\(self.service.rawValue)", tenantID: tenant, roles: [.service], lifetime: .seconds(300))
        // renew a minute early so a token never expires in flight
        self.cache.withLockedValue { $0[cacheKey] = (token, .now + .seconds(240)) }
        return token
    }
}
