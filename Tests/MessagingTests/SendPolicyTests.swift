import Foundation
import Models
import ServiceKit
import Testing

@testable import Messaging

/// The one send policy, branch by branch, with real time zones.
struct SendPolicyTests {
    static func date(_ text: String) -> Date { try! Date.ISO8601FormatStyle().parse(text) }

    static func input(
        kind: ChannelKind = .sms, optedOut: Bool = false, template: Bool = false, lastInbound: Date? = nil, country: String? = "RW", now: Date,
        settings: MessagingSettings = .defaults
    ) -> SendPolicy.Input {
        .init(kind: kind, optedOut: optedOut, isTemplate: template, lastInboundAt: lastInbound, country: country, settings: settings, now: now)
    }

    @Test func anOptOutBlocksFirstWhateverElseHolds() {
        let decision = SendPolicy.decide(Self.input(kind: .whatsapp, optedOut: true, now: Self.date("2026-12-02T21:00:00Z")))
        guard case .block(let code, _) = decision else {
            Issue.record("\(decision)")
            return
        }
        #expect(code == "opted_out")
    }

    @Test func whatsAppFreeFormOnlyInsideTheTwentyFourHourWindow() {
        let now = Self.date("2026-12-02T10:00:00Z")
        let inside = SendPolicy.decide(Self.input(kind: .whatsapp, lastInbound: now.addingTimeInterval(-23 * 3600), now: now))
        #expect(inside == .send)
        let outside = SendPolicy.decide(Self.input(kind: .whatsapp, lastInbound: now.addingTimeInterval(-25 * 3600), now: now))
        guard case .block(let code, _) = outside else {
            Issue.record("\(outside)")
            return
        }
        #expect(code == "outside_window")
        #expect(SendPolicy.decide(Self.input(kind: .whatsapp, template: true, lastInbound: nil, now: now)) == .send)
        // SMS has no window
        #expect(SendPolicy.decide(Self.input(kind: .sms, lastInbound: nil, now: now)) == .send)
    }

    @Test func quietHoursAreTheRecipientsLocalNightAcrossMidnight() {
        // 21:30 UTC is 23:30 in Kigali (UTC+2): held until 06:00 Kigali, 04:00 UTC the next day
        let late = SendPolicy.decide(Self.input(now: Self.date("2026-12-02T21:30:00Z")))
        #expect(late == .hold(until: Self.date("2026-12-03T04:00:00Z"), reason: "Quiet hours in RW (22:00–06:00 local time) until 06:00."))
        // 02:00 UTC is 04:00 in Kigali: held until 04:00 UTC the same day
        guard case .hold(let until, _) = SendPolicy.decide(Self.input(now: Self.date("2026-12-03T02:00:00Z"))) else {
            Issue.record("not held")
            return
        }
        #expect(until == Self.date("2026-12-03T04:00:00Z"))
        // 19:30 UTC is 21:30 in Kigali: not quiet yet
        #expect(SendPolicy.decide(Self.input(now: Self.date("2026-12-02T19:30:00Z"))) == .send)
        // the same instant is daytime for a French number
        #expect(SendPolicy.decide(Self.input(country: "FR", now: Self.date("2026-12-02T21:30:00Z"))) == .send)
        // a reply to a customer who just wrote goes out at night
        let now = Self.date("2026-12-02T21:30:00Z")
        #expect(SendPolicy.decide(Self.input(lastInbound: now.addingTimeInterval(-300), now: now)) == .send)
    }

    @Test func quietHoursFollowDaylightSavingInSantiago() {
        var settings = MessagingSettings.defaults
        settings.quietHours = ["CL": .init(start: "22:00", end: "07:00")]
        // Chile left daylight saving on 2026-04-05 (UTC−3 → UTC−4); the night of 4 April ends at 07:00 UTC−4 = 11:00 UTC
        guard case .hold(let until, _) = SendPolicy.decide(Self.input(country: "CL", now: Self.date("2026-04-05T03:30:00Z"), settings: settings))
        else {
            Issue.record("not held")
            return
        }
        #expect(until == Self.date("2026-04-05T11:00:00Z"))
        // in December (UTC−3) the same local 07:00 is 10:00 UTC
        guard case .hold(let summer, _) = SendPolicy.decide(Self.input(country: "CL", now: Self.date("2026-12-02T03:30:00Z"), settings: settings))
        else {
            Issue.record("not held")
            return
        }
        #expect(summer == Self.date("2026-12-02T10:00:00Z"))
    }

