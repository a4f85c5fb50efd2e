/// What changed between two versions of a configuration: items added or replaced, and items removed.
/// An id appears at most once; applying removes first, then adds (C2: changes after connect).
public struct ConfigurationDelta: Sendable, Hashable {
    public private(set) var upserts: [ConfigurationItem]
    public private(set) var deletes: [ConfigurationItemID]

    public static let empty = ConfigurationDelta(upserts: [], deletes: [])

    /// A delta as given (a decoded message); `apply` refuses one that names an id twice.
    public init(upserts: [ConfigurationItem], deletes: [ConfigurationItemID]) {
        self.upserts = upserts
        self.deletes = deletes
    }

    /// The changes of consecutive versions, oldest first, merged: the last change of an item wins, and
    /// the result is sorted by collection and key so that the same changes always encode the same way.
    public init(merging changes: some Sequence<ConfigurationChange>) {
        var last: [ConfigurationItemID: ConfigurationChange] = [:]
        for change in changes { last[change.id] = change }
        let ordered = last.values.sorted { ConfigurationDelta.precedes($0.id, $1.id) }
        var upserts: [ConfigurationItem] = []
        var deletes: [ConfigurationItemID] = []
        for change in ordered {
            switch change {
            case .upsert(let item): upserts.append(item)
            case .delete(let id): deletes.append(id)
            }
        }
        self.init(upserts: upserts, deletes: deletes)
    }

    /// The changes that turn a configuration of the items `before` into one of the items `after`: an
    /// upsert of each item that is new or whose bytes differ, a delete of each item that is gone.
    public init(from before: some Sequence<ConfigurationItem>, to after: some Sequence<ConfigurationItem>) {
        var gone: [ConfigurationItemID: [UInt8]] = [:]
        for item in before { gone[item.id] = item.bytes }
        var changes: [ConfigurationChange] = []
        for item in after where gone.removeValue(forKey: item.id) != item.bytes { changes.append(.upsert(item)) }
        changes += gone.keys.map(ConfigurationChange.delete)
        self.init(merging: changes)
    }

    static func precedes(_ a: ConfigurationItemID, _ b: ConfigurationItemID) -> Bool {
        a.collection == b.collection
            ? ConfigurationContent.precedes(a.key, b.key) : ConfigurationContent.precedes(a.collection, b.collection)
    }

    /// The delta as changes (deletes, then upserts).
    public var changes: [ConfigurationChange] {
        deletes.map(ConfigurationChange.delete) + upserts.map(ConfigurationChange.upsert)
    }

    /// This delta, then `next`: one delta from this one's start to `next`'s end.
    public func followed(by next: ConfigurationDelta) -> ConfigurationDelta {
        ConfigurationDelta(merging: changes + next.changes)
    }

    public var isEmpty: Bool { upserts.isEmpty && deletes.isEmpty }
    /// How many items it changes.
    public var count: Int { upserts.count + deletes.count }
    /// The canonical bytes of the items it carries.
    public var itemBytes: Int { upserts.reduce(0) { $0 + $1.bytes.count } }

    /// An id named twice, if any (a delta must name each id once).
    var repeatedID: ConfigurationItemID? {
        var seen = Set<ConfigurationItemID>()
        for id in deletes + upserts.map(\.id) where !seen.insert(id).inserted { return id }
        return nil
    }
}
