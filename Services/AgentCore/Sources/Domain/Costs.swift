// Domain: LLM costs, prices, spend caps and provider settings; their rules, no I/O (docs/CONTRIBUTING.md).
import Foundation
import Models
import ServiceKit

/// How a reply may use the language models this month, decided before any call.
public enum SpendMode: String, Codable, Sendable, Comparable {
    /// Below every cap: the configured model.
    case normal
    /// Near a cap (≥ 80%): the cheap model (or the fallback provider when none is configured).
    case cheap
    /// At a cap, or the reply would pass it: the offline responder, no call.
    case offline

    static let order: [SpendMode] = [.normal, .cheap, .offline]
    public static func < (lhs: SpendMode, rhs: SpendMode) -> Bool { order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)! }
}

/// One cap that applies to a reply: the tenant's (its providers settings) or the agent's (its policy).
struct SpendScope: Sendable, Equatable {
    /// `tenant`, or the agent's id.
    var scope: String
    var capMicros: Int64
    /// Recorded this month plus what replies in flight reserved.
    var committedMicros: Int64
}

struct SpendDecision: Sendable, Equatable {
    var mode: SpendMode
    /// The thresholds (percent) reached, per scope: what to alert once each.
    var reached: [(scope: String, threshold: Int, cap: Int64, committed: Int64)]

    static func == (lhs: SpendDecision, rhs: SpendDecision) -> Bool {
        lhs.mode == rhs.mode && lhs.reached.map { "\($0.scope)/\($0.threshold)" } == rhs.reached.map { "\($0.scope)/\($0.threshold)" }
    }
}

enum SpendRules {
    /// Near the cap from here (percent of it).
    static let nearPercent: Int64 = 80
    /// The longest answer a reply asks of a model, in tokens: what bounds a call's cost before it is made.
    static let maxOutputTokens = 512
    /// How long a reservation counts if its reply never settles it (a crash).
    static let reservationLifetime: TimeInterval = 300

    /// The mode of one scope, given what a reply at each mode would cost at most (its reservation).
    static func mode(capMicros cap: Int64, committed: Int64, estimate: (SpendMode) -> Int64) -> SpendMode {
        if committed >= cap { return .offline }
        let near = committed.multipliedReportingOverflow(by: 100).partialValue >= cap.multipliedReportingOverflow(by: nearPercent).partialValue
        let mode: SpendMode = near ? .cheap : .normal
        // never past the cap: a reply that might not fit is not started
        let (total, overflow) = committed.addingReportingOverflow(estimate(mode))
        return overflow || total > cap ? .offline : mode
    }

    /// The strictest mode of every scope, and the thresholds each one reached (100 at the cap, 80 near it).
    static func decide(_ scopes: [SpendScope], estimate: (SpendMode) -> Int64) -> SpendDecision {
        var mode = SpendMode.normal
        var reached: [(scope: String, threshold: Int, cap: Int64, committed: Int64)] = []
        for scope in scopes {
            let own = Self.mode(capMicros: scope.capMicros, committed: scope.committedMicros, estimate: estimate)
            mode = max(mode, own)
            // near the cap is 80; at it (or a reply no longer fits) is 100, and 80 with it (a jump past both)
            if own >= .cheap { reached.append((scope.scope, 80, scope.capMicros, scope.committedMicros)) }
            if own == .offline { reached.append((scope.scope, 100, scope.capMicros, scope.committedMicros)) }
        }
        return SpendDecision(mode: mode, reached: reached)
    }

    /// The most a reply may cost at a price: every round its whole prompt (about a token per three characters,
    /// generous for non-Latin scripts) and the longest answer; 0 when the model has no price (it cannot be bounded).
    static func estimate(promptCharacters: Int, rounds: Int, price: LLMPrices.Price?) -> Int64 {
        guard let price else { return 0 }
        let input = Int64(promptCharacters / 3 + 300)
        let perRound = (input * price.inputPerMillion + Int64(Self.maxOutputTokens) * price.outputPerMillion + 999_999) / 1_000_000
        return perRound * Int64(max(1, rounds))
    }

    /// The first day of the UTC month of an instant.
    static func month(of date: Date) -> Date {
        Day.calendar.date(from: Day.calendar.dateComponents([.year, .month], from: date))!
    }

    /// The providers a reply asks in a mode: near the cap each provider's cheap model; when none has one, the
    /// fallbacks only (the first provider is the one chosen for quality); with one provider and no cheap model, it.
    static func providers(_ specs: [ProviderSpec], mode: SpendMode) -> [ProviderSpec] {
        guard mode == .cheap else { return specs }
        if specs.contains(where: { $0.cheapModel != nil }) {
            return specs.map { spec in
                var cheap = spec
                cheap.model = spec.cheapModel ?? spec.model
                return cheap
            }
        }
        return specs.count > 1 ? Array(specs.dropFirst()) : specs
    }

