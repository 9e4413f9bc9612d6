import Foundation
import ServiceKit
import TestSupport

/// pgbench's TPC-B-like run against the benchmark's own PostgreSQL server, in a database of its own: the anchor
/// the database-bound scenarios are compared with (ARCHITECTURE §7). `pgbench -i -s <scale>`, then
/// `pgbench -c <clients> -j <threads> -T <seconds> -n`, and the `tps = … (without initial connection time)` line.
struct PgbenchAnchor: Sendable {
    var scale = 10
    var clients = 16
    var threads = 2
    var seconds = 10

    struct Result: Sendable {
        /// Transactions per second, or nil when pgbench could not be run (`skipped` says why).
        var tps: Double?
        var transactions: Int?
        var latencyAverageMs: Double?
        var skipped: String?
        var command: String
    }

    var description: String { "pgbench TPC-B -s \(self.scale) -c \(self.clients) -j \(self.threads) -T \(self.seconds)" }

    /// Runs the anchor on a new database of the shared test server. Never throws: a failure is a result with a reason.
    func measure() async -> Result {
        let command = self.description
        guard let binary = try? Binaries.find("pgbench") else {
            return Result(skipped: "pgbench not found on PATH or in /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql-contrib)", command: command)
        }
        let database: DatabaseURL
        do {
            database = try await TestPostgres.createDatabase(prefix: "pgbench_anchor")
        } catch {
            return Result(skipped: "could not create the pgbench database: \(error)", command: command)
        }
        if let password = database.password { setenv("PGPASSWORD", password, 1) }
        let connection = ["-h", database.socketDirectory ?? database.host, "-p", String(database.port), "-U", database.user]
        // Shell.run blocks in waitpid for the whole run: keep it off the concurrency pool
        let outcome: Swift.Result<String, any Error> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: Swift.Result {
                        progress("pgbench: initialising scale \(self.scale) in \(database.database) …")
                        try Shell.run(binary, ["-i", "-q", "-s", String(self.scale)] + connection + [database.database], timeout: .seconds(600))
                        progress("pgbench: \(self.clients) clients, \(self.threads) threads, \(self.seconds) s …")
                        return try Shell.run(
                            binary,
                            ["-c", String(self.clients), "-j", String(self.threads), "-T", String(self.seconds), "-n"] + connection + [database.database],
                            timeout: .seconds(self.seconds + 120))
                    })
            }
        }
        switch outcome {
        case .failure(let error):
            return Result(skipped: "pgbench failed: \(String(describing: error).prefix(1000))", command: command)
        case .success(let output):
            guard let tps = Self.value(in: output, after: "tps = ", before: " (without initial connection time)") else {
                return Result(skipped: "no `tps = … (without initial connection time)` line in pgbench's output: \(output.suffix(1000))", command: command)
            }
            return Result(
                tps: tps, transactions: Self.value(in: output, after: "number of transactions actually processed: ", before: nil).map { Int($0) },
                latencyAverageMs: Self.value(in: output, after: "latency average = ", before: " ms"), command: command)
        }
    }

    /// The number on the line that starts with `prefix` (up to `suffix`, or the first non-number).
    static func value(in output: String, after prefix: String, before suffix: String?) -> Double? {
        for line in output.split(whereSeparator: \.isNewline) where line.hasPrefix(prefix) {
            var rest = line.dropFirst(prefix.count)
            if let suffix, let end = rest.range(of: suffix) { rest = rest[..<end.lowerBound] }
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            if let number = Double(digits) { return number }
        }
        return nil
    }
}
