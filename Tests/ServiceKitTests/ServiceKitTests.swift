import AsyncHTTPClient
import Foundation
import JWTKit
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport
import Testing
import Vouchers

/// Runs the probe service on its own database.
func withProbe<T: Sendable>(
    overrides: [String: String] = [:], logs: LogCapture? = nil, _ body: (RunningService<ProbeService>) async throws -> T
) async throws -> T {
    let database = try await TestPostgres.createDatabase()
    let settings = try TestSettings.settings(for: .messaging, database: database, overrides: overrides)
    return try await TestServices.with(ProbeService.self, settings: settings, logger: logs?.logger(label: "probe"), body)
}

let tenantA = TenantID()
let tenantB = TenantID()

@Suite struct AuthTests {
    @Test func hexIsTwoLowerCaseDigitsAByte() {
        #expect([UInt8]([0x00, 0x0f, 0xa0, 0xff]).hex == "000fa0ff")
        #expect([UInt8]().hex == "")
        #expect(sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func whoamiAnswersTheVerifiedIdentity() async throws {
        try await withProbe { probe in
            let station = StationID()
            let token = try await TestKeys.token(subject: "user-1", tenant: tenantA, roles: [.stationOperator], station: station)
            let response = try await TestHTTP.get("\(probe.baseURL)/v1/messaging/whoami", token: token)
            #expect(response.status == 200)
            let identity = try response.json(CallerIdentity.self)
            #expect(
                identity
                    == CallerIdentity(
                        subject: "user-1", tenantId: tenantA.description, tokenTenantId: tenantA.description, roles: [.stationOperator],
                        stationId: station.description, service: "messaging"))
        }
    }

    @Test func badTokensAreRefusedWith401() async throws {
        try await withProbe { probe in
            let url = "\(probe.baseURL)/v1/messaging/whoami"
            let issuer = await TestKeys.issuer()
            func claims(
                expires: Date = Date().addingTimeInterval(600), notBefore: Date? = nil, audience: String = "sokoni", issuerName: String = "sokoni-gateway"
            ) -> AccessClaims {
                AccessClaims(
                    subject: "u", tenantID: tenantA.description, roles: [.tenantAdmin], stationID: nil, audience: audience, issuer: issuerName,
                    expiresAt: expires, notBefore: notBefore)
            }
            let good = try await issuer.sign(claims())
            let expired = try await issuer.sign(claims(expires: Date().addingTimeInterval(-5)))
            let notYet = try await issuer.sign(claims(notBefore: Date().addingTimeInterval(300)))
            let wrongAudience = try await issuer.sign(claims(audience: "someone-else"))
            let wrongIssuer = try await issuer.sign(claims(issuerName: "evil"))
            let stranger = try await TokenIssuer(keys: [TestKeys.stranger], audience: "sokoni", issuer: "sokoni-gateway").sign(claims())
            // same header and signature, payload edited to claim super_admin
            let parts = good.split(separator: ".").map(String.init)
            var payload = try JSONSerialization.jsonObject(with: Base64URL.decode(parts[1])!) as! [String: Any]
            payload["roles"] = ["super_admin"]
            let tampered = [parts[0], Base64URL.encode(try JSONSerialization.data(withJSONObject: payload)), parts[2]].joined(separator: ".")
            // a service key token that claims more than the service role
            let serviceIssuer = await TokenIssuer(keys: [TestKeys.service], audience: "sokoni", issuer: "sokoni-gateway")
            let forgedByServiceKey = try await serviceIssuer.issue(subject: "service:x", tenantID: nil, roles: [.superAdmin])

            #expect(try await TestHTTP.get(url, token: good).status == 200)
            for (name, token) in [
                ("expired", expired), ("not yet valid", notYet), ("wrong audience", wrongAudience), ("wrong issuer", wrongIssuer),
                ("wrong key", stranger), ("tampered", tampered), ("service key claiming super_admin", forgedByServiceKey),
                ("garbage", "not.a.token"),
            ] {
                let response = try await TestHTTP.get(url, token: token)
                #expect(response.status == 401, "\(name)")
                #expect(response.errorCode == "invalid_token", "\(name)")
            }
            let expiredMessage = try await TestHTTP.get(url, token: expired).json(APIErrorBody.self).error.message
            #expect(expiredMessage.contains("expired"))
            let none = try await TestHTTP.get(url)
            #expect(none.status == 401)
            #expect(none.errorCode == "unauthorized")
        }
    }

    @Test func aVerifiedTokenStopsWorkingWhenItExpires() async throws {
        try await withProbe { probe in
            let url = "\(probe.baseURL)/v1/messaging/whoami"
            // a lifetime the two first calls fit in even on a loaded runner, then a wait until it is surely over:
            // the token's expiry is at most its lifetime after `minted`
            let token = try await TestKeys.token(tenant: tenantA, roles: [.agent], lifetime: .seconds(5))
            let minted = Date()
            #expect(try await TestHTTP.get(url, token: token).status == 200)
            #expect(try await TestHTTP.get(url, token: token).status == 200)  // from the verified-token cache
            try await Task.sleep(for: .seconds(max(0, minted.addingTimeInterval(5.2).timeIntervalSinceNow)))
            let late = try await TestHTTP.get(url, token: token)
            #expect(late.status == 401)
            #expect(late.errorCode == "invalid_token")
            // headers in odd case and spacing still count
            #expect(
                try await TestHTTP.get(url, headers: ["Authorization": "bEaReR   \(try await TestKeys.token(tenant: tenantA, roles: [.agent]))  "]).status
                    == 200)
        }
    }

    @Test func rolesAreCheckedPerRoute() async throws {
        try await withProbe { probe in
            let url = "\(probe.baseURL)/v1/probe/items"
            let body = try JSONEncoder().encode(ProbeService.CreateItem(name: "x"))
            for role in Role.allCases {
                let token = try await TestKeys.token(tenant: role.isPlatformStaff ? nil : tenantA, roles: [role])
                let response = try await TestHTTP.request(.POST, url, token: token, headers: ["X-Tenant-ID": tenantA.description], body: body)
                let allowed: Set<Role> = [.tenantAdmin, .superAdmin, .support]
                #expect(response.status == (allowed.contains(role) ? 201 : 403), "\(role)")
                if !allowed.contains(role) { #expect(response.errorCode == "forbidden") }
            }
        }
    }

    @Test func aTenantUserCannotReachAnotherTenant() async throws {
        try await withProbe { probe in
            let url = "\(probe.baseURL)/v1/probe/items"
            let adminA = try await TestKeys.token(tenant: tenantA, roles: [.tenantAdmin])
            let adminB = try await TestKeys.token(tenant: tenantB, roles: [.tenantAdmin])
            #expect(try await TestHTTP.post(url, token: adminA, json: ProbeService.CreateItem(name: "a-secret")).status == 201)
            // B sees nothing of A, not even by naming A's tenant in the header
            let listB = try await TestHTTP.get(url, token: adminB).json(Page<ProbeService.Item>.self)
            #expect(listB.items.isEmpty)
            let viaHeader = try await TestHTTP.get(url, token: adminB, headers: ["X-Tenant-ID": tenantA.description])
            #expect(viaHeader.status == 403)
            #expect(viaHeader.errorCode == "tenant_mismatch")
            let writeViaHeader = try await TestHTTP.post(
                url, token: adminB, headers: ["X-Tenant-ID": tenantA.description], json: ProbeService.CreateItem(name: "intrusion"))
            #expect(writeViaHeader.status == 403)
            // platform staff name the tenant they act on
            let support = try await TestKeys.token(tenant: nil, roles: [.support])
            let listA = try await TestHTTP.get(url, token: support, headers: ["X-Tenant-ID": tenantA.description]).json(Page<ProbeService.Item>.self)
            #expect(listA.items.map(\.name) == ["a-secret"])
            let noTenant = try await TestHTTP.get(url, token: support)
            #expect(noTenant.status == 400)
            #expect(noTenant.errorCode == "tenant_required")
        }
    }
}

