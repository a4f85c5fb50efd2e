/// A span of wall-clock time for faults and waits (`latency 50ms`, `--jitter 20ms`, `wait 2s`,
/// `within 5s`), never for business rules (those use `SimDuration` on the calendar).
///
/// The one parser of such durations, shared by the command line and the scenario language: a whole
/// number with a unit (`ms`, `s` or `m`), from 0 to `maximum`. Digits are read without overflow, so
/// a huge value is an error that names the limit, never a trap.
public enum WallDuration {
    /// The longest wall-clock duration anything waits or delays for: ten minutes.
    public static let maximumMilliseconds = 600_000

    /// What a caller can print after "expected ...".
    public static let expected = "a duration such as 50ms, 2s or 1m (at most 10m)"

    /// `50ms`, `2s`, `1m` as milliseconds; nil for anything else or beyond `maximumMilliseconds`.
    public static func milliseconds(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        var digits = 0
        while digits < bytes.count, bytes[digits] >= 48, bytes[digits] <= 57 { digits += 1 }
        guard digits > 0 else { return nil }
        let unit: Int
        switch String(decoding: bytes[digits...], as: UTF8.self) {
        case "ms": unit = 1
        case "s": unit = 1000
        case "m": unit = 60_000
        default: return nil
        }
        var value = 0
        for byte in bytes[..<digits] {
            value = value * 10 + Int(byte - 48)
            // Stop before the product can overflow: anything past the limit is refused anyway.
            guard value * unit <= maximumMilliseconds else { return nil }
        }
        return value * unit
    }
}

/// A fraction from 0 to 1 written as a decimal (`0.25`, `.5`, `1`), as parts per million, read
/// without floating point: the one parser of drop rates for the command line and scenarios.
public enum FaultFraction {
    public static let expected = "a fraction from 0 to 1 such as 0.25"

    public static func partsPerMillion(_ text: String) -> Int? {
        if text == "1" || text == "1.0" { return 1_000_000 }
        if text == "0" { return 0 }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "0" || parts[0].isEmpty, !parts[1].isEmpty, parts[1].count <= 6,
            parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return nil }
        return Int(String(parts[1]) + String(repeating: "0", count: 6 - parts[1].count))
    }
}
