import Foundation
import TestSupport
import Testing

@testable import CalendarBooking

/// The iCalendar writer: RFC 5545 folding, escaping and line endings, VTIMEZONEs that agree with Foundation's zone data,
/// and a feed read back by an independent parser (Python's `icalendar`, which CI installs).
@Suite struct ICSTests {
    // MARK: - Folding, escaping, line endings

    /// Swahili and French with accents, emoji (one of them a 15-octet ZWJ sequence) and the characters TEXT escapes.
    static let longText =
        "Karibu kwenye mkutano wa wakulima — café crème à côté, prix réduit; naïve façade ✓\n"
        + "Lete: kitambulisho, risiti; \\ njia ya kushoto 🌽🌱👩🏾‍🌾 Élodie & Zoë 🇰🇪🇲🇹 "
        + String(repeating: "ñandú üçé 👩🏾‍🌾 ", count: 12)

    @Test func foldsAt75OctetsWithoutSplittingCharacters() throws {
        // every alignment of the text against the 75-octet boundary
        for padding in 0..<16 {
            let text = String(repeating: "a", count: padding) + Self.longText
            let ics = ICS.calendar(name: "Shamba", events: [Self.event(description: text)])
            let lines = try Self.physicalLines(ics)
            for line in lines {
                #expect(line.count <= 75, "\(line.count) octets: \(String(decoding: line, as: UTF8.self))")
                // each physical line is valid UTF-8 on its own: no multi-byte character split across lines
                #expect(String(validating: line, as: UTF8.self) != nil, "\(line)")
            }
            #expect(lines.contains { $0.count > 70 }, "long lines are folded near the limit, not early")
            let family = Character("👩🏾‍🌾")
            let whole = lines.map { String(decoding: $0, as: UTF8.self).filter { $0 == family }.count }.reduce(0, +)
            #expect(whole == text.filter { $0 == family }.count, "a ZWJ sequence is kept on one line")
            #expect(try Self.property("DESCRIPTION", in: ics).map(Self.unescape) == [text])
        }
    }

    @Test func foldRulesOnSingleLines() throws {
        let exact = "SUMMARY:" + String(repeating: "x", count: 67)
        #expect(exact.utf8.count == 75)
        #expect(ICS.fold(exact) == exact)
        let over = exact + "y"
        #expect(ICS.fold(over) == exact + "\r\n y")
        // 4-octet characters: the first line holds 2 + 18×4 = 74 octets (a 19th would make 78), continuations 1 + 18×4
        let emoji = "X:" + String(repeating: "🌱", count: 40)
        let parts = ICS.fold(emoji).components(separatedBy: "\r\n")
        #expect(parts.map(\.utf8.count) == [74, 73, 17])
        #expect(parts.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(parts.first! + parts.dropFirst().map { String($0.dropFirst()) }.joined() == emoji)
        // one character longer than a line (an 88-octet ZWJ sequence) is split between its scalars, never inside one
        let giant = "X:" + String(repeating: "\u{1F469}\u{200D}", count: 12) + "\u{1F469}"
        for part in ICS.fold(giant).components(separatedBy: "\r\n") {
            #expect(part.utf8.count <= 75)
        }
        #expect(Self.unfold(ICS.fold(giant)) == giant)
    }

    @Test func escapesTextValues() throws {
        #expect(ICS.escapeText("a,b;c\\d\ne\r\nf\rg") == "a\\,b\\;c\\\\d\\ne\\nf\\ng")
        #expect(ICS.escapeText("tab\there\u{0}\u{7}\u{7F}!") == "tab\there!")
        #expect(ICS.escapeText("Ushauri: saa 9:00") == "Ushauri: saa 9:00", "a colon is not escaped in TEXT")

        let summary = "Bei, mbegu; mbolea \\ 50% — \"ofa\"\nsiku 2"
        let ics = ICS.calendar(name: "Duka, la; Mama\\Ngozi", events: [Self.event(summary: summary, location: "Soko kuu, Nairobi; lango 3")])
        let unfolded = Self.unfold(ics).components(separatedBy: "\r\n")
        #expect(unfolded.contains("SUMMARY:Bei\\, mbegu\\; mbolea \\\\ 50% — \"ofa\"\\nsiku 2"))
        #expect(unfolded.contains("LOCATION:Soko kuu\\, Nairobi\\; lango 3"))
        #expect(unfolded.contains("X-WR-CALNAME:Duka\\, la\\; Mama\\\\Ngozi"))
        #expect(try Self.property("SUMMARY", in: ics).map(Self.unescape) == [summary])
    }

