import KonnectCore
import KonnectHTTP
import KonnectStorage

/// A configuration as a data plane keeps it on disk: what it runs, and when it received it.
struct CachedConfiguration: Sendable {
    var version: Int64
    var hash: String
    var config: DeclarativeConfig
    var license: JSON
    var receivedAt: String
}

/// `config-cache.json`: the last configuration a data plane applied, so that a data plane restarted
/// while its control plane is unreachable still serves (D6). Written whole (write, fsync, rename).
struct ConfigurationCacheStore: Sendable {
    let path: String
    let controlPlaneID: String

    /// The cached configuration; nil when there is none, or when the file does not hold one (logged:
    /// the data plane then starts without a configuration and waits for its control plane).
    func load() -> CachedConfiguration? {
        guard let bytes = readWholeFile(path) else { return nil }
        do {
            var reader = try ObjectReader(try JSONParser.parse(bytes))
            let version = reader.int("version", required: true, nullable: false, min: 0)
            let hash = reader.string("hash", required: true, nullable: false, minLength: 1, maxLength: 64)
            let config = reader.object("config", required: true, nullable: false)
            let license = reader.raw("license") ?? .null
            let receivedAt = reader.string("received_at", maxLength: 64)
            try reader.finish(strict: false)
            guard let version, let hash, let config else { return nil }
            return CachedConfiguration(
                version: version, hash: hash, config: DeclarativeConfig(json: .object(config)), license: license,
                receivedAt: receivedAt ?? "")
        } catch {
            Log.error("ignoring the configuration cache \(path): \(error)")
            return nil
        }
    }

    func save(_ cached: CachedConfiguration) throws {
        let json: JSON = [
            "version": .int(cached.version), "hash": .string(cached.hash),
            "control_plane_id": .string(controlPlaneID), "received_at": .string(cached.receivedAt),
            "config": cached.config.json, "license": cached.license,
        ]
        try AtomicFile.write(json.bytes, to: path)
    }
}
