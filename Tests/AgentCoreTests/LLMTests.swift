import AsyncHTTPClient
import Foundation
import Hummingbird
import Models
import Synchronization
import TestSupport
import Testing

@testable import AgentCore

/// The LLM providers module against fake OpenAI-compatible servers on loopback that answer in the Chat Completions
/// wire format as OpenAI documents it: plain answers, tool calls, rate limits, failures, refusals and streams.
struct LLMTests {
    /// A fake provider: it records what it received and answers the nth call as `answer` says.
    final class FakeProvider: Sendable {
        struct Received: Sendable {
            var path: String
            var authorization: String?
            var body: JSONValue
        }

        enum Reply: Sendable {
            case json(HTTPResponse.Status, String, retryAfter: String? = nil)
            /// The answer's head at once, its body after `delay` (a provider stuck mid-answer).
            case stalled(delay: Duration, String)
            /// Server-sent events, written in pieces cut mid-line (as TCP may deliver them).
            case events([String])
        }

        let received = Mutex<[Received]>([])
        let answer: @Sendable (_ call: Int, _ body: JSONValue) -> Reply

        init(_ answer: @escaping @Sendable (_ call: Int, _ body: JSONValue) -> Reply) { self.answer = answer }

        var calls: Int { self.received.withLock { $0.count } }
        var last: Received? { self.received.withLock { $0.last } }

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.post("v1/chat/completions") { request, _ -> Response in
                let bytes = try await request.body.collect(upTo: 1 << 20)
                let body = try JSONDecoder().decode(JSONValue.self, from: Data(bytes.readableBytesView))
                let call = self.received.withLock { list in
                    list.append(Received(path: request.uri.path, authorization: request.headers[.authorization], body: body))
                    return list.count
                }
                switch self.answer(call, body) {
                case .json(let status, let json, let retryAfter):
                    var headers: HTTPFields = [.contentType: "application/json"]
                    if let retryAfter { headers[.retryAfter] = retryAfter }
                    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
                case .stalled(let delay, let json):
                    return Response(
                        status: .ok, headers: [.contentType: "application/json"],
                        body: ResponseBody { writer in
                            try await Task.sleep(for: delay)
                            try await writer.write(ByteBuffer(string: json))
                            try await writer.finish(nil)
                        })
                case .events(let events):
                    let text = events.map { "data: \($0)\n\n" }.joined()
                    let pieces = stride(from: 0, to: text.utf8.count, by: 37).map { start in
                        ByteBuffer(bytes: Array(text.utf8).dropFirst(start).prefix(37))
                    }
                    return Response(
                        status: .ok, headers: [.contentType: "text/event-stream"],
                        body: ResponseBody { writer in
                            for piece in pieces {
                                try await writer.write(piece)
                            }
                            try await writer.finish(nil)
                        })
                }
            }
            return router
        }
    }

    /// A clock the test moves by hand.
    final class ManualClock: Sendable {
        let instant = Mutex(ContinuousClock.now)
        func advance(by duration: Duration) { self.instant.withLock { $0 += duration } }
        var now: @Sendable () -> ContinuousClock.Instant { { self.instant.withLock { $0 } } }
    }

    static func completion(
        _ content: String?, toolCalls: String? = nil, finish: String = "stop", prompt: Int = 19, completion: Int = 10, cached: Int = 0
    ) -> String {
        let content = content.map { #""\#($0)""# } ?? "null"
        let calls = toolCalls.map { #","tool_calls":\#($0)"# } ?? ""
        return #"""
            {"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"gpt-4o-mini-2024-07-18",\#
            "choices":[{"index":0,"message":{"role":"assistant","content":\#(content),"refusal":null,"annotations":[]\#(calls)},"logprobs":null,\#
            "finish_reason":"\#(finish)"}],"usage":{"prompt_tokens":\#(prompt),"completion_tokens":\#(completion),"total_tokens":\#(prompt + completion),\#
            "prompt_tokens_details":{"cached_tokens":\#(cached),"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,\#
            "accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_06737a9306"}
            """#
    }

    static func error(_ message: String, type: String, code: String?) -> String {
        #"{"error":{"message":"\#(message)","type":"\#(type)","param":null,"code":\#(code.map { #""\#($0)""# } ?? "null")}}"#
    }

    static let serverErrorMessage = "The server had an error while processing your request. Sorry about that!"
    static let serverError = error(serverErrorMessage, type: "server_error", code: nil)

    static func model(_ name: String, _ url: String, apiKey: String? = "sk-test-\(UUID().uuidString.prefix(8))") -> OpenAICompatibleModel {
        OpenAICompatibleModel(name: name, baseURL: "\(url)/v1", apiKey: apiKey, http: .shared, timeout: .seconds(10))
    }

    static let question = ChatRequest(
        model: "gpt-4o-mini", messages: [.system("You sell fuel vouchers in Kigali."), .user("How much is diesel today?")], maxTokens: 200, temperature: 0.2)

    @Test func aPlainAnswerWithItsUsageCachedTokensIncluded() async throws {
        let fake = FakeProvider { _, _ in .json(.ok, Self.completion("Diesel is 1,639 RWF a litre today.", prompt: 1200, completion: 12, cached: 1024)) }
        try await TestUpstream.with(fake.router) { url in
            let model = OpenAICompatibleModel(name: "openai", baseURL: "\(url)/v1/", apiKey: "sk-test-123", http: .shared)
            let answer = try await model.complete(Self.question, logger: TestLog.quiet)
            #expect(answer.content == "Diesel is 1,639 RWF a litre today.")
            #expect(answer.toolCalls.isEmpty)
            #expect(answer.usage == TokenUsage(input: 1200, output: 12, cached: 1024))
            #expect(answer.model == "gpt-4o-mini-2024-07-18")
            #expect(answer.finishReason == "stop")
            #expect(answer.provider == "openai")
            #expect(!answer.usedFallback)
            #expect(answer.latency > .zero)

            // the wire: the path, the key as a bearer, the body's fields in OpenAI's names
            let received = try #require(fake.last)
            #expect(received.path == "/v1/chat/completions")
            #expect(received.authorization == "Bearer sk-test-123")
            #expect(received.body["model"] == .string("gpt-4o-mini"))
            #expect(received.body["max_tokens"] == .number(200))
            #expect(received.body["temperature"] == .number(0.2))
            #expect(received.body["stream"] == nil)
            #expect(received.body["tools"] == nil)
            #expect(
                received.body["messages"]
                    == .array([
                        .object(["role": .string("system"), "content": .string("You sell fuel vouchers in Kigali.")]),
                        .object(["role": .string("user"), "content": .string("How much is diesel today?")]),
                    ]))

            // a local server (Ollama, llama.cpp) wants no key: none is sent
            _ = try await Self.model("ollama", url, apiKey: nil).complete(Self.question, logger: TestLog.quiet)
            #expect(try #require(fake.last).authorization == nil)
        }
    }

    @Test func aToolCallRoundTrip() async throws {
        let fake = FakeProvider { _, body in
            // the model answers once the tool's result is in the history
            if case .array(let messages) = body["messages"], messages.last?["role"] == .string("tool") {
                return .json(.ok, Self.completion("Diesel is 1,639 RWF a litre at Kigali Heights."))
            }
            return .json(
                .ok,
                Self.completion(
                    nil,
                    toolCalls:
                        #"[{"id":"call_Q1fuel","type":"function","function":{"name":"fuel_price","arguments":"{\"grade\":\"diesel\",\"station\":\"Kigali Heights\"}"}}]"#,
                    finish: "tool_calls"))
        }
        try await TestUpstream.with(fake.router) { url in
            let model = Self.model("openai", url)
            let tool = ToolSpec(
                name: "fuel_price", description: "Today's pump price of a fuel grade at a station.",
                parameters: .object([
                    "type": .string("object"),
                    "properties": .object(["grade": .object(["type": .string("string"), "enum": .array([.string("petrol"), .string("diesel")])])]),
                    "required": .array([.string("grade")]),
                ]))
            var request = Self.question
            request.tools = [tool]
            let first = try await model.complete(request, logger: TestLog.quiet)
            #expect(first.content == nil)
            #expect(first.finishReason == "tool_calls")
            let call = try #require(first.toolCalls.first)
            #expect(call == ToolCall(id: "call_Q1fuel", name: "fuel_price", arguments: #"{"grade":"diesel","station":"Kigali Heights"}"#))

            // the tools as OpenAI takes them
            let asked = try #require(fake.last).body
            #expect(
                asked["tools"]
                    == .array([
                        .object([
                            "type": .string("function"),
                            "function": .object(["name": .string("fuel_price"), "description": .string(tool.description), "parameters": tool.parameters]),
                        ])
                    ]))

            request.messages += [.assistant(first.content, toolCalls: first.toolCalls), .tool(callId: call.id, #"{"price":1639,"currency":"RWF"}"#)]
            let second = try await model.complete(request, logger: TestLog.quiet)
            #expect(second.content == "Diesel is 1,639 RWF a litre at Kigali Heights.")
            #expect(fake.calls == 2)

            // the history carries the model's call and the result under its id
            guard case .array(let messages) = try #require(fake.last).body["messages"], messages.count == 4 else {
                Issue.record("the second request has not the four messages")
                return
            }
            #expect(
                messages[2]
                    == .object([
                        "role": .string("assistant"), "content": .null,
                        "tool_calls": .array([
                            .object([
                                "id": .string("call_Q1fuel"), "type": .string("function"),
                                "function": .object(["name": .string("fuel_price"), "arguments": .string(call.arguments)]),
                            ])
                        ]),
                    ]))
            #expect(
                messages[3]
                    == .object(["role": .string("tool"), "tool_call_id": .string("call_Q1fuel"), "content": .string(#"{"price":1639,"currency":"RWF"}"#)]))
        }
    }

    @Test func aRateLimitIsWaitedOutAsRetryAfterSays() async throws {
        let fake = FakeProvider { call, _ in
            call == 1
                ? .json(
                    .tooManyRequests,
                    Self.error("Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3.", type: "requests", code: "rate_limit_exceeded"),
                    retryAfter: "1")
                : .json(.ok, Self.completion("Diesel is 1,639 RWF."))
        }
        try await TestUpstream.with(fake.router) { url in
            // the backoff alone would be 10 ms: only Retry-After makes the wait a second
            let chain = FallbackChain([.init(Self.model("openai", url))], retry: .init(retries: 2, baseDelay: .milliseconds(10), maxDelay: .seconds(5)))
            let started = ContinuousClock.now
            let answer = try await chain.complete(Self.question, logger: TestLog.quiet)
            let waited = ContinuousClock.now - started
            #expect(answer.content == "Diesel is 1,639 RWF.")
            #expect(!answer.usedFallback)
            #expect(fake.calls == 2)
            #expect(waited >= .milliseconds(950), "waited \(waited)")
            #expect(waited < .seconds(4), "waited \(waited)")
        }
        // the adapter reads both forms of the header
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(OpenAICompatibleModel.retryAfter("7") == .seconds(7))
        #expect(OpenAICompatibleModel.retryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now: now) == .seconds(30))
        #expect(OpenAICompatibleModel.retryAfter("soon") == nil)
    }

    @Test func aStuckProviderTimesOutAndTheNextAnswers() async throws {
        let stuck = FakeProvider { _, _ in .stalled(delay: .seconds(3), Self.completion("Too late.")) }
        let healthy = FakeProvider { _, _ in .json(.ok, Self.completion("From B.")) }
        try await TestUpstream.with(stuck.router) { a in
            try await TestUpstream.with(healthy.router) { b in
                let slow = OpenAICompatibleModel(name: "a", baseURL: "\(a)/v1", apiKey: nil, http: .shared, timeout: .milliseconds(300))
                let started = ContinuousClock.now
                await #expect(throws: LLMError.timeout) { try await slow.complete(Self.question, logger: TestLog.quiet) }
                #expect(ContinuousClock.now - started < .seconds(2))

                // a timeout is not retried on the same provider: the next one is asked
                let chain = FallbackChain([.init(slow), .init(Self.model("b", b))], retry: .init(retries: 2, baseDelay: .milliseconds(5)))
                let answer = try await chain.complete(Self.question, logger: TestLog.quiet)
                #expect(answer.provider == "b")
                #expect(stuck.calls == 2)
            }
        }
    }

    @Test func aFailingProviderFallsToTheNext() async throws {
        let failing = FakeProvider { _, _ in .json(.internalServerError, Self.serverError) }
        let healthy = FakeProvider { _, _ in .json(.ok, Self.completion("Diesel is 1,639 RWF.")) }
        try await TestUpstream.with(failing.router) { a in
            try await TestUpstream.with(healthy.router) { b in
                let chain = FallbackChain(
                    [.init(Self.model("a", a)), .init(Self.model("b", b))], retry: .init(retries: 1, baseDelay: .milliseconds(5), maxDelay: .seconds(1)))
                let answer = try await chain.complete(Self.question, logger: TestLog.quiet)
                #expect(answer.provider == "b")
                #expect(answer.usedFallback)
                #expect(answer.content == "Diesel is 1,639 RWF.")
                // A was tried, retried once, then left
                #expect(failing.calls == 2)
                #expect(healthy.calls == 1)
                #expect(try #require(healthy.last).body["messages"] == (try #require(failing.last)).body["messages"])
            }
        }
    }

    @Test func theCircuitOpensAfterFailuresAndClosesAfterAGoodTrial() async throws {
        // A fails its first two calls and answers from then on
        let flaky = FakeProvider { call, _ in call <= 2 ? .json(.serviceUnavailable, Self.serverError) : .json(.ok, Self.completion("From A.")) }
        let healthy = FakeProvider { _, _ in .json(.ok, Self.completion("From B.")) }
        let clock = ManualClock()
        try await TestUpstream.with(flaky.router) { a in
            try await TestUpstream.with(healthy.router) { b in
                let breaker = CircuitBreaker(provider: "a", threshold: 2, coolDown: .seconds(30), now: clock.now)
                let chain = FallbackChain([.init(Self.model("a", a), breaker: breaker), .init(Self.model("b", b))], retry: .init(retries: 0))
                for _ in 1...2 { #expect(try await chain.complete(Self.question, logger: TestLog.quiet).provider == "b") }
                #expect(flaky.calls == 2)
                #expect(await breaker.isOpen)

                // open: A is not called at all
                for _ in 1...3 {
                    let answer = try await chain.complete(Self.question, logger: TestLog.quiet)
                    #expect(answer.provider == "b")
                    #expect(answer.usedFallback)
                }
                #expect(flaky.calls == 2)
                #expect(healthy.calls == 5)

                // after the cool-down, one trial goes through; it succeeds and the circuit closes
                clock.advance(by: .seconds(31))
                let trial = try await chain.complete(Self.question, logger: TestLog.quiet)
                #expect(trial.provider == "a")
                #expect(!trial.usedFallback)
                #expect(await breaker.state == .closed(failures: 0))
                #expect(try await chain.complete(Self.question, logger: TestLog.quiet).provider == "a")
                #expect(flaky.calls == 4)
                #expect(healthy.calls == 5)
            }
        }
    }

    @Test func noRetryIntoACircuitThatJustOpened() async throws {
        let failing = FakeProvider { _, _ in .json(.badGateway, Self.serverError) }
        try await TestUpstream.with(failing.router) { a in
            let breaker = CircuitBreaker(provider: "a", threshold: 1)
            let waits = Mutex<[Duration]>([])
            let chain = FallbackChain(
                [.init(Self.model("a", a), breaker: breaker)], retry: .init(retries: 3, baseDelay: .milliseconds(5)),
                sleep: { wait in waits.withLock { $0.append(wait) } })
            let error = await #expect(throws: LLMError.self) { try await chain.complete(Self.question, logger: TestLog.quiet) }
            // the one call opened the circuit: no wait for a retry that cannot go, and the failure listed is the
            // provider's, not the circuit's
            #expect(failing.calls == 1)
            #expect(waits.withLock { $0 }.isEmpty)
            #expect(error == .allFailed([.init(provider: "a", error: .transient(code: "server_error", message: Self.serverErrorMessage, retryAfter: nil))]))
        }
    }

    @Test func halfOpenLetsOneTrialThroughAndAFailedTrialReopens() async throws {
        let clock = ManualClock()
        let breaker = CircuitBreaker(provider: "a", threshold: 3, coolDown: .seconds(10), now: clock.now)
        let outage = LLMError.transient(code: "server_error", message: "down", retryAfter: nil)
        for _ in 1...2 {
            #expect(await breaker.acquire())
            await breaker.record(outage)
        }
        // a refusal is an answer: it does not count, and it clears the count
        #expect(await breaker.acquire())
        await breaker.record(.permanent(code: "invalid_request_error", message: "bad"))
        #expect(await breaker.state == .closed(failures: 0))
        for _ in 1...3 {
            #expect(await breaker.acquire())
            await breaker.record(.timeout)
        }
        #expect(await !breaker.acquire())
        clock.advance(by: .seconds(9))
        #expect(await !breaker.acquire())
        clock.advance(by: .seconds(2))
        #expect(await breaker.acquire())
        // the trial is under way: nobody else goes
        #expect(await !breaker.acquire())
        await breaker.record(.unreachable("connection refused"))
        #expect(await !breaker.acquire())
        clock.advance(by: .seconds(11))
        #expect(await breaker.acquire())
        await breaker.release()
        #expect(await breaker.acquire())
        await breaker.record(nil)
        #expect(await breaker.state == .closed(failures: 0))
    }

    @Test func aRefusalIsNotRetried() async throws {
        let refusing = FakeProvider { _, _ in
            .json(
                .unauthorized,
                Self.error(
                    "Incorrect API key provided: sk-bad. You can find your API key at https://platform.openai.com/account/api-keys.",
                    type: "invalid_request_error",
                    code: "invalid_api_key"))
        }
        let healthy = FakeProvider { _, _ in .json(.ok, Self.completion("From B.")) }
        try await TestUpstream.with(refusing.router) { a in
            try await TestUpstream.with(healthy.router) { b in
                let breaker = CircuitBreaker(provider: "a", threshold: 1)
                let retry = FallbackChain.RetryPolicy(retries: 3, baseDelay: .milliseconds(5))
                let alone = FallbackChain([.init(Self.model("a", a), breaker: breaker)], retry: retry)
                let error = await #expect(throws: LLMError.self) { try await alone.complete(Self.question, logger: TestLog.quiet) }
                guard case .allFailed(let failures) = error, let failure = failures.first, failures.count == 1 else {
                    Issue.record("not the one provider's failure: \(String(describing: error))")
                    return
                }
                #expect(failure.provider == "a")
                guard case .permanent(let code, let message) = failure.error else {
                    Issue.record("not a permanent failure: \(failure.error)")
                    return
                }
                #expect(code == "invalid_api_key")
                #expect(message.hasPrefix("Incorrect API key provided"))
                #expect(refusing.calls == 1)
                // the provider answered: its circuit stays closed
                #expect(await breaker.state == .closed(failures: 0))

                let chain = FallbackChain([.init(Self.model("a", a), breaker: breaker), .init(Self.model("b", b))], retry: retry)
                let answer = try await chain.complete(Self.question, logger: TestLog.quiet)
                #expect(answer.provider == "b")
                #expect(answer.usedFallback)
                #expect(refusing.calls == 2)
            }
        }
    }

    @Test func aStreamedAnswerWithToolCallFragmentsAssembled() async throws {
        let head =
            #"{"id":"chatcmpl-C1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_1","choices":"#
        func chunk(_ choices: String) -> String { head + choices + "}" }
        let events = [
            chunk(#"[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{"content":"Checking "},"logprobs":null,"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{"content":"both grades."},"logprobs":null,"finish_reason":null}]"#),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_D1","type":"function","function":{"name":"fuel_price","arguments":""}}]},"logprobs":null,"finish_reason":null}]"#
            ),
            chunk(#"[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"gra"}}]},"logprobs":null,"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"de\": \"die"}}]},"logprobs":null,"finish_reason":null}]"#),
            chunk(
                #"[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_P2","type":"function","function":{"name":"fuel_price","arguments":"{\"grade\""}}]},"logprobs":null,"finish_reason":null}]"#
            ),
            chunk(#"[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"sel\"}"}}]},"logprobs":null,"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":": \"petrol\"}"}}]},"logprobs":null,"finish_reason":null}]"#),
            chunk(#"[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]"#),
            chunk(#"[],"usage":{"prompt_tokens":310,"completion_tokens":42,"total_tokens":352,"prompt_tokens_details":{"cached_tokens":256}}"#),
            "[DONE]",
        ]
        let fake = FakeProvider { _, _ in .events(events) }
        try await TestUpstream.with(fake.router) { url in
            let texts = Mutex<[String]>([])
            let answer = try await Self.model("openai", url).stream(Self.question, logger: TestLog.quiet) { text in texts.withLock { $0.append(text) } }
            #expect(texts.withLock { $0 } == ["Checking ", "both grades."])
            #expect(answer.content == "Checking both grades.")
            #expect(
                answer.toolCalls == [
                    ToolCall(id: "call_D1", name: "fuel_price", arguments: #"{"grade": "diesel"}"#),
                    ToolCall(id: "call_P2", name: "fuel_price", arguments: #"{"grade": "petrol"}"#),
                ])
            #expect(answer.finishReason == "tool_calls")
            #expect(answer.usage == TokenUsage(input: 310, output: 42, cached: 256))
            #expect(answer.model == "gpt-4o-mini-2024-07-18")
            #expect(answer.provider == "openai")

            let received = try #require(fake.last)
            #expect(received.path == "/v1/chat/completions")
            #expect(received.body["stream"] == .bool(true))
            #expect(received.body["stream_options"] == .object(["include_usage": .bool(true)]))
        }
    }

    @Test func aStreamCutBeforeDoneFails() async throws {
        let fake = FakeProvider { _, _ in .events([#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#]) }
        try await TestUpstream.with(fake.router) { url in
            _ = await #expect(throws: LLMError.unreachable("The stream ended before data: [DONE].")) {
                try await Self.model("openai", url).stream(Self.question, logger: TestLog.quiet) { _ in }
            }
        }
    }

    @Test func aStreamFallsBackOnlyBeforeAnyTextWasHeard() async throws {
        func text(_ piece: String) -> String {
            #"{"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"\#(piece)"}}]}"#
        }
        let failing = FakeProvider { _, _ in .json(.internalServerError, Self.serverError) }
        let cutEvents = [text("Diesel is ")]
        let healthyEvents = [text("From "), text("B."), "[DONE]"]
        let cut = FakeProvider { _, _ in .events(cutEvents) }
        let healthy = FakeProvider { _, _ in .events(healthyEvents) }
        try await TestUpstream.with(failing.router) { a in
            try await TestUpstream.with(cut.router) { c in
                try await TestUpstream.with(healthy.router) { b in
                    let retry = FallbackChain.RetryPolicy(retries: 1, baseDelay: .milliseconds(5))
                    // A fails before a word: B's stream is the answer
                    let heard = Mutex<[String]>([])
                    let chain = FallbackChain([.init(Self.model("a", a)), .init(Self.model("b", b))], retry: retry)
                    let answer = try await chain.stream(Self.question, logger: TestLog.quiet) { piece in heard.withLock { $0.append(piece) } }
                    #expect(answer.provider == "b")
                    #expect(answer.usedFallback)
                    #expect(answer.content == "From B.")
                    #expect(heard.withLock { $0 } == ["From ", "B."])
                    #expect(failing.calls == 2)
                    #expect(try #require(healthy.last).body["stream"] == .bool(true))

                    // C is cut mid-answer: what was heard cannot be unsaid, so neither C again nor B
                    let partial = Mutex<[String]>([])
                    let afterText = FallbackChain([.init(Self.model("c", c)), .init(Self.model("b", b))], retry: retry)
                    let error = await #expect(throws: LLMError.self) {
                        try await afterText.stream(Self.question, logger: TestLog.quiet) { piece in partial.withLock { $0.append(piece) } }
                    }
                    #expect(error == .allFailed([.init(provider: "c", error: .unreachable("The stream ended before data: [DONE]."))]))
                    #expect(partial.withLock { $0 } == ["Diesel is "])
                    #expect(cut.calls == 1)
                    #expect(healthy.calls == 1)
                }
            }
        }
    }

    @Test func costFromThePriceTable() throws {
        let prices = try LLMPrices(
            json: Data(
                #"""
                {"prices": [
                  {"provider": "openai", "model": "gpt-4o-mini", "inputPerMillion": 150000, "cachedInputPerMillion": 75000, "outputPerMillion": 600000},
                  {"provider": "groq", "model": "llama-3.3-70b-versatile", "inputPerMillion": 590000, "outputPerMillion": 790000}
                ]}
                """#.utf8))
        // 2,000 fresh prompt tokens at $0.15/M, 10,000 cached at $0.075/M, 500 out at $0.60/M: 300 + 750 + 300 micro-USD
        let usage = TokenUsage(input: 12_000, output: 500, cached: 10_000)
        #expect(prices.cost(of: usage, provider: "openai", model: "gpt-4o-mini") == 1350)
        // a dated snapshot is priced as its family
        #expect(prices.cost(of: usage, provider: "openai", model: "gpt-4o-mini-2024-07-18") == 1350)
        // no cached price: cached tokens cost what the others do; fractions round up
        #expect(prices.cost(of: TokenUsage(input: 3, output: 1, cached: 2), provider: "groq", model: "llama-3.3-70b-versatile") == 3)
        #expect(prices.cost(of: usage, provider: "groq", model: "llama-3.3-70b-versatile") == 7475)
        // unknown is not free
        #expect(prices.cost(of: usage, provider: "openai", model: "gpt-4o") == nil)
        #expect(prices.cost(of: usage, provider: "groq", model: "gpt-4o-mini") == nil)
        let answer = ChatResponse(
            content: "ok", toolCalls: [], usage: usage, model: "gpt-4o-mini-2024-07-18", finishReason: "stop", provider: "openai", latency: .zero)
        #expect(prices.cost(of: answer) == 1350)

        // a table that prices a model twice, or below zero, is refused
        #expect(throws: DecodingError.self) {
            try LLMPrices(
                json: Data(
                    #"{"prices":[{"provider":"a","model":"m","inputPerMillion":1,"outputPerMillion":1},{"provider":"a","model":"m","inputPerMillion":2,"outputPerMillion":2}]}"#
                        .utf8))
        }
        #expect(throws: DecodingError.self) {
            try LLMPrices(json: Data(#"{"prices":[{"provider":"a","model":"m","inputPerMillion":-1,"outputPerMillion":1}]}"#.utf8))
        }
    }
}