@Suite struct IdempotencyTests {
    @Test func replayReturnsTheFirstResponseAndAMismatchIs409() async throws {
        try await withProbe { probe in
            let url = "\(probe.baseURL)/v1/probe/items"
            let token = try await TestKeys.token(tenant: tenantA, roles: [.tenantAdmin])
            let first = try await TestHTTP.post(url, token: token, headers: ["Idempotency-Key": "k-1"], json: ProbeService.CreateItem(name: "one"))
            #expect(first.status == 201)
            let replay = try await TestHTTP.post(url, token: token, headers: ["Idempotency-Key": "k-1"], json: ProbeService.CreateItem(name: "one"))
            #expect(replay.status == 201)
            #expect(replay.body == first.body)
            #expect(replay.headers.first(name: "Idempotent-Replayed") == "true")
            let mismatch = try await TestHTTP.post(url, token: token, headers: ["Idempotency-Key": "k-1"], json: ProbeService.CreateItem(name: "two"))
            #expect(mismatch.status == 409)
            #expect(mismatch.errorCode == "idempotency_key_reused")
            // the same key from another caller is another key
            let other = try await TestKeys.token(tenant: tenantB, roles: [.tenantAdmin])
            #expect(try await TestHTTP.post(url, token: other, headers: ["Idempotency-Key": "k-1"], json: ProbeService.CreateItem(name: "two")).status == 201)
            let rows = try await probe.environment.postgres.query("SELECT count(*)::int FROM messaging.probe_items", logger: TestLog.quiet).first(as: Int.self)
            #expect(rows == 2)
        }
    }

