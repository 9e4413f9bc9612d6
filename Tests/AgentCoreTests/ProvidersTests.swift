import Contracts
import Foundation
import Hummingbird
import Models
import NIOCore
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

@testable import AgentCore

/// A tenant's own LLM providers: the key sealed at rest and never returned, the tenant's provider answering its
/// replies (and nobody else's), who may read and change the settings, and bad input refused with JSON 4xx.
@Suite(.serialized) struct ProvidersTests {
    static let secretKey = "sk-tenant-live-0123456789abcdefWXYZ"

    static func put(_ platform: TestPlatform, token: String, _ json: String, headers: [String: String] = [:]) async throws -> TestResponse {
        try await TestHTTP.request(.PUT, "\(platform.url(.gateway))/v1/agent/providers", token: token, headers: headers, body: Data(json.utf8))
    }

    @Test func theKeyIsSealedAtRestAndNeverReturned() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let empty = try await TestHTTP.get("\(platform.url(.gateway))/v1/agent/providers", token: admin)
            #expect(try empty.status == 200 && empty.json(ProvidersConfigDTO.self).configured == false)
            let body = #"""
                {"monthlyCapMicros": 5000000, "providers": [
                  {"name": "openai", "baseUrl": "https://api.openai.com/v1", "model": "gpt-4o-mini", "cheapModel": "gpt-4.1-nano", "apiKey": "\#(Self.secretKey)"},
                  {"name": "local", "baseUrl": "http://127.0.0.1:11434/v1", "model": "llama3.1"}
                ]}
                """#
            let put = try await Self.put(platform, token: admin, body)
            #expect(put.status == 200, "\(put.text)")
            #expect(!put.text.contains(Self.secretKey) && !put.text.contains("0123456789"))
            let saved = try put.json(ProvidersConfigDTO.self)
            #expect(saved.configured && saved.monthlyCapMicros == 5_000_000)
            #expect(saved.providers.map(\.name) == ["openai", "local"] && saved.providers.map(\.hasApiKey) == [true, false])
            #expect(saved.providers[0].apiKeyHint == "…WXYZ" && saved.providers[0].cheapModel == "gpt-4.1-nano" && saved.providers[1].apiKeyHint == nil)
            let got = try await TestHTTP.get("\(platform.url(.gateway))/v1/agent/providers", token: admin)
            #expect(!got.text.contains(Self.secretKey))
            #expect(try got.json(ProvidersConfigDTO.self).providers == saved.providers)

            // at rest: sealed bytes with a key id; the key is nowhere in the schema in plain text (audit rows included)
            let postgres = platform.environment(.agentCore).postgres
            let rows = try await postgres.query(
                "SELECT api_key, api_key_key_id FROM agent.tenant_providers WHERE tenant_id = \(tenant.rawValue) AND name = 'openai'", logger: TestLog.quiet
            ).first(as: (ByteBuffer?, String?).self)
            let sealed = try #require(rows?.0)
            #expect(rows?.1 == "svc-derived" && sealed.readableBytes == 12 + Self.secretKey.utf8.count + 16)
            #expect(String(buffer: sealed).contains(Self.secretKey) == false)
            let dump = try await postgres.query(
                """
                SELECT coalesce(string_agg(t::text, ' '), '') FROM agent.tenant_providers t WHERE tenant_id = \(tenant.rawValue)
                UNION ALL SELECT coalesce(string_agg(a::text, ' '), '') FROM agent.audit_log a
                """, logger: TestLog.quiet
            ).all(as: String.self).joined()
            #expect(!dump.contains(Self.secretKey) && !dump.contains("0123456789abcdef") && dump.contains("llm_providers.updated"))
            // what the reply path opens is the key itself
            let store = ProvidersStore(
                postgres: postgres, audit: platform.environment(.agentCore).audit,
                secrets: try SecretBox(configuration: Self.derivedKeys(platform), key: "test"))
            #expect(try await store.specs(tenant: tenant, logger: TestLog.quiet).first?.apiKey == Self.secretKey)

            // saved again without the key: it is kept; clearApiKey removes it
            let again = try await Self.put(
                platform, token: admin, #"{"providers":[{"name":"openai","baseUrl":"https://api.openai.com/v1","model":"gpt-4o"}]}"#)
            let kept = try again.json(ProvidersConfigDTO.self)
            #expect(kept.providers.first?.apiKeyHint == "…WXYZ" && kept.providers.first?.model == "gpt-4o" && kept.monthlyCapMicros == nil)
            #expect(try await store.specs(tenant: tenant, logger: TestLog.quiet).first?.apiKey == Self.secretKey)
            let cleared = try await Self.put(
                platform, token: admin, #"{"providers":[{"name":"openai","baseUrl":"https://api.openai.com/v1","model":"gpt-4o","clearApiKey":true}]}"#)
            #expect(try cleared.json(ProvidersConfigDTO.self).providers.first?.hasApiKey == false)
        }
    }

    /// The key agent-core derives from the service key when `AGENT_SECRET_KEYS` is not set (as in the tests).
    static func derivedKeys(_ platform: TestPlatform) throws -> String {
        AgentCoreService.derivedSecretKeys(serviceKey: platform.environment(.agentCore).settings.serviceKey)
    }

    @Test func aTenantsProviderAnswersItsRepliesAndNoOneElses() async throws {
        let platformModel = CostsTests.FakeProvider(text: "From the platform")
        let tenantModel = CostsTests.FakeProvider(text: "From the tenant's own model", usage: (400, 40, 0))
        let broken = CostsTests.FakeProvider(failing: true)
        try await TestUpstream.with(platformModel.router) { platformURL in
            try await TestUpstream.with(tenantModel.router) { tenantURL in
                try await TestUpstream.with(broken.router) { brokenURL in
                    try await TestServices.with([.gateway, .agentCore], settings: CostsTests.settings(platformURL)) { platform in
                        let tenant = try await platform.createTenant()
                        let other = try await platform.createTenant()
                        try await ModelRepliesTests.agent(platform, tenant: tenant)
                        try await ModelRepliesTests.agent(platform, tenant: other)
                        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                        let put = try await Self.put(
                            platform, token: admin,
                            #"{"providers":[{"name":"acme-llm","baseUrl":"\#(tenantURL)/v1","model":"gpt-4.1-mini","apiKey":"\#(Self.secretKey)"}]}"#)
                        #expect(put.status == 200, "\(put.text)")

                        let (_, own) = try await CostsTests.reply(platform, tenant: tenant)
                        #expect(own?.text == "From the tenant's own model")
                        let seen = try #require(tenantModel.seen.withLock { $0.first })
                        #expect(seen.authorization == "Bearer \(Self.secretKey)" && seen.model == "gpt-4.1-mini")
                        #expect(platformModel.calls == 0)
                        let calls = try await CostsTests.calls(platform, tenant: tenant)
                        // 400 at $0.40/M and 40 at $1.60/M: 160 + 64
                        #expect(calls.map(\.provider) == ["acme-llm"] && calls.first?.costMicros == 224 && own?.costMicros == 224)

                        // another tenant, with no providers of its own: the platform's
                        let (_, theirs) = try await CostsTests.reply(platform, tenant: other)
                        #expect(theirs?.text == "From the platform" && tenantModel.calls == 1 && platformModel.calls == 1)
                        #expect(platformModel.seen.withLock { $0.first?.authorization } == "Bearer sk-platform-key")
                        #expect(try await CostsTests.calls(platform, tenant: other).map(\.provider) == ["primary"])

                        // the tenant's provider failing: its replies fall back to the offline responder, never to the platform's key
                        #expect(
                            try await Self.put(
                                platform, token: admin, #"{"providers":[{"name":"acme-llm","baseUrl":"\#(brokenURL)/v1","model":"gpt-4.1-mini"}]}"#
                            )
                            .status == 200)
                        let (_, offline) = try await CostsTests.reply(platform, tenant: tenant, text: "What are your opening hours?")
                        #expect(offline?.text == "Every day, 6am to 10pm." && platformModel.calls == 1 && broken.calls == 3)
                        #expect(broken.seen.withLock { $0.first?.authorization } == "Bearer \(Self.secretKey)", "the kept key")
                        let failed = try await CostsTests.calls(platform, tenant: tenant).filter { $0.error != nil }
                        #expect(failed.count == 3 && failed.allSatisfy { $0.provider == "acme-llm" })
                        // its circuit is its own: the platform's provider still answers the other tenant
                        let (_, still) = try await CostsTests.reply(platform, tenant: other)
                        #expect(still?.text == "From the platform")

                        // an empty list gives the platform's back
                        #expect(try await Self.put(platform, token: admin, #"{"providers":[]}"#).status == 200)
                        let (_, back) = try await CostsTests.reply(platform, tenant: tenant)
                        #expect(back?.text == "From the platform")
                    }
                }
            }
        }
    }

    @Test func whoMayReadAndChangeProviders() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let body = #"{"monthlyCapMicros":1000,"providers":[]}"#
            for (role, read, write) in [
                (Role.tenantAdmin, 200, 200), (.agent, 403, 403), (.stationOperator, 403, 403), (.service, 403, 403),
            ] {
                let token = try await TestKeys.token(tenant: tenant, roles: [role])
                #expect(try await TestHTTP.get("\(gateway)/v1/agent/providers", token: token).status == read, "\(role) reads")
                #expect(try await Self.put(platform, token: token, body).status == write, "\(role) writes")
            }
            for (role, read, write) in [(Role.superAdmin, 200, 200), (.readonly, 200, 403), (.support, 200, 403), (.dataOps, 200, 403)] {
                let token = try await TestKeys.token(tenant: nil, roles: [role])
                let headers = ["X-Tenant-ID": tenant.description]
                #expect(try await TestHTTP.get("\(gateway)/v1/agent/providers", token: token, headers: headers).status == read, "\(role) reads")
                #expect(try await Self.put(platform, token: token, body, headers: headers).status == write, "\(role) writes")
                // platform staff name the tenant
                #expect(try await TestHTTP.get("\(gateway)/v1/agent/providers", token: token).errorCode == "tenant_required")
            }
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/providers").status == 401)
            #expect(try await Self.put(platform, token: "not-a-token", body).status == 401)
            // a second tenant sees its own settings, not the first's
            let otherAdmin = try await TestKeys.token(tenant: try await platform.createTenant(), roles: [.tenantAdmin])
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/providers", token: otherAdmin).json(ProvidersConfigDTO.self).monthlyCapMicros == nil)
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/providers", token: admin).json(ProvidersConfigDTO.self).monthlyCapMicros == 1000)
        }
    }

    @Test func badInputIsAJSON4xxAndChangesNothing() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let tenant = try await platform.createTenant()
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let good = #"{"name":"openai","baseUrl":"https://api.openai.com/v1","model":"gpt-4o-mini"}"#
            #expect(try await Self.put(platform, token: admin, #"{"monthlyCapMicros":7,"providers":[\#(good)]}"#).status == 200)
            let cases: [(String, Int, String)] = [
                ("", 400, "invalid_json"), ("{", 400, "invalid_json"), ("[]", 400, "invalid_json"), (#"{"providers":"x"}"#, 400, "invalid_json"),
                (#"{"monthlyCapMicros":-1,"providers":[]}"#, 422, "invalid_cap"),
                (#"{"monthlyCapMicros":1e30,"providers":[]}"#, 400, "invalid_json"),
                (#"{"providers":[{"name":"Open AI","baseUrl":"https://a.example/v1","model":"m"}]}"#, 422, "invalid_provider_name"),
                (#"{"providers":[\#(good),\#(good)]}"#, 422, "duplicate_provider"),
                (#"{"providers":[{"name":"x","baseUrl":"ftp://a.example/v1","model":"m"}]}"#, 422, "invalid_base_url"),
                (#"{"providers":[{"name":"x","baseUrl":"not a url","model":"m"}]}"#, 422, "invalid_base_url"),
                (#"{"providers":[{"name":"x","baseUrl":"https://user:pw@a.example/v1","model":"m"}]}"#, 422, "invalid_base_url"),
                (#"{"providers":[{"name":"x","baseUrl":"https://a.example/v1","model":""}]}"#, 422, "invalid_model"),
                (#"{"providers":[{"name":"x","baseUrl":"https://a.example/v1","model":"m","apiKey":"has space inside"}]}"#, 422, "invalid_api_key"),
                (#"{"providers":[{"name":"x","baseUrl":"https://a.example/v1","model":"m","apiKey":"short"}]}"#, 422, "invalid_api_key"),
                (#"{"providers":[{"name":"x","baseUrl":"https://a.example/v1","model":"m\u0000"}]}"#, 422, "invalid_text"),
                (
                    #"{"providers":[\#((0..<6).map { #"{"name":"p\#($0)","baseUrl":"https://a.example/v1","model":"m"}"# }.joined(separator: ","))]}"#, 422,
                    "too_many_providers"
                ),
            ]
            for (body, status, code) in cases {
                let refused = try await Self.put(platform, token: admin, body)
                #expect(refused.status == status && refused.errorCode == code, "\(body): \(refused.status) \(refused.text)")
                #expect(refused.headers.first(name: "Content-Type")?.hasPrefix("application/json") == true)
            }
            // invalid bytes (not UTF-8)
            let bytes = try await TestHTTP.request(
                .PUT, "\(platform.url(.gateway))/v1/agent/providers", token: admin, body: Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]))
            #expect(bytes.status == 400 && bytes.errorCode == "invalid_json")
            let after = try await TestHTTP.get("\(platform.url(.gateway))/v1/agent/providers", token: admin).json(ProvidersConfigDTO.self)
            #expect(after.monthlyCapMicros == 7 && after.providers.map(\.name) == ["openai"], "nothing half-written")
        }
    }

    @Test func inProductionAProviderIsHttpsToAPublicHost() throws {
        for url in [
            "http://api.openai.com/v1", "https://127.0.0.1/v1", "https://10.1.2.3/v1", "https://localhost:8084/v1", "https://[::1]/v1",
            "https://169.254.169.254/latest", "https://agent-core:8084/v1", "https://192.168.1.10/v1", "https://172.20.0.1/v1",
        ] {
            #expect(throws: APIError.self, "\(url)") { try ProviderRules.checkURL(url, allowPrivateHosts: false) }
        }
        for url in ["https://api.openai.com/v1", "https://generativelanguage.googleapis.com/v1beta/openai", "https://8.8.8.8/v1"] {
            #expect(throws: Never.self, "\(url)") { try ProviderRules.checkURL(url, allowPrivateHosts: false) }
        }
        #expect(throws: Never.self) { try ProviderRules.checkURL("http://127.0.0.1:11434/v1", allowPrivateHosts: true) }
        #expect(ProviderRules.hint("sk-abcdefgh1234") == "…1234")
    }
}
