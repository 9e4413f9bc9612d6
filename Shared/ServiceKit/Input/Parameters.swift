import Foundation
import Hummingbird
import Models

/// The query string of a request, read with the platform's rules: a value that is present but malformed is a 400
/// naming the parameter (`invalid_<name>`), never ignored and never a 500.
public struct QueryValues: Sendable {
    let parameters: Parameters

    public func has(_ name: String) -> Bool { self.parameters[name[...]] != nil }

    /// A text value without NUL and at most `maxLength` code points.
    public func string(_ name: String, maxLength: Int = 200) throws -> String? {
        guard let value = self.parameters[name[...]].map(String.init) else { return nil }
        guard !TextRules.containsNUL(value) else { throw Self.invalid(name, "must not contain NUL characters") }
        guard TextRules.length(value) <= maxLength else { throw Self.invalid(name, "must be at most \(maxLength) characters") }
        return value
    }

    public func uuid(_ name: String) throws -> UUID? {
        guard let text = self.parameters[name[...]] else { return nil }
        guard let id = UUID(uuidString: String(text)) else { throw Self.invalid(name, "must be a UUID") }
        return id
    }

    public func id<Tag>(_ name: String, as type: Identifier<Tag>.Type = Identifier<Tag>.self) throws -> Identifier<Tag>? {
        try self.uuid(name).map { Identifier<Tag>(rawValue: $0) }
    }

    /// An integer of ASCII digits (an optional leading minus) within `range`.
    public func int(_ name: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = self.parameters[name[...]] else { return nil }
        let digits = text.hasPrefix("-") ? text.dropFirst() : text[...]
        guard TextRules.isASCIIDigits(digits), digits.count <= 18, let value = Int(text), range.contains(value) else {
            throw Self.invalid(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A finite decimal number within `range`.
    public func double(_ name: String, range: ClosedRange<Double>) throws -> Double? {
        guard let text = self.parameters[name[...]] else { return nil }
        guard text.utf8.allSatisfy({ $0 < 0x80 }), let value = Double(text), value.isFinite, range.contains(value) else {
            throw Self.invalid(name, "must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// `true` or `false`, exactly.
    public func bool(_ name: String) throws -> Bool? {
        guard let text = self.parameters[name[...]] else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw Self.invalid(name, "must be true or false")
        }
    }

    /// One of an enumeration's raw values.
    public func value<Value: RawRepresentable>(_ name: String, as type: Value.Type) throws -> Value? where Value.RawValue == String {
        guard let text = self.parameters[name[...]] else { return nil }
        guard let value = Value(rawValue: String(text)) else { throw Self.invalid(name, "has an unknown value") }
        return value
    }

    /// A calendar day written `YYYY-MM-DD` in ASCII digits that exists (not 2024-02-30), as that text.
    public func day(_ name: String) throws -> Day? {
        guard let text = self.parameters[name[...]] else { return nil }
        guard let day = Day(String(text)) else {
            throw APIError.badRequest("invalid_date", "\(name) must be a real day written YYYY-MM-DD.")
        }
        return day
    }

    /// An instant written in ISO 8601 with a time zone (`2026-12-02T08:00:00Z`, fractional seconds allowed).
    /// `from` and `to` as days, the last `defaultDays` (today included, UTC) unless given; `from` after `to`, or a
    /// range longer than `maxDays`, is 400 `invalid_date`.
    public func dayRange(defaultDays: Int = 30, maxDays: Int = 367) throws -> (from: Day, to: Day) {
        let to = try self.day("to") ?? Day(Date())
        let from = try self.day("from") ?? Day(Date().addingTimeInterval(-Double(defaultDays - 1) * 86_400))
        guard from <= to else { throw APIError.badRequest("invalid_date", "from must not be after to.") }
        guard let start = Day.calendar.date(from: DateComponents(year: from.year, month: from.month, day: from.day)),
            let end = Day.calendar.date(from: DateComponents(year: to.year, month: to.month, day: to.day)),
            end.timeIntervalSince(start) < Double(maxDays) * 86_400
        else { throw APIError.badRequest("invalid_date", "Ask for at most \(maxDays) days at once.") }
        return (from, to)
    }

    public func instant(_ name: String) throws -> Date? {
        guard let text = self.parameters[name[...]].map(String.init) else { return nil }
        let plain = Date.ISO8601FormatStyle()
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        guard text.allSatisfy(\.isASCII), let date = (try? plain.parse(text)) ?? (try? fractional.parse(text)) else {
            throw Self.invalid(name, "must be an ISO 8601 date and time with a zone, such as 2026-12-02T08:00:00Z")
        }
        return date
    }

    static func invalid(_ name: String, _ problem: String) -> APIError {
        APIError.badRequest("invalid_\(name)", "The query parameter \(name) \(problem).")
    }
}

/// A calendar day, `YYYY-MM-DD`, years 1–9999.
public struct Day: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ TextRules.isASCIIDigits($0) }), let year = Int(parts[0]), let month = Int(parts[1]),
            let day = Int(parts[2]), year >= 1
        else { return nil }
        guard DateComponents(year: year, month: month, day: day).isValidDate(in: Self.calendar) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The UTC day of an instant.
    public init(_ date: Date) {
        let components = Self.calendar.dateComponents([.year, .month, .day], from: date)
        self.year = components.year!
        self.month = components.month!
        self.day = components.day!
    }

    public var description: String {
        String(format: "%04d-%02d-%02d", self.year, self.month, self.day)
    }

    /// `WITH span AS (…)`: the instants (`start`, `stop`) of the UTC days `from` through `to`, for a query counting
    /// per day (`DailyCounts`). Safe to splice: a `Day` is digits and dashes.
    public static func spanSQL(from: Day, to: Day) -> String {
        """
        WITH span AS (SELECT '\(from)'::date::timestamp AT TIME ZONE 'UTC' AS start, ('\(to)'::date + 1)::timestamp AT TIME ZONE 'UTC' AS stop)
        """
    }

    public static func < (lhs: Day, rhs: Day) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}

extension Request {
    /// The query string, read with the platform's rules.
    public var queryValues: QueryValues { QueryValues(parameters: self.uri.queryParameters) }
}

extension AppRequestContext {
    /// A UUID path parameter, or 400 `invalid_id`.
    public func uuidParameter(_ name: String = "id") throws -> UUID {
        guard let text = self.parameters.get(name), let id = UUID(uuidString: text) else {
            throw APIError.badRequest("invalid_id", "The \(name) in the path must be a UUID.")
        }
        return id
    }

    /// A typed id path parameter, or 400 `invalid_id`.
    public func idParameter<Tag>(_ name: String = "id", as type: Identifier<Tag>.Type = Identifier<Tag>.self) throws -> Identifier<Tag> {
        Identifier<Tag>(rawValue: try self.uuidParameter(name))
    }
}

/// Body fields that name a resource by id: a malformed one is a 422 `invalid_<field>`.
public enum BodyValues {
    public static func uuid(_ text: String?, field: String) throws -> UUID? {
        guard let text else { return nil }
        guard let id = UUID(uuidString: text) else { throw APIError.unprocessable("invalid_\(field)", "\(field) must be a UUID.") }
        return id
    }

    public static func id<Tag>(_ text: String?, field: String, as type: Identifier<Tag>.Type = Identifier<Tag>.self) throws -> Identifier<Tag>? {
        try self.uuid(text, field: field).map { Identifier<Tag>(rawValue: $0) }
    }
}
