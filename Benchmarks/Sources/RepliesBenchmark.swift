import AsyncHTTPClient
import Foundation
import Hummingbird
import Models
import NIOCore
import ServiceKit
import TestSupport

/// `sokoni-bench replies`: `POST /v1/agent/replies` through the gateway by wrk (its CPU outside this process), as
/// messaging calls it (a service token, the tenant, a new inbound message id each time), with an OpenAI-compatible
/// fake model on loopback answering at once. Replies per second and p50/p99 at two concurrency levels, and the
/// platform's own overhead per reply — everything but the model: one reply at a time, its latency less the model's
/// alone (the fake posted the same way by the same wrk), and this process's CPU per reply less the fake model's
/// CPU per call (the usage credit reserved and settled at marketplace-wallet included). Anchor in the same run: a
/// bare Hummingbird endpoint that reads the body and answers 200.
///
/// Options besides the common ones: `--levels 16,64` (concurrency levels; the common `--concurrency` is ignored).
enum RepliesBenchmark {
    static let completion =
        #"{"id":"chatcmpl-bench","object":"chat.completion","created":1764700000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":"Yes, we are open until 10pm today."},"finish_reason":"stop"}],"usage":{"prompt_tokens":180,"completion_tokens":12,"total_tokens":192}}"#

    /// The model: reads the request and answers a finished chat completion at once.
    static var fakeModel: Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/chat/completions") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 4 << 20)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: Self.completion)))
        }
        router.post("hello") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 4 << 20)
            return Response(status: .ok)
        }
        return router
    }

    struct Level: Sendable {
        var connections: Int
        var result: LoadResult
    }

    static func run() async throws {
        let options = try BenchOptions.parse(extraKeys: ["levels"])
        let levels = (options.extras["levels"] ?? "16,64").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !levels.isEmpty, levels.allSatisfy({ (1...4096).contains($0) }) else { throw BenchError("--levels is a comma list of 1…4096") }
        guard let binary = try? Binaries.find("wrk") else { throw BenchError("wrk not found (Debian: apt-get install wrk): this scenario needs it") }
        let seconds = max(3, Int(options.duration.seconds.rounded()))
        progress("replies: \(seconds) s per phase, levels \(levels)")

        try await TestUpstream.with(Self.fakeModel) { model in
            let common = ["LOG_LEVEL": "error", "DATABASE_MAX_CONNECTIONS": "16"]
            // marketplace-wallet too: every model-answered reply reserves and settles a usage credit there
            try await TestServices.with(
                [.agentCore, .gateway, .marketplaceWallet], overrides: common,
                settings: [
                    .gateway: ["RATE_LIMIT_ENABLED": "false"],
                    .marketplaceWallet: ["WALLET_CREDITS_INITIAL_GRANT": "1000000000"],
                    .agentCore: ["AGENT_LLM_BASE_URL": "\(model)/v1", "AGENT_LLM_MODEL": "gpt-4o-mini", "AGENT_LLM_API_KEY": "sk-bench"],
                ]
            ) { platform in
                try await Self.measure(platform, model: model, binary: binary, seconds: seconds, levels: levels)
            }
        }
    }

    static func measure(_ platform: TestPlatform, model: String, binary: String, seconds: Int, levels: [Int]) async throws {
        let gateway = platform.url(.gateway)
        let tenant = try await platform.createTenant()
        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin], lifetime: .seconds(3600))
        struct NewAgent: Encodable {
            var name = "Bench agent"
            var kind = "support"
            var languages = ["en", "sw"]
        }
        let agent = try await TestHTTP.post("\(gateway)/v1/agents", token: admin, json: NewAgent())
        guard agent.status == 201 else { throw BenchError("creating the agent answered \(agent.status): \(agent.text.prefix(300))") }
        struct Faq: Encodable {
            var question: String
            var answer: String
            var keywords: [String]
        }
        for index in 0..<20 {
            let faq = Faq(question: "Question \(index) about opening hours?", answer: "Answer \(index).", keywords: ["hours", "q\(index)"])
            guard try await TestHTTP.post("\(gateway)/v1/faqs", token: admin, json: faq).status == 201 else { throw BenchError("adding an FAQ failed") }
        }
        let service = try await TestKeys.token(subject: "service:messaging", tenant: nil, roles: [.service], lifetime: .seconds(3600))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sokoni-replies-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("replies.lua")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        let body = directory.appendingPathComponent("body.json")
        try Self.body.write(to: body, atomically: true, encoding: .utf8)
        let run = UUID().uuidString.prefix(8)
        func phase(_ name: String, url: String, connections: Int, tag: String) async throws -> LoadResult {
            progress("\(name) …")
            return try await WrkRedeemer.run(
                binary: binary, name: name, script: script, url: url, threads: 2, connections: connections, seconds: seconds,
                arguments: [body.path, service, tenant.description, "\(run)-\(tag)"]
            ).0
        }

        _ = try await phase("warm-up", url: "\(gateway)/v1/agent/replies", connections: levels[0], tag: "warm")
        var results: [Level] = []
        for connections in levels {
            results.append(
                Level(
                    connections: connections,
                    result: try await phase("replies c=\(connections)", url: "\(gateway)/v1/agent/replies", connections: connections, tag: "c\(connections)")))
        }
        // one at a time: the reply's latency, and the model's alone (the same wrk, the same bytes)
        let single = try await phase("replies c=1", url: "\(gateway)/v1/agent/replies", connections: 1, tag: "c1")
        let modelAlone = try await phase("fake model alone c=1", url: "\(model)/v1/chat/completions", connections: 1, tag: "m1")
        let modelBusy = try await phase("fake model alone c=\(levels.last!)", url: "\(model)/v1/chat/completions", connections: levels.last!, tag: "m")
        let anchor = try await phase("bare Hummingbird (anchor) c=\(levels.last!)", url: "\(model)/hello", connections: levels.last!, tag: "h")

        // every reply answered by the model, stored once
        let stored =
            try await platform.environment(.agentCore).postgres.query(
                "SELECT count(*)::int, count(*) FILTER (WHERE answered_by <> 'offline')::int FROM agent.replies", logger: TestLog.quiet
            ).first(as: (Int, Int).self) ?? (0, 0)

        let rows = results.map(\.result) + [single, modelAlone, modelBusy, anchor]
        print(ResultTable.render(rows))
        for row in rows where row.errors > 0 { print("\(row.name): \(row.errors) errors, first: \(row.firstError ?? "?")") }
        func perSecond(_ r: LoadResult) -> Double { r.seconds > 0 ? Double(r.successes) / r.seconds : 0 }
        func cpuMicros(_ r: LoadResult) -> Double { r.successes > 0 ? r.processCPU.seconds * 1_000_000 / Double(r.successes) : 0 }
        let best = results.max { perSecond($0.result) < perSecond($1.result) }!
        let overheadMs = single.p50Ms - modelAlone.p50Ms
        let overheadCPU = cpuMicros(best.result) - cpuMicros(modelBusy)
        for level in results {
            print(
                String(
                    format: "c=%d: %.0f replies/s, p50 %.2f ms, p99 %.2f ms, %.0f µs CPU per reply in this process", level.connections,
                    perSecond(level.result), level.result.p50Ms, level.result.p99Ms, cpuMicros(level.result)))
        }
        print(
            String(
                format: "overhead per reply (everything but the model): %.2f ms one at a time (%.2f − %.2f), %.0f µs CPU (%.0f − %.0f)", overheadMs,
                single.p50Ms, modelAlone.p50Ms, overheadCPU, cpuMicros(best.result), cpuMicros(modelBusy)))
        print("stored \(stored.0) replies, \(stored.1) answered by the model")
        let ratio = perSecond(anchor) > 0 ? perSecond(best.result) / perSecond(anchor) : 0
        print(
            #"{"scenario":"replies","repliesPerSec":\#(jsonNumber(perSecond(best.result), 1)),"p50Ms":\#(jsonNumber(best.result.p50Ms, 3)),"#
                + #""p99Ms":\#(jsonNumber(best.result.p99Ms, 3)),"connections":\#(best.connections),"overheadMs":\#(jsonNumber(overheadMs, 3)),"#
                + #""overheadCpuMicros":\#(jsonNumber(overheadCPU, 1)),"modelRps":\#(jsonNumber(perSecond(modelBusy), 1)),"#
                + #""helloRps":\#(jsonNumber(perSecond(anchor), 1)),"ratioVsHello":\#(jsonNumber(ratio, 4)),"stored":\#(stored.0),"byModel":\#(stored.1)}"#)
    }

    /// messaging's request: a customer asking about opening hours, with a little history.
    static let body =
        #"{"conversationId":"6f1c2a8e-3b7d-4c59-9e1a-5d2f8b3c4a10","channelId":"0b8e6f2d-9c4a-4e7b-8d3f-1a2b3c4d5e6f","channelKind":"whatsapp","contact":{"address":"+250788123456","name":"Aline"},"messages":[{"sender":"user","text":"Muraho","kind":"text","language":"rw","at":"2026-12-03T10:00:00Z"},{"sender":"agent","text":"Muraho! Nagufasha iki?","kind":"text","at":"2026-12-03T10:00:02Z"},{"sender":"user","text":"What are your opening hours today?","kind":"text","language":"en","at":"2026-12-03T10:00:09Z"}]}"#

    /// Each request: the same body, the service token, the tenant, and an Idempotency-Key never used before (a
    /// replayed key would measure the stored reply, not a new one).
    static let script =
        WrkScript.common + #"""
            local body, headers, prefix, count = "", {}, "", 0
            function init(args)
              local file = io.open(args[1], "r")
              body = file:read("*a")
              file:close()
              headers["Authorization"] = "Bearer " .. args[2]
              headers["X-Tenant-ID"] = args[3]
              headers["Content-Type"] = "application/json"
              prefix = args[4] .. "-" .. thread_index .. "-"
              started = now_us()
            end

            function request()
              count = count + 1
              headers["Idempotency-Key"] = prefix .. count
              return wrk.format("POST", nil, headers, body)
            end

            """#
}
