import Contracts
import Foundation
import Hummingbird
import Models
import NIOCore
import PostgresNIO
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import AgentCore

/// LLM call accounting and spend caps against a fake OpenAI-compatible provider on loopback speaking the Chat
/// Completions wire format (usage with `prompt_tokens_details.cached_tokens`, dated model snapshots, tool calls,
/// OpenAI's error bodies), through the real HTTP API and a real database.
@Suite(.serialized) struct CostsTests {
    /// A chat-completions server: answers as the model asked for (a dated snapshot of it), with fixed usage; a
    /// message about a voucher gets a tool call first; `failing` answers 500 like OpenAI; `delay` holds each answer.
    final class FakeProvider: Sendable {
        struct Seen: Sendable {
            var model: String
            var authorization: String?
            var maxTokens: Int?
        }

        let seen = Mutex<[Seen]>([])
        let failing: Bool
        let delay: Duration
        let text: String
        let usage: (prompt: Int, completion: Int, cached: Int)

        init(failing: Bool = false, delay: Duration = .zero, text: String = "Muraho! Twabafasha iki?", usage: (Int, Int, Int) = (1200, 50, 1000)) {
            self.failing = failing
            self.delay = delay
            self.text = text
            self.usage = usage
        }

        var calls: Int { self.seen.withLock { $0.count } }
        var models: [String] { self.seen.withLock { $0.map(\.model) } }

