import Foundation
import Logging

/// Log lines as JSON objects, one per line (`LOG_FORMAT=json`, the container image's and the manifests' default), for
/// a log collector to index without parsing text: `time` (UTC, milliseconds), `level`, `service`, `message`, then
/// `requestId` and `tenant` when the metadata has them (`hb.request.id`, `tenant.id`), `source`, and every other
/// metadata key under `metadata`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let service: String
    let write: @Sendable (String) -> Void

    /// `write` receives each line with its newline.
    public init(service: String, write: @escaping @Sendable (String) -> Void) {
        self.service = service
        self.write = write
    }

    /// Lines to standard output (or error), one `write(2)` each, so lines from concurrent tasks do not interleave.
    public init(service: String, toStandardError: Bool = false) {
        self.service = service
        let descriptor = toStandardError ? STDERR_FILENO : STDOUT_FILENO
        self.write = { line in Self.write(line, to: descriptor) }
    }

    static func write(_ line: String, to descriptor: Int32) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt
    ) {
        var all = self.metadata
        if let provided = self.metadataProvider?.get() { all.merge(provided) { $1 } }
        if let explicit { all.merge(explicit) { $1 } }
        let requestID = all.removeValue(forKey: "hb.request.id")
        let tenant = all.removeValue(forKey: "tenant.id")
        var text = "{\"time\":"
        Self.append(string: Self.timestamp(Date()), to: &text)
        text += ",\"level\":"
        Self.append(string: level.rawValue, to: &text)
        text += ",\"service\":"
        Self.append(string: self.service, to: &text)
        text += ",\"message\":"
        Self.append(string: message.description, to: &text)
        if let requestID {
            text += ",\"requestId\":"
            Self.append(requestID, to: &text)
        }
        if let tenant {
            text += ",\"tenant\":"
            Self.append(tenant, to: &text)
        }
        text += ",\"source\":"
        Self.append(string: source, to: &text)
        if !all.isEmpty {
            text += ",\"metadata\":"
            Self.append(.dictionary(all), to: &text)
        }
        text += "}\n"
        self.write(text)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    static func append(_ value: Logger.MetadataValue, to text: inout String) {
        switch value {
        case .string(let string): Self.append(string: string, to: &text)
        case .stringConvertible(let convertible): Self.append(string: convertible.description, to: &text)
        case .array(let values):
            text += "["
            for (index, value) in values.enumerated() {
                if index > 0 { text += "," }
                Self.append(value, to: &text)
            }
            text += "]"
        case .dictionary(let values):
            text += "{"
            // keys in order: the same event always prints the same line
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                Self.append(string: key, to: &text)
                text += ":"
                Self.append(values[key]!, to: &text)
            }
            text += "}"
        }
    }

    /// A JSON string (RFC 8259 §7): quotes, backslashes and control characters escaped, the rest as it is.
    static func append(string: String, to text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                text += "\\u00" + String(scalar.value, radix: 16).leftPadded(to: 2)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - self.count)) + self
    }
}
