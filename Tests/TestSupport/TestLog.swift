import Logging
import NIOConcurrencyHelpers

/// A log handler that keeps every entry, so tests can assert on log lines.
public final class LogCapture: Sendable {
    public struct Entry: Sendable {
        public var label: String
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    let box = NIOLockedValueBox<[Entry]>([])

    public init() {}

    public var entries: [Entry] { self.box.withLockedValue { $0 } }

    public func logger(label: String, level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { label in Handler(label: label, capture: self) }
        logger.logLevel = level
        return logger
    }

    struct Handler: LogHandler {
        let label: String
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = self.metadata
            if let extra = event.metadata { merged.merge(extra) { $1 } }
            let entry = Entry(label: self.label, level: event.level, message: event.message.description, metadata: merged.mapValues { "\($0)" })
            self.capture.box.withLockedValue { $0.append(entry) }
        }
    }
}

public enum TestLog {
    /// Logs nothing: for the noise of set-up.
    public static let quiet: Logger = {
        var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        logger.logLevel = .critical
        return logger
    }()
}
