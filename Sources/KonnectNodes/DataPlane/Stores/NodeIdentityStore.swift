import KonnectCore
import KonnectHTTP
import KonnectStorage

/// `node-id`: a data plane's id, made once and kept, so a restarted data plane is the same node in its
/// control plane's node list.
struct NodeIdentityStore: Sendable {
    let path: String

    /// The stored id, or a new one (seeded when the cluster is), stored before it is used.
    func loadOrCreate(seed: UInt64) throws -> String {
        if let bytes = readWholeFile(path),
            let text = String(validating: bytes, as: UTF8.self)?.trimmingCharacters(in: " \n"),
            IdentifierSource.isUUID(text)
        {
            return text
        }
        var generator = SeededRandom(seed: seed)
        let id = IdentifierSource.uuid((0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        try AtomicFile.write(id + "\n", to: path)
        return id
    }
}
