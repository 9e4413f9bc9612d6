import Foundation

// The availability engine: an agent's weekly hours and date overrides, in the agent's time zone, turned into free
// slots between the appointments already booked. Pure computation, no I/O; Cal.com's semantics for buffers.
//
// Local wall times become instants deliberately, never through `Calendar.date(from:)` (whose gap handling differs
// between Foundation versions):
// - a wall time that does not exist (the hour skipped when clocks go forward) is the first valid instant after it,
//   the instant of the switch: in Malta on 2027-03-28, 02:30 is 03:00 CEST (01:00Z); in Santiago on 2027-09-05, 00:00
//   is 01:00 -03 (04:00Z). A window with an edge in the gap is shortened, one wholly inside it is empty;
// - a wall time that happens twice (the hour repeated when clocks go back) is its first occurrence (the earlier
//   instant). A window is the elapsed time between its two edges, so one spanning the repeated hour contains it
//   twice: Malta's 01:00–04:00 on 2027-10-31 is 4 hours, with slots at 02:00 CEST and again at 02:00 CET.

/// A time on the wall clock: minutes since local midnight, 0…1440 (1440 is `24:00`, the end of the day). JSON `"HH:mm"`.
struct LocalTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    static let midnight = LocalTime(checked: 0)
    static let endOfDay = LocalTime(checked: 1440)

    let minutes: Int

    private init(checked minutes: Int) { self.minutes = minutes }

    init?(minutes: Int) {
        guard (0...1440).contains(minutes) else { return nil }
        self.minutes = minutes
    }

    init?(hour: Int, minute: Int) {
        guard (0...24).contains(hour), (0...59).contains(minute) else { return nil }
        self.init(minutes: hour * 60 + minute)
    }

    /// Parses exactly `HH:mm` (`09:00`, `24:00`); `9:00`, `24:30` and `12:60` are refused.
    init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[2] == UInt8(ascii: ":"), let hour = digits(bytes[0..<2]), let minute = digits(bytes[3..<5]) else { return nil }
        self.init(hour: hour, minute: minute)
    }

    var description: String { pad(self.minutes / 60, 2) + ":" + pad(self.minutes % 60, 2) }

    static func < (lhs: LocalTime, rhs: LocalTime) -> Bool { lhs.minutes < rhs.minutes }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let time = LocalTime(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a local time HH:mm (00:00…24:00), got \(text)")
        }
        self = time
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}

/// A date on the local calendar (proleptic Gregorian), validated: no February 30. JSON `"yyyy-MM-dd"`, years 1…9999.
struct LocalDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    let year: Int
    let month: Int
    let day: Int

    init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= LocalDate.days(inMonth: month, of: year) else { return nil }
        (self.year, self.month, self.day) = (year, month, day)
    }

    /// Parses exactly `yyyy-MM-dd`.
    init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), let year = digits(bytes[0..<4]),
            let month = digits(bytes[5..<7]), let day = digits(bytes[8..<10])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The date `days` days after 1970-01-01 (negative: before it).
    init(daysSince1970 days: Int) {
        // Howard Hinnant's civil_from_days
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        (self.year, self.month, self.day) = (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    var daysSince1970: Int {
        let year = self.month <= 2 ? self.year - 1 : self.year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * ((self.month + 9) % 12) + 2) / 5 + self.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// ISO weekday: 1 = Monday … 7 = Sunday.
    var weekday: Int { ((self.daysSince1970 % 7 + 7) + 3) % 7 + 1 }

    func adding(days: Int) -> LocalDate { LocalDate(daysSince1970: self.daysSince1970 + days) }

    var description: String { pad(self.year, 4) + "-" + pad(self.month, 2) + "-" + pad(self.day, 2) }

    static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day) }

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = LocalDate(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a valid date yyyy-MM-dd, got \(text)")
        }
        self = date
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}

/// Wall-clock hours within one local day, `start` included, `end` excluded (`end` may be `24:00`).
struct LocalInterval: Sendable, Hashable, Codable {
    var start: LocalTime
    var end: LocalTime
}