    @Test func parametersAndAddresses() throws {
        let event = Self.event(
            organizer: .init(name: "Mwangi, Grace \"Shamba\"", email: "grace@example.co.ke"),
            attendees: [
                .init(name: "Amani", email: "amani@example.com", phone: "+254 700 000 001"),
                .init(name: "Jo: Borg", phone: "+356 2122-3344"),
                .init(name: "Nobody"),
            ]
        )
        let lines = Self.unfold(ICS.calendar(name: "x", events: [event])).components(separatedBy: "\r\n")
        #expect(lines.contains("ORGANIZER;CN=\"Mwangi, Grace 'Shamba'\":mailto:grace@example.co.ke"))
        #expect(lines.contains("ATTENDEE;CN=Amani;ROLE=REQ-PARTICIPANT:mailto:amani@example.com"))
        #expect(lines.contains("ATTENDEE;CN=\"Jo: Borg\";ROLE=REQ-PARTICIPANT:tel:+35621223344"))
        #expect(lines.filter { $0.hasPrefix("ATTENDEE") }.count == 2, "an attendee without an address is left out")
        #expect(ICS.telURI("tel:+254-712 345 678") == "tel:+254712345678")
        #expect(ICS.telURI("n/a") == nil)
    }

    @Test func crlfEverywhere() throws {
        let ics = ICS.calendar(
            name: "Line\nbreaks\r\neverywhere",
            events: [Self.event(summary: "one\rtwo\nthree\r\nfour", description: Self.longText, location: "a\n\nb")],
            method: "PUBLISH"
        )
        let bytes = Array(ics.utf8)
        #expect(bytes.suffix(2) == [13, 10])
        for (index, byte) in bytes.enumerated() {
            if byte == 10 { #expect(index > 0 && bytes[index - 1] == 13, "bare LF at \(index)") }
            if byte == 13 { #expect(index + 1 < bytes.count && bytes[index + 1] == 10, "bare CR at \(index)") }
        }
        let lines = Self.unfold(ics).components(separatedBy: "\r\n").dropLast()
        #expect(lines.first == "BEGIN:VCALENDAR")
        #expect(lines.last == "END:VCALENDAR")
        #expect(lines.allSatisfy { $0.contains(":") && !$0.isEmpty })
    }

    // MARK: - Calendar and event properties

    @Test func calendarAndEventProperties() throws {
        let stamp = Self.utc("2027-01-15T10:20:30Z")
        let event = Self.event(
            sequence: 4, dtstamp: stamp.addingTimeInterval(0.75), url: "https://meet.sokoni.example/r/abc?x=1,2;y", status: .tentative,
            created: Self.utc("2027-01-01T00:00:00Z"), lastModified: stamp
        )
        let ics = ICS.calendar(name: "Kliniki", events: [event], method: "request")
        let lines = Self.unfold(ics).components(separatedBy: "\r\n")
        for expected in [
            "VERSION:2.0", "PRODID:-//Sokoni//Calendar//EN", "CALSCALE:GREGORIAN", "METHOD:REQUEST", "X-WR-CALNAME:Kliniki",
            "UID:\(event.uid)", "SEQUENCE:4", "DTSTAMP:20270115T102030Z", "STATUS:TENTATIVE", "URL:https://meet.sokoni.example/r/abc?x=1,2;y",
            "CREATED:20270101T000000Z", "LAST-MODIFIED:20270115T102030Z",
        ] {
            #expect(lines.contains(expected), "\(expected)")
        }
        #expect(!Self.unfold(ICS.calendar(name: "Kliniki", events: [event])).contains("METHOD:"))
        #expect(ICS.uid(for: "3f1c") == "3f1c@sokoni")
        #expect(ICS.contentType == "text/calendar; charset=utf-8")
        #expect(ICS.filename(for: "Ushauri wa Kilimo — Café Élodie!") == "ushauri-wa-kilimo-cafe-elodie.ics")
        #expect(ICS.filename(for: "🌱 — ") == "calendar.ics")

        // a zero-length (or reversed) event has no DTEND rather than an invalid one
        let zeroLength = Self.event(start: Self.utc("2027-05-01T09:00:00Z"), end: Self.utc("2027-05-01T09:00:00Z"))
        #expect(!ICS.calendar(name: "x", events: [zeroLength]).contains("DTEND"))
        // an unknown zone (and UTC) is written in UTC, with no VTIMEZONE
        let unknown = ICS.calendar(name: "x", events: [Self.event(timeZone: "Mars/Olympus_Mons"), Self.event(timeZone: "UTC")])
        #expect(!unknown.contains("VTIMEZONE"))
        #expect(Self.unfold(unknown).components(separatedBy: "\r\n").filter { $0 == "DTSTART:20270328T070000Z" }.count == 2)
    }

    @Test func emptyFeedIsACalendar() throws {
        let ics = ICS.calendar(name: "Hakuna", events: [])
        #expect(
            ics == "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sokoni//Calendar//EN\r\nCALSCALE:GREGORIAN\r\n"
                + "X-WR-CALNAME:Hakuna\r\nNAME:Hakuna\r\nEND:VCALENDAR\r\n"
        )
    }

    // MARK: - Time zones

    @Test func maltaLocalTimesAndTransitions() throws {
        let events = [
            // 09:00 CEST on the day clocks go forward (01:00Z), and 09:00 CET on the day they go back
            Self.event(uid: "spring@sokoni", start: Self.utc("2027-03-28T07:00:00Z"), end: Self.utc("2027-03-28T08:00:00Z")),
            Self.event(uid: "autumn@sokoni", start: Self.utc("2027-10-31T08:00:00Z"), end: Self.utc("2027-10-31T09:30:00Z")),
        ]
        let ics = ICS.calendar(name: "Malta", events: events)
        let lines = Self.unfold(ics).components(separatedBy: "\r\n")
        #expect(lines.contains("DTSTART;TZID=Europe/Malta:20270328T090000"))
        #expect(lines.contains("DTEND;TZID=Europe/Malta:20270328T100000"))
        #expect(lines.contains("DTSTART;TZID=Europe/Malta:20271031T090000"))
        #expect(lines.contains("DTEND;TZID=Europe/Malta:20271031T103000"))

        let zones = Self.timeZones(in: ics)
        #expect(zones.map(\.id) == ["Europe/Malta"], "one VTIMEZONE per zone")
        let malta = try #require(zones.first)
        let zone = try #require(TimeZone(identifier: "Europe/Malta"))
        // onset as local time before the change: 02:00 CET → 03:00 CEST, 03:00 CEST → 02:00 CET
        #expect(
            malta.observances.contains(
                .init(
                    kind: "DAYLIGHT", start: "20270328T020000", from: "+0100", to: "+0200",
                    name: zone.abbreviation(for: Self.utc("2027-03-28T01:00:00Z")))))
        #expect(
            malta.observances.contains(
                .init(
                    kind: "STANDARD", start: "20271031T030000", from: "+0200", to: "+0100",
                    name: zone.abbreviation(for: Self.utc("2027-10-31T01:00:00Z")))))
        // covers a year before and after: 2026's and 2028's transitions too, nothing outside 2026…2029
        #expect(malta.observances.contains { $0.start == "20261025T030000" })
        #expect(malta.observances.contains { $0.start == "20281029T030000" })
        #expect(malta.observances.allSatisfy { ("2026"..."2029").contains(String($0.start.prefix(4))) })
        #expect(Self.offsetsAgree(malta, with: zone))
    }

    @Test func nairobiHasOneStandardObservance() throws {
        let ics = ICS.calendar(name: "Nairobi", events: [Self.event(timeZone: "Africa/Nairobi")])
        let zones = Self.timeZones(in: ics)
        #expect(zones.map(\.id) == ["Africa/Nairobi"])
        let observances = try #require(zones.first).observances
        #expect(observances.count == 1)
        #expect(observances.first?.kind == "STANDARD")
        #expect(observances.first?.from == "+0300")
        #expect(observances.first?.to == "+0300")
        #expect(Self.unfold(ics).contains("DTSTART;TZID=Africa/Nairobi:20270328T100000"))
    }

    @Test func santiagoFollowsFoundationsData() throws {
        let zone = try #require(TimeZone(identifier: "America/Santiago"))
        let start = Self.utc("2027-06-15T14:00:00Z")
        let ics = ICS.calendar(name: "Chile", events: [Self.event(start: start, end: start.addingTimeInterval(3600), timeZone: "America/Santiago")])
        let santiago = try #require(Self.timeZones(in: ics).first)
        #expect(santiago.id == "America/Santiago")
        // each transition Foundation knows of in 2027, with the offsets Foundation gives either side of it
        var cursor = Self.utc("2027-01-01T00:00:00Z")
        var seen = 0
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next < Self.utc("2028-01-01T00:00:00Z") {
            let before = zone.secondsFromGMT(for: next.addingTimeInterval(-1))
            let after = zone.secondsFromGMT(for: next)
            let expected = Self.Observance(
                kind: zone.isDaylightSavingTime(for: next) ? "DAYLIGHT" : "STANDARD",
                start: ICS.basicDateTime(next.addingTimeInterval(TimeInterval(before))), from: ICS.utcOffset(before), to: ICS.utcOffset(after),
                name: zone.abbreviation(for: next)
            )
            #expect(santiago.observances.contains(expected), "\(expected)")
            cursor = next
            seen += 1
        }
        #expect(seen == 2, "Chile changes its clocks twice a year in Foundation's data")
        #expect(Set(santiago.observances.map(\.to)).isSuperset(of: ["-0400", "-0300"]))
        #expect(Self.offsetsAgree(santiago, with: zone))
        let local = ICS.localDateTime(start, in: zone)
        #expect(Self.unfold(ics).contains("DTSTART;TZID=America/Santiago:\(local)"))
    }

    @Test func secondOccurrenceOfARepeatedHourIsWrittenInUTC() throws {
        // Malta 2027-10-31: 02:00–03:00 happens twice; 00:30Z is the first 02:30 (CEST), 01:30Z the second (CET)
        let first = Self.event(uid: "first@sokoni", start: Self.utc("2027-10-31T00:30:00Z"), end: Self.utc("2027-10-31T00:45:00Z"))
        let second = Self.event(uid: "second@sokoni", start: Self.utc("2027-10-31T01:30:00Z"), end: Self.utc("2027-10-31T02:00:00Z"))
        let lines = Self.unfold(ICS.calendar(name: "x", events: [first, second])).components(separatedBy: "\r\n")
        #expect(lines.contains("DTSTART;TZID=Europe/Malta:20271031T023000"))
        #expect(lines.contains("DTSTART:20271031T013000Z"))
        #expect(lines.contains("DTEND:20271031T020000Z"))
        // an end at 01:00Z is 02:00 CET, itself the second 02:00: both times of that event are then written in UTC
        let ending = Self.event(start: Self.utc("2027-10-31T00:30:00Z"), end: Self.utc("2027-10-31T01:00:00Z"))
        let endingLines = Self.unfold(ICS.calendar(name: "x", events: [ending])).components(separatedBy: "\r\n")
        #expect(endingLines.contains("DTSTART:20271031T003000Z"))
        #expect(endingLines.contains("DTEND:20271031T010000Z"))
    }

    // MARK: - Read back by an independent parser

    @Test func pythonIcalendarReadsTheFeed() throws {
        let events = Self.feed
        let ics = ICS.calendar(name: "Sokoni — Kliniki ya Mifugo, Nairobi; Malta", events: events, method: "PUBLISH")
        let parsed = try Self.parseWithPython(ics)
        #expect(parsed.errors.isEmpty, "\(parsed.errors)")
        #expect(parsed.name == "Sokoni — Kliniki ya Mifugo, Nairobi; Malta")
        #expect(parsed.calendarName == "Sokoni — Kliniki ya Mifugo, Nairobi; Malta")
        #expect(parsed.method == "PUBLISH")
        #expect(Set(parsed.timeZones) == ["Europe/Malta", "Africa/Nairobi", "America/Santiago"])
        #expect(parsed.events.count == events.count)
        for (event, read) in zip(events, parsed.events) {
            #expect(read.uid == event.uid)
            #expect(read.sequence == event.sequence)
            #expect(read.summary == event.summary)
            #expect(read.description == event.description)
            #expect(read.location == event.location)
            #expect(read.url == event.url)
            #expect(read.status == event.status.rawValue)
            #expect(read.dtstamp == Self.iso(event.dtstamp))
            // as the parser resolves TZID (its own zone database), and through the VTIMEZONE in the file alone
            #expect(read.start == Self.iso(event.start), "\(event.uid)")
            #expect(read.end == Self.iso(event.end), "\(event.uid)")
            #expect(read.startByVTimezone == Self.iso(event.start), "\(event.uid)")
            #expect(read.endByVTimezone == Self.iso(event.end), "\(event.uid)")
            #expect(read.organizer == event.organizer.map { Parsed.Address(cn: $0.name, address: "mailto:" + $0.email) })
            #expect(
                read.attendees
                    == event.attendees.map { Parsed.Address(cn: $0.name, address: $0.email.map { "mailto:" + $0 } ?? ICS.telURI($0.phone ?? "")!) }
            )
        }
        #expect(parsed.events.first { $0.uid == "apt-3@sokoni" }?.status == "CANCELLED")
    }

    @Test func pythonIcalendarReadsAnEmptyFeed() throws {
        let parsed = try Self.parseWithPython(ICS.calendar(name: "Hakuna", events: []))
        #expect(parsed.errors.isEmpty, "\(parsed.errors)")
        #expect(parsed.name == "Hakuna")
        #expect(parsed.calendarName == "Hakuna")
        #expect(parsed.events.isEmpty)
        #expect(parsed.timeZones.isEmpty)
    }

    /// Several zones, a cancelled event, an event in a repeated hour and one across Chile's autumn change, and texts
    /// with everything TEXT escapes.
    static let feed: [ICSEvent] = [
        ICSEvent(
            uid: "apt-1@sokoni", sequence: 2, dtstamp: utc("2027-03-01T12:00:00Z"), start: utc("2027-03-28T07:00:00Z"), end: utc("2027-03-28T08:00:00Z"),
            timeZone: "Europe/Malta", summary: "Ushauri wa kilimo 🌱; mbegu, mbolea", description: longText,
            location: "Triq il-Kbira, Ħal Qormi; Malta", url: "https://meet.sokoni.example/r/abc?x=1,2;y", status: .confirmed,
            organizer: .init(name: "Mwangi, Grace", email: "grace@example.co.ke"),
            attendees: [.init(name: "Élodie Borg", email: "elodie@example.mt"), .init(name: "Amani; mkulima", phone: "+254 712 345 678")],
            created: utc("2027-02-01T09:00:00Z"), lastModified: utc("2027-03-01T12:00:00Z")
        ),
        ICSEvent(
            uid: "apt-2@sokoni", sequence: 0, dtstamp: utc("2027-03-01T12:00:00Z"), start: utc("2027-10-31T01:30:00Z"), end: utc("2027-10-31T02:15:00Z"),
            timeZone: "Europe/Malta", summary: "Saa inayojirudia (02:30 CET)", status: .tentative
        ),
        ICSEvent(
            uid: "apt-3@sokoni", sequence: 3, dtstamp: utc("2027-05-20T06:00:00Z"), start: utc("2027-06-01T05:00:00Z"), end: utc("2027-06-01T05:45:00Z"),
            timeZone: "Africa/Nairobi", summary: "Chanjo ya mbuzi — imeghairiwa", description: "Imeghairiwa,\nsamahani; \\ tutapiga simu.",
            location: "Kliniki, Nairobi", status: .cancelled, organizer: .init(email: "kliniki@example.co.ke")
        ),
        ICSEvent(
            uid: "apt-4@sokoni", sequence: 1, dtstamp: utc("2027-03-01T12:00:00Z"), start: utc("2027-04-04T02:30:00Z"), end: utc("2027-04-04T04:00:00Z"),
            timeZone: "America/Santiago", summary: "Reunión: cambio de hora, ¿sí? 🇨🇱", description: "Año nuevo;\nmañana, señor",
            status: .confirmed
        ),
        ICSEvent(
            uid: "apt-5@sokoni", sequence: 0, dtstamp: utc("2027-03-01T12:00:00Z"), start: utc("2027-09-05T12:00:00Z"), end: utc("2027-09-05T13:00:00Z"),
            timeZone: "America/Santiago", summary: "Visita", status: .confirmed
        ),
    ]

    // MARK: - Helpers

    static func event(
        uid: String = "apt-0@sokoni", sequence: Int = 0, dtstamp: Date = utc("2027-03-01T12:00:00Z"), start: Date = utc("2027-03-28T07:00:00Z"),
        end: Date = utc("2027-03-28T08:00:00Z"), timeZone: String = "Europe/Malta", summary: String = "Ushauri", description: String? = nil,
        location: String? = nil, url: String? = nil, status: ICSEvent.Status = .confirmed, organizer: ICSEvent.Organizer? = nil,
        attendees: [ICSEvent.Attendee] = [], created: Date? = nil, lastModified: Date? = nil
    ) -> ICSEvent {
        ICSEvent(
            uid: uid, sequence: sequence, dtstamp: dtstamp, start: start, end: end, timeZone: timeZone, summary: summary, description: description,
            location: location, url: url, status: status, organizer: organizer, attendees: attendees, created: created, lastModified: lastModified
        )
    }

    static func utc(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    static func iso(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// The physical lines (without CRLF) as bytes; throws on a bare CR or LF.
    static func physicalLines(_ text: String) throws -> [[UInt8]] {
        let bytes = Array(text.utf8)
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 13, index + 1 < bytes.count, bytes[index + 1] == 10 {
                lines.append(current)
                current = []
                index += 2
                continue
            }
            if bytes[index] == 13 || bytes[index] == 10 { throw TestSupportError("bare CR or LF at octet \(index)") }
            current.append(bytes[index])
            index += 1
        }
        if !current.isEmpty { throw TestSupportError("last line not ended with CRLF") }
        return lines
    }

    /// RFC 5545 unfolding, on octets: CRLF followed by a space is removed.
    static func unfold(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 32 {
                index += 3
                continue
            }
            out.append(bytes[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unescape(_ text: String) -> String {
        var out = ""
        var escaping = false
        for character in text {
            if escaping {
                out.append(character == "n" || character == "N" ? "\n" : character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                out.append(character)
            }
        }
        return out
    }

    /// The values of every `name:` or `name;…:` line, unfolded.
    static func property(_ name: String, in ics: String) throws -> [String] {
        Self.unfold(ics).components(separatedBy: "\r\n").compactMap { line in
            guard line.hasPrefix(name + ":") || line.hasPrefix(name + ";"), let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[line.index(after: colon)...])
        }
    }

    struct Observance: Equatable, CustomStringConvertible {
        var kind: String
        var start: String
        var from: String
        var to: String
        var name: String?

        var description: String { "\(self.kind) \(self.start) \(self.from)→\(self.to) \(self.name ?? "")" }
    }

    /// The VTIMEZONEs of a calendar, read line by line.
    static func timeZones(in ics: String) -> [(id: String, observances: [Observance])] {
        var zones: [(id: String, observances: [Observance])] = []
        var current: Observance?
        for line in Self.unfold(ics).components(separatedBy: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch (parts[0], parts[1]) {
            case ("BEGIN", "VTIMEZONE"): zones.append((id: "", observances: []))
            case ("TZID", let id): zones[zones.count - 1].id = id
            case ("BEGIN", "STANDARD"), ("BEGIN", "DAYLIGHT"): current = Observance(kind: parts[1], start: "", from: "", to: "")
            case ("DTSTART", let value) where current != nil: current?.start = value
            case ("TZOFFSETFROM", let value): current?.from = value
            case ("TZOFFSETTO", let value): current?.to = value
            case ("TZNAME", let value): current?.name = value
            case ("END", "STANDARD"), ("END", "DAYLIGHT"):
                if let current { zones[zones.count - 1].observances.append(current) }
                current = nil
            default: break
            }
        }
        return zones
    }

    static func seconds(ofOffset text: String) -> Int {
        let sign = text.hasPrefix("-") ? -1 : 1
        let digits = text.dropFirst().map { Int(String($0))! }
        let hours = digits[0] * 10 + digits[1]
        let minutes = digits[2] * 10 + digits[3]
        let seconds = digits.count == 6 ? digits[4] * 10 + digits[5] : 0
        return sign * (hours * 3600 + minutes * 60 + seconds)
    }

    /// Evaluates the VTIMEZONE as a calendar app would (the latest onset at or before an instant gives the offset) and
    /// compares it with Foundation hour by hour over the whole span it covers.
    static func offsetsAgree(_ zone: (id: String, observances: [Observance]), with timeZone: TimeZone) -> Bool {
        let onsets = zone.observances.map { observance -> (onset: Date, offset: Int) in
            let local = ISO8601DateFormatter().date(
                from: String(observance.start.prefix(4)) + "-" + observance.start.dropFirst(4).prefix(2) + "-"
                    + observance.start.dropFirst(6).prefix(2) + "T" + observance.start.dropFirst(9).prefix(2) + ":"
                    + observance.start.dropFirst(11).prefix(2) + ":" + observance.start.dropFirst(13).prefix(2) + "Z"
            )!
            return (local.addingTimeInterval(-TimeInterval(Self.seconds(ofOffset: observance.from))), Self.seconds(ofOffset: observance.to))
        }.sorted { $0.onset < $1.onset }
        guard let first = onsets.first?.onset else { return false }
        var instant = first
        var checked = 0
        while instant < first.addingTimeInterval(2.5 * 365 * 86_400) {
            guard let offset = onsets.last(where: { $0.onset <= instant })?.offset, offset == timeZone.secondsFromGMT(for: instant) else {
                Issue.record("\(zone.id) at \(instant): VTIMEZONE and Foundation disagree")
                return false
            }
            instant.addTimeInterval(1800)
            checked += 1
        }
        return checked > 40_000
    }

    struct Parsed: Decodable {
        struct Address: Decodable, Equatable {
            var cn: String?
            var address: String
        }

        struct Event: Decodable {
            var uid: String
            var sequence: Int
            var summary: String
            var description: String?
            var location: String?
            var url: String?
            var status: String
            var dtstamp: String
            var start: String
            var end: String
            var startByVTimezone: String
            var endByVTimezone: String
            var organizer: Address?
            var attendees: [Address]
        }

        var name: String
        var calendarName: String
        var method: String?
        var timeZones: [String]
        var events: [Event]
        var errors: [String]
    }

    /// Reads the calendar with Python's `icalendar` (`Calendar.from_ical`) and answers what it found, times as UTC ISO
    /// strings: once as icalendar resolves TZID, once through a zone built from the file's own VTIMEZONE (by dateutil,
    /// with no zone database). Missing python3 or icalendar fails the test: CI installs both (.ci/run).
    static func parseWithPython(_ ics: String) throws -> Parsed {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard
            let python = path.split(separator: ":").map({ "\($0)/python3" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            throw TestSupportError("python3 is not on PATH; it and its icalendar package are needed (.ci/run installs them)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sokoni-ics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let icsFile = directory.appendingPathComponent("feed.ics")
        let scriptFile = directory.appendingPathComponent("read.py")
        let jsonFile = directory.appendingPathComponent("read.json")
        try Data(ics.utf8).write(to: icsFile)
        try Data(Self.pythonReader.utf8).write(to: scriptFile)
        do {
            try Shell.run(python, [scriptFile.path, icsFile.path, jsonFile.path], timeout: .seconds(120))
        } catch {
            throw TestSupportError("reading the calendar with Python's icalendar failed: \(error)")
        }
        return try JSONDecoder().decode(Parsed.self, from: Data(contentsOf: jsonFile))
    }

    static let pythonReader = #"""
        import json, sys
        from datetime import datetime, timezone
        try:
            import icalendar
            from icalendar.timezone import tzp
        except ImportError as error:
            sys.exit(f"the Python package icalendar is missing ({error}): python3 -m pip install icalendar (.ci/run installs it)")

        source, target = sys.argv[1], sys.argv[2]
        with open(source, "rb") as file:
            calendar = icalendar.Calendar.from_ical(file.read())

        errors = [f"{component.name}: {error}" for component in calendar.walk() for error in component.errors]
        # zones built from the file's VTIMEZONEs only (dateutil's tzical), never looked up by name
        own_zones = {str(zone["TZID"]): zone.to_tz(lookup_tzid=False) for zone in calendar.walk("VTIMEZONE")}

        def iso(moment):
            if not isinstance(moment, datetime) or moment.tzinfo is None:
                raise ValueError(f"not an absolute time: {moment!r}")
            return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

        def by_vtimezone(prop):
            tzid = prop.params.get("TZID")
            if tzid is None:
                return iso(prop.dt)
            return iso(tzp.localize(prop.dt.replace(tzinfo=None), own_zones[tzid]))

        def text(component, name):
            value = component.get(name)
            return None if value is None else str(value)

        def untyped_text(component, name):
            # icalendar keeps NAME (RFC 7986) and X-WR-CALNAME as written; read them as the TEXT they are, with
            # icalendar's own TEXT parsing
            raw = component[name].to_ical().decode()
            return str(icalendar.Event.from_ical(f"BEGIN:VEVENT\r\nSUMMARY:{raw}\r\nEND:VEVENT\r\n")["SUMMARY"])

        def address(prop):
            return {"cn": prop.params.get("CN"), "address": str(prop)}

        def as_list(value):
            return [] if value is None else value if isinstance(value, list) else [value]

        events = []
        for event in calendar.walk("VEVENT"):
            events.append({
                "uid": text(event, "UID"),
                "sequence": int(event.get("SEQUENCE", 0)),
                "summary": text(event, "SUMMARY"),
                "description": text(event, "DESCRIPTION"),
                "location": text(event, "LOCATION"),
                "url": text(event, "URL"),
                "status": text(event, "STATUS"),
                "dtstamp": iso(event["DTSTAMP"].dt),
                "start": iso(event["DTSTART"].dt),
                "end": iso(event["DTEND"].dt),
                "startByVTimezone": by_vtimezone(event["DTSTART"]),
                "endByVTimezone": by_vtimezone(event["DTEND"]),
                "organizer": address(event["ORGANIZER"]) if "ORGANIZER" in event else None,
                "attendees": [address(attendee) for attendee in as_list(event.get("ATTENDEE"))],
            })

        with open(target, "w", encoding="utf-8") as file:
            json.dump({
                "name": untyped_text(calendar, "NAME"),
                "calendarName": untyped_text(calendar, "X-WR-CALNAME"),
                "method": text(calendar, "METHOD"),
                "timeZones": list(own_zones),
                "events": events,
                "errors": errors,
            }, file, ensure_ascii=False)
        """#
}
