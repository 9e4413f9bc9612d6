import Foundation

extension KeyedDecodingContainer {
    /// A field a PATCH may clear: absent → nil (unchanged), `null` → `.some(nil)` (cleared), a value → `.some(value)`.
    public func decodeClearable<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value?? {
        guard self.contains(key) else { return nil }
        return try self.decodeNil(forKey: key) ? .some(nil) : .some(try self.decode(Value.self, forKey: key))
    }
}
