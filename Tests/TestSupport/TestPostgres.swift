import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceKit

/// One PostgreSQL server per test process: `DATABASE_URL` when set, otherwise a throwaway cluster started with
/// the `initdb`/`pg_ctl` on PATH (as the `postgres` user when running as root, since the server refuses root),
/// on a free port, in a temporary directory that a watchdog stops and deletes when the test process ends.
/// Each test gets a database of its own from `TestPostgres.createDatabase()`.
public actor TestPostgres {
    public static let shared = TestPostgres()
    private var server: DatabaseURL?
    private var startTask: Task<DatabaseURL, any Error>?

    /// The server's URL (database `postgres`).
    public func serverURL() async throws -> DatabaseURL {
        if let server { return server }
        if let startTask { return try await startTask.value }
        let task = Task { try Self.start() }
        self.startTask = task
        let url = try await task.value
        self.server = url
        return url
    }

    /// A new, empty database on the shared server.
    public static func createDatabase(prefix: String = "t") async throws -> DatabaseURL {
        let server = try await Self.shared.serverURL()
        let name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        try await withAdminConnection(server) { connection in
            try await connection.query("CREATE DATABASE \(unescaped: name)", logger: TestLog.quiet)
        }
        return server.with(database: name)
    }

    static func withAdminConnection<T: Sendable>(_ url: DatabaseURL, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let configuration: PostgresConnection.Configuration
        if let socket = url.socketDirectory {
            configuration = .init(unixSocketPath: "\(socket)/.s.PGSQL.\(url.port)", username: url.user, password: url.password, database: url.database)
        } else {
            configuration = .init(host: url.host, port: url.port, username: url.user, password: url.password, database: url.database, tls: .disable)
        }
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: TestLog.quiet)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    static func start() throws -> DatabaseURL {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            return try DatabaseURL(url)
        }
        let initdb = try Binaries.find("initdb")
        let pgctl = try Binaries.find("pg_ctl")
        let asRoot = getuid() == 0
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sokoni-pg-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = directory.appendingPathComponent("data").path
        if asRoot {
            try Shell.run("/bin/chmod", ["755", directory.path])
            try Shell.run("/bin/chown", ["postgres:postgres", directory.path])
        }
        let port = try FreePort.find()
        let runAs: ([String]) -> [String] = { asRoot ? ["runuser", "-u", "postgres", "--"] + $0 : $0 }
        try Shell.run("/usr/bin/env", runAs([initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]))
        let options =
            "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c max_connections=1000 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB"
            // more server settings for a profile, e.g. `-c shared_preload_libraries=pg_stat_statements`
            + (ProcessInfo.processInfo.environment["SOKONI_PG_OPTIONS"].map { " " + $0 } ?? "")
        try Shell.run("/usr/bin/env", runAs([pgctl, "-D", data, "-o", options, "-l", directory.appendingPathComponent("log").path, "-w", "start"]))
        // the watchdog outlives us in its own session: it stops the server and removes the files once we are gone
        let stop = runAs([pgctl, "-D", data, "-m", "immediate", "stop"]).joined(separator: " ")
        let watchdog = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop) >/dev/null 2>&1; rm -rf \(directory.path)"
        try Shell.detach(["sh", "-c", watchdog])
        return DatabaseURL(host: "127.0.0.1", port: port, user: "postgres", database: "postgres")
    }
}

extension DatabaseURL {
    init(host: String, port: Int, user: String, database: String) {
        try! self.init("postgres://\(user)@\(host):\(port)/\(database)")
    }
}

/// Finds server binaries on PATH or in Debian's versioned folder.
public enum Binaries {
    public static func find(_ name: String) throws -> String {
        var folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let debian = "/usr/lib/postgresql"
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: debian) {
            folders += versions.sorted(by: >).map { "\(debian)/\($0)/bin" }
        }
        for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
            return "\(folder)/\(name)"
        }
        throw TestSupportError("\(name) not found on PATH: install PostgreSQL's server binaries (Debian: apt-get install postgresql)")
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum Shell {
    /// Runs a command to its end and answers its output (stdout and stderr), throwing with it when the command fails
    /// or outlives `timeout` (then it is killed). posix_spawn and waitpid directly: the servers these commands start
    /// keep running, and Foundation's Process does not always notice the exit. The signal mask is cleared and the
    /// usual signals reset, since a child spawned from one of this process's threads would inherit blocked signals
    /// (`pgbench -T`, which ends on SIGALRM, would never stop). Only standard input, output and error are passed on.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(600)) throws -> String {
        let outputPath = NSTemporaryDirectory() + "sokoni-shell-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let pid = try self.spawn(executable, arguments, output: outputPath)
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
            throw TestSupportError(
                "\(executable) \(arguments.joined(separator: " ")) " + (timedOut ? "did not end within \(timeout)" : "failed (\(status))") + ": \(output)")
        }
        return output
    }

    /// Starts `executable` with standard input from /dev/null, standard output and error into the file `output`,
    /// a cleared signal mask and default handlers, and none of this process's other descriptors; answers its pid.
    /// `environment` replaces this process's own when given; `append` adds to `output` instead of truncating it.
    public static func spawn(
        _ executable: String, _ arguments: [String], output: String, environment: [String: String]? = nil, append: Bool = false
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // nothing else of this process's: its sockets would stay open in the child (and in a server it leaves running),
        // and wrk, whose event loop takes descriptors only up to a small number, failed to connect above it
        if let closeFrom = Self.closeFrom { _ = closeFrom(&actions, 3) }
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
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in argv + (envp ?? []) { free(pointer) } }
        var pid: pid_t = 0
        let spawned =
            if let envp { posix_spawn(&pid, executable, &actions, &attributes, argv, envp) } else {
                posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
            }
        guard spawned == 0 else { throw TestSupportError("could not start \(executable): error \(spawned)") }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc module does not show.
    static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Starts a command in a session of its own and does not wait for it.
    public static func detach(_ arguments: [String]) throws {
        try run(
            "/bin/sh",
            ["-c", "setsid " + arguments.map { "'\($0.replacingOccurrences(of: "'", with: "'\\''"))'" }.joined(separator: " ") + " >/dev/null 2>&1 &"])
    }
}

public enum FreePort {
    static let handedOut = NIOLockedValueBox<Set<Int>>([])

    /// A TCP port on 127.0.0.1 that was free a moment ago. It is drawn below the kernel's ephemeral range
    /// (32768 and up), where outgoing connections and port-0 listeners take theirs, so nothing else in the
    /// process grabs it before the service binds it.
    public static func find() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            // never hand the same port out twice in one run
            guard self.handedOut.withLockedValue({ $0.insert(port).inserted }) else { continue }
            if self.isFree(port) { return port }
        }
        throw TestSupportError("no free port found")
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
