import Foundation
import Gateway
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing
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
        try await TestServices.with(
            [.gateway, .vouchers], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"].merging(gatewayOverrides) { $1 }, .vouchers: overrides]
        ) { platform in
            let tenant = try await platform.createTenant("fuel-co", currency: "RWF")
            return try await body(
                VouchersHarness(
                    gateway: platform.url(.gateway), vouchers: platform.url(.vouchers), tenant: tenant, postgres: platform.environment(.vouchers).postgres,
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
            json: CreateStation(
                name: name, engencode: "EN-\(name)-\(UUID().uuidString.prefix(6))", ownerContact: try PhoneNumber(parsing: "+250788000111"), location: location,
                status: status))
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
