import Contracts
import Foundation
import Hummingbird
import Models
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// Provider secrets travel in two places only: sealed in the database, and in the request to the provider. Not in
/// any answer, and not in any log line, at any level, through creating, reading, rotating, a refused webhook, a
/// good one and sends the provider accepts and refuses.
@Suite(.serialized) struct SecretsInLogsTests {
    static let secrets = [
        "EAAG-test-access-token-123456", "meta-app-secret-value", "verify-me-please", "EAAG-rotated-access-token-987654", "rotated-app-secret-value",
        "7712345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "telegram-secret-token-value",
    ]

    @Test func noSecretAppearsInAnyLogLineOrAnswer() async throws {
        let logs = LogCapture()
        let calls = ProviderSendTests.Calls()
        try await TestUpstream.with(ProviderSendTests.graph(calls)) { graph in
            try await TestServices.with(
                [.gateway, .messaging],
                settings: [
                    .messaging: [
                        "JOBS_POLL_INTERVAL_MS": "20", "JOBS_BACKOFF_BASE_MS": "50", "MESSAGING_GRAPH_BASE_URL": graph, "MESSAGING_TELEGRAM_BASE_URL": graph,
                        "LOG_LEVEL": "trace",
                    ]
                ],
                logger: logs.logger(label: "platform", level: .trace)
            ) { platform in
                let gateway = platform.url(.gateway)
                let tenant = try await platform.createTenant()
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                var settings = MessagingSettings.defaults
                settings.quietHours = [:]
                _ = try await TestHTTP.request(.PUT, "\(gateway)/v1/messaging/settings", token: admin, body: try JSONEncoder.sokoni.encode(settings))
                var answers: [String] = []

                let created = try await TestHTTP.post("\(gateway)/v1/channels", token: admin, json: ProviderSendTests.NewChannel())
                #expect(created.status == 201)
                answers.append(created.text)
                let channel = try created.json(ChannelDTO.self)
                answers.append(try await TestHTTP.get("\(gateway)/v1/channels/\(channel.id)", token: admin).text)
                answers.append(try await TestHTTP.get("\(gateway)/v1/channels", token: admin).text)
                let rotated = try await TestHTTP.request(
                    .PATCH, "\(gateway)/v1/channels/\(channel.id)", token: admin,
                    body: Data(#"{"secrets":{"accessToken":"EAAG-rotated-access-token-987654","appSecret":"rotated-app-secret-value"}}"#.utf8))
                #expect(rotated.status == 200, "\(rotated.text)")
                answers.append(rotated.text)
                // a refused handshake and webhook, then a good one
                let path = "/webhooks/whatsapp/\(channel.publicId)"
                answers.append(try await TestHTTP.get("\(gateway)\(path)?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1").text)
                let body = Data(MessagingFlowTests.batch(messageID: "wamid.LOG1", statusOf: nil, status: nil).utf8)
                for secret in ["meta-app-secret-value", "rotated-app-secret-value"] {
                    let signature = WebhookSignatures.metaSignature(body: Array(body), appSecret: secret)
                    answers.append(try await TestHTTP.request(.POST, "\(gateway)\(path)", headers: ["X-Hub-Signature-256": signature], body: body).text)
                }
                // sends: accepted, and refused for good
                for to in ["+250788000001", "+250788000002"] {
                    let sent = try await TestHTTP.post(
                        "\(gateway)/v1/messages", token: admin,
                        json: ProviderSendTests.Send(channelId: channel.id.description, to: to, template: TemplateRef(name: "hello", language: "en")))
                    #expect(sent.status == 202)
                    answers.append(sent.text)
                }
                // Telegram puts the bot token in the URL path: the fake answers 404, and the failure must not log the URL
                let telegram = try await TestHTTP.post(
                    "\(gateway)/v1/channels", token: admin,
                    json: [
                        "kind": JSONValue.string("telegram"), "name": .string("Bot"),
                        "secrets": .object([
                            "botToken": .string("7712345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"), "secretToken": .string("telegram-secret-token-value"),
                        ]),
                    ])
                #expect(telegram.status == 201, "\(telegram.text)")
                answers.append(telegram.text)
                let bot = try telegram.json(ChannelDTO.self)
                let chat = try await TestHTTP.post(
                    "\(gateway)/v1/messages", token: admin, json: ["channelId": bot.id.description, "to": "123456789", "text": "Muraho"])
                #expect(chat.status == 202, "\(chat.text)")
                _ = try await TestWait.until(timeout: .seconds(15)) { calls.requests.withLock { $0.count } >= 2 }
                let postgres = platform.environment(.messaging).postgres
                let failed = try await TestWait.until(timeout: .seconds(15)) {
                    let count = try await postgres.query(
                        "SELECT count(*)::int FROM messaging.messages WHERE channel_id = \(bot.id.rawValue) AND status = 'failed'", logger: TestLog.quiet
                    ).first(as: Int.self)
                    return count == 1
                }
                #expect(failed, "the Telegram send failed for good (the fake answers 404)")
                // the provider did get the rotated token: the secret was used, where it belongs
                #expect(calls.requests.withLock { $0.allSatisfy { $0.authorization == "Bearer EAAG-rotated-access-token-987654" } })
                answers.append(try await TestHTTP.get("\(gateway)/v1/messaging/audit", token: admin).text)
                for answer in answers {
                    for secret in Self.secrets { #expect(!answer.contains(secret), "an answer holds a secret: \(answer.prefix(300))") }
                }
            }
            #expect(logs.entries.count > 50, "the capture saw the run")
            for entry in logs.entries {
                let line = entry.message + " " + entry.metadata.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                for secret in Self.secrets { #expect(!line.contains(secret), "log line holds a secret: \(line.prefix(300))") }
            }
        }
    }
}