/// Working hours on one weekday (ISO: 1 = Monday … 7 = Sunday). A weekday may have several, e.g. 08:00–12:00 and
/// 14:00–17:00; they must not overlap.
struct WeeklyRule: Sendable, Hashable, Codable {
    var weekday: Int
    var start: LocalTime
    var end: LocalTime
}

/// The hours of one local date, replacing that weekday's rules; no intervals: closed that day.
struct DateOverride: Sendable, Hashable, Codable {
    var date: LocalDate
    var intervals: [LocalInterval]
}

/// An agent's (or a resource's) availability. Hours are wall-clock times in `timeZone`. With no rules and no
/// overrides there are no slots, ever: there are no default hours.
struct AvailabilitySchedule: Sendable, Hashable, Codable {
    /// An IANA time zone id (`Africa/Nairobi`, `Europe/Malta`, `America/Santiago`).
    var timeZone: String
    var weekly: [WeeklyRule]
    var overrides: [DateOverride]
    /// Kept free before each new appointment (0…1440).
    var bufferBeforeMinutes: Int
    /// Kept free after each new appointment (0…1440).
    var bufferAfterMinutes: Int
    /// How long before its start a slot may still be booked (0…525,600, a year).
    var minimumNoticeMinutes: Int
    /// No slots on a local day that already has this many appointments (≥ 1); nil: no limit.
    var maxPerDay: Int?
    /// Minutes between slot starts (5…1440); nil: the appointment's duration.
    var slotStepMinutes: Int?

    init(
        timeZone: String, weekly: [WeeklyRule] = [], overrides: [DateOverride] = [], bufferBeforeMinutes: Int = 0, bufferAfterMinutes: Int = 0,
        minimumNoticeMinutes: Int = 0, maxPerDay: Int? = nil, slotStepMinutes: Int? = nil
    ) {
        self.timeZone = timeZone
        self.weekly = weekly
        self.overrides = overrides
        self.bufferBeforeMinutes = bufferBeforeMinutes
        self.bufferAfterMinutes = bufferAfterMinutes
        self.minimumNoticeMinutes = minimumNoticeMinutes
        self.maxPerDay = maxPerDay
        self.slotStepMinutes = slotStepMinutes
    }

