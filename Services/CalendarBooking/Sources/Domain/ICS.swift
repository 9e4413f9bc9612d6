import Foundation

/// One appointment as an iCalendar VEVENT (RFC 5545). Instants are `Date`s; `timeZone` is the IANA zone the
/// appointment was booked in, so calendar apps show it at the local time it was booked for.
struct ICSEvent: Sendable, Hashable {
    enum Status: String, Sendable, Hashable {
        case tentative = "TENTATIVE"
        case confirmed = "CONFIRMED"
        case cancelled = "CANCELLED"
    }

    struct Organizer: Sendable, Hashable {
        var name: String?
        var email: String

        init(name: String? = nil, email: String) {
            self.name = name
            self.email = email
        }
    }

    /// Written as `mailto:` when there is an email, otherwise as a `tel:` URI; an attendee with neither is left out,
    /// since ATTENDEE's value must be an address.
    struct Attendee: Sendable, Hashable {
        var name: String?
        var email: String?
        var phone: String?

        init(name: String? = nil, email: String? = nil, phone: String? = nil) {
            self.name = name
            self.email = email
            self.phone = phone
        }
    }

    /// Stable across every rendering of the same appointment (`ICS.uid(for:)`), or calendar apps show duplicates.
    var uid: String
    /// Bumped on every change of the appointment, or calendar apps keep the old copy.
    var sequence: Int
    var dtstamp: Date
    var start: Date
    /// When not after `start`, DTEND is left out (a zero-length event), since RFC 5545 wants DTEND later than DTSTART.
    var end: Date
    /// IANA identifier such as "Europe/Malta"; an unknown one (or UTC) writes the times in UTC.
    var timeZone: String
    var summary: String
    var description: String?
    var location: String?
    var url: String?
    var status: Status
    var organizer: Organizer?
    var attendees: [Attendee]
    var created: Date?
    var lastModified: Date?

    init(
        uid: String, sequence: Int = 0, dtstamp: Date, start: Date, end: Date, timeZone: String, summary: String,
        description: String? = nil, location: String? = nil, url: String? = nil, status: Status = .confirmed,
        organizer: Organizer? = nil, attendees: [Attendee] = [], created: Date? = nil, lastModified: Date? = nil
    ) {
        self.uid = uid
        self.sequence = sequence
        self.dtstamp = dtstamp
        self.start = start
        self.end = end
        self.timeZone = timeZone
        self.summary = summary
        self.description = description
        self.location = location
        self.url = url
        self.status = status
        self.organizer = organizer
        self.attendees = attendees
        self.created = created
        self.lastModified = lastModified
    }
}

/// An RFC 5545 iCalendar writer: one VCALENDAR with a VTIMEZONE (built from Foundation's time-zone data) per zone its
/// events use, CRLF line endings, lines folded at 75 octets and TEXT values escaped. Pure: no I/O.
enum ICS {
    static let contentType = "text/calendar; charset=utf-8"
    static let productID = "-//Sokoni//Calendar//EN"
    /// RFC 5545 §3.1: content lines longer than this many octets (CRLF not counted) are folded.
    static let lineLimit = 75

    /// The UID of an appointment, the same in the feed and in the single-appointment download.
    static func uid(for appointmentID: some CustomStringConvertible) -> String {
        "\(appointmentID)@sokoni"
    }

