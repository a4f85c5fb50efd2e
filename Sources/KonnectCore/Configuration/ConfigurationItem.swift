/// Which item of a configuration: its collection (`services`, `routes`, ..., `meshes`, `policies`) and
/// its key in that collection (a Kong entity's id; for Mesh, see `ConfigurationLayout.mesh`).
public struct ConfigurationItemID: Sendable, Hashable, CustomStringConvertible {
    public var collection: String
    public var key: String

    public init(collection: String, key: String) {
        self.collection = collection
        self.key = key
    }

    public var description: String { "\(collection)/\(key)" }
}

/// One item of a configuration as its canonical JSON bytes (members sorted, no whitespace): what a geo
/// stores with the entity when it is written, what a configuration is concatenated from, and what its
/// digest covers (C1).
public struct ConfigurationItem: Sendable, Hashable {
    public var id: ConfigurationItemID
    public var bytes: [UInt8]

    public init(id: ConfigurationItemID, bytes: [UInt8]) {
        self.id = id
        self.bytes = bytes
    }

    public var collection: String { id.collection }
    public var key: String { id.key }
}

/// One change to a configuration's items, as a write records it in the change log.
public enum ConfigurationChange: Sendable, Hashable {
    case upsert(ConfigurationItem)
    case delete(ConfigurationItemID)

    public var id: ConfigurationItemID {
        switch self {
        case .upsert(let item): item.id
        case .delete(let id): id
        }
    }
}

/// Why a configuration's items or a delta cannot be used: which item or version, and what was wrong.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}
