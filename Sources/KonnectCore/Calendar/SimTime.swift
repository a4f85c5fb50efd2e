/// A moment on the simulated calendar, in whole seconds since 1970-01-01T00:00:00Z.
///
/// Business rules (cycles, trials, inactivity, retention, timestamps shown by the APIs) use this and
/// never the wall clock; the auth node owns the one calendar of a cluster (rule B1).
public struct SimTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public static let secondsPerDay: Int64 = 86_400

    /// The default start of a cluster's calendar, fixed so that runs are repeatable.
    public static let defaultStart = SimTime(year: 2026, month: 1, day: 1)

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        let days = SimTime.daysFromCivil(year: year, month: month, day: day)
        seconds = days * SimTime.secondsPerDay + Int64(hour * 3600 + minute * 60 + second)
    }

    public static func < (lhs: SimTime, rhs: SimTime) -> Bool { lhs.seconds < rhs.seconds }
    public static func + (lhs: SimTime, rhs: SimDuration) -> SimTime { SimTime(seconds: lhs.seconds + rhs.seconds) }
    public static func - (lhs: SimTime, rhs: SimDuration) -> SimTime { SimTime(seconds: lhs.seconds - rhs.seconds) }
    public static func - (lhs: SimTime, rhs: SimTime) -> SimDuration { SimDuration(seconds: lhs.seconds - rhs.seconds) }

    /// RFC 3339 in UTC, e.g. `2026-01-31T00:00:00Z`.
    public var iso8601: String {
        let days =
            seconds >= 0
            ? seconds / SimTime.secondsPerDay : (seconds - SimTime.secondsPerDay + 1) / SimTime.secondsPerDay
        let remainder = seconds - days * SimTime.secondsPerDay
        let (year, month, day) = SimTime.civilFromDays(days)
        guard (0...9999).contains(year) else {
            return
                "\(year)-\(SimTime.two(Int64(month)))-\(SimTime.two(Int64(day)))T\(SimTime.two(remainder / 3600)):\(SimTime.two(remainder % 3600 / 60)):\(SimTime.two(remainder % 60))Z"
        }
        var text = [UInt8](repeating: 0, count: 20)
        func put(_ value: Int, at offset: Int, digits: Int) {
            var rest = value
            for position in stride(from: offset + digits - 1, through: offset, by: -1) {
                text[position] = UInt8(48 + rest % 10)
                rest /= 10
            }
        }
        put(year, at: 0, digits: 4)
        text[4] = UInt8(ascii: "-")
        put(month, at: 5, digits: 2)
        text[7] = UInt8(ascii: "-")
        put(day, at: 8, digits: 2)
        text[10] = UInt8(ascii: "T")
        put(Int(remainder / 3600), at: 11, digits: 2)
        text[13] = UInt8(ascii: ":")
        put(Int(remainder % 3600 / 60), at: 14, digits: 2)
        text[16] = UInt8(ascii: ":")
        put(Int(remainder % 60), at: 17, digits: 2)
        text[19] = UInt8(ascii: "Z")
        return String(decoding: text, as: UTF8.self)
    }

    static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    public var description: String { iso8601 }

    /// Parses `2026-01-01T00:00:00Z`, `2026-01-01T00:00:00.000Z`, `2026-01-01T02:00:00+02:00` or `2026-01-01`.
    public init?(iso8601 text: String) {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count, range.allSatisfy({ bytes[$0] >= 48 && bytes[$0] <= 57 }) else {
                return nil
            }
            return range.reduce(0) { $0 * 10 + Int(bytes[$1] - 48) }
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1...12).contains(month), day >= 1, day <= SimTime.daysIn(month: month, year: year)
        else { return nil }
        if bytes.count == 10 {
            self.init(year: year, month: month, day: day)
            return
        }
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            guard index > start else { return nil }
        }
        var offset = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            index += 1
        } else if index + 6 == bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"),
            bytes[index + 3] == UInt8(ascii: ":"), let offsetHours = number(index + 1..<index + 3),
            let offsetMinutes = number(index + 4..<index + 6), offsetHours < 24, offsetMinutes < 60
        {
            offset = (offsetHours * 3600 + offsetMinutes * 60) * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        self.init(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        seconds -= Int64(offset)
    }

    static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }
}

/// A span of simulated time.
public struct SimDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }
    public static func days(_ count: Int64) -> SimDuration { SimDuration(seconds: count * SimTime.secondsPerDay) }
    public static func hours(_ count: Int64) -> SimDuration { SimDuration(seconds: count * 3600) }
    public static func < (lhs: SimDuration, rhs: SimDuration) -> Bool { lhs.seconds < rhs.seconds }
    public static func * (lhs: SimDuration, rhs: Int64) -> SimDuration { SimDuration(seconds: lhs.seconds * rhs) }

    /// Parses `31d`, `12h`, `90m`, `45s`, `2w` and sums such as `1d12h`.
    public init?(text: String) {
        var total: Int64 = 0
        var digits = ""
        var sawUnit = false
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                guard digits.count <= 9 else { return nil }
                continue
            }
            guard let value = Int64(digits) else { return nil }
            let unit: Int64
            switch character {
            case "w": unit = 7 * SimTime.secondsPerDay
            case "d": unit = SimTime.secondsPerDay
            case "h": unit = 3600
            case "m": unit = 60
            case "s": unit = 1
            default: return nil
            }
            let (product, overflow) = value.multipliedReportingOverflow(by: unit)
            let (sum, overflowSum) = total.addingReportingOverflow(product)
            guard !overflow, !overflowSum else { return nil }
            total = sum
            digits = ""
            sawUnit = true
        }
        guard digits.isEmpty, sawUnit else { return nil }
        seconds = total
    }

    public var description: String {
        if seconds % SimTime.secondsPerDay == 0 { return "\(seconds / SimTime.secondsPerDay)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
