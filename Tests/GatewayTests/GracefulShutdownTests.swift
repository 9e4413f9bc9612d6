import Foundation
import Hummingbird
import Models
import ServiceKit
import Synchronization
import TestSupport
import Testing

/// SIGTERM (what Kubernetes sends after the pod's preStop hook): the `gateway` executable stops taking connections,
/// answers the request it is proxying (its upstream takes two seconds), and exits within the manifests'
/// `terminationGracePeriodSeconds` (30) with status 0.
@Suite(.serialized) struct GracefulShutdownTests {
    final class Slow: Sendable {
        let received = Mutex(0)

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.get("v1/vouchers/whoami") { _, _ -> Response in
                self.received.withLock { $0 += 1 }
                try await Task.sleep(for: .seconds(2))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"slow":true}"#)))
            }
            return router
        }
    }

    static var executable: URL {
        TestSettings.migrationsDirectory.deletingLastPathComponent().appendingPathComponent(".build/debug/gateway")
    }

    @Test func onSIGTERMTheGatewayFinishesWhatItProxiesTakesNothingNewAndExits() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            Issue.record("no gateway executable at \(Self.executable.path): run swift build --build-tests first")
            return
        }
        let slow = Slow()
        try await TestUpstream.with(slow.router) { upstream in
            let database = try await TestPostgres.createDatabase(prefix: "shutdown")
            let port = try FreePort.find()
            let gateway = "http://127.0.0.1:\(port)"
            var environment = TestSettings.variables(for: .gateway, database: database, ports: [.gateway: port], overrides: ["RATE_LIMIT_ENABLED": "false"])
                .merging(ProcessInfo.processInfo.environment.filter { $0.key == "PATH" || $0.key == "HOME" }) { mine, _ in mine }
            environment["SERVICES_VOUCHERS_URL"] = upstream
            let log = NSTemporaryDirectory() + "shutdown-gateway-\(port).log"
            let pid = try Shell.spawn(Self.executable.path, [], output: log, environment: environment, append: true)
            var reaped = false
            defer {
                if !reaped {
                    kill(pid, SIGKILL)
                    var status: Int32 = 0
                    waitpid(pid, &status, 0)
                }
            }
            let ready = try await TestWait.until(timeout: .seconds(60)) { (try? await TestHTTP.get("\(gateway)/readyz").status) == 200 }
            try #require(ready, "gateway ready")
            let token = try await TestKeys.token(tenant: nil, roles: [.superAdmin])

            let inFlight = Task { try await TestHTTP.get("\(gateway)/v1/vouchers/whoami", token: token) }
            let reached = try await TestWait.until(timeout: .seconds(10)) { slow.received.withLock { $0 } == 1 }
            try #require(reached, "the request reached the upstream")
            let signalled = ContinuousClock.now
            kill(pid, SIGTERM)

            // nothing new is taken once shutdown began
            try await Task.sleep(for: .milliseconds(300))
            let late = try? await TestHTTP.get("\(gateway)/healthz")
            #expect(late == nil || late?.status == 503, "a new request after SIGTERM got \(late.map { "\($0.status)" } ?? "no answer")")

            // the request in flight is answered in full
            let answer = try await inFlight.value
            #expect(answer.status == 200 && answer.text.contains(#""slow":true"#), "\(answer.status) \(answer.text)")
            #expect(slow.received.withLock { $0 } == 1)

            // and the process exits by itself, cleanly, well within the grace period
            var status: Int32 = 0
            var exited = false
            while signalled.duration(to: .now) < .seconds(25) {
                if waitpid(pid, &status, WNOHANG) == pid {
                    exited = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            reaped = exited
            #expect(exited, "still running \(signalled.duration(to: .now)) after SIGTERM")
            #expect(exited && (status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0, "exit status \(status)")
        }
    }
}
