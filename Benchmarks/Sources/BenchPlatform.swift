import AsyncHTTPClient
import Foundation
import Gateway
import Models
import NIOCore
import NIOHTTP1
import ServiceKit
import TestSupport
import Vouchers

/// The gateway and the vouchers service (or another set of services) started in this process on loopback, on a
/// database of their own on the throwaway PostgreSQL server, as the scenarios that go through the gateway need them.
struct BenchPlatform: Sendable {
    let database: DatabaseURL
    let ports: [ServiceName: Int]
    var gatewayURL: String { "http://127.0.0.1:\(self.ports[.gateway]!)" }
    var vouchersURL: String { "http://127.0.0.1:\(self.ports[.vouchers]!)" }

    var walletURL: String { "http://127.0.0.1:\(self.ports[.marketplaceWallet]!)" }

    /// Starts both services with `common` settings plus each one's own, runs `body`, then shuts both down.
    /// `database` defaults to a new one (prefix `bench`).
    static func run<Result: Sendable>(
        database: DatabaseURL? = nil, common: [String: String], gateway: [String: String] = [:], vouchers: [String: String] = [:],
        _ body: (BenchPlatform) async throws -> Result
    ) async throws -> Result {
        try await self.run([.vouchers, .gateway], database: database, common: common, settings: [.gateway: gateway, .vouchers: vouchers], body)
    }

    /// Starts `services` (the gateway among them) with `common` settings plus each one's own, runs `body`, then shuts
    /// them down. `database` defaults to a new one (prefix `bench`).
    static func run<Result: Sendable>(
        _ services: [ServiceName], database: DatabaseURL? = nil, common: [String: String], settings: [ServiceName: [String: String]],
        _ body: (BenchPlatform) async throws -> Result
    ) async throws -> Result {
        let database = if let database { database } else { try await TestPostgres.createDatabase(prefix: "bench") }
        return try await TestServices.with(services, database: database, overrides: common, settings: settings) { platform in
            try await body(BenchPlatform(database: database, ports: platform.ports))
        }
    }

    /// Creates a tenant through the gateway as a super admin (slug `bench-…`, so several runs share a server).
    func createTenant(client: HTTPClient, currency: String? = nil) async throws -> TenantID {
        let superAdmin = try await TestKeys.token(tenant: nil, roles: [.superAdmin])
        struct NewTenant: Encodable { var name: String, slug: String, currency: String? }
        let slug = "bench-\(UUID().uuidString.prefix(8).lowercased())"
        let (status, body) = try await LoadGenerator.postJSON(
            "\(self.gatewayURL)/v1/tenants", token: superAdmin, body: NewTenant(name: "Bench", slug: slug, currency: currency), client: client)
        guard status == 201 else { throw BenchError("creating the tenant answered \(status), not 201: \(body.prefix(500))") }
        struct Created: Decodable { var id: String }
        let id = try JSONDecoder().decode(Created.self, from: Data(body.utf8)).id
        guard let tenant = TenantID(id) else { throw BenchError("the new tenant's id \(id) is not a tenant id") }
        return tenant
    }

    /// A tenant-admin token for `tenant`, good for an hour.
    static func tenantAdminToken(_ tenant: TenantID) async throws -> String {
        try await TestKeys.token(subject: UUID().uuidString, tenant: tenant, roles: [.tenantAdmin], lifetime: .seconds(3600))
    }
}
