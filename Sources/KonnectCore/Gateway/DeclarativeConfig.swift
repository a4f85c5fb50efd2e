/// A control plane's full configuration as a data plane receives it (C1, C2): Kong's declarative
/// format, entities sorted by id so that the same content always has the same hash.
public struct DeclarativeConfig: Sendable, Hashable {
    public var services: [JSON]
    public var routes: [JSON]
    public var consumers: [JSON]
    public var plugins: [JSON]

    public init(services: [JSON] = [], routes: [JSON] = [], consumers: [JSON] = [], plugins: [JSON] = []) {
        self.services = DeclarativeConfig.sorted(services)
        self.routes = DeclarativeConfig.sorted(routes)
        self.consumers = DeclarativeConfig.sorted(consumers)
        self.plugins = DeclarativeConfig.sorted(plugins)
    }

    static func sorted(_ items: [JSON]) -> [JSON] {
        items.sorted { ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "") }
    }

    public var isEmpty: Bool { services.isEmpty && routes.isEmpty && consumers.isEmpty && plugins.isEmpty }

    public var json: JSON {
        [
            "_format_version": "3.0", "services": .array(services), "routes": .array(routes),
            "consumers": .array(consumers),
            "plugins": .array(plugins),
        ]
    }

    public init(json: JSON) {
        self.init(
            services: json["services"]?.arrayValue ?? [], routes: json["routes"]?.arrayValue ?? [],
            consumers: json["consumers"]?.arrayValue ?? [], plugins: json["plugins"]?.arrayValue ?? [])
    }

    /// Kong reports an empty configuration's hash as 32 zeros.
    public static let emptyHash = String(repeating: "0", count: 32)

    /// The bytes the hash covers: the canonical JSON encoding.
    public var canonicalBytes: [UInt8] { json.canonicalBytes }

    /// The configuration's hash as Kong reports it: `emptyHash` for an empty configuration, otherwise
    /// `digest` (MD5 as lower-case hex, which the shell supplies) of the canonical bytes. Entities are
    /// sorted by id and members canonically ordered, so the same content always has the same hash.
    public func hash(digest: ([UInt8]) -> String) -> String {
        isEmpty ? DeclarativeConfig.emptyHash : digest(canonicalBytes)
    }
}
