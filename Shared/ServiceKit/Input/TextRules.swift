import Foundation

/// The rules every string from outside meets before it reaches PostgreSQL, checked in one place:
/// - no NUL: PostgreSQL stores none in `text` or `jsonb` (it would answer 22P05 or 22021);
/// - lengths counted in Unicode code points, as PostgreSQL's `char_length` and `varchar(n)` count them (Swift's
///   `count` counts graphemes: 200 flags "🇷🇼" are 200 characters to Swift and 400 to PostgreSQL);
/// - digits ASCII where digits are parsed (`٢٠٢٤` is a number to some parsers and to no database).
public enum TextRules {
    /// The length PostgreSQL counts.
    public static func length(_ text: String) -> Int { text.unicodeScalars.count }

    public static func containsNUL(_ text: String) -> Bool { text.utf8.contains(0) }

    /// A required text field of `range` code points without NUL, or 422 `invalid_<field>`.
    public static func check(_ text: String, field: String, length range: ClosedRange<Int>) throws {
        guard !Self.containsNUL(text) else {
            throw APIError.unprocessable("invalid_\(field)", "\(field) must not contain NUL characters.")
        }
        guard range.contains(Self.length(text)) else {
            throw APIError.unprocessable("invalid_\(field)", "\(field) must be \(range.lowerBound) to \(range.upperBound) characters.")
        }
    }

    /// `check` for an optional field: nil passes.
    public static func check(_ text: String?, field: String, length range: ClosedRange<Int>) throws {
        if let text { try Self.check(text, field: field, length: range) }
    }

    /// Whether a JSON text holds an escaped NUL (`\u0000`) anywhere, in a key or a value. JSON cannot carry a raw
    /// NUL, so this finds every NUL a decoded body could hold. Escapes are followed, so `\\u0000` (a backslash, then
    /// the text `u0000`) is not one.
    public static func jsonContainsNUL(_ bytes: some Collection<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var window: [UInt8] = []
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "\\") else { continue }
            guard let escaped = iterator.next() else { return false }
            guard escaped == UInt8(ascii: "u") else { continue }
            window.removeAll(keepingCapacity: true)
            for _ in 0..<4 {
                guard let digit = iterator.next() else { return false }
                window.append(digit)
            }
            if window.allSatisfy({ $0 == UInt8(ascii: "0") }) { return true }
        }
        return false
    }

    /// Whether every character is an ASCII digit.
    public static func isASCIIDigits(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

extension TextRules {
    /// A body field that names one of an enum's values, or 422 `invalid_<field>`.
    public static func known<Value: RawRepresentable>(_ raw: String, _ type: Value.Type, _ field: String) throws -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: raw) else { throw APIError.unprocessable("invalid_\(field)", "\(field) is not one of the known values.") }
        return value
    }
}
