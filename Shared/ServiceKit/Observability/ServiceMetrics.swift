import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// Prometheus metrics of one service, in a registry of its own (several services may share a test process).
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// The collectors per method, route and status, looked up once: this runs on every request.
    let collectors = NIOLockedValueBox<[String: (Counter, DurationHistogram)]>([:])

    public init() {}

    public func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        let key = "\(method) \(route) \(status)"
        let (counter, histogram) = self.collectors.withLockedValue { collectors in
            if let found = collectors[key] { return found }
            let made = (
                self.registry.makeCounter(name: "http_requests_total", labels: [("method", method), ("route", route), ("status", String(status))]),
                self.registry.makeDurationHistogram(
                    name: "http_request_duration_seconds", labels: [("method", method), ("route", route)], buckets: Self.buckets)
            )
            collectors[key] = made
            return made
        }
        counter.increment()
        histogram.record(duration)
    }

    public func setJobCounts(_ counts: [String: Int]) {
        for (status, count) in counts {
            self.registry.makeGauge(name: "jobs", labels: [("state", status)]).set(Double(count))
        }
    }

    public func render() -> String {
        self.registry.emitToString()
    }
}