        static func completion(model: String, content: String?, toolCalls: String? = nil, prompt: Int, completion: Int, cached: Int) -> String {
            let content = content.map { #""\#($0)""# } ?? "null"
            let calls = toolCalls.map { #","tool_calls":\#($0)"# } ?? ""
            return #"""
                {"id":"chatcmpl-C1b2c3","object":"chat.completion","created":1764700000,"model":"\#(model)-2025-04-14",\#
                "choices":[{"index":0,"message":{"role":"assistant","content":\#(content),"refusal":null,"annotations":[]\#(calls)},"logprobs":null,\#
                "finish_reason":"\#(toolCalls == nil ? "stop" : "tool_calls")"}],"usage":{"prompt_tokens":\#(prompt),"completion_tokens":\#(completion),\#
                "total_tokens":\#(prompt + completion),"prompt_tokens_details":{"cached_tokens":\#(cached),"audio_tokens":0},\#
                "completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},\#
                "service_tier":"default","system_fingerprint":"fp_b376dfbbd5"}
                """#
        }

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post("v1/chat/completions") { request, _ -> Response in
                let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await request.body.collect(upTo: 1 << 20)))
                guard case .string(let model)? = body["model"], case .array(let messages)? = body["messages"] else {
                    return Response(status: .badRequest)
                }
                var maxTokens: Int?
                if case .number(let number)? = body["max_tokens"] { maxTokens = Int(number) }
                self.seen.withLock { $0.append(Seen(model: model, authorization: request.headers[.authorization], maxTokens: maxTokens)) }
                if self.delay > .zero { try await Task.sleep(for: self.delay) }
                if self.failing {
                    return Response(
                        status: .internalServerError, headers: [.contentType: "application/json"],
                        body: .init(
                            byteBuffer: ByteBuffer(
                                string:
                                    #"{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}"#
                            )))
                }
                let sawTool = messages.contains { $0["role"] == .string("tool") }
                let lastUser = messages.last { $0["role"] == .string("user") }?["content"]
                let json: String
                if !sawTool, case .string(let text)? = lastUser, text.lowercased().contains("voucher") {
                    json = Self.completion(
                        model: model, content: nil,
                        toolCalls: #"[{"id":"call_v1","type":"function","function":{"name":"voucher_status","arguments":"{\"code\":\"K7M2Q\"}"}}]"#,
                        prompt: 300, completion: 20, cached: 0)
                } else {
                    json = Self.completion(
                        model: model, content: self.text, prompt: self.usage.prompt, completion: self.usage.completion, cached: self.usage.cached)
                }
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
            }
            return router
        }
    }

    static func reply(
        _ platform: TestPlatform, tenant: TenantID, text: String = "Muraho", key: String = UUID().uuidString
    ) async throws -> (status: Int, reply: AgentAPI.Reply?) {
        try await AgentRepliesTests.reply(platform, tenant: tenant, text: text, language: "rw", key: key)
    }

    struct Call: Decodable, Equatable {
        var provider: String
        var model: String
        var callType: String
        var inputTokens: Int
        var cachedTokens: Int
        var outputTokens: Int
        var costMicros: Int64?
        var error: String?
        var usedFallback: Bool
        var spendMode: String
        var inboundKey: String?
        var agentId: UUID?
    }

    /// The tenant's recorded calls, oldest first.
    static func calls(_ platform: TestPlatform, tenant: TenantID) async throws -> [Call] {
        try await platform.environment(.agentCore).postgres.query(
            """
            SELECT provider, model, call_type, input_tokens, cached_tokens, output_tokens, cost_micros, error, used_fallback, spend_mode, inbound_key, agent_id
            FROM agent.llm_calls WHERE tenant_id = \(tenant.rawValue) ORDER BY created_at, id
            """, logger: TestLog.quiet
        ).all(as: (String, String, String, Int, Int, Int, Int64?, String?, Bool, String, String?, UUID?).self).map {
            Call(
                provider: $0.0, model: $0.1, callType: $0.2, inputTokens: $0.3, cachedTokens: $0.4, outputTokens: $0.5, costMicros: $0.6, error: $0.7,
                usedFallback: $0.8, spendMode: $0.9, inboundKey: $0.10, agentId: $0.11)
        }
    }

    /// Spend already made this month, written as one recorded call (what a month of replies leaves behind).
    static func seedSpend(_ platform: TestPlatform, tenant: TenantID, micros: Int64, agent: UUID? = nil, model: String = "gpt-4o-mini", at: Date = Date())
        async throws
    {
        try await platform.environment(.agentCore).postgres.query(
            """
            INSERT INTO agent.llm_calls (id, tenant_id, agent_id, attempt_id, provider, model, call_type, input_tokens, output_tokens, cost_micros, latency_ms, created_at)
            VALUES (\(UUID()), \(tenant.rawValue), \(agent), \(UUID()), 'primary', \(model), 'chat', 1000, 100, \(micros), 12, \(at))
            """, logger: TestLog.quiet)
    }

    static func putProviders(_ platform: TestPlatform, tenant: TenantID, json: String) async throws -> TestResponse {
        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
        return try await TestHTTP.request(.PUT, "\(platform.url(.gateway))/v1/agent/providers", token: admin, body: Data(json.utf8))
    }

    static func settings(_ url: String, fallback: String? = nil, cheap: String? = nil) -> [ServiceName: [String: String]] {
        var values = [
            "AGENT_LLM_BASE_URL": "\(url)/v1", "AGENT_LLM_MODEL": "gpt-4o-mini", "AGENT_LLM_API_KEY": "sk-platform-key", "AGENT_LLM_TIMEOUT_SECONDS": "5",
            // the tools' deadlines are for a customer waiting, not for a suite of a hundred tests on two cores
            "AGENT_TOOL_TIMEOUT_PERCENT": "400",
        ]
        if let fallback {
            values["AGENT_LLM_FALLBACK_BASE_URL"] = "\(fallback)/v1"
            values["AGENT_LLM_FALLBACK_MODEL"] = "gpt-4.1-nano"
        }
        if let cheap { values["AGENT_LLM_CHEAP_MODEL"] = cheap }
        return [.agentCore: values]
    }

    // MARK: recording and prices

    @Test func everyCallIsRecordedAndPricedFromTheTableAndAPriceChangeAppliesAtOnce() async throws {
        let fake = FakeProvider()
        try await TestUpstream.with(fake.router) { url in
            try await TestServices.with([.gateway, .agentCore], settings: Self.settings(url), upstreams: [.vouchers: "http://127.0.0.1:1"]) { platform in
                let tenant = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: tenant)
                let key = UUID().uuidString
                let (status, reply) = try await Self.reply(platform, tenant: tenant, key: key)
                #expect(status == 200)
                // 200 fresh prompt tokens at $0.15/M, 1,000 cached at $0.075/M, 50 out at $0.60/M: 30 + 75 + 30 micro-USD
                #expect(reply?.text == "Muraho! Twabafasha iki?")
                #expect(reply?.costMicros == 135 && reply?.costCurrency == "USD" && reply?.costMinor == 1, "\(String(describing: reply))")
                var calls = try await Self.calls(platform, tenant: tenant)
                #expect(calls.count == 1)
                let first = try #require(calls.first)
                #expect(first.provider == "primary" && first.model == "gpt-4o-mini-2025-04-14" && first.callType == "chat")
                #expect(first.inputTokens == 1200 && first.cachedTokens == 1000 && first.outputTokens == 50 && first.costMicros == 135)
                #expect(first.error == nil && !first.usedFallback && first.spendMode == "normal" && first.inboundKey == key && first.agentId != nil)
                // the longest answer is asked for, which is what bounds a call's cost before it is made
                #expect(fake.seen.withLock { $0.first?.maxTokens } == SpendRules.maxOutputTokens)

                // the same inbound message again: the stored reply, no call, billed once
                let (_, again) = try await Self.reply(platform, tenant: tenant, key: key)
                #expect(again == reply)
                #expect(fake.calls == 1)
                #expect(try await Self.calls(platform, tenant: tenant).count == 1)

                // a tool round: two calls, the reply billed their sum
                let (_, voucher) = try await Self.reply(platform, tenant: tenant, text: "Is my voucher K7M2Q valid?")
                calls = try await Self.calls(platform, tenant: tenant)
                #expect(calls.map(\.callType) == ["chat", "chat", "tool_round"])
                // 300 prompt, 20 out: 45 + 12; then the usual 135
                #expect(calls[1].costMicros == 57 && calls[2].costMicros == 135)
                #expect(voucher?.costMicros == 192)

                // a platform admin doubles the price: the next reply pays it, without a restart
                let superAdmin = try await TestKeys.token(tenant: nil, roles: [.superAdmin])
                let tenantAdmin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                let newPrice = #"{"prices":[{"model":"gpt-4o-mini","inputPerMillion":300000,"cachedInputPerMillion":150000,"outputPerMillion":1200000}]}"#
                #expect(
                    try await TestHTTP.request(.PUT, "\(platform.url(.gateway))/v1/agent/prices", token: tenantAdmin, body: Data(newPrice.utf8)).status == 403)
                let put = try await TestHTTP.request(.PUT, "\(platform.url(.gateway))/v1/agent/prices", token: superAdmin, body: Data(newPrice.utf8))
                #expect(put.status == 200, "\(put.text)")
                let prices = try put.json(PricesPage.self).items.filter { $0.model == "gpt-4o-mini" }
                #expect(prices.count == 2 && prices.filter(\.current).map(\.inputPerMillion) == [300_000])
                let (_, dearer) = try await Self.reply(platform, tenant: tenant)
                #expect(dearer?.costMicros == 270)
                #expect(try await Self.calls(platform, tenant: tenant).last?.costMicros == 270)
                // recorded calls keep the price they were made at
                #expect(try await Self.calls(platform, tenant: tenant).first?.costMicros == 135)
                // a price from the future is listed, not in force
                let later = #"{"prices":[{"model":"gpt-4o-mini","inputPerMillion":1,"outputPerMillion":1,"effectiveFrom":"2999-01-01T00:00:00Z"}]}"#
                #expect(try await TestHTTP.request(.PUT, "\(platform.url(.gateway))/v1/agent/prices", token: superAdmin, body: Data(later.utf8)).status == 200)
                let (_, same) = try await Self.reply(platform, tenant: tenant)
                #expect(same?.costMicros == 270)
                let listed = try await TestHTTP.get("\(platform.url(.gateway))/v1/agent/prices", token: tenantAdmin).json(PricesPage.self)
                #expect(listed.items.filter { $0.model == "gpt-4o-mini" }.count == 3)

                // bad prices: JSON 4xx, nothing written
                for (body, status, code) in [
                    ("not json", 400, "invalid_json"), (#"{"prices":[]}"#, 422, "invalid_prices"),
                    (#"{"prices":[{"model":"m","inputPerMillion":-1,"outputPerMillion":1}]}"#, 422, "invalid_price"),
                    (#"{"prices":[{"model":"","inputPerMillion":1,"outputPerMillion":1}]}"#, 422, nil),
                    (#"{"prices":[{"model":"m","provider":"Bad Name","inputPerMillion":1,"outputPerMillion":1}]}"#, 422, "invalid_provider_name"),
                    (#"{"prices":[{"model":"m","inputPerMillion":99999999999999999999,"outputPerMillion":1}]}"#, 400, "invalid_json"),
                    (#"{"prices":[{"model":"m","inputPerMillion":1,"outputPerMillion":1,"effectiveFrom":"yesterday"}]}"#, 400, "invalid_json"),
                    (#"{"prices":[{"model":"m\u0000","inputPerMillion":1,"outputPerMillion":1}]}"#, 422, nil),
                ] as [(String, Int, String?)] {
                    let refused = try await TestHTTP.request(.PUT, "\(platform.url(.gateway))/v1/agent/prices", token: superAdmin, body: Data(body.utf8))
                    #expect(refused.status == status && refused.errorCode != nil, "\(body): \(refused.status) \(refused.text)")
                    if let code { #expect(refused.errorCode == code, "\(body)") }
                }
                #expect(
                    try await TestHTTP.get("\(platform.url(.gateway))/v1/agent/prices", token: tenantAdmin).json(PricesPage.self).items.count
                        == listed.items.count)
            }
        }
    }

    @Test func theMigrationSeedsThePricesOfLLMPrices() async throws {
        try await TestServices.with([.agentCore]) { platform in
            let store = CostsStore(postgres: platform.environment(.agentCore).postgres, audit: platform.environment(.agentCore).audit)
            let seeded = try await store.pricesInForce(logger: TestLog.quiet)
            #expect(Set(seeded.prices.map { "\($0)" }) == Set(LLMPrices.defaults.prices.map { "\($0)" }))
            // a dated snapshot served by any provider is priced as its family
            #expect(seeded.cost(of: TokenUsage(input: 1_000_000, output: 0), provider: "my-ollama", model: "gpt-4o-mini-2024-07-18") == 150_000)
        }
    }

    @Test func failedCallsAndTheFallbackAreRecorded() async throws {
        let broken = FakeProvider(failing: true)
        let healthy = FakeProvider(text: "Fallback here")
        try await TestUpstream.with(broken.router) { brokenURL in
            try await TestUpstream.with(healthy.router) { healthyURL in
                try await TestServices.with([.gateway, .agentCore], settings: Self.settings(brokenURL, fallback: healthyURL)) { platform in
                    let tenant = try await platform.createTenant()
                    try await ModelRepliesTests.agent(platform, tenant: tenant)
                    let (status, reply) = try await Self.reply(platform, tenant: tenant)
                    #expect(status == 200 && reply?.text == "Fallback here")
                    let calls = try await Self.calls(platform, tenant: tenant)
                    // the first provider tried three times (a 500 is retried), then the fallback answered
                    #expect(calls.count == broken.calls + 1 && broken.calls == 3, "\(calls)")
                    for failed in calls.dropLast() {
                        #expect(
                            failed.provider == "primary" && failed.error?.contains("server_error") == true && failed.costMicros == 0 && !failed.usedFallback)
                    }
                    let answered = try #require(calls.last)
                    #expect(answered.provider == "fallback" && answered.usedFallback && answered.error == nil)
                    #expect(answered.model == "gpt-4.1-nano-2025-04-14" && healthy.models == ["gpt-4.1-nano"])
                    // 200 at $0.10/M, 1,000 cached at $0.025/M, 50 at $0.40/M: 20 + 25 + 20
                    #expect(answered.costMicros == 65 && reply?.costMicros == 65)
                    let costs = try await TestHTTP.get(
                        "\(platform.url(.gateway))/v1/agent/costs?groupBy=provider", token: try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                    ).json(CostsReport.self)
                    #expect(costs.rows.map(\.key) == ["fallback", "primary"])
                    #expect(costs.totals.calls == 4 && costs.totals.failedCalls == 3 && costs.totals.fallbackCalls == 1 && costs.totals.costMicros == 65)
                }
            }
        }
    }

    // MARK: spend caps

    @Test func theSpendCapAtEachThreshold() async throws {
        let fake = FakeProvider()
        try await TestUpstream.with(fake.router) { url in
            try await TestServices.with([.gateway, .agentCore], settings: Self.settings(url, cheap: "gpt-4.1-nano")) { platform in
                let tenant = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: tenant)
                let cap = #"{"monthlyCapMicros":1000000,"providers":[]}"#
                #expect(try await Self.putProviders(platform, tenant: tenant, json: cap).status == 200)
                let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
                func status() async throws -> SpendStatus? {
                    try await TestHTTP.get("\(platform.url(.gateway))/v1/agent/costs", token: admin).json(CostsReport.self).cap
                }
                func alerts() async throws -> [String] {
                    try await platform.environment(.agentCore).postgres.query(
                        "SELECT scope || '/' || threshold FROM agent.spend_alerts WHERE tenant_id = \(tenant.rawValue) ORDER BY threshold",
                        logger: TestLog.quiet
                    ).all(as: String.self)
                }
                // below: the requested model
                try await Self.seedSpend(platform, tenant: tenant, micros: 500_000)
                #expect(try await status()?.mode == .normal)
                _ = try await Self.reply(platform, tenant: tenant)
                #expect(fake.models == ["gpt-4o-mini"])
                #expect(try await alerts().isEmpty)

                // near (85%): the cheap model, and an alert
                try await Self.seedSpend(platform, tenant: tenant, micros: 350_000)
                let near = try await status()
                #expect(near?.mode == .cheap && near?.capMicros == 1_000_000 && near?.percent == 85, "\(String(describing: near))")
                let (_, cheap) = try await Self.reply(platform, tenant: tenant)
                #expect(fake.models.last == "gpt-4.1-nano")
                // 200 at $0.10/M, 1,000 cached at $0.025/M, 50 at $0.40/M
                #expect(cheap?.costMicros == 65)
                let cheapCall = try #require(try await Self.calls(platform, tenant: tenant).last)
                #expect(cheapCall.spendMode == "cheap" && cheapCall.model == "gpt-4.1-nano-2025-04-14")
                _ = try await Self.reply(platform, tenant: tenant)
                #expect(try await alerts() == ["tenant/80"], "alerted once")

                // at the cap: the offline responder, no call at all, and the second alert
                try await Self.seedSpend(platform, tenant: tenant, micros: 150_000)
                let before = fake.calls
                let (status200, offline) = try await Self.reply(platform, tenant: tenant, text: "What are your opening hours?")
                #expect(status200 == 200 && offline?.text == "Every day, 6am to 10pm.", "the offline responder answers from the FAQs")
                #expect(fake.calls == before, "no LLM call at the cap")
                #expect(try await status()?.mode == .offline)
                #expect(try await alerts() == ["tenant/80", "tenant/100"])
                let answeredBy = try await platform.environment(.agentCore).postgres.query(
                    "SELECT answered_by FROM agent.replies WHERE tenant_id = \(tenant.rawValue) ORDER BY created_at", logger: TestLog.quiet
                ).all(as: String.self)
                #expect(answeredBy == ["primary", "primary", "primary", "offline"])
                let report = try await TestHTTP.get("\(platform.url(.gateway))/v1/agent/costs", token: admin).json(CostsReport.self)
                #expect(report.alerts.map(\.threshold).sorted() == [80, 100] && report.alerts.allSatisfy { $0.scope == "tenant" && $0.capMicros == 1_000_000 })

                // an agent's own cap (its policy) applies on its own: a cap of zero means no model for that agent
                let otherTenant = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: otherTenant)
                let otherAdmin = try await TestKeys.token(tenant: otherTenant, roles: [.tenantAdmin])
                let agents = try await TestHTTP.get("\(platform.url(.gateway))/v1/agents", token: otherAdmin).json(Page<AgentDTO>.self)
                let agent = try #require(agents.items.first)
                let patched = try await TestHTTP.request(
                    .PATCH, "\(platform.url(.gateway))/v1/agents/\(agent.id)", token: otherAdmin, body: Data(#"{"policy":{"monthlySpendCapMicros":0}}"#.utf8))
                #expect(patched.status == 200)
                let calls = fake.calls
                let (_, capped) = try await Self.reply(platform, tenant: otherTenant, text: "What are your opening hours?")
                #expect(capped?.text == "Every day, 6am to 10pm." && fake.calls == calls)
                let agentAlerts = try await platform.environment(.agentCore).postgres.query(
                    "SELECT scope, threshold FROM agent.spend_alerts WHERE tenant_id = \(otherTenant.rawValue) ORDER BY threshold", logger: TestLog.quiet
                ).all(as: (String, Int).self)
                #expect(agentAlerts.map(\.0) == [agent.id.description, agent.id.description] && agentAlerts.map(\.1) == [80, 100])
            }
        }
    }

    @Test func concurrentRepliesAlertOnceAndNeverPassTheCap() async throws {
        // each answer takes a while, so the replies are truly in flight together
        let fake = FakeProvider(delay: .milliseconds(400))
        try await TestUpstream.with(fake.router) { url in
            try await TestServices.with([.gateway, .agentCore], settings: Self.settings(url, cheap: "gpt-4.1-nano")) { platform in
                // near the cap: every concurrent reply crosses 80% at once, one alert is stored
                let near = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: near)
                #expect(try await Self.putProviders(platform, tenant: near, json: #"{"monthlyCapMicros":1000000,"providers":[]}"#).status == 200)
                try await Self.seedSpend(platform, tenant: near, micros: 850_000)
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<10 { group.addTask { try await Self.reply(platform, tenant: near).status } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses == Array(repeating: 200, count: 10))
                let nearAlerts = try await platform.environment(.agentCore).postgres.query(
                    "SELECT count(*)::int FROM agent.spend_alerts WHERE tenant_id = \(near.rawValue) AND threshold = 80", logger: TestLog.quiet
                ).first(as: Int.self)
                #expect(nearAlerts == 1)
                #expect(Set(fake.models) == ["gpt-4.1-nano"])

                // a cap only a few replies fit: concurrent replies reserve before calling, none passes the cap
                let tight = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: tight)
                let cap: Int64 = 3_000
                #expect(try await Self.putProviders(platform, tenant: tight, json: #"{"monthlyCapMicros":\#(cap),"providers":[]}"#).status == 200)
                let before = fake.calls
                let replies = try await withThrowingTaskGroup(of: AgentAPI.Reply?.self) { group in
                    for _ in 0..<12 { group.addTask { try await Self.reply(platform, tenant: tight, text: "What are your opening hours?").reply } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(replies.count == 12 && replies.allSatisfy { $0?.text != nil })
                let calls = try await Self.calls(platform, tenant: tight)
                let spent = calls.compactMap(\.costMicros).reduce(0, +)
                #expect(spent <= cap, "spent \(spent) of \(cap)")
                #expect(fake.calls - before == calls.count, "every call made is recorded")
                let byModel = replies.filter { $0?.costMicros != nil }.count
                #expect(byModel >= 1 && byModel < 12, "some replies had the model, the rest the offline responder: \(byModel)")
                let answeredBy = try await platform.environment(.agentCore).postgres.query(
                    "SELECT answered_by FROM agent.replies WHERE tenant_id = \(tight.rawValue)", logger: TestLog.quiet
                ).all(as: String.self)
                #expect(answeredBy.filter { $0 == "offline" }.count == 12 - byModel)
                let tightAlerts = try await platform.environment(.agentCore).postgres.query(
                    "SELECT threshold FROM agent.spend_alerts WHERE tenant_id = \(tight.rawValue) ORDER BY threshold", logger: TestLog.quiet
                ).all(as: Int.self)
                #expect(tightAlerts == [80, 100], "each threshold alerted once")
                // no reservation is left holding money once every reply settled
                let held = try await platform.environment(.agentCore).postgres.query(
                    "SELECT coalesce(sum(micros), 0)::bigint FROM agent.spend_reservations WHERE tenant_id = \(tight.rawValue) AND NOT settled",
                    logger: TestLog.quiet
                ).first(as: Int64.self)
                #expect(held == 0)
            }
        }
    }

    @Test func twoDeliveriesOfOneMessageAtOnceAreBilledOnce() async throws {
        let fake = FakeProvider(delay: .milliseconds(500))
        try await TestUpstream.with(fake.router) { url in
            try await TestServices.with([.gateway, .agentCore], settings: Self.settings(url)) { platform in
                let tenant = try await platform.createTenant()
                try await ModelRepliesTests.agent(platform, tenant: tenant)
                let key = UUID().uuidString
                let replies = try await withThrowingTaskGroup(of: AgentAPI.Reply?.self) { group in
                    for _ in 0..<3 { group.addTask { try await Self.reply(platform, tenant: tenant, key: key).reply } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(Set(replies.map { $0?.text }) == ["Muraho! Twabafasha iki?"])
                #expect(fake.calls == 1, "one provider call for one message")
                let calls = try await Self.calls(platform, tenant: tenant)
                #expect(calls.count == 1 && replies.allSatisfy { $0?.costMicros == calls[0].costMicros })
            }
        }
    }

    // MARK: the costs endpoint

    @Test func costsTotalsGroupsCSVAndWhoMaySeeThem() async throws {
        try await TestServices.with([.gateway, .agentCore]) { platform in
            let gateway = platform.url(.gateway)
            let tenant = try await platform.createTenant()
            let other = try await platform.createTenant()
            let agentA = UUID()
            let agentB = UUID()
            let day1 = try #require(ISO8601DateFormatter().date(from: "2026-03-02T10:00:00Z"))
            let day2 = try #require(ISO8601DateFormatter().date(from: "2026-03-03T23:59:00Z"))
            try await Self.seedSpend(platform, tenant: tenant, micros: 1_000, agent: agentA, model: "gpt-4o-mini", at: day1)
            try await Self.seedSpend(platform, tenant: tenant, micros: 2_500, agent: agentA, model: "gpt-4o", at: day1)
            try await Self.seedSpend(platform, tenant: tenant, micros: 4_000, agent: agentB, model: "gpt-4o-mini", at: day2)
            try await Self.seedSpend(platform, tenant: other, micros: 9_999, agent: UUID(), model: "gpt-4o", at: day2)
            let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin])
            let range = "from=2026-03-01&to=2026-03-31"
            let byDay = try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)", token: admin)
            #expect(byDay.status == 200, "\(byDay.text)")
            let days = try byDay.json(CostsReport.self)
            #expect(days.groupBy == .day && days.rows.map(\.key) == ["2026-03-02", "2026-03-03"] && days.rows.map(\.costMicros) == [3_500, 4_000])
            #expect(days.totals.costMicros == 7_500 && days.totals.calls == 3 && days.totals.inputTokens == 3_000 && days.totals.outputTokens == 300)
            #expect(days.tenantId == tenant.description && days.cap?.capMicros == nil && days.cap?.mode == .normal)
            #expect(
                Set(days.series.map { "\($0.day)/\($0.by)/\($0.key)=\($0.costMicros)" }) == [
                    "2026-03-02/model/gpt-4o-mini=1000", "2026-03-02/model/gpt-4o=2500", "2026-03-03/model/gpt-4o-mini=4000",
                    "2026-03-02/agent/\(agentA.uuidString.lowercased())=3500", "2026-03-03/agent/\(agentB.uuidString.lowercased())=4000",
                ])
            let byModel = try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)&groupBy=model", token: admin).json(CostsReport.self)
            #expect(byModel.rows.map(\.key) == ["gpt-4o", "gpt-4o-mini"] && byModel.rows.map(\.costMicros) == [2_500, 5_000])
            let byAgent = try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)&groupBy=agent", token: admin).json(CostsReport.self)
            #expect(
                Dictionary(uniqueKeysWithValues: byAgent.rows.map { ($0.key, $0.costMicros) }) == [
                    agentA.uuidString.lowercased(): 3_500, agentB.uuidString.lowercased(): 4_000,
                ])
            let oneDay = try await TestHTTP.get("\(gateway)/v1/agent/costs?from=2026-03-03&to=2026-03-03", token: admin).json(CostsReport.self)
            #expect(oneDay.totals.costMicros == 4_000, "a day ends at midnight UTC")

            // CSV: by the header or the query, the same bytes
            let csv = try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)&groupBy=model", token: admin, headers: ["Accept": "text/csv"])
            #expect(csv.status == 200 && csv.headers.first(name: "Content-Type")?.hasPrefix("text/csv") == true)
            #expect(csv.headers.first(name: "Content-Disposition")?.contains("attachment") == true)
            #expect(
                csv.text == "model,calls,failed_calls,fallback_calls,input_tokens,cached_tokens,output_tokens,cost_micros,cost_usd\r\n"
                    + "gpt-4o,1,0,0,1000,0,100,2500,0.002500\r\n" + "gpt-4o-mini,2,0,0,2000,0,200,5000,0.005000\r\n"
                    + "total,3,0,0,3000,0,300,7500,0.007500\r\n", "\(csv.text)")
            let csvByQuery = try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)&groupBy=model&format=csv", token: admin)
            #expect(csvByQuery.body == csv.body)

            // who may see: the tenant's admin and platform staff; not its agents, station operators, services, strangers
            for (role, expected) in [(Role.tenantAdmin, 200), (.agent, 403), (.stationOperator, 403), (.service, 403)] {
                let token = try await TestKeys.token(tenant: tenant, roles: [role])
                #expect(try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)", token: token).status == expected, "\(role)")
            }
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)").status == 401)
            #expect(try await TestHTTP.get("\(platform.url(.agentCore))/v1/agent/costs?\(range)").status == 401)
            let readonly = try await TestKeys.token(tenant: nil, roles: [.readonly])
            let staffView = try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)", token: readonly, headers: ["X-Tenant-ID": tenant.description])
            #expect(try staffView.json(CostsReport.self).totals.costMicros == 7_500)
            let named = try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)&tenantId=\(other)", token: readonly).json(CostsReport.self)
            #expect(named.totals.costMicros == 9_999 && named.tenantId == other.description)
            let platformWide = try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)", token: readonly).json(CostsReport.self)
            #expect(platformWide.totals.costMicros >= 17_499 && platformWide.tenantId == nil)
            #expect(
                try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)&tenantId=\(other)", token: readonly, headers: ["X-Tenant-ID": tenant.description])
                    .errorCode == "tenant_mismatch")
            // another tenant sees only its own, and may not name this one
            let otherAdmin = try await TestKeys.token(tenant: other, roles: [.tenantAdmin])
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)", token: otherAdmin).json(CostsReport.self).totals.costMicros == 9_999)
            #expect(try await TestHTTP.get("\(gateway)/v1/agent/costs?\(range)&tenantId=\(tenant)", token: otherAdmin).status == 403)

            // bad input: a JSON 400 naming the problem
            for (query, code) in [
                ("groupBy=week", "invalid_groupBy"), ("from=2026-02-30", "invalid_date"), ("from=2026-03-05&to=2026-03-01", "invalid_date"),
                ("from=2020-01-01&to=2026-01-01", "invalid_date"), ("format=xml", "invalid_format"), ("tenantId=nope", "invalid_tenantId"),
                ("from=%00", "invalid_date"),
            ] {
                let refused = try await TestHTTP.get("\(gateway)/v1/agent/costs?\(query)", token: admin)
                #expect(refused.status == 400 && refused.errorCode == code, "\(query): \(refused.status) \(refused.text)")
                #expect(refused.headers.first(name: "Content-Type")?.hasPrefix("application/json") == true)
            }
        }
    }

    // MARK: rules

    @Test func spendRules() {
        let estimate: (SpendMode) -> Int64 = { $0 == .cheap ? 10 : 100 }
        #expect(SpendRules.decide([], estimate: estimate).mode == .normal)
        let below = SpendRules.decide([SpendScope(scope: "tenant", capMicros: 1_000, committedMicros: 700)], estimate: estimate)
        #expect(below.mode == .normal && below.reached.isEmpty)
        let near = SpendRules.decide([SpendScope(scope: "tenant", capMicros: 1_000, committedMicros: 800)], estimate: estimate)
        #expect(near.mode == .cheap && near.reached.map(\.threshold) == [80])
        // the cheap reply would not fit: offline, never past the cap
        #expect(SpendRules.decide([SpendScope(scope: "tenant", capMicros: 1_000, committedMicros: 995)], estimate: estimate).mode == .offline)
        let at = SpendRules.decide([SpendScope(scope: "tenant", capMicros: 1_000, committedMicros: 1_000)], estimate: estimate)
        #expect(at.mode == .offline && at.reached.map(\.threshold) == [80, 100])
        // the strictest scope wins
        let both = SpendRules.decide(
            [SpendScope(scope: "tenant", capMicros: 1_000, committedMicros: 10), SpendScope(scope: "agent", capMicros: 100, committedMicros: 95)],
            estimate: estimate)
        #expect(both.mode == .offline && both.reached.map(\.scope) == ["agent", "agent"])
        // near the cap: each provider's cheap model, or the fallbacks when none has one
        let primary = ProviderSpec(name: "a", baseURL: "https://a", apiKey: nil, model: "big", cheapModel: nil)
        let fallback = ProviderSpec(name: "b", baseURL: "https://b", apiKey: nil, model: "small", cheapModel: nil)
        #expect(SpendRules.providers([primary, fallback], mode: .cheap) == [fallback])
        #expect(SpendRules.providers([primary], mode: .cheap) == [primary])
        var withCheap = primary
        withCheap.cheapModel = "mini"
        #expect(SpendRules.providers([withCheap, fallback], mode: .cheap).map(\.model) == ["mini", "small"])
        #expect(SpendRules.providers([withCheap, fallback], mode: .normal).map(\.model) == ["big", "small"])
        #expect(SpendRules.status(capMicros: 1_000, spentMicros: 855) == (85.5, .cheap))
        #expect(CostsCSV.usd(1_234_567) == "1.234567" && CostsCSV.usd(5) == "0.000005")
        #expect(CSVField.escape("=HYPERLINK(1)") == "'=HYPERLINK(1)" && CSVField.escape("a,b") == "\"a,b\"")
    }
}
