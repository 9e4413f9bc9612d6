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
                continuation.resume(returning: Swift.Result {
                    progress("pgbench: initialising scale \(self.scale) in \(database.database) …")
                    try Subprocess.run(binary, ["-i", "-q", "-s", String(self.scale)] + connection + [database.database], timeout: .seconds(600))
                    progress("pgbench: \(self.clients) clients, \(self.threads) threads, \(self.seconds) s …")
                    return try Subprocess.run(
                        binary, ["-c", String(self.clients), "-j", String(self.threads), "-T", String(self.seconds), "-n"] + connection + [database.database],
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

/// Runs a command to its end and answers its output (stdout and stderr), like `Shell.run`, but with the signal
/// mask cleared and the usual signals at their defaults: a process spawned from one of this program's threads
/// otherwise inherits their blocked signals, and `pgbench -T` (which ends on SIGALRM) would never stop. Killed
/// after `timeout`.
enum Subprocess {
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], timeout: Duration) throws -> String {
        let outputPath = NSTemporaryDirectory() + "sokoni-bench-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGALRM, SIGINT, SIGTERM, SIGQUIT, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw BenchError("could not start \(executable): error \(spawned)") }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        var timedOut = false
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result == -1 && errno != EINTR { break }
            if !timedOut && ContinuousClock.now > deadline {
                timedOut = true
                kill(pid, SIGKILL)
            }
            usleep(50_000)
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard !timedOut, exited && code == 0 else {
            throw BenchError(
                "\(executable) \(arguments.joined(separator: " ")) " + (timedOut ? "did not end within \(timeout)" : "failed (\(status))") + ": \(output)")
        }
        return output
    }
}
