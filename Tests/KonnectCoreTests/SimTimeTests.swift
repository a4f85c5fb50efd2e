import Testing

@testable import KonnectCore

@Suite struct SimTimeTests {
    @Test func epochIsZeroSeconds() {
        #expect(SimTime(year: 1970, month: 1, day: 1).seconds == 0)
        #expect(SimTime(seconds: 0).iso8601 == "1970-01-01T00:00:00Z")
    }

    @Test func defaultStartIsFirstOfJanuary2026() {
        #expect(SimTime.defaultStart.iso8601 == "2026-01-01T00:00:00Z")
        #expect(SimTime.defaultStart.seconds == 1_767_225_600)
    }

    @Test(arguments: [
        ("2026-01-31T00:00:00Z", 2026, 1, 31, 0, 0, 0),
        ("2028-02-29T12:34:56Z", 2028, 2, 29, 12, 34, 56),
        ("2000-02-29T00:00:00Z", 2000, 2, 29, 0, 0, 0),
        ("2026-12-31T23:59:59Z", 2026, 12, 31, 23, 59, 59),
        ("1969-12-31T23:59:59Z", 1969, 12, 31, 23, 59, 59),
        ("0999-03-01T00:00:00Z", 999, 3, 1, 0, 0, 0),
    ])
    func componentsFormatAsRFC3339(text: String, year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        let time = SimTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        #expect(time.iso8601 == text)
        #expect(time.description == text)
        #expect(SimTime(iso8601: text) == time)
    }

    @Test func leapDayFollowsFebruary28In2028() {
        let leapDay = SimTime(year: 2028, month: 2, day: 28) + .days(1)
        #expect(leapDay.iso8601 == "2028-02-29T00:00:00Z")
        #expect((leapDay + .days(1)).iso8601 == "2028-03-01T00:00:00Z")
        #expect((SimTime(year: 2026, month: 2, day: 28) + .days(1)).iso8601 == "2026-03-01T00:00:00Z")
    }

    @Test func everyDayFrom1999To2100FormatsAndParsesToItsCalendarDate() {
        // Walks day by day, keeping the civil date by hand, so leap days (2000, 2004, ..., 2096) and
        // the non-leap century 2100 are all covered.
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var moment = SimTime(year: 1999, month: 1, day: 1)
        var (year, month, day) = (1999, 1, 1)
        var mismatches: [String] = []
        while year < 2101 {
            let text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T00:00:00Z"
            if moment.iso8601 != text || SimTime(iso8601: text) != moment
                || SimTime(year: year, month: month, day: day) != moment
            {
                mismatches.append(text)
            }
            day += 1
            if day > SimTime.daysIn(month: month, year: year) {
                day = 1
                month += 1
                if month > 12 {
                    month = 1
                    year += 1
                }
            }
            moment = moment + .days(1)
        }
        #expect(mismatches.isEmpty)
        #expect(moment.iso8601 == "2101-01-01T00:00:00Z")
    }

    @Test(arguments: [
        ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00z", "2026-01-01T00:00:00Z"),
        ("2026-01-01 00:00:00Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T00:00:00.123456789Z", "2026-01-01T00:00:00Z"),
        ("2026-01-01T02:00:00+02:00", "2026-01-01T00:00:00Z"),
        ("2025-12-31T19:30:00-04:30", "2026-01-01T00:00:00Z"),
        ("2026-03-01T01:00:00+05:00", "2026-02-28T20:00:00Z"),
        ("2028-02-29T23:00:00-02:00", "2028-03-01T01:00:00Z"),
        ("2026-01-01T00:00:00.5+01:00", "2025-12-31T23:00:00Z"),
        ("2026-01-01", "2026-01-01T00:00:00Z"),
        ("2028-02-29", "2028-02-29T00:00:00Z"),
    ])
    func parsesAcceptedForms(text: String, expected: String) throws {
        let time = try #require(SimTime(iso8601: text))
        #expect(time.iso8601 == expected)
    }

