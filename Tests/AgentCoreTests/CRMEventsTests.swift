import Contracts
import Foundation
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// The CRM hears what the other services own: messaging's messages and consent changes, calendar-booking's
/// appointments (the wallet's purchases: MarketplaceWalletTests.CustomerPurchasesTests), each once however often
/// it is delivered; one opt-out for messaging and the CRM, whichever side it is made on; customers with their totals.
@Suite struct CRMEventsTests {
    static let customer = "+254712000501"

    /// The lead of `phone`, once it satisfies `condition` (the events arrive through the services' jobs).
    static func lead(_ desk: LeadsTests.Desk, _ phone: String, until condition: @escaping (LeadDTO) -> Bool) async throws -> LeadDTO? {
        var found: LeadDTO?
        _ = try await TestWait.until(timeout: .seconds(60)) {
            let page = try await desk.send(.GET, "/v1/leads?q=\(phone.dropFirst())").json(Page<LeadDTO>.self)
            found = page.items.first
            return found.map(condition) ?? false
        }
        return found
    }

    static func desk(_ platform: TestPlatform) async throws -> LeadsTests.Desk {
        let tenant = try await platform.createTenant()
        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
        return LeadsTests.Desk(
            gateway: platform.url(.gateway), tenant: tenant, admin: admin, postgres: platform.environment(.agentCore).postgres, platform: platform)
    }

