import AsyncHTTPClient
import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Models
import NIOCore
import PostgresNIO
import ServiceClient
import ServiceLifecycle

/// One assembled service: the Hummingbird application and the parts tests reach into.
public struct ServiceApplication<Module: ServiceModule>: Sendable {
    public let application: Application<RequestDeadline>
    public let module: Module
    public let environment: ServiceEnvironment
    public let migrator: Migrator
    /// Every route the router registered, as `METHOD /path/{param}`.
    public let routes: [String]

    /// Builds a service from its settings. `onServerRunning` receives the bound port (useful with port 0).
    public static func build(
        settings: ServiceSettings, logger: Logger? = nil, onServerRunning: (@Sendable (Int) async -> Void)? = nil
    ) async throws -> ServiceApplication<Module> {
        var serviceLogger = logger ?? Logger(label: settings.service.rawValue)
        serviceLogger.logLevel = settings.logLevel
        serviceLogger[metadataKey: "service"] = .string(settings.service.rawValue)
        let logger = serviceLogger
        let database = try DatabaseURL(settings.databaseURL)
        let postgres = PostgresClient(configuration: database.clientConfiguration(maxConnections: settings.databaseMaxConnections), backgroundLogger: logger)
        let httpClient = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(30))),
            backgroundActivityLogger: logger)
        var platformConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(2), read: .seconds(30)))
        platformConfiguration.connectionPool.retryConnectionEstablishment = false
        let platformHTTPClient = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: platformConfiguration, backgroundActivityLogger: logger)
        let serviceTokens = try await ServiceTokens(
            service: settings.service, seed: settings.serviceKey, audience: settings.audience, issuer: settings.issuer)
        let verifier = try await TokenVerifier(
            audience: settings.audience, issuer: settings.issuer,
            staticKeys: [serviceTokens.publicKey] + settings.publicKeys + Module.verificationKeys(settings: settings),
            jwksURL: Module.fetchesJWKS ? settings.jwksURL : nil, httpClient: httpClient, logger: logger)
        let schema = settings.service.schema
        let metrics = ServiceMetrics()
        let environment = ServiceEnvironment(
            settings: settings, postgres: postgres, logger: logger, jobs: JobQueue(schema: schema), audit: AuditLog(schema: schema),
            idempotency: Idempotency(schema: schema), verifier: verifier, serviceTokens: serviceTokens, httpClient: httpClient,
            platformHTTPClient: platformHTTPClient, metrics: metrics,
            tenants: .fromGateway(
                GatewayClient(
                    ServiceClient(
                        service: ServiceName.gateway.rawValue, baseURL: settings.serviceURLs[.gateway]!, httpClient: platformHTTPClient, logger: logger)),
                tokens: serviceTokens,
                ttl: .milliseconds(try settings.settings.int("auth.tenantStandingTtlMs", default: 5000, range: 0...600_000))))
        let module = try await Module(environment: environment)
        let migrator = Migrator(schema: schema, directory: settings.migrationsDirectory)

        let router = Router(context: AppRequestContext.self)
        router.add(middleware: RequestLifecycleMiddleware(metrics: metrics))
        router.add(middleware: BodyLimitMiddleware(maxSize: settings.maxBodySize, streams: Module.streamsRequestBody, allowance: Module.bodyAllowance))
        for authenticator in module.authenticators { router.add(middleware: authenticator) }
        router.add(middleware: AuthMiddleware(verifier: verifier))
        let tenants = module.tenants ?? environment.tenants
        router.add(middleware: TenantStandingMiddleware(tenants: tenants))
        HealthRoutes(
            postgres: postgres, migrator: migrator, jobs: environment.jobs, metrics: metrics, logger: logger,
            details: { await module.readinessDetails() }
        ).add(to: router)
        router.on(ServiceAPI.whoami(settings.service)) { _, context in
            JSONResponse(.ok, try context.requireCaller().callerIdentity(service: settings.service.rawValue))
        }
        AuditRoutes(audit: environment.audit, postgres: postgres).add(to: router, service: settings.service)
        if let document = Module.openAPIDocument {
            router.get("openapi.json") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"],
                    body: .init(byteBuffer: ByteBuffer(bytes: document)))
            }
        }
        module.addRoutes(to: router)
        let routes = router.routes.map { "\($0.method.rawValue) \($0.path)" }

        var registry = JobRegistry()
        module.registerJobs(&registry)
        let gate = StartGate()
        let worker = JobWorker(
            postgres: postgres, schema: schema, registry: registry,
            options: .init(
                workers: registry.isEmpty ? 0 : settings.jobWorkers, pollInterval: settings.jobPollInterval, backoffBase: settings.jobBackoffBase,
                visibilityTimeout: settings.jobVisibilityTimeout),
            logger: logger, gate: gate)

        var application = Application(
            responder: RequestDeadline(responder: router.buildResponder(), deadline: settings.requestTimeout, streams: Module.streamsRequestBody),
            server: Module.servesWebSockets ? .sokoni(module: module) : .http1(),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sokoni-\(settings.service.rawValue)"),
            services: [
                postgres, HTTPClientService(client: httpClient), HTTPClientService(client: platformHTTPClient), worker,
                TenantChangeListener(postgres: postgres, tenants: tenants, logger: logger),
            ] + module.backgroundServices,
            onServerRunning: { channel in
                logger.info("listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
                await onServerRunning?(channel.localAddress?.port ?? settings.port)
            },
            logger: logger)
        application.beforeServerStarts {
            try await migrator.migrate(client: postgres, logger: logger)
            try await module.afterMigrations()
            gate.open()
        }
        return ServiceApplication(application: application, module: module, environment: environment, migrator: migrator, routes: routes)
    }
}

