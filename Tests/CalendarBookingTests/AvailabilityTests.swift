import Foundation
import Testing

@testable import CalendarBooking

/// The availability engine alone, no database: slots at exact instants in Nairobi (no DST), Malta and Santiago (both
/// switches of 2027, as this machine's tz data has them), presented in the asker's zone; buffers, notice, maxPerDay
/// on local days, overrides, blocks, steps, no rules, and the schedule's validation.
@Suite struct AvailabilityTests {
    static let nairobi = TimeZone(identifier: "Africa/Nairobi")!
    static let malta = TimeZone(identifier: "Europe/Malta")!
    static let santiago = TimeZone(identifier: "America/Santiago")!
    static let longAgo = "2020-01-01T00:00:00Z"

    // MARK: helpers

    /// An instant from ISO 8601 (`2027-03-01T06:00:00Z`).
    static func at(_ text: String) -> Date {
        guard let date = ISO8601DateFormatter().date(from: text) else { preconditionFailure("bad instant \(text)") }
        return date
    }

    /// The slots' starts in UTC, ISO 8601; each slot is also checked to last `duration` minutes.
    static func starts(_ slots: [DateInterval], duration: Int) -> [String] {
        let formatter = ISO8601DateFormatter()
        for slot in slots { #expect(slot.duration == Double(duration) * 60, "\(slot)") }
        return slots.map { formatter.string(from: $0.start) }
    }

    static func slots(
        _ schedule: AvailabilitySchedule, from: String, to: String, duration: Int, booked: [Booked] = [], blocked: [DateInterval] = [],
        now: String = longAgo
    ) -> [String] {
        let slots = Availability.freeSlots(
            schedule: schedule, booked: booked, blocked: blocked, from: at(from), to: at(to), durationMinutes: duration, now: at(now))
        return starts(slots, duration: duration)
    }

    /// Every day of the week, `start`–`end`.
    static func everyDay(_ start: LocalTime, _ end: LocalTime) -> [WeeklyRule] {
        (1...7).map { WeeklyRule(weekday: $0, start: start, end: end) }
    }

    static func local(_ slots: [String], in zone: TimeZone) -> [String] {
        slots.map { Availability.local(at($0), in: zone) }
    }

    static func refusal(_ schedule: AvailabilitySchedule) -> ScheduleValidationError? {
        do {
            try schedule.validate()
            return nil
        } catch {
            return error
        }
    }

    // MARK: Nairobi, UTC+3 all year

    @Test func nairobiMondayMorningHasSixHalfHours() {
        let schedule = AvailabilitySchedule(timeZone: "Africa/Nairobi", weekly: [WeeklyRule(weekday: 1, start: "09:00", end: "12:00")])
        // a whole local week, Sunday 2027-02-28 00:00 to Sunday 2027-03-07 24:00 in Nairobi
        let slots = Self.slots(schedule, from: "2027-02-27T21:00:00Z", to: "2027-03-07T21:00:00Z", duration: 30)
        #expect(
            slots == [
                "2027-03-01T06:00:00Z", "2027-03-01T06:30:00Z", "2027-03-01T07:00:00Z", "2027-03-01T07:30:00Z", "2027-03-01T08:00:00Z",
                "2027-03-01T08:30:00Z",
            ])
        #expect(Self.local(slots, in: Self.nairobi).first == "2027-03-01T09:00:00+03:00")
        #expect(Self.local(slots, in: Self.nairobi).last == "2027-03-01T11:30:00+03:00")
    }

    // MARK: Malta, CET/CEST

    @Test func maltaNineToFiveIsEightHoursAcrossSpringForward() {
        let schedule = AvailabilitySchedule(timeZone: "Europe/Malta", weekly: Self.everyDay("09:00", "17:00"))
        // Saturday 2027-03-27 00:00 CET to Monday 2027-03-29 00:00 CEST
        let slots = Self.slots(schedule, from: "2027-03-26T23:00:00Z", to: "2027-03-28T22:00:00Z", duration: 60)
        let saturday = (8...15).map { "2027-03-27T\(String(format: "%02d", $0)):00:00Z" }
        let sunday = (7...14).map { "2027-03-28T\(String(format: "%02d", $0)):00:00Z" }
        #expect(slots == saturday + sunday)
        #expect(Availability.local(Self.at("2027-03-27T08:00:00Z"), in: Self.malta) == "2027-03-27T09:00:00+01:00")
        #expect(Availability.local(Self.at("2027-03-28T07:00:00Z"), in: Self.malta) == "2027-03-28T09:00:00+02:00")
        let windows = Availability.workingWindows(schedule: schedule, from: Self.at("2027-03-27T23:00:00Z"), to: Self.at("2027-03-28T22:00:00Z"))
        #expect(windows == [DateInterval(start: Self.at("2027-03-28T07:00:00Z"), duration: 8 * 3600)])
    }

