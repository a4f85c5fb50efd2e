/// A content digest of a configuration that both sides update per item: the sum, modulo 2^256, of
/// the SHA-256 of every item (its collection, a newline, its canonical bytes). Adding or removing an
/// item adds or subtracts its element, so a delta is verified at the cost of what it changes, while
/// Kong's MD5 `hash` needs the whole configuration (C2).
///
/// The sum of a multiset of hashes (an additive multiset hash) detects accidental divergence: a lost,
/// duplicated, altered or misplaced item changes it unless SHA-256 values happen to cancel out. It is
/// not meant to resist someone forging items, which the credential and the MD5 check are for. The
/// element hash is SHA-256 from `KonnectSecurity` (an `ItemDigester`); the core only adds and subtracts.
public struct ConfigurationDigest: Sendable, Hashable, CustomStringConvertible {
    /// Big-endian 64-bit words: `high` is the most significant.
    private var high: UInt64
    private var upper: UInt64
    private var lower: UInt64
    private var low: UInt64

    /// The digest of a configuration with no items.
    public static let zero = ConfigurationDigest(0, 0, 0, 0)

    private init(_ high: UInt64, _ upper: UInt64, _ lower: UInt64, _ low: UInt64) {
        self.high = high
        self.upper = upper
        self.lower = lower
        self.low = low
    }

    private init(words: [UInt64]) { self.init(words[0], words[1], words[2], words[3]) }

    private var words: [UInt64] { [high, upper, lower, low] }

    /// An element: 32 bytes read as a big-endian number.
    public init(element bytes: [UInt8]) {
        precondition(bytes.count == 32, "a digest element is 32 bytes (SHA-256), not \(bytes.count)")
        var words: [UInt64] = []
        for word in 0..<4 {
            var value: UInt64 = 0
            for byte in bytes[(word * 8)..<(word * 8 + 8)] { value = value << 8 | UInt64(byte) }
            words.append(value)
        }
        self.init(words: words)
    }

    /// From its wire form, 64 lower-case hex digits; nil otherwise.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var words: [UInt64] = []
        for word in 0..<4 {
            var value: UInt64 = 0
            for digit in digits[(word * 16)..<(word * 16 + 16)] {
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(digit - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(digit - UInt8(ascii: "a") + 10)
                default: return nil
                }
            }
            words.append(value)
        }
        self.init(words: words)
    }

    /// 64 lower-case hex digits.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for word in words {
            for shift in stride(from: 60, through: 0, by: -4) {
                text.append(digits[Int((word >> UInt64(shift)) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { hex }

    public static func + (lhs: ConfigurationDigest, rhs: ConfigurationDigest) -> ConfigurationDigest {
        let (low, carry0) = lhs.low.addingReportingOverflow(rhs.low)
        let (lower, carry1) = add(lhs.lower, rhs.lower, carry0)
        let (upper, carry2) = add(lhs.upper, rhs.upper, carry1)
        let (high, _) = add(lhs.high, rhs.high, carry2)
        return ConfigurationDigest(high, upper, lower, low)
    }

    public static func - (lhs: ConfigurationDigest, rhs: ConfigurationDigest) -> ConfigurationDigest {
        let (low, borrow0) = lhs.low.subtractingReportingOverflow(rhs.low)
        let (lower, borrow1) = subtract(lhs.lower, rhs.lower, borrow0)
        let (upper, borrow2) = subtract(lhs.upper, rhs.upper, borrow1)
        let (high, _) = subtract(lhs.high, rhs.high, borrow2)
        return ConfigurationDigest(high, upper, lower, low)
    }

    private static func add(_ a: UInt64, _ b: UInt64, _ carry: Bool) -> (UInt64, Bool) {
        let (partial, first) = a.addingReportingOverflow(b)
        let (sum, second) = partial.addingReportingOverflow(carry ? 1 : 0)
        return (sum, first || second)
    }

    private static func subtract(_ a: UInt64, _ b: UInt64, _ borrow: Bool) -> (UInt64, Bool) {
        let (partial, first) = a.subtractingReportingOverflow(b)
        let (difference, second) = partial.subtractingReportingOverflow(borrow ? 1 : 0)
        return (difference, first || second)
    }

    public static func += (lhs: inout ConfigurationDigest, rhs: ConfigurationDigest) { lhs = lhs + rhs }
    public static func -= (lhs: inout ConfigurationDigest, rhs: ConfigurationDigest) { lhs = lhs - rhs }
}

/// How an item becomes a digest element: the shell supplies SHA-256 (`KonnectSecurity`), the core
/// decides what it covers.
public struct ItemDigester: Sendable {
    private let sha256: @Sendable ([UInt8]) -> [UInt8]

    public init(sha256: @escaping @Sendable ([UInt8]) -> [UInt8]) { self.sha256 = sha256 }

    /// The element of one item: SHA-256 of its collection, a newline, and its canonical bytes.
    public func element(_ item: ConfigurationItem) -> ConfigurationDigest {
        var input = Array(item.collection.utf8)
        input.reserveCapacity(input.count + 1 + item.bytes.count)
        input.append(0x0A)
        input.append(contentsOf: item.bytes)
        return ConfigurationDigest(element: sha256(input))
    }

    /// The digest of a whole configuration.
    public func digest(_ content: ConfigurationContent) -> ConfigurationDigest {
        var total = ConfigurationDigest.zero
        content.forEachItem { total += element($0) }
        return total
    }
}
