import Contracts
import Foundation
import Hummingbird
import Models
import NIOHTTP1
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// The role and tenant matrix of messaging's API, with the real messaging service behind the real gateway: every
/// role gets, for every endpoint declared in `Shared/Contracts/MessagingAPI.swift` (and the service's own whoami
/// and audit), what the declaration says (a success when allowed, 403 when not), through the gateway and at the
/// service itself; and a second tenant's admin sees and reaches none of the first tenant's rows.
@Suite(.serialized) struct MessagingAccessTests {
    struct Setup: Sendable {
        let gateway: String
        let messaging: String
        let tenant: TenantID
        let admin: String
        let otherAdmin: String
        let channel: String
        let conversation: String
        let contact: String
        let message: String
        let optOutHash: String
    }

    /// One concrete call of an endpoint, which succeeds for a role the endpoint allows.
    struct Call: Sendable {
        var endpoint: Endpoint
        var path: String
        var body: String?
        var success: Set<Int>
    }

    static func calls(_ s: Setup, role: Role) -> [Call] {
        let unique = UUID().uuidString.prefix(8).lowercased()
        var quiet = MessagingSettings.defaults
        quiet.quietHours = [:]
        let settings = String(decoding: try! JSONEncoder.sokoni.encode(quiet), as: UTF8.self)
        return [
            Call(
                endpoint: MessagingAPI.createChannel, path: "/v1/channels",
                body: #"{"kind":"telegram","name":"Bot \#(unique)","secrets":{"botToken":"1:\#(unique)","secretToken":"s-\#(unique)"}}"#,
                success: [201]),
            Call(endpoint: MessagingAPI.listChannels, path: "/v1/channels", success: [200]),
            Call(endpoint: MessagingAPI.getChannel, path: "/v1/channels/\(s.channel)", success: [200]),
            Call(endpoint: MessagingAPI.updateChannel, path: "/v1/channels/\(s.channel)", body: #"{"name":"Bot \#(role.rawValue)"}"#, success: [200]),
            Call(endpoint: MessagingAPI.bindAgent, path: "/v1/channels/\(s.channel)/agent", body: #"{"agentId":null,"reason":"matrix"}"#, success: [200]),
            Call(endpoint: MessagingAPI.listContacts, path: "/v1/contacts", success: [200]),
            Call(endpoint: MessagingAPI.updateContact, path: "/v1/contacts/\(s.contact)", body: #"{"notes":"seen by \#(role.rawValue)"}"#, success: [200]),
            Call(endpoint: MessagingAPI.listConversations, path: "/v1/conversations", success: [200]),
            Call(endpoint: MessagingAPI.getConversation, path: "/v1/conversations/\(s.conversation)", success: [200]),
            Call(endpoint: MessagingAPI.conversationMessages, path: "/v1/conversations/\(s.conversation)/messages", success: [200]),
            Call(endpoint: MessagingAPI.updateConversation, path: "/v1/conversations/\(s.conversation)", body: #"{"read":true}"#, success: [200]),
            Call(endpoint: MessagingAPI.sendMessage, path: "/v1/messages", body: #"{"to":"+250788500002","text":"Hello"}"#, success: [202]),
            Call(endpoint: MessagingAPI.getMessage, path: "/v1/messages/\(s.message)", success: [200]),
            Call(endpoint: MessagingAPI.sandboxOutbox, path: "/v1/sandbox/outbox", success: [200]),
            Call(endpoint: MessagingAPI.sandboxInbound, path: "/v1/sandbox/inbound", body: #"{"from":"+250788500003","text":"Hi"}"#, success: [202]),
            Call(endpoint: MessagingAPI.getSettings, path: "/v1/messaging/settings", success: [200]),
            Call(endpoint: MessagingAPI.putSettings, path: "/v1/messaging/settings", body: settings, success: [200]),
            Call(endpoint: MessagingAPI.analytics, path: "/v1/messaging/analytics", success: [200]),
            Call(endpoint: MessagingAPI.daily, path: "/v1/messaging/daily", success: [200]),
            Call(endpoint: MessagingAPI.consent, path: "/v1/messaging/consent", body: #"{"address":"+250788500009","optedIn":false}"#, success: [200]),
            Call(endpoint: MessagingAPI.listOptOuts, path: "/v1/opt-outs", success: [200]),
            Call(endpoint: MessagingAPI.addOptOut, path: "/v1/opt-outs", body: #"{"address":"+250788500008"}"#, success: [200, 201]),
            Call(endpoint: MessagingAPI.removeOptOut, path: "/v1/opt-outs/\(s.optOutHash)", success: [204]),
            Call(
                endpoint: MessagingAPI.notify, path: "/v1/messaging/notifications",
                body: #"{"kind":"voucher_redeemed","msisdn":"+250788500004","code":"K7M2Q","amount":"5000","currency":"RWF"}"#, success: [202]),
            Call(endpoint: ServiceAPI.whoami(.messaging), path: "/v1/messaging/whoami", success: [200]),
            Call(endpoint: ServiceAPI.audit(.messaging), path: "/v1/messaging/audit", success: [200]),
        ]
    }

    static func token(_ role: Role, tenant: TenantID) async throws -> (token: String, headers: [String: String]) {
        // platform staff and services hold no tenant: they name the one they act for
        let tenantless = role.isPlatformStaff || role == .service
        let token = try await TestKeys.token(
            subject: role == .service ? "service:vouchers" : "\(role.rawValue)-1", tenant: tenantless ? nil : tenant, roles: [role],
            station: role == .stationOperator ? StationID() : nil)
        return (token, tenantless ? ["X-Tenant-ID": tenant.description] : [:])
    }

    static func with(_ body: (Setup) async throws -> Void) async throws {
        try await TestUpstream.with(MessagingFlowTests.fakeAgent) { agent in
            try await TestServices.with(
                [.gateway, .messaging],
                settings: [
                    .gateway: ["RATE_LIMIT_ENABLED": "false"],
                    .messaging: [
                        "MESSAGING_GRAPH_BASE_URL": agent, "MESSAGING_TWILIO_BASE_URL": agent, "MESSAGING_TELEGRAM_BASE_URL": agent,
                    ],
                ], upstreams: [.agentCore: agent]
            ) { platform in
                let gateway = platform.url(.gateway)
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                let otherAdmin = try await TestKeys.token(tenant: try await platform.createTenant(), roles: [.tenantAdmin])
                var quiet = MessagingSettings.defaults
                quiet.quietHours = [:]
                let put = try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(quiet))
                #expect(put.status == 200, "\(put.text)")
                // the first tenant's rows: a customer's message (contact, conversation), a channel, an opt-out
                let inbound = try await TestHTTP.request(
                    .POST, "\(gateway)/v1/sandbox/inbound", token: admin, body: Data(#"{"from":"+250788500001","text":"Muraho"}"#.utf8))
                #expect(inbound.status == 202, "\(inbound.text)")
                var conversations: [ConversationDTO] = []
                _ = try await TestWait.until {
                    conversations = try await TestHTTP.get("\(gateway)/v1/conversations", token: admin).json(Page<ConversationDTO>.self).items
                    return !conversations.isEmpty
                }
                let conversation = try #require(conversations.first)
                let messages = try await TestHTTP.get("\(gateway)/v1/conversations/\(conversation.id)/messages", token: admin).json(Page<MessageDTO>.self)
                let message = try #require(messages.items.first)
                let channel = try await TestHTTP.post(
                    "\(gateway)/v1/channels", token: admin, json: ProviderSendMoreTests.TelegramChannel()
                ).json(ChannelDTO.self)
                let optOut = try await TestHTTP.request(
                    .POST, "\(gateway)/v1/opt-outs", token: admin, body: Data(#"{"address":"+250788500009"}"#.utf8)
                ).json([String: String].self)
                try await body(
                    Setup(
                        gateway: gateway, messaging: platform.url(.messaging), tenant: tenant, admin: admin, otherAdmin: otherAdmin,
                        channel: channel.id.description, conversation: conversation.id.description, contact: conversation.contact.id.description,
                        message: message.id.description, optOutHash: try #require(optOut["hash"])))
            }
        }
    }

    @Test func everyRoleGetsWhatMessagingsDeclarationsSayThroughTheGatewayAndAtTheService() async throws {
        try await Self.with { s in
            // every endpoint a token may call is in the table (webhooks are public: their signatures are tested elsewhere)
            // (campaigns, templates and sequences have their own matrix: CampaignAccessTests)
            let declared = (MessagingAPI.all + ServiceAPI.all(.messaging)).filter { !$0.isPublic && !MessagingAPI.campaignEndpoints.contains($0) }
            let covered = Set(Self.calls(s, role: .tenantAdmin).map(\.endpoint))
            #expect(Set(declared) == covered, "endpoints without a call: \(Set(declared).subtracting(covered))")

            for role in Role.allCases {
                let (token, headers) = try await Self.token(role, tenant: s.tenant)
                for base in [s.gateway, s.messaging] {
                    let via = base == s.gateway ? "the gateway" : "the service"
                    for call in Self.calls(s, role: role) {
                        if call.endpoint == MessagingAPI.removeOptOut {
                            // the entry is there for each try
                            _ = try await TestHTTP.request(
                                .POST, "\(s.gateway)/v1/opt-outs", token: s.admin, body: Data(#"{"address":"+250788500009"}"#.utf8))
                        }
                        var callHeaders = headers
                        if call.endpoint == MessagingAPI.notify || call.endpoint == MessagingAPI.sendMessage {
                            callHeaders["Idempotency-Key"] = UUID().uuidString
                        }
                        let response = try await TestHTTP.request(
                            HTTPMethod(rawValue: call.endpoint.method), "\(base)\(call.path)", token: token, headers: callHeaders,
                            body: call.body.map { Data($0.utf8) })
                        if call.endpoint.allows([role]) {
                            #expect(
                                call.success.contains(response.status),
                                "\(call.endpoint) as \(role) via \(via): \(response.status) \(response.text.prefix(300))")
                        } else {
                            #expect(response.status == 403, "\(call.endpoint) as \(role) via \(via): \(response.status) \(response.text.prefix(300))")
                        }
                    }
                }
            }
            // no token: 401 everywhere
            for call in Self.calls(s, role: .readonly) {
                let response = try await TestHTTP.request(
                    HTTPMethod(rawValue: call.endpoint.method), "\(s.gateway)\(call.path)", body: call.body.map { Data($0.utf8) })
                #expect(response.status == 401, "\(call.endpoint) without a token: \(response.status)")
            }
            // a tenant's user cannot name another tenant
            let agent = try await TestKeys.token(tenant: s.tenant, roles: [.agent])
            let switched = try await TestHTTP.get("\(s.gateway)/v1/conversations", token: agent, headers: ["X-Tenant-ID": TenantID().description])
            #expect(switched.status == 403)
        }
    }

    @Test func anotherTenantsAdminSeesAndReachesNoneOfTheFirstTenantsRows() async throws {
        try await Self.with { s in
            let other = s.otherAdmin
            func get(_ path: String) async throws -> TestResponse { try await TestHTTP.get("\(s.gateway)\(path)", token: other) }
            func call(_ method: HTTPMethod, _ path: String, _ body: String? = nil) async throws -> TestResponse {
                try await TestHTTP.request(method, "\(s.gateway)\(path)", token: other, body: body.map { Data($0.utf8) })
            }
            // the lists hold none of the first tenant's rows
            let channels = try await get("/v1/channels").json(Page<ChannelDTO>.self).items
            #expect(!channels.contains { $0.id.description == s.channel })
            #expect(try await get("/v1/contacts").json(Page<ContactDTO>.self).items.isEmpty)
            #expect(try await get("/v1/conversations").json(Page<ConversationDTO>.self).items.isEmpty)
            #expect(try await get("/v1/conversations?q=250788500001").json(Page<ConversationDTO>.self).items.isEmpty)
            #expect(try await get("/v1/sandbox/outbox").json(Page<OutboxEntry>.self).items.isEmpty)
            #expect(try await get("/v1/opt-outs").json(Page<PolicyStore.OptOutEntry>.self).items.isEmpty)
            let analytics = try await get("/v1/messaging/analytics").json(MessagingAnalytics.self)
            #expect(analytics.totals.inbound == 0 && analytics.totals.outbound == 0 && analytics.days.isEmpty)
            let audit = try await get("/v1/messaging/audit").json(Page<ServiceAPI.AuditEntry>.self).items
            #expect(audit.isEmpty, "\(audit.map(\.action))")
            // the first tenant's settings are its own (it turned quiet hours off)
            #expect(try await get("/v1/messaging/settings").json(MessagingSettings.self) == .defaults)

            // each of its rows, by id: 404, and nothing changed
            let refused: [(HTTPMethod, String, String?)] = [
                (.GET, "/v1/channels/\(s.channel)", nil),
                (.PATCH, "/v1/channels/\(s.channel)", #"{"name":"Mine"}"#),
                (.PUT, "/v1/channels/\(s.channel)/agent", #"{"agentId":null}"#),
                (.PATCH, "/v1/contacts/\(s.contact)", #"{"name":"Mine"}"#),
                (.GET, "/v1/conversations/\(s.conversation)", nil),
                (.GET, "/v1/conversations/\(s.conversation)/messages", nil),
                (.PATCH, "/v1/conversations/\(s.conversation)", #"{"status":"closed"}"#),
                (.GET, "/v1/messages/\(s.message)", nil),
                (.POST, "/v1/messages", #"{"conversationId":"\#(s.conversation)","text":"Hello"}"#),
                (.POST, "/v1/messages", #"{"channelId":"\#(s.channel)","to":"1111111","text":"Hello"}"#),
                (.DELETE, "/v1/opt-outs/\(s.optOutHash)", nil),
            ]
            for (method, path, body) in refused {
                let response = try await call(method, path, body)
                #expect(response.status == 404, "\(method) \(path): \(response.status) \(response.text.prefix(200))")
            }
            let conversation = try await TestHTTP.get("\(s.gateway)/v1/conversations/\(s.conversation)", token: s.admin).json(ConversationDTO.self)
            #expect(conversation.status == .aiActive)
            #expect(conversation.contact.name == nil)
            let channel = try await TestHTTP.get("\(s.gateway)/v1/channels/\(s.channel)", token: s.admin).json(ChannelDTO.self)
            #expect(channel.name == "Telegram")
            #expect(try await TestHTTP.get("\(s.gateway)/v1/opt-outs", token: s.admin).json(Page<PolicyStore.OptOutEntry>.self).items.count == 1)
            let outbound = try await TestHTTP.get("\(s.gateway)/v1/sandbox/outbox", token: s.admin).json(Page<OutboxEntry>.self).items
            #expect(!outbound.contains { $0.body == "Hello" })
        }
    }
}
