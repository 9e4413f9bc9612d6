import AgentCore
import CalendarBooking
import Foundation
import Gateway
import Logging
import MarketplaceWallet
import Messaging
import ServiceKit
import ServiceLifecycle
import Vouchers

/// All six services on loopback, wired to each other, sharing one test database (each owns its schema).
public struct TestPlatform: Sendable {
    public let ports: [ServiceName: Int]
    public let database: DatabaseURL

    public func url(_ service: ServiceName) -> String { "http://127.0.0.1:\(self.ports[service]!)" }

    /// A new active tenant, created through the gateway as a super admin.
    public func createTenant(_ slug: String = "t-\(UUID().uuidString.prefix(8).lowercased())") async throws -> TenantID {
        let superAdmin = try await TestKeys.token(tenant: nil, roles: [.superAdmin])
        let created = try await TestHTTP.request(
            .POST, "\(self.url(.gateway))/v1/tenants", token: superAdmin, body: Data(#"{"name":"\#(slug)","slug":"\#(slug)"}"#.utf8))
        struct Created: Decodable { var id: TenantID }
        return try created.json(Created.self).id
    }

    public static func with<Result: Sendable>(logger: Logger? = nil, _ body: (TestPlatform) async throws -> Result) async throws -> Result {
        let logger = logger ?? TestLog.quiet
        let database = try await TestPostgres.createDatabase(prefix: "platform")
        var ports: [ServiceName: Int] = [:]
        for service in ServiceName.allCases { ports[service] = try FreePort.find() }
        func settings(_ service: ServiceName) throws -> ServiceSettings {
            try TestSettings.settings(for: service, database: database, ports: ports)
        }
        let (started, startedContinuation) = AsyncStream.makeStream(of: Int.self)
        let signal: @Sendable (Int) async -> Void = { startedContinuation.yield($0) }
        let applications: [any Service] = [
            try await ServiceApplication<GatewayService>.build(settings: settings(.gateway), logger: logger, onServerRunning: signal).application,
            try await ServiceApplication<MessagingService>.build(settings: settings(.messaging), logger: logger, onServerRunning: signal).application,
            try await ServiceApplication<VouchersService>.build(settings: settings(.vouchers), logger: logger, onServerRunning: signal).application,
            try await ServiceApplication<MarketplaceWalletService>.build(settings: settings(.marketplaceWallet), logger: logger, onServerRunning: signal).application,
            try await ServiceApplication<AgentCoreService>.build(settings: settings(.agentCore), logger: logger, onServerRunning: signal).application,
            try await ServiceApplication<CalendarBookingService>.build(settings: settings(.calendarBooking), logger: logger, onServerRunning: signal).application,
        ]
        let platform = TestPlatform(ports: ports, database: database)
        return try await TestServices.running(applications, logger: logger, started: started, continuation: startedContinuation) {
            try await body(platform)
        }
    }
}