    @Test func maltaNineToFiveIsEightHoursAcrossFallBack() {
        let schedule = AvailabilitySchedule(timeZone: "Europe/Malta", weekly: Self.everyDay("09:00", "17:00"))
        // Saturday 2027-10-30 00:00 CEST to Monday 2027-11-01 00:00 CET
        let slots = Self.slots(schedule, from: "2027-10-29T22:00:00Z", to: "2027-10-31T23:00:00Z", duration: 60)
        let saturday = (7...14).map { "2027-10-30T\(String(format: "%02d", $0)):00:00Z" }
        let sunday = (8...15).map { "2027-10-31T\(String(format: "%02d", $0)):00:00Z" }
        #expect(slots == saturday + sunday)
        #expect(Self.local(slots, in: Self.malta).first == "2027-10-30T09:00:00+02:00")
        #expect(Self.local(slots, in: Self.malta).last == "2027-10-31T16:00:00+01:00")
    }

    @Test func maltaSpringForwardLosesTheGapHour() {
        // 2027-03-28: at 02:00 CET the clocks go to 03:00 CEST; 01:00–04:00 is 2 hours
        let schedule = AvailabilitySchedule(timeZone: "Europe/Malta", weekly: [WeeklyRule(weekday: 7, start: "01:00", end: "04:00")])
        let slots = Self.slots(schedule, from: "2027-03-27T23:00:00Z", to: "2027-03-28T22:00:00Z", duration: 30)
        #expect(slots == ["2027-03-28T00:00:00Z", "2027-03-28T00:30:00Z", "2027-03-28T01:00:00Z", "2027-03-28T01:30:00Z"])
        #expect(
            Self.local(slots, in: Self.malta) == [
                "2027-03-28T01:00:00+01:00", "2027-03-28T01:30:00+01:00", "2027-03-28T03:00:00+02:00", "2027-03-28T03:30:00+02:00",
            ])
    }

    @Test func maltaWallTimeInTheGapIsTheFirstInstantAfterIt() {
        let date: LocalDate = "2027-03-28"
        for time: LocalTime in ["02:00", "02:30", "02:59", "03:00"] {
            #expect(Availability.instant(of: date, time, in: Self.malta) == Self.at("2027-03-28T01:00:00Z"), "\(time)")
        }
        #expect(Availability.instant(of: date, "01:59", in: Self.malta) == Self.at("2027-03-28T00:59:00Z"))
        // an edge in the gap shortens its window; a window wholly inside it is empty
        let schedule = AvailabilitySchedule(
            timeZone: "Europe/Malta",
            overrides: [
                DateOverride(
                    date: date,
                    intervals: [
                        LocalInterval(start: "01:00", end: "02:30"), LocalInterval(start: "02:30", end: "02:45"), LocalInterval(start: "02:45", end: "04:00"),
                    ])
            ])
        let slots = Self.slots(schedule, from: "2027-03-27T23:00:00Z", to: "2027-03-28T22:00:00Z", duration: 30)
        #expect(slots == ["2027-03-28T00:00:00Z", "2027-03-28T00:30:00Z", "2027-03-28T01:00:00Z", "2027-03-28T01:30:00Z"])
    }

    @Test func maltaFallBackUsesTheRepeatedHourTwice() {
        // 2027-10-31: at 03:00 CEST the clocks go back to 02:00 CET; 01:00–04:00 is 4 hours, 02:00–03:00 twice
        let schedule = AvailabilitySchedule(timeZone: "Europe/Malta", weekly: [WeeklyRule(weekday: 7, start: "01:00", end: "04:00")])
        let slots = Self.slots(schedule, from: "2027-10-30T22:00:00Z", to: "2027-10-31T23:00:00Z", duration: 30)
        #expect(
            slots == [
                "2027-10-30T23:00:00Z", "2027-10-30T23:30:00Z", "2027-10-31T00:00:00Z", "2027-10-31T00:30:00Z", "2027-10-31T01:00:00Z",
                "2027-10-31T01:30:00Z", "2027-10-31T02:00:00Z", "2027-10-31T02:30:00Z",
            ])
        #expect(
            Self.local(slots, in: Self.malta) == [
                "2027-10-31T01:00:00+02:00", "2027-10-31T01:30:00+02:00", "2027-10-31T02:00:00+02:00", "2027-10-31T02:30:00+02:00",
                "2027-10-31T02:00:00+01:00", "2027-10-31T02:30:00+01:00", "2027-10-31T03:00:00+01:00", "2027-10-31T03:30:00+01:00",
            ])
    }

    @Test func maltaRepeatedWallTimeIsItsFirstOccurrence() {
        #expect(Availability.instant(of: "2027-10-31", "02:30", in: Self.malta) == Self.at("2027-10-31T00:30:00Z"))
        #expect(Availability.instant(of: "2027-10-31", "03:00", in: Self.malta) == Self.at("2027-10-31T02:00:00Z"))
        // 00:00–02:30 ends at the first 02:30 (CEST): 2.5 hours
        let schedule = AvailabilitySchedule(
            timeZone: "Europe/Malta", overrides: [DateOverride(date: "2027-10-31", intervals: [LocalInterval(start: "00:00", end: "02:30")])])
        let slots = Self.slots(schedule, from: "2027-10-30T22:00:00Z", to: "2027-10-31T23:00:00Z", duration: 30)
        #expect(slots.count == 5)
        #expect(slots.first == "2027-10-30T22:00:00Z")
        #expect(slots.last == "2027-10-31T00:00:00Z")
    }

    // MARK: Santiago, Chile

    /// What the tz data on this machine says (tzdata 2025b): 2027-04-04 00:00 -03 falls back to 2027-04-03 23:00 -04
    /// (at 03:00Z); 2027-09-05 00:00 -04 springs to 01:00 -03 (at 04:00Z).
    @Test func santiagoTransitionsAsTheTzDataHasThem() {
        let zone = Self.santiago
        #expect(zone.secondsFromGMT(for: Self.at("2027-04-04T02:59:59Z")) == -3 * 3600)
        #expect(zone.secondsFromGMT(for: Self.at("2027-04-04T03:00:00Z")) == -4 * 3600)
        #expect(zone.secondsFromGMT(for: Self.at("2027-09-05T03:59:59Z")) == -4 * 3600)
        #expect(zone.secondsFromGMT(for: Self.at("2027-09-05T04:00:00Z")) == -3 * 3600)
        #expect(Availability.local(Self.at("2027-04-04T02:59:00Z"), in: zone) == "2027-04-03T23:59:00-03:00")
        #expect(Availability.local(Self.at("2027-04-04T03:00:00Z"), in: zone) == "2027-04-03T23:00:00-04:00")
        #expect(Availability.local(Self.at("2027-09-05T03:59:00Z"), in: zone) == "2027-09-04T23:59:00-04:00")
        #expect(Availability.local(Self.at("2027-09-05T04:00:00Z"), in: zone) == "2027-09-05T01:00:00-03:00")
    }

    @Test func santiagoFallBackRepeatsSaturdaysLastHour() {
        let schedule = AvailabilitySchedule(
            timeZone: "America/Santiago",
            weekly: [WeeklyRule(weekday: 6, start: "22:00", end: "24:00"), WeeklyRule(weekday: 7, start: "00:00", end: "03:00")])
        // Saturday 2027-04-03 00:00 -03 to Monday 2027-04-05 00:00 -04
        let slots = Self.slots(schedule, from: "2027-04-03T03:00:00Z", to: "2027-04-05T04:00:00Z", duration: 60)
        #expect(
            slots == [
                "2027-04-04T01:00:00Z", "2027-04-04T02:00:00Z", "2027-04-04T03:00:00Z", "2027-04-04T04:00:00Z", "2027-04-04T05:00:00Z",
                "2027-04-04T06:00:00Z",
            ])
        #expect(
            Self.local(slots, in: Self.santiago) == [
                "2027-04-03T22:00:00-03:00", "2027-04-03T23:00:00-03:00", "2027-04-03T23:00:00-04:00", "2027-04-04T00:00:00-04:00",
                "2027-04-04T01:00:00-04:00", "2027-04-04T02:00:00-04:00",
            ])
    }

    @Test func santiagoSpringForwardHasNoSlotAtTheMissingMidnight() {
        let schedule = AvailabilitySchedule(
            timeZone: "America/Santiago",
            weekly: [WeeklyRule(weekday: 6, start: "22:00", end: "24:00"), WeeklyRule(weekday: 7, start: "00:00", end: "03:00")])
        // Saturday 2027-09-04 00:00 -04 to Monday 2027-09-06 00:00 -03
        let slots = Self.slots(schedule, from: "2027-09-04T04:00:00Z", to: "2027-09-06T03:00:00Z", duration: 30)
        #expect(
            slots == [
                "2027-09-05T02:00:00Z", "2027-09-05T02:30:00Z", "2027-09-05T03:00:00Z", "2027-09-05T03:30:00Z",  // Saturday 22:00–24:00 -04
                "2027-09-05T04:00:00Z", "2027-09-05T04:30:00Z", "2027-09-05T05:00:00Z", "2027-09-05T05:30:00Z",  // Sunday 01:00–03:00 -03
            ])
        let local = Self.local(slots, in: Self.santiago)
        #expect(!local.contains { $0.hasPrefix("2027-09-05T00:") })
        #expect(local[4] == "2027-09-05T01:00:00-03:00")
        #expect(Availability.instant(of: "2027-09-05", .midnight, in: Self.santiago) == Self.at("2027-09-05T04:00:00Z"))
        #expect(Availability.localDate(of: Self.at("2027-09-05T03:59:00Z"), in: Self.santiago) == "2027-09-04")
        #expect(Availability.localDate(of: Self.at("2027-09-05T04:00:00Z"), in: Self.santiago) == "2027-09-05")
    }

    @Test func santiagoNineToFiveIsEightHoursOnBothSwitches() {
        let schedule = AvailabilitySchedule(timeZone: "America/Santiago", weekly: Self.everyDay("09:00", "17:00"))
        let april = Self.slots(schedule, from: "2027-04-03T03:00:00Z", to: "2027-04-05T04:00:00Z", duration: 60)
        #expect(april == (12...19).map { "2027-04-03T\($0):00:00Z" } + (13...20).map { "2027-04-04T\($0):00:00Z" })
        let september = Self.slots(schedule, from: "2027-09-04T04:00:00Z", to: "2027-09-06T03:00:00Z", duration: 60)
        #expect(september == (13...20).map { "2027-09-04T\($0):00:00Z" } + (12...19).map { "2027-09-05T\($0):00:00Z" })
    }

    // MARK: the asker's zone

    @Test func nairobiSlotsPresentedToAnAskerInMalta() {
        let schedule = AvailabilitySchedule(timeZone: "Africa/Nairobi", weekly: [WeeklyRule(weekday: 1, start: "09:00", end: "10:00")])
        // the Mondays before and after Malta's switch to summer time
        let slots = Self.slots(schedule, from: "2027-03-21T21:00:00Z", to: "2027-03-29T21:00:00Z", duration: 60)
        #expect(slots == ["2027-03-22T06:00:00Z", "2027-03-29T06:00:00Z"])
        #expect(Self.local(slots, in: Self.malta) == ["2027-03-22T07:00:00+01:00", "2027-03-29T08:00:00+02:00"])
        #expect(Self.local(slots, in: Self.nairobi) == ["2027-03-22T09:00:00+03:00", "2027-03-29T09:00:00+03:00"])
        #expect(Self.local(slots, in: Self.santiago) == ["2027-03-22T03:00:00-03:00", "2027-03-29T03:00:00-03:00"])
        #expect(Self.local(slots, in: TimeZone(identifier: "UTC")!) == ["2027-03-22T06:00:00+00:00", "2027-03-29T06:00:00+00:00"])
        #expect(Self.local(slots, in: TimeZone(identifier: "Asia/Kolkata")!) == ["2027-03-22T11:30:00+05:30", "2027-03-29T11:30:00+05:30"])
    }

    // MARK: what is already taken

    @Test func buffersOnBothSidesKeepTheirGap() {
        // Monday 2027-03-01 in Nairobi, 08:00–14:00, slots every 5 minutes; an appointment 10:00–11:00 (07:00Z–08:00Z)
        func around(scheduleBefore: Int, scheduleAfter: Int, bookedBefore: Int, bookedAfter: Int) -> (lastBefore: String?, firstAfter: String?) {
            let schedule = AvailabilitySchedule(
                timeZone: "Africa/Nairobi", weekly: [WeeklyRule(weekday: 1, start: "08:00", end: "14:00")], bufferBeforeMinutes: scheduleBefore,
                bufferAfterMinutes: scheduleAfter, slotStepMinutes: 5)
            let booked = Booked(
                start: Self.at("2027-03-01T07:00:00Z"), end: Self.at("2027-03-01T08:00:00Z"), bufferBeforeMinutes: bookedBefore, bufferAfterMinutes: bookedAfter
            )
            let slots = Self.slots(schedule, from: "2027-03-01T00:00:00Z", to: "2027-03-02T00:00:00Z", duration: 30, booked: [booked])
            #expect(slots.first == "2027-03-01T05:00:00Z")
            #expect(slots.last == "2027-03-01T10:30:00Z")
            return (slots.last { $0 < "2027-03-01T07:00:00Z" }, slots.first { $0 >= "2027-03-01T07:00:00Z" })
        }
        // no buffers: 09:30–10:00 and 11:00–11:30 touch it
        #expect(around(scheduleBefore: 0, scheduleAfter: 0, bookedBefore: 0, bookedAfter: 0) == ("2027-03-01T06:30:00Z", "2027-03-01T08:00:00Z"))
        // the new slot's buffers: 15 after it (ends 09:45), 10 before it (starts 11:10)
        #expect(around(scheduleBefore: 10, scheduleAfter: 15, bookedBefore: 0, bookedAfter: 0) == ("2027-03-01T06:15:00Z", "2027-03-01T08:10:00Z"))
        // the booked one's buffers: 5 before it, 20 after it
        #expect(around(scheduleBefore: 0, scheduleAfter: 0, bookedBefore: 5, bookedAfter: 20) == ("2027-03-01T06:25:00Z", "2027-03-01T08:20:00Z"))
        // both: gaps of 15 + 5 before it and 20 + 10 after it
        #expect(around(scheduleBefore: 10, scheduleAfter: 15, bookedBefore: 5, bookedAfter: 20) == ("2027-03-01T06:10:00Z", "2027-03-01T08:30:00Z"))
    }

    @Test func minimumNoticeAndThePast() {
        let now = "2027-03-01T05:20:00Z"  // Monday 08:20 in Nairobi
        func slots(notice: Int) -> [String] {
            let schedule = AvailabilitySchedule(
                timeZone: "Africa/Nairobi", weekly: [WeeklyRule(weekday: 1, start: "08:00", end: "12:00")], minimumNoticeMinutes: notice)
            return Self.slots(schedule, from: "2027-02-28T21:00:00Z", to: "2027-03-01T21:00:00Z", duration: 30, now: now)
        }
        // nothing that started already; the grid stays on the window's half hours
        #expect(slots(notice: 0).first == "2027-03-01T05:30:00Z")
        #expect(slots(notice: 0).count == 7)
        #expect(slots(notice: 60) == ["2027-03-01T06:30:00Z", "2027-03-01T07:00:00Z", "2027-03-01T07:30:00Z", "2027-03-01T08:00:00Z", "2027-03-01T08:30:00Z"])
        #expect(slots(notice: 24 * 60).isEmpty)
    }

    @Test func maxPerDayCountsTheAgentsLocalDay() {
        // 2027-03-01T22:30Z is Monday in UTC but Tuesday 01:30 in Nairobi: it fills Tuesday, not Monday
        let booked = Booked(start: Self.at("2027-03-01T22:30:00Z"), end: Self.at("2027-03-01T23:00:00Z"))
        func slots(maxPerDay: Int) -> [String] {
            let schedule = AvailabilitySchedule(
                timeZone: "Africa/Nairobi",
                weekly: [WeeklyRule(weekday: 1, start: "09:00", end: "12:00"), WeeklyRule(weekday: 2, start: "09:00", end: "12:00")], maxPerDay: maxPerDay)
            return Self.slots(schedule, from: "2027-02-28T21:00:00Z", to: "2027-03-02T21:00:00Z", duration: 60, booked: [booked])
        }
        let monday = ["2027-03-01T06:00:00Z", "2027-03-01T07:00:00Z", "2027-03-01T08:00:00Z"]
        let tuesday = ["2027-03-02T06:00:00Z", "2027-03-02T07:00:00Z", "2027-03-02T08:00:00Z"]
        #expect(slots(maxPerDay: 1) == monday)
        #expect(slots(maxPerDay: 2) == monday + tuesday)
    }

    @Test func overridesCloseADayShortenOneAndOpenAnother() {
        let schedule = AvailabilitySchedule(
            timeZone: "Africa/Nairobi", weekly: (1...5).map { WeeklyRule(weekday: $0, start: "09:00", end: "17:00") },
            overrides: [
                DateOverride(date: "2027-03-01", intervals: []),  // Monday: closed
                DateOverride(date: "2027-03-02", intervals: [LocalInterval(start: "10:00", end: "12:00")]),  // Tuesday: short
                DateOverride(date: "2027-03-06", intervals: [LocalInterval(start: "09:00", end: "10:00")]),  // Saturday: open
            ])
        #expect(Self.refusal(schedule) == nil)
        let slots = Self.slots(schedule, from: "2027-02-28T21:00:00Z", to: "2027-03-07T21:00:00Z", duration: 60)
        let byDate = Dictionary(grouping: slots) { Availability.localDate(of: Self.at($0), in: Self.nairobi).description }
        #expect(byDate["2027-03-01"] == nil)
        #expect(byDate["2027-03-02"] == ["2027-03-02T07:00:00Z", "2027-03-02T08:00:00Z"])
        #expect(byDate["2027-03-03"]?.count == 8)
        #expect(byDate["2027-03-04"]?.count == 8)
        #expect(byDate["2027-03-05"]?.count == 8)
        #expect(byDate["2027-03-06"] == ["2027-03-06T06:00:00Z"])
        #expect(byDate["2027-03-07"] == nil)
        #expect(slots.count == 27)
    }

    @Test func blocksTakeNoBuffers() {
        let schedule = AvailabilitySchedule(
            timeZone: "Africa/Nairobi", weekly: [WeeklyRule(weekday: 1, start: "09:00", end: "12:00")], bufferBeforeMinutes: 15, bufferAfterMinutes: 15)
        let blocked = [
            DateInterval(start: Self.at("2027-03-01T05:00:00Z"), end: Self.at("2027-03-01T06:00:00Z")),  // ends as the day starts
            DateInterval(start: Self.at("2027-03-01T07:00:00Z"), end: Self.at("2027-03-01T07:45:00Z")),  // 10:00–10:45
        ]
        let slots = Self.slots(schedule, from: "2027-02-28T21:00:00Z", to: "2027-03-01T21:00:00Z", duration: 30, blocked: blocked)
        #expect(slots == ["2027-03-01T06:00:00Z", "2027-03-01T06:30:00Z", "2027-03-01T08:00:00Z", "2027-03-01T08:30:00Z"])
    }

    // MARK: the grid and the period

    @Test func stepSmallerThanTheDuration() {
        let schedule = AvailabilitySchedule(timeZone: "Africa/Nairobi", weekly: [WeeklyRule(weekday: 1, start: "08:00", end: "10:00")], slotStepMinutes: 15)
        let slots = Self.slots(schedule, from: "2027-02-28T21:00:00Z", to: "2027-03-01T21:00:00Z", duration: 60)
        #expect(slots == ["2027-03-01T05:00:00Z", "2027-03-01T05:15:00Z", "2027-03-01T05:30:00Z", "2027-03-01T05:45:00Z", "2027-03-01T06:00:00Z"])
    }

    @Test func onlySlotsWhollyInsideThePeriodOnTheWindowsGrid() {
        let schedule = AvailabilitySchedule(timeZone: "Africa/Nairobi", weekly: [WeeklyRule(weekday: 1, start: "09:00", end: "12:00")])
        let slots = Self.slots(schedule, from: "2027-03-01T06:15:00Z", to: "2027-03-01T08:15:00Z", duration: 30)
        #expect(slots == ["2027-03-01T06:30:00Z", "2027-03-01T07:00:00Z", "2027-03-01T07:30:00Z"])
        #expect(Self.slots(schedule, from: "2027-03-01T08:00:00Z", to: "2027-03-01T06:00:00Z", duration: 30).isEmpty)
        #expect(Self.slots(schedule, from: "2027-02-28T21:00:00Z", to: "2027-03-01T21:00:00Z", duration: 0).isEmpty)
    }

    @Test func sortedWithoutDuplicatesWhateverTheRulesOrder() {
        // not validated: duplicate and overlapping rules still give each slot once, in order
        let schedule = AvailabilitySchedule(
            timeZone: "Africa/Nairobi",
            weekly: [
                WeeklyRule(weekday: 1, start: "14:00", end: "17:00"), WeeklyRule(weekday: 1, start: "08:00", end: "12:00"),
                WeeklyRule(weekday: 1, start: "08:00", end: "12:00"), WeeklyRule(weekday: 1, start: "09:00", end: "10:00"),
            ])
        let slots = Self.slots(schedule, from: "2027-02-28T21:00:00Z", to: "2027-03-01T21:00:00Z", duration: 60)
        #expect(slots == ["05", "06", "07", "08", "11", "12", "13"].map { "2027-03-01T\($0):00:00Z" })
    }

    @Test func noRulesNoSlotsEver() {
        let empty = AvailabilitySchedule(timeZone: "Africa/Nairobi")
        #expect(Self.refusal(empty) == nil)
        #expect(Self.slots(empty, from: "2027-01-01T00:00:00Z", to: "2027-12-31T00:00:00Z", duration: 30).isEmpty)
        let closed = AvailabilitySchedule(timeZone: "Europe/Malta", overrides: [DateOverride(date: "2027-03-01", intervals: [])])
        #expect(Self.slots(closed, from: "2027-01-01T00:00:00Z", to: "2027-12-31T00:00:00Z", duration: 30).isEmpty)
        let unknownZone = AvailabilitySchedule(timeZone: "Mars/Olympus_Mons", weekly: Self.everyDay("09:00", "17:00"))
        #expect(Self.slots(unknownZone, from: "2027-01-01T00:00:00Z", to: "2027-01-08T00:00:00Z", duration: 30).isEmpty)
    }

    @Test func isFreeOnlyOnTheGridAndWhenFree() {
        let schedule = AvailabilitySchedule(timeZone: "Africa/Nairobi", weekly: [WeeklyRule(weekday: 1, start: "09:00", end: "12:00")])
        let now = Self.at(Self.longAgo)
        func free(_ start: String, booked: [Booked] = []) -> Bool {
            Availability.isFree(start: Self.at(start), schedule: schedule, booked: booked, blocked: [], durationMinutes: 30, now: now)
        }
        #expect(free("2027-03-01T06:30:00Z"))
        #expect(!free("2027-03-01T06:40:00Z"))
        #expect(!free("2027-03-01T09:00:00Z"))
        #expect(!free("2027-03-01T06:30:00Z", booked: [Booked(start: Self.at("2027-03-01T06:45:00Z"), end: Self.at("2027-03-01T07:15:00Z"))]))
    }

    // MARK: the schedule's own values

    @Test func validateRefusesWhatTheEngineWouldMisread() {
        let monday = WeeklyRule(weekday: 1, start: "08:00", end: "12:00")
        /// "field reason", or nil when valid.
        func refused(_ schedule: AvailabilitySchedule) -> String? {
            Self.refusal(schedule).map { "\($0.field) \($0.reason.rawValue)" }
        }
        let valid = AvailabilitySchedule(
            timeZone: "Europe/Malta",
            weekly: [monday, WeeklyRule(weekday: 1, start: "12:00", end: "17:00"), WeeklyRule(weekday: 2, start: "11:00", end: "24:00")],
            overrides: [
                DateOverride(date: "2027-12-25", intervals: []), DateOverride(date: "2027-12-24", intervals: [LocalInterval(start: "08:00", end: "12:00")]),
            ],
            bufferBeforeMinutes: 0, bufferAfterMinutes: 1440, minimumNoticeMinutes: 0, maxPerDay: 1, slotStepMinutes: 5)
        #expect(Self.refusal(valid) == nil)
        var step1440 = valid
        step1440.slotStepMinutes = 1440
        #expect(Self.refusal(step1440) == nil)

        func with(_ change: (inout AvailabilitySchedule) -> Void) -> AvailabilitySchedule {
            var schedule = valid
            change(&schedule)
            return schedule
        }
        #expect(refused(with { $0.timeZone = "Mars/Olympus_Mons" }) == "timeZone unknown_time_zone")
        #expect(refused(with { $0.weekly.append(WeeklyRule(weekday: 8, start: "08:00", end: "09:00")) }) == "weekly[3].weekday out_of_range")
        #expect(refused(with { $0.weekly.append(WeeklyRule(weekday: 3, start: "12:00", end: "09:00")) }) == "weekly[3].end start_not_before_end")
        #expect(refused(with { $0.weekly.append(WeeklyRule(weekday: 3, start: "09:00", end: "09:00")) }) == "weekly[3].end start_not_before_end")
        #expect(refused(with { $0.weekly.append(WeeklyRule(weekday: 1, start: "16:00", end: "18:00")) }) == "weekly[3] overlapping")
        #expect(refused(with { $0.weekly.insert(WeeklyRule(weekday: 1, start: "07:00", end: "08:30"), at: 0) }) == "weekly[1] overlapping")
        #expect(refused(with { $0.overrides.append(DateOverride(date: "2027-12-25", intervals: [])) }) == "overrides[2].date duplicate_date")
        #expect(
            refused(with { $0.overrides[0].intervals = [LocalInterval(start: "10:00", end: "10:00")] }) == "overrides[0].intervals[0].end start_not_before_end")
        #expect(
            refused(with { $0.overrides[1].intervals.append(LocalInterval(start: "11:00", end: "13:00")) }) == "overrides[1].intervals[1] overlapping")
        #expect(refused(with { $0.bufferBeforeMinutes = -5 }) == "bufferBeforeMinutes negative")
        #expect(refused(with { $0.bufferAfterMinutes = -1 }) == "bufferAfterMinutes negative")
        #expect(refused(with { $0.bufferAfterMinutes = 1441 }) == "bufferAfterMinutes out_of_range")
        #expect(refused(with { $0.minimumNoticeMinutes = -1 }) == "minimumNoticeMinutes negative")
        #expect(refused(with { $0.maxPerDay = 0 }) == "maxPerDay out_of_range")
        #expect(refused(with { $0.slotStepMinutes = 4 }) == "slotStepMinutes out_of_range")
        #expect(refused(with { $0.slotStepMinutes = 1441 }) == "slotStepMinutes out_of_range")
        #expect(Self.refusal(with { $0.timeZone = "Nowhere" })?.message.hasPrefix("timeZone: ") == true)
    }

    @Test func localTimesAndDatesParseStrictly() {
        // parsed from variables: a literal would go through the tests' ExpressibleByStringLiteral
        for (text, minutes) in [("00:00", 0), ("09:05", 545), ("23:59", 1439), ("24:00", 1440)] {
            #expect(LocalTime(text)?.minutes == minutes, "\(text)")
            #expect(LocalTime(text)?.description == text)
        }
        for bad in ["9:00", "24:01", "25:00", "12:60", "ab:cd", "12-00", "12:000", "-1:00", ""] {
            #expect(LocalTime(bad) == nil, "\(bad)")
        }
        #expect(LocalTime(minutes: 1441) == nil)
        #expect(LocalTime(hour: 9, minute: 5)?.description == "09:05")
        #expect(LocalTime.endOfDay.description == "24:00")

        for text in ["2028-02-29", "2000-02-29", "2027-03-01", "0001-01-01", "9999-12-31"] {
            #expect(LocalDate(text)?.description == text, "\(text)")
        }
        for bad in ["2027-02-29", "2027-02-30", "2100-02-29", "2027-04-31", "2027-13-01", "2027-00-10", "2027-1-01", "27-01-01", "0000-01-01", "2027/01/01"] {
            #expect(LocalDate(bad) == nil, "\(bad)")
        }
        #expect(LocalDate(year: 2027, month: 2, day: 30) == nil)
        #expect(LocalDate(year: 2028, month: 2, day: 29)?.description == "2028-02-29")
        #expect(LocalDate(daysSince1970: 0) == "1970-01-01")
        #expect(("1970-01-01" as LocalDate).weekday == 4)
        #expect(("2027-03-01" as LocalDate).weekday == 1)
        #expect(("2027-03-28" as LocalDate).weekday == 7)
        for day in stride(from: -800_000, through: 2_900_000, by: 997) {
            #expect(LocalDate(daysSince1970: day).daysSince1970 == day)
        }
        #expect(("2027-02-28" as LocalDate).adding(days: 1) == "2027-03-01")
        #expect(("2028-02-28" as LocalDate).adding(days: 1) == "2028-02-29")
        #expect(("2028-01-01" as LocalDate).adding(days: -1) == "2027-12-31")
    }

    @Test func scheduleIsStoredAsJSON() throws {
        let json = #"""
            {"timeZone":"Europe/Malta","weekly":[{"weekday":1,"start":"09:00","end":"24:00"}],"overrides":[{"date":"2027-12-25","intervals":[]}]}
            """#
        let schedule = try JSONDecoder().decode(AvailabilitySchedule.self, from: Data(json.utf8))
        #expect(
            schedule
                == AvailabilitySchedule(
                    timeZone: "Europe/Malta", weekly: [WeeklyRule(weekday: 1, start: "09:00", end: "24:00")],
                    overrides: [DateOverride(date: "2027-12-25", intervals: [])]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(schedule), as: UTF8.self)
        #expect(text.contains(#""start":"09:00""#))
        #expect(text.contains(#""date":"2027-12-25""#))
        #expect(!text.contains("maxPerDay"))
        #expect(try JSONDecoder().decode(AvailabilitySchedule.self, from: Data(text.utf8)) == schedule)
        for bad in [
            #"{"timeZone":"Europe/Malta","weekly":[{"weekday":1,"start":"9:00","end":"12:00"}]}"#,
            #"{"timeZone":"Europe/Malta","overrides":[{"date":"2027-02-30","intervals":[]}]}"#,
        ] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(AvailabilitySchedule.self, from: Data(bad.utf8)) }
        }
    }
}

// Literals for readable tests (`"09:00"`, `"2027-03-28"`); a malformed one stops the test run.
extension LocalTime: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) {
        guard let time = LocalTime(text) else { preconditionFailure("not a local time (HH:mm): \(text)") }
        self = time
    }
}

extension LocalDate: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) {
        guard let date = LocalDate(text) else { preconditionFailure("not a valid date (yyyy-MM-dd): \(text)") }
        self = date
    }
}
