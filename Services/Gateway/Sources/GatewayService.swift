import Hummingbird
import ServiceKit

/// The gateway: the only door for frontends and outside callers. It owns the `identity` schema and issues the
/// Ed25519-signed access tokens every service verifies; `GET /.well-known/jwks.json` publishes their public keys
/// (every configured key, so tokens signed before a rotation stay valid until they expire) and the service key.
public struct GatewayService: ServiceModule {
    public static let name = ServiceName.gateway
    public static let fetchesJWKS = false
    let environment: ServiceEnvironment
    public let issuer: TokenIssuer

    /// `jwt.signingKeys` (`JWT_SIGNING_KEYS`): `kid:seed,kid:seed`; the first signs.
    public static func signingKeys(settings: ServiceSettings) throws -> [SigningKey] {
        try SigningKey.parseList(try settings.settings.required("jwt.signingKeys", secret: true), key: "jwt.signingKeys")
    }

    public static func verificationKeys(settings: ServiceSettings) throws -> [PublicJWK] {
        try self.signingKeys(settings: settings).map(\.publicJWK)
    }

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        self.issuer = await TokenIssuer(
            keys: try Self.signingKeys(settings: environment.settings), audience: environment.settings.audience,
            issuer: environment.settings.issuer)
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        let document = JWKSDocument(keys: self.issuer.publicKeys + [self.environment.serviceTokens.publicKey])
        router.get(".well-known/jwks.json") { _, _ in
            JSONResponse(.ok, document, headers: [.cacheControl: "public, max-age=300"])
        }
    }
}
