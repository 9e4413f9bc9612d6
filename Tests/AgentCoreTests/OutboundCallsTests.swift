import Contracts
import Foundation
import Hummingbird
import Models
import NIOHTTP1
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import AgentCore

/// Outbound calls through a fake Twilio on loopback that speaks its REST API, and Twilio's signed status callbacks:
/// a call is a row from the moment it is asked, moves only forward whatever order the callbacks come in, ends with its
/// duration on the lead's timeline; a forged callback, a lead who opted out and a Twilio that refuses are each handled.
@Suite struct OutboundCallsTests {
    static let sid = "AC" + String(repeating: "0123456789abcdef", count: 2)
    static let token = "twilioAuthToken0123456789abcdef"

    final class Placed: Sendable {
        let forms = Mutex<[(auth: String?, form: [String: String])]>([])
        let refuse = Mutex(false)
    }

    /// Twilio's Calls resource as its documentation shows it: 201 with the call's sid, or 400 with a code and message.
    static func twilio(_ placed: Placed) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("2010-04-01/Accounts/:account/Calls.json") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let form = FormEncoding.decode(String(buffer: body))
            placed.forms.withLock { $0.append((request.headers[.authorization], form)) }
            if placed.refuse.withLock({ $0 }) {
                return Response(
                    status: .badRequest, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"code":21211,"message":"Invalid 'To' Phone Number","status":400}"#)))
            }
            let sid = "CA" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            return Response(
                status: .created, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"sid":"\#(sid)","status":"queued","to":"\#(form["To"] ?? "")"}"#)))
        }
        return router
    }

    @Test func aCallIsPlacedAndFollowedToItsEndByItsSignedCallbacks() async throws {
        let placed = Placed()
        try await TestUpstream.with(Self.twilio(placed)) { twilio in
            try await TestServices.with(
                [.gateway, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"], .agentCore: ["AGENT_TWILIO_BASE_URL": twilio]]
            ) { platform in
                let desk = try await CRMEventsTests.desk(platform)
                let lead = try await desk.lead("+254712002001", #","locale":"sw""#)
                // no Twilio yet: the sandbox records the request and places nothing
                let sandbox = try await desk.send(.POST, "/v1/calls", #"{"leadId":"\#(lead.id)","purpose":"Karibu"}"#)
                #expect(sandbox.status == 201, "\(sandbox.text)")
                #expect(try sandbox.json(CallDTO.self).provider == "sandbox" && placed.forms.withLock { $0.isEmpty })

                let set = try await desk.send(
                    .PUT, "/v1/voice/twilio", #"{"accountSid":"\#(Self.sid)","authToken":"\#(Self.token)","fromNumber":"+254700000100"}"#)
                #expect(set.status == 200, "\(set.text)")
                let settings = try set.json(CallsStore.Settings.self)
                let twilioSettings = try #require(settings.twilio)
                #expect(twilioSettings.authTokenHint == "…cdef" && !set.text.contains(Self.token))
                let asked = try await desk.send(.POST, "/v1/calls", #"{"leadId":"\#(lead.id)","purpose":"Your viewing is <tomorrow> & confirmed"}"#)
                #expect(asked.status == 201, "\(asked.text)")
                let call = try asked.json(CallDTO.self)
                #expect(call.provider == "twilio" && call.status == "queued" && call.providerCallId.hasPrefix("CA") && call.direction == "outbound")

                // what Twilio was sent: the lead's number, the tenant's, the instructions escaped, the callback URL
                let sent = try #require(placed.forms.withLock { $0.last })
                #expect(sent.auth == "Basic " + Data("\(Self.sid):\(Self.token)".utf8).base64EncodedString())
                #expect(sent.form["To"] == "+254712002001" && sent.form["From"] == "+254700000100")
                #expect(sent.form["Twiml"] == #"<Response><Say language="sw-KE">Your viewing is &lt;tomorrow&gt; &amp; confirmed</Say></Response>"#)
                let callback = try #require(sent.form["StatusCallback"])
                #expect(callback == platform.url(.gateway) + twilioSettings.statusCallbackPath, "\(callback)")

                // Twilio's callbacks, signed over the URL and the form; out of order and repeated
                func report(_ status: String, duration: String? = nil, token: String = Self.token) async throws -> TestResponse {
                    var form = [
                        "AccountSid": Self.sid, "CallSid": call.providerCallId, "CallStatus": status, "Direction": "outbound-api",
                        "From": "+254700000100", "To": "+254712002001",
                    ]
                    if let duration { form["CallDuration"] = duration }
                    let signature = TwilioSignature.sign(url: callback, params: form, authToken: token)
                    return try await TestHTTP.request(
                        .POST, callback, headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature],
                        body: Data(FormEncoding.encode(form.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }).utf8))
                }
                #expect(try await report("ringing").status == 204)
                #expect(try await report("in-progress").status == 204)
                #expect(try await report("completed", duration: "42").status == 204)
                #expect(try await report("ringing").status == 204)
                #expect(try await report("completed", duration: "42").status == 204)
                let forged = try await report("failed", token: "not-the-token-0000000000")
                #expect(forged.status == 401, "\(forged.text)")
                let ended = try await desk.send(.GET, "/v1/calls/\(call.id)").json(CallDTO.self)
                #expect(ended.status == "completed" && ended.durationSeconds == 42 && ended.startedAt != nil && ended.endedAt != nil, "\(ended)")
                let timeline = try await desk.send(.GET, "/v1/leads/\(lead.id)/activity").json(Page<LeadActivityDTO>.self).items
                #expect(timeline.filter { $0.summary == "Call outbound, completed, 42 s." }.count == 1, "\(timeline.map(\.summary))")

                // a customer calling in is a call of its own, on their lead
                let inbound = [
                    "AccountSid": Self.sid, "CallSid": "CA" + String(repeating: "9", count: 32), "CallStatus": "completed", "Direction": "inbound",
                    "From": "+254712002099", "To": "+254700000100", "CallDuration": "7",
                ]
                let signature = TwilioSignature.sign(url: callback, params: inbound, authToken: Self.token)
                let posted = try await TestHTTP.request(
                    .POST, callback, headers: ["Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature],
                    body: Data(FormEncoding.encode(inbound.map { ($0.key, $0.value) }).utf8))
                #expect(posted.status == 204, "\(posted.text)")
                let calls = try await desk.send(.GET, "/v1/calls?status=completed").json(Page<CallDTO>.self).items
                #expect(calls.count == 2 && calls.contains { $0.direction == "inbound" && $0.customerNumber == "+254712002099" && $0.durationSeconds == 7 })

                // Twilio refuses: the call is there, failed, with Twilio's reason
                placed.refuse.withLock { $0 = true }
                let refused = try await desk.send(.POST, "/v1/calls", #"{"leadId":"\#(lead.id)"}"#).json(CallDTO.self)
                #expect(refused.status == "failed" && refused.endedReason == "Twilio refused the call (21211): Invalid 'To' Phone Number", "\(refused)")
            }
        }
    }

    @Test func whoMayCallWhomAndBadInput() async throws {
        try await TestServices.with([.gateway, .agentCore], settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"]]) { platform in
            let desk = try await CRMEventsTests.desk(platform)
            let lead = try await desk.lead("+254712002101")
            #expect(try await desk.send(.PATCH, "/v1/leads/\(lead.id)", #"{"optIn":false}"#).status == 200)
            let optedOut = try await desk.send(.POST, "/v1/calls", #"{"leadId":"\#(lead.id)"}"#)
            #expect(optedOut.status == 409 && optedOut.errorCode == "opted_out", "\(optedOut.text)")
            for (body, code) in [
                ("{}", "invalid_leadId"), (#"{"leadId":"\#(UUID())"}"#, "lead_not_found"),
                (#"{"leadId":"\#(lead.id)","purpose":"\#(String(repeating: "x", count: 501))"}"#, "invalid_purpose"),
            ] {
                let refused = try await desk.send(.POST, "/v1/calls", body)
                #expect(refused.errorCode == code, "\(body.prefix(60)): \(refused.text)")
            }
            for (body, code) in [
                (#"{"accountSid":"AC123","authToken":"\#(Self.token)","fromNumber":"+254700000100"}"#, "invalid_accountSid"),
                (#"{"accountSid":"\#(Self.sid)","authToken":"short","fromNumber":"+254700000100"}"#, "invalid_authToken"),
                (#"{"accountSid":"\#(Self.sid)","authToken":"\#(Self.token)","fromNumber":"0700"}"#, "invalid_phone"),
                (#"{"accountSid":"\#(Self.sid)"}"#, "invalid_twilio"),
            ] {
                let refused = try await desk.send(.PUT, "/v1/voice/twilio", body)
                #expect(refused.status == 422 && refused.errorCode == code, "\(body): \(refused.text)")
            }
            // the token is sealed at rest
            #expect(
                try await desk.send(.PUT, "/v1/voice/twilio", #"{"accountSid":"\#(Self.sid)","authToken":"\#(Self.token)","fromNumber":"+254700000100"}"#)
                    .status == 200)
            #expect(
                try await desk.count(
                    "SELECT count(*)::int FROM agent.voice_settings WHERE position('\(Self.token)' IN encode(twilio_auth_token, 'escape')) > 0") == 0)
            // an agent calls their own leads only; support may not set the account; a callback to an unknown URL is refused
            let agent = try await TestKeys.token(subject: UUID().uuidString.lowercased(), tenant: desk.tenant, roles: [.agent])
            #expect(try await desk.send(.POST, "/v1/calls", #"{"leadId":"\#(lead.id)"}"#, token: agent).status == 404)
            let support = try await TestKeys.token(tenant: desk.tenant, roles: [.support])
            #expect(try await desk.send(.PUT, "/v1/voice/twilio", "{}", token: support).status == 403)
            let unknown = try await TestHTTP.request(
                .POST, "\(desk.gateway)/webhooks/voice/twilio/vw_unknownunknownunknown0", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Data("CallSid=CA1&CallStatus=completed".utf8))
            #expect(unknown.status == 401)
            let other = try await platform.createTenant()
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await desk.send(.POST, "/v1/calls", #"{"leadId":"\#(lead.id)"}"#, token: otherAdmin).status == 404)
        }
    }
}
