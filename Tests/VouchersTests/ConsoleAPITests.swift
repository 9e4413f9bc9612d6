import Contracts
import Foundation
import Gateway
import Models
import ServiceKit
import TestSupport
import Testing
import Vouchers

/// What the admin console reads and writes besides the basics: the audit log, bulk issues checked row by row.
@Suite struct ConsoleAPITests {
    @Test func theAuditLogShowsATenantItsOwnRowsOnlyToReaders() async throws {
        try await VouchersHarness.with { h in
            let station = try await h.station("audited")
            _ = try await TestHTTP.request(
                .PATCH, "\(h.gateway)/v1/stations/\(station.id)", token: h.admin, body: Data(#"{"name":"audited again"}"#.utf8))
            _ = try await h.voucher()
            // another tenant's writes stay its own
            let other = try await h.otherTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            _ = try await TestHTTP.post(
                "\(h.gateway)/v1/stations", token: otherAdmin,
                json: CreateStation(name: "theirs", engencode: "EN-theirs-\(UUID().uuidString.prefix(6))", ownerContact: nil, location: nil, status: nil))

            let page = try await TestHTTP.get("\(h.gateway)/v1/vouchers/audit", token: h.admin).json(Page<ServiceAPI.AuditEntry>.self)
            #expect(page.items.map(\.action) == ["voucher.issue", "station.update", "station.create"], "newest first")
            #expect(page.items.allSatisfy { $0.actor == "admin-1" })
            let update = try #require(page.items.first { $0.action == "station.update" })
            #expect(update.targetType == "stations" && update.targetId == station.id)
            guard case .object(let changes) = update.diff else {
                Issue.record("diff is \(update.diff)")
                return
            }
            #expect(changes["name"] == .object(["before": .string("audited"), "after": .string("audited again")]))
            #expect(Set(changes.keys) == ["name", "updatedAt"], "only what changed")
            // one target, and paging by cursor
            let filtered = try await TestHTTP.get("\(h.gateway)/v1/vouchers/audit?targetType=stations&targetId=\(station.id)", token: h.admin)
                .json(Page<ServiceAPI.AuditEntry>.self)
            #expect(filtered.items.map(\.action) == ["station.update", "station.create"])
            let first = try await TestHTTP.get("\(h.gateway)/v1/vouchers/audit?limit=2", token: h.admin).json(Page<ServiceAPI.AuditEntry>.self)
            let cursor = try #require(first.nextCursor)
            let rest = try await TestHTTP.get("\(h.gateway)/v1/vouchers/audit?limit=2&cursor=\(cursor)", token: h.admin).json(Page<ServiceAPI.AuditEntry>.self)
            #expect(first.items.count == 2 && rest.items.map(\.action) == ["station.create"])
            // the other tenant sees only its own
            let theirs = try await TestHTTP.get("\(h.gateway)/v1/vouchers/audit", token: otherAdmin).json(Page<ServiceAPI.AuditEntry>.self)
            #expect(theirs.items.map(\.action) == ["station.create"])
            // staff read the tenant they name; readers only
            let staff = try await TestKeys.token(tenant: nil, roles: [.readonly])
            let named = try await TestHTTP.get("\(h.gateway)/v1/vouchers/audit", token: staff, headers: ["X-Tenant-ID": h.tenant.description])
            #expect(try named.json(Page<ServiceAPI.AuditEntry>.self).items.count == 3)
            for role in [Role.agent, .stationOperator] {
                let refused = try await TestHTTP.get("\(h.gateway)/v1/vouchers/audit", token: try await h.token(role, station: station))
                #expect(refused.status == 403, "\(role)")
                // and at the service itself, not only at the gateway
                let direct = try await TestHTTP.get("\(h.vouchers)/v1/vouchers/audit", token: try await h.token(role, station: station))
                #expect(direct.status == 403, "\(role) at the service")
            }
            let bad = try await TestHTTP.get("\(h.gateway)/v1/vouchers/audit?cursor=nonsense", token: h.admin)
            #expect(bad.status == 400)
            // the gateway keeps its own: the tenants it created, for platform staff without a tenant
            let platform = try await TestHTTP.get("\(h.gateway)/v1/gateway/audit", token: try await TestKeys.token(tenant: nil, roles: [.superAdmin]))
            #expect(platform.status == 200, "\(platform.text)")
        }
    }

    @Test func aBulkIssueIsCheckedRowByRowAndIssuesNothingUntilEveryRowIsRight() async throws {
        try await VouchersHarness.with { h in
            let north = try await h.station("north")
            let south = try await h.station("south")
            let campaign = UUID().uuidString
            let soon = Date().addingTimeInterval(3 * 86_400)
            var rows = [
                BulkRecipient(recipientKey: "+250788100001", msisdn: "+250788100001", amount: "1500", stationScope: north.id, expiresAt: soon),
                BulkRecipient(recipientKey: "+250788100002", msisdn: "not a phone"),
                BulkRecipient(recipientKey: "+250788100003", msisdn: "+250788100003", amount: "12.5"),
                BulkRecipient(recipientKey: "+250788100004", msisdn: "+250788100004", stationScope: UUID().uuidString),
                BulkRecipient(recipientKey: "+250788100001", msisdn: "+250788100001"),
                BulkRecipient(recipientKey: "+250788100006", msisdn: "+250788100006", expiresAt: Date(timeIntervalSince1970: 0)),
            ]
            var body = BulkIssue(campaignId: campaign, amount: "1000", stationScope: south.id, recipients: rows)
            let checked = try await TestHTTP.post("\(h.gateway)/v1/vouchers/bulk/validate", token: h.admin, json: body).json(BulkValidation.self)
            #expect(!checked.valid && checked.count == 6)
            #expect(
                checked.errors.map { "\($0.index) \($0.field) \($0.code)" } == [
                    "1 msisdn invalid_msisdn", "2 amount invalid_amount", "3 stationScope unknown_station", "4 recipientKey duplicate_recipient",
                    "5 expiresAt invalid_expiry",
                ])
            let refused = try await TestHTTP.post("\(h.gateway)/v1/vouchers/bulk", token: h.admin, json: body)
            #expect(refused.status == 422)
            #expect(refused.errorCode == "invalid_recipients")
            #expect(refused.text.contains("5 problem"))
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers") == 0, "nothing issued")

            // corrected, it issues each row with its own scope and expiry, or the request's
            rows[1].msisdn = "+250788100002"
            rows[2].amount = "2500"
            rows[3].stationScope = nil
            rows[4].recipientKey = "+250788100005"
            rows[5].expiresAt = nil
            body.recipients = rows
            #expect(try await TestHTTP.post("\(h.gateway)/v1/vouchers/bulk/validate", token: h.admin, json: body).json(BulkValidation.self).valid)
            let issued = try await TestHTTP.post("\(h.gateway)/v1/vouchers/bulk", token: h.admin, json: body)
            #expect(issued.status == 200, "\(issued.text)")
            let vouchers = try issued.json(BulkIssueResult.self).vouchers
            #expect(vouchers.count == 6)
            #expect(vouchers[0].stationScope == north.id && vouchers[0].amount == "1500")
            #expect(abs((vouchers[0].expiresAt ?? .distantPast).timeIntervalSince(soon)) < 1)
            #expect(vouchers[1...].allSatisfy { $0.stationScope == south.id })
            #expect(vouchers[2].amount == "2500" && vouchers[1].amount == "1000")
            #expect(try await h.count("SELECT count(*)::int FROM vouchers.vouchers") == 6)
        }
    }

    @Test func usersAreListedByStationAndRole() async throws {
        try await VouchersHarness.with { h in
            let north = try await h.station("north")
            let south = try await h.station("south")
            func user(_ name: String, _ roles: [Role], station: StationDTO? = nil) async throws -> UserDTO {
                let response = try await TestHTTP.post(
                    "\(h.gateway)/v1/users", token: h.admin,
                    json: CreateUser(email: "\(name)@fuel.example", password: "correct-horse-battery", roles: roles, stationId: station?.id))
                #expect(response.status == 201, "\(response.text)")
                return try response.json(UserDTO.self)
            }
            let ann = try await user("ann", [.stationOperator], station: north)
            _ = try await user("bob", [.stationOperator], station: south)
            let cat = try await user("cat", [.agent])
            func emails(_ query: String) async throws -> [String] {
                try await TestHTTP.get("\(h.gateway)/v1/users?\(query)", token: h.admin).json(Page<UserDTO>.self).items.map(\.email)
            }
            #expect(try await emails("stationId=\(north.id)") == [ann.email])
            #expect(try await emails("role=station_operator") == ["ann@fuel.example", "bob@fuel.example"])
            #expect(try await emails("role=agent") == [cat.email])
            #expect(try await emails("role=agent&stationId=\(north.id)") == [])
            #expect(try await TestHTTP.get("\(h.gateway)/v1/users?role=emperor", token: h.admin).status == 400)
            #expect(try await TestHTTP.get("\(h.gateway)/v1/users?stationId=north", token: h.admin).status == 400)
            // another tenant's admin filtering by this tenant's station sees no one
            let otherAdmin = try await TestKeys.token(tenant: try await h.otherTenant(), roles: [.tenantAdmin])
            #expect(try await TestHTTP.get("\(h.gateway)/v1/users?stationId=\(north.id)", token: otherAdmin).json(Page<UserDTO>.self).items.isEmpty)
        }
    }
}
