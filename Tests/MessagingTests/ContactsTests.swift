import Contracts
import Foundation
import Models
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// The contacts API (`GET /v1/contacts` with search and paging, `PATCH /v1/contacts/{id}`) and the audit row a
/// settings change writes, through the gateway.
@Suite(.serialized) struct ContactsTests {
    struct Inbound: Encodable {
        var from: String
        var text: String
        var profileName: String?
    }

    static func contacts(_ p: MessagingFlowTests.Platform, _ query: String = "", token: String? = nil) async throws -> Page<ContactDTO> {
        let response = try await p.get("/v1/contacts\(query)", token: token)
        #expect(response.status == 200, "\(query): \(response.text)")
        return try response.json(Page<ContactDTO>.self)
    }

    static func patch(_ p: MessagingFlowTests.Platform, _ id: String, _ json: String, token: String? = nil) async throws -> TestResponse {
        try await TestHTTP.request(.PATCH, "\(p.gateway)/v1/contacts/\(id)", token: token ?? p.admin, body: Data(json.utf8))
    }

    @Test func contactsAreListedSearchedPagedAndEditedWithinTheTenant() async throws {
        try await MessagingFlowTests.with { p in
            let people = [
                ("+250788100001", "Aline Uwase"), ("+250788100002", "Jean Bosco"), ("+254712100003", "Wanjiru Kamau"),
                ("+254712100004", "Achieng 100% Otieno"), ("+255754100005", nil),
            ]
            for (address, name) in people {
                let sent = try await p.post("/v1/sandbox/inbound", Inbound(from: address, text: "Hello", profileName: name))
                #expect(sent.status == 202, "\(sent.text)")
            }
            try await p.eventually("five contacts") { try await p.count("SELECT count(*)::int FROM messaging.contacts") == 5 }

            // everyone, by address
            let all = try await Self.contacts(p)
            #expect(all.items.map(\.address) == people.map(\.0).sorted())
            #expect(all.nextCursor == nil)
            #expect(all.items.first { $0.address == "+250788100001" }?.profileName == "Aline Uwase")

            // two at a time: each page continues where the last stopped, nothing lost or repeated
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await Self.contacts(p, "?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(page.items.count <= 2)
                seen += page.items.map(\.address)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == people.map(\.0).sorted())
            #expect(pages == 3)

            // search by name (any case) or by part of the number; `%` and `_` are taken literally
            #expect(try await Self.contacts(p, "?q=wanjiru").items.map(\.address) == ["+254712100003"])
            #expect(try await Self.contacts(p, "?q=%2B2507881").items.map(\.address) == ["+250788100001", "+250788100002"])
            #expect(try await Self.contacts(p, "?q=100%25").items.map(\.address) == ["+254712100004"])
            #expect(try await Self.contacts(p, "?q=_").items.isEmpty)
            #expect(try await Self.contacts(p, "?q=nobody").items.isEmpty)
            // a cursor or limit that is not one: 400
            #expect(try await p.get("/v1/contacts?cursor=nonsense").status == 400)
            #expect(try await p.get("/v1/contacts?limit=0").status == 400)
            #expect(try await p.get("/v1/contacts?limit=201").status == 400)

            // name, tags and notes, each on its own; what is not named stays
            let aline = try #require(all.items.first { $0.address == "+250788100001" })
            let named = try await Self.patch(p, aline.id.description, #"{"name":"Aline U."}"#)
            #expect(named.status == 200, "\(named.text)")
            let tagged = try await Self.patch(p, aline.id.description, #"{"tags":["vip","fuel"],"notes":"Prefers Swahili after 18:00"}"#)
            let contact = try tagged.json(ContactDTO.self)
            #expect(contact.name == "Aline U.")
            #expect(contact.tags == ["vip", "fuel"])
            #expect(contact.notes == "Prefers Swahili after 18:00")
            #expect(contact.profileName == "Aline Uwase")
            #expect(contact.address == "+250788100001")
            // the new name is found by search, and shows in the inbox
            #expect(try await Self.contacts(p, "?q=aline%20u.").items.map(\.id) == [aline.id])
            let inbox = try await p.get("/v1/conversations?q=Aline%20U.").json(Page<ConversationDTO>.self).items
            #expect(inbox.map(\.contact.name) == ["Aline U."])
            #expect(inbox.first?.contact.tags == ["vip", "fuel"])
            // an agent (a person answering customers) may edit too
            let agent = try await TestKeys.token(tenant: p.tenant, roles: [.agent])
            #expect(try await Self.patch(p, aline.id.description, #"{"notes":"Called back"}"#, token: agent).status == 200)

            // bad input: 4xx with a code, and nothing changed
            let bad: [(String, Int)] = [
                (#"{"name":""}"#, 422), (#"{"name":"\#(String(repeating: "n", count: 201))"}"#, 422),
                (#"{"tags":[""]}"#, 422), (#"{"tags":["\#(String(repeating: "t", count: 51))"]}"#, 422),
                (#"{"tags":[\#((0..<51).map { "\"t\($0)\"" }.joined(separator: ","))]}"#, 422),
                (#"{"notes":"\#(String(repeating: "x", count: 4001))"}"#, 422), (#"{"name":"A\u0000B"}"#, 422),
                (#"{"tags":"vip"}"#, 400), (#"{"name":"#, 400),
            ]
            for (json, status) in bad {
                let refused = try await Self.patch(p, aline.id.description, json)
                #expect(refused.status == status, "\(json.prefix(60)): \(refused.status) \(refused.text)")
                #expect(refused.errorCode != nil)
            }
            #expect(try await Self.patch(p, "not-a-uuid", #"{"name":"X"}"#).status == 400)
            #expect(try await Self.patch(p, UUID().uuidString, #"{"name":"X"}"#).status == 404)
            let unchanged = try #require(try await Self.contacts(p, "?q=%2B250788100001").items.first)
            #expect(unchanged.name == "Aline U." && unchanged.tags == ["vip", "fuel"] && unchanged.notes == "Called back")

            // another tenant's admin sees none of these and cannot edit one
            #expect(try await Self.contacts(p, token: p.otherAdmin).items.isEmpty)
            #expect(try await Self.contacts(p, "?q=aline", token: p.otherAdmin).items.isEmpty)
            let foreign = try await Self.patch(p, aline.id.description, #"{"name":"Mine now"}"#, token: p.otherAdmin)
            #expect(foreign.status == 404)
            #expect(foreign.errorCode == "contact_not_found")
            #expect(try #require(try await Self.contacts(p, "?q=%2B250788100001").items.first).name == "Aline U.")

            // every edit was audited, with who made it
            let audit = try await p.get("/v1/messaging/audit?targetType=contacts&targetId=\(aline.id)").json(Page<ServiceAPI.AuditEntry>.self)
            #expect(audit.items.map(\.action) == ["contact.update", "contact.update", "contact.update"])
        }
    }

    @Test func changingTheSettingsWritesAnAuditRowWithWhatChanged() async throws {
        try await MessagingFlowTests.with { p in
            let admin = try await TestKeys.token(subject: "admin-aline", tenant: p.tenant, roles: [.tenantAdmin])
            let before = try await p.get("/v1/messaging/audit?targetType=settings").json(Page<ServiceAPI.AuditEntry>.self).items
            var settings = try await p.get("/v1/messaging/settings").json(MessagingSettings.self)
            settings.quietHours = ["RW": .init(start: "21:30", end: "06:30")]
            settings.sendThrottle.perRecipientPerHour = 12
            let put = try await TestHTTP.request(
                .PUT, "\(p.gateway)/v1/messaging/settings", token: admin, headers: ["X-Request-ID": "req-settings-1"],
                body: try JSONEncoder.sokoni.encode(settings))
            #expect(put.status == 200, "\(put.text)")
            // a refused change writes nothing
            var wrong = settings
            wrong.sendThrottle.perRecipientPerHour = 0
            let refused = try await TestHTTP.request(.PUT, "\(p.gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(wrong))
            #expect(refused.status == 422)

            let after = try await p.get("/v1/messaging/audit?targetType=settings").json(Page<ServiceAPI.AuditEntry>.self).items
            #expect(after.count == before.count + 1)
            let entry = try #require(after.first)
            #expect(entry.action == "settings.update")
            #expect(entry.actor == "admin-aline")
            #expect(entry.targetId == p.tenant.description)
            #expect(entry.requestId == "req-settings-1")
            let diff = "\(entry.diff)"
            #expect(diff.contains("21:30") && diff.contains("12"), "\(diff)")
            // another tenant's audit shows none of it
            let theirs = try await p.get("/v1/messaging/audit?targetType=settings", token: p.otherAdmin).json(Page<ServiceAPI.AuditEntry>.self).items
            #expect(theirs.allSatisfy { $0.targetId != p.tenant.description })
        }
    }
}
