import Contracts
import Foundation
import Models

/// One tenant's day (seed 004's `analytics`, computed, never typed in): conversations and messages by channel
/// (messaging), calls (here), bookings (calendar-booking), SMS, costs (the LLM's here, the providers' at messaging),
/// leads created and converted with the conversion rate, vouchers issued and redeemed.
struct DailyFigures: Codable, Sendable, Equatable {
    var day: String
    var conversations: Int64 = 0
    /// By channel kind.
    var messagesIn: [String: Int64] = [:]
    var messagesOut: [String: Int64] = [:]
    /// Outbound SMS.
    var sms: Int64 = 0
    /// Outbound messages that failed or were blocked.
    var failedSends: Int64 = 0
    var calls: Int64 = 0
    var callsSuccessful: Int64 = 0
    /// Failed, unanswered or busy.
    var callsFailed: Int64 = 0
    var bookings: Int64 = 0
    var cancellations: Int64 = 0
    var completed: Int64 = 0
    var noShows: Int64 = 0
    var leadsCreated: Int64 = 0
    var leadsConverted: Int64 = 0
    /// Converted over created that day, 0–1; nil when no lead came in.
    var conversionRate: Double? = nil
    var vouchersIssued: Int64 = 0
    var vouchersRedeemed: Int64 = 0
    /// The language models' cost, micro-USD.
    var llmCostMicros: Int64 = 0
    /// The providers' (SMS, WhatsApp) and the voice calls' costs, per currency, in minor units.
    var providerCostMinor: [String: Int64] = [:]

    /// The figures of `day` from each source's counts (a source absent: its figures stay 0).
    static func merge(day: String, own: [String: Int64], messaging: [String: Int64], calendar: [String: Int64], vouchers: [String: Int64])
        -> DailyFigures
    {
        var figures = DailyFigures(day: day)
        figures.conversations = messaging["conversations"] ?? 0
        for (key, count) in messaging {
            if key.hasPrefix("inbound.") { figures.messagesIn[String(key.dropFirst(8))] = count }
            if key.hasPrefix("outbound.") { figures.messagesOut[String(key.dropFirst(9))] = count }
            if key.hasPrefix("cost.") { figures.providerCostMinor[String(key.dropFirst(5)), default: 0] += count }
        }
        figures.sms = figures.messagesOut["sms"] ?? 0
        figures.failedSends = messaging["failed"] ?? 0
        figures.calls = own["calls"] ?? 0
        figures.callsSuccessful = own["calls.completed"] ?? 0
        figures.callsFailed = (own["calls.failed"] ?? 0) + (own["calls.no-answer"] ?? 0) + (own["calls.busy"] ?? 0)
        for (key, micros) in own where key.hasPrefix("callcost.") {
            // a call's cost is kept in millionths of its currency, the figures in its minor units (10^-exponent)
            let code = String(key.dropFirst(9))
            let digits = Currency(code: code)?.exponent ?? 2
            figures.providerCostMinor[code, default: 0] += micros / Self.power(6 - digits)
        }
        figures.bookings = calendar["booked"] ?? 0
        figures.cancellations = calendar["cancelled"] ?? 0
        figures.completed = calendar["completed"] ?? 0
        figures.noShows = calendar["no_show"] ?? 0
        figures.leadsCreated = own["leads.created"] ?? 0
        figures.leadsConverted = own["leads.converted"] ?? 0
        figures.conversionRate = figures.leadsCreated > 0 ? Double(figures.leadsConverted) / Double(figures.leadsCreated) : nil
        figures.vouchersIssued = vouchers["issued"] ?? 0
        figures.vouchersRedeemed = vouchers["redeemed"] ?? 0
        figures.llmCostMicros = own["llm.cost_micros"] ?? 0
        return figures
    }

    static func power(_ exponent: Int) -> Int64 {
        (0..<max(0, exponent)).reduce(1) { value, _ in value * 10 }
    }

    /// Each day's figures added up (the conversion rate over the whole range).
    static func total(_ days: [DailyFigures], label: String) -> DailyFigures {
        var total = DailyFigures(day: label)
        for day in days {
            total.conversations += day.conversations
            total.messagesIn.merge(day.messagesIn, uniquingKeysWith: +)
            total.messagesOut.merge(day.messagesOut, uniquingKeysWith: +)
            total.sms += day.sms
            total.failedSends += day.failedSends
            total.calls += day.calls
            total.callsSuccessful += day.callsSuccessful
            total.callsFailed += day.callsFailed
            total.bookings += day.bookings
            total.cancellations += day.cancellations
            total.completed += day.completed
            total.noShows += day.noShows
            total.leadsCreated += day.leadsCreated
            total.leadsConverted += day.leadsConverted
            total.vouchersIssued += day.vouchersIssued
            total.vouchersRedeemed += day.vouchersRedeemed
            total.llmCostMicros += day.llmCostMicros
            total.providerCostMinor.merge(day.providerCostMinor, uniquingKeysWith: +)
        }
        total.conversionRate = total.leadsCreated > 0 ? Double(total.leadsConverted) / Double(total.leadsCreated) : nil
        return total
    }

    static let csvHeader = [
        "day", "conversations", "messages_in", "messages_out", "sms", "failed_sends", "calls", "calls_successful", "calls_failed", "bookings",
        "cancellations", "completed", "no_shows", "leads_created", "leads_converted", "conversion_rate", "vouchers_issued", "vouchers_redeemed",
        "llm_cost_usd", "provider_costs",
    ]

    var csvFields: [String] {
        let rate = self.conversionRate.map { String(format: "%.4f", $0) } ?? ""
        let usd = "\(self.llmCostMicros / 1_000_000).\(String(format: "%06d", self.llmCostMicros % 1_000_000))"
        let provider = self.providerCostMinor.keys.sorted().map { code -> String in
            let minor = self.providerCostMinor[code]!
            return Currency(code: code).map { Money(minorUnits: minor, currency: $0).decimalString + " " + code } ?? "\(minor) \(code)"
        }.joined(separator: "; ")
        return [
            self.day, "\(self.conversations)", "\(self.messagesIn.values.reduce(0, +))", "\(self.messagesOut.values.reduce(0, +))", "\(self.sms)",
            "\(self.failedSends)", "\(self.calls)", "\(self.callsSuccessful)", "\(self.callsFailed)", "\(self.bookings)", "\(self.cancellations)",
            "\(self.completed)", "\(self.noShows)", "\(self.leadsCreated)", "\(self.leadsConverted)", rate, "\(self.vouchersIssued)",
            "\(self.vouchersRedeemed)", usd, provider,
        ]
    }
}
