import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import NIOHTTP1

/// How long and how hard a scenario drives its targets: flags after the scenario name, else environment variables.
///
///     sokoni-bench gateway [--duration 10] [--warmup 2] [--concurrency 64]
///     SOKONI_BENCH_DURATION=10 SOKONI_BENCH_WARMUP=2 SOKONI_BENCH_CONCURRENCY=64 sokoni-bench gateway
struct BenchOptions: Sendable {
    /// Measured time per target, after the warm-up.
    var duration: Duration = .seconds(10)
    /// Unmeasured time per target before `duration` (connections opened, caches filled).
    var warmup: Duration = .seconds(2)
    /// Concurrent connections (one closed-loop worker each).
    var concurrency = 64
    /// Slices each target's measured time into this many turns, taken in rotation with the other targets, so a
    /// machine that gets busier or quieter during the run favours no target.
    var rounds = 1
    /// Options only one scenario knows (`--vouchers 20000`), by name, as given; read them with `integer(_:…)`.
    var extras: [String: String] = [:]

    static let usage =
        "options: --duration <seconds> (10), --warmup <seconds> (2), --concurrency <connections> (64), --rounds <n> (1); "
        + "or SOKONI_BENCH_DURATION, SOKONI_BENCH_WARMUP, SOKONI_BENCH_CONCURRENCY, SOKONI_BENCH_ROUNDS"

    /// `extraKeys`: the scenario's own options, also read from `SOKONI_BENCH_<KEY>` (dashes as underscores).
    static func parse(
        _ arguments: [String] = Array(CommandLine.arguments.dropFirst(2)),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        extraKeys: [String] = []
    ) throws -> BenchOptions {
        var values: [String: String] = [:]
        let common = ["duration", "warmup", "concurrency", "rounds"]
        let keys = common + extraKeys
        let usage = Self.usage + (extraKeys.isEmpty ? "" : "; this scenario also takes " + extraKeys.map { "--\($0) <n>" }.joined(separator: ", "))
        for key in keys {
            let name = "SOKONI_BENCH_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
            if let value = environment[name], !value.isEmpty { values[key] = value }
        }
        var index = 0
        while index < arguments.count {
            var flag = arguments[index]
            guard flag.hasPrefix("--") else { throw BenchError("unexpected argument \(flag); \(usage)") }
            flag.removeFirst(2)
            let value: String
            if let equals = flag.firstIndex(of: "=") {
                value = String(flag[flag.index(after: equals)...])
                flag = String(flag[..<equals])
            } else {
                guard index + 1 < arguments.count else { throw BenchError("--\(flag) needs a value; \(usage)") }
                index += 1
                value = arguments[index]
            }
            guard keys.contains(flag) else { throw BenchError("unknown option --\(flag); \(usage)") }
            values[flag] = value
            index += 1
        }
        var options = BenchOptions()
        func seconds(_ key: String, range: ClosedRange<Double>) throws -> Duration? {
            guard let text = values[key] else { return nil }
            guard let number = Double(text.hasSuffix("s") ? String(text.dropLast()) : text), range.contains(number) else {
                throw BenchError("\(key) must be a number of seconds in \(range), not \(text)")
            }
            return .milliseconds(Int64((number * 1000).rounded()))
        }
        if let duration = try seconds("duration", range: 0.1...3600) { options.duration = duration }
        if let warmup = try seconds("warmup", range: 0...600) { options.warmup = warmup }
        if let text = values["concurrency"] {
            guard let number = Int(text), (1...4096).contains(number) else { throw BenchError("concurrency must be 1…4096, not \(text)") }
            options.concurrency = number
        }
        if let text = values["rounds"] {
            guard let number = Int(text), (1...100).contains(number) else { throw BenchError("rounds must be 1…100, not \(text)") }
            options.rounds = number
        }
        for key in extraKeys { options.extras[key] = values[key] }
        return options
    }