    /// Only `timeZone` is required in JSON: absent lists are empty, absent buffers and notice 0.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.timeZone = try container.decode(String.self, forKey: .timeZone)
        self.weekly = try container.decodeIfPresent([WeeklyRule].self, forKey: .weekly) ?? []
        self.overrides = try container.decodeIfPresent([DateOverride].self, forKey: .overrides) ?? []
        self.bufferBeforeMinutes = try container.decodeIfPresent(Int.self, forKey: .bufferBeforeMinutes) ?? 0
        self.bufferAfterMinutes = try container.decodeIfPresent(Int.self, forKey: .bufferAfterMinutes) ?? 0
        self.minimumNoticeMinutes = try container.decodeIfPresent(Int.self, forKey: .minimumNoticeMinutes) ?? 0
        self.maxPerDay = try container.decodeIfPresent(Int.self, forKey: .maxPerDay)
        self.slotStepMinutes = try container.decodeIfPresent(Int.self, forKey: .slotStepMinutes)
    }

    /// Refuses a schedule the engine would misread: the first problem found, with the field as a JSON path.
    func validate() throws(ScheduleValidationError) {
        func refuse(_ field: String, _ reason: ScheduleValidationError.Reason, _ detail: String) -> ScheduleValidationError {
            ScheduleValidationError(field: field, reason: reason, detail: detail)
        }
        if TimeZone(identifier: self.timeZone) == nil {
            throw refuse("timeZone", .unknownTimeZone, "\(self.timeZone) is not a known IANA time zone")
        }
        for (index, rule) in self.weekly.enumerated() {
            guard (1...7).contains(rule.weekday) else {
                throw refuse("weekly[\(index)].weekday", .outOfRange, "the weekday is 1 (Monday) to 7 (Sunday), not \(rule.weekday)")
            }
            guard rule.start < rule.end else {
                throw refuse("weekly[\(index)].end", .startNotBeforeEnd, "\(rule.start)–\(rule.end) ends before it starts")
            }
        }
        let weeklyIntervals = self.weekly.enumerated().map {
            (field: "weekly[\($0.offset)]", group: $0.element.weekday, interval: LocalInterval(start: $0.element.start, end: $0.element.end))
        }
        if let (field, other) = firstOverlap(weeklyIntervals) {
            throw refuse(field, .overlapping, "overlaps \(other) on the same weekday")
        }
        var seen: [LocalDate: Int] = [:]
        for (index, override) in self.overrides.enumerated() {
            if let first = seen[override.date] {
                throw refuse("overrides[\(index)].date", .duplicateDate, "\(override.date) is already overridden by overrides[\(first)]")
            }
            seen[override.date] = index
            for (position, interval) in override.intervals.enumerated() where !(interval.start < interval.end) {
                throw refuse("overrides[\(index)].intervals[\(position)].end", .startNotBeforeEnd, "\(interval.start)–\(interval.end) ends before it starts")
            }
            let intervals = override.intervals.enumerated().map { (field: "overrides[\(index)].intervals[\($0.offset)]", group: 0, interval: $0.element) }
            if let (field, other) = firstOverlap(intervals) {
                throw refuse(field, .overlapping, "overlaps \(other)")
            }
        }
        for (field, value) in [("bufferBeforeMinutes", self.bufferBeforeMinutes), ("bufferAfterMinutes", self.bufferAfterMinutes)] {
            guard value >= 0 else { throw refuse(field, .negative, "must not be negative") }
            guard value <= 1440 else { throw refuse(field, .outOfRange, "at most 1440 minutes") }
        }
        guard self.minimumNoticeMinutes >= 0 else { throw refuse("minimumNoticeMinutes", .negative, "must not be negative") }
        guard self.minimumNoticeMinutes <= 525_600 else { throw refuse("minimumNoticeMinutes", .outOfRange, "at most 525600 minutes (a year)") }
        if let maxPerDay = self.maxPerDay, maxPerDay < 1 {
            throw refuse("maxPerDay", .outOfRange, "at least 1 (leave it out for no limit)")
        }
        if let step = self.slotStepMinutes, !(5...1440).contains(step) {
            throw refuse("slotStepMinutes", .outOfRange, "5 to 1440 minutes")
        }
    }
}

/// Of intervals sharing a group (a weekday), the first found that overlaps another (touching is allowed): its field and
/// the other's.
private func firstOverlap(_ intervals: [(field: String, group: Int, interval: LocalInterval)]) -> (field: String, other: String)? {
    let sorted = intervals.sorted { ($0.group, $0.interval.start, $0.interval.end) < ($1.group, $1.interval.start, $1.interval.end) }
    for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.group == next.group && next.interval.start < previous.interval.end {
        return (next.field, previous.field)
    }
    return nil
}

/// Why a schedule was refused: `field` is a JSON path (`weekly[1].end`, `overrides[0].date`), `reason` a stable
/// code, `message` the sentence for people. Answer it as a 422.
struct ScheduleValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Reason: String, Sendable, Equatable {
        case unknownTimeZone = "unknown_time_zone"
        case startNotBeforeEnd = "start_not_before_end"
        case overlapping
        case duplicateDate = "duplicate_date"
        case negative
        case outOfRange = "out_of_range"
    }

    var field: String
    var reason: Reason
    var detail: String

    var message: String { "\(self.field): \(self.detail)." }
    var description: String { self.message }
}

/// An appointment already booked: it occupies [start − bufferBefore, end + bufferAfter], its own buffers as they were
/// when it was booked.
struct Booked: Sendable, Hashable {
    var start: Date
    var end: Date
    var bufferBeforeMinutes: Int
    var bufferAfterMinutes: Int

