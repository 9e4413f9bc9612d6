import Foundation

/// A row the schema's CHECKs should have made impossible (an unknown status, currency or role): a bug, answered as a
/// 500 and logged, never guessed into a default and never blamed on the caller.
public struct CorruptRow: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    /// A stored enumeration value, or `CorruptRow`.
    public static func known<Value: RawRepresentable>(_ raw: String, as type: Value.Type = Value.self) throws -> Value
    where Value.RawValue == String {
        guard let value = Value(rawValue: raw) else { throw CorruptRow("a stored \(Value.self) is unknown: \(raw)") }
        return value
    }

    /// Stored JSON (a `jsonb` column read as text) as `Value`, or `CorruptRow`: the code wrote it, so it decodes.
    public static func decode<Value: Decodable>(_ type: Value.Type, _ json: String) throws -> Value {
        do { return try JSONDecoder.sokoni.decode(Value.self, from: Data(json.utf8)) } catch {
            throw CorruptRow("a stored \(Value.self) does not decode: \(error)")
        }
    }
}