    /// How close a tenant is to its cap, for the console: percent used (nil without a cap) and the mode.
    static func status(capMicros: Int64?, spentMicros: Int64) -> (percent: Double?, mode: SpendMode) {
        guard let cap = capMicros else { return (nil, .normal) }
        guard cap > 0 else { return (100, .offline) }
        let percent = (Double(spentMicros) / Double(cap) * 1000).rounded() / 10
        return (percent, spentMicros >= cap ? .offline : percent >= Double(Self.nearPercent) ? .cheap : .normal)
    }
}

/// One OpenAI-compatible provider a reply may ask: the platform's (from settings) or a tenant's (its API key opened).
struct ProviderSpec: Sendable, Equatable {
    var name: String
    var baseURL: String
    var apiKey: String?
    var model: String
    var cheapModel: String?
}

// MARK: prices

public struct PriceDTO: Codable, Sendable, Equatable {
    public var provider: String
    public var model: String
    public var inputPerMillion: Int64
    public var cachedInputPerMillion: Int64?
    public var outputPerMillion: Int64
    public var effectiveFrom: Date
    /// Whether this is the price in force now for its provider and model.
    public var current: Bool
    public var createdBy: String
}

public struct PricesPage: Codable, Sendable, Equatable {
    public var items: [PriceDTO]
}

public struct NewPrice: Codable, Sendable {
    public var provider: String?
    public var model: String
    public var inputPerMillion: Int64
    public var cachedInputPerMillion: Int64?
    public var outputPerMillion: Int64
    /// From when it applies; now when absent. Recorded calls keep the price they were made at.
    public var effectiveFrom: Date?
}

public struct PutPrices: Codable, Sendable {
    public var prices: [NewPrice]
}

// MARK: costs

public enum CostGroup: String, Codable, Sendable, CaseIterable { case day, model, agent, provider }

public struct CostRow: Codable, Sendable, Equatable {
    /// The day (`YYYY-MM-DD`), model, agent id or provider this row sums.
    public var key: String
    public var calls: Int
    public var failedCalls: Int
    public var fallbackCalls: Int
    public var inputTokens: Int64
    public var cachedTokens: Int64
    public var outputTokens: Int64
    public var costMicros: Int64
    /// Calls whose model has no price (their cost is unknown, not zero).
    public var unpricedCalls: Int
}

public struct CostSeries: Codable, Sendable, Equatable {
    public var day: String
    /// `model` or `agent`
    public var by: String
    public var key: String
    public var costMicros: Int64
}

public struct SpendAlertDTO: Codable, Sendable, Equatable {
    public var month: String
    /// `tenant` or an agent's id.
    public var scope: String
    public var threshold: Int
    public var capMicros: Int64
    public var spentMicros: Int64
    public var createdAt: Date
}

public struct SpendStatus: Codable, Sendable, Equatable {
    /// The UTC month (`YYYY-MM`) the cap counts.
    public var month: String
    public var capMicros: Int64?
    public var spentMicros: Int64
    /// Of the cap, 0–100 and beyond; nil without a cap.
    public var percent: Double?
    /// What replies get now: `normal`, `cheap` (near the cap) or `offline` (at it).
    public var mode: SpendMode
}

public struct CostsReport: Codable, Sendable, Equatable {
    public var tenantId: String?
    public var from: String
    public var to: String
    public var groupBy: CostGroup
    public var rows: [CostRow]
    public var totals: CostRow
    /// Spend per day by model and by agent, for the console's chart.
    public var series: [CostSeries]
    public var cap: SpendStatus?
    public var alerts: [SpendAlertDTO]
}

