import Contracts
import Foundation
import Models
import ServiceKit
import TestSupport
import Testing

@testable import Messaging

/// A message the policy holds (`queued_throttled`) is not dropped: the running service sends it by itself once
/// the throttle's window or the recipient's quiet hours are over. Each hold here ends at the next minute, so the
/// test waits a minute at most.
@Suite(.serialized) struct HeldMessageTests {
    struct Send: Encodable {
        var to: String
        var text: String
    }

    static func put(_ settings: MessagingSettings, _ p: MessagingFlowTests.Platform, token: String) async throws {
        let put = try await TestHTTP.request(.PUT, "\(p.gateway)/v1/messaging/settings", token: token, body: try JSONEncoder.sokoni.encode(settings))
        #expect(put.status == 200, "\(put.text)")
    }

    static func send(_ p: MessagingFlowTests.Platform, to: String, token: String) async throws -> String {
        let sent = try await p.post("/v1/messages", Send(to: to, text: "Your voucher is ready"), token: token)
        #expect(sent.status == 202, "\(sent.text)")
        return try #require(try sent.json(MessagingAPI.Receipt.self).id)
    }

    static func message(_ p: MessagingFlowTests.Platform, _ id: String, token: String) async throws -> MessageDTO {
        try await p.get("/v1/messages/\(id)", token: token).json(MessageDTO.self)
    }

    /// Waits, if need be, so that at least `seconds` remain in the current minute: the holds below end at the next one.
    static func atLeast(_ seconds: Int, leftInMinute now: () -> Date = Date.init) async throws {
        let second = Int(now().timeIntervalSince1970) % 60
        if 60 - second < seconds { try await Task.sleep(for: .seconds(60 - second + 1)) }
    }

    @Test func heldByTheThrottleOrByQuietHoursAMessageGoesOutWhenAllowed() async throws {
        try await MessagingFlowTests.with { p in
            // this tenant: one sandbox send a minute
            var throttled = MessagingSettings.defaults
            throttled.quietHours = [:]
            throttled.sendThrottle.perMinute["sandbox"] = 1
            try await Self.put(throttled, p, token: p.admin)
            // the other tenant: quiet hours in Rwanda from this minute to the next, local time
            let other = p.otherAdmin
            var kigali = Calendar(identifier: .gregorian)
            kigali.timeZone = TimeZone(identifier: "Africa/Kigali")!

            try await Self.atLeast(25, leftInMinute: Date.init)
            let now = Date()
            let local = kigali.dateComponents([.hour, .minute], from: now)
            let start = local.hour! * 60 + local.minute!
            let end = (start + 1) % (24 * 60)
            func hhmm(_ minute: Int) -> String { String(format: "%02d:%02d", minute / 60, minute % 60) }
            var quiet = MessagingSettings.defaults
            quiet.quietHours = ["RW": .init(start: hhmm(start), end: hhmm(end))]
            try await Self.put(quiet, p, token: other)
            let nextMinute = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)

            let first = try await Self.send(p, to: "+250788200001", token: p.admin)
            let second = try await Self.send(p, to: "+250788200002", token: p.admin)
            let night = try await Self.send(p, to: "+250788300001", token: other)
            // a number outside Rwanda is not in quiet hours there: it goes at once
            let abroad = try await Self.send(p, to: "+254712300001", token: other)

            var held: [String: MessageDTO] = [:]
            let settled = try await TestWait.until(timeout: .seconds(15)) {
                let states = [
                    try await Self.message(p, first, token: p.admin), try await Self.message(p, second, token: p.admin),
                    try await Self.message(p, night, token: other), try await Self.message(p, abroad, token: other),
                ]
                held = Dictionary(uniqueKeysWithValues: states.filter { $0.status == .queuedThrottled }.map { ($0.id.description, $0) })
                return states.filter { $0.status == .sent }.count == 2 && held.count == 2
            }
            #expect(settled, "one of this tenant's two and the Rwandan number in the other's quiet hours are held, the rest sent")
            #expect(held[night] != nil)
            #expect(try await Self.message(p, abroad, token: other).status == .sent)
            let throttledID = try #require(held.keys.first { $0 != night })
            let heldByThrottle = try #require(held[throttledID])
            #expect(heldByThrottle.statusReason?.contains("Throttled") == true, "\(heldByThrottle.statusReason ?? "")")
            #expect(heldByThrottle.holdUntil == nextMinute)
            let heldByNight = try #require(held[night])
            #expect(heldByNight.statusReason?.contains("Quiet hours in RW") == true, "\(heldByNight.statusReason ?? "")")
            #expect(heldByNight.holdUntil == nextMinute)
            #expect(Date() < nextMinute, "the holds were seen before they ended")

            // nobody does anything: when the minute turns, both go out, once each
            let released = try await TestWait.until(timeout: .seconds(90), every: .milliseconds(250)) {
                let throttled = try await Self.message(p, throttledID, token: p.admin).status
                let quiet = try await Self.message(p, night, token: other).status
                return throttled == .sent && quiet == .sent
            }
            #expect(released, "the held messages were sent when allowed")
            for (id, token) in [(throttledID, p.admin), (night, other)] {
                let message = try await Self.message(p, id, token: token)
                #expect(message.holdUntil == nil)
                #expect(message.history?.map(\.status) == ["sent"])
                let sentAt = try #require(message.history?.first?.occurredAt)
                #expect(sentAt >= nextMinute, "sent at \(sentAt), allowed from \(nextMinute)")
            }
            let outbox = try await p.get("/v1/sandbox/outbox").json(Page<OutboxEntry>.self).items
            #expect(outbox.map(\.to).sorted() == ["+250788200001", "+250788200002"])
            let theirs = try await p.get("/v1/sandbox/outbox", token: other).json(Page<OutboxEntry>.self).items
            #expect(theirs.map(\.to).sorted() == ["+250788300001", "+254712300001"])
        }
    }
}
