import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Models

/// A WebSocket client for tests: frames received are buffered and read one at a time with a timeout, frames
/// to send are queued. The socket runs in a task of its own until `close()` or the server closes.
public final class TestSocket: Sendable {
    let buffer = FrameBuffer()
    let outgoing: AsyncStream<String>.Continuation
    let task: Task<Void, Never>

    /// Connects to `ws://…`; `origin` becomes the `Origin` header, as a browser sends it.
    public init(_ url: String, origin: String? = nil) {
        let (stream, outgoing) = AsyncStream<String>.makeStream()
        self.outgoing = outgoing
        var headers = HTTPFields()
        if let origin { headers[.origin] = origin }
        let buffer = self.buffer
        self.task = Task {
            do {
                try await WebSocketClient.connect(url: url, configuration: .init(additionalHeaders: headers), logger: TestLog.quiet) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await text in stream { try await outbound.write(.text(text)) }
                            try? await outbound.close(.normalClosure, reason: nil)
                        }
                        for try await message in inbound.messages(maxSize: 1 << 20) {
                            if case .text(let text) = message { await buffer.push(text) }
                        }
                        group.cancelAll()
                    }
                }
            } catch {
                await buffer.push("{\"type\":\"client_error\",\"message\":\"\(error)\"}")
            }
            await buffer.finish()
        }
    }

    public func send(_ json: String) { self.outgoing.yield(json) }

    public func send(_ value: some Encodable) throws { self.outgoing.yield(String(decoding: try JSONEncoder().encode(value), as: UTF8.self)) }

    /// The next frame, or nil when none came within the time or the socket closed. The default is generous: under
    /// the whole suite's load on two cores a new socket through the gateway's relay has taken over 10 s to answer (a
    /// test that expects no frame passes its own, short, time).
    public func next(within timeout: Duration = .seconds(30)) async -> String? { await self.buffer.next(timeout: timeout) }

    /// The next frame decoded as `T`.
    public func next<T: Decodable>(_ type: T.Type, within timeout: Duration = .seconds(30)) async throws -> T? {
        guard let text = await self.next(within: timeout) else { return nil }
        return try JSONDecoder.sokoni.decode(T.self, from: Data(text.utf8))
    }

    /// Frames until one satisfies `match` (the others are returned too, in order), or nil on timeout.
    public func until<T: Decodable>(_ type: T.Type, within timeout: Duration = .seconds(30), _ match: (T) -> Bool) async throws -> [T]? {
        var seen: [T] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let frame = try await self.next(T.self, within: deadline - ContinuousClock.now) else { return nil }
            seen.append(frame)
            if match(frame) { return seen }
        }
        return nil
    }

    /// Closes from the client's side and waits for the socket to end.
    public func close() async {
        self.outgoing.finish()
        await self.task.value
    }

    /// Whether the server closed the socket (no more frames will come).
    public var isClosed: Bool { get async { await self.buffer.isFinished } }
}

actor FrameBuffer {
    var frames: [String] = []
    var waiter: (id: Int, continuation: CheckedContinuation<String?, Never>)?
    var waits = 0
    var isFinished = false

    func push(_ frame: String) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: frame)
        } else {
            self.frames.append(frame)
        }
    }

    func finish() {
        self.isFinished = true
        self.waiter?.continuation.resume(returning: nil)
        self.waiter = nil
    }

    func next(timeout: Duration) async -> String? {
        if !self.frames.isEmpty { return self.frames.removeFirst() }
        if self.isFinished { return nil }
        self.waits += 1
        let id = self.waits
        return await withCheckedContinuation { continuation in
            self.waiter = (id, continuation)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: nil)
    }
}
