import AsyncHTTPClient
import Foundation
import Gateway
import Models
import NIOCore
import NIOHTTP1
import ServiceKit
import TestSupport
import Vouchers

/// `sokoni-bench gateway`: a small authenticated JSON GET (`/v1/vouchers/whoami`) measured
/// (a) straight to the vouchers service, (b) through the gateway (JWT verification, route-table role check, tenant
/// check, proxy) and (c) through nginx as a plain reverse proxy to the same service, the anchor (skipped, saying
/// why, when nginx is not installed). Target (ARCHITECTURE §7): gateway rps ≥ nginx rps, added p99 < 2 ms.
///
/// With wrk installed (Debian: `apt-get install wrk`) it drives all three targets, so the load generator's CPU is
/// outside the measured process for each, at 1 connection and at `--concurrency` (64): the CPU per request of this
/// process (the services) and of nginx's workers, and the p99 the gateway adds at both levels. Without wrk, the
/// in-process generator at `--concurrency` only, saying so.
enum GatewayBenchmark {
    static func run() async throws {
        let options = try BenchOptions.parse()
        progress("gateway benchmark: \(options.concurrency) connections, \(options.warmup) warm-up + \(options.duration) per target")

        // the job workers poll their queues less often than in tests: less background work beside the measurement
        let common = ["LOG_LEVEL": "error", "DATABASE_MAX_CONNECTIONS": "10", "JOBS_POLL_INTERVAL_MS": "1000"]
        let results = try await BenchPlatform.run(common: common, gateway: ["RATE_LIMIT_ENABLED": "false", "AUTH_BCRYPT_COST": "4"]) { platform in
            try await self.measure(platform, options: options)
        }
        self.report(results)
    }

    struct Results: Sendable {
        var direct: LoadResult
        var gateway: LoadResult
        var nginx: LoadResult?
        var nginxSkipped: String?
        /// The same at one connection (wrk only).
        var single: [LoadResult]?
        var generator = "in-process"
    }

    static func measure(_ platform: BenchPlatform, options: BenchOptions) async throws -> Results {
        let gateway = platform.gatewayURL
        let vouchersPort = platform.ports[.vouchers]!
        let client = LoadGenerator.makeClient(concurrency: options.concurrency)
        var nginx: NginxProxy?
        do {
            let token = try await BenchPlatform.tenantAdminToken(try await platform.createTenant(client: client))
            var headers = HTTPHeaders()
            headers.add(name: "Authorization", value: "Bearer \(token)")
            headers.add(name: "Accept", value: "application/json")
            let path = "/v1/vouchers/whoami"
            let direct = LoadTarget(name: "direct", url: "http://127.0.0.1:\(vouchersPort)\(path)", headers: headers, externalCPU: nil)
            let viaGateway = LoadTarget(name: "gateway", url: gateway + path, headers: headers, externalCPU: nil)
            var viaNginx: LoadTarget?
            var nginxSkipped: String?
            if let binary = NginxProxy.findBinary() {
                let proxy = try NginxProxy(binary: binary, port: try FreePort.find())
                nginx = proxy
                try proxy.start(upstreamPort: vouchersPort)
                viaNginx = LoadTarget(
                    name: "nginx", url: "http://127.0.0.1:\(proxy.port)\(path)", headers: headers, externalCPU: { proxy.cpuTime() })
                try await self.waitUntilListening(proxy, target: viaNginx!, client: client)
            } else {
                nginxSkipped = "nginx not found on PATH or in /usr/sbin (Debian: apt-get install nginx-light); no anchor"
                progress(nginxSkipped!)
            }

            // every target answers the request once, with 200, before anything is measured
            for target in [direct, viaGateway] + (viaNginx.map { [$0] } ?? []) {
                let (status, body) = try await LoadGenerator.once(target, client: client)
                guard status == 200 else {
                    throw BenchError("\(target.name) (\(target.url)) answered \(status), not 200: \(body.prefix(500))")
                }
            }

            let targets = [direct, viaGateway] + (viaNginx.map { [$0] } ?? [])
            var measured: Results
            if let wrk = try? Binaries.find("wrk") {
                let levels = try await WrkGetter(binary: wrk).run(targets, token: token, levels: [1, options.concurrency], options: options)
                measured = Results(
                    direct: levels[1][0], gateway: levels[1][1], nginx: viaNginx == nil ? nil : levels[1][2], nginxSkipped: nginxSkipped,
                    single: levels[0], generator: "wrk")
            } else {
                progress("wrk not found (Debian: apt-get install wrk): the in-process generator measures, its CPU counted with the services'")
                let results = await LoadGenerator.run(targets, client: client, options: options, progress: progress)
                measured = Results(direct: results[0], gateway: results[1], nginx: viaNginx == nil ? nil : results[2], nginxSkipped: nginxSkipped)
            }
            nginx?.stop()
            nginx = nil
            try await client.shutdown()
            return measured
        } catch {
            nginx?.stop()
            try? await client.shutdown()
            throw error
        }
    }