    @Test func oneOptOutWhicheverSideItIsMadeOn() async throws {
        try await TestServices.with([.gateway, .messaging, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]]) { platform in
            let desk = try await Self.desk(platform)
            let messaging = platform.environment(.messaging).postgres
            func optOuts() async throws -> [String] {
                try await messaging.query(
                    "SELECT source FROM messaging.opt_outs WHERE tenant_id = \(desk.tenant.rawValue) ORDER BY created_at", logger: TestLog.quiet
                ).all(as: String.self)
            }
            // the customer writes twice: one lead, made from the conversation, two messages counted on one timeline row
            for text in ["Hello, is the flat still free?", "And the price?"] {
                let sent = try await desk.send(.POST, "/v1/sandbox/inbound", #"{"from":"\#(Self.customer)","text":"\#(text)","profileName":"Aline"}"#)
                #expect(sent.status == 202, "\(sent.text)")
            }
            let written = try #require(try await Self.lead(desk, Self.customer) { $0.replies == 2 })
            #expect(written.name == "Aline" && written.source == .manual, "\(written)")  // a sandbox conversation: no channel of the list
            #expect(written.optIn && written.lastContactAt != nil && written.scoreComponents.behavior == 4 && written.scoreComponents.engagement == 20)
            let rows = try await desk.send(.GET, "/v1/leads/\(written.id)/activity").json(Page<LeadActivityDTO>.self).items.filter { $0.kind == "message" }
            #expect(rows.count == 1 && rows.first?.summary == "2 messages on sandbox.", "\(rows)")

            // STOP at messaging: the lead's opt-in follows, and messaging's list holds the one entry it made
            #expect(try await desk.send(.POST, "/v1/sandbox/inbound", #"{"from":"\#(Self.customer)","text":"STOP"}"#).status == 202)
            let stopped = try #require(try await Self.lead(desk, Self.customer) { !$0.optIn })
            #expect(!stopped.optIn)
            #expect(try await optOuts() == ["keyword"])

            // a person opts the lead back in at the CRM: messaging's list follows, and does not echo it back
            let back = try await desk.send(.PATCH, "/v1/leads/\(written.id)", #"{"optIn":true}"#)
            #expect(back.status == 200, "\(back.text)")
            #expect(try await TestWait.until { try await optOuts().isEmpty })
            // and out again: on messaging's list as the CRM's, which the send policy reads
            #expect(try await desk.send(.PATCH, "/v1/leads/\(written.id)", #"{"optIn":false}"#).status == 200)
            #expect(try await TestWait.until { try await optOuts() == ["crm"] })
            let list = try await desk.send(.GET, "/v1/opt-outs").json(JSONValue.self)
            #expect(list["items"]?[0]?["masked"] == .string(PhoneNumber.masked(e164: Self.customer)), "\(list)")
            // nothing came back to the CRM from its own changes: the lead is still out, with one opt-out row per change
            try await Task.sleep(for: .seconds(1))
            let after = try await desk.send(.GET, "/v1/leads/\(written.id)").json(LeadDTO.self)
            #expect(!after.optIn)
            let kinds = try await desk.send(.GET, "/v1/leads/\(written.id)/activity").json(Page<LeadActivityDTO>.self).items.map(\.kind)
            #expect(kinds.filter { $0 == "opt_out" }.count == 2 && !kinds.contains("opt_in"), "\(kinds)")
            let messagingJobs = try await messaging.query(
                "SELECT count(*)::int FROM messaging.jobs WHERE kind = 'crm.event' AND status <> 'done'", logger: TestLog.quiet
            ).first(as: Int.self)
            #expect(messagingJobs == 0)
        }
    }

    @Test func eventsAreRecordedOnceCheckedWholeAndMakeCustomers() async throws {
        try await TestServices.with([.gateway, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]]) { platform in
            let desk = try await Self.desk(platform)
            let service = try await TestKeys.token(subject: "service:messaging", tenant: desk.tenant, roles: [.service])
            let now = ISO8601.format(Date())
            func post(_ events: String, token: String? = nil) async throws -> TestResponse {
                try await TestHTTP.request(
                    .POST, "\(desk.gateway)/v1/crm/events", token: token ?? service, headers: ["X-Tenant-ID": desk.tenant.description],
                    body: Data(#"{"events":[\#(events)]}"#.utf8))
            }
            let message =
                #"{"id":"message-1","source":"messaging","kind":"message_received","phone":"+254 712 000 502","at":"\#(now)","channelKind":"whatsapp"}"#
            let first = try await post(message)
            #expect(first.status == 200, "\(first.text)")
            #expect(try first.json(CRMAPI.EventsReceipt.self) == .init(recorded: 1, duplicates: 0))
            #expect(try await post(message).json(CRMAPI.EventsReceipt.self) == .init(recorded: 0, duplicates: 1))
            let lead = try #require(try await desk.send(.GET, "/v1/leads?q=254712000502").json(Page<LeadDTO>.self).items.first)
            #expect(lead.replies == 1 && lead.source == .whatsapp && lead.phone == "+254712000502")

            // a batch with one bad event records none of it
            let booked =
                #"{"id":"appointment-1-booked","source":"calendar-booking","kind":"appointment_booked","phone":"+254712000502","at":"\#(now)","title":"Viewing"}"#
            for (bad, code) in [
                (#"{"id":"x","source":"messaging","kind":"message_received","phone":"0712","at":"\#(now)"}"#, "invalid_phone"),
                (
                    #"{"id":"p","source":"marketplace-wallet","kind":"purchase","phone":"+254712000502","at":"\#(now)","amount":"-5","currency":"KES"}"#,
                    "invalid_amount"
                ),
                (
                    #"{"id":"p","source":"marketplace-wallet","kind":"purchase","phone":"+254712000502","at":"\#(now)","amount":"5.001","currency":"KES"}"#,
                    "invalid_amount"
                ),
                (#"{"id":"","source":"messaging","kind":"message_received","phone":"+254712000502","at":"\#(now)"}"#, "invalid_events.id"),
            ] {
                let refused = try await post(booked + "," + bad)
                #expect(refused.status == 422 && refused.errorCode == code, "\(bad): \(refused.text)")
            }
            let unknownKind = try await post(#"{"id":"k","source":"messaging","kind":"sneezed","phone":"+254712000502","at":"\#(now)"}"#)
            #expect(unknownKind.status == 400, "\(unknownKind.text)")
            #expect(try await desk.count("SELECT count(*)::int FROM agent.crm_events") == 1)
            #expect(try await desk.count("SELECT bookings FROM agent.leads WHERE phone = '+254712000502'") == 0)

            // not a customer yet; a booking and a purchase later, one with its totals, converted and in the won stage
            #expect(try await desk.send(.GET, "/v1/customers").json(Page<EventsStore.Customer>.self).items.isEmpty)
            let purchase =
                #"{"id":"purchase-1","source":"marketplace-wallet","kind":"purchase","phone":"+254712000502","at":"\#(now)","amount":"1250.50","currency":"KES"}"#
            #expect(try await post(booked + "," + purchase).json(CRMAPI.EventsReceipt.self) == .init(recorded: 2, duplicates: 0))
            #expect(try await post(purchase).json(CRMAPI.EventsReceipt.self) == .init(recorded: 0, duplicates: 1))
            let customers = try await desk.send(.GET, "/v1/customers").json(Page<EventsStore.Customer>.self).items
            #expect(customers.count == 1, "\(customers)")
            let customer = try #require(customers.first)
            #expect(customer.leadId == lead.id && customer.bookings == 1 && customer.messages == 1 && customer.calls == 0 && customer.status == "converted")
            #expect(customer.spent == [.init(currency: "KES", amount: "1250.50")], "\(customer.spent)")
            let converted = try await desk.send(.GET, "/v1/leads/\(lead.id)").json(LeadDTO.self)
            #expect(converted.stage == "won" && converted.status == .converted && converted.bookings == 1)
            let timeline = try await desk.send(.GET, "/v1/leads/\(lead.id)/activity").json(Page<LeadActivityDTO>.self).items
            #expect(timeline.contains { $0.kind == "purchase" && $0.summary == "Bought for 1250.50 KES." }, "\(timeline.map(\.summary))")
            #expect(timeline.contains { $0.kind == "stage_changed" && $0.summary.contains("a purchase of 1250.50 KES") })
            #expect(timeline.contains { $0.kind == "appointment" && $0.summary == "Booked “Viewing”." })
            #expect(try await desk.send(.GET, "/v1/customers?search=000502").json(Page<EventsStore.Customer>.self).items.count == 1)
            #expect(try await desk.send(.GET, "/v1/customers?search=nobody").json(Page<EventsStore.Customer>.self).items.isEmpty)

            // only services post events; an agent sees only their own customers; another tenant sees none
            for role in [Role.tenantAdmin, .agent, .superAdmin, .support] {
                let token = try await TestKeys.token(tenant: desk.tenant, roles: [role])
                #expect(try await post(message, token: token).status == 403, "\(role)")
            }
            let agent = try await TestKeys.token(tenant: desk.tenant, roles: [.agent])
            #expect(try await desk.send(.GET, "/v1/customers", token: agent).json(Page<EventsStore.Customer>.self).items.isEmpty)
            let other = try await platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await desk.send(.GET, "/v1/customers", token: otherAdmin).json(Page<EventsStore.Customer>.self).items.isEmpty)
        }
    }

    @Test func calendarBookingsReachTheLeadOnce() async throws {
        try await TestServices.with([.gateway, .calendarBooking, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]]) { platform in
            let desk = try await Self.desk(platform)
            let created = try await desk.send(.POST, "/v1/calendar/agents", #"{"name":"Amina","timeZone":"Africa/Nairobi"}"#)
            #expect(created.status == 201, "\(created.text)")
            guard case .string(let agent)? = try created.json(JSONValue.self)["id"] else {
                Issue.record("\(created.text)")
                return
            }
            let start = ISO8601.format(Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 + 3 * 86_400))
            let booked = try await desk.send(
                .POST, "/v1/appointments",
                #"{"agentId":"\#(agent)","title":"Viewing","startsAt":"\#(start)","durationMinutes":30,"status":"scheduled","source":"manual","contactPhone":"+254712000503","contactName":"Baraka"}"#
            )
            #expect(booked.status == 201, "\(booked.text)")
            guard case .string(let id)? = try booked.json(JSONValue.self)["id"] else {
                Issue.record("\(booked.text)")
                return
            }
            let lead = try #require(try await Self.lead(desk, "+254712000503") { $0.bookings == 1 })
            #expect(lead.name == "Baraka" && lead.scoreComponents.behavior == 10, "\(lead)")
            let cancelled = try await desk.send(.POST, "/v1/appointments/\(id)/cancel", #"{"reason":"travelling"}"#)
            #expect(cancelled.status == 200, "\(cancelled.text)")
            let after = try #require(try await Self.lead(desk, "+254712000503") { $0.bookings == 0 })
            let summaries = try await desk.send(.GET, "/v1/leads/\(after.id)/activity").json(Page<LeadActivityDTO>.self).items.map(\.summary)
            #expect(summaries.contains("Booked “Viewing”.") && summaries.contains("Cancelled “Viewing”."), "\(summaries)")
            #expect(try await desk.count("SELECT count(*)::int FROM agent.crm_events WHERE source = 'calendar-booking'") == 2)
        }
    }
}
