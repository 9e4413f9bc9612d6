import AsyncHTTPClient
import Contracts
import Foundation
import Hummingbird
import Logging
import Models
import PostgresNIO
import ServiceKit
import ServiceLifecycle

/// The gateway: the only door for frontends and outside callers. It owns the `identity` schema (tenants, users,
/// roles, API keys, refresh tokens), issues the Ed25519-signed access tokens every service verifies, publishes
/// their public keys at `GET /.well-known/jwks.json` (every configured key, so tokens signed before a rotation stay
/// valid until they expire), and forwards everything else to the service that owns it (`RouteTable`).
///
/// Its own settings, besides ServiceKit's:
/// - `jwt.signingKeys` [`JWT_SIGNING_KEYS`], required: `kid:seed,kid:seed`; the first signs.
/// - `auth.accessTokenSeconds` [`AUTH_ACCESS_TOKEN_SECONDS`] 600; `auth.refreshTokenDays` [`AUTH_REFRESH_TOKEN_DAYS`] 30.
/// - `auth.bcryptCost` [`AUTH_BCRYPT_COST`] 12.
/// - `auth.maxFailuresPerAccount` [`AUTH_MAX_FAILURES_PER_ACCOUNT`] 5, `auth.maxFailuresPerAddress` 20,
///   `auth.lockoutSeconds` [`AUTH_LOCKOUT_SECONDS`] 300.
/// - `gateway.upstreamTimeoutMs` [`GATEWAY_UPSTREAM_TIMEOUT_MS`] 30000.
/// - `gateway.corsOrigins` [`GATEWAY_CORS_ORIGINS`]: comma list of allowed origins (`*` for any).
/// - `rateLimit.enabled` [`RATE_LIMIT_ENABLED`] true; `rateLimit.scalePercent` [`RATE_LIMIT_SCALE_PERCENT`] 100;
///   `rateLimit.shareIntervalMs` [`RATE_LIMIT_SHARE_INTERVAL_MS`] 200: how often replicas share what they let through
///   (through `identity.rate_usage`; 0: each replica limits alone).
/// - `auth.secureCookie` [`AUTH_SECURE_COOKIE`] true: the web apps' refresh cookie is HTTPS-only (off for plain-HTTP
///   development on loopback).
/// - `gateway.webDirectory` [`GATEWAY_WEB_DIRECTORY`], default the `Web` folder above the working directory: the web
///   apps; `gateway.webReload` [`GATEWAY_WEB_RELOAD`] false: read them again on every request (development).
/// - `gateway.trustedProxies` [`GATEWAY_TRUSTED_PROXIES`]: comma list of the load balancers' addresses whose
///   `X-Forwarded-For` names the client (login throttling and rate limits key on it); from anyone else it is ignored.
public struct GatewayService: ServiceModule {
    public static let name = ServiceName.gateway
    public static let fetchesJWKS = false
    /// bcrypt at its lowest cost: a test logs in many times.
    public static let testSettings = ["AUTH_BCRYPT_COST": "4", "AUTH_SECURE_COOKIE": "false"]
    /// What the gateway forwards streams through; the bodies of its own routes are read (and limited) first.
    public static func streamsRequestBody(_ request: Request) -> Bool { RouteTable.match(request.uri.path) != nil }
    /// What it forwards to an endpoint declared with a larger body allowance (an upload) may be that large.
    public static func bodyAllowance(_ request: Request) -> Int? {
        Endpoint.bodyAllowance(in: Self.uploads, method: request.method.rawValue, path: request.uri.path)
    }
    static let uploads = RouteTable.declared.filter { $0.maxBodySize != nil }
    /// The gateway serves the platform's merged document at `/openapi.json` itself (`APIDocsController`).
    public static var openAPIDocument: Data? { nil }
    /// The gateway's own part of it.
    public static var ownOpenAPIDocument: Data? {
        Bundle.module.url(forResource: "openapi", withExtension: "json").flatMap { try? Data(contentsOf: $0) }
    }
    let environment: ServiceEnvironment
    public let issuer: TokenIssuer
    let store: IdentityStore
    let tenantDirectory: Tenants
    let auth: AuthController
    let admin: AdminController
    let proxy: Proxy
    let sockets: SocketRelay
    let web: WebController
    let proxyClient: HTTPClient
    /// Shares the rate limits with the other replicas (nil when off).
    let rateLimitSharing: RateLimitSharing?
    let corsOrigins: Set<String>
    let trustedProxies: Set<String>
    /// The gateway reads tenants from its own table.
    public var tenants: Tenants? { self.tenantDirectory }

    public static func signingKeys(settings: ServiceSettings) throws -> [SigningKey] {
        try SigningKey.parseList(try settings.settings.required("jwt.signingKeys", secret: true), key: "jwt.signingKeys")
    }

    public static func verificationKeys(settings: ServiceSettings) throws -> [PublicJWK] {
        try self.signingKeys(settings: settings).map(\.publicJWK)
    }

