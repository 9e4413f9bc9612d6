import Contracts
import Foundation
import Hummingbird
import Logging
import Models
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceClient
import ServiceKit

/// A small service used only by these tests to exercise ServiceKit: it runs as `messaging` (its schema) and adds a
/// table of its own after migrating.
struct ProbeService: ServiceModule {
    /// ServiceKit's own tests run without a gateway: every tenant is taken as active (the gateway and vouchers
    /// tests check the real standing).
    var tenants: Tenants? {
        Tenants(ttl: .zero) { id, _ in
            GatewayAPI.Tenant(id: id, name: "probe", currency: "RWF", timeZone: "Africa/Kigali", language: "en", plan: "pro", status: "active")
        }
    }
    static let name = ServiceName.messaging
    let environment: ServiceEnvironment
    /// How often each job key ran, for job tests.
    static let jobRuns = NIOLockedValueBox<[String: Int]>([:])

    struct CreateItem: Codable, Sendable {
        var name: String
        var price: Money?
    }

    struct Item: Codable, Sendable, Equatable {
        var id: Int64
        var tenantId: String
        var name: String
    }

    struct FlakyJob: Codable, Sendable {
        var key: String
        var failures: Int
    }

    init(environment: ServiceEnvironment) async throws {
        self.environment = environment
    }

    func afterMigrations() async throws {
        try await self.environment.postgres.query(
            """
            CREATE TABLE IF NOT EXISTS messaging.probe_items (
                id bigserial PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL CHECK (name <> 'boom'))
            """, logger: self.environment.logger)
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        let env = self.environment
        router.group("v1/probe").add(middleware: RequireRoles(.tenantAdmin, .superAdmin, .support))
            .post("items") { request, context in
                let caller = try context.requireCaller()
                let tenant = try caller.requireTenant()
                let body = try await request.decodeJSON(CreateItem.self, context: context)
                return try await env.idempotency.write(request, context: context, postgres: env.postgres) { connection in
                    let id = try await connection.query(
                        "INSERT INTO messaging.probe_items (tenant_id, name) VALUES (\(tenant.rawValue), \(body.name)) RETURNING id",
                        logger: context.logger
                    ).first(as: Int64.self)!
                    let item = Item(id: id, tenantId: tenant.description, name: body.name)
                    try await env.audit.record(
                        on: connection, tenantID: tenant, actor: caller.subject, action: "probe.create", table: "probe_items",
                        targetID: String(id), before: nil as Item?, after: item, requestID: context.requestID, logger: context.logger)
                    try await env.jobs.enqueue("probe.created", payload: item, on: connection, requestID: context.requestID, logger: context.logger)
                    return JSONResponse(.created, item)
                }
            }
        router.group("v1/probe").add(middleware: RequireRoles.anyRole).get("items") { _, context in
            let tenant = try context.requireCaller().requireTenant()
            let rows = try await env.postgres.query(
                "SELECT id, tenant_id, name FROM messaging.probe_items WHERE tenant_id = \(tenant.rawValue) ORDER BY id", logger: context.logger)
            let items = try await rows.all(as: (Int64, UUID, String).self).map { Item(id: $0.0, tenantId: $0.1.uuidString.lowercased(), name: $0.2) }
            return JSONResponse(.ok, Page(items: items, nextCursor: nil))
        }
        // calls the vouchers service with the caller's token and request id
        router.group("v1/probe").add(middleware: RequireRoles.anyRole).get("relay") { _, context in
            let identity: CallerIdentity = try await env.client(.vouchers).get("/v1/vouchers/whoami", context: env.callContext(context))
            return JSONResponse(.ok, identity)
        }
        router.get("v1/probe/crash") { _, _ -> Response in
            throw ProbeFailure(secret: "password=hunter2")
        }
    }

    func registerJobs(_ registry: inout JobRegistry) {
        registry.register("probe.created") { _, _ in }
        registry.register("probe.flaky", as: FlakyJob.self) { payload, job, _ in
            let runs = Self.jobRuns.withLockedValue { runs -> Int in
                runs[payload.key, default: 0] += 1
                return runs[payload.key]!
            }
            if runs <= payload.failures { throw JobError(message: "planned failure \(runs) of \(payload.key)") }
        }
        registry.register("probe.slow", as: FlakyJob.self) { payload, _, _ in
            try? await Task.sleep(for: .milliseconds(400))
            Self.jobRuns.withLockedValue { $0[payload.key, default: 0] += 1 }
        }
    }
}

struct ProbeFailure: Error {
    var secret: String
}
