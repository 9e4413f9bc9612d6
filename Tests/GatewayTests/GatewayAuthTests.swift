import Contracts
import Foundation
import Gateway
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing
import Vouchers

@Suite struct GatewayAuthTests {
    @Test func loginIssuesTokensThatEveryServiceAccepts() async throws {
        try await GatewayHarness.with { gw in
            let tenant = try await gw.createTenant("acme")
            let user = try await gw.createUser(email: "Owner@Acme.example", tenant: tenant.id, roles: [.tenantAdmin])
            let response = try await gw.login("owner@acme.example")
            #expect(response.status == 200)
            let pair = try response.json(TokenPair.self)
            #expect(pair.tokenType == "Bearer")
            #expect(pair.expiresIn == 600)
            // the access token carries sub, tid, roles, aud, exp, iat, jti
            let payload = try JSONSerialization.jsonObject(with: Base64URL.decode(pair.accessToken.split(separator: ".")[1])!) as! [String: Any]
            #expect(payload["sub"] as? String == user.id)
            #expect(payload["tid"] as? String == tenant.id)
            #expect(payload["roles"] as? [String] == ["tenant_admin"])
            #expect(payload["jti"] != nil && payload["iat"] != nil && payload["exp"] != nil && payload["aud"] != nil)
            let me = try await TestHTTP.get("\(gw.gateway)/v1/auth/me", token: pair.accessToken).json(Me.self)
            #expect(
                me
                    == Me(
                        id: user.id, email: "Owner@Acme.example", name: "Test", tenantId: tenant.id, roles: [.tenantAdmin], stationId: nil, allowed: me.allowed)
            )
            // what the route table lets a tenant admin do, and not
            #expect(me.allowed.contains("POST /v1/users") && me.allowed.contains("POST /v1/vouchers/{id}/transitions"))
            #expect(!me.allowed.contains("POST /v1/tenants") && !me.allowed.contains("POST /v1/redemptions"))
            // straight to a service, and through the gateway's proxy
            #expect(try await TestHTTP.get("\(gw.vouchers)/v1/vouchers/whoami", token: pair.accessToken).status == 200)
            let proxied = try await TestHTTP.get("\(gw.gateway)/v1/vouchers/whoami", token: pair.accessToken)
            #expect(proxied.status == 200)
            #expect(try proxied.json(CallerIdentity.self).subject == user.id)
            let lastSeen = try await gw.environment.postgres.query("SELECT last_seen_at IS NOT NULL FROM identity.users", logger: TestLog.quiet).first(
                as: Bool.self)
            #expect(lastSeen == true)
        }
    }

    @Test func wrongPasswordAndUnknownEmailGetTheSameAnswer() async throws {
        try await GatewayHarness.with(overrides: ["AUTH_BCRYPT_COST": "10"]) { gw in
            _ = try await gw.createUser(email: "a@x.example", tenant: nil, roles: [.support])
            let clock = ContinuousClock()
            var wrong = TestResponse(status: 0, headers: [:], body: Data())
            var unknown = wrong
            var wrongTimes: [Duration] = []
            var unknownTimes: [Duration] = []
            // each timed twice, interleaved, and the fastest of each compared: one stall of a loaded runner during a
            // single login must not decide it (this address's fourth failure is slowed on purpose, which only adds)
            for attempt in 0..<2 {
                wrongTimes.append(try await clock.measure { wrong = try await gw.login("a@x.example", "not-the-password") })
                unknownTimes.append(try await clock.measure { unknown = try await gw.login("nobody\(attempt)@x.example", "not-the-password") })
                #expect(wrong.status == 401)
                #expect(unknown.status == 401)
                #expect(wrong.body == unknown.body)
                #expect(wrong.errorCode == "invalid_credentials")
            }
            let wrongTime = try #require(wrongTimes.min())
            let unknownTime = try #require(unknownTimes.min())
            // both spend a bcrypt check at the configured cost (tens of milliseconds at cost 10)
            #expect(unknownTime > wrongTime / 3, "wrong password \(wrongTimes), unknown email \(unknownTimes)")
            #expect(unknownTime > .milliseconds(15))
        }
    }

    /// Finding 10: emails were unique platform-wide, so a tenant admin adding a person learned from 409 that the
    /// address belonged to another tenant or to staff. Now they are unique per tenant; login tells accounts apart by
    /// their password, and asks for the tenant only when one password opens several.
    @Test func oneEmailInSeveralTenantsSignsInToTheAccountItsPasswordOpens() async throws {
        try await GatewayHarness.with { gw in
            let acme = try await gw.createTenant("acme")
            let bolt = try await gw.createTenant("bolt")
            _ = try await gw.createUser(email: "staff@x.example", password: "staff-password-1", tenant: nil, roles: [.support])
            let inAcme = try await gw.createUser(email: "Pat@x.example", password: "acme-password-1", tenant: acme.id, roles: [.agent])

            // a tenant admin of bolt adds people whose emails exist elsewhere: nothing tells them so
            let boltAdmin = try await TestKeys.token(tenant: TenantID(bolt.id)!, roles: [.tenantAdmin])
            for email in ["pat@x.example", "STAFF@x.example"] {
                let body = CreateUser(email: email, password: "bolt-password-1", name: "Pat", tenantId: nil, roles: [.agent], stationId: nil)
                let created = try await TestHTTP.post("\(gw.gateway)/v1/users", token: boltAdmin, json: body)
                #expect(created.status == 201, "\(created.text)")
            }
            // within one tenant the email is still taken, whatever its case
            let again = CreateUser(email: "PAT@x.example", password: "bolt-password-2", name: "Pat", tenantId: nil, roles: [.agent], stationId: nil)
            let duplicate = try await TestHTTP.post("\(gw.gateway)/v1/users", token: boltAdmin, json: again)
            #expect(duplicate.status == 409)
            #expect(duplicate.errorCode == "email_taken")

            // each password opens its own account
            let acmeLogin = try await gw.login("pat@x.example", "acme-password-1")
            #expect(acmeLogin.status == 200, "\(acmeLogin.text)")
            let acmeMe = try await TestHTTP.get("\(gw.gateway)/v1/auth/me", token: try acmeLogin.json(TokenPair.self).accessToken)
            #expect(try acmeMe.json(Me.self).id == inAcme.id)
            let boltLogin = try await gw.login("PAT@x.example", "bolt-password-1")
            let boltMe = try await TestHTTP.get("\(gw.gateway)/v1/auth/me", token: try boltLogin.json(TokenPair.self).accessToken)
            #expect(try boltMe.json(Me.self).tenantId == bolt.id)
            let staffLogin = try await gw.login("staff@x.example", "staff-password-1")
            let staffMe = try await TestHTTP.get("\(gw.gateway)/v1/auth/me", token: try staffLogin.json(TokenPair.self).accessToken)
            #expect(try staffMe.json(Me.self).tenantId == nil)
            #expect(try await gw.login("pat@x.example", "staff-password-1").errorCode == "invalid_credentials")

            // the same password in two tenants: the caller names one, from the list only they can see
            _ = try await gw.createUser(email: "sam@x.example", password: "same-password-1", tenant: acme.id, roles: [.agent])
            _ = try await gw.createUser(email: "sam@x.example", password: "same-password-1", tenant: bolt.id, roles: [.agent])
            let ambiguous = try await gw.login("sam@x.example", "same-password-1")
            #expect(ambiguous.status == 409)
            #expect(ambiguous.errorCode == "tenant_required")
            let choices = try ambiguous.json(TenantChoiceBody.self).error.tenants
            #expect(choices.map(\.slug) == ["acme", "bolt"])
            let named = try await TestHTTP.post(
                "\(gw.gateway)/v1/auth/login", json: LoginRequest(email: "sam@x.example", password: "same-password-1", tenant: "bolt"))
            #expect(named.status == 200, "\(named.text)")
            let namedMe = try await TestHTTP.get("\(gw.gateway)/v1/auth/me", token: try named.json(TokenPair.self).accessToken)
            #expect(try namedMe.json(Me.self).tenantId == bolt.id)
            // a wrong password never shows the list
            let wrong = try await gw.login("sam@x.example", "not-the-password")
            #expect(wrong.status == 401)
            #expect(!wrong.text.contains("acme"))
        }
    }

    @Test func repeatedFailuresLockTheAccountUntilTheLockExpires() async throws {
        try await GatewayHarness.with(overrides: ["AUTH_MAX_FAILURES_PER_ACCOUNT": "4", "AUTH_LOCKOUT_SECONDS": "120"]) { gw in
            _ = try await gw.createUser(email: "victim@x.example", tenant: nil, roles: [.readonly])
            for _ in 0..<4 { #expect(try await gw.login("victim@x.example", "guess-guess-guess").status == 401) }
            let locked = try await gw.login("victim@x.example")
            #expect(locked.status == 429)
            #expect(locked.errorCode == "login_locked")
            let retryAfter = Int(locked.headers.first(name: "Retry-After") ?? "") ?? 0
            #expect(retryAfter > 60 && retryAfter <= 120)
            // the lock expires
            try await gw.environment.postgres.query("UPDATE identity.failure_counters SET locked_until = now() - interval '1 second'", logger: TestLog.quiet)
            #expect(try await gw.login("victim@x.example").status == 200)
            // and success clears the account's count
            let count = try await gw.environment.postgres.query(
                "SELECT count(*)::int FROM identity.failure_counters WHERE key = 'email:victim@x.example'", logger: TestLog.quiet
            ).first(as: Int.self)
            #expect(count == 0)
        }
    }

    @Test func failuresFromOneAddressAreLimitedToo() async throws {
        try await GatewayHarness.with(overrides: ["AUTH_MAX_FAILURES_PER_ADDRESS": "3"]) { gw in
            _ = try await gw.createUser(email: "other@x.example", tenant: nil, roles: [.readonly])
            for index in 0..<3 { _ = try await gw.login("spray\(index)@x.example", "guess-guess-guess") }
            let response = try await gw.login("other@x.example")
            #expect(response.status == 429)
            #expect(response.headers.first(name: "Retry-After") != nil)
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        try await GatewayHarness.with { gw in
            _ = try await gw.createUser(email: "r@x.example", tenant: nil, roles: [.support])
            let first = try await gw.login("r@x.example").json(TokenPair.self)
            let second = try await TestHTTP.post("\(gw.gateway)/v1/auth/refresh", json: RefreshRequest(refreshToken: first.refreshToken!))
            #expect(second.status == 200)
            let rotated = try second.json(TokenPair.self)
            #expect(rotated.refreshToken != first.refreshToken)
            #expect(try await TestHTTP.get("\(gw.gateway)/v1/auth/me", token: rotated.accessToken).status == 200)
            // the old one again at once: two tabs sharing one cookie raced; refused, but the session lives on
            let raced = try await TestHTTP.post("\(gw.gateway)/v1/auth/refresh", json: RefreshRequest(refreshToken: first.refreshToken!))
            #expect(raced.status == 401)
            #expect(raced.errorCode == "invalid_refresh_token")
            let third = try await TestHTTP.post("\(gw.gateway)/v1/auth/refresh", json: RefreshRequest(refreshToken: rotated.refreshToken!))
            #expect(third.status == 200)
            let latest = try third.json(TokenPair.self)
            // the old one again later: theft; the whole family dies, the newest token too
            try await gw.environment.postgres.query(
                "UPDATE identity.refresh_tokens SET used_at = used_at - interval '1 minute' WHERE used_at IS NOT NULL", logger: TestLog.quiet)
            let reuse = try await TestHTTP.post("\(gw.gateway)/v1/auth/refresh", json: RefreshRequest(refreshToken: first.refreshToken!))
            #expect(reuse.status == 401)
            #expect(reuse.errorCode == "refresh_token_reused")
            let afterTheft = try await TestHTTP.post("\(gw.gateway)/v1/auth/refresh", json: RefreshRequest(refreshToken: latest.refreshToken!))
            #expect(afterTheft.status == 401)
            #expect(afterTheft.errorCode == "invalid_refresh_token")
            // refresh tokens are stored hashed only
            let stored = try await gw.environment.postgres.query("SELECT token_hash FROM identity.refresh_tokens", logger: TestLog.quiet).all(as: String.self)
            #expect(!stored.contains(first.refreshToken!))
            #expect(stored.contains(sha256Hex(Data(first.refreshToken!.utf8))))
        }
    }

    @Test func logoutEndsTheSession() async throws {
        try await GatewayHarness.with { gw in
            _ = try await gw.createUser(email: "l@x.example", tenant: nil, roles: [.support])
            let pair = try await gw.login("l@x.example").json(TokenPair.self)
            #expect(try await TestHTTP.post("\(gw.gateway)/v1/auth/logout", json: RefreshRequest(refreshToken: pair.refreshToken!)).status == 204)
            let refresh = try await TestHTTP.post("\(gw.gateway)/v1/auth/refresh", json: RefreshRequest(refreshToken: pair.refreshToken!))
            #expect(refresh.status == 401)
        }
    }

    @Test func expiredAndTamperedTokensAreRefusedByTheGatewayAndByServices() async throws {
        try await GatewayHarness.with { gw in
            let tenant = try await gw.createTenant("tok")
            let good = try await TestKeys.token(tenant: TenantID(tenant.id)!, roles: [.tenantAdmin])
            let expired = try await TestKeys.issuer().issue(
                subject: "u", tenantID: TenantID(tenant.id)!, roles: [.tenantAdmin], lifetime: .seconds(60), now: Date().addingTimeInterval(-3600))
            let parts = good.split(separator: ".").map(String.init)
            var payload = try JSONSerialization.jsonObject(with: Base64URL.decode(parts[1])!) as! [String: Any]
            payload["roles"] = ["super_admin"]
            let tampered = [parts[0], Base64URL.encode(try JSONSerialization.data(withJSONObject: payload)), parts[2]].joined(separator: ".")
            for url in ["\(gw.gateway)/v1/auth/me", "\(gw.gateway)/v1/vouchers/whoami", "\(gw.vouchers)/v1/vouchers/whoami"] {
                #expect(try await TestHTTP.get(url, token: good).status == 200, "\(url)")
                for bad in [expired, tampered] {
                    let response = try await TestHTTP.get(url, token: bad)
                    #expect(response.status == 401, "\(url)")
                    #expect(response.errorCode == "invalid_token")
                }
            }
        }
    }

    @Test func tokensOfTheRotatedOutKeyStayValidAndJWKSListsBoth() async throws {
        try await GatewayHarness.with { gw in
            let jwks = try await TestHTTP.get("\(gw.gateway)/.well-known/jwks.json").json(JWKSDocument.self)
            #expect(jwks.keys.map(\.kid).contains(TestKeys.gatewayPrevious.kid))
            let older = try await TokenIssuer(keys: [TestKeys.gatewayPrevious], audience: "sokoni", issuer: "sokoni-gateway")
                .issue(subject: "old", tenantID: nil, roles: [.support])
            #expect(try await TestHTTP.get("\(gw.gateway)/v1/auth/me", token: older).status == 200)
            // the gateway signs with the first key
            _ = try await gw.createUser(email: "k@x.example", tenant: nil, roles: [.support])
            let fresh = try await gw.login("k@x.example").json(TokenPair.self).accessToken
            let header = try JSONSerialization.jsonObject(with: Base64URL.decode(fresh.split(separator: ".")[0])!) as! [String: Any]
            #expect(header["kid"] as? String == TestKeys.gateway.kid)
            #expect(header["alg"] as? String == "EdDSA")
        }
    }

    @Test func passwordsMustBeLongAndUncommonAndAreNeverReturned() async throws {
        try await GatewayHarness.with { gw in
            let token = try await gw.superAdmin
            for (password, expected) in [("short1", 422), ("password123", 422), ("aaaaaaaaaaaa", 422), ("a-much-better-passphrase", 201)] {
                let response = try await TestHTTP.post(
                    "\(gw.gateway)/v1/users", token: token,
                    json: CreateUser(email: "p\(password.count)\(expected)@x.example", password: password, roles: [.readonly]))
                #expect(response.status == expected, "\(password)")
                if expected == 422 { #expect(response.errorCode == "weak_password") }
                #expect(!response.text.contains(password) || expected == 422 && password.isEmpty)
            }
            let hash = try await gw.environment.postgres.query("SELECT password_hash FROM identity.users", logger: TestLog.quiet).first(as: String.self)
            #expect(hash?.hasPrefix("$2") == true)
        }
    }
}

@Suite struct DemoSeedTests {
    /// `gateway seed-demo` then `vouchers seed-demo` (twice, as `./Deploy/local` on every start): the demo station
    /// operator's station exists, and they redeem a voucher the demo owner issued.
    @Test func theDemoOperatorRedeemsAtTheDemoStation() async throws {
        try await GatewayHarness.with { gw in
            let users = try await DemoSeed.seed(client: gw.environment.postgres, password: "demo-sokoni-pass", cost: 4, logger: TestLog.quiet)
            let settings = try TestSettings.settings(for: .vouchers, database: gw.database)
            for _ in 0..<2 {
                #expect(try await VouchersService.runCommand("seed-demo", arguments: [], settings: settings, logger: TestLog.quiet))
            }
            func token(_ email: String) async throws -> String {
                try await gw.login(email, "demo-sokoni-pass").json(TokenPair.self).accessToken
            }
            let owner = try await token(try #require(users.first { $0.roles == [.tenantAdmin] }).email)
            let cashier = try await token(try #require(users.first { $0.roles == [.stationOperator] }).email)
            let station = try await TestHTTP.get("\(gw.gateway)/v1/stations/\(DemoData.station)", token: cashier)
            #expect(station.status == 200, "\(station.text)")
            let voucher = try await TestHTTP.post(
                "\(gw.gateway)/v1/vouchers", token: owner, json: CreateVoucher(amount: "2000", msisdn: "+250788123456")
            ).json(VoucherDTO.self)
            let redeemed = try await TestHTTP.post("\(gw.gateway)/v1/redemptions", token: cashier, json: RedeemRequest(code: voucher.code))
            #expect(redeemed.status == 200, "\(redeemed.text)")
        }
    }

    @Test func seedingTwiceGivesTheSameUsersWhoCanLogIn() async throws {
        try await GatewayHarness.with { gw in
            let first = try await DemoSeed.seed(client: gw.environment.postgres, password: "demo-sokoni-pass", cost: 4, logger: TestLog.quiet)
            let second = try await DemoSeed.seed(client: gw.environment.postgres, password: "demo-sokoni-pass", cost: 4, logger: TestLog.quiet)
            #expect(first.map(\.email) == second.map(\.email))
            let roles = Set(first.flatMap(\.roles))
            #expect(roles == [.superAdmin, .support, .dataOps, .readonly, .tenantAdmin, .agent, .stationOperator])
            let counts = try await gw.environment.postgres.query(
                "SELECT (SELECT count(*)::int FROM identity.users), (SELECT count(*)::int FROM identity.tenants)", logger: TestLog.quiet
            ).first(as: (Int, Int).self)
            #expect(counts?.0 == 7)
            #expect(counts?.1 == 1)
            for user in first {
                let response = try await gw.login(user.email, "demo-sokoni-pass")
                #expect(response.status == 200, "\(user.email)")
                let me = try await TestHTTP.get("\(gw.gateway)/v1/auth/me", token: try response.json(TokenPair.self).accessToken).json(Me.self)
                #expect(me.roles == user.roles)
                #expect(me.tenantId == user.tenantId)
            }
        }
    }
}

@Suite struct ClientAddressTests {
    static func failLogin(_ gw: GatewayHarness, from address: String, _ n: Int) async throws -> TestResponse {
        try await TestHTTP.post(
            "\(gw.gateway)/v1/auth/login", headers: ["X-Forwarded-For": address],
            json: LoginRequest(email: "nobody-\(n)@x.example", password: "wrong-password-123"))
    }

    /// Behind a trusted load balancer each client is throttled on its own address; from anyone else the header is
    /// the client's own claim and changes nothing.
    @Test func forwardedForCountsOnlyFromTrustedProxies() async throws {
        // each attempt names a new email, so only the address counts up (and the same limits keep answers unslowed)
        let limits = ["AUTH_MAX_FAILURES_PER_ADDRESS": "3", "AUTH_MAX_FAILURES_PER_ACCOUNT": "3"]
        try await GatewayHarness.with(overrides: limits.merging(["GATEWAY_TRUSTED_PROXIES": "127.0.0.1"]) { $1 }) { gw in
            for n in 0..<3 {
                let status = try await Self.failLogin(gw, from: "203.0.113.7", n).status
                #expect(status == 401)
            }
            #expect(try await Self.failLogin(gw, from: "203.0.113.7", 3).status == 429)
            // another client behind the same balancer is not locked out
            #expect(try await Self.failLogin(gw, from: "203.0.113.8", 4).status == 401)
        }
        try await GatewayHarness.with(overrides: limits) { gw in
            for n in 0..<3 {
                let status = try await Self.failLogin(gw, from: "203.0.113.\(n)", n).status
                #expect(status == 401)
            }
            // an untrusted peer cannot dodge the throttle by naming a new address each time
            #expect(try await Self.failLogin(gw, from: "203.0.113.9", 3).status == 429)
        }
    }
}
