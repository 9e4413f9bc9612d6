import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import Messaging
import Models
import NIOCore
import PostgresNIO
import ServiceKit
import TestSupport

/// `sokoni-bench messaging-ingest`: signed WhatsApp webhook batches posted through the gateway by wrk (its CPU
/// outside this process) at increasing concurrency, each batch once: messages acked per second and p99. Then the
/// service's job workers turn the stored deliveries into messages, and the database says none was lost and none
/// stored twice. Anchor in the same run: a bare Hummingbird endpoint that reads the body and answers 200, posted
/// the same bodies by the same wrk. Goal: ≥ 10,000 messages/s acked with p99 < 50 ms on 2 cores; done at ≥ 2,000.
///
/// Options besides the common ones: `--batch <messages per webhook>` (20), `--batches <per concurrency level>`
/// (3,000), `--levels 16,64` (the concurrency levels; the common `--concurrency` is ignored).
enum MessagingIngestBenchmark {
    static let appSecret = "bench-meta-app-secret"
    static let phoneNumberID = "109876543210987"

    struct Level: Sendable {
        var connections: Int
        var result: LoadResult
        var messages: Int
    }

    static func run() async throws {
        let options = try BenchOptions.parse(extraKeys: ["batch", "batches", "levels"])
        let batch = try options.integer("batch", default: 20, range: 1...500)
        let batches = try options.integer("batches", default: 3000, range: 10...1_000_000)
        let levels = (options.extras["levels"] ?? "16,64").split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !levels.isEmpty, levels.allSatisfy({ (1...4096).contains($0) }) else { throw BenchError("--levels is a comma list of 1…4096") }
        guard let binary = try? Binaries.find("wrk") else { throw BenchError("wrk not found (Debian: apt-get install wrk): this scenario needs it") }
        progress("messaging-ingest: \(batches) batches of \(batch) messages per level, levels \(levels)")

        let common = ["LOG_LEVEL": "error", "DATABASE_MAX_CONNECTIONS": "16", "JOBS_POLL_INTERVAL_MS": "50"]
        try await TestUpstream.with(Self.silentAgent) { agent in
            try await TestServices.with(
                [.messaging, .gateway], overrides: common,
                settings: [.gateway: ["RATE_LIMIT_ENABLED": "false"], .messaging: ["JOBS_WORKERS": "4", "MESSAGING_GRAPH_BASE_URL": agent]],
                upstreams: [.agentCore: agent]
            ) { platform in
                try await Self.measure(platform, binary: binary, batch: batch, batches: batches, levels: levels, options: options)
            }
        }
    }