enum CostsCSV {
    /// The report's rows as CSV (RFC 4180, CRLF), costs in micro-USD and in USD, then the totals.
    static func render(_ report: CostsReport) -> String {
        var lines = ["\(report.groupBy.rawValue),calls,failed_calls,fallback_calls,input_tokens,cached_tokens,output_tokens,cost_micros,cost_usd"]
        for row in report.rows + [report.totals] {
            lines.append(
                [
                    CSVField.escape(row.key), String(row.calls), String(row.failedCalls), String(row.fallbackCalls), String(row.inputTokens),
                    String(row.cachedTokens), String(row.outputTokens), String(row.costMicros), Self.usd(row.costMicros),
                ].joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Micro-USD as dollars with six decimals, exactly (no floating point).
    static func usd(_ micros: Int64) -> String {
        let sign = micros < 0 ? "-" : ""
        let magnitude = micros.magnitude
        let fraction = String(magnitude % 1_000_000)
        return "\(sign)\(magnitude / 1_000_000).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }
}

// MARK: providers

public struct ProviderDTO: Codable, Sendable, Equatable {
    public var name: String
    public var baseUrl: String
    public var model: String
    public var cheapModel: String?
    public var hasApiKey: Bool
    /// The key's last four characters (`…abcd`); the key itself is never returned.
    public var apiKeyHint: String?
}

public struct ProvidersConfigDTO: Codable, Sendable, Equatable {
    /// Whether the tenant configured its own providers (otherwise the platform's answer).
    public var configured: Bool
    /// The tenant's monthly cap over all its agents, micro-USD; nil: none.
    public var monthlyCapMicros: Int64?
    /// In fallback order.
    public var providers: [ProviderDTO]
    public var updatedAt: Date?
}

public struct NewProvider: Codable, Sendable {
    public var name: String
    public var baseUrl: String
    public var model: String
    public var cheapModel: String?
    /// Write-only. Absent: the key the provider of this name already has is kept.
    public var apiKey: String?
    /// True: the provider's key is removed (a local server that wants none).
    public var clearApiKey: Bool?
}

public struct PutProviders: Codable, Sendable {
    public var monthlyCapMicros: Int64?
    /// In fallback order; empty: the platform's providers answer (the cap still applies).
    public var providers: [NewProvider]
}

enum ProviderRules {
    static let maxProviders = 5
    /// $1,000,000 a month: beyond it is a typo.
    static let maxCapMicros: Int64 = 1_000_000_000_000

    static func check(_ body: PutProviders, allowPrivateHosts: Bool) throws {
        if let cap = body.monthlyCapMicros, !(0...Self.maxCapMicros).contains(cap) {
            throw APIError.unprocessable("invalid_cap", "monthlyCapMicros is 0 to \(Self.maxCapMicros) (micro-USD).")
        }
        guard body.providers.count <= Self.maxProviders else {
            throw APIError.unprocessable("too_many_providers", "At most \(Self.maxProviders) providers.")
        }
        var names: Set<String> = []
        for provider in body.providers {
            guard Self.isName(provider.name) else {
                throw APIError.unprocessable("invalid_provider_name", "A provider's name is 1 to 40 of a-z, 0-9, - and _, starting with a letter or digit.")
            }
            guard names.insert(provider.name).inserted else {
                throw APIError.unprocessable("duplicate_provider", "Two providers are named \(provider.name).")
            }
            try TextRules.check(provider.model, field: "model", length: 1...120)
            try TextRules.check(provider.cheapModel, field: "cheapModel", length: 1...120)
            if let key = provider.apiKey {
                guard (8...400).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline && $0 != "\0" }) else {
                    throw APIError.unprocessable("invalid_api_key", "apiKey is 8 to 400 printable ASCII characters without spaces.")
                }
            }
            try Self.checkURL(provider.baseUrl, allowPrivateHosts: allowPrivateHosts)
        }
    }

    /// An `https` URL of a public host (a tenant must not make agent-core call the platform's own network);
    /// `http` and private hosts only where the service allows them (a lab, the tests).
    static func checkURL(_ text: String, allowPrivateHosts: Bool) throws {
        let invalid = APIError.unprocessable("invalid_base_url", "baseUrl is an https URL of the provider's API, such as https://api.openai.com/v1.")
        guard text.unicodeScalars.count <= 500, !TextRules.containsNUL(text), let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            let host = url.host?.lowercased(), !host.isEmpty, url.user == nil, url.password == nil, url.query == nil, url.fragment == nil
        else { throw invalid }
        if allowPrivateHosts {
            guard scheme == "https" || scheme == "http" else { throw invalid }
            return
        }
        guard scheme == "https", !Self.isPrivate(host) else {
            throw APIError.unprocessable("invalid_base_url", "baseUrl must be an https URL of a public host.")
        }
    }

    static func isPrivate(_ host: String) -> Bool {
        let host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host.hasSuffix(".localhost") || host.hasSuffix(".local") || host.hasSuffix(".internal") || !host.contains(".") {
            return true
        }
        if host.contains(":") { return true }  // IPv6 literals: loopback, link-local, unique-local; refuse them all
        let octets = host.split(separator: ".").compactMap { Int($0) }
        guard octets.count == 4, host.split(separator: ".").count == 4 else { return false }
        switch (octets[0], octets[1]) {
        case (10, _), (127, _), (0, _), (169, 254), (192, 168), (100, 64...127): return true
        case (172, 16...31): return true
        default: return octets[0] >= 224
        }
    }

    /// 1 to 40 of a-z, 0-9, `-` and `_`, starting with a letter or digit (what `agent.tenant_providers` allows).
    static func isName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func allowed(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F }
        guard let first = bytes.first, (1...40).contains(bytes.count), first != 0x2D, first != 0x5F else { return false }
        return bytes.allSatisfy(allowed)
    }

    /// What is shown of a key: its last four characters.
    static func hint(_ key: String) -> String { "…" + String(key.suffix(4)) }
}
