import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import Models
import NIOConcurrencyHelpers
import ServiceClient
import ServiceKit
import ServiceLifecycle
import TestSupport
import Testing

/// A tiny upstream that fails the first `failures` calls with 503, then answers.
@discardableResult
func withFlakyUpstream<T: Sendable>(failures: Int, _ body: (String, NIOLockedValueBox<Int>) async throws -> T) async throws -> T {
    let calls = NIOLockedValueBox(0)
    let router = Router()
    router.on("thing", method: .get) { _, _ -> Response in try respond(calls, failures) }
    router.on("thing", method: .post) { _, _ -> Response in try respond(calls, failures) }
    router.get("missing") { _, _ -> Response in
        Response(
            status: .notFound, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: .init(string: #"{"error":{"code":"unknown_code","message":"No such voucher."}}"#)))
    }
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { continuation.yield($0.localAddress!.port!) }, logger: TestLog.quiet)
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: TestLog.quiet))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var port = 0
        for await bound in ports {
            port = bound
            break
        }
        let result = try await body("http://127.0.0.1:\(port)", calls)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}

private func respond(_ calls: NIOLockedValueBox<Int>, _ failures: Int) throws -> Response {
    let n = calls.withLockedValue {
        $0 += 1
        return $0
    }
    if n <= failures { return Response(status: .serviceUnavailable) }
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(string: #"{"value":\#(n)}"#)))
}

struct Thing: Codable, Sendable { var value: Int }

@Suite struct ServiceClientTests {
    /// A service's 4xx about the request travels on; its 401/403 is about this service's own credentials, which the
    /// caller cannot fix (and must not read as "your token is bad"), so it answers 502.
    @Test func upstreamRefusalsOfOurCredentialsAre502() {
        let passed = APIError.from(ServiceClientError.api(status: 409, code: "already_redeemed", message: "m"))
        #expect(passed.status.code == 409)
        #expect(passed.code == "already_redeemed")
        for status in [401, 403] {
            let mapped = APIError.from(ServiceClientError.api(status: status, code: "invalid_token", message: "m"))
            #expect(mapped.status == .badGateway)
            #expect(mapped.code == "upstream_error")
        }
    }

    func client(_ url: String) -> ServiceClient {
        ServiceClient(service: "upstream", baseURL: URL(string: url)!, httpClient: .shared, logger: TestLog.quiet, backoffBase: .milliseconds(5))
    }

    @Test func safeCallsAreRetriedUnsafeOnesAreNot() async throws {
        try await withFlakyUpstream(failures: 2) { url, calls in
            let thing: Thing = try await client(url).get("/thing", context: CallContext(requestID: "r", bearerToken: nil))
            #expect(thing.value == 3)
            #expect(calls.withLockedValue { $0 } == 3)
        }
        try await withFlakyUpstream(failures: 1) { url, calls in
            await #expect(throws: ServiceClientError.api(status: 503, code: "http_503", message: "")) {
                let _: Thing = try await client(url).post("/thing", body: Thing(value: 0), context: CallContext(requestID: nil, bearerToken: nil))
            }
            #expect(calls.withLockedValue { $0 } == 1)
        }
        try await withFlakyUpstream(failures: 1) { url, calls in
            let thing: Thing = try await client(url).post(
                "/thing", body: Thing(value: 0), idempotencyKey: "k", context: CallContext(requestID: nil, bearerToken: nil))
            #expect(thing.value == 2)
        }
    }

    @Test func errorBodiesBecomeTypedErrors() async throws {
        try await withFlakyUpstream(failures: 0) { url, _ in
            await #expect(throws: ServiceClientError.api(status: 404, code: "unknown_code", message: "No such voucher.")) {
                let _: Thing = try await client(url).get("/missing", context: CallContext(requestID: nil, bearerToken: nil))
            }
        }
        let closedPort = try FreePort.find()
        await #expect(throws: ServiceClientError.self) {
            var unreachable = client("http://127.0.0.1:\(closedPort)")
            unreachable.timeout = .seconds(1)
            unreachable.maxRetries = 1
            let _: Thing = try await unreachable.get("/thing", context: CallContext(requestID: nil, bearerToken: nil))
        }
    }
}
