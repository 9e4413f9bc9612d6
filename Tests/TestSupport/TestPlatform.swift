import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Messaging
import Models
import ServiceKit
import ServiceLifecycle

/// Keys shared by every service a test starts: the gateway's signing keys and the service key.
public enum TestKeys {
    public static let gateway = SigningKey(kid: "test-1")
    /// A second gateway key, published but not signing, for rotation tests.
    public static let gatewayPrevious = SigningKey(kid: "test-0")
    public static let service = SigningKey(kid: ServiceTokens.kid)
    /// A key no service trusts.
    public static let stranger = SigningKey(kid: "test-1")

    public static var signingKeysSetting: String {
        "\(gateway.kid):\(gateway.seed),\(gatewayPrevious.kid):\(gatewayPrevious.seed)"
    }

    /// Signs tokens as the gateway does.
    public static func issuer() async -> TokenIssuer {
        await TokenIssuer(keys: [gateway], audience: "sokoni", issuer: "sokoni-gateway")
    }

    public static func token(
        subject: String = UUID().uuidString, tenant: TenantID?, roles: [Role], station: StationID? = nil, lifetime: Duration = .seconds(600)
    ) async throws -> String {
        try await issuer().issue(subject: subject, tenantID: tenant, roles: roles, stationID: station, lifetime: lifetime)
    }
}

/// The environment a test service runs with.
public enum TestSettings {
    public static func variables(
        for service: ServiceName, database: DatabaseURL, ports: [ServiceName: Int] = [:], overrides: [String: String] = [:]
    ) -> [String: String] {
        var variables: [String: String] = [
            "DATABASE_URL": database.urlString,
            "DATABASE_MAX_CONNECTIONS": "6",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": String(ports[service] ?? 0),
            "JWT_SERVICE_KEY": TestKeys.service.seed,
            "JWT_SIGNING_KEYS": TestKeys.signingKeysSetting,
            // the active gateway key only: a token of the previous key must be looked up in the gateway's JWKS
            "JWT_PUBLIC_KEYS": "\(TestKeys.gateway.kid):\(TestKeys.gateway.publicJWK.x)",
            "LOG_LEVEL": "info",
            "JOBS_POLL_INTERVAL_MS": "20",
            "JOBS_BACKOFF_BASE_MS": "20",
            "MIGRATIONS_DIRECTORY": Self.migrationsDirectory.path,
            // a suspension reaches every service within this (5 s in production)
            "AUTH_TENANT_STANDING_TTL_MS": "100",
            "BLOBS_DIRECTORY": NSTemporaryDirectory() + "sokoni-blobs-\(database.database)",
        ]
        // a service the test did not start is refused at once (port 1 on loopback), never the default dev port,
        // where something else on the machine may listen and keep a call hanging until its timeout
        for other in ServiceName.allCases {
            variables[Settings.environmentName(for: other.urlKey)] = "http://127.0.0.1:\(ports[other] ?? 1)"
        }
        // what the service itself needs to start (its required secrets), then what the test asks for
        variables.merge(TestServices.module(for: service).testSettings) { $1 }
        variables.merge(overrides) { $1 }
        return variables
    }

    public static func settings(
        for service: ServiceName, database: DatabaseURL, ports: [ServiceName: Int] = [:], overrides: [String: String] = [:]
    ) throws -> ServiceSettings {
        try ServiceSettings(service: service, settings: .fromEnvironment(variables(for: service, database: database, ports: ports, overrides: overrides)))
    }

    /// The repository's `Migrations` folder.
    public static let migrationsDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Migrations")
}

/// A service running on loopback for the length of a test.
public struct RunningService<Module: ServiceModule>: Sendable {
    public let service: ServiceApplication<Module>
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(self.port)" }
    public var module: Module { self.service.module }
    public var environment: ServiceEnvironment { self.service.environment }
}

public enum TestServices {
    /// Builds and runs a service on a free port, runs `body`, then shuts it down gracefully.
    public static func with<Module: ServiceModule, Result: Sendable>(
        _ module: Module.Type, settings: ServiceSettings, logger: Logger? = nil,
        _ body: (RunningService<Module>) async throws -> Result
    ) async throws -> Result {
        let logger = logger ?? TestLog.quiet
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let service = try await ServiceApplication<Module>.build(settings: settings, logger: logger) { port in
            portContinuation.yield(port)
        }
        return try await TestServices.running([service.application], logger: logger, started: ports, continuation: portContinuation) { ports in
            try await body(RunningService(service: service, port: ports[0]))
        }
    }

    /// Runs applications in one service group: waits until each reported its port, runs `body` with the ports (in the
    /// order they were reported), then shuts all down gracefully. If one stops before listening, its error is thrown.
    public static func running<Result: Sendable>(
        _ applications: [any Service], logger: Logger, started: AsyncStream<Int>, continuation: AsyncStream<Int>.Continuation,
        body: ([Int]) async throws -> Result
    ) async throws -> Result {
        let group = ServiceGroup(configuration: .init(services: applications, gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { continuation.finish() }
                try await group.run()
            }
            var ports: [Int] = []
            for await port in started {
                ports.append(port)
                if ports.count == applications.count { break }
            }
            guard ports.count == applications.count else {
                try await tasks.waitForAll()
                throw TestSupportError("a service stopped before it listened")
            }
            do {
                let result = try await body(ports)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

/// A fake upstream on loopback (a provider, or a misbehaving service) built from a router.
public enum TestUpstream {
    public static func with<Result: Sendable>(_ router: Router<BasicRequestContext>, _ body: (String) async throws -> Result) async throws -> Result {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: TestLog.quiet)
        return try await TestServices.running([app], logger: TestLog.quiet, started: ports, continuation: continuation) { ports in
            try await body("http://127.0.0.1:\(ports[0])")
        }
    }
}

/// Messaging as most tests want it.
public enum TestMessaging {
    public struct QuietHoursRefused: Error {
        public var status: Int
        public var body: String
    }

    /// The tenant's quiet hours off: East Africa's defaults (22:00–06:00 local, 19:00–03:00 UTC) would hold a test's
    /// notices whenever the suite runs at night there.
    public static func quietHoursOff(gateway: String, token: String) async throws {
        var settings = MessagingSettings.defaults
        settings.quietHours = [:]
        let put = try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: token, body: try JSONEncoder.sokoni.encode(settings))
        guard put.status == 200 else { throw QuietHoursRefused(status: put.status, body: put.text) }
    }
}