    /// A safe download name: ASCII letters, digits and dashes, then ".ics" (accents dropped, "calendar" when nothing is
    /// left), so it can go into `Content-Disposition: attachment; filename="…"` as is.
    static func filename(for title: String) -> String {
        var slug = ""
        for scalar in title.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug += "-"
            }
        }
        slug = String(slug.prefix(60))
        while slug.hasSuffix("-") { slug.removeLast() }
        return (slug.isEmpty ? "calendar" : slug) + ".ics"
    }

    /// The whole VCALENDAR. `method` is METHOD's value: leave it nil (or "PUBLISH") for feeds and downloads;
    /// "REQUEST" (RFC 5546) needs an organizer on every event. Zero events still give a VCALENDAR calendar apps accept.
    static func calendar(name: String, events: [ICSEvent], method: String? = nil) -> String {
        var writer = Writer()
        writer.line("BEGIN", "VCALENDAR")
        writer.line("VERSION", "2.0")
        writer.line("PRODID", self.escapeText(self.productID))
        writer.line("CALSCALE", "GREGORIAN")
        if let method {
            let token = String(method.uppercased().unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || $0 == "-") })
            if !token.isEmpty { writer.line("METHOD", token) }
        }
        writer.line("X-WR-CALNAME", self.escapeText(name))
        writer.line("NAME", self.escapeText(name))  // RFC 7986's standard name for the same thing

        for zone in self.zonesUsed(by: events) {
            self.writeTimeZone(zone.zone, from: zone.from, to: zone.to, into: &writer)
        }
        for event in events {
            self.writeEvent(event, into: &writer)
        }
        writer.line("END", "VCALENDAR")
        return writer.text
    }

    // MARK: - Events

    static func writeEvent(_ event: ICSEvent, into writer: inout Writer) {
        writer.line("BEGIN", "VEVENT")
        writer.line("UID", self.escapeText(event.uid))
        writer.line("DTSTAMP", self.utcDateTime(event.dtstamp))
        writer.line("SEQUENCE", String(max(0, event.sequence)))
        let hasEnd = event.end > event.start
        if let zone = self.zone(event.timeZone), self.localTimeIsUnambiguous(event.start, in: zone),
            !hasEnd || self.localTimeIsUnambiguous(event.end, in: zone)
        {
            writer.line("DTSTART", parameters: [("TZID", zone.identifier)], self.localDateTime(event.start, in: zone))
            if hasEnd { writer.line("DTEND", parameters: [("TZID", zone.identifier)], self.localDateTime(event.end, in: zone)) }
        } else {
            writer.line("DTSTART", self.utcDateTime(event.start))
            if hasEnd { writer.line("DTEND", self.utcDateTime(event.end)) }
        }
        writer.line("SUMMARY", self.escapeText(event.summary))
        if let description = event.description { writer.line("DESCRIPTION", self.escapeText(description)) }
        if let location = event.location { writer.line("LOCATION", self.escapeText(location)) }
        if let url = event.url, let uri = self.uri(url) { writer.line("URL", uri) }
        writer.line("STATUS", event.status.rawValue)
        if let organizer = event.organizer, let address = self.mailtoURI(organizer.email) {
            writer.line("ORGANIZER", parameters: organizer.name.map { [("CN", $0)] } ?? [], address)
        }
        for attendee in event.attendees {
            let address = attendee.email.flatMap(self.mailtoURI) ?? attendee.phone.flatMap(self.telURI)
            guard let address else { continue }
            writer.line("ATTENDEE", parameters: (attendee.name.map { [("CN", $0)] } ?? []) + [("ROLE", "REQ-PARTICIPANT")], address)
        }
        if let created = event.created { writer.line("CREATED", self.utcDateTime(created)) }
        if let lastModified = event.lastModified { writer.line("LAST-MODIFIED", self.utcDateTime(lastModified)) }
        writer.line("END", "VEVENT")
    }

    /// The zone to write local times in; nil for an unknown identifier and for UTC itself (written with "Z").
    static func zone(_ identifier: String) -> TimeZone? {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        let utcNames: Set<String> = ["UTC", "GMT", "UCT", "Universal", "Zulu", "Etc/UTC", "Etc/GMT", "Etc/UCT", "Etc/Universal", "Etc/Zulu"]
        return utcNames.contains(zone.identifier) ? nil : zone
    }

    /// RFC 5545 §3.3.5 reads a local time that occurs twice (the hour after clocks go back) as the first occurrence;
    /// an instant in the second one cannot be written as a local time, and is written in UTC instead.
    static func localTimeIsUnambiguous(_ date: Date, in zone: TimeZone) -> Bool {
        let offset = zone.secondsFromGMT(for: date)
        let earlierOffset = zone.secondsFromGMT(for: date.addingTimeInterval(-86_400))
        guard earlierOffset > offset else { return true }
        let earlier = date.addingTimeInterval(TimeInterval(offset - earlierOffset))
        return zone.secondsFromGMT(for: earlier) != earlierOffset
    }

    // MARK: - Time zones

    struct ZoneSpan {
        var zone: TimeZone
        var from: Date
        var to: Date
    }

    /// Each zone the events write local times in, in order of first use, with the span its VTIMEZONE covers:
    /// 1 January of the year before the first event to 1 January two years after the last one ends.
    static func zonesUsed(by events: [ICSEvent]) -> [ZoneSpan] {
        var spans: [ZoneSpan] = []
        for event in events {
            guard let zone = self.zone(event.timeZone) else { continue }
            let first = min(event.start, event.end)
            let last = max(event.start, event.end)
            if let index = spans.firstIndex(where: { $0.zone.identifier == zone.identifier }) {
                spans[index].from = min(spans[index].from, first)
                spans[index].to = max(spans[index].to, last)
            } else {
                spans.append(ZoneSpan(zone: zone, from: first, to: last))
            }
        }
        return spans.map { span in
            let firstYear = self.utcCalendar.component(.year, from: span.from) - 1
            let lastYear = self.utcCalendar.component(.year, from: span.to) + 2
            return ZoneSpan(
                zone: span.zone,
                from: self.utcCalendar.date(from: DateComponents(year: firstYear, month: 1, day: 1)) ?? span.from,
                to: self.utcCalendar.date(from: DateComponents(year: lastYear, month: 1, day: 1)) ?? span.to
            )
        }
    }

    /// One observance of a zone: from `onset` the offset is `offsetTo` (it was `offsetFrom` before).
    struct Observance: Equatable {
        var onset: Date
        var offsetFrom: Int
        var offsetTo: Int
        var name: String
        var isDaylight: Bool
    }

    /// The zone's observances between `from` and `to` from Foundation's data: the one in effect at `from`, then one per
    /// transition (explicit DTSTARTs, no RRULE). A zone without transitions gets a single observance.
    static func observances(of zone: TimeZone, from: Date, to: Date) -> [Observance] {
        let initialOffset = zone.secondsFromGMT(for: from)
        var observances = [
            Observance(
                onset: from, offsetFrom: initialOffset, offsetTo: initialOffset, name: self.abbreviation(of: zone, at: from),
                isDaylight: zone.isDaylightSavingTime(for: from)
            )
        ]
        var cursor = from
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next > cursor, next < to {
            let observance = Observance(
                onset: next, offsetFrom: zone.secondsFromGMT(for: next.addingTimeInterval(-1)), offsetTo: zone.secondsFromGMT(for: next),
                name: self.abbreviation(of: zone, at: next), isDaylight: zone.isDaylightSavingTime(for: next)
            )
            let previous = observances[observances.count - 1]
            if observance.offsetFrom != observance.offsetTo || observance.name != previous.name || observance.isDaylight != previous.isDaylight {
                observances.append(observance)
            }
            cursor = next
        }
        return observances
    }

    static func writeTimeZone(_ zone: TimeZone, from: Date, to: Date, into writer: inout Writer) {
        writer.line("BEGIN", "VTIMEZONE")
        writer.line("TZID", self.escapeText(zone.identifier))
        for observance in self.observances(of: zone, from: from, to: to) {
            let kind = observance.isDaylight ? "DAYLIGHT" : "STANDARD"
            writer.line("BEGIN", kind)
            // the onset as the local time in effect just before it (RFC 5545 §3.6.5)
            writer.line("DTSTART", self.basicDateTime(observance.onset.addingTimeInterval(TimeInterval(observance.offsetFrom))))
            writer.line("TZOFFSETFROM", self.utcOffset(observance.offsetFrom))
            writer.line("TZOFFSETTO", self.utcOffset(observance.offsetTo))
            if !observance.name.isEmpty { writer.line("TZNAME", self.escapeText(observance.name)) }
            writer.line("END", kind)
        }
        writer.line("END", "VTIMEZONE")
    }

    static func abbreviation(of zone: TimeZone, at date: Date) -> String {
        zone.abbreviation(for: date) ?? self.utcOffset(zone.secondsFromGMT(for: date))
    }

    // MARK: - Values

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        return calendar
    }()

    /// `yyyyMMddTHHmmss` of the date's UTC fields, fractions of a second dropped.
    static func basicDateTime(_ date: Date) -> String {
        let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        let parts = self.utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: whole)
        func pad(_ value: Int?, _ width: Int) -> String {
            let digits = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.year, 4) + pad(parts.month, 2) + pad(parts.day, 2) + "T" + pad(parts.hour, 2) + pad(parts.minute, 2) + pad(parts.second, 2)
    }

    static func utcDateTime(_ date: Date) -> String {
        self.basicDateTime(date) + "Z"
    }

    static func localDateTime(_ date: Date, in zone: TimeZone) -> String {
        self.basicDateTime(date.addingTimeInterval(TimeInterval(zone.secondsFromGMT(for: date))))
    }

    /// UTC-OFFSET (§3.3.14): `+HHMM`, with seconds only when there are any.
    static func utcOffset(_ seconds: Int) -> String {
        let magnitude = abs(seconds)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let text = (seconds < 0 ? "-" : "+") + two(magnitude / 3600) + two(magnitude / 60 % 60)
        return magnitude % 60 == 0 ? text : text + two(magnitude % 60)
    }

    /// TEXT (§3.3.11): backslash, semicolon and comma escaped, any line break as `\n`; other control characters (which
    /// TEXT cannot hold) dropped, tabs kept.
    static func escapeText(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        var afterCarriageReturn = false
        for scalar in text.unicodeScalars {
            defer { afterCarriageReturn = scalar == "\r" }
            switch scalar {
            case "\\": escaped += "\\\\"
            case ";": escaped += "\\;"
            case ",": escaped += "\\,"
            case "\r": escaped += "\\n"
            case "\n": if !afterCarriageReturn { escaped += "\\n" }
            case "\t": escaped.unicodeScalars.append(scalar)
            default: if !self.isControl(scalar) { escaped.unicodeScalars.append(scalar) }
            }
        }
        return escaped
    }

    /// A parameter value (§3.2): no control characters or double quotes (line breaks become spaces, `"` becomes `'`),
    /// trimmed, quoted when it holds `:`, `;` or `,`; empty when nothing is left (the writer then leaves it out).
    static func parameterValue(_ value: String) -> String {
        var cleaned = ""
        for scalar in value.unicodeScalars {
            if scalar == "\"" {
                cleaned += "'"
            } else if scalar == "\r" || scalar == "\n" || scalar == "\t" {
                cleaned += " "
            } else if !self.isControl(scalar) {
                cleaned.unicodeScalars.append(scalar)
            }
        }
        cleaned = cleaned.trimmingCharacters(in: .whitespaces)
        return cleaned.contains(where: { $0 == ":" || $0 == ";" || $0 == "," }) ? "\"\(cleaned)\"" : cleaned
    }

    /// A URI value (not TEXT-escaped): trimmed, nil when empty or when it holds spaces or control characters.
    static func uri(_ value: String) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, !trimmed.hasSuffix(":"), !trimmed.unicodeScalars.contains(where: { $0 == " " || self.isControl($0) }) else {
            return nil
        }
        return trimmed
    }

    /// `mailto:` and the address; nil when there is none.
    static func mailtoURI(_ email: String) -> String? {
        let address = email.trimmingCharacters(in: .whitespacesAndNewlines)
        return address.isEmpty ? nil : self.uri("mailto:" + address)
    }

    /// `tel:+254712345678` (RFC 3966) from a phone number as people write it; nil without digits.
    static func telURI(_ phone: String) -> String? {
        var number = phone.trimmingCharacters(in: .whitespaces)
        if number.lowercased().hasPrefix("tel:") { number.removeFirst(4) }
        let digits = number.filter { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return nil }
        return "tel:" + (number.hasPrefix("+") ? "+" : "") + digits
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F
    }

    // MARK: - Content lines

    /// Folds one content line (§3.1): no physical line longer than 75 octets of UTF-8, breaks only between characters
    /// (between a character's scalars only when it alone is longer than a line), each continuation starting with a space.
    static func fold(_ line: String) -> String {
        guard line.utf8.count > self.lineLimit else { return line }
        var folded = ""
        folded.reserveCapacity(line.utf8.count + line.utf8.count / 30 * 3)
        var used = 0
        func breakLine() {
            folded += "\r\n "
            used = 1
        }
        for character in line {
            let size = character.utf8.count
            if used + size > self.lineLimit, size < self.lineLimit {
                breakLine()
            }
            if used + size <= self.lineLimit {
                folded.append(character)
                used += size
                continue
            }
            for scalar in character.unicodeScalars {
                let width = String(scalar).utf8.count
                if used + width > self.lineLimit { breakLine() }
                folded.unicodeScalars.append(scalar)
                used += width
            }
        }
        return folded
    }

    /// Collects content lines, folded and each ended with CRLF.
    struct Writer {
        private(set) var text = ""

        /// `value` must already be in its value type's form (TEXT escaped by the caller); parameter values are made
        /// safe here.
        mutating func line(_ name: String, parameters: [(String, String)] = [], _ value: String) {
            var line = name
            for (parameter, value) in parameters {
                let safe = ICS.parameterValue(value)
                if !safe.isEmpty { line += ";" + parameter + "=" + safe }
            }
            line += ":" + value
            self.text += ICS.fold(line) + "\r\n"
        }
    }
}
