#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// The one JSON configuration of the platform, used by ServiceKit (bodies), ServiceClient (calls between
/// services) and the tests: ISO 8601 dates with milliseconds (either form accepted on input), keys as the Swift
/// properties are named (camelCase), sorted keys and unescaped slashes for stable bodies.
extension JSONEncoder {
    /// Sorted keys, so that equal values are equal text (JSON stored in columns, audit diffs); ISO 8601 dates.
    nonisolated(unsafe) public static let canonical: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    public func encodeString(_ value: some Encodable) throws -> String {
        String(decoding: try self.encode(value), as: UTF8.self)
    }

    /// One shared instance: encoding does not change it.
    nonisolated(unsafe) public static let sokoni: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension JSONDecoder {
    /// One shared instance: decoding does not change it.
    nonisolated(unsafe) public static let sokoni: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = ISO8601.parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not an ISO-8601 date-time")
        }
        return decoder
    }()
}

public enum ISO8601 {
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// An ISO 8601 date-time with or without fractional seconds. Years outside 1–9999 are refused: PostgreSQL and
    /// every client agree on those, and nobody means the year 99999.
    public static func parse(_ text: String) -> Date? {
        guard text.utf8.count <= 40, text.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        guard
            let date = (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
                ?? (try? Date.ISO8601FormatStyle().parse(text))
        else { return nil }
        guard date >= Self.earliest, date < Self.latest else { return nil }
        return date
    }

    /// 0001-01-01 and 10000-01-01, UTC.
    static let earliest = Date(timeIntervalSince1970: -62_135_596_800)
    static let latest = Date(timeIntervalSince1970: 253_402_300_800)
}