    init(start: Date, end: Date, bufferBeforeMinutes: Int = 0, bufferAfterMinutes: Int = 0) {
        self.start = start
        self.end = end
        self.bufferBeforeMinutes = bufferBeforeMinutes
        self.bufferAfterMinutes = bufferAfterMinutes
    }
}

enum Availability {
    /// The longest period one call looks at; a longer one is cut to this many days after its first possible slot.
    /// Refuse longer periods at the edge.
    static let maximumPeriodDays = 366

    /// The free slots of `durationMinutes` within [`from`, `to`), sorted by start, without duplicates.
    ///
    /// - Working windows: per local date of the schedule's zone, its override's intervals if it has one, else its
    ///   weekday's rules, turned into instants (see the file's header for skipped and repeated wall times).
    /// - Candidates start at each window's start and every `slotStepMinutes` (default: the duration) after; a slot
    ///   lies wholly inside its window and wholly inside [`from`, `to`). The buffers may reach outside the window.
    /// - A candidate [s, e) is refused when [s − bufferBefore, e + bufferAfter] (the schedule's buffers) overlaps a
    ///   booked appointment's [start − its before, end + its after] (touching is fine: the gap between two
    ///   appointments is at least after(first) + before(second)), when [s, e) overlaps a block, when s is before
    ///   `now` + minimum notice, and on a local date that already has `maxPerDay` booked appointments starting in it.
    /// - An unknown time zone, a duration under a minute or an empty period: no slots.
    ///
    /// Cost: O(b log b) for the b appointments and blocks near the period (sorted once), then a binary search per
    /// candidate and per day.
    static func freeSlots(
        schedule: AvailabilitySchedule, booked: [Booked], blocked: [DateInterval], from: Date, to: Date, durationMinutes: Int, now: Date
    ) -> [DateInterval] {
        guard durationMinutes >= 1, let zone = TimeZone(identifier: schedule.timeZone) else { return [] }
        let duration = Double(durationMinutes) * 60
        let step = Double(max(schedule.slotStepMinutes ?? durationMinutes, 1)) * 60
        let before = Double(max(schedule.bufferBeforeMinutes, 0)) * 60
        let after = Double(max(schedule.bufferAfterMinutes, 0)) * 60
        let earliest = max(from.timeIntervalSince1970, now.timeIntervalSince1970 + Double(max(schedule.minimumNoticeMinutes, 0)) * 60)
        let latest = min(to.timeIntervalSince1970, earliest + Double(maximumPeriodDays) * 86_400)
        guard earliest + duration <= latest else { return [] }

        // What a candidate [s, e) must not overlap: each appointment's occupied range widened by the schedule's
        // buffers (after before it, before after it: [s − before, e + after] overlaps [a, b] exactly when [s, e)
        // overlaps [a − after, b + before]), and the blocks; only those near the period, merged and sorted once.
        var busy: [(start: Double, end: Double)] = []
        for appointment in booked {
            let start = appointment.start.timeIntervalSince1970 - Double(max(appointment.bufferBeforeMinutes, 0)) * 60 - after
            let end = appointment.end.timeIntervalSince1970 + Double(max(appointment.bufferAfterMinutes, 0)) * 60 + before
            if start < end, end > earliest, start < latest { busy.append((start, end)) }
        }
        for block in blocked {
            let (start, end) = (block.start.timeIntervalSince1970, block.end.timeIntervalSince1970)
            if start < end, end > earliest, start < latest { busy.append((start, end)) }
        }
        let merged = merge(busy)

        // The starts of appointments on the dates looked at, for maxPerDay.
        let margin = 3.0 * 86_400
        let starts: [Double] =
            schedule.maxPerDay == nil
            ? []
            : booked.lazy.map(\.start.timeIntervalSince1970).filter { $0 >= earliest - margin && $0 < latest + margin }.sorted()

        let weekly = Dictionary(grouping: schedule.weekly, by: \.weekday).mapValues { $0.map { LocalInterval(start: $0.start, end: $0.end) } }
        let overrides = Dictionary(schedule.overrides.map { ($0.date, $0.intervals) }, uniquingKeysWith: { first, _ in first })
        let firstDay = localDate(of: Date(timeIntervalSince1970: earliest), in: zone).daysSince1970 - 1
        let lastDay = localDate(of: Date(timeIntervalSince1970: latest), in: zone).daysSince1970 + 1

        var slots: [DateInterval] = []
        for day in firstDay...lastDay {
            let date = LocalDate(daysSince1970: day)
            let intervals = overrides[date] ?? weekly[date.weekday] ?? []
            if intervals.isEmpty { continue }
            if let maxPerDay = schedule.maxPerDay {
                let dayStart = instant(wall: wallSeconds(date, .midnight), in: zone)
                let dayEnd = instant(wall: wallSeconds(date, .endOfDay), in: zone)
                if lowerBound(starts, dayEnd) - lowerBound(starts, dayStart) >= maxPerDay { continue }
            }
            for interval in intervals {
                let windowStart = instant(wall: wallSeconds(date, interval.start), in: zone)
                let windowEnd = min(instant(wall: wallSeconds(date, interval.end), in: zone), latest)
                var index = earliest > windowStart ? ((earliest - windowStart) / step).rounded(.up) : 0
                while true {
                    let start = windowStart + index * step
                    let end = start + duration
                    if end > windowEnd { break }
                    index += 1
                    let next = merged.partitionPoint { $0.end > start }
                    if next < merged.count, merged[next].start < end { continue }
                    slots.append(DateInterval(start: Date(timeIntervalSince1970: start), end: Date(timeIntervalSince1970: end)))
                }
            }
        }
        slots.sort { $0.start < $1.start }
        return slots.enumerated().compactMap { $0.offset > 0 && slots[$0.offset - 1].start == $0.element.start ? nil : $0.element }
    }

