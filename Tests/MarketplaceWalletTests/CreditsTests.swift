import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import MarketplaceWallet

/// Usage credits through the gateway on a real PostgreSQL: reserved once per reply, never below zero under
/// concurrency, settled or released, expired when a reply never comes, topped up once per key, alerts once.
@Suite struct CreditsTests {
    struct Credits {
        let books: LedgerTests.Books
        let service: String

        func reserve(_ reference: String, credits: Int = 1) async throws -> TestResponse {
            try await self.books.post("/v1/credits/reservations", #"{"reference":"\#(reference)","credits":\#(credits)}"#, token: self.service)
        }

        func resolve(_ reference: String, _ action: String) async throws -> TestResponse {
            try await self.books.post("/v1/credits/reservations/\(reference)/\(action)", "{}", token: self.service)
        }

        func state() async throws -> CreditsDTO {
            try await self.books.get("/v1/credits").json(CreditsDTO.self)
        }
    }

    static func with(grant: Int = 10, _ body: (Credits) async throws -> Void) async throws {
        let settings = ["WALLET_CREDITS_INITIAL_GRANT": "\(grant)", "WALLET_CREDITS_LOW_THRESHOLD": "3", "WALLET_HOLD_SWEEP_INTERVAL_MS": "20"]
        try await LedgerTests.with(settings: settings) { books in
            let service = try await TestKeys.token(tenant: books.tenant, roles: [.service])
            try await body(Credits(books: books, service: service))
        }
    }

    @Test func aReplyReservesThenSettlesOrReleasesOncePerReference() async throws {
        try await Self.with { credits in
            // the usage is counted per UTC day: the settle below and the read of "today" must fall on one
            try await TestWait.clearOfUTCMidnight()
            // a tenant starts with the grant
            let start = try await credits.state()
            #expect(start.remaining == 10 && start.available == 10 && start.used == 0)
            #expect(start.events.map(\.kind) == ["grant"] && start.usagePerDay.count == 30)

            let first = try await credits.reserve("msg-1")
            #expect(first.status == 201, "\(first.text)")
            #expect(try first.json(WalletAPI.CreditReservation.self).available == 9)
            // the same reply retried reserves nothing more
            let again = try await credits.reserve("msg-1")
            #expect(again.status == 200)
            #expect(try again.json(WalletAPI.CreditReservation.self).status == "reserved")
            #expect(try await credits.state().reserved == 1)

            let settled = try await credits.resolve("msg-1", "settle")
            #expect(settled.status == 200)
            #expect(try settled.json(WalletAPI.CreditReservation.self).status == "settled")
            #expect(try await credits.resolve("msg-1", "settle").status == 200)
            #expect(try await credits.resolve("msg-1", "release").errorCode == "reservation_settled")
            let after = try await credits.state()
            #expect(after.remaining == 9 && after.reserved == 0 && after.used == 1)
            #expect(after.usagePerDay.last?.used == 1)

            // released: the credit is free again, nothing used
            #expect(try await credits.reserve("msg-2", credits: 2).status == 201)
            #expect(try await credits.resolve("msg-2", "release").status == 200)
            let released = try await credits.state()
            #expect(released.remaining == 9 && released.available == 9 && released.used == 1)
            #expect(try await credits.resolve("nope", "settle").status == 404)
            for bad in [#"{"reference":"a/b","credits":1}"#, #"{"reference":"","credits":1}"#, #"{"reference":"x","credits":0}"#] {
                let response = try await credits.books.post("/v1/credits/reservations", bad, token: credits.service)
                #expect(response.status == 422, "\(bad): \(response.text)")
            }
        }
    }

