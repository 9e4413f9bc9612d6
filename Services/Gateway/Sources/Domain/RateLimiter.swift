import Foundation
import HTTPTypes
import NIOConcurrencyHelpers
import ServiceKit

/// Token buckets per principal (user, API key, or client address when anonymous), sized by the tenant's plan, kept
/// in memory so a request never waits for the database. With replicas, each counts what it let through
/// (`drainUsage`) and takes what the others let through off its own buckets (`debit`, fed by `RateLimitSharing`
/// every few hundred milliseconds): the buckets of all replicas follow one shared bucket, a moment late.
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

    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
        /// Let through here since the last `drainUsage`.
        var used: Int = 0
    }

    let enabled: Bool
    let scale: Double
    let buckets = NIOLockedValueBox<[String: Bucket]>([:])
    /// What other replicas let through for principals this one has no bucket for yet: taken off a new bucket.
    let debts = NIOLockedValueBox<[String: (count: Int, at: ContinuousClock.Instant)]>([:])

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
            var bucket: Bucket
            if let known = buckets[principal] {
                bucket = known
            } else {
                // a new bucket starts full, less what other replicas let through lately (refilled since)
                let debt = self.debts.withLockedValue { $0.removeValue(forKey: principal) }
                let owed = debt.map { max(0, Double($0.count) - (now - $0.at).seconds * limit.perSecond) } ?? 0
                bucket = Bucket(tokens: max(-limit.burst, limit.burst - owed), updated: now)
            }
            let elapsed = (now - bucket.updated).seconds
            bucket.tokens = min(limit.burst, bucket.tokens + elapsed * limit.perSecond)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed {
                bucket.tokens -= 1
                bucket.used += 1
            }
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

    /// What this replica let through per principal since the last call.
    func drainUsage() -> [String: Int] {
        self.buckets.withLockedValue { buckets in
            var usage: [String: Int] = [:]
            for (principal, bucket) in buckets where bucket.used > 0 {
                usage[principal] = bucket.used
                buckets[principal]?.used = 0
            }
            return usage
        }
    }

    /// Puts back usage that could not be shared, for the next exchange.
    func restore(_ usage: [String: Int]) {
        self.buckets.withLockedValue { buckets in
            for (principal, count) in usage where buckets[principal] != nil { buckets[principal]!.used += count }
        }
    }

    /// Takes what other replicas let through off this one's buckets (a bucket may go below zero, down to minus its
    /// burst: it then refills for longer, as the shared bucket would).
    func debit(_ usage: [String: Int], now: ContinuousClock.Instant = .now) {
        guard !usage.isEmpty else { return }
        let unknown = self.buckets.withLockedValue { buckets -> [String: Int] in
            var unknown: [String: Int] = [:]
            for (principal, count) in usage {
                if buckets[principal] != nil {
                    buckets[principal]!.tokens -= Double(count)
                    // the floor: a bucket never owes more than a burst's worth (the largest burst is 1000 × scale)
                    buckets[principal]!.tokens = max(buckets[principal]!.tokens, -1000 * self.scale)
                } else {
                    unknown[principal] = count
                }
            }
            return unknown
        }
        guard !unknown.isEmpty else { return }
        self.debts.withLockedValue { debts in
            for (principal, count) in unknown { debts[principal] = ((debts[principal]?.count ?? 0) + count, now) }
            // a debt older than a burst's refill is paid: forget it
            if debts.count > 10_000 { debts = debts.filter { now - $0.value.at < .seconds(60) } }
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
