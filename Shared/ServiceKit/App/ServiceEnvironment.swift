import AsyncHTTPClient
import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Models
import PostgresNIO
import ServiceClient
import ServiceLifecycle

/// Everything a service's routes and jobs are given: its settings, its database, the shared ServiceKit pieces
/// bound to its schema, and clients for the other services.
public struct ServiceEnvironment: Sendable {
    public let settings: ServiceSettings
    public let postgres: PostgresClient
    public let logger: Logger
    public let jobs: JobQueue
    public let audit: AuditLog
    public let idempotency: Idempotency
    public let verifier: TokenVerifier
    public let serviceTokens: ServiceTokens
    /// For outside providers (LLMs, WhatsApp, Daraja …): a connection that fails is tried again until its timeout,
    /// as AsyncHTTPClient advises for flaky networks.
    public let httpClient: HTTPClient
    /// For the other Sokoni services: a refused connection fails at once, and `ServiceClient` decides about retries
    /// (a service that is down answers its callers in milliseconds, not after a connect timeout).
    public let platformHTTPClient: HTTPClient
    public let metrics: ServiceMetrics
    /// The tenants this service serves, as the gateway answers them (cached briefly).
    public let tenants: Tenants

    public var name: ServiceName { self.settings.service }
    public var schema: String { self.settings.service.schema }

    /// A client for another service.
    public func client(_ service: ServiceName) -> ServiceClient {
        ServiceClient(service: service.rawValue, baseURL: self.settings.serviceURLs[service]!, httpClient: self.platformHTTPClient, logger: self.logger)
    }

    /// A client with its own deadline and retries: a customer waiting (a tool), a check that must not hang.
    public func client(_ service: ServiceName, timeout: Duration, retries: Int) -> ServiceClient {
        var client = self.client(service)
        client.timeout = timeout
        client.maxRetries = retries
        return client
    }

    /// A job's call: one brief try per attempt, the job queue's backoff being the retry (a worker is not held by a
    /// service that is away).
    public func jobClient(_ service: ServiceName) -> ServiceClient {
        self.client(service, timeout: .seconds(5), retries: 0)
    }

    /// Typed clients for the other services (`Shared/Contracts`).
    public var gateway: GatewayClient { GatewayClient(self.client(.gateway)) }
    public var vouchers: VouchersClient { VouchersClient(self.client(.vouchers)) }
    public var messaging: MessagingClient { MessagingClient(self.client(.messaging)) }
    public var agentCore: AgentClient { AgentClient(self.client(.agentCore)) }
    /// This service's events for the CRM, queued in its own transactions.
    public var crmEvents: CRMEvents { CRMEvents(jobs: self.jobs) }

    /// Calls made while serving a request: the caller's token and request id travel along.
    public func callContext(_ context: AppRequestContext) -> CallContext {
        CallContext(requestID: context.requestID, bearerToken: context.identity?.token, tenantHeader: context.identity?.tenantID?.description)
    }

    /// Calls made by the service itself (jobs, sweepers): a service token, acting in `tenant` when given.
    public func serviceCallContext(tenant: TenantID?, requestID: String?) async throws -> CallContext {
        CallContext(requestID: requestID, bearerToken: try await self.serviceTokens.token(tenant: tenant))
    }
}

/// What each service adds to the common assembly.
public protocol ServiceModule: Sendable {
    static var name: ServiceName { get }
    /// Keys to trust besides the service key and the gateway's JWKS (the gateway trusts its own keys).
    static func verificationKeys(settings: ServiceSettings) throws -> [PublicJWK]
    /// Whether to fetch the gateway's JWKS for unknown key ids.
    static var fetchesJWKS: Bool { get }

    init(environment: ServiceEnvironment) async throws
    /// The service's routes. Every route sees `context.identity` when a valid token came with the request.
    func addRoutes(to router: Router<AppRequestContext>)
    func registerJobs(_ registry: inout JobRegistry)
    /// Long-running loops (sweepers) started with the server.
    var backgroundServices: [any Service] { get }
    /// Runs once after migrations, before the server accepts requests.
    func afterMigrations() async throws
    /// Middleware that may set `context.identity` before bearer tokens are verified (the gateway's API keys).
    var authenticators: [any MiddlewareProtocol<Request, Response, AppRequestContext>] { get }
    /// Extra lines for `/readyz` (the gateway reports its upstreams).
    func readinessDetails() async -> [String: String]
    /// Whether a request's body streams through to its handler instead of being read into memory first (where the
    /// size limit is enforced and the body can be read more than once, e.g. for an idempotency fingerprint). The
    /// gateway streams what it forwards; everything it answers itself is buffered.
    static func streamsRequestBody(_ request: Request) -> Bool
    /// A request's body limit when it is more than the service's `HTTP_MAX_BODY_SIZE`: the allowance of the endpoint it
    /// is for (`Endpoint.allowingBodies(upTo:)`, an upload), so one route takes large bodies and the rest keep the limit.
    static func bodyAllowance(_ request: Request) -> Int?
    /// The service's OpenAPI document (served at `GET /openapi.json`), from the module's resources.
    static var openAPIDocument: Data? { get }
    /// Where the tenant check on every request reads tenants; nil: `environment.tenants` (the gateway, over HTTP).
    var tenants: Tenants? { get }
    /// Settings a throwaway instance of this service needs besides the common ones (its required secrets, cheaper
    /// costs): the test harness and the benchmarks start it with these. Never read in production.
    static var testSettings: [String: String] { get }
    /// Whether the server upgrades requests to WebSockets at all (only then is `webSocket` asked).
    static var servesWebSockets: Bool { get }
    /// The socket to open for an upgrade request, or nil: the request then goes to the router like any other.
    /// Upgrades bypass the router's middleware, so the handler authenticates for itself.
    func webSocket(_ request: WebSocketRequest, logger: Logger) async throws -> WebSocketUpgrade?
    /// Subcommands beyond `serve` and `migrate`; returns false for an unknown name.
    static func runCommand(_ name: String, arguments: [String], settings: ServiceSettings, logger: Logger) async throws -> Bool
}

extension ServiceModule {
    public static func verificationKeys(settings: ServiceSettings) throws -> [PublicJWK] { [] }
    public static var fetchesJWKS: Bool { true }
    public func registerJobs(_ registry: inout JobRegistry) {}
    public var backgroundServices: [any Service] { [] }
    public func afterMigrations() async throws {}
    public var authenticators: [any MiddlewareProtocol<Request, Response, AppRequestContext>] { [] }
    public func readinessDetails() async -> [String: String] { [:] }
    public static func runCommand(_ name: String, arguments: [String], settings: ServiceSettings, logger: Logger) async throws -> Bool {
        false
    }
    public static func streamsRequestBody(_ request: Request) -> Bool { false }
    public static func bodyAllowance(_ request: Request) -> Int? { nil }
    public static var openAPIDocument: Data? { nil }
    public var tenants: Tenants? { nil }
    public static var testSettings: [String: String] { [:] }
    public static var servesWebSockets: Bool { false }
    public func webSocket(_ request: WebSocketRequest, logger: Logger) async throws -> WebSocketUpgrade? { nil }
}