    @Test func settingsThatCannotWorkAreRefused() {
        var settings = MessagingSettings.defaults
        settings.quietHours = ["Rwanda": .init(start: "22:00", end: "06:00")]
        #expect(settings.problem != nil)
        settings.quietHours = ["RW": .init(start: "25:00", end: "06:00")]
        #expect(settings.problem != nil)
        settings.quietHours = ["RW": .init(start: "٢٢:00", end: "06:00")]
        #expect(settings.problem != nil)
        settings.quietHours = [:]
        settings.sendThrottle.perMinute = ["fax": 10]
        #expect(settings.problem != nil)
        #expect(MessagingSettings.defaults.problem == nil)
    }

    @Test func sealedSecretsOpenWithTheirKeyAndRotate() throws {
        let old = try SecretBox(configuration: "k1:" + Data(repeating: 1, count: 32).base64EncodedString(), key: "TEST")
        let sealed = try old.seal(Array("EAAG-secret".utf8))
        #expect(sealed.keyID == "k1")
        #expect(!sealed.bytes.isEmpty && String(decoding: sealed.bytes, as: UTF8.self).contains("EAAG") == false)
        // a new key first: new values use it, old ones still open
        let rotated = try SecretBox(
            configuration: "k2:" + Data(repeating: 2, count: 32).base64EncodedString() + ",k1:" + Data(repeating: 1, count: 32).base64EncodedString(),
            key: "TEST")
        #expect(try rotated.open(sealed) == Array("EAAG-secret".utf8))
        #expect(try rotated.seal([1, 2, 3]).keyID == "k2")
        var tampered = sealed
        tampered.bytes[tampered.bytes.count - 1] ^= 1
        #expect(throws: SecretBox.Failure.self) { try rotated.open(tampered) }
        #expect(throws: ConfigurationError.self) { try SecretBox(configuration: "k1:short", key: "TEST") }
    }

    @Test(arguments: [
        ("STOP", OptOutKeywords.Intent.optOut), ("stop!", .optOut), ("Acha", .optOut), ("SITISHA.", .optOut), ("Hagarika", .optOut),
        ("arrêter", .optOut), ("START", .optIn), ("anza", .optIn), ("tangira", .optIn),
    ])
    func optOutWordsInFourLanguages(text: String, intent: OptOutKeywords.Intent) {
        #expect(OptOutKeywords.intent(of: text)?.intent == intent)
    }

    @Test func aSentenceWithStopInItIsNotAnOptOut() {
        #expect(OptOutKeywords.intent(of: "please don't stop sending offers") == nil)
        #expect(OptOutKeywords.intent(of: "acha nikuambie bei") == nil)
        #expect(OptOutKeywords.intent(of: "basi", extra: ["basi"])?.intent == .optOut)
    }

    @Test(arguments: [
        ("Habari, nataka kujua bei ya mafuta leo", LanguageCode.sw), ("Asante sana kwa huduma yako", .sw),
        ("Niaje msee, hii offer bado iko fiti?", .sheng), ("Mambo vipi buda, ganji iko?", .sheng),
        ("Muraho, ndashaka kumenya igiciro cya lisansi", .rw), ("Murakoze cyane", .rw),
        ("Bonjour, je voudrais acheter un bon de carburant", .fr), ("Merci beaucoup pour votre aide", .fr),
        ("Hi, how much is the voucher?", .en), ("Is my fuel voucher still valid today?", .en),
    ])
    func theDetectorKnowsRealSentences(text: String, language: LanguageCode) throws {
        let detected = try #require(LanguageDetector.detect(text))
        #expect(detected.language == language)
        #expect((0...1).contains(detected.confidence))
    }

    @Test func nothingToDetectIsNil() {
        #expect(LanguageDetector.detect("") == nil)
        #expect(LanguageDetector.detect("12345") == nil)
        #expect(LanguageDetector.detect("👍") == nil)
    }
}
