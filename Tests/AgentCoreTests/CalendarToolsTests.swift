import Contracts
import Foundation
import Models
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// The booking tools over real HTTP: the scripted model of the marketplace tests asks for `find_slots`, then
/// `book_appointment` with a slot it answered; agent-core books it in calendar-booking for the conversation's contact.
@Suite struct CalendarToolsTests {
    struct NewAgent: Encodable {
        var name = "Bookings"
        var kind = "support"
        var languages = ["en"]
        var tools = ["find_slots", "book_appointment", "cancel_appointment", "reschedule_appointment", "handoff"]
    }

    /// A reply to one inbound message: `text` from `from` in `conversation`, sent at `at` (the same three are the
    /// same message); `key` the reply's Idempotency-Key.
    static func reply(
        _ platform: TestPlatform, tenant: TenantID, text: String, from: String, conversation: ConversationID, at: Date = Date(),
        key: String = UUID().uuidString
    ) async throws -> JSONValue {
        let service = try await TestKeys.token(subject: "service:messaging", tenant: nil, roles: [.service])
        let request = AgentAPI.ReplyRequest(
            conversationId: conversation, channelId: ChannelID(), channelKind: "whatsapp", agentId: nil,
            contact: .init(address: from, name: "Aline", language: nil),
            messages: [.init(sender: "user", text: text, kind: "text", language: "en", at: at)])
        let answer = try await TestHTTP.post(
            "\(platform.url(.agentCore))/v1/agent/replies", token: service, headers: ["X-Tenant-ID": tenant.description, "Idempotency-Key": key],
            json: request)
        #expect(answer.status == 200, "\(answer.text)")
        let reply = try #require(try answer.json(AgentAPI.Reply.self).text)
        return try JSONDecoder().decode(JSONValue.self, from: Data(reply.utf8))
    }

    @Test func aCustomerFindsASlotAndBooksItForThemselvesOnce() async throws {
        try await TestUpstream.with(MarketplaceToolsTests.scriptedModel) { url in
            try await TestServices.with([.gateway, .agentCore, .calendarBooking], settings: CostsTests.settings(url)) { platform in
                let tenant = try await platform.createTenant()
                let gateway = platform.url(.gateway)
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgent()).status == 201)
                // a calendar open 09:00–17:00 every day
                let created = try await TestHTTP.request(
                    .POST, "\(gateway)/v1/calendar/agents", token: admin,
                    body: Data(#"{"name":"Amina","timeZone":"Africa/Nairobi","serviceDurations":{"viewing":45}}"#.utf8))
                #expect(created.status == 201, "\(created.text)")
                guard case .string(let calendarID)? = try created.json(JSONValue.self)["id"] else {
                    Issue.record("no calendar agent")
                    return
                }
                let days = (1...7).map { #"{"weekday":\#($0),"start":"09:00","end":"17:00"}"# }.joined(separator: ",")
                let rules = try await TestHTTP.request(
                    .PUT, "\(gateway)/v1/availability/rules", token: admin,
                    body: Data(#"{"agentId":"\#(calendarID)","schedule":{"timeZone":"Africa/Nairobi","weekly":[\#(days)],"overrides":[]}}"#.utf8))
                #expect(rules.status == 200, "\(rules.text)")

                let customer = "+254712345678"
                let conversation = ConversationID()
                // free slots of the service's length
                let found = try await Self.reply(
                    platform, tenant: tenant, text: #"tool:find_slots {"serviceType":"viewing"}"#, from: customer, conversation: conversation)
                guard case .array(let slots)? = found["slots"], let slot = slots.first, case .string(let startsAt)? = slot["startsAt"] else {
                    Issue.record("\(found)")
                    return
                }
                #expect(slots.count == 6 && slot["agentId"] == .string(calendarID) && slot["durationMinutes"] == .number(45), "\(found)")

                // booked for this customer, from this conversation, on WhatsApp; the same message again books once
                let booking = #"tool:book_appointment {"agentId":"\#(calendarID)","startsAt":"\#(startsAt)","serviceType":"viewing"}"#
                let at = Date()
                let booked = try await Self.reply(platform, tenant: tenant, text: booking, from: customer, conversation: conversation, at: at)
                guard case .string(let appointmentID)? = booked["appointmentId"] else {
                    Issue.record("\(booked)")
                    return
                }
                #expect(booked["status"] == .string("scheduled"), "\(booked)")
                let again = try await Self.reply(platform, tenant: tenant, text: booking, from: customer, conversation: conversation, at: at)
                #expect(again["appointmentId"] == .string(appointmentID), "\(again)")
                let postgres = platform.environment(.calendarBooking).postgres
                let rows = try await postgres.query(
                    "SELECT contact_phone, conversation_id, source, status FROM calendar.appointments WHERE tenant_id = \(tenant.rawValue)",
                    logger: TestLog.quiet)
                var stored: [(String?, UUID?, String, String)] = []
                for try await row in rows.decode((String?, UUID?, String, String).self) { stored.append(row) }
                #expect(stored.count == 1)
                #expect(stored.first?.0 == customer && stored.first?.1 == conversation.rawValue && stored.first?.2 == "whatsapp")

                // the slot is taken now: another booking of it hears the next free ones
                let taken = try await Self.reply(
                    platform, tenant: tenant, text: booking, from: "+254722000111", conversation: ConversationID())
                #expect(taken["error"] == .string("slot_taken"), "\(taken)")
                if case .array(let next)? = taken["nextSlots"] { #expect(!next.isEmpty) } else { Issue.record("\(taken)") }

                // another conversation's contact cannot cancel or move it
                let other = try await Self.reply(
                    platform, tenant: tenant, text: #"tool:cancel_appointment {"appointmentId":"\#(appointmentID)"}"#, from: "+254722000111",
                    conversation: ConversationID())
                #expect(other["error"] == .string("not this customer's appointment"), "\(other)")
                let moved = try await Self.reply(
                    platform, tenant: tenant, text: #"tool:reschedule_appointment {"appointmentId":"\#(appointmentID)","startsAt":"\#(startsAt)"}"#,
                    from: "+254722000111", conversation: ConversationID())
                #expect(moved["error"] == .string("not this customer's appointment"), "\(moved)")
                let unchanged = try await TestHTTP.get("\(gateway)/v1/appointments/\(appointmentID)", token: admin).json(JSONValue.self)
                #expect(unchanged["status"] == .string("scheduled"), "\(unchanged)")

                // the customer themselves cancels it
                let cancelled = try await Self.reply(
                    platform, tenant: tenant, text: #"tool:cancel_appointment {"appointmentId":"\#(appointmentID)","reason":"travelling"}"#,
                    from: customer, conversation: conversation)
                #expect(cancelled["status"] == .string("cancelled"), "\(cancelled)")
            }
        }
    }
}
