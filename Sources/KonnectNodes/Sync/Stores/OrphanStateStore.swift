import KonnectCore
import KonnectHTTP
import KonnectStorage

/// `state.json`: why a data plane or zone is orphaned (its control plane was decommissioned, D5), so a
/// restart keeps the state; no reason means it is not orphaned.
struct OrphanStateStore: Sendable {
    let path: String

    /// The persisted reason; nil when not orphaned, or when the file does not say (logged).
    func load() -> String? {
        guard let bytes = readWholeFile(path) else { return nil }
        do {
            return try JSONParser.parse(bytes)["orphaned"]?.stringValue
        } catch {
            Log.error("ignoring the orphaned state \(path): \(error)")
            return nil
        }
    }

    func save(reason: String?) throws {
        let state: JSON = ["orphaned": .optional(reason)]
        try AtomicFile.write(state.bytes, to: path)
    }
}
