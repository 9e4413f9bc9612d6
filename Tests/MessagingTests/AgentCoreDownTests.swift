import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Models
import ServiceKit
import Synchronization
import TestSupport
import Testing

@testable import Messaging

/// agent-core is not there yet when a customer writes: the reply job waits and retries (connection refused, then
/// 503 while it starts), and the customer gets exactly one answer once it is up. Slow by nature: a refused call is
/// tried again until its deadline (10 s, four times) before the job's attempt fails, so the test takes about a minute.
@Suite(.serialized) struct AgentCoreDownTests {
    final class Asked: Sendable {
        let requests = Mutex<[(status: Int, idempotencyKey: String?)]>([])
        var answered: Int { self.requests.withLock { $0.filter { $0.status == 200 }.count } }
        var unavailable: Int { self.requests.withLock { $0.filter { $0.status == 503 }.count } }
    }

    /// agent-core at its HTTP boundary: 503 for its first `unavailable` calls (starting up), then the reply.
    static func agent(_ asked: Asked, unavailable: Int) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("v1/agent/replies") { request, context -> Response in
            let question = try await request.decode(as: AgentAPI.ReplyRequest.self, context: context)
            let count = asked.requests.withLock { list in
                list.append((list.count < unavailable ? 503 : 200, request.headers[HTTPField.Name("Idempotency-Key")!]))
                return list.count
            }
            if count <= unavailable {
                return Response(
                    status: .serviceUnavailable, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"code":"starting","message":"agent-core is starting"}}"#)))
            }
            let reply = AgentAPI.Reply(text: "Murakoze, \(question.contact.name ?? "friend")!")
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(reply))))
        }
        return router
    }

    /// A fake on a port chosen in advance, so messaging can be pointed at it before it listens.
    static func serve<Result: Sendable>(_ router: Router<BasicRequestContext>, port: Int, _ body: () async throws -> Result) async throws -> Result {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: TestLog.quiet)
        return try await TestServices.running([app], logger: TestLog.quiet, started: ports, continuation: continuation) { _ in try await body() }
    }

    struct Inbound: Encodable {
        var from: String
        var text: String
        var profileName: String?
    }

    @Test func withoutAgentCoreTheReplyJobWaitsAndRetriesAndAnswersOnceItIsUp() async throws {
        let port = try FreePort.find()
        let asked = Asked()
        // every provider and agent-core at a port where nothing listens yet: the connection is refused
        try await MessagingFlowTests.with(agent: "http://127.0.0.1:\(port)") { p in
            let sent = try await p.post("/v1/sandbox/inbound", Inbound(from: "+250788400001", text: "Muraho, mfite ikibazo", profileName: "Aline"))
            #expect(sent.status == 202, "\(sent.text)")
            // the message is stored and acked whatever agent-core does
            try await p.eventually("the message") { try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'inbound'") == 1 }
            // the reply job fails for want of agent-core (each call is tried until its deadline, so this takes a while)
            // and is queued again rather than given up
            let refused = try await TestWait.until(timeout: .seconds(100), every: .milliseconds(200)) {
                try await p.count(
                    """
                    SELECT count(*)::int FROM messaging.jobs WHERE kind = 'agent.reply' AND status IN ('queued', 'running') AND attempts >= 1
                      AND last_error LIKE '%refused%'
                    """) == 1
            }
            #expect(refused, "the reply job failed on the refused connection and waits for another try")
            #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'outbound'") == 0)
            #expect(try await p.count("SELECT count(*)::int FROM messaging.jobs WHERE kind = 'agent.reply' AND status = 'dead'") == 0)
            let refusedAttempts = try await p.count("SELECT attempts FROM messaging.jobs WHERE kind = 'agent.reply'")

            // agent-core comes up, answering 503 while it starts (more often than the client's own retries of one attempt)
            try await Self.serve(Self.agent(asked, unavailable: 6), port: port) {
                let answered = try await TestWait.until(timeout: .seconds(90), every: .milliseconds(200)) {
                    try await p.count("SELECT count(*)::int FROM messaging.messages WHERE sender = 'agent' AND status = 'sent'") == 1
                }
                #expect(answered, "the agent's reply was sent once agent-core was up")
                try await p.eventually("the reply job done") {
                    try await p.count("SELECT count(*)::int FROM messaging.jobs WHERE kind = 'agent.reply' AND status = 'done'") == 1
                }
                // the 503s cost at least one more attempt of the job, and none was given up
                #expect(asked.unavailable == 6)
                #expect(try await p.count("SELECT attempts FROM messaging.jobs WHERE kind = 'agent.reply'") > refusedAttempts)
                #expect(try await p.count("SELECT count(*)::int FROM messaging.jobs WHERE status = 'dead'") == 0)
                // one answer, asked under one idempotency key all along, sent once
                try await Task.sleep(for: .milliseconds(500))
                #expect(asked.answered == 1)
                #expect(Set(asked.requests.withLock { $0.map(\.idempotencyKey) }).count == 1)
                #expect(try await p.count("SELECT count(*)::int FROM messaging.messages WHERE direction = 'outbound'") == 1)
                let outbox = try await p.get("/v1/sandbox/outbox").json(Page<OutboxEntry>.self).items
                #expect(outbox.map(\.body) == ["Murakoze, Aline!"])
                #expect(outbox.map(\.to) == ["+250788400001"])
            }
        }
    }
}
