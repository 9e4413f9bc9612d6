import Foundation
import Models
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Testing

@Suite struct PlatformTests {
    @Test func allSixServicesStartMigrateAndVerifyTokens() async throws {
        try await TestPlatform.with { platform in
            let tenant = try await platform.createTenant()
            let token = try await TestKeys.token(subject: "e2e-user", tenant: tenant, roles: [.tenantAdmin])
            for service in ServiceName.allCases {
                let ready = try await TestHTTP.get("\(platform.url(service))/readyz")
                #expect(ready.status == 200, "\(service)")
                #expect(try await TestHTTP.get("\(platform.url(service))/healthz").status == 200)
                let whoami = try await TestHTTP.get("\(platform.url(service))/v1/\(service.rawValue)/whoami", token: token)
                #expect(whoami.status == 200, "\(service)")
                let identity = try whoami.json(CallerIdentity.self)
                #expect(identity.subject == "e2e-user")
                #expect(identity.tenantId == tenant.description)
                #expect(identity.service == service.rawValue)
                #expect(try await TestHTTP.get("\(platform.url(service))/v1/\(service.rawValue)/whoami").status == 401)
                #expect(try await TestHTTP.get("\(platform.url(service))/metrics").text.contains("http_requests_total"))
            }
        }
    }

    @Test func servicesFindRotatedKeysInTheGatewayJWKS() async throws {
        try await TestPlatform.with { platform in
            let jwks = try await TestHTTP.get("\(platform.url(.gateway))/.well-known/jwks.json").json(JWKSDocument.self)
            #expect(Set(jwks.keys.map(\.kid)) == [TestKeys.gateway.kid, TestKeys.gatewayPrevious.kid, ServiceTokens.kid])
            #expect(jwks.keys.allSatisfy { $0.kty == "OKP" && $0.crv == "Ed25519" })
            // signed by the previous key, which the services were not configured with: they fetch the JWKS
            let older = try await TokenIssuer(keys: [TestKeys.gatewayPrevious], audience: "sokoni", issuer: "sokoni-gateway")
                .issue(subject: "before-rotation", tenantID: try await platform.createTenant(), roles: [.agent])
            let response = try await TestHTTP.get("\(platform.url(.calendarBooking))/v1/calendar-booking/whoami", token: older)
            #expect(response.status == 200)
            // a key the gateway never published stays refused
            let rogue = try await TokenIssuer(keys: [SigningKey(kid: "rogue")], audience: "sokoni", issuer: "sokoni-gateway")
                .issue(subject: "x", tenantID: nil, roles: [.superAdmin])
            #expect(try await TestHTTP.get("\(platform.url(.vouchers))/v1/vouchers/whoami", token: rogue).status == 401)
        }
    }

    @Test func aServiceTokenIsAcceptedByEveryOtherService() async throws {
        try await TestPlatform.with { platform in
            let tokens = try await ServiceTokens(service: .messaging, seed: TestKeys.service.seed, audience: "sokoni", issuer: "sokoni-gateway")
            let tenant = try await platform.createTenant()
            let token = try await tokens.token(tenant: tenant)
            let response = try await TestHTTP.get("\(platform.url(.vouchers))/v1/vouchers/whoami", token: token)
            let identity = try response.json(CallerIdentity.self)
            #expect(identity.roles == [.service])
            #expect(identity.subject == "service:messaging")
            #expect(identity.tenantId == tenant.description)
        }
    }
}

/// Every service as two replicas on one database, both started at the same moment: the migrations apply once (their
/// advisory lock), every replica is ready, and sends asked of either gateway are stored once and sent once, whichever
/// messaging replica's worker claims them (the job queue is shared: no job runs twice).
@Suite struct ReplicaTests {
    @Test func everyServiceRunsAsTwoReplicasOnOneDatabase() async throws {
        struct Send: Encodable {
            var to: String
            var text: String
        }
        final class Replicas: Sendable {
            let started = Mutex<[TestPlatform]>([])
            let finished = Mutex(false)
        }
        let database = try await TestPostgres.createDatabase(prefix: "replicas")
        let shared = Replicas()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for replica in 0..<2 {
                group.addTask {
                    try await TestServices.with(
                        ServiceName.allCases, database: database, settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]]
                    ) { platform in
                        shared.started.withLock { $0.append(platform) }
                        // both replicas up before either does anything, and neither stops before the checks end
                        guard replica == 0 else {
                            while !shared.finished.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(50)) }
                            return
                        }
                        defer { shared.finished.withLock { $0 = true } }
                        let ready = try await TestWait.until(timeout: .seconds(120)) { shared.started.withLock { $0.count } == 2 }
                        try #require(ready, "the second replica started")
                        let replicas = shared.started.withLock { $0 }
                        for replica in replicas {
                            for service in ServiceName.allCases {
                                #expect(try await TestHTTP.get("\(replica.url(service))/readyz").status == 200, "\(service)")
                            }
                        }
                        let postgres = platform.environment(.messaging).postgres
                        for schema in ["identity", "messaging", "vouchers", "wallet", "agent", "calendar"] {
                            let (all, distinct) = try #require(
                                try await postgres.query(
                                    "SELECT count(*)::int, count(DISTINCT id)::int FROM \(unescaped: schema).schema_migrations", logger: TestLog.quiet
                                ).first(as: (Int, Int).self))
                            #expect(all == distinct && all > 0, "\(schema): \(all) rows, \(distinct) migrations")
                        }

                        let tenant = try await platform.createTenant()
                        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                        try await TestMessaging.quietHoursOff(gateway: platform.url(.gateway), token: admin)
                        let numbers = (0..<40).map { "+2507883400\(String(format: "%02d", $0))" }
                        try await withThrowingTaskGroup(of: Int.self) { sends in
                            for (index, number) in numbers.enumerated() {
                                let gateway = replicas[index % 2].url(.gateway)
                                sends.addTask {
                                    try await TestHTTP.post("\(gateway)/v1/messages", token: admin, json: Send(to: number, text: "Karibu \(index)")).status
                                }
                            }
                            for try await status in sends { #expect(status == 202) }
                        }
                        let count = { (sql: String) in
                            try await postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? -1
                        }
                        let sent = try await TestWait.until(timeout: .seconds(60)) {
                            try await count("SELECT count(*)::int FROM messaging.sandbox_outbox") == 40
                        }
                        #expect(sent, "40 sends in the sandbox outbox")
                        try await Task.sleep(for: .milliseconds(500))  // a second send would have come by now
                        #expect(try await count("SELECT count(*)::int FROM messaging.sandbox_outbox") == 40)
                        #expect(try await count("SELECT count(DISTINCT message_id)::int FROM messaging.sandbox_outbox") == 40)
                        #expect(try await count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'outbound'") == 40)
                        #expect(try await count("SELECT count(*)::int FROM messaging.jobs WHERE kind = 'message.send'") == 40)
                        #expect(try await count("SELECT coalesce(sum(attempts), 0)::int FROM messaging.jobs WHERE kind = 'message.send'") == 40)
                        // the first sends of a tenant made its sandbox channel once, whichever replica got there first
                        #expect(try await count("SELECT count(*)::int FROM messaging.channels WHERE kind = 'sandbox'") == 1)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