    /// Whether [`start`, `start` + duration) is one of the free slots: on the step grid of its window and free.
    static func isFree(
        start: Date, schedule: AvailabilitySchedule, booked: [Booked], blocked: [DateInterval], durationMinutes: Int, now: Date
    ) -> Bool {
        let end = start.addingTimeInterval(Double(durationMinutes) * 60)
        return freeSlots(schedule: schedule, booked: booked, blocked: blocked, from: start, to: end, durationMinutes: durationMinutes, now: now)
            .contains { $0.start == start }
    }

    /// The working windows of the local dates that meet [`from`, `to`), as instants, sorted (not cut to the period).
    /// An unknown time zone: none.
    static func workingWindows(schedule: AvailabilitySchedule, from: Date, to: Date) -> [DateInterval] {
        guard from < to, let zone = TimeZone(identifier: schedule.timeZone) else { return [] }
        let latest = min(to.timeIntervalSince1970, from.timeIntervalSince1970 + Double(maximumPeriodDays) * 86_400)
        let overrides = Dictionary(schedule.overrides.map { ($0.date, $0.intervals) }, uniquingKeysWith: { first, _ in first })
        var windows: [DateInterval] = []
        for day in localDate(of: from, in: zone).daysSince1970 - 1...localDate(of: Date(timeIntervalSince1970: latest), in: zone).daysSince1970 + 1 {
            let date = LocalDate(daysSince1970: day)
            let intervals = overrides[date] ?? schedule.weekly.filter { $0.weekday == date.weekday }.map { LocalInterval(start: $0.start, end: $0.end) }
            for interval in intervals {
                let start = instant(wall: wallSeconds(date, interval.start), in: zone)
                let end = instant(wall: wallSeconds(date, interval.end), in: zone)
                if start < end, end > from.timeIntervalSince1970, start < latest {
                    windows.append(DateInterval(start: Date(timeIntervalSince1970: start), end: Date(timeIntervalSince1970: end)))
                }
            }
        }
        return windows.sorted { $0.start < $1.start }
    }

    /// The instant at which the wall clock in `zone` reads `time` on `date` (`24:00`: the next date's 00:00). A
    /// skipped time is the first instant after the gap; a repeated time its first occurrence.
    static func instant(of date: LocalDate, _ time: LocalTime, in zone: TimeZone) -> Date {
        Date(timeIntervalSince1970: instant(wall: wallSeconds(date, time), in: zone))
    }

