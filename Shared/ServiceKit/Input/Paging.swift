import Foundation
import Hummingbird
import Models

/// An opaque page cursor: the sort key of the last item of a page, a few strings, as base64url JSON. Clients pass
/// it back unchanged; anything else is a 400 `invalid_cursor`, never a 500 or a silent first page.
public struct PageCursor: Sendable, Equatable {
    public var values: [String]

    public init(_ values: [String]) {
        self.values = values
    }

    public var encoded: String {
        Base64URL.encode((try? JSONEncoder.sokoni.encode(self.values)) ?? Data("[]".utf8))
    }

    static let invalid = APIError.badRequest("invalid_cursor", "The cursor is not one this API gave out.")

    /// Decodes a cursor of exactly `count` values.
    public static func decode(_ text: String, count: Int) throws -> PageCursor {
        guard text.utf8.count <= 2048, let data = Base64URL.decode(text),
            let values = try? JSONDecoder.sokoni.decode([String].self, from: data), values.count == count,
            !values.contains(where: TextRules.containsNUL)
        else { throw Self.invalid }
        return PageCursor(values)
    }

    public func string(_ index: Int) -> String { self.values[index] }

    public func uuid(_ index: Int) throws -> UUID {
        guard let id = UUID(uuidString: self.values[index]) else { throw Self.invalid }
        return id
    }

    public func int64(_ index: Int) throws -> Int64 {
        guard let value = Int64(self.values[index]) else { throw Self.invalid }
        return value
    }
}

extension Date {
    /// Whole microseconds since 1970, exact for PostgreSQL's precision: the sort key a cursor carries. The store
    /// reads it back with `'epoch'::timestamptz + <micros> * interval '1 microsecond'`.
    public var micros: Int64 { Int64((self.timeIntervalSince1970 * 1_000_000).rounded()) }
}

/// `?limit=&cursor=` of a list endpoint.
public struct PageRequest: Sendable {
    public var limit: Int
    public var cursor: PageCursor?

    /// A page of `limit` items that came back full has a next page, whose cursor `key` makes from its last item.
    public func next<Item>(_ items: [Item], key: (Item) -> [String]) -> String? {
        guard items.count == self.limit, let last = items.last else { return nil }
        return PageCursor(key(last)).encoded
    }
}

extension Request {
    /// `limit` (1…`maximum`, `defaultLimit` when absent) and `cursor` (of `cursorValues` values). A bad value is a
    /// 400 naming it; out-of-range limits are not clamped silently.
    public func page(defaultLimit: Int = 50, maximum: Int = 200, cursorValues: Int) throws -> PageRequest {
        let query = self.queryValues
        let limit = try query.int("limit", range: 1...maximum) ?? defaultLimit
        let cursor = try query.string("cursor", maxLength: 2048).map { try PageCursor.decode($0, count: cursorValues) }
        return PageRequest(limit: limit, cursor: cursor)
    }
}