    @Test func concurrentRetriesWithOneKeyCreateOnce() async throws {
        try await withProbe { probe in
            let url = "\(probe.baseURL)/v1/probe/items"
            let token = try await TestKeys.token(tenant: tenantA, roles: [.tenantAdmin])
            let bodies = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        try await TestHTTP.post(url, token: token, headers: ["Idempotency-Key": "race"], json: ProbeService.CreateItem(name: "once"))
                    }
                }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            #expect(bodies.allSatisfy { $0.status == 201 })
            #expect(Set(bodies.map(\.body)).count == 1)
            let rows = try await probe.environment.postgres.query("SELECT count(*)::int FROM messaging.probe_items", logger: TestLog.quiet).first(as: Int.self)
            #expect(rows == 1)
        }
    }

    @Test func expiredKeysRunAgainAndFailedRequestsAreNotStored() async throws {
        try await withProbe { probe in
            let url = "\(probe.baseURL)/v1/probe/items"
            let token = try await TestKeys.token(tenant: tenantA, roles: [.tenantAdmin])
            // a failing write (CHECK constraint) leaves no key behind, so a corrected retry goes through
            let failed = try await TestHTTP.post(url, token: token, headers: ["Idempotency-Key": "k-2"], json: ProbeService.CreateItem(name: "boom"))
            // a write the database refuses is the caller's input, never a 500
            #expect(failed.status == 422)
            #expect(failed.errorCode == "constraint_violated")
            let keys = try await probe.environment.postgres.query("SELECT count(*)::int FROM messaging.idempotency_keys", logger: TestLog.quiet).first(
                as: Int.self)
            #expect(keys == 0)
            let first = try await TestHTTP.post(url, token: token, headers: ["Idempotency-Key": "k-3"], json: ProbeService.CreateItem(name: "a"))
            try await probe.environment.postgres.query("UPDATE messaging.idempotency_keys SET expires_at = now() - interval '1 second'", logger: TestLog.quiet)
            let again = try await TestHTTP.post(url, token: token, headers: ["Idempotency-Key": "k-3"], json: ProbeService.CreateItem(name: "a"))
            #expect(again.status == 201)
            #expect(again.headers.first(name: "Idempotent-Replayed") == nil)
            #expect(try again.json(ProbeService.Item.self).id != first.json(ProbeService.Item.self).id)
        }
    }
}

