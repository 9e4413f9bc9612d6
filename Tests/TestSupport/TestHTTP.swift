import AsyncHTTPClient
import Foundation
import Models
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A response as tests look at it.
public struct TestResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int, headers: HTTPHeaders, body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func json<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder.sokoni.decode(T.self, from: self.body)
    }

    /// The `{"error":{"code"}}` of an error response.
    public var errorCode: String? { (try? self.json(APIErrorBody.self))?.error.code }
    public var text: String { String(decoding: self.body, as: UTF8.self) }
}

/// Real HTTP calls to services on loopback.
public enum TestHTTP {
    public static func request(
        _ method: HTTPMethod, _ url: String, token: String? = nil, headers: [String: String] = [:], body: Data? = nil,
        timeout: TimeAmount = .seconds(120), followRedirects: Bool = true
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            if request.headers["Content-Type"].isEmpty { request.headers.add(name: "Content-Type", value: "application/json") }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await (followRedirects ? HTTPClient.shared : Self.notFollowing).execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return TestResponse(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    /// A client that answers a redirect as it is (to look at its Location).
    static let notFollowing = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    public static func get(_ url: String, token: String? = nil, headers: [String: String] = [:]) async throws -> TestResponse {
        try await request(.GET, url, token: token, headers: headers)
    }

    public static func post(_ url: String, token: String? = nil, headers: [String: String] = [:], json: some Encodable) async throws -> TestResponse {
        try await request(.POST, url, token: token, headers: headers, body: try JSONEncoder.sokoni.encode(json))
    }
}

/// Waiting for background work (jobs, sweepers) in tests: polls `condition` until it holds or `timeout` passes.
public enum TestWait {
    /// True once `condition` held; false when `timeout` passed first (the caller records what it waited for).
    public static func until(timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool)
        async throws -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: interval)
        }
        return try await condition()
    }

    /// Waits, if need be, until the next UTC midnight is at least `margin` away (sleeping past it when it is nearer):
    /// for a test that counts what it writes per UTC day, so that its writes, its own "today" and the server's fall
    /// on one day.
    public static func clearOfUTCMidnight(_ margin: Duration = .seconds(120)) async throws {
        let left = 86_400 - Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 86_400)
        if left < Double(margin.components.seconds) { try await Task.sleep(for: .seconds(left + 1)) }
    }
}
