import Foundation
import TestSupport

/// nginx as a plain reverse proxy on loopback, the anchor the gateway is compared with. The benchmark writes the
/// configuration into a temporary directory, runs nginx in the foreground (`daemon off`, master and workers) and
/// stops it; a watchdog stops it too should the benchmark die first.
final class NginxProxy: @unchecked Sendable {
    let binary: String
    let directory: URL
    let port: Int
    private var pid: pid_t = 0
    private var running = false

    /// `nginx` on PATH or in /usr/sbin, or nil.
    static func findBinary() -> String? {
        var folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        folders += ["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"]
        for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/nginx") {
            return "\(folder)/nginx"
        }
        return nil
    }

    init(binary: String, port: Int) throws {
        self.binary = binary
        self.port = port
        self.directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("sokoni-nginx-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        // workers may run as an unprivileged user when we are root: let them into the folder
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: self.directory.path)
    }

    func configuration(upstreamPort: Int) -> String {
        let dir = self.directory.path
        return """
            daemon off;
            master_process on;
            worker_processes auto;
            pid \(dir)/nginx.pid;
            error_log \(dir)/error.log warn;
            events {
                worker_connections 4096;
            }
            http {
                access_log off;
                client_body_temp_path \(dir)/client_body;
                proxy_temp_path \(dir)/proxy;
                fastcgi_temp_path \(dir)/fastcgi;
                uwsgi_temp_path \(dir)/uwsgi;
                scgi_temp_path \(dir)/scgi;
                keepalive_requests 1000000;
                keepalive_timeout 120s;
                upstream sokoni {
                    server 127.0.0.1:\(upstreamPort);
                    keepalive 64;
                    keepalive_requests 1000000;
                }
                server {
                    listen 127.0.0.1:\(self.port);
                    location / {
                        proxy_pass http://sokoni;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host;
                        proxy_set_header X-Forwarded-For $remote_addr;
                    }
                }
            }

            """
    }

    /// Writes the configuration and starts nginx; `waitUntilAnswering` then says when it listens.
    func start(upstreamPort: Int) throws {
        let dir = self.directory.path
        let conf = "\(dir)/nginx.conf"
        try self.configuration(upstreamPort: upstreamPort).write(toFile: conf, atomically: true, encoding: .utf8)
        // -e: the startup error log too, so nothing is written outside the folder
        let pid = try Shell.spawn(self.binary, ["-p", dir + "/", "-c", conf, "-e", "\(dir)/error.log"], output: "\(dir)/stdout.log")
        self.pid = pid
        self.running = true
        // if we die before stop(), the watchdog stops nginx (by its pid file, which stop() removes) and the folder
        let watchdog =
            "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; "
            + "if [ -f \(dir)/nginx.pid ]; then kill -TERM $(cat \(dir)/nginx.pid) 2>/dev/null; sleep 1; rm -rf \(dir); fi"
        try Shell.detach(["sh", "-c", watchdog])
    }

    /// True while the master process has not exited.
    var isAlive: Bool {
        guard self.running else { return false }
        var status: Int32 = 0
        let result = waitpid(self.pid, &status, WNOHANG)
        if result == self.pid {
            self.running = false
            return false
        }
        return true
    }

    /// User plus system CPU time of the master and its workers so far (from /proc; zero where unreadable).
    func cpuTime() -> Duration {
        guard self.running else { return .zero }
        let ticksPerSecond = Int64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        var ticks: Int64 = 0
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // after "pid (comm)": state ppid … utime is the 14th field of the line, stime the 15th
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let ppid = Int32(fields[1]), let utime = Int64(fields[11]), let stime = Int64(fields[12]) else { continue }
            if Int32(entry) == self.pid || ppid == self.pid { ticks += utime + stime }
        }
        return .milliseconds(ticks * 1000 / ticksPerSecond)
    }

    var log: String {
        let error = (try? String(contentsOfFile: "\(self.directory.path)/error.log", encoding: .utf8)) ?? ""
        let output = (try? String(contentsOfFile: "\(self.directory.path)/stdout.log", encoding: .utf8)) ?? ""
        return (error + output).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Graceful stop (SIGQUIT), then SIGTERM, then SIGKILL; removes the folder.
    func stop() {
        if self.running {
            for (signal, wait) in [(SIGQUIT, 50), (SIGTERM, 30), (SIGKILL, 30)] {
                kill(self.pid, signal)
                var exited = false
                for _ in 0..<wait {
                    var status: Int32 = 0
                    if waitpid(self.pid, &status, WNOHANG) == self.pid {
                        exited = true
                        break
                    }
                    usleep(100_000)
                }
                if exited { break }
            }
            self.running = false
        }
        try? FileManager.default.removeItem(at: self.directory)
    }
}
