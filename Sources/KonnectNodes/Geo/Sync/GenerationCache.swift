import Synchronization

/// A value per key computed at most once per wake-up generation: the streams woken together by one
/// change wait for one computation (one database read) instead of each making their own.
final class GenerationCache<Value: Sendable>: Sendable {
    private final class Entry: Sendable {
        let slot = Mutex<(generation: UInt64, value: Value)?>(nil)
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The value for `key` at `generation`, computed by the first caller; the others wait for it.
    func value(_ key: String, generation: UInt64, compute: () throws -> Value) throws -> Value {
        let entry = entries.withLock { entries in
            if let found = entries[key] { return found }
            let created = Entry()
            entries[key] = created
            return created
        }
        return try entry.slot.withLock { slot throws -> Value in
            if let slot, slot.generation == generation { return slot.value }
            let value = try compute()
            slot = (generation, value)
            return value
        }
    }

    /// Forgets a key (a deleted control plane).
    func remove(_ key: String) { entries.withLock { _ = $0.removeValue(forKey: key) } }
}
