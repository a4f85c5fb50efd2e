import KonnectCore
import KonnectHTTP
import KonnectStorage

/// The policies a zone serves: one version of its global control plane's meshes and policies.
struct CachedPolicies: Sendable {
    var version: Int64
    var hash: String
    /// `{meshes, policies}`.
    var body: JSON
    var license: JSON
    var receivedAt: String
}

/// `policies-cache.json`: the last policies a zone applied, served while the global control plane is
/// unreachable or decommissioned (D5). Written whole (write, fsync, rename).
struct PolicyCacheStore: Sendable {
    let path: String
    let meshControlPlaneID: String

    /// The cached policies; nil when there are none, or when the file does not hold them (logged).
    func load() -> CachedPolicies? {
        guard let bytes = readWholeFile(path) else { return nil }
        do {
            var reader = try ObjectReader(try JSONParser.parse(bytes))
            let version = reader.int("version", required: true, nullable: false, min: 0)
            let hash = reader.string("hash", required: true, nullable: false, minLength: 1, maxLength: 64)
            let body = reader.object("policies", required: true, nullable: false)
            let license = reader.raw("license") ?? .null
            let receivedAt = reader.string("received_at", maxLength: 64)
            try reader.finish(strict: false)
            guard let version, let hash, let body else { return nil }
            return CachedPolicies(
                version: version, hash: hash, body: .object(body), license: license, receivedAt: receivedAt ?? "")
        } catch {
            Log.error("ignoring the policies cache \(path): \(error)")
            return nil
        }
    }

    func save(_ cached: CachedPolicies) throws {
        let json: JSON = [
            "version": .int(cached.version), "hash": .string(cached.hash), "received_at": .string(cached.receivedAt),
            "policies": cached.body, "license": cached.license,
            "mesh_control_plane_id": .string(meshControlPlaneID),
        ]
        try AtomicFile.write(json.bytes, to: path)
    }
}
