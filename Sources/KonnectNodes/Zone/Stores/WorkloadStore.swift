import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization

/// `workloads.json`: the workloads (mesh data planes) registered with a zone. A registration is written
/// (durably) before it is kept in memory, both under one lock, so a 201 is on disk and concurrent
/// registrations never write an older list over a newer one.
final class WorkloadStore: Sendable {
    let path: String
    private let workloads: Mutex<[String: JSON]>

    init(path: String) {
        self.path = path
        var loaded: [String: JSON] = [:]
        if let bytes = readWholeFile(path) {
            do {
                for item in try JSONParser.parse(bytes).arrayValue ?? [] {
                    if let name = item["name"]?.stringValue { loaded[name] = item }
                }
            } catch {
                Log.error("ignoring the workload list \(path): \(error)")
            }
        }
        workloads = Mutex(loaded)
    }

    /// The registered workloads, by name.
    var all: [JSON] { workloads.withLock { WorkloadStore.sorted($0) } }

    var count: Int { workloads.withLock { $0.count } }

    /// Registers (or replaces) a workload by name; on disk when this returns.
    func register(_ record: JSON, name: String) throws {
        try workloads.withLock { workloads in
            var next = workloads
            next[name] = record
            try AtomicFile.write(JSON.array(WorkloadStore.sorted(next)).bytes, to: path)
            workloads = next
        }
    }

    private static func sorted(_ workloads: [String: JSON]) -> [JSON] {
        workloads.sorted { $0.key < $1.key }.map(\.value)
    }
}