    @Test(arguments: [
        "",
        "2026",
        "2026-1-01",
        "2026/01/01",
        "2026-01-01T",
        "2026-01-01T00:00:00",  // no zone
        "2026-01-01T00:00Z",
        "2026-02-29",  // 2026 is not a leap year
        "2026-02-29T00:00:00Z",
        "2100-02-29",  // century, not leap
        "2026-04-31",
        "2026-13-01",
        "2026-00-10",
        "2026-01-00",
        "2026-01-32",
        "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z",
        "2026-01-01T23:59:60Z",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00+0200",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00+02:60",
        "2026-01-01T00:00:00+02:00Z",
        "2026-01-01T00:00:00Zjunk",
        "2026-01-01x",
        "+026-01-01",
        "2026-01-01T0a:00:00Z",
        "２０２６-01-01",
    ])
    func rejectsInvalidDatesAndForms(text: String) {
        #expect(SimTime(iso8601: text) == nil)
    }

    @Test func arithmeticAndOrdering() {
        let start = SimTime(year: 2026, month: 1, day: 1)
        let later = start + .days(31)
        #expect(later.iso8601 == "2026-02-01T00:00:00Z")
        #expect(later - start == .days(31))
        #expect(later - .hours(1) == SimTime(year: 2026, month: 1, day: 31, hour: 23))
        #expect(start < later)
        #expect(!(later < start))
    }

    @Test func negativeTimesFormatBeforeTheEpoch() {
        #expect(SimTime(seconds: -1).iso8601 == "1969-12-31T23:59:59Z")
        #expect(SimTime(seconds: -86_400).iso8601 == "1969-12-31T00:00:00Z")
        #expect(SimTime(seconds: -86_401).iso8601 == "1969-12-30T23:59:59Z")
    }

    @Test(arguments: [
        (2024, true), (2028, true), (2000, true), (2400, true), (2026, false), (2100, false), (1900, false),
    ])
    func leapYears(year: Int, leap: Bool) {
        #expect(SimTime.isLeap(year) == leap)
        #expect(SimTime.daysIn(month: 2, year: year) == (leap ? 29 : 28))
    }
}

@Suite struct SimDurationTests {
    @Test(
        arguments: [
            ("31d", 31 * 86_400),
            ("1d12h", 86_400 + 12 * 3600),
            ("12h", 12 * 3600),
            ("90m", 90 * 60),
            ("45s", 45),
            ("2w", 14 * 86_400),
            ("0d", 0),
            ("1w2d3h4m5s", 7 * 86_400 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5),
            ("12h1d", 12 * 3600 + 86_400),
            ("1d1d", 2 * 86_400),
            ("999999999s", 999_999_999),
        ] as [(String, Int64)])
    func parsesUnitsAndSums(text: String, seconds: Int64) throws {
        let duration = try #require(SimDuration(text: text))
        #expect(duration.seconds == seconds)
    }

    @Test(arguments: [
        "", "d", "31", "31x", "31D", "-1d", "+1d", "1.5d", "1 d", " 1d", "1d ", "1dd", "d1", "1d12",
        "1000000000s",  // more than nine digits
        "٣d",  // non-ASCII digit
    ])
    func rejectsInvalidText(text: String) {
        #expect(SimDuration(text: text) == nil)
    }

    @Test(arguments: [
        (SimDuration.days(31), "31d"),
        (SimDuration.hours(36), "36h"),
        (SimDuration(seconds: 90 * 60), "90m"),
        (SimDuration(seconds: 45), "45s"),
        (SimDuration(seconds: 0), "0d"),
        (SimDuration.days(14), "14d"),
    ])
    func descriptionUsesTheLargestExactUnit(duration: SimDuration, text: String) {
        #expect(duration.description == text)
        #expect(SimDuration(text: text) == duration)
    }

    @Test func factoriesAndMultiplication() {
        #expect(SimDuration.days(2).seconds == 172_800)
        #expect(SimDuration.hours(2).seconds == 7200)
        #expect((SimDuration.days(30) * 3) == .days(90))
        #expect(SimDuration.hours(23) < .days(1))
    }
}
