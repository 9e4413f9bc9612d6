import AsyncHTTPClient
import Foundation
import Gateway
import Models
import NIOCore
import PostgresNIO
import ServiceKit
import TestSupport
import Testing
import Vouchers

/// What a hostile caller tried against the platform (issue 8's findings), each refused.
@Suite struct HostileCallerTests {
    static func body(_ text: String) -> Data { Data(text.utf8) }

    /// Finding 1: another tenant can neither bind operators to a victim's station nor lock it out by failing there.
    @Test func anotherTenantCannotBindOrLockAStation() async throws {
        try await VouchersHarness.with { h in
            let victim = try await h.station("victim")
            let other = try await h.otherTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            let bind = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/users", token: otherAdmin,
                body: Self.body(#"{"email":"spy@b.example","password":"correct-horse-battery","roles":["station_operator"],"stationId":"\#(victim.id)"}"#))
            #expect(bind.status == 422)
            #expect(bind.errorCode == "unknown_station")
            // even an operator token bound to it (as the old bug allowed) changes nothing there
            for attacker in 0..<3 {
                let spy = try await TestKeys.token(subject: "spy-\(attacker)", tenant: other, roles: [.stationOperator], station: StationID(victim.id))
                for _ in 0..<12 {
                    let tried = try await TestHTTP.post("\(h.vouchers)/v1/redemptions", token: spy, json: RedeemRequest(code: "ZZZZZ"))
                    #expect(tried.status == 403)
                }
            }
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.failure_counters WHERE locked_until > now()") == 0)
            let voucher = try await h.voucher()
            let own = try await h.token(.stationOperator, station: victim)
            #expect(try await h.redeem(RedeemRequest(code: voucher.code), as: own).status == 200)
            // a tenant admin binding an operator to their own station works
            let mine = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/users", token: h.admin,
                body: Self.body(#"{"email":"cashier@a.example","password":"correct-horse-battery","roles":["station_operator"],"stationId":"\#(victim.id)"}"#))
            #expect(mine.status == 201, "\(mine.text)")
        }
    }

    /// Finding 2 and 9: a suspended tenant is refused by the service itself, not only by the gateway's proxy; staff
    /// may read it but not write; a made-up X-Tenant-ID is refused.
    @Test func suspensionAndUnknownTenantsAreRefusedEverywhere() async throws {
        try await VouchersHarness.with { h in
            _ = try await h.station("before")
            let superAdmin = try await TestKeys.token(tenant: nil, roles: [.superAdmin])
            let support = try await TestKeys.token(tenant: nil, roles: [.support])
            let ghost = ["X-Tenant-ID": TenantID().description]
            let orphan = try await TestHTTP.post(
                "\(h.vouchers)/v1/stations", token: support, headers: ghost, json: CreateStation(name: "orphan", engencode: "EN-orphan"))
            #expect(orphan.status == 404)
            #expect(orphan.errorCode == "tenant_not_found")
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.stations WHERE name = 'orphan'") == 0)

            let suspend = try await TestHTTP.request(
                .PATCH, "\(h.gateway)/v1/tenants/\(h.tenant)", token: superAdmin, body: Self.body(#"{"status":"suspended"}"#))
            #expect(suspend.status == 200)
            try await Task.sleep(for: .milliseconds(300))
            let direct = try await TestHTTP.get("\(h.vouchers)/v1/vouchers", token: h.admin)
            #expect(direct.status == 403)
            #expect(direct.errorCode == "tenant_suspended")
            let issue = try await TestHTTP.post("\(h.vouchers)/v1/vouchers", token: h.admin, json: CreateVoucher(amount: "100", msisdn: "+250788123456"))
            #expect(issue.status == 403)
            let key = try await TestHTTP.request(.POST, "\(h.gateway)/v1/api-keys", token: h.admin, body: Self.body(#"{"name":"k","scopes":["agent"]}"#))
            #expect(key.status == 403)
            #expect(key.errorCode == "tenant_suspended")
            let staff = ["X-Tenant-ID": h.tenant.description]
            #expect(try await TestHTTP.get("\(h.vouchers)/v1/stations", token: support, headers: staff).status == 200)
            let staffWrite = try await TestHTTP.post(
                "\(h.vouchers)/v1/vouchers", token: support, headers: staff, json: CreateVoucher(amount: "100", msisdn: "+250788123456"))
            #expect(staffWrite.status == 403)
        }
    }

    /// Finding 3: a station operator who also holds another role still sees only their own station's redemptions.
    @Test func anOperatorWithASecondRoleSeesOnlyTheirStation() async throws {
        try await VouchersHarness.with { h in
            let mine = try await h.station("mine")
            let live = try await h.voucher()
            let mixed = try await TestKeys.token(subject: "mixed", tenant: h.tenant, roles: [.stationOperator, .agent], station: StationID(mine.id))
            let listed = try await TestHTTP.get("\(h.vouchers)/v1/vouchers", token: mixed).json(Page<VoucherDTO>.self)
            #expect(listed.items.isEmpty)
            #expect(try await TestHTTP.get("\(h.vouchers)/v1/vouchers/\(live.id)", token: mixed).status == 404)
        }
    }

    /// Finding 5: a chunked body on a route the gateway answers itself is cut off at the limit, not read whole.
    @Test func chunkedBodiesMeetTheLimitOnTheGatewaysOwnRoutes() async throws {
        try await VouchersHarness.with(gatewayOverrides: ["HTTP_MAX_BODY_SIZE": "65536"]) { h in
            var request = HTTPClientRequest(url: "\(h.gateway)/v1/auth/refresh")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 16_384)
            let chunks = (0..<64).map { _ in chunk }
            request.body = .stream(chunks.async, length: .unknown)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status.code == 413)
        }
    }

    /// Finding 6 and 12: bad bytes and absurd values are refused with 4xx, nothing written.
    @Test func badTextAndAbsurdValuesAreRefusedCleanly() async throws {
        try await VouchersHarness.with { h in
            let nul = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/stations", token: h.admin, body: Self.body(#"{"name":"a\u0000b","engencode":"EN-nul"}"#))
            #expect(nul.status == 422)
            let metadata = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/vouchers", token: h.admin, body: Self.body(#"{"amount":"100","msisdn":"+250788123456","metadata":{"k\u0000":"v"}}"#))
            #expect(metadata.status == 422)
            let flags = String(repeating: "🇷🇼", count: 200)
            let long = try await TestHTTP.post("\(h.gateway)/v1/stations", token: h.admin, json: CreateStation(name: flags, engencode: "EN-flags"))
            #expect(long.status == 422)
            #expect(long.errorCode == "invalid_name")
            let nulCursor = try await TestHTTP.get("\(h.gateway)/v1/stations?cursor=%00", token: h.admin)
            #expect(nulCursor.status == 400)
            #expect(nulCursor.text.contains("NUL"))
            #expect(try await TestHTTP.get("\(h.gateway)/v1/vouchers?cursor=garbage", token: h.admin).errorCode == "invalid_cursor")
            let digits = try await TestHTTP.get("\(h.gateway)/v1/voucher-metrics?from=%D9%A2%D9%A0%D9%A2%D9%A4-%D9%A0%D9%A1-%D9%A0%D9%A1", token: h.admin)
            #expect(digits.status == 400)
            #expect(digits.errorCode == "invalid_date")
            let huge = try await TestHTTP.post(
                "\(h.gateway)/v1/vouchers", token: h.admin, json: CreateVoucher(amount: "9223372036854775807", msisdn: "+250788123456"))
            #expect(huge.status == 422)
            let nowhere = try await TestHTTP.post("\(h.gateway)/v1/vouchers", token: h.admin, json: CreateVoucher(amount: "100", msisdn: "+999123456789"))
            #expect(nowhere.status == 422)
            let farFuture = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/vouchers", token: h.admin,
                body: Self.body(#"{"amount":"100","msisdn":"+250788123456","expiresAt":"99999-01-01T00:00:00Z"}"#))
            #expect(farFuture.status == 400)
            let keyName = String(repeating: "k", count: 100_000)
            let key = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/api-keys", token: h.admin, body: Self.body(#"{"name":"\#(keyName)","scopes":["agent"]}"#))
            #expect(key.status == 422)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.stations WHERE engencode IN ('EN-nul', 'EN-flags')") == 0)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers") == 0)
        }
    }

    /// Finding 10: a tenant's users see how many codes their tenant holds, not the platform's count.
    @Test func theCodeSpaceShowsATenantOnlyItsOwnShare() async throws {
        try await VouchersHarness.with { h in
            _ = try await h.voucher()
            _ = try await h.voucher()
            let other = try await h.otherTenant()
            let stranger = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await TestHTTP.get("\(h.vouchers)/v1/vouchers/code-space", token: stranger).json(CodeSpace.self).used == 0)
            #expect(try await TestHTTP.get("\(h.vouchers)/v1/vouchers/code-space", token: h.admin).json(CodeSpace.self).used == 2)
        }
    }

    /// Finding 7 and 8: identical concurrent role replacements all succeed; overlapping bulk issues in opposite
    /// key orders do not deadlock.
    @Test func concurrentRoleGrantsAndOverlappingBulkIssuesAllSucceed() async throws {
        try await VouchersHarness.with { h in
            let created = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/users", token: h.admin,
                body: Self.body(#"{"email":"race@a.example","password":"correct-horse-battery","roles":["agent"]}"#))
            let user = try created.json(UserDTO.self)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await TestHTTP.request(
                            .PUT, "\(h.gateway)/v1/users/\(user.id)/roles", token: h.admin, body: Self.body(#"{"roles":["tenant_admin"]}"#)
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")

            let campaign = UUID().uuidString
            let keys = (0..<300).map { String(format: "r%04d", $0) }
            func bulk(_ keys: [String]) async throws -> Int {
                try await TestHTTP.post(
                    "\(h.gateway)/v1/vouchers/bulk", token: h.admin,
                    json: BulkIssue(campaignId: campaign, amount: "100", recipients: keys.map { BulkRecipient(recipientKey: $0, msisdn: "+250788123456") })
                ).status
            }
            async let forward = bulk(keys)
            async let backward = bulk(keys.reversed())
            #expect(try await [forward, backward] == [200, 200])
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers WHERE campaign_id = '\(campaign)'") == 300)
        }
    }

    /// Finding 11: a NUL in a password is refused (bcrypt would stop there and accept the prefix too).
    @Test func passwordsWithNULAreRefused() async throws {
        try await VouchersHarness.with { h in
            let created = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/users", token: h.admin,
                body: Self.body(#"{"email":"nul@a.example","password":"Abcdefgh\u0000ijk-long-enough","roles":["agent"]}"#))
            #expect(created.status == 422)
            #expect(try await h.count("SELECT count(*)::int FROM identity.users WHERE email = 'nul@a.example'") == 0)
        }
    }

    /// Finding 14: an API key cannot create API keys; revoking a key revokes what it created before.
    @Test func keysCannotMintKeys() async throws {
        try await VouchersHarness.with { h in
            // with an Idempotency-Key (the gateway's own routes read their bodies twice then: once for the key's
            // fingerprint), the retry gets the first answer back
            let once = ["Idempotency-Key": "till-1"]
            let made = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/api-keys", token: h.admin, headers: once, body: Self.body(#"{"name":"till","scopes":["tenant_admin"]}"#))
            #expect(made.status == 201)
            let again = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/api-keys", token: h.admin, headers: once, body: Self.body(#"{"name":"till","scopes":["tenant_admin"]}"#))
            #expect(again.status == 201)
            #expect(again.text == made.text)
            let key = try #require(try made.json(APIKeyDTO.self).key)
            let child = try await TestHTTP.request(
                .POST, "\(h.gateway)/v1/api-keys", headers: ["X-API-Key": key], body: Self.body(#"{"name":"child","scopes":["tenant_admin"]}"#))
            #expect(child.status == 403)
            #expect(child.errorCode == "api_key_cannot_create_keys")
        }
    }

    /// Finding 12: failure counters of the past are forgotten.
    @Test func staleFailureCountersArePurged() async throws {
        try await VouchersHarness.with { h in
            try await h.postgres.query(
                "INSERT INTO vouchers.failure_counters (key, failures, first_failed_at) VALUES ('old', 1, now() - interval '2 days'), ('fresh', 1, now())",
                logger: TestLog.quiet)
            let throttle = FailureThrottle(postgres: h.postgres, schema: "vouchers", lockout: .seconds(60))
            #expect(try await throttle.purgeStale(logger: TestLog.quiet) == 1)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.failure_counters") == 1)
        }
    }
}
