/// An amount of money in integer cents (never floating point): 105.00 is `Money(cents: 10500)`.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var cents: Int64

    public init(cents: Int64) { self.cents = cents }
    public static let zero = Money(cents: 0)

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.cents < rhs.cents }
    /// Saturating: amounts clamped by `prorate` never trap when added up.
    public static func + (lhs: Money, rhs: Money) -> Money {
        let (sum, overflow) = lhs.cents.addingReportingOverflow(rhs.cents)
        return Money(cents: overflow ? (rhs.cents > 0 ? .max : .min) : sum)
    }
    public static func - (lhs: Money, rhs: Money) -> Money {
        let (difference, overflow) = lhs.cents.subtractingReportingOverflow(rhs.cents)
        return Money(cents: overflow ? (rhs.cents < 0 ? .max : .min) : difference)
    }

    /// `105.00`, `-3.50`.
    public var description: String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Parses `105`, `105.5`, `105.00`; at most two decimals, no exponent, no sign.
    public init?(decimal text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 12,
            parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),  // digits only: Int64 alone would accept "+5" and "-0"
            let whole = Int64(parts[0]), whole >= 0
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            guard (1...2).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int64(parts[1])
            else { return nil }
            fraction = parts[1].count == 1 ? value * 10 : value
        }
        cents = whole * 100 + fraction
    }

    /// A JSON amount: a decimal string, exact for any client (`"105.00"`).
    public var json: JSON { .string(description) }

    /// `amount * multiplier / divisor`, rounded half up, in exact 128-bit integer arithmetic
    /// (amounts and multipliers are never negative; a result beyond Int64 is clamped).
    public static func prorate(_ amount: Money, times multiplier: Int64, over divisor: Int64) -> Money {
        precondition(divisor > 0 && amount.cents >= 0 && multiplier >= 0)
        let product = UInt64(amount.cents).multipliedFullWidth(by: UInt64(multiplier))
        let (low, carry) = product.low.addingReportingOverflow(UInt64(divisor / 2))
        let high = product.high + (carry ? 1 : 0)
        guard high < UInt64(divisor) else { return Money(cents: .max) }
        let (quotient, _) = UInt64(divisor).dividingFullWidth((high, low))
        return Money(cents: Int64(clamping: quotient))
    }
}