@Suite struct ErrorAndHealthTests {
    @Test func badInputGetsAJSONErrorWithACode() async throws {
        try await withProbe(overrides: ["HTTP_MAX_BODY_SIZE": "1024"]) { probe in
            let url = "\(probe.baseURL)/v1/probe/items"
            let token = try await TestKeys.token(tenant: tenantA, roles: [.tenantAdmin])
            let broken = try await TestHTTP.request(.POST, url, token: token, body: Data("{\"name\": ".utf8))
            #expect(broken.status == 400)
            #expect(broken.errorCode == "invalid_json")
            let missing = try await TestHTTP.request(.POST, url, token: token, body: Data("{}".utf8))
            #expect(missing.status == 400)
            #expect(try missing.json(APIErrorBody.self).error.message.contains("`name`"))
            let wrongType = try await TestHTTP.request(.POST, url, token: token, body: Data("{\"name\": 5}".utf8))
            #expect(wrongType.errorCode == "invalid_json")
            let floatMoney = try await TestHTTP.request(.POST, url, token: token, body: Data(#"{"name":"x","price":{"amount":1.5,"currency":"KES"}}"#.utf8))
            #expect(floatMoney.status == 400)
            let big = try await TestHTTP.request(.POST, url, token: token, body: Data(repeating: UInt8(ascii: "a"), count: 4096))
            #expect(big.status == 413)
            #expect(big.errorCode == "payload_too_large")
            let unknown = try await TestHTTP.get("\(probe.baseURL)/v1/nothing-here", token: token)
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "not_found")
            let rows = try await probe.environment.postgres.query("SELECT count(*)::int FROM messaging.probe_items", logger: TestLog.quiet).first(as: Int.self)
            #expect(rows == 0)
        }
    }

    @Test func internalErrorsAreLoggedButNeverShown() async throws {
        let logs = LogCapture()
        try await withProbe(logs: logs) { probe in
            let response = try await TestHTTP.get("\(probe.baseURL)/v1/probe/crash", headers: ["X-Request-ID": "crash-1"])
            #expect(response.status == 500)
            #expect(response.errorCode == "internal_error")
            #expect(!response.text.contains("hunter2"))
            #expect(
                logs.entries.contains {
                    $0.message == "request failed" && $0.metadata["error"]?.contains("hunter2") == true && $0.metadata["hb.request.id"] == "crash-1"
                })
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        try await withProbe { probe in
            let health = try await TestHTTP.get("\(probe.baseURL)/healthz")
            #expect(health.status == 200)
            // readiness gives the database 1.5 s; on a loaded two-core runner a check may lose that race, so each
            // question is asked until the database answered it
            func readiness() async throws -> TestResponse {
                var answer = try await TestHTTP.get("\(probe.baseURL)/readyz")
                for _ in 0..<5 where answer.text.contains("unreachable") {
                    answer = try await TestHTTP.get("\(probe.baseURL)/readyz")
                }
                return answer
            }
            let ready = try await readiness()
            #expect(ready.status == 200)
            #expect(ready.text.contains("\"migrations\":\"ok\""))
            _ = try await TestHTTP.get("\(probe.baseURL)/v1/messaging/whoami")
            let metrics = try await TestHTTP.get("\(probe.baseURL)/metrics").text
            #expect(metrics.contains(#"http_requests_total{method="GET",route="/v1/messaging/whoami",status="401"} 1"#))
            #expect(metrics.contains("http_request_duration_seconds_bucket"))
            #expect(metrics.contains(#"jobs{state="dead"} 0"#))
            // readiness reports a schema behind its migrations
            try await probe.environment.postgres.query("DELETE FROM messaging.schema_migrations WHERE id LIKE 'messaging/%'", logger: TestLog.quiet)
            let behind = try await readiness()
            #expect(behind.status == 503)
            #expect(behind.text.contains("pending"))
        }
    }

    @Test func requestIDTravelsThroughServiceClientIntoBothLogs() async throws {
        let probeLogs = LogCapture()
        let vouchersLogs = LogCapture()
        let database = try await TestPostgres.createDatabase()
        try await TestServices.with(
            VouchersService.self, settings: TestSettings.settings(for: .vouchers, database: database), logger: vouchersLogs.logger(label: "vouchers")
        ) { vouchers in
            let settings = try TestSettings.settings(for: .messaging, database: database, overrides: ["SERVICES_VOUCHERS_URL": vouchers.baseURL])
            try await TestServices.with(ProbeService.self, settings: settings, logger: probeLogs.logger(label: "probe")) { probe in
                // platform staff, so vouchers (running without a gateway here) has no tenant standing to ask about
                let token = try await TestKeys.token(subject: "relay-user", tenant: nil, roles: [.support])
                let response = try await TestHTTP.get("\(probe.baseURL)/v1/probe/relay", token: token, headers: ["X-Request-ID": "req-abc-123"])
                #expect(response.status == 200)
                #expect(response.headers.first(name: "X-Request-ID") == "req-abc-123")
                // vouchers saw the caller's own identity: the token was forwarded
                let seen = try response.json(CallerIdentity.self)
                #expect(seen.subject == "relay-user")
                #expect(seen.service == "vouchers")
                let probeLine = probeLogs.entries.first { $0.message == "request" && $0.metadata["http.route"] == "/v1/probe/relay" }
                let vouchersLine = vouchersLogs.entries.first { $0.message == "request" && $0.metadata["http.route"] == "/v1/vouchers/whoami" }
                #expect(probeLine?.metadata["hb.request.id"] == "req-abc-123")
                #expect(vouchersLine?.metadata["hb.request.id"] == "req-abc-123")
                #expect(vouchersLine?.metadata["http.status"] == "200")
                // an insane id is replaced, not echoed
                let odd = try await TestHTTP.get("\(probe.baseURL)/healthz", headers: ["X-Request-ID": "bad id {with} spaces"])
                #expect(odd.headers.first(name: "X-Request-ID") != "bad id {with} spaces")
                #expect(odd.headers.first(name: "X-Request-ID")?.isEmpty == false)
            }
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func aMissingOrMalformedValueNamesTheVariable() throws {
        let missing = #expect(throws: ConfigurationError.self) {
            try ServiceSettings(service: .vouchers, settings: .fromEnvironment(["JWT_SERVICE_KEY": "x"]))
        }
        #expect(missing?.description == "configuration error: DATABASE_URL (database.url) is required but not set")
        let badPort = #expect(throws: ConfigurationError.self) {
            try ServiceSettings(
                service: .vouchers, settings: .fromEnvironment(["DATABASE_URL": "postgres://u@h/d", "JWT_SERVICE_KEY": "x", "HTTP_PORT": "eighty"]))
        }
        #expect(badPort?.description.contains("HTTP_PORT") == true)
        let badURL = #expect(throws: ConfigurationError.self) {
            try ServiceSettings(service: .vouchers, settings: .fromEnvironment(["DATABASE_URL": "mysql://x", "JWT_SERVICE_KEY": "x"]))
        }
        #expect(badURL?.description.contains("DATABASE_URL") == true)
        let settings = try ServiceSettings(
            service: .vouchers,
            settings: .fromEnvironment([
                "DATABASE_URL": "postgres://u:p@db:5433/sokoni", "JWT_SERVICE_KEY": "x", "SERVICES_MARKETPLACE_WALLET_URL": "http://wallet:9000",
            ]))
        #expect(settings.port == 8082)
        #expect(settings.serviceURLs[.marketplaceWallet]?.absoluteString == "http://wallet:9000")
        #expect(settings.jwksURL.absoluteString == "http://127.0.0.1:8080/.well-known/jwks.json")
        #expect(Settings.environmentName(for: "services.agentCore.url") == "SERVICES_AGENT_CORE_URL")
    }
}
