import Foundation
import Hummingbird
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing
import Vouchers

@Suite struct VoucherStateMachineTests {
    static let all: [String] = ["issued", "sent", "redeemed", "expired", "void"]
    static let allowed: Set<String> = ["issued>sent", "issued>expired", "issued>void", "issued>redeemed", "sent>redeemed", "sent>expired", "sent>void"]

    /// Every pair of states, straight in SQL: the database itself allows exactly the machine's moves, and each
    /// allowed move writes its event.
    @Test func theDatabaseEnforcesEveryTransition() async throws {
        try await VouchersHarness.with { h in
            let station = try await h.station("sm")
            for from in Self.all {
                for to in Self.all where to != from {
                    let voucher = try await h.voucher()
                    let id = UUID(uuidString: voucher.id)!
                    // reach `from` along allowed moves
                    let path: [String] =
                        switch from {
                        case "issued": []
                        case "redeemed": ["redeemed"]
                        default: [from]
                        }
                    for step in path { try await Self.move(h, id, to: step, station: station) }
                    let before = try await h.count("SELECT count(*)::int FROM vouchers.voucher_events WHERE voucher_id = '\(id)'")
                    let allowed = Self.allowed.contains("\(from)>\(to)")
                    do {
                        try await Self.move(h, id, to: to, station: station)
                        #expect(allowed, "\(from) → \(to) should be refused")
                        let events = try await h.count("SELECT count(*)::int FROM vouchers.voucher_events WHERE voucher_id = '\(id)' AND event_type = '\(to)'")
                        #expect(events == 1)
                    } catch let error as PSQLError {
                        #expect(!allowed, "\(from) → \(to) should be allowed: \(error)")
                        #expect(error.sqlState == "23514")
                        let after = try await h.count("SELECT count(*)::int FROM vouchers.voucher_events WHERE voucher_id = '\(id)'")
                        #expect(after == before)
                    }
                }
            }
            // a voucher cannot be born redeemed, nor have its code changed
            await #expect(throws: PSQLError.self) {
                try await h.postgres.query(
                    "INSERT INTO vouchers.vouchers (id, tenant_id, code, amount_minor, currency, msisdn, status, created_by) VALUES (\(UUID()), \(h.tenant.rawValue), 'ABCDE', 1, 'RWF', '+250788123456', 'redeemed', 'x')",
                    logger: TestLog.quiet)
            }
            let any = try await h.voucher()
            await #expect(throws: PSQLError.self) {
                try await h.postgres.query("UPDATE vouchers.vouchers SET code = 'ZZZZZ' WHERE id = \(UUID(uuidString: any.id)!)", logger: TestLog.quiet)
            }
        }
    }

    /// Redemptions no longer reference stations through foreign keys (migration 0004); what the keys guaranteed
    /// holds by other means: a station is never deleted nor re-keyed, and an operator whose station does not exist
    /// in the tenant redeems nothing and leaves nothing behind.
    @Test func stationsAreKeptAndAGhostStationRedeemsNothing() async throws {
        try await VouchersHarness.with { h in
            let station = try await h.station("kept")
            let id = UUID(uuidString: station.id)!
            let refused: [PostgresQuery] = [
                "DELETE FROM vouchers.stations WHERE id = \(id)", "UPDATE vouchers.stations SET id = \(UUID()) WHERE id = \(id)",
                "UPDATE vouchers.stations SET tenant_id = \(UUID()) WHERE id = \(id)",
            ]
            for sql in refused {
                await #expect { try await h.postgres.query(sql, logger: TestLog.quiet) } throws: { ($0 as? PSQLError)?.sqlState == "23514" }
            }
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.stations WHERE id = '\(id)' AND tenant_id = '\(h.tenant.rawValue)'") == 1)
            // renaming still works: only the key is frozen
            try await h.postgres.query("UPDATE vouchers.stations SET name = 'renamed' WHERE id = \(id)", logger: TestLog.quiet)

            let voucher = try await h.voucher()
            let ghost = try await TestKeys.token(subject: "ghost", tenant: h.tenant, roles: [.stationOperator], station: StationID(rawValue: UUID()))
            let answer = try await h.redeem(RedeemRequest(code: voucher.code), as: ghost)
            #expect(answer.status == 403)
            #expect(answer.errorCode == "station_inactive")
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers WHERE id = '\(voucher.id)' AND status = 'issued'") == 1)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.voucher_events WHERE voucher_id = '\(voucher.id)' AND event_type = 'redeemed'") == 0)
        }
    }

    static func move(_ h: VouchersHarness, _ id: UUID, to status: String, station: StationDTO) async throws {
        if status == "redeemed" {
            try await h.postgres.query(
                "UPDATE vouchers.vouchers SET status = 'redeemed', redeemed_at = now(), redeemed_station_id = \(UUID(uuidString: station.id)!) WHERE id = \(id)",
                logger: TestLog.quiet)
        } else {
            try await h.postgres.query("UPDATE vouchers.vouchers SET status = \(status) WHERE id = \(id)", logger: TestLog.quiet)
        }
    }

    @Test func transitionsThroughTheAPIWriteEventsAndAudit() async throws {
        try await VouchersHarness.with { h in
            let voucher = try await h.voucher()
            #expect(voucher.code.count == 5)
            #expect(voucher.code.allSatisfy { VoucherCode.alphabet.contains($0) })
            #expect(voucher.currency == "RWF")  // the tenant's
            #expect(voucher.amount == "5000")
            let sent = try await TestHTTP.post("\(h.gateway)/v1/vouchers/\(voucher.id)/transitions", token: h.admin, json: Transition(to: .sent))
            #expect(try sent.json(VoucherDTO.self).status == .sent)
            let void = try await TestHTTP.post(
                "\(h.gateway)/v1/vouchers/\(voucher.id)/transitions", token: h.admin, json: Transition(to: .void, reason: "typo"))
            #expect(try void.json(VoucherDTO.self).status == .void)
            let audits = try await h.count("SELECT count(*)::int FROM vouchers.audit_log WHERE target_id = '\(voucher.id)'")
            // a refused move changes nothing: no event, no audit row
            let back = try await TestHTTP.post("\(h.gateway)/v1/vouchers/\(voucher.id)/transitions", token: h.admin, json: Transition(to: .sent))
            #expect(back.status == 409)
            #expect(back.errorCode == "illegal_transition")
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.audit_log WHERE target_id = '\(voucher.id)'") == audits)
            let events = try await TestHTTP.get("\(h.gateway)/v1/vouchers/\(voucher.id)/events", token: h.admin).json(Page<VoucherEventDTO>.self)
            #expect(events.items.map(\.eventType) == ["issued", "sent", "void"])
            #expect(events.items.last?.actor == "admin-1")
            #expect(events.items.last?.context["reason"] == .string("typo"))
            #expect(audits == 3)
        }
    }
}

