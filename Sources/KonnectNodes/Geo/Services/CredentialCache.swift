import KonnectHTTP
import Synchronization

/// What a secret grants (a data-plane credential's control plane, a zone token's zone), looked up once
/// per generation of the credentials rather than once per connected stream and wake-up. The generation
/// moves when a credential is issued or revoked (`GeoWakeups`), never because a configuration changed.
final class CredentialCache<Grant: Sendable & Hashable>: Sendable {
    private let generation: Signal
    private let lookup: @Sendable (String) throws -> Grant?
    private let entries = Mutex<(generation: UInt64, grants: [String: Grant?])>((0, [:]))
    /// Secrets longer than this are refused without a lookup.
    private let maximumLength: Int

    init(generation: Signal, maximumLength: Int, lookup: @escaping @Sendable (String) throws -> Grant?) {
        self.generation = generation
        self.maximumLength = maximumLength
        self.lookup = lookup
    }

    /// What the secret grants; nil when it is missing, unknown or revoked.
    func grant(_ secret: String?) throws -> Grant? {
        guard let secret, secret.count <= maximumLength else { return nil }
        let current = generation.current
        if let hit = entries.withLock({ $0.generation == current ? $0.grants[secret] : nil }) { return hit }
        let grant = try lookup(secret)
        entries.withLock { entries in
            // A new generation, or a flood of unknown secrets, starts the cache afresh.
            if entries.generation != current || entries.grants.count >= 10_000 { entries = (current, [:]) }
            entries.grants[secret] = .some(grant)
        }
        return grant
    }
}