    @Test func aHundredConcurrentRepliesOnTenCreditsReserveExactlyTen() async throws {
        try await Self.with { credits in
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let response = try await credits.reserve("reply-\(index)")
                        return "\(response.status) \(response.errorCode ?? "")"
                    }
                }
                return try await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
            }
            #expect(outcomes == ["201 ": 10, "409 credits_exhausted": 90], "\(outcomes)")
            let state = try await credits.state()
            #expect(state.remaining == 10 && state.reserved == 10 && state.available == 0)
            // one exhausted alert however many were refused, and one low alert on the way down
            #expect(state.alerts.map(\.kind).sorted() == ["exhausted", "low"])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<100 {
                    group.addTask { _ = try await credits.resolve("reply-\(index)", "settle") }
                }
                try await group.waitForAll()
            }
            let used = try await credits.state()
            #expect(used.remaining == 0 && used.reserved == 0 && used.used == 10)
            #expect(try await credits.books.count("SELECT count(*)::int FROM wallet.credit_balances WHERE remaining < 0 OR reserved < 0") == 0)

            // a top-up once per key starts a new episode: alerts can come again
            let topUp = try await credits.books.post(
                "/v1/credits/topups", #"{"credits":5,"reason":"monthly plan"}"#, token: credits.service, key: "plan-2026-12")
            #expect(topUp.status == 201, "\(topUp.text)")
            let retried = try await credits.books.post(
                "/v1/credits/topups", #"{"credits":5,"reason":"monthly plan"}"#, token: credits.service, key: "plan-2026-12")
            #expect(retried.status == 200)
            #expect(try retried.json(CreditsDTO.self).remaining == 5)
            #expect(try await credits.reserve("after-topup").status == 201)
            for index in 0..<5 { _ = try await credits.reserve("drain-\(index)") }
            let drained = try await credits.state()
            #expect(drained.available == 0 && drained.alerts.filter { $0.kind == "exhausted" }.count == 2)
        }
    }

    @Test func aReservationWhoseReplyNeverComesIsReleased() async throws {
        try await Self.with { credits in
            #expect(try await credits.reserve("lost").status == 201)
            try await credits.books.postgres.query(
                "UPDATE wallet.credit_reservations SET expires_at = now() WHERE reference = 'lost'", logger: TestLog.quiet)
            #expect(try await TestWait.until { try await credits.state().reserved == 0 })
            #expect(try await credits.resolve("lost", "settle").errorCode == "reservation_expired")
            #expect(try await credits.resolve("lost", "release").status == 200)
            #expect(try await credits.state().available == 10)
        }
    }

    @Test func rolesAndTenants() async throws {
        try await Self.with { credits in
            let books = credits.books
            for role in Role.allCases {
                let staff = role.isPlatformStaff
                let token = try await TestKeys.token(tenant: staff ? nil : books.tenant, roles: [role])
                let headers = staff || role == .service ? ["X-Tenant-ID": books.tenant.description] : [:]
                let read = try await TestHTTP.get("\(books.gateway)/v1/credits", token: token, headers: headers)
                let readers: Set<Role> = [.superAdmin, .support, .dataOps, .readonly, .tenantAdmin, .service]
                #expect(read.status == (readers.contains(role) ? 200 : 403), "\(role) read: \(read.status)")
                let reserve = try await TestHTTP.request(
                    .POST, "\(books.gateway)/v1/credits/reservations", token: token, headers: headers,
                    body: Data(#"{"reference":"r-\#(role)","credits":1}"#.utf8))
                #expect(reserve.status == (role == .service ? 201 : 403), "\(role) reserve: \(reserve.status)")
                let topUp = try await TestHTTP.request(
                    .POST, "\(books.gateway)/v1/credits/topups", token: token, headers: headers.merging(["Idempotency-Key": "t-\(role)"]) { $1 },
                    body: Data(#"{"credits":1,"reason":"test"}"#.utf8))
                #expect(topUp.status == ([.superAdmin, .service].contains(role) ? 201 : 403), "\(role) top-up: \(topUp.status)")
            }
            // another tenant's credits are its own
            let other = try await books.platform.createTenant()
            let otherService = try await TestKeys.token(tenant: other, roles: [.service])
            #expect(try await books.post("/v1/credits/reservations/r-service/settle", "{}", token: otherService).status == 404)
            let theirs = try await books.get("/v1/credits", token: try await TestKeys.token(tenant: other, roles: [.tenantAdmin]))
            #expect(try theirs.json(CreditsDTO.self).used == 0)
            #expect(try theirs.json(CreditsDTO.self).reserved == 0)
        }
    }
}
