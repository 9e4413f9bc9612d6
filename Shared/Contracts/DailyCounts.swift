import Foundation
import Models
import ServiceClient

/// What a service counted per UTC day from its own rows, for the CRM's daily analytics (agent-core asks each
/// service for the days it needs: `GET /v1/messaging/daily`, `/v1/calendar/daily`, `/v1/vouchers/daily`, all with
/// `from` and `to` as `YYYY-MM-DD`, at most 92 days). Each service documents its keys; a day without any is absent.
public struct DailyCounts: Codable, Sendable, Equatable {
    public struct Day: Codable, Sendable, Equatable {
        public var day: String
        public var counts: [String: Int64]

        public init(day: String, counts: [String: Int64]) {
            self.day = day
            self.counts = counts
        }
    }

    public var days: [Day]

    public init(days: [Day]) {
        self.days = days
    }

    /// The readers of a tenant's figures, and the CRM's analytics job.
    static let readers = Roles.readers.union([.service])
    /// The longest range asked at once.
    public static let maxDays = 92

    /// Rows of (day, key, count), as a service's query gives them, by day in order.
    public static func days(_ rows: [(day: String, key: String, count: Int64)]) -> [Day] {
        var byDay: [String: [String: Int64]] = [:]
        for row in rows { byDay[row.day, default: [:]][row.key, default: 0] += row.count }
        return byDay.keys.sorted().map { Day(day: $0, counts: byDay[$0]!) }
    }
}

/// Typed calls for a service's daily counts.
public struct DailyCountsClient: Sendable {
    public let client: ServiceClient
    public let endpoint: Endpoint

    public init(_ client: ServiceClient, endpoint: Endpoint) {
        self.client = client
        self.endpoint = endpoint
    }

    public func counts(from: String, to: String, context: CallContext) async throws -> DailyCounts {
        try await self.client.get(self.endpoint.path, query: ["from": from, "to": to], context: context)
    }
}
