import Foundation
import Logging
import Models
import ServiceKit
import Synchronization
import Testing

/// `LOG_FORMAT=json`: each event one line that any JSON parser reads, the request id and tenant lifted out, the
/// rest of the metadata nested, and the bytes that would break a line (newline, quote, NUL, control characters)
/// escaped.
struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func write(_ line: String) { self.lines.withLock { $0.append(line) } }
        var all: [String] { self.lines.withLock { $0 } }
    }

    @Test func eachEventIsOneParseableLineWithTheRequestAndTenantLiftedOut() throws {
        let lines = Lines()
        var logger = Logger(label: "test") { _ in JSONLogHandler(service: "messaging", write: { lines.write($0) }) }
        logger.logLevel = .debug
        logger[metadataKey: "hb.request.id"] = "req-42"
        logger[metadataKey: "tenant.id"] = "3f0c8f5e-8c1d-4a4e-9a57-1c2b6f0a9e11"
        let awkward = "line one\nline \"two\"\t\\ end\u{0}\u{1F} Kigali ☕"
        logger.info(
            "message with \(awkward)",
            metadata: ["job.id": "\(7)", "nested": ["list": ["a", "b"], "flag": "yes"], "text": .string(awkward)])
        logger.trace("below the level: not written")
        logger.warning("plain")

        let written = lines.all
        #expect(written.count == 2)
        for line in written {
            #expect(line.hasSuffix("}\n") && line.dropLast().contains("\n") == false, "one line each: \(line)")
        }
        let first = try #require(JSONSerialization.jsonObject(with: Data(written[0].utf8)) as? [String: Any])
        #expect(first["level"] as? String == "info")
        #expect(first["service"] as? String == "messaging")
        #expect(first["message"] as? String == "message with \(awkward)")
        #expect(first["requestId"] as? String == "req-42")
        #expect(first["tenant"] as? String == "3f0c8f5e-8c1d-4a4e-9a57-1c2b6f0a9e11")
        let time = try #require(first["time"] as? String)
        #expect(try Date(time, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)).timeIntervalSinceNow > -60)
        let metadata = try #require(first["metadata"] as? [String: Any])
        #expect(metadata["job.id"] as? String == "7")
        #expect(metadata["text"] as? String == awkward)
        #expect((metadata["nested"] as? [String: Any])?["list"] as? [String] == ["a", "b"])
        #expect(metadata["hb.request.id"] == nil && metadata["tenant.id"] == nil)
        // the raw line holds no control character at all: a collector splitting on newlines sees one event
        #expect(!written[0].dropLast().unicodeScalars.contains { $0.value < 0x20 })

        let second = try #require(JSONSerialization.jsonObject(with: Data(written[1].utf8)) as? [String: Any])
        #expect(second["level"] as? String == "warning" && second["message"] as? String == "plain")
    }

    @Test func theFormatIsTextOrJSONAndAnythingElseStopsTheStart() throws {
        func settings(_ format: String?) throws -> ServiceSettings {
            var values = ["DATABASE_URL": "postgres://sokoni@127.0.0.1:5432/sokoni", "JWT_SERVICE_KEY": "c29rb25p", "MIGRATIONS_DIRECTORY": "/tmp"]
            values["LOG_FORMAT"] = format
            return try ServiceSettings(service: .messaging, settings: .fromEnvironment(values))
        }
        #expect(try settings(nil).logFormat == .text)
        #expect(try settings("json").logFormat == .json)
        #expect(try settings("JSON").logFormat == .json)
        #expect(throws: ConfigurationError.self) { try settings("xml") }
    }
}