/// Shuts an HTTP client down after the rest of the service stopped.
public struct HTTPClientService: Service {
    let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await self.client.shutdown()
    }
}

/// `GET /v1/<service>/audit?targetType=&targetId=&actor=&limit=&cursor=`: the tenant's audit rows, newest first. A
/// tenant's people read their tenant's; platform staff read the tenant they name in `X-Tenant-ID`, or without it
/// the platform's own rows (those with no tenant).
struct AuditRoutes: Sendable {
    let audit: AuditLog
    let postgres: PostgresClient

    func add(to router: Router<AppRequestContext>, service: ServiceName) {
        router.on(ServiceAPI.audit(service)) { request, context in
            let caller = try context.requireCaller()
            let query = request.queryValues
            let page = try request.page(cursorValues: 1)
            let filter = AuditLog.Filter(
                tenantID: caller.tenantID, targetType: try query.string("targetType"), targetID: try query.string("targetId"),
                actor: try query.string("actor"))
            let items = try await self.audit.entries(
                filter, before: try page.cursor?.int64(0), limit: page.limit, client: self.postgres, logger: context.logger)
            return JSONResponse(.ok, Page(items: items, nextCursor: page.next(items) { [String($0.id)] }))
        }
    }
}

/// `GET /healthz`, `GET /readyz`, `GET /metrics`: public, no token.
struct HealthRoutes: Sendable {
    let postgres: PostgresClient
    let migrator: Migrator
    let jobs: JobQueue
    let metrics: ServiceMetrics
    let logger: Logger
    let details: @Sendable () async -> [String: String]
    /// How long `/readyz` waits for the database before answering 503 (probes usually time out after 3 s or more).
    static let readinessDeadline: Duration = .milliseconds(1500)

    struct Status: Codable, Sendable {
        var status: String
        var database: String?
        var migrations: String?
        var upstreams: [String: String]?
    }

    func add(to router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in JSONResponse(.ok, Status(status: "ok")) }
        router.get("readyz") { _, context in
            // an unresponsive database (partitioned, restarting, pool exhausted) must give a quick 503, not a hang:
            // the checks race a deadline inside the probe's timeout and are cancelled and left behind when they lose
            let logger = context.logger
            let checks = await race(
                { () async throws -> Bool in
                    try await self.postgres.query("SELECT 1", logger: logger)
                    return (try? await self.migrator.isUpToDate(client: self.postgres, logger: logger)) ?? false
                }, until: { try? await Task.sleep(for: Self.readinessDeadline) })
            guard case .success(let upToDate)? = checks else {
                return JSONResponse(.serviceUnavailable, Status(status: "unavailable", database: "unreachable", migrations: nil))
            }
            let details = await self.details()
            return JSONResponse(
                upToDate ? .ok : .serviceUnavailable,
                Status(
                    status: upToDate ? "ready" : "unavailable", database: "ok", migrations: upToDate ? "ok" : "pending",
                    upstreams: details.isEmpty ? nil : details))
        }
        router.get("metrics") { _, context in
            if let counts = try? await self.jobs.counts(client: self.postgres, logger: context.logger) {
                self.metrics.setJobCounts(counts)
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: self.metrics.render())))
        }
    }
}
