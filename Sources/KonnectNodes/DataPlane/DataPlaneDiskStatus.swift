import KonnectCore

extension DataPlaneNode {
    /// What a stopped data plane's directory holds, for `dp status` while it is down: the configuration
    /// its disk cache would serve at the next start (D6: the snapshot and the delta files that continue
    /// it), the orphaned state, and the calls counted but not reported yet. Nothing is started or written.
    public static func diskStatus(directory: String, name: String, controlPlaneID: String) -> JSON {
        let cached = ConfigurationCacheStore(
            directory: directory, name: "config-cache", target: .controlPlane(id: controlPlaneID)
        ).read()?.record
        let unreported: JSON
        if let store = try? UsageReportStore(
            path: directory + "/usage.sqlite", counterPath: directory + "/usage-counters"),
            let count = try? store.unreported()
        {
            unreported = .int(count)
        } else {
            unreported = .null
        }
        return [
            "name": .string(name), "state": "down", "process": "down",
            "orphaned_reason": .optional(OrphanStateStore(path: directory + "/state.json").load()),
            "config": [
                "version": cached.map { .int($0.version) } ?? .null, "hash": .optional(cached?.hash),
                "received_at": .optional(cached?.receivedAt),
                "cached_version": cached.map { .int($0.version) } ?? .null,
                "services": .int(cached?.content.count(of: "services") ?? 0),
                "routes": .int(cached?.content.count(of: "routes") ?? 0),
            ],
            "license": cached?.license ?? .null,
            "last_sync": .optional(cached?.receivedAt),
            "unreported_usage": unreported,
        ]
    }
}
