import Foundation
import TestSupport

/// wrk (Debian: `apt-get install wrk`) driving the redemption phases: a C client whose Lua script sends each code
/// once, so the client costs little and runs outside this process, as pgbench's client does for the anchor. The
/// in-process generator (AsyncHTTPClient) spends about 100 µs of CPU per request beside the services it measures;
/// without wrk the phases fall back to it and say so.
struct WrkRedeemer: Sendable {
    let binary: String
    /// The script and the code lists, removed by `cleanUp()`.
    let directory: URL

    init?() {
        guard let binary = try? Binaries.find("wrk") else { return nil }
        self.binary = binary
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("sokoni-wrk-\(UUID().uuidString)")
    }

    func cleanUp() { try? FileManager.default.removeItem(at: self.directory) }

    /// Redeems `codes`, each once, with `connections` connections on two wrk threads (each thread sends every second
    /// code with its own operator's token) until `duration` ends. Once a thread's codes run out it sends `spent-…`
    /// placeholders, which the service refuses (400, counted as errors), and the phase's time ends at the last 200.
    /// Answers the phase's result and how many codes were never sent.
    func redeem(
        _ codes: [String], name: String, url: String, tokens: [String], connections: Int, duration: Duration
    ) async throws -> (result: LoadResult, left: Int) {
        let threads = 2
        guard tokens.count >= threads else { throw BenchError("wrk needs \(threads) operator tokens, not \(tokens.count)") }
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        let script = self.directory.appendingPathComponent("redeem.lua")
        let list = self.directory.appendingPathComponent("codes-\(UUID().uuidString).txt")
        try Self.script.write(to: script, atomically: true, encoding: .utf8)
        try (codes.joined(separator: "\n") + "\n").write(to: list, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: list) }

