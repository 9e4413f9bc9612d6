import AgentCore
import CalendarBooking
import Foundation
import Gateway
import Hummingbird
import HummingbirdTesting
import Logging
import MarketplaceWallet
import Messaging
import ServiceKit
import ServiceLifecycle
import Vouchers

/// Some of the six services on loopback, wired to each other, sharing one test database (each owns its schema).
public struct TestPlatform: Sendable {
    public let ports: [ServiceName: Int]
    public let database: DatabaseURL
    public let environments: [ServiceName: ServiceEnvironment]

    public func url(_ service: ServiceName) -> String { "http://127.0.0.1:\(self.ports[service]!)" }
    /// A running service's environment: its database client, its settings.
    public func environment(_ service: ServiceName) -> ServiceEnvironment { self.environments[service]! }

    /// A new active tenant, created through the gateway as a super admin.
    public func createTenant(_ slug: String = "t-\(UUID().uuidString.prefix(8).lowercased())", currency: String = "KES") async throws -> TenantID {
        let superAdmin = try await TestKeys.token(tenant: nil, roles: [.superAdmin])
        let created = try await TestHTTP.request(
            .POST, "\(self.url(.gateway))/v1/tenants", token: superAdmin,
            body: Data(#"{"name":"\#(slug)","slug":"\#(slug)","currency":"\#(currency)"}"#.utf8))
        guard created.status == 201 else { throw TestSupportError("creating tenant \(slug): \(created.status) \(created.text)") }
        struct Created: Decodable { var id: TenantID }
        return try created.json(Created.self).id
    }

    /// All six services.
    public static func with<Result: Sendable>(logger: Logger? = nil, _ body: (TestPlatform) async throws -> Result) async throws -> Result {
        try await TestServices.with(ServiceName.allCases, logger: logger, body)
    }
}

extension TestServices {
    /// The module behind each service name.
    public static func module(for service: ServiceName) -> any ServiceModule.Type {
        switch service {
        case .gateway: GatewayService.self
        case .messaging: MessagingService.self
        case .vouchers: VouchersService.self
        case .marketplaceWallet: MarketplaceWalletService.self
        case .agentCore: AgentCoreService.self
        case .calendarBooking: CalendarBookingService.self
        }
    }

    /// The one way tests start services: `services` on free loopback ports, sharing a new database (or `database`),
    /// each with the common test settings, its module's own (`ServiceModule.testSettings`), then `overrides` (for all)
    /// and `settings[service]` (for one). `upstreams` points services at fake ones instead (a service named there is not
    /// started). Runs `body`, then shuts everything down gracefully.
    public static func with<Result: Sendable>(
        _ services: [ServiceName], database: DatabaseURL? = nil, overrides: [String: String] = [:], settings: [ServiceName: [String: String]] = [:],
        upstreams: [ServiceName: String] = [:], logger: Logger? = nil, _ body: (TestPlatform) async throws -> Result
    ) async throws -> Result {
        // a platform inside another's body (a second replica, say) does not wait for a slot its caller holds
        if PlatformSlots.held {
            return try await Self.start(services, database: database, overrides: overrides, settings: settings, upstreams: upstreams, logger: logger, body)
        }
        return try await PlatformSlots.shared.run {
            try await PlatformSlots.$held.withValue(true) {
                try await Self.start(services, database: database, overrides: overrides, settings: settings, upstreams: upstreams, logger: logger, body)
            }
        }
    }

    static func start<Result: Sendable>(
        _ services: [ServiceName], database: DatabaseURL?, overrides: [String: String], settings: [ServiceName: [String: String]],
        upstreams: [ServiceName: String], logger: Logger?, _ body: (TestPlatform) async throws -> Result
    ) async throws -> Result {
        let logger = logger ?? TestLog.quiet
        let database =
            if let database { database } else { try await TestPostgres.createDatabase(prefix: services.map(\.rawValue.first!).map(String.init).joined()) }
        var ports: [ServiceName: Int] = [:]
        for service in services { ports[service] = try FreePort.find() }
        var upstreamVariables: [String: String] = [:]
        for (service, url) in upstreams { upstreamVariables[Settings.environmentName(for: service.urlKey)] = url }
        let (started, continuation) = AsyncStream.makeStream(of: Int.self)
        let signal: @Sendable (Int) async -> Void = { continuation.yield($0) }
        var applications: [any Service] = []
        var environments: [ServiceName: ServiceEnvironment] = [:]
        for service in services {
            let variables = overrides.merging(settings[service] ?? [:]) { $1 }.merging(upstreamVariables) { $1 }
            let built = try await Self.build(
                Self.module(for: service), settings: TestSettings.settings(for: service, database: database, ports: ports, overrides: variables),
                logger: logger, onServerRunning: signal)
            applications.append(built.application)
            environments[service] = built.environment
        }
        let platform = TestPlatform(ports: ports, database: database, environments: environments)
        return try await Self.running(applications, logger: logger, started: started, continuation: continuation) { _ in
            try await body(platform)
        }
    }

    static func build<Module: ServiceModule>(
        _ module: Module.Type, settings: ServiceSettings, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void
    ) async throws -> (application: any Service, environment: ServiceEnvironment) {
        let built = try await ServiceApplication<Module>.build(settings: settings, logger: logger, onServerRunning: onServerRunning)
        return (built.application, built.environment)
    }

    /// The in-process tier: one service's router driven without a socket (HummingbirdTesting's `.router`), with its
    /// migrations, workers and clients running as in production. For route tests that need no other service and no
    /// real connection; races, proxying and flows across services keep real sockets (`with`).
    public static func router<Module: ServiceModule, Result: Sendable>(
        _ module: Module.Type, overrides: [String: String] = [:], upstreams: [ServiceName: String] = [:],
        _ body: @Sendable (any TestClientProtocol, ServiceEnvironment) async throws -> Result
    ) async throws -> Result {
        let database = try await TestPostgres.createDatabase(prefix: "r" + String(Module.name.rawValue.prefix(3)))
        var variables = overrides
        for (service, url) in upstreams { variables[Settings.environmentName(for: service.urlKey)] = url }
        let built = try await ServiceApplication<Module>.build(
            settings: TestSettings.settings(for: Module.name, database: database, overrides: variables), logger: TestLog.quiet)
        let environment = built.environment
        return try await built.application.test(.router) { client in try await body(client, environment) }
    }
}

/// How many platforms the suite runs at once (`SOKONI_TEST_PLATFORMS`, 8): on two cores, a hundred tests each
/// starting services at the same moment starve each other past their own deadlines (gateway 504s, pool timeouts);
/// the rest wait for a slot before they start, so no test's clock runs while it waits.
actor PlatformSlots {
    static let shared = PlatformSlots(
        limit: ProcessInfo.processInfo.environment["SOKONI_TEST_PLATFORMS"].flatMap { Int($0) }.map { max(1, $0) } ?? 8)
    @TaskLocal static var held = false

    let limit: Int
    var running = 0
    var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = limit
    }

    func acquire() async {
        if self.running < self.limit {
            self.running += 1
            return
        }
        await withCheckedContinuation { self.waiting.append($0) }
    }

    func release() {
        if self.waiting.isEmpty {
            self.running -= 1
        } else {
            self.waiting.removeFirst().resume()
        }
    }

    nonisolated func run<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        await self.acquire()
        do {
            let result = try await body()
            await self.release()
            return result
        } catch {
            await self.release()
            throw error
        }
    }
}
