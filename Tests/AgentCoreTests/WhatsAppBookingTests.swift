import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore
@testable import Messaging

/// A booking made by the agent in a WhatsApp conversation, every hop real: Meta's signed webhooks to messaging, its
/// reply jobs calling agent-core, the (scripted) model asking for `find_slots` then `book_appointment`, agent-core
/// booking in calendar-booking for the conversation's contact, the answers sent back through a fake Graph API; then
/// calendar-booking's confirmation, with its link and the `.ics` as a WhatsApp document, in the same conversation.
@Suite struct WhatsAppBookingTests {
    /// The text as it goes inside a JSON string.
    static func escaped(_ text: String) -> String {
        String(String(decoding: try! JSONEncoder().encode(text), as: UTF8.self).dropFirst().dropLast())
    }

    @Test func aCustomerBooksOnWhatsAppAndTheBookingShowsInTheInboxAndTheCalendar() async throws {
        let sent = WhatsAppToAgentTests.Sent()
        try await TestUpstream.with(MarketplaceToolsTests.scriptedModel) { model in
            try await TestUpstream.with(WhatsAppToAgentTests.graph(sent)) { graph in
                var settings = CostsTests.settings(model)
                settings[.messaging] = ["JOBS_POLL_INTERVAL_MS": "20", "MESSAGING_GRAPH_BASE_URL": graph]
                settings[.calendarBooking] = ["CALENDAR_REMINDER_INTERVAL_MS": "50"]
                try await TestServices.with([.gateway, .messaging, .agentCore, .calendarBooking], settings: settings) { platform in
                    let gateway = platform.url(.gateway)
                    let tenant = try await platform.createTenant()
                    let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                    var quiet = MessagingSettings.defaults
                    quiet.quietHours = [:]
                    #expect(
                        try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(quiet))
                            .status == 200)
                    let channel = try await TestHTTP.post("\(gateway)/v1/channels", token: admin, json: WhatsAppToAgentTests.NewChannel())
                        .json(ChannelDTO.self)
                    #expect(try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: CalendarToolsTests.NewAgent()).status == 201)
                    let calendar = try await TestHTTP.request(
                        .POST, "\(gateway)/v1/calendar/agents", token: admin,
                        body: Data(#"{"name":"Amina","timeZone":"Africa/Nairobi","serviceDurations":{"viewing":45}}"#.utf8)
                    ).json(JSONValue.self)
                    guard case .string(let calendarID)? = calendar["id"] else {
                        Issue.record("no calendar agent: \(calendar)")
                        return
                    }
                    let days = (1...7).map { #"{"weekday":\#($0),"start":"09:00","end":"17:00"}"# }.joined(separator: ",")
                    #expect(
                        try await TestHTTP.request(
                            .PUT, "\(gateway)/v1/availability/rules", token: admin,
                            body: Data(#"{"agentId":"\#(calendarID)","schedule":{"timeZone":"Africa/Nairobi","weekly":[\#(days)],"overrides":[]}}"#.utf8)
                        ).status == 200)

                    func deliver(_ text: String) async throws {
                        let body = Data(WhatsAppToAgentTests.webhook(id: "wamid.IN-\(UUID().uuidString)", text: Self.escaped(text)).utf8)
                        let signature = WebhookSignatures.metaSignature(body: Array(body), appSecret: "meta-app-secret-value")
                        let answer = try await TestHTTP.request(
                            .POST, "\(gateway)/webhooks/whatsapp/\(channel.publicId)", headers: ["X-Hub-Signature-256": signature], body: body)
                        #expect(answer.status == 200)
                    }
                    func send(_ count: Int) async throws -> [String: JSONValue] {
                        let arrived = try await TestWait.until(timeout: .seconds(30)) { sent.bodies.withLock { $0.count >= count } }
                        #expect(arrived, "send \(count) never reached the Graph API")
                        return try #require(sent.bodies.withLock { $0.count >= count ? $0[count - 1].json : nil })
                    }
                    func answer(_ message: [String: JSONValue]) throws -> JSONValue {
                        guard case .string(let text)? = message["text"]?["body"] else { throw TestFailure("not a text: \(message)") }
                        return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
                    }

                    // the customer asks for times: the agent's tool finds them
                    try await deliver(#"tool:find_slots {"serviceType":"viewing"}"#)
                    let found = try answer(try await send(1))
                    guard case .string(let startsAt)? = found["slots"]?[0]?["startsAt"] else {
                        Issue.record("no slots: \(found)")
                        return
                    }
                    // …and books the first one; the answer and calendar-booking's confirmation race to the Graph API
                    try await deliver(#"tool:book_appointment {"agentId":"\#(calendarID)","startsAt":"\#(startsAt)","serviceType":"viewing"}"#)
                    _ = try await send(3)
                    let (answerSent, confirmationSent) = sent.bodies.withLock { bodies in
                        (
                            bodies.dropFirst().first { $0.json["type"] == .string("text") }?.json,
                            bodies.dropFirst().first { $0.json["type"] == .string("document") }?.json
                        )
                    }
                    let booked = try answer(try #require(answerSent))
                    guard case .string(let appointmentID)? = booked["appointmentId"] else {
                        Issue.record("not booked: \(booked)")
                        return
                    }

                    // in the calendar: from WhatsApp, for this customer and this conversation
                    let conversation = try #require(
                        try await TestHTTP.get("\(gateway)/v1/conversations", token: admin).json(Page<ConversationDTO>.self).items.first)
                    let appointment = try await TestHTTP.get("\(gateway)/v1/appointments/\(appointmentID)", token: admin).json(JSONValue.self)
                    #expect(appointment["source"] == .string("whatsapp") && appointment["contactPhone"] == .string("+250788000111"), "\(appointment)")
                    #expect(appointment["conversationId"] == .string(conversation.id.description), "\(appointment)")

                    // calendar-booking's confirmation reaches the customer on the same WhatsApp number: the calendar file
                    // as a document whose caption carries the link to confirm, cancel or move it
                    let confirmation: [String: JSONValue] = try #require(confirmationSent)
                    #expect(confirmation["document"]?["filename"] == .string("appointment.ics"))
                    guard case .string(let caption)? = confirmation["document"]?["caption"], case .string(let link)? = confirmation["document"]?["link"]
                    else {
                        Issue.record("no caption or link: \(confirmation)")
                        return
                    }
                    #expect(caption.hasPrefix("Booked: viewing on ") && caption.contains("/booking/#\(appointmentID)."), "\(caption)")
                    #expect(link.contains("/v1/calendar/manage/\(appointmentID).") && link.hasSuffix("/appointment.ics"))

                    // the inbox: the two questions, the two answers, and the confirmation, in one conversation
                    var thread: [MessageDTO] = []
                    let complete = try await TestWait.until(timeout: .seconds(20)) {
                        thread = try await TestHTTP.get("\(gateway)/v1/conversations/\(conversation.id)/messages", token: admin)
                            .json(Page<MessageDTO>.self).items
                        return thread.count == 5
                    }
                    #expect(complete, "\(thread.map { ($0.direction, $0.body ?? "") })")
                    #expect(thread.map(\.direction) == [.inbound, .outbound, .inbound, .outbound, .outbound])
                    // the answer and the confirmation, in whichever order they were queued
                    #expect(Set(thread.suffix(2).map(\.sender)) == [.agent, .system])
                    #expect(thread.suffix(2).contains { $0.sender == .system && $0.body?.hasPrefix("Booked: viewing") == true }, "\(thread.suffix(2))")
                }
            }
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