        let seconds = max(1, Int(duration.seconds.rounded()))
        let (result, report) = try await Self.run(
            binary: self.binary, name: name, script: script, url: url, threads: threads, connections: connections, seconds: seconds,
            arguments: [list.path] + tokens.prefix(threads))
        return (result, max(0, codes.count - Int(report.requests)))
    }

    /// Runs wrk with a script built on `WrkScript.common` until `seconds` end, and reads its `SOKONI-WRK` line.
    static func run(
        binary: String, name: String, script: URL, url: String, threads: Int, connections: Int, seconds: Int, arguments: [String]
    ) async throws -> (LoadResult, Report) {
        let arguments =
            [
                "-t", String(threads), "-c", String(max(connections, threads)), "-d", "\(seconds)s", "--timeout", "30s", "-s", script.path, url, "--",
            ] + arguments
        let cpuBefore = LoadGenerator.processCPU()
        let childrenBefore = Self.childrenCPU()
        let output: String = try await withCheckedThrowingContinuation { continuation in
            // Shell.run blocks in waitpid for the whole run: keep it off the concurrency pool
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Shell.run(binary, arguments, timeout: .seconds(seconds + 120)) })
            }
        }
        guard let line = output.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("SOKONI-WRK ") }),
            let report = try? JSONDecoder().decode(Report.self, from: Data(line.dropFirst("SOKONI-WRK ".count).utf8))
        else { throw BenchError("wrk printed no SOKONI-WRK line: \(output.suffix(2000))") }

        var result = LoadResult(name: name)
        result.requests = report.requests
        // the list ran out before wrk's end: count only the time it lasted (the rest was cheap refusals)
        result.elapsed = .microseconds(report.ranOut && report.untilLastSuccessMicros > 0 ? report.untilLastSuccessMicros : report.durationMicros)
        result.ranOut = report.ranOut
        for (status, count) in report.statuses { result.statuses[Int(status) ?? 0, default: 0] += count }
        let answered = report.statuses.values.reduce(0, +)
        if report.requests > answered { result.statuses[0, default: 0] += report.requests - answered }
        result.errors = report.requests - (result.statuses[200] ?? 0)
        result.percentilesMs = (Double(report.p50Micros) / 1000, Double(report.p99Micros) / 1000)
        result.processCPU = LoadGenerator.processCPU() - cpuBefore
        result.externalCPU = Self.childrenCPU() - childrenBefore
        if result.errors > 0 { result.firstError = "wrk: \(report.socketErrors) socket errors, statuses \(result.statusSummary)" }
        return (result, report)
    }

    struct Report: Decodable {
        var requests: UInt64
        var durationMicros: Int64
        var ranOut: Bool
        var untilLastSuccessMicros: Int64
        var statuses: [String: UInt64]
        var p50Micros: Int64
        var p99Micros: Int64
        var socketErrors: UInt64
        /// What a script counted in its `extra` table beyond the statuses (summed over threads), if anything.
        var extra: [String: UInt64]?
    }

    /// CPU time of the children this process has waited for (wrk, once it has exited).
    static func childrenCPU() -> Duration {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        return .seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + .microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
    }

    /// Thread i (of n) sends codes i+1, i+1+n, … with token i; statuses are counted per thread and summed at the end.
    static let script =
        WrkScript.common + #"""
            local codes, next_code, step, headers = {}, 1, 1, {}
            function init(args)
              for line in io.lines(args[1]) do codes[#codes + 1] = line end
              step = #args - 1
              next_code = thread_index + 1
              headers["Authorization"] = "Bearer " .. args[2 + thread_index]
              headers["Content-Type"] = "application/json"
              headers["Accept"] = "application/json"
              started = now_us()
            end

            function request()
              local code = codes[next_code]
              if code == nil then
                ran_out = true
                code = "spent-" .. next_code
              end
              next_code = next_code + step
              return wrk.format("POST", nil, headers, '{"code":"' .. code .. '"}')
            end

            """#
}

/// What every wrk script here shares: a monotonic clock, per-thread status counts, and a `done` that prints one
/// `SOKONI-WRK {…}` line (requests, duration, statuses, p50/p99, and — when the script's list ran out — the time
/// until the last 200). A script adds `init(args)` and `request()`, setting `started`, and `ran_out` once its list is
/// spent; it may count anything else in its `extra` table (a `response` of its own), reported as `extra`.
enum WrkScript {
    static let common = #"""
        -- statuses, started, last_ok, ran_out and extra are globals: done() reads each thread's copy with thread:get
        local ffi = require("ffi")
        ffi.cdef[[
          typedef struct { long tv_sec; long tv_nsec; } sokoni_timespec;
          int clock_gettime(int clock, sokoni_timespec *now);
        ]]
        local clock = ffi.new("sokoni_timespec")
        local function now_us()
          ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
          return tonumber(clock.tv_sec) * 1000000 + math.floor(tonumber(clock.tv_nsec) / 1000)
        end

        local threads = {}
        function setup(thread)
          thread:set("thread_index", #threads)
          table.insert(threads, thread)
        end

        statuses, started, last_ok, ran_out, extra = {}, 0, 0, false, {}

        function response(status, headers, body)
          local key = tostring(status)
          statuses[key] = (statuses[key] or 0) + 1
          if status == 200 then last_ok = now_us() end
        end

        -- when the list ran out, the phase lasted from the first thread's start to the last 200
        function done(summary, latency, requests)
          local total, first, last, out, more = {}, nil, 0, false, {}
          for _, thread in ipairs(threads) do
            for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
            for key, count in pairs(thread:get("extra") or {}) do more[key] = (more[key] or 0) + count end
            local s = thread:get("started")
            if first == nil or s < first then first = s end
            if thread:get("last_ok") > last then last = thread:get("last_ok") end
            out = out or thread:get("ran_out")
          end
          local parts = {}
          for status, count in pairs(total) do parts[#parts + 1] = string.format('"%s":%d', status, count) end
          local extras = {}
          for key, count in pairs(more) do extras[#extras + 1] = string.format('"%s":%d', key, count) end
          local e = summary.errors
          io.write(string.format(
            'SOKONI-WRK {"requests":%d,"durationMicros":%d,"ranOut":%s,"untilLastSuccessMicros":%d,"statuses":{%s},' ..
            '"p50Micros":%d,"p99Micros":%d,"socketErrors":%d,"extra":{%s}}\n',
            summary.requests, summary.duration, tostring(out), math.max(0, last - (first or last)), table.concat(parts, ","),
            latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, table.concat(extras, ",")))
        end

        """#
}
