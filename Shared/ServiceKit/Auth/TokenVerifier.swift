import AsyncHTTPClient
import Foundation
import JWTKit
import Logging
import Models
import NIOConcurrencyHelpers
import NIOCore

/// Verifies access tokens: Ed25519 signature, expiry, not-before, audience and issuer. Public keys come from
/// configuration and from the gateway's JWKS, fetched again (at most every few seconds) when a token names a
/// key id not yet known, so key rotation needs no restart.
public final class TokenVerifier: Sendable {
    let keys = JWTKeyCollection()
    let audience: String
    let issuer: String
    let jwksURL: URL?
    let httpClient: HTTPClient?
    let logger: Logger
    let state = NIOLockedValueBox<(known: Set<String>, lastFetch: ContinuousClock.Instant?)>(([], nil))
    let minimumRefetchInterval: Duration
    /// Tokens already verified, until they expire: a hit skips the signature check (the hot path of every request).
    let verified = NIOLockedValueBox<[String: AccessClaims]>([:])
    static let cacheLimit = 50_000

    public init(
        audience: String, issuer: String, staticKeys: [PublicJWK], jwksURL: URL?, httpClient: HTTPClient?, logger: Logger,
        minimumRefetchInterval: Duration = .seconds(5)
    ) async throws {
        self.audience = audience
        self.issuer = issuer
        self.jwksURL = jwksURL
        self.httpClient = httpClient
        self.logger = logger
        self.minimumRefetchInterval = minimumRefetchInterval
        try await self.add(staticKeys)
    }

    public func add(_ jwks: [PublicJWK]) async throws {
        for jwk in jwks where jwk.kty == "OKP" && jwk.crv == "Ed25519" {
            guard !self.state.withLockedValue({ $0.known.contains(jwk.kid) }) else { continue }
            let key = try EdDSA.PublicKey(x: jwk.x, curve: .ed25519)
            await self.keys.add(eddsa: key, kid: JWKIdentifier(string: jwk.kid))
            self.state.withLockedValue { _ = $0.known.insert(jwk.kid) }
        }
    }

    /// Verified claims, or a 401 `invalid_token` saying what was wrong.
    public func verify(_ token: String) async throws -> AccessClaims {
        if let cached = self.verified.withLockedValue({ $0[token] }) {
            let now = Date()
            if cached.exp.value > now && (cached.nbf?.value ?? now) <= now { return cached }
            self.verified.withLockedValue { _ = $0.removeValue(forKey: token) }
        }
        let claims = try await self.verifyUncached(token)
        self.verified.withLockedValue { cache in
            if cache.count >= Self.cacheLimit {
                let now = Date()
                cache = cache.filter { $0.value.exp.value > now }
                if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            }
            cache[token] = claims
        }
        return claims
    }

    func verifyUncached(_ token: String) async throws -> AccessClaims {
        guard let kid = Self.keyID(of: token) else {
            throw APIError.unauthorized("invalid_token", "The bearer token is malformed.")
        }
        if !self.state.withLockedValue({ $0.known.contains(kid) }) {
            await self.refreshKeys()
        }
        guard self.state.withLockedValue({ $0.known.contains(kid) }) else {
            throw APIError.unauthorized("invalid_token", "The token was signed by an unknown key.")
        }
        let claims: AccessClaims
        do {
            claims = try await self.keys.verify(token, as: AccessClaims.self)
        } catch let error as JWTError {
            throw APIError.unauthorized("invalid_token", Self.describe(error))
        } catch {
            throw APIError.unauthorized("invalid_token", "The bearer token is malformed.")
        }
        guard claims.aud.value.contains(self.audience) else {
            throw APIError.unauthorized("invalid_token", "The token is not meant for this audience.")
        }
        guard claims.iss.value == self.issuer else {
            throw APIError.unauthorized("invalid_token", "The token was issued by an unknown issuer.")
        }
        // the shared service key may only ever speak for a service
        if kid == ServiceTokens.kid && claims.roles != [.service] {
            throw APIError.unauthorized("invalid_token", "A service token may only carry the service role.")
        }
        return claims
    }

    static func describe(_ error: JWTError) -> String {
        switch error.errorType {
        case .claimVerificationFailure:
            if error.failedClaim is ExpirationClaim { return "The token has expired." }
            if error.failedClaim is NotBeforeClaim { return "The token is not valid yet." }
            return "A token claim failed verification."
        case .signatureVerificationFailed: return "The token signature is invalid."
        default: return "The bearer token is malformed."
        }
    }

    /// The `kid` from the token header, read without trusting it.
    static func keyID(of token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Base64URL.decode(parts[0]),
            let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any],
            let kid = object["kid"] as? String
        else { return nil }
        return kid
    }

    /// Fetches the JWKS, unless it was fetched moments ago (so a flood of bad kids cannot hammer the gateway).
    public func refreshKeys() async {
        guard let url = self.jwksURL, let client = self.httpClient else { return }
        let proceed = self.state.withLockedValue { state -> Bool in
            if let last = state.lastFetch, ContinuousClock.now - last < self.minimumRefetchInterval { return false }
            state.lastFetch = .now
            return true
        }
        guard proceed else { return }
        do {
            let response = try await client.execute(HTTPClientRequest(url: url.absoluteString), timeout: .seconds(5))
            guard response.status == .ok else {
                self.logger.warning("JWKS fetch failed", metadata: ["status": "\(response.status.code)"])
                return
            }
            let body = try await response.body.collect(upTo: 1 << 20)
            let document = try JSONDecoder.sokoni.decode(JWKSDocument.self, from: Data(buffer: body))
            try await self.add(document.keys)
        } catch {
            self.logger.warning("JWKS fetch failed", metadata: ["error": "\(error)"])
        }
    }
}
