import KonnectCore

extension DataPlaneNode {
    /// What a stopped data plane's directory holds, for `dp status` while it is down: the configuration
    /// its disk cache would serve at the next start (D6), the orphaned state, and the calls counted but
    /// not reported yet. Nothing is started or written.
    public static func diskStatus(directory: String, name: String) -> JSON {
        let cached = ConfigurationCacheStore(path: directory + "/config-cache.json", controlPlaneID: "").load()
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
                "services": .int(cached?.config.services.count ?? 0), "routes": .int(cached?.config.routes.count ?? 0),
            ],
            "license": cached?.license ?? .null,
            "last_sync": .optional(cached?.receivedAt),
            "unreported_usage": unreported,
        ]
    }
}