    /// agent-core as messaging sees it: here it answers nothing, so the run measures intake, not replies.
    static var silentAgent: Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/agent/replies") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"handoff":false}"#)))
        }
        return router
    }

    static func measure(_ platform: TestPlatform, binary: String, batch: Int, batches: Int, levels: [Int], options: BenchOptions) async throws {
        let gateway = platform.url(.gateway)
        let postgres = platform.environment(.messaging).postgres
        let tenant = try await platform.createTenant()
        let admin = try await TestKeys.token(tenant: tenant, roles: [.tenantAdmin], lifetime: .seconds(3600))
        struct NewChannel: Encodable {
            var kind = "whatsapp"
            var name = "Bench number"
            var config = ["phoneNumberId": MessagingIngestBenchmark.phoneNumberID]
            var secrets = ["accessToken": "EAAG-bench-token", "appSecret": MessagingIngestBenchmark.appSecret, "verifyToken": "bench-verify"]
        }
        let created = try await TestHTTP.post("\(gateway)/v1/channels", token: admin, json: NewChannel())
        guard created.status == 201 else { throw BenchError("creating the channel answered \(created.status): \(created.text.prefix(300))") }
        let channel = try created.json(ChannelDTO.self)
        let url = "\(gateway)/webhooks/whatsapp/\(channel.publicId)"

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sokoni-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("post.lua")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)

        // one file of signed batches per level, plus a warm-up file; every message id unique in the run
        var next = 0
        func file(_ name: String, count: Int) throws -> URL {
            var lines: [String] = []
            lines.reserveCapacity(count)
            for _ in 0..<count {
                let body = Self.body(first: next, count: batch)
                next += batch
                lines.append(Self.signature(body) + "\t" + body)
            }
            let path = directory.appendingPathComponent(name)
            try (lines.joined(separator: "\n") + "\n").write(to: path, atomically: true, encoding: .utf8)
            return path
        }
        let warmup = try file("warmup.txt", count: max(10, batches / 10))
        let files = try levels.map { try file("level-\($0).txt", count: batches) }

        let seconds = max(5, Int(options.duration.seconds.rounded()))
        progress("warming up …")
        let (warm, _) = try await WrkRedeemer.run(
            binary: binary, name: "warm-up", script: script, url: url, threads: 2, connections: levels[0], seconds: seconds, arguments: [warmup.path])
        var results: [Level] = []
        for (connections, path) in zip(levels, files) {
            progress("\(batches) batches at \(connections) connections …")
            let (result, _) = try await WrkRedeemer.run(
                binary: binary, name: "ingest c=\(connections)", script: script, url: url, threads: 2, connections: connections, seconds: seconds,
                arguments: [path.path])
            results.append(Level(connections: connections, result: result, messages: Int(result.successes) * batch))
        }

        // the anchor: a bare endpoint that reads the body and answers 200, the same bodies, the busiest level
        let hello = Router()
        hello.post("hello") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .ok)
        }
        let anchor = try await TestUpstream.with(hello) { helloURL in
            progress("anchor: bare Hummingbird at \(levels.last!) connections …")
            return try await WrkRedeemer.run(
                binary: binary, name: "bare Hummingbird (anchor)", script: script, url: "\(helloURL)/hello", threads: 2, connections: levels.last!,
                seconds: seconds, arguments: [files.last!.path, "cycle"]
            ).0
        }

        // every acked delivery becomes its messages, once
        progress("waiting for the job workers to store \(next) messages …")
        let drainStart = ContinuousClock.now
        func count(_ sql: String) async throws -> Int {
            try await postgres.query(PostgresQuery(unsafeSQL: sql), logger: TestLog.quiet).first(as: Int.self) ?? 0
        }
        var pending = Int.max
        while pending > 0, ContinuousClock.now - drainStart < .seconds(900) {
            pending = try await count("SELECT count(*)::int FROM messaging.webhook_deliveries WHERE processed_at IS NULL")
            if pending > 0 { try await Task.sleep(for: .seconds(1)) }
        }
        let drained = ContinuousClock.now - drainStart
        let stored = try await count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'inbound'")
        let distinct = try await count("SELECT count(DISTINCT provider_message_id)::int FROM messaging.messages WHERE direction = 'inbound'")
        let expected = results.reduce(0) { $0 + $1.messages } + Int(warm.successes) * batch
        let lost = max(0, expected - distinct)
        let duplicated = stored - distinct

        let rows = results.map(\.result) + [anchor]
        print(ResultTable.render(rows))
        for row in rows where row.errors > 0 { print("\(row.name): \(row.errors) errors, first: \(row.firstError ?? "?")") }
        for level in results {
            print(
                String(
                    format: "c=%d: %.0f messages/s acked (%d per webhook), p99 %.2f ms", level.connections, Self.acked(level.result) * Double(batch), batch,
                    level.result.p99Ms))
        }
        print(
            "stored \(stored) messages (\(distinct) distinct) of \(expected) acked; drained in "
                + String(format: "%.1f s (%.0f messages/s stored)", drained.seconds, Double(stored) / max(0.001, drained.seconds))
                + (pending > 0 ? ", \(pending) deliveries still pending" : ""))
        let best = results.max { Self.acked($0.result) < Self.acked($1.result) }!
        let messagesPerSec = Self.acked(best.result) * Double(batch)
        let helloRps = Self.acked(anchor)
        let ratio = helloRps > 0 ? Self.acked(best.result) / helloRps : 0
        print(String(format: "best: %.0f messages/s, p99 %.2f ms; webhook requests/s vs bare Hummingbird %.3f", messagesPerSec, best.result.p99Ms, ratio))
        print(
            #"{"scenario":"messaging-ingest","messagesPerSec":\#(jsonNumber(messagesPerSec, 1)),"p99Ms":\#(jsonNumber(best.result.p99Ms, 3)),"#
                + #""lost":\#(lost),"duplicated":\#(duplicated),"helloRps":\#(jsonNumber(helloRps, 1)),"ratioVsHello":\#(jsonNumber(ratio, 3)),"#
                + #""batch":\#(batch),"connections":\#(best.connections)}"#)
    }

    /// Requests answered 200 per second (a spent list's last refusals are not throughput).
    static func acked(_ result: LoadResult) -> Double { result.seconds > 0 ? Double(result.successes) / result.seconds : 0 }

    /// Meta's `X-Hub-Signature-256`: "sha256=" and the hex HMAC-SHA256 of the raw body under the app secret.
    static func signature(_ body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(Self.appSecret.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// A WhatsApp Cloud API webhook carrying `count` text messages, ids `wamid.bench.<first>…`, from 500 customers.
    static func body(first: Int, count: Int) -> String {
        let messages = (first..<(first + count)).map { index in
            let from = 250_788_000_000 + index % 500
            return
                #"{"from":"\#(from)","id":"wamid.bench.\#(index)","timestamp":"1764700000","type":"text","text":{"body":"Muraho, igiciro cya lisansi ni angahe? \#(index)"}}"#
        }
        return
            #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"\#(Self.phoneNumberID)"},"messages":[\#(messages.joined(separator: ","))]}}]}]}"#
    }

    /// Thread i (of 2) posts lines i+1, i+3, …, each `signature<TAB>body`, once, and stops when they run out; with
    /// `cycle` (the anchor, which stores nothing) it starts over instead and runs the whole duration.
    static let script =
        WrkScript.common + #"""
            local lines, next_line, cycle = {}, 1, false
            function init(args)
              for line in io.lines(args[1]) do lines[#lines + 1] = line end
              next_line = thread_index + 1
              cycle = args[2] == "cycle"
              started = now_us()
            end

            function request()
              if cycle and next_line > #lines then next_line = thread_index + 1 end
              local line = lines[next_line]
              next_line = next_line + 2
              if line == nil then
                -- the list is spent: this thread stops (its last request is a refusal, not counted as a success)
                ran_out = true
                wrk.thread:stop()
                return wrk.format("POST", "/spent", {}, "")
              end
              local tab = line:find("\t", 1, true)
              return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = line:sub(1, tab - 1)},
                                line:sub(tab + 1))
            end

            """#
}