    /// Polls until nginx answers (up to 10 s); fails with its error log if it exits or never answers.
    static func waitUntilListening(_ proxy: NginxProxy, target: LoadTarget, client: HTTPClient) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            guard proxy.isAlive else { throw BenchError("nginx exited at start: \(proxy.log)") }
            if (try? await LoadGenerator.once(target, client: client)) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("nginx did not answer on 127.0.0.1:\(proxy.port) within 10 s: \(proxy.log)")
    }

    static func report(_ results: Results) {
        let rows = [results.direct, results.gateway] + (results.nginx.map { [$0] } ?? [])
        print(ResultTable.render(rows))
        for row in rows where row.errors > 0 {
            print("\(row.name): \(row.errors) errors, first: \(row.firstError ?? "?")")
        }
        if let why = results.nginxSkipped { print("nginx: skipped, \(why)") }
        // CPU per request tells the costs apart even when the machine is busy with other work
        let cpu = rows.map { row in
            "\(row.name) " + String(format: "%.0f", row.processCPUPerRequest)
                + (row.externalCPUPerRequest.map { String(format: " + %.0f in nginx", $0) } ?? "")
        }
        print(
            "CPU µs per request (\(results.generator == "wrk" ? "services in this process; wrk outside" : "load generator and services in this process")): "
                + cpu.joined(separator: ", "))
        let ratio = results.nginx.map { $0.rps > 0 ? results.gateway.rps / $0.rps : 0 }
        let addedP99 = results.gateway.p99Ms - results.direct.p99Ms
        let addedCPU = results.gateway.processCPUPerRequest - results.direct.processCPUPerRequest
        let addedP99Single = results.single.map { $0[1].p99Ms - $0[0].p99Ms }
        if let single = results.single {
            print("at 1 connection:")
            print(ResultTable.render(single))
            print(String(format: "gateway p99 − direct p99 at 1 connection = %.3f ms", addedP99Single ?? 0))
        }
        print(String(format: "the gateway's own CPU per request (gateway − direct) %.0f µs", addedCPU))
        if let ratio {
            print(String(format: "gateway/nginx rps ratio %.3f (target ≥ 1.0); gateway p99 − direct p99 = %.3f ms (target < 2 ms)", ratio, addedP99))
        } else {
            print(String(format: "gateway p99 − direct p99 = %.3f ms (target < 2 ms)", addedP99))
        }
        func figures(_ result: LoadResult) -> String {
            #"{"rps":\#(number(result.rps, 1)),"p50Ms":\#(number(result.p50Ms, 3)),"p99Ms":\#(number(result.p99Ms, 3))}"#
        }
        let json =
            #"{"scenario":"gateway","direct":\#(figures(results.direct)),"gateway":\#(figures(results.gateway)),"#
            + #""nginx":\#(results.nginx.map(figures) ?? "null"),"ratioVsNginx":\#(ratio.map { number($0, 3) } ?? "null"),"#
            + #""addedP99Ms":\#(number(addedP99, 3)),"addedP99MsAt1":\#(addedP99Single.map { number($0, 3) } ?? "null"),"#
            + #""cpuMicrosPerRequest":{"direct":\#(number(results.direct.processCPUPerRequest, 1)),"#
            + #""gateway":\#(number(results.gateway.processCPUPerRequest, 1)),"gatewayAdded":\#(number(addedCPU, 1)),"#
            + #""nginx":\#(results.nginx?.externalCPUPerRequest.map { number($0, 1) } ?? "null")},"generator":"\#(results.generator)"}"#
        print(json)
    }

    static func number(_ value: Double, _ decimals: Int) -> String { jsonNumber(value, decimals) }
}

/// Progress goes to stderr, so stdout holds only the table and the JSON line.
func progress(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// wrk driving plain GETs with a bearer token, target after target (a warm-up run each, then `--rounds` turns of the
/// measured time taken in rotation), at each connection level.
struct WrkGetter: Sendable {
    let binary: String

    /// Results per level, in the order of `targets`.
    func run(_ targets: [LoadTarget], token: String, levels: [Int], options: BenchOptions) async throws -> [[LoadResult]] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sokoni-wrk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appendingPathComponent("get.lua")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        var all: [[LoadResult]] = []
        for connections in levels {
            var results = targets.map { LoadResult(name: $0.name) }
            let rounds = max(1, options.rounds)
            let slice = max(1, Int((options.duration.seconds / Double(rounds)).rounded()))
            for round in 0..<rounds {
                for (index, target) in targets.enumerated() {
                    let threads = min(2, connections)
                    if round == 0 && options.warmup > .zero {
                        progress("warming up \(target.name) at \(connections) connection\(connections == 1 ? "" : "s") …")
                        _ = try await WrkRedeemer.run(
                            binary: self.binary, name: target.name, script: script, url: target.url, threads: threads, connections: connections,
                            seconds: max(1, Int(options.warmup.seconds.rounded())), arguments: [token])
                    }
                    progress("measuring \(target.name) at \(connections) connection\(connections == 1 ? "" : "s") …")
                    let externalBefore = target.externalCPU?()
                    var (result, _) = try await WrkRedeemer.run(
                        binary: self.binary, name: target.name, script: script, url: target.url, threads: threads, connections: connections,
                        seconds: slice, arguments: [token])
                    // wrk's own CPU is the client's, outside what is measured: only nginx's workers count as outside
                    result.externalCPU = externalBefore.flatMap { before in target.externalCPU.map { $0() - before } }
                    if round == 0 {
                        results[index] = result
                    } else {
                        results[index].add(result)
                    }
                }
            }
            all.append(results)
        }
        return all
    }

    static let script =
        WrkScript.common + #"""
            local headers = {}
            function init(args)
              headers["Authorization"] = "Bearer " .. args[1]
              headers["Accept"] = "application/json"
              started = now_us()
            end

            function request()
              return wrk.format("GET", nil, headers)
            end

            """#
}