    public init(environment: ServiceEnvironment) async throws {
        self.environment = environment
        let settings = environment.settings.settings
        self.issuer = await TokenIssuer(
            keys: try Self.signingKeys(settings: environment.settings), audience: environment.settings.audience,
            issuer: environment.settings.issuer)
        let store = IdentityStore(postgres: environment.postgres, audit: environment.audit, idempotency: environment.idempotency)
        self.store = store
        // every request checks its tenant: kept two seconds, so a suspension applies at once for practical purposes
        self.tenantDirectory = Tenants(ttl: .seconds(2)) { tenant, logger in try await store.tenant(tenant.rawValue, logger: logger)?.view }
        let tenants = self.tenantDirectory
        let passwords = Passwords(cost: UInt8(try settings.int("auth.bcryptCost", default: 12, range: 4...16)))
        self.auth = AuthController(
            store: store, tenants: tenants, passwords: passwords,
            throttle: LoginThrottle(
                failures: FailureThrottle(
                    postgres: environment.postgres, schema: "identity",
                    lockout: .seconds(try settings.int("auth.lockoutSeconds", default: 300, range: 1...86_400))),
                maxPerAccount: try settings.int("auth.maxFailuresPerAccount", default: 5, range: 1...1000),
                maxPerAddress: try settings.int("auth.maxFailuresPerAddress", default: 20, range: 1...100_000)),
            issuer: self.issuer, accessLifetime: .seconds(try settings.int("auth.accessTokenSeconds", default: 600, range: 30...86_400)),
            refreshLifetime: .seconds(86_400 * (try settings.int("auth.refreshTokenDays", default: 30, range: 1...365))),
            secureCookie: try settings.bool("auth.secureCookie", default: true), endpoints: RouteTable.allEndpoints)
        guard let web = settings.string("gateway.webDirectory").map({ URL(fileURLWithPath: $0) }) ?? ServiceSettings.findRepositoryFolder("Web") else {
            throw ConfigurationError(key: "gateway.webDirectory", reason: "is not set and no Web folder was found")
        }
        self.web = WebController(files: try WebFiles(directory: web, reload: try settings.bool("gateway.webReload", default: false)))
        self.admin = AdminController(
            store: store, tenants: tenants, passwords: passwords,
            stations: StationDirectory(vouchers: environment.vouchers, tokens: environment.serviceTokens))
        // a client of its own for proxying: no redirects followed, nothing decompressed, many connections
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2)))
        configuration.decompression = .disabled
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        // no distributed tracing is set up: without a tracer the client skips its per-request span work
        configuration.tracing.tracer = nil
        self.proxyClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let limiter = RateLimiter(
            enabled: try settings.bool("rateLimit.enabled", default: true),
            scalePercent: try settings.int("rateLimit.scalePercent", default: 100, range: 1...1_000_000))
        let shareEvery = try settings.int("rateLimit.shareIntervalMs", default: 200, range: 0...60_000)
        self.rateLimitSharing =
            limiter.enabled && shareEvery > 0
            ? RateLimitSharing(
                limiter: limiter, store: RateUsageStore(postgres: environment.postgres), interval: .milliseconds(shareEvery), logger: environment.logger)
            : nil
        self.proxy = Proxy(
            client: self.proxyClient, upstreams: environment.settings.serviceURLs, tenants: tenants, limiter: limiter,
            timeout: .milliseconds(try settings.int("gateway.upstreamTimeoutMs", default: 30_000, range: 1...600_000)))
        self.sockets = SocketRelay(upstreams: environment.settings.serviceURLs, sockets: MessagingAPI.sockets)
        self.corsOrigins = Set((settings.string("gateway.corsOrigins") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        self.trustedProxies = Set(
            (settings.string("gateway.trustedProxies") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    public var authenticators: [any MiddlewareProtocol<Request, Response, AppRequestContext>] {
        [
            ClientAddress(trustedProxies: self.trustedProxies), CORSPolicy(origins: self.corsOrigins),
            APIKeyAuthenticator(store: self.store, issuer: self.issuer),
        ]
    }

    public var backgroundServices: [any Service] {
        var services: [any Service] = [HTTPClientService(client: self.proxyClient)]
        if let sharing = self.rateLimitSharing { services.append(sharing) }
        return services
    }

    public static var servesWebSockets: Bool { true }

    public func webSocket(_ request: WebSocketRequest, logger: Logger) async throws -> WebSocketUpgrade? {
        self.sockets.upgrade(request, logger: logger)
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        let document = JWKSDocument(keys: self.issuer.publicKeys + [self.environment.serviceTokens.publicKey])
        router.get(".well-known/jwks.json") { _, _ in
            JSONResponse(.ok, document, headers: [.cacheControl: "public, max-age=300"])
        }
        APIDocsController(
            own: Self.ownOpenAPIDocument ?? Data("{}".utf8), upstreams: self.environment.settings.serviceURLs, client: self.proxyClient
        ).addRoutes(to: router)
        self.auth.addRoutes(to: router)
        self.admin.addRoutes(to: router)
        self.web.addRoutes(to: router)
        self.proxy.addRoutes(to: router)
    }

    /// Each upstream's own `/readyz`, asked concurrently and briefly: probes give the gateway's own answer about
    /// 2 s, and one hung upstream must not make the gateway look unready.
    public func readinessDetails() async -> [String: String] {
        await withTaskGroup(of: (String, String).self) { group in
            for service in ServiceName.allCases where service != .gateway {
                let url = self.environment.settings.serviceURLs[service]!.appendingPathComponent("readyz").absoluteString
                group.addTask {
                    let status = try? await self.proxyClient.execute(HTTPClientRequest(url: url), timeout: .milliseconds(1500)).status.code
                    return (service.rawValue, status == 200 ? "ready" : "unavailable")
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    public static func runCommand(_ name: String, arguments: [String], settings: ServiceSettings, logger: Logger) async throws -> Bool {
        guard name == "seed-demo" else { return false }
        try await DemoSeed.run(settings: settings, logger: logger)
        return true
    }
}
