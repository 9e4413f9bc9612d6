import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import ServiceKit

/// Token buckets per principal (user, API key, or client address when anonymous), sized by the tenant's plan.
/// Kept in memory: each gateway replica limits on its own.
final class RateLimiter: Sendable {
    struct Limit: Sendable, Equatable {
        var perSecond: Double
        var burst: Double
    }

    struct Decision: Sendable {
        var allowed: Bool
        var limit: Int
        var remaining: Int
        var resetSeconds: Int
        var retryAfterSeconds: Int
    }

    let enabled: Bool
    let scale: Double
    let buckets = NIOLockedValueBox<[String: (tokens: Double, updated: ContinuousClock.Instant)]>([:])

    init(enabled: Bool, scalePercent: Int) {
        self.enabled = enabled
        self.scale = Double(scalePercent) / 100
    }

    func limit(plan: Plan?, anonymous: Bool) -> Limit {
        let base: Limit =
            switch (anonymous, plan) {
            case (true, _): Limit(perSecond: 20, burst: 40)
            case (false, .lite?): Limit(perSecond: 20, burst: 40)
            case (false, .pro?): Limit(perSecond: 100, burst: 200)
            case (false, .enterprise?): Limit(perSecond: 500, burst: 1000)
            case (false, nil): Limit(perSecond: 200, burst: 400)  // platform staff
            }
        return Limit(perSecond: base.perSecond * self.scale, burst: max(1, (base.burst * self.scale).rounded()))
    }

    /// Takes one token from the principal's bucket.
    func take(_ principal: String, limit: Limit, now: ContinuousClock.Instant = .now) -> Decision {
        self.buckets.withLockedValue { buckets in
            var bucket = buckets[principal] ?? (limit.burst, now)
            let elapsed = (now - bucket.updated).seconds
            bucket.tokens = min(limit.burst, bucket.tokens + elapsed * limit.perSecond)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[principal] = bucket
            if buckets.count > 200_000 {
                // forget the idle: a full bucket is the same as no bucket
                buckets = buckets.filter { now - $0.value.updated < .seconds(60) }
            }
            return Decision(
                allowed: allowed, limit: Int(limit.burst), remaining: max(0, Int(bucket.tokens)),
                resetSeconds: Int(((limit.burst - bucket.tokens) / limit.perSecond).rounded(.up)),
                retryAfterSeconds: max(1, Int(((1 - bucket.tokens) / limit.perSecond).rounded(.up))))
        }
    }

    static func headers(_ decision: Decision) -> HTTPFields {
        var fields = HTTPFields()
        fields[HTTPField.Name("RateLimit-Limit")!] = String(decision.limit)
        fields[HTTPField.Name("RateLimit-Remaining")!] = String(decision.remaining)
        fields[HTTPField.Name("RateLimit-Reset")!] = String(decision.resetSeconds)
        return fields
    }
}
