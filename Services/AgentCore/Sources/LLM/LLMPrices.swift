import Foundation

/// What each (provider, model) costs, in micro-USD per million tokens, so a turn's cost is exact integer arithmetic.
/// Read from JSON (the service keeps it in the database), so a price change needs no deploy:
///
///     {"prices": [{"provider": "openai", "model": "gpt-4o-mini",
///                  "inputPerMillion": 150000, "cachedInputPerMillion": 75000, "outputPerMillion": 600000}]}
struct LLMPrices: Sendable, Equatable, Codable {
    struct Price: Sendable, Equatable, Codable {
        var provider: String
        var model: String
        /// Micro-USD per million prompt tokens not read from the cache ($0.15 is 150000).
        var inputPerMillion: Int64
        /// Micro-USD per million cached prompt tokens; absent, they cost what other prompt tokens do.
        var cachedInputPerMillion: Int64?
        var outputPerMillion: Int64
    }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    var prices: [Price]

    init(prices: [Price]) throws {
        for price in prices where price.inputPerMillion < 0 || price.outputPerMillion < 0 || (price.cachedInputPerMillion ?? 0) < 0 {
            throw Invalid(description: "The price of \(price.provider)/\(price.model) is negative.")
        }
        let keys = prices.map { "\($0.provider)/\($0.model)" }
        if let twice = keys.first(where: { key in keys.filter { $0 == key }.count > 1 }) {
            throw Invalid(description: "\(twice) is priced twice.")
        }
        self.prices = prices
    }

    init(from decoder: any Decoder) throws {
        enum Keys: String, CodingKey { case prices }
        let container = try decoder.container(keyedBy: Keys.self)
        do {
            try self.init(prices: try container.decode([Price].self, forKey: .prices))
        } catch let invalid as Invalid {
            throw DecodingError.dataCorruptedError(forKey: .prices, in: container, debugDescription: invalid.description)
        }
    }

    init(json: Data) throws {
        self = try JSONDecoder().decode(LLMPrices.self, from: json)
    }

    /// The provider that prices a model whoever serves it (the database's `agent.llm_prices.provider` default).
    static let anyProvider = "*"

    /// The list prices the price table starts from (`Migrations/agent/0004_…` inserts the same rows, in force from the
    /// epoch; a test keeps the two equal). Micro-USD per million tokens, for any provider serving the model.
    static let defaults = try! LLMPrices(prices: [
        Price(provider: anyProvider, model: "gpt-4o-mini", inputPerMillion: 150_000, cachedInputPerMillion: 75_000, outputPerMillion: 600_000),
        Price(provider: anyProvider, model: "gpt-4o", inputPerMillion: 2_500_000, cachedInputPerMillion: 1_250_000, outputPerMillion: 10_000_000),
        Price(provider: anyProvider, model: "gpt-4.1", inputPerMillion: 2_000_000, cachedInputPerMillion: 500_000, outputPerMillion: 8_000_000),
        Price(provider: anyProvider, model: "gpt-4.1-mini", inputPerMillion: 400_000, cachedInputPerMillion: 100_000, outputPerMillion: 1_600_000),
        Price(provider: anyProvider, model: "gpt-4.1-nano", inputPerMillion: 100_000, cachedInputPerMillion: 25_000, outputPerMillion: 400_000),
        Price(provider: anyProvider, model: "text-embedding-3-small", inputPerMillion: 20_000, cachedInputPerMillion: nil, outputPerMillion: 0),
        Price(provider: anyProvider, model: "gemini-2.0-flash", inputPerMillion: 100_000, cachedInputPerMillion: 25_000, outputPerMillion: 400_000),
        Price(provider: anyProvider, model: "llama-3.1-8b-instant", inputPerMillion: 50_000, cachedInputPerMillion: nil, outputPerMillion: 80_000),
    ])

    /// The model's price; providers answer with a dated snapshot ("gpt-4o-mini-2024-07-18"), priced as its family
    /// ("gpt-4o-mini", the longest priced name it starts with) unless the table names the snapshot itself. A price
    /// for the provider itself wins over one for any provider (`*`).
    func price(provider: String, model: String) -> Price? {
        for name in [provider, Self.anyProvider] {
            let priced = self.prices.filter { $0.provider == name }
            if let exact = priced.first(where: { $0.model == model }) { return exact }
            if let family = priced.filter({ model.hasPrefix($0.model + "-") }).max(by: { $0.model.count < $1.model.count }) { return family }
        }
        return nil
    }

    /// What `usage` cost at the provider's price for the model, in micro-USD (rounded up: a turn is never free by
    /// rounding); nil when the table has no price for it (unknown is not free) or the sum would overflow.
    func cost(of usage: TokenUsage, provider: String, model: String) -> Int64? {
        guard let price = self.price(provider: provider, model: model) else { return nil }
        let cached = Int64(max(0, min(usage.cached, usage.input)))
        let uncached = Int64(max(0, usage.input)) - cached
        let terms = [
            (uncached, price.inputPerMillion), (cached, price.cachedInputPerMillion ?? price.inputPerMillion),
            (Int64(max(0, usage.output)), price.outputPerMillion),
        ]
        var total: Int64 = 0
        for (tokens, perMillion) in terms {
            let (product, overflow) = tokens.multipliedReportingOverflow(by: perMillion)
            guard !overflow else { return nil }
            let (sum, overflowed) = total.addingReportingOverflow(product)
            guard !overflowed else { return nil }
            total = sum
        }
        return total / 1_000_000 + (total % 1_000_000 > 0 ? 1 : 0)
    }

    /// What an answer cost, at the price of the provider and model that gave it.
    func cost(of response: ChatResponse) -> Int64? {
        self.cost(of: response.usage, provider: response.provider, model: response.model)
    }
}