@Suite struct RedemptionTests {
    @Test func oneHundredConcurrentRedemptionsOfOneCodeHaveOneWinner() async throws {
        try await VouchersHarness.with { h in
            let station = try await h.station("race")
            let voucher = try await h.voucher()
            let operators = try await (0..<10).asyncMap { _ in try await h.token(.stationOperator, station: station) }
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 0..<100 {
                    group.addTask {
                        let response = try await h.redeem(RedeemRequest(code: voucher.code), as: operators[index % 10])
                        return (response.status, response.errorCode)
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 200 }.count == 1)
            #expect(statuses.filter { $0.0 == 409 && $0.1 == "already_redeemed" }.count == 99)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.voucher_events WHERE event_type = 'redeemed'") == 1)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.jobs WHERE kind = 'voucher.notify_redeemed'") == 1)
        }
    }

    @Test func aRetriedRedemptionReplaysTheFirstAnswer() async throws {
        // messaging stands in as a service that does not know the endpoint yet (404)
        try await TestUpstream.with(Router()) { messaging in
            try await VouchersHarness.with(overrides: ["SERVICES_MESSAGING_URL": messaging]) { h in
                let station = try await h.station("offline")
                let voucher = try await h.voucher()
                let cashier = try await h.token(.stationOperator, station: station)
                let first = try await h.redeem(RedeemRequest(code: voucher.code.lowercased()), as: cashier, key: "till-7-0001")
                #expect(first.status == 200)
                let redemption = try first.json(Redemption.self)
                #expect(redemption.maskedMsisdn == "+250*******56")
                #expect(redemption.stationId == station.id)
                let retry = try await h.redeem(RedeemRequest(code: voucher.code.lowercased()), as: cashier, key: "till-7-0001")
                #expect(retry.status == 200)
                #expect(retry.body == first.body)
                #expect(retry.headers.first(name: "Idempotent-Replayed") == "true")
                let mine = try await TestHTTP.get("\(h.gateway)/v1/redemptions?mine", token: cashier).json(Page<Redemption>.self)
                #expect(mine.items.map(\.voucherId) == [voucher.id])
                // a new attempt (another key) is told when and where the voucher was used
                let again = try await h.redeem(RedeemRequest(code: voucher.code), as: cashier, key: "till-7-0002")
                #expect(again.status == 409 && again.errorCode == "already_redeemed")
                let day = redemption.redeemedAt.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
                #expect(try again.json(APIErrorBody.self).error.message.hasPrefix("This voucher was already redeemed on \(day) at "))
                #expect(try again.json(APIErrorBody.self).error.message.hasSuffix(" UTC at offline."), "\(again.text)")
                // today's only, for the Station app's running total
                let since = Date().addingTimeInterval(-60).formatted(Date.ISO8601FormatStyle())
                let recent = try await TestHTTP.get("\(h.gateway)/v1/redemptions?mine&since=\(since)", token: cashier).json(Page<Redemption>.self)
                #expect(recent.items.count == 1)
                let later = Date().addingTimeInterval(60).formatted(Date.ISO8601FormatStyle())
                #expect(try await TestHTTP.get("\(h.gateway)/v1/redemptions?mine&since=\(later)", token: cashier).json(Page<Redemption>.self).items.isEmpty)
                #expect(try await TestHTTP.get("\(h.gateway)/v1/redemptions?since=yesterday", token: cashier).errorCode == "invalid_since")
                // the customer's notice waits for messaging's endpoint: it fails and stays queued for a retry
                var state: (String, Int, String?)?
                for _ in 0..<200 {
                    state = try await h.postgres.query(
                        "SELECT status, attempts, last_error FROM vouchers.jobs WHERE kind = 'voucher.notify_redeemed'", logger: TestLog.quiet
                    ).first(as: (String, Int, String?).self)
                    if (state?.1 ?? 0) >= 1 && state?.0 == "queued" { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(state?.0 == "queued")
                #expect((state?.1 ?? 0) >= 1)
                #expect(state?.2?.contains("404") == true)
            }
        }
    }

    @Test func expiryIsCheckedAtTheBoundaryAndSweptAway() async throws {
        try await VouchersHarness.with(overrides: ["VOUCHERS_SWEEP_INTERVAL_MS": "100"]) { h in
            let station = try await h.station("clock")
            let cashier = try await h.token(.stationOperator, station: station)
            let soon = try await h.voucher(expiresAt: Date().addingTimeInterval(3600))
            let later = try await h.voucher(expiresAt: Date().addingTimeInterval(3600))
            // exactly at the boundary: expires_at = now() is already expired
            try await h.postgres.query("UPDATE vouchers.vouchers SET expires_at = now() WHERE id = \(UUID(uuidString: soon.id)!)", logger: TestLog.quiet)
            let late = try await h.redeem(RedeemRequest(code: soon.code), as: cashier)
            #expect(late.status == 409)
            #expect(late.errorCode == "expired")
            #expect(try await h.redeem(RedeemRequest(code: later.code), as: cashier).status == 200)
            // the sweeper moves it to expired, with its event and audit row
            var status = ""
            for _ in 0..<50 {
                status = try await TestHTTP.get("\(h.gateway)/v1/vouchers/\(soon.id)", token: h.admin).json(VoucherDTO.self).status.rawValue
                if status == "expired" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(status == "expired")
            #expect(
                try await h.count("SELECT count(*)::int FROM vouchers.voucher_events WHERE event_type = 'expired' AND actor = 'system:expiry-sweeper'") == 1)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.audit_log WHERE action = 'voucher.expire' AND target_id = '\(soon.id)'") == 1)
        }
    }

    @Test func theWrongOrAnInactiveStationCannotRedeem() async throws {
        try await VouchersHarness.with { h in
            let home = try await h.station("home")
            let away = try await h.station("away")
            let closed = try await h.station("closed", status: "inactive")
            let voucher = try await h.voucher(scope: home)
            let wrong = try await h.redeem(RedeemRequest(code: voucher.code), as: try await h.token(.stationOperator, station: away))
            #expect(wrong.status == 403)
            #expect(wrong.errorCode == "wrong_station")
            #expect(
                try await h.count("SELECT count(*)::int FROM vouchers.voucher_events WHERE event_type = 'policy_blocked' AND station_id = '\(away.id)'") == 1)
            let open = try await h.voucher()
            let inactive = try await h.redeem(RedeemRequest(code: open.code), as: try await h.token(.stationOperator, station: closed))
            #expect(inactive.status == 403)
            #expect(inactive.errorCode == "station_inactive")
            #expect(try await h.redeem(RedeemRequest(code: voucher.code), as: try await h.token(.stationOperator, station: home)).status == 200)
            // other failures name themselves
            #expect(try await h.redeem(RedeemRequest(code: "22222"), as: try await h.token(.stationOperator, station: home)).errorCode == "unknown_code")
            _ = try await TestHTTP.post("\(h.gateway)/v1/vouchers/\(open.id)/transitions", token: h.admin, json: Transition(to: .void))
            #expect(try await h.redeem(RedeemRequest(code: open.code), as: try await h.token(.stationOperator, station: home)).errorCode == "void")
        }
    }

    @Test func aScannedQRMustCarryAGenuineSignature() async throws {
        try await VouchersHarness.with { h in
            let station = try await h.station("scan")
            let cashier = try await h.token(.stationOperator, station: station)
            let voucher = try await h.voucher()
            let genuine = QRPayload(secret: "test-qr-secret").payload(code: voucher.code)
            let forged = QRPayload(secret: "guessed-secret").payload(code: voucher.code)
            let refused = try await h.redeem(RedeemRequest(qr: forged), as: cashier)
            #expect(refused.status == 422)
            #expect(refused.errorCode == "bad_signature")
            #expect(try await h.redeem(RedeemRequest(qr: genuine), as: cashier).status == 200)
        }
    }

    @Test func repeatedFailuresLockTheOperatorOut() async throws {
        try await VouchersHarness.with(overrides: ["VOUCHERS_MAX_FAILURES_PER_OPERATOR": "3"]) { h in
            let station = try await h.station("guess")
            let guesser = try await h.token(.stationOperator, station: station, subject: "guesser")
            for code in ["22222", "33333", "44444"] {
                #expect(try await h.redeem(RedeemRequest(code: code), as: guesser).status == 404)
            }
            let voucher = try await h.voucher()
            let locked = try await h.redeem(RedeemRequest(code: voucher.code), as: guesser)
            #expect(locked.status == 429)
            #expect(locked.errorCode == "too_many_attempts")
            #expect(locked.headers.first(name: "Retry-After") != nil)
            // a colleague at the same station is not locked (the station limit is higher)
            #expect(try await h.redeem(RedeemRequest(code: voucher.code), as: try await h.token(.stationOperator, station: station)).status == 200)
        }
    }
}

@Suite struct VoucherIssueTests {
    @Test func bulkIssueIsIdempotentPerRecipient() async throws {
        try await VouchersHarness.with { h in
            let campaign = UUID().uuidString.lowercased()
            let recipients = (0..<25).map { BulkRecipient(recipientKey: "target-\($0)", msisdn: "+2507881000\(String(format: "%02d", $0))") }
            let service = try await TestKeys.token(tenant: h.tenant, roles: [.service])
            // services call vouchers directly
            let first = try await TestHTTP.post(
                "\(h.vouchers)/v1/vouchers/bulk", token: service, json: BulkIssue(campaignId: campaign, amount: "2000", recipients: recipients))
            #expect(first.status == 200, "\(first.text)")
            let issued = try first.json(BulkIssueResult.self)
            #expect(issued.created == 25)
            let again = try await TestHTTP.post(
                "\(h.vouchers)/v1/vouchers/bulk", token: service,
                json: BulkIssue(
                    campaignId: campaign, amount: "2000", recipients: recipients + [BulkRecipient(recipientKey: "target-new", msisdn: "+250788100099")]))
            let replayed = try again.json(BulkIssueResult.self)
            #expect(replayed.created == 1)
            #expect(replayed.existing == 25)
            #expect(Set(replayed.vouchers.prefix(25).map(\.code)) == Set(issued.vouchers.map(\.code)))
            #expect(replayed.vouchers.map(\.recipientKey) == (recipients.map(\.recipientKey) + ["target-new"]).map(Optional.some))
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers WHERE campaign_id = '\(campaign)'") == 26)
            // each new voucher once: its issued event, its audit row and its image job
            let ids = "SELECT id FROM vouchers.vouchers WHERE campaign_id = '\(campaign)'"
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.voucher_events WHERE event_type = 'issued' AND voucher_id IN (\(ids))") == 26)
            #expect(
                try await h.count(
                    "SELECT count(DISTINCT target_id)::int FROM vouchers.audit_log WHERE action = 'voucher.issue' AND target_id::uuid IN (\(ids))") == 26)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.audit_log WHERE action = 'voucher.issue' AND target_id::uuid IN (\(ids))") == 26)
            #expect(
                try await h.count(
                    "SELECT count(DISTINCT payload->>'voucherId')::int FROM vouchers.jobs WHERE kind = 'voucher.render' AND (payload->>'voucherId')::uuid IN (\(ids))"
                ) == 26)
            // one bad recipient and nothing is written
            let bad = try await TestHTTP.post(
                "\(h.vouchers)/v1/vouchers/bulk", token: service,
                json: BulkIssue(
                    campaignId: UUID().uuidString, amount: "2000",
                    recipients: [BulkRecipient(recipientKey: "a", msisdn: "+250788100001"), BulkRecipient(recipientKey: "b", msisdn: "07")]))
            #expect(bad.status == 422)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers") == 26)
            let listed = try await TestHTTP.get("\(h.gateway)/v1/vouchers?campaignId=\(campaign)&limit=10", token: h.admin).json(Page<VoucherDTO>.self)
            #expect(listed.items.count == 10)
            let next = try await TestHTTP.get("\(h.gateway)/v1/vouchers?campaignId=\(campaign)&limit=100&cursor=\(listed.nextCursor!)", token: h.admin).json(
                Page<VoucherDTO>.self)
            #expect(Set(listed.items.map(\.id)).isDisjoint(with: next.items.map(\.id)))
            #expect(listed.items.count + next.items.count == 26)
        }
    }

    /// Two bulk issues of one campaign at once, overlapping in half their recipients: every recipient ends with one
    /// voucher, both calls succeed, and each answers every one of its recipients.
    @Test func concurrentBulkIssuesShareTheirRecipients() async throws {
        try await VouchersHarness.with { h in
            let campaign = UUID().uuidString.lowercased()
            let service = try await TestKeys.token(tenant: h.tenant, roles: [.service])
            func recipients(_ range: Range<Int>) -> [BulkRecipient] {
                range.map { BulkRecipient(recipientKey: "r\($0)", msisdn: "+25078820" + String(format: "%04d", $0), amount: $0 == 0 ? "750" : nil) }
            }
            let batches = [recipients(0..<300), recipients(150..<450)]
            let answers = try await withThrowingTaskGroup(of: BulkIssueResult.self) { group in
                for batch in batches {
                    group.addTask {
                        let response = try await TestHTTP.post(
                            "\(h.vouchers)/v1/vouchers/bulk", token: service, json: BulkIssue(campaignId: campaign, amount: "1000", recipients: batch))
                        #expect(response.status == 200, "\(response.text)")
                        return try response.json(BulkIssueResult.self)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 2)
            #expect(answers.map(\.created).reduce(0, +) == 450)
            #expect(answers.allSatisfy { $0.vouchers.count == 300 })
            var byKey: [String: String] = [:]
            for voucher in answers.flatMap(\.vouchers) {
                let key = voucher.recipientKey ?? ""
                #expect(byKey[key] == nil || byKey[key] == voucher.id, "recipient \(key) got two vouchers")
                byKey[key] = voucher.id
            }
            #expect(byKey.count == 450)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers WHERE campaign_id = '\(campaign)'") == 450)
            #expect(try await h.count("SELECT amount_minor::int FROM vouchers.vouchers WHERE campaign_id = '\(campaign)' AND recipient_key = 'r0'") == 750)
        }
    }

    @Test func badInputIsRefusedAndNothingIsWritten() async throws {
        try await VouchersHarness.with { h in
            for (body, code) in [
                (#"{"amount":"12.5","msisdn":"+250788123456"}"#, "invalid_amount"),  // RWF has no decimals
                (#"{"amount":"-5","msisdn":"+250788123456"}"#, "invalid_amount"),
                (#"{"amount":"100","msisdn":"0788"}"#, "invalid_msisdn"),
                (#"{"amount":"100","msisdn":"+250788123456","currency":"XYZ"}"#, "unknown_currency"),
                (#"{"amount":"100","msisdn":"+250788123456","stationScope":"\#(UUID())"}"#, "unknown_station"),
                (#"{"amount":"100","msisdn":"+250788123456","expiresAt":"2001-01-01T00:00:00Z"}"#, "invalid_expiry"),
                (#"{"amount":100,"msisdn":"+250788123456"}"#, "invalid_json"),
            ] {
                let response = try await TestHTTP.request(.POST, "\(h.gateway)/v1/vouchers", token: h.admin, body: Data(body.utf8))
                #expect(response.errorCode == code, "\(body): \(response.text)")
            }
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers") == 0)
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.audit_log") == 0)
        }
    }

    /// The other requests a user gets wrong first: each answer names the mistake (no 500s) and writes nothing.
    @Test func badRedemptionsMetricsBulkAndTransitionsNameTheMistake() async throws {
        try await VouchersHarness.with { h in
            let station = try await h.station("bad-input")
            let cashier = try await h.token(.stationOperator, station: station)
            let typo = try await h.redeem(RedeemRequest(code: "AB1"), as: cashier)
            #expect(typo.status == 422)
            #expect(typo.errorCode == "invalid_code")
            for day in ["2024-02-30", "2024-13-01", "24-1-1"] {
                let metrics = try await TestHTTP.get("\(h.gateway)/v1/voucher-metrics?from=\(day)", token: h.admin)
                #expect(metrics.status == 400, "\(day): \(metrics.text)")
                #expect(metrics.errorCode == "invalid_date")
            }
            let service = try await TestKeys.token(tenant: h.tenant, roles: [.service])
            for (recipient, code) in [
                (BulkRecipient(recipientKey: "a", msisdn: "+250788100001", amount: "abc"), "invalid_amount"),
                (BulkRecipient(recipientKey: "a", msisdn: "+250788100001", amount: "1.234"), "invalid_amount"),
            ] {
                let bulk = try await TestHTTP.post(
                    "\(h.vouchers)/v1/vouchers/bulk", token: service, json: BulkIssue(campaignId: UUID().uuidString, amount: "100", recipients: [recipient]))
                #expect(bulk.status == 422, "\(bulk.text)")
                #expect(bulk.errorCode == "invalid_recipients")
                let checked = try await TestHTTP.post(
                    "\(h.vouchers)/v1/vouchers/bulk/validate", token: service,
                    json: BulkIssue(campaignId: UUID().uuidString, amount: "100", recipients: [recipient]))
                #expect(try checked.json(BulkValidation.self).errors.map(\.code) == [code])
            }
            var past = BulkIssue(campaignId: UUID().uuidString, amount: "100", recipients: [BulkRecipient(recipientKey: "a", msisdn: "+250788100001")])
            past.expiresAt = Date(timeIntervalSince1970: 978_307_200)
            #expect(try await TestHTTP.post("\(h.vouchers)/v1/vouchers/bulk", token: service, json: past).errorCode == "invalid_expiry")
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers") == 0)

            let voucher = try await h.voucher()
            _ = try await TestHTTP.post("\(h.gateway)/v1/vouchers/\(voucher.id)/transitions", token: h.admin, json: Transition(to: .sent))
            let again = try await TestHTTP.post("\(h.gateway)/v1/vouchers/\(voucher.id)/transitions", token: h.admin, json: Transition(to: .sent))
            #expect(again.status == 409)
            #expect(again.errorCode == "illegal_transition")
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.audit_log WHERE action = 'voucher.sent'") == 1)
        }
    }

    @Test func imageLinksServeTheSignedQRAndExpire() async throws {
        try await VouchersHarness.with { h in
            let voucher = try await h.voucher(expiresAt: Date().addingTimeInterval(7 * 86_400))
            let qr = try await TestHTTP.get(try #require(voucher.qrURL))
            #expect(qr.status == 200)
            #expect(qr.headers.first(name: "Content-Type") == "image/png")
            let decoded = try VoucherImageTests.zbarDecode(Array(qr.body))
            #expect(QRPayload(secret: "test-qr-secret").verify(decoded) == voucher.code)
            let card = try await TestHTTP.get(try #require(voucher.cardURL))
            #expect(VoucherImageTests.size(of: Array(card.body)) == [1080, 1080])
            #expect(try VoucherImageTests.zbarDecode(Array(card.body)) == decoded)
            let tampered = voucher.qrURL!.replacingOccurrences(of: "sig=", with: "sig=x")
            #expect(try await TestHTTP.get(tampered).status == 403)
            let path = "/v1/voucher-images/\(voucher.id)/qr.png"
            let stale =
                "\(h.gateway)\(path)?\(SignedURLs(secret: "test-qr-secret").query(path: path, lifetime: .seconds(60), now: Date().addingTimeInterval(-3600)))"
            #expect(try await TestHTTP.get(stale).status == 410)
        }
    }

    @Test func rolesSeeWhatTheyMay() async throws {
        try await VouchersHarness.with { h in
            let mine = try await h.station("mine")
            let other = try await h.station("other")
            let redeemedHere = try await h.voucher()
            let redeemedThere = try await h.voucher()
            let cashier = try await h.token(.stationOperator, station: mine)
            _ = try await h.redeem(RedeemRequest(code: redeemedHere.code), as: cashier)
            _ = try await h.redeem(RedeemRequest(code: redeemedThere.code), as: try await h.token(.stationOperator, station: other))
            let seen = try await TestHTTP.get("\(h.gateway)/v1/vouchers", token: cashier).json(Page<VoucherDTO>.self)
            #expect(seen.items.map(\.id) == [redeemedHere.id])
            #expect(try await TestHTTP.get("\(h.gateway)/v1/vouchers/\(redeemedThere.id)", token: cashier).status == 404)
            #expect(try await TestHTTP.get("\(h.gateway)/v1/stations/\(other.id)", token: cashier).status == 404)
            #expect(
                try await TestHTTP.post("\(h.gateway)/v1/vouchers", token: cashier, json: CreateVoucher(amount: "1", msisdn: "+250788123456")).status == 403)
            let readonly = try await TestKeys.token(tenant: nil, roles: [.readonly])
            #expect(
                try await TestHTTP.get("\(h.gateway)/v1/vouchers", token: readonly, headers: ["X-Tenant-ID": h.tenant.description]).json(Page<VoucherDTO>.self)
                    .items.count == 2)
            #expect(
                try await TestHTTP.post(
                    "\(h.gateway)/v1/vouchers", token: readonly, headers: ["X-Tenant-ID": h.tenant.description],
                    json: CreateVoucher(amount: "1", msisdn: "+250788123456")
                ).status == 403)
            #expect(try await TestHTTP.post("\(h.vouchers)/v1/redemptions", token: h.admin, json: RedeemRequest(code: "22222")).status == 403)
            // another tenant sees none of it
            let stranger = try await TestKeys.token(tenant: try await h.otherTenant(), roles: [.tenantAdmin])
            #expect(try await TestHTTP.get("\(h.vouchers)/v1/vouchers", token: stranger).json(Page<VoucherDTO>.self).items.isEmpty)
            #expect(try await TestHTTP.get("\(h.vouchers)/v1/vouchers/\(redeemedHere.id)", token: stranger).status == 404)
            // a live voucher merely scoped to the cashier's station is not theirs to see: its code would be redeemable
            let scopedHere = try await h.voucher(scope: mine)
            let after = try await TestHTTP.get("\(h.gateway)/v1/vouchers", token: cashier).json(Page<VoucherDTO>.self)
            #expect(after.items.map(\.id) == [redeemedHere.id])
            #expect(
                try await TestHTTP.get("\(h.gateway)/v1/vouchers?stationId=\(mine.id)", token: h.admin).json(Page<VoucherDTO>.self).items.map(\.id).contains(
                    scopedHere.id))
        }
    }

    @Test func stationsNearAPointAndMetricsPerDay() async throws {
        try await VouchersHarness.with { h in
            // the metrics count per UTC day: the two issues and the redemption must fall on one
            try await TestWait.clearOfUTCMidnight()
            let kigali = try await h.station("kigali", location: Location(latitude: -1.9441, longitude: 30.0619))
            _ = try await h.station("huye", location: Location(latitude: -2.5967, longitude: 29.7394))
            let near = try await TestHTTP.get("\(h.gateway)/v1/stations?near=-1.95,30.06&radiusKm=5", token: h.admin).json(Page<StationDTO>.self)
            #expect(near.items.map(\.name) == ["kigali"])
            #expect((near.items.first?.distanceKm ?? 99) < 1)
            let wide = try await TestHTTP.get("\(h.gateway)/v1/stations?near=-1.95,30.06&radiusKm=200", token: h.admin).json(Page<StationDTO>.self)
            #expect(wide.items.map(\.name) == ["kigali", "huye"])
            let voucher = try await h.voucher()
            _ = try await h.voucher()
            _ = try await h.redeem(RedeemRequest(code: voucher.code), as: try await h.token(.stationOperator, station: kigali))
            let metrics = try await TestHTTP.get("\(h.gateway)/v1/voucher-metrics", token: h.admin).json(VoucherMetrics.self)
            #expect(metrics.days.count == 1)
            #expect(metrics.days.first?.issued == 2)
            #expect(metrics.days.first?.redeemed == 1)
            #expect(metrics.stations.map(\.stationName) == ["kigali"])
            #expect(metrics.stations.first?.redemptions == 1)
            let space = try await TestHTTP.get("\(h.gateway)/v1/vouchers/code-space", token: h.admin).json(CodeSpace.self)
            #expect(space.used == 2)
            #expect(space.capacity == 28_629_151)
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