    /// A scenario's integer option, or `defaultValue` when not given.
    func integer(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = self.extras[key] else { return defaultValue }
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(number) else {
            throw BenchError("\(key) must be a whole number in \(range.lowerBound)…\(range.upperBound), not \(text)")
        }
        return number
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One target of a closed-loop run: a GET with fixed headers.
struct LoadTarget: Sendable {
    var name: String
    var url: String
    var headers: HTTPHeaders
    /// CPU time used so far by processes outside this one that serve the target (nginx), when there are some.
    var externalCPU: (@Sendable () -> Duration)?
}

/// What one run measured. Latencies are in microseconds, every request counted (errors too).
struct LoadResult: Sendable {
    var name: String
    var requests: UInt64 = 0
    var errors: UInt64 = 0
    var elapsed: Duration = .zero
    var latencies: Histogram<UInt64> = LoadGenerator.newHistogram()
    /// The first failure seen, to say why errors happened.
    var firstError: String?
    /// Responses by HTTP status; 0 counts requests that got no response (connection errors, timeouts).
    var statuses: [Int: UInt64] = [:]
    /// CPU time this process used meanwhile: the load generator and the in-process services.
    var processCPU: Duration = .zero
    /// CPU time of the target's outside processes meanwhile (nginx).
    var externalCPU: Duration?

    var seconds: Double { self.elapsed.seconds }
    var rps: Double { self.seconds > 0 ? Double(self.requests) / self.seconds : 0 }
    /// The codes (or whatever the phase sends once each) ran out before its time was up.
    var ranOut = false
    /// Percentiles reported by an outside generator (wrk) instead of `latencies`.
    var percentilesMs: (p50: Double, p99: Double)?
    var p50Ms: Double { self.percentilesMs?.p50 ?? Double(self.latencies.valueAtPercentile(50)) / 1000 }
    var p99Ms: Double { self.percentilesMs?.p99 ?? Double(self.latencies.valueAtPercentile(99)) / 1000 }
    /// Requests answered 200.
    var successes: UInt64 { self.requests - self.errors }
    /// `200×9876, 409×3, no response×1`, most frequent first.
    var statusSummary: String {
        self.statuses.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .map { ($0.key == 0 ? "no response" : String($0.key)) + "×\($0.value)" }.joined(separator: ", ")
    }
    /// CPU microseconds per request, this process and outside.
    var processCPUPerRequest: Double { self.requests > 0 ? self.processCPU.seconds * 1e6 / Double(self.requests) : 0 }
    var externalCPUPerRequest: Double? { self.externalCPU.map { self.requests > 0 ? $0.seconds * 1e6 / Double(self.requests) : 0 } }

    mutating func add(_ other: LoadResult) {
        self.requests += other.requests
        self.errors += other.errors
        self.elapsed += other.elapsed
        self.latencies.add(other.latencies)
        if self.firstError == nil { self.firstError = other.firstError }
        self.statuses.merge(other.statuses, uniquingKeysWith: +)
        self.processCPU += other.processCPU
        if let external = other.externalCPU { self.externalCPU = (self.externalCPU ?? .zero) + external }
    }
}

/// A closed-loop load generator: `concurrency` workers, each sending its next request as soon as the previous one's
/// body is read, on one shared `HTTPClient` whose pool allows a connection per worker.
enum LoadGenerator {
    /// `readTimeout`: the longest silence on a connection (30 s; longer for slow set-up calls such as bulk issues).
    static func makeClient(concurrency: Int, readTimeout: TimeAmount = .seconds(30)) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: readTimeout))
        configuration.decompression = .disabled
        configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: max(concurrency, 8))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    static func newHistogram() -> Histogram<UInt64> {
        // 1 µs … 60 s, three significant digits
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    /// One request, body read fully: its status and body (for the checks before measuring).
    static func once(_ target: LoadTarget, client: HTTPClient) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: target.url)
        request.headers = target.headers
        return try await self.send(request, client: client)
    }

    /// Any request, body read fully (up to 64 MiB): its status and body.
    static func send(_ request: HTTPClientRequest, client: HTTPClient, timeout: TimeAmount = .seconds(30)) async throws -> (status: Int, body: String) {
        let response = try await client.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    /// A JSON POST with a bearer token, for the set-up calls of a scenario.
    static func postJSON(
        _ url: String, token: String, body: some Encodable, client: HTTPClient, timeout: TimeAmount = .seconds(30)
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        return try await self.send(request, client: client, timeout: timeout)
    }

    /// Each target in turn: warms it up for `warmup` (discarded), then measures it for `duration`, in `rounds`
    /// slices taken in rotation with the other targets. `progress` hears which target is next.
    static func run(
        _ targets: [LoadTarget], client: HTTPClient, options: BenchOptions, progress: (String) -> Void = { _ in }
    ) async -> [LoadResult] {
        var results = targets.map { LoadResult(name: $0.name) }
        let slice = options.duration / options.rounds
        for round in 0..<options.rounds {
            for (index, target) in targets.enumerated() {
                if round == 0 && options.warmup > .zero {
                    progress("warming up \(target.name) …")
                    _ = await self.measure(target, client: client, concurrency: options.concurrency, duration: options.warmup)
                }
                progress("measuring \(target.name)" + (options.rounds > 1 ? " (round \(round + 1) of \(options.rounds))" : "") + " …")
                results[index].add(await self.measure(target, client: client, concurrency: options.concurrency, duration: slice))
            }
        }
        return results
    }

    static func measure(_ target: LoadTarget, client: HTTPClient, concurrency: Int, duration: Duration) async -> LoadResult {
        var template = HTTPClientRequest(url: target.url)
        template.headers = target.headers
        let request = template
        return await self.measure(
            name: target.name, client: client, concurrency: concurrency, duration: duration, externalCPU: target.externalCPU
        ) { _ in request }
    }

    /// The closed loop: `concurrency` workers send `next(worker)` one after another until `duration` ends or `next`
    /// answers nil (a scenario that runs out of work, like codes to redeem). A 200 is a success, anything else an error.
    static func measure(
        name: String, client: HTTPClient, concurrency: Int, duration: Duration, externalCPU: (@Sendable () -> Duration)? = nil,
        next: @escaping @Sendable (_ worker: Int) -> HTTPClientRequest?
    ) async -> LoadResult {
        let cpuBefore = self.processCPU()
        let externalBefore = externalCPU?()
        let start = ContinuousClock.now
        let deadline = start + duration
        var total = LoadResult(name: name)
        await withTaskGroup(of: LoadResult.self) { group in
            for worker in 0..<concurrency {
                group.addTask { await self.worker(name: name, client: client, deadline: deadline) { next(worker) } }
            }
            for await result in group {
                total.add(result)
            }
        }
        total.elapsed = start.duration(to: .now)
        total.processCPU = self.processCPU() - cpuBefore
        if let externalBefore, let now = externalCPU?() { total.externalCPU = now - externalBefore }
        return total
    }

    /// User plus system CPU time of this process so far.
    static func processCPU() -> Duration {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func duration(_ time: timeval) -> Duration { .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec)) }
        return duration(usage.ru_utime) + duration(usage.ru_stime)
    }

    static func worker(
        name: String, client: HTTPClient, deadline: ContinuousClock.Instant, next: () -> HTTPClientRequest?
    ) async -> LoadResult {
        var result = LoadResult(name: name)
        while ContinuousClock.now < deadline, let request = next() {
            let sent = ContinuousClock.now
            var ok = false
            var status = 0
            do {
                let response = try await client.execute(request, timeout: .seconds(30))
                status = Int(response.status.code)
                ok = response.status == .ok
                if ok {
                    for try await _ in response.body {}
                } else {
                    // the first error's body says why (`{"error":{"code":…}}`)
                    let body = try await response.body.collect(upTo: 1 << 20)
                    if result.firstError == nil { result.firstError = "HTTP \(status): \(String(buffer: body).prefix(300))" }
                }
            } catch {
                if result.firstError == nil { result.firstError = String(describing: error) }
            }
            result.statuses[status, default: 0] += 1
            let latency = sent.duration(to: .now)
            let micros = latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000
            result.latencies.record(UInt64(max(1, micros)))
            result.requests += 1
            if !ok { result.errors += 1 }
        }
        return result
    }
}

/// A figure for a JSON line: `decimals` places, or `null` when missing or not finite.
func jsonNumber(_ value: Double?, _ decimals: Int) -> String {
    guard let value, value.isFinite else { return "null" }
    return String(format: "%.\(decimals)f", value)
}

/// The table every scenario prints before its JSON line.
enum ResultTable {
    static func render(_ results: [LoadResult]) -> String {
        let header = ["scenario", "requests", "rps", "p50 ms", "p99 ms", "errors"]
        let rows = results.map { result in
            [
                result.name, String(result.requests), String(format: "%.0f", result.rps), String(format: "%.3f", result.p50Ms),
                String(format: "%.3f", result.p99Ms), String(result.errors),
            ]
        }
        return self.render(header: header, rows: rows)
    }

    /// Any table: the first column left-aligned, the others right-aligned.
    static func render(header: [String], rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n")
    }
}
