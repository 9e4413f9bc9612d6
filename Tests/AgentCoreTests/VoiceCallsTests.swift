import Contracts
import Foundation
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// Voice calls from the provider's end-of-call report through the gateway: Vapi's message body with its HMAC
/// signature checked (a wrong key, a changed byte, an old timestamp: refused, nothing stored), one call per
/// provider call id however often it is delivered, the transcript line by line, the lead of the number with the
/// call in its timeline, dispositions, and who sees which calls.
@Suite struct VoiceCallsTests {
    static func report(id: String, number: String = "+254712000099", ended: Date = Date(), type: String = "end-of-call-report") -> String {
        let start = ended.addingTimeInterval(-95)
        return #"""
            {"message":{"type":"\#(type)","timestamp":\#(Int(ended.timeIntervalSince1970 * 1000)),"endedReason":"customer-ended-call",\#
            "call":{"id":"\#(id)","orgId":"org_1","type":"inboundPhoneCall","status":"ended","customer":{"number":"\#(number)"},"phoneNumberId":"pn_1"},\#
            "artifact":{"recordingUrl":"https://storage.vapi.ai/\#(id)-mono.wav","transcript":"AI: Habari, karibu.\nUser: Nataka kuona nyumba.",\#
            "messages":[{"role":"system","message":"You are a property agent.","time":1,"secondsFromStart":0},\#
            {"role":"bot","message":"Habari, karibu.","time":2,"endTime":3,"secondsFromStart":0.6},\#
            {"role":"user","message":"Nataka kuona nyumba ya vyumba viwili.","time":4,"endTime":5,"secondsFromStart":3.25,"confidence":0.91},\#
            {"role":"tool_calls","message":"","time":6,"secondsFromStart":5}]},\#
            "analysis":{"summary":"The caller wants to view a two-bedroom flat.","successEvaluation":"true","structuredData":{"sentiment":"positive"}},\#
            "startedAt":"\#(ISO8601.format(start))","endedAt":"\#(ISO8601.format(ended))","cost":0.1234,"durationSeconds":95.2}}
            """#
    }

    static func deliver(_ desk: LeadsTests.Desk, path: String, body: String, secret: String, timestamp: Date = Date(), tamper: Bool = false)
        async throws -> TestResponse
    {
        let stamp = String(Int(timestamp.timeIntervalSince1970 * 1000))
        let signature = VoiceReport.signature(body: Array(body.utf8), timestamp: stamp, secret: secret)
        let sent = tamper ? body.replacingOccurrences(of: "two-bedroom", with: "six-bedroom") : body
        return try await TestHTTP.request(
            .POST, "\(desk.gateway)\(path)", headers: ["X-Signature": signature, "X-Timestamp": stamp], body: Data(sent.utf8))
    }

    @Test func aSignedReportBecomesOneCallWithItsTranscriptOnTheLeadOfItsNumber() async throws {
        try await LeadsTests.with { desk in
            let settings = try await desk.send(.POST, "/v1/voice/settings").json(CallsStore.Settings.self)
            let secret = try #require(settings.secret)
            #expect(settings.webhookPath.hasPrefix("/webhooks/voice/vapi/vw_"))
            #expect(try await desk.send(.GET, "/v1/voice/settings").json(CallsStore.Settings.self).secret == nil)
            let body = Self.report(id: "call-7f3a")
            let first = try await Self.deliver(desk, path: settings.webhookPath, body: body, secret: secret)
            #expect(first.status == 200, "\(first.text)")
            #expect(try first.json([String: String].self)["received"] == "recorded")
            // the provider delivers it again: the same call, nothing more
            let again = try await Self.deliver(desk, path: settings.webhookPath, body: body, secret: secret)
            #expect(try again.json([String: String].self)["received"] == "duplicate")
            #expect(try await desk.count("SELECT count(*)::int FROM agent.calls") == 1)

            let calls = try await desk.send(.GET, "/v1/calls").json(Page<CallDTO>.self).items
            let call = try #require(calls.first)
            #expect(call.status == "completed" && call.direction == "inbound" && call.durationSeconds == 95 && call.sentiment == "positive")
            #expect(call.costMicros == 123_400 && call.costCurrency == "USD" && call.recordingUrl == "https://storage.vapi.ai/call-7f3a-mono.wav")
            #expect(call.summary == "The caller wants to view a two-bedroom flat." && call.transcriptLines == 3)
            let transcript = try await desk.send(.GET, "/v1/calls/\(call.id)/transcript").json(CallsController.Transcript.self).lines
            #expect(transcript.map(\.speaker) == ["system", "agent", "customer"])
            #expect(transcript[2].offsetMs == 3250 && transcript[2].confidence.map { abs($0 - 0.91) < 0.001 } == true)
            #expect(transcript[1].confidence == nil, "no confidence is invented")
            // the number's lead: made by the call, in touch now, the call in its timeline
            let lead = try await desk.send(.GET, "/v1/leads/\(try #require(call.leadId))").json(LeadDTO.self)
            #expect(lead.phone == "+254712000099" && lead.source == .voice && lead.lastContactAt != nil && lead.scoreComponents.engagement == 20)
            #expect(call.scoreDelta == 20 && call.stageAfter == "new")
            let timeline = try await desk.send(.GET, "/v1/leads/\(lead.id)/activity").json(Page<LeadActivityDTO>.self).items
            #expect(timeline.contains { $0.kind == "call" && $0.summary.hasPrefix("Call inbound, completed, 95 s: The caller wants") })
            #expect(timeline.contains { $0.kind == "score_changed" && $0.summary.hasPrefix("Score 0 → 20: engagement 0 → 20 (call on ") })

            // another message type is acknowledged and stored nowhere
            let status = try await Self.deliver(desk, path: settings.webhookPath, body: Self.report(id: "call-x", type: "status-update"), secret: secret)
            #expect(status.status == 200)
            #expect(try status.json([String: String].self)["received"] == "ignored")
            #expect(try await desk.count("SELECT count(*)::int FROM agent.calls") == 1)

            // a disposition, in the call and in the lead's timeline
            let disposed = try await desk.send(.POST, "/v1/calls/\(call.id)/dispositions", #"{"code":"viewing_booked","notes":"Saturday 10:00"}"#)
            #expect(disposed.status == 201, "\(disposed.text)")
            #expect(try disposed.json(CallDTO.self).dispositions.map(\.code) == ["viewing_booked"])
            #expect(try await desk.send(.POST, "/v1/calls/\(call.id)/dispositions", #"{"code":"Booked!"}"#).errorCode == "invalid_code")
            #expect(
                try await desk.count("SELECT count(*)::int FROM agent.lead_activity WHERE summary = 'Call disposition viewing_booked: Saturday 10:00'") == 1)
            // a later call from the same number: the same lead, and no `merged` row for a customer it already knew
            let later = try await Self.deliver(desk, path: settings.webhookPath, body: Self.report(id: "call-8b1c"), secret: secret)
            #expect(try later.json([String: String].self)["received"] == "recorded")
            #expect(try await desk.count("SELECT count(*)::int FROM agent.leads") == 1)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.lead_activity WHERE kind = 'merged'") == 0)
        }
    }

    @Test func aReportThatDoesNotVerifyIsRefusedAndStoresNothing() async throws {
        try await LeadsTests.with { desk in
            let settings = try await desk.send(.POST, "/v1/voice/settings").json(CallsStore.Settings.self)
            let secret = try #require(settings.secret)
            let body = Self.report(id: "call-forged")
            for (name, answer) in [
                ("another key", try await Self.deliver(desk, path: settings.webhookPath, body: body, secret: secret + "x")),
                ("a changed byte", try await Self.deliver(desk, path: settings.webhookPath, body: body, secret: secret, tamper: true)),
                (
                    "ten minutes old",
                    try await Self.deliver(desk, path: settings.webhookPath, body: body, secret: secret, timestamp: Date().addingTimeInterval(-600))
                ),
                ("unknown URL", try await Self.deliver(desk, path: "/webhooks/voice/vapi/vw_nobodyhasthisid1234567", body: body, secret: secret)),
                ("no signature", try await TestHTTP.request(.POST, "\(desk.gateway)\(settings.webhookPath)", body: Data(body.utf8))),
            ] {
                #expect(answer.status == 401 && answer.errorCode == "invalid_signature", "\(name): \(answer.status) \(answer.text)")
            }
            // a rotated secret: the old one stops working at once
            let rotated = try await desk.send(.POST, "/v1/voice/settings").json(CallsStore.Settings.self)
            #expect(try await Self.deliver(desk, path: rotated.webhookPath, body: body, secret: secret).status == 401)
            #expect(try await Self.deliver(desk, path: settings.webhookPath, body: body, secret: try #require(rotated.secret)).status == 401)
            // not JSON at all, signed: a clear 400
            let garbage = try await Self.deliver(desk, path: rotated.webhookPath, body: "not json", secret: try #require(rotated.secret))
            #expect(garbage.status == 400)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.calls") == 0)
            #expect(try await desk.count("SELECT count(*)::int FROM agent.leads") == 0)
        }
    }

    @Test func anAgentSeesTheCallsOfTheirLeadsAndNoOtherTenantAny() async throws {
        try await LeadsTests.with { desk in
            let settings = try await desk.send(.POST, "/v1/voice/settings").json(CallsStore.Settings.self)
            let secret = try #require(settings.secret)
            _ = try await Self.deliver(desk, path: settings.webhookPath, body: Self.report(id: "call-a", number: "+254712000101"), secret: secret)
            _ = try await Self.deliver(desk, path: settings.webhookPath, body: Self.report(id: "call-b", number: "+254712000102"), secret: secret)
            let calls = try await desk.send(.GET, "/v1/calls").json(Page<CallDTO>.self).items
            #expect(calls.count == 2)
            let agentID = UUID()
            let agent = try await TestKeys.token(subject: agentID.uuidString.lowercased(), tenant: desk.tenant, roles: [.agent])
            let mine = try #require(calls.first { $0.customerNumber == "+254712000101" })
            #expect(
                try await desk.send(.PUT, "/v1/leads/\(try #require(mine.leadId))/assign", #"{"assigneeId":"\#(agentID.uuidString)"}"#).status == 200)
            #expect(try await desk.send(.GET, "/v1/calls", token: agent).json(Page<CallDTO>.self).items.map(\.id) == [mine.id])
            let other = try #require(calls.first { $0.customerNumber == "+254712000102" })
            #expect(try await desk.send(.GET, "/v1/calls/\(other.id)/transcript", token: agent).status == 404)
            // the webhook's secret is the admins'
            #expect(try await desk.send(.POST, "/v1/voice/settings", token: agent).status == 403)
            #expect(try await desk.send(.GET, "/v1/voice/settings", token: agent).status == 403)
            let stranger = try await TestKeys.token(tenant: try await desk.platform.createTenant(), roles: [.tenantAdmin])
            #expect(try await desk.send(.GET, "/v1/calls", token: stranger).json(Page<CallDTO>.self).items.isEmpty)
            #expect(try await desk.send(.GET, "/v1/calls/\(mine.id)", token: stranger).status == 404)
            #expect(try await desk.send(.GET, "/v1/calls?status=dialling").status == 400)
        }
    }
}
