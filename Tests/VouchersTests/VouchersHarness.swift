import Foundation
import Gateway
import Models
import PostgresNIO
import ServiceKit
import Testing
import TestSupport
import Vouchers

/// The gateway and the vouchers service on loopback, a tenant (currency RWF) and one or more stations.
struct VouchersHarness: Sendable {
    let gateway: String
    let vouchers: String
    let tenant: TenantID
    let postgres: PostgresClient
    let admin: String

    static func with<T: Sendable>(
        overrides: [String: String] = [:], gatewayOverrides: [String: String] = [:], _ body: (VouchersHarness) async throws -> T
    ) async throws -> T {
        let database = try await TestPostgres.createDatabase(prefix: "vch")
        let ports: [ServiceName: Int] = [.gateway: try FreePort.find(), .vouchers: try FreePort.find()]
        let gatewaySettings = try TestSettings.settings(for: .gateway, database: database, ports: ports, overrides: ["AUTH_BCRYPT_COST": "4", "RATE_LIMIT_ENABLED": "false"].merging(gatewayOverrides) { $1 })
        let vouchersSettings = try TestSettings.settings(for: .vouchers, database: database, ports: ports, overrides: overrides)
        let (started, continuation) = AsyncStream.makeStream(of: Int.self)
        let gateway = try await ServiceApplication<GatewayService>.build(settings: gatewaySettings, logger: TestLog.quiet) { continuation.yield($0) }
        let vouchers = try await ServiceApplication<VouchersService>.build(settings: vouchersSettings, logger: TestLog.quiet) { continuation.yield($0) }
        return try await TestServices.running([gateway.application, vouchers.application], logger: TestLog.quiet, started: started, continuation: continuation) {
            let gatewayURL = "http://127.0.0.1:\(ports[.gateway]!)"
            let superAdmin = try await TestKeys.token(tenant: nil, roles: [.superAdmin])
            let created = try await TestHTTP.request(
                .POST, "\(gatewayURL)/v1/tenants", token: superAdmin, body: Data(#"{"name":"Fuel Co","slug":"fuel-co","currency":"RWF"}"#.utf8))
            let tenant = TenantID(try created.json(TenantDTO.self).id)!
            return try await body(VouchersHarness(
                gateway: gatewayURL, vouchers: "http://127.0.0.1:\(ports[.vouchers]!)", tenant: tenant, postgres: vouchers.environment.postgres,
                admin: try await TestKeys.token(subject: "admin-1", tenant: tenant, roles: [.tenantAdmin])))
        }
    }

    /// Another tenant, created through the gateway: what it may see of this one is nothing.
    func otherTenant(_ slug: String = "other-\(UUID().uuidString.prefix(8).lowercased())") async throws -> TenantID {
        let superAdmin = try await TestKeys.token(tenant: nil, roles: [.superAdmin])
        let created = try await TestHTTP.request(
            .POST, "\(self.gateway)/v1/tenants", token: superAdmin, body: Data(#"{"name":"Other","slug":"\#(slug)","currency":"KES"}"#.utf8))
        return TenantID(try created.json(TenantDTO.self).id)!
    }

    func token(_ role: Role, station: StationDTO? = nil, subject: String = UUID().uuidString) async throws -> String {
        try await TestKeys.token(subject: subject, tenant: self.tenant, roles: [role], station: station.flatMap { StationID($0.id) })
    }

    func station(_ name: String, status: String = "active", location: Location? = nil) async throws -> StationDTO {
        let response = try await TestHTTP.post(
            "\(self.gateway)/v1/stations", token: self.admin,
            json: CreateStation(name: name, engencode: "EN-\(name)-\(UUID().uuidString.prefix(6))", ownerContact: try PhoneNumber(parsing: "+250788000111"), location: location, status: status))
        #expect(response.status == 201, "\(response.text)")
        return try response.json(StationDTO.self)
    }

    func voucher(amount: String = "5000", scope: StationDTO? = nil, expiresAt: Date? = nil) async throws -> VoucherDTO {
        let response = try await TestHTTP.post(
            "\(self.gateway)/v1/vouchers", token: self.admin,
            json: CreateVoucher(amount: amount, msisdn: "+250788123456", stationScope: scope?.id, expiresAt: expiresAt))
        #expect(response.status == 201, "\(response.text)")
        return try response.json(VoucherDTO.self)
    }

    func redeem(_ body: RedeemRequest, as token: String, key: String? = nil) async throws -> TestResponse {
        try await TestHTTP.post("\(self.gateway)/v1/redemptions", token: token, headers: key.map { ["Idempotency-Key": $0] } ?? [:], json: body)
    }

    func count(_ sql: String) async throws -> Int {
        try await self.postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? -1
    }
}
