import Foundation
import Gateway
import Logging
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import Testing
import TestSupport
import Vouchers

/// The gateway and the vouchers service on loopback, sharing a fresh database.
struct GatewayHarness: Sendable {
    let gateway: String
    let vouchers: String
    let database: DatabaseURL
    let environment: ServiceEnvironment

    static func with<T: Sendable>(
        overrides: [String: String] = [:], upstreams: [ServiceName: String] = [:], _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        let database = try await TestPostgres.createDatabase(prefix: "gw")
        let ports: [ServiceName: Int] = [.gateway: try FreePort.find(), .vouchers: try FreePort.find()]
        var variables = ["AUTH_BCRYPT_COST": "4"].merging(overrides) { $1 }
        for (service, url) in upstreams { variables[Settings.environmentName(for: service.urlKey)] = url }
        let gatewaySettings = try TestSettings.settings(for: .gateway, database: database, ports: ports, overrides: variables)
        let vouchersSettings = try TestSettings.settings(for: .vouchers, database: database, ports: ports)
        let (started, continuation) = AsyncStream.makeStream(of: Int.self)
        let gateway = try await ServiceApplication<GatewayService>.build(settings: gatewaySettings, logger: TestLog.quiet) { continuation.yield($0) }
        let vouchers = try await ServiceApplication<VouchersService>.build(settings: vouchersSettings, logger: TestLog.quiet) { continuation.yield($0) }
        return try await TestServices.running([gateway.application, vouchers.application], logger: TestLog.quiet, started: started, continuation: continuation) {
            try await body(GatewayHarness(
                gateway: "http://127.0.0.1:\(ports[.gateway]!)", vouchers: "http://127.0.0.1:\(ports[.vouchers]!)", database: database,
                environment: gateway.environment))
        }
    }

    var superAdmin: String {
        get async throws { try await TestKeys.token(subject: UUID().uuidString, tenant: nil, roles: [.superAdmin]) }
    }

    func createTenant(_ slug: String, plan: String = "pro") async throws -> TenantDTO {
        let response = try await TestHTTP.request(
            .POST, "\(self.gateway)/v1/tenants", token: try await self.superAdmin,
            body: Data(#"{"name":"\#(slug)","slug":"\#(slug)","plan":"\#(plan)","currency":"KES"}"#.utf8))
        #expect(response.status == 201, "\(response.text)")
        return try response.json(TenantDTO.self)
    }

    func createUser(email: String, password: String = "correct-horse-battery", tenant: String?, roles: [Role], station: StationID? = nil) async throws -> UserDTO {
        let body = CreateUser(email: email, password: password, name: "Test", tenantId: tenant, roles: roles, stationId: station?.description)
        let response = try await TestHTTP.post("\(self.gateway)/v1/users", token: try await self.superAdmin, json: body)
        #expect(response.status == 201, "\(response.text)")
        return try response.json(UserDTO.self)
    }

    func login(_ email: String, _ password: String = "correct-horse-battery") async throws -> TestResponse {
        try await TestHTTP.post("\(self.gateway)/v1/auth/login", json: LoginRequest(email: email, password: password))
    }
}