    /// The date on the wall calendar in `zone` at `instant`.
    static func localDate(of instant: Date, in zone: TimeZone) -> LocalDate {
        let seconds = instant.timeIntervalSince1970.rounded(.down) + Double(zone.secondsFromGMT(for: instant))
        return LocalDate(daysSince1970: Int((seconds / 86_400).rounded(.down)))
    }

    /// `instant` as the wall clock in `timeZone` shows it, ISO 8601 with the offset and whole seconds:
    /// `2027-03-28T09:00:00+02:00`; UTC is `+00:00`.
    static func local(_ instant: Date, in timeZone: TimeZone) -> String {
        // A whole-minute offset, so the text names the same instant even for historical offsets with seconds.
        let offset = timeZone.secondsFromGMT(for: instant) / 60 * 60
        let seconds = Int(instant.timeIntervalSince1970.rounded(.down)) + offset
        let days = Int((Double(seconds) / 86_400).rounded(.down))
        let time = seconds - days * 86_400
        let sign = offset < 0 ? "-" : "+"
        return LocalDate(daysSince1970: days).description + "T" + pad(time / 3600, 2) + ":" + pad(time / 60 % 60, 2) + ":" + pad(time % 60, 2) + sign
            + pad(abs(offset) / 3600, 2) + ":" + pad(abs(offset) / 60 % 60, 2)
    }

    /// Seconds since 1970-01-01 00:00 of the wall clock (not an instant).
    private static func wallSeconds(_ date: LocalDate, _ time: LocalTime) -> Int {
        date.daysSince1970 * 86_400 + time.minutes * 60
    }

    /// The instant (seconds since 1970) whose wall time in `zone` is `wall`: the earlier of two, or the first instant
    /// after a gap.
    private static func instant(wall: Int, in zone: TimeZone) -> Double {
        func offset(_ instant: Int) -> Int { zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))) }
        // Offsets lie within −12 h…+14 h, so the instant is within [wall − 14 h, wall + 12 h]: the offsets in force
        // at both ends are the candidates (one transition at most in 28 hours).
        let early = offset(wall - 15 * 3600)
        let late = offset(wall + 13 * 3600)
        let valid = (early == late ? [early] : [early, late]).map { wall - $0 }.filter { $0 + offset($0) == wall }
        if let first = valid.min() { return Double(first) }
        // In a gap: wall − larger offset is before the switch, wall − smaller offset after it; find the switch.
        var low = wall - max(early, late)
        var high = wall - min(early, late)
        guard low < high, low + offset(low) <= wall, high + offset(high) > wall else { return Double(high) }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if middle + offset(middle) > wall { high = middle } else { low = middle }
        }
        return Double(high)
    }

    /// Sorts and merges intervals; touching ones become one.
    private static func merge(_ intervals: [(start: Double, end: Double)]) -> [(start: Double, end: Double)] {
        var merged: [(start: Double, end: Double)] = []
        merged.reserveCapacity(intervals.count)
        for interval in intervals.sorted(by: { $0.start < $1.start }) {
            if let last = merged.last, interval.start <= last.end {
                merged[merged.count - 1].end = max(last.end, interval.end)
            } else {
                merged.append(interval)
            }
        }
        return merged
    }

    /// How many of the sorted `values` are below `bound`.
    private static func lowerBound(_ values: [Double], _ bound: Double) -> Int {
        values.partitionPoint { $0 >= bound }
    }
}

extension RandomAccessCollection where Index == Int {
    /// The first index whose element satisfies `predicate`, which must be false then true along the collection.
    fileprivate func partitionPoint(where predicate: (Element) -> Bool) -> Int {
        var low = self.startIndex
        var high = self.endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

private func digits(_ bytes: ArraySlice<UInt8>) -> Int? {
    var value = 0
    for byte in bytes {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return value
}

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
