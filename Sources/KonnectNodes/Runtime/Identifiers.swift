import KonnectCore
import KonnectSecurity
import KonnectStorage
import Synchronization

/// Makes object ids (UUID v4 shape). Random by default; with a cluster seed, derived from the seed,
/// the node's name and a counter stored in the node's database, so that a seeded run creates the same
/// ids every time and a restarted node never repeats one.
public struct IdentifierSource: Sendable {
    public let seed: UInt64?
    public let node: String
    /// The counter, read from the database once and then kept here (every write stores it too).
    private let cached = CounterCache()

    final class CounterCache: Sendable {
        let value = Mutex<Int64?>(nil)
    }

    public init(seed: UInt64?, node: String) {
        self.seed = seed
        self.node = node
    }

    /// A new id, inside the write transaction that stores the object.
    public func next(_ db: Transaction) throws -> String {
        guard let seed else { return IdentifierSource.uuid(Secrets.randomBytes(16)) }
        let counter = try cached.value.withLock { $0 } ?? IdentifierCounterStore().counter(db)
        cached.value.withLock { $0 = counter + 1 }
        try IdentifierCounterStore().store(db, counter + 1)
        var generator = SeededRandom(seed: seed ^ SeededRandom.hash(node) ^ UInt64(counter) &* 0x9E37_79B9_7F4A_7C15)
        var bytes: [UInt8] = []
        for _ in 0..<2 {
            let value = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
        return IdentifierSource.uuid(bytes)
    }

    /// An id derived from something unique about the object (an organization's billing period, say):
    /// the same in every run with the same seed, never repeated, and free of any counter.
    public func derived(from key: String) -> String {
        IdentifierSource.uuid(Array(Secrets.sha256Bytes(Array("\(seed ?? 0)/\(node)/\(key)".utf8)).prefix(16)))
    }

    static func uuid(_ raw: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(36)
        for index in 0..<16 {
            var byte = raw[index]
            if index == 6 { byte = (byte & 0x0F) | 0x40 }
            if index == 8 { byte = (byte & 0x3F) | 0x80 }
            if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether a string is a UUID in canonical form (path ids are checked before any lookup).
    public static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) || (byte >= 65 && byte <= 70) else {
                    return false
                }
            }
        }
        return true
    }
}
