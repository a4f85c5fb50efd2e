/// The items of one version of a configuration, kept in the order a build concatenates them: each
/// collection sorted by key (byte order). Updating an item costs a binary search and an array insert;
/// a build (`write`) only concatenates the stored canonical bytes, so its bytes are exactly those of
/// the canonical JSON writer over the same content (C1: the same content has the same hash).
public struct ConfigurationContent: Sendable, Hashable {
    public let layout: ConfigurationLayout
    /// Per collection, in `layout.collections` order, sorted by key.
    private var entries: [[Entry]]
    /// The sum of the items' canonical bytes.
    public private(set) var itemBytes: Int = 0

    struct Entry: Sendable, Hashable {
        var key: String
        var bytes: [UInt8]
    }

    public init(layout: ConfigurationLayout) {
        self.layout = layout
        entries = Array(repeating: [], count: layout.collections.count)
    }

    /// The content made of `items`; an error when an item's collection is not the layout's or two
    /// items have the same id.
    public init(layout: ConfigurationLayout, items: some Sequence<ConfigurationItem>) throws(ConfigurationError) {
        self.init(layout: layout)
        for item in items {
            let collection = try index(of: item.collection)
            // Items usually arrive in build order (a build, the change log's replay): append.
            if let last = entries[collection].last, ConfigurationContent.precedes(last.key, item.key) {
                entries[collection].append(Entry(key: item.key, bytes: item.bytes))
                itemBytes += item.bytes.count
                continue
            }
            let (position, found) = search(item.key, in: collection)
            guard !found else { throw ConfigurationError("the configuration holds \(item.id) twice") }
            entries[collection].insert(Entry(key: item.key, bytes: item.bytes), at: position)
            itemBytes += item.bytes.count
        }
    }

    /// Byte order of UTF-8, the order SQLite's BINARY collation and the canonical writer use.
    static func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    private func index(of collection: String) throws(ConfigurationError) -> Int {
        guard let index = layout.collections.firstIndex(of: collection) else {
            throw ConfigurationError("\(collection) is not a collection of a \(layout.name) configuration")
        }
        return index
    }

    /// Where `key` is or would go in a collection, and whether it is there.
    private func search(_ key: String, in collection: Int) -> (Int, Bool) {
        let list = entries[collection]
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if ConfigurationContent.precedes(list[middle].key, key) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return (low, low < list.count && list[low].key == key)
    }

    public var count: Int { entries.reduce(0) { $0 + $1.count } }
    public var isEmpty: Bool { entries.allSatisfy(\.isEmpty) }

    /// How many items a collection holds (0 for a collection the layout does not have).
    public func count(of collection: String) -> Int {
        layout.collections.firstIndex(of: collection).map { entries[$0].count } ?? 0
    }

    /// The item with this id, or nil.
    public func item(_ id: ConfigurationItemID) -> ConfigurationItem? {
        guard let collection = layout.collections.firstIndex(of: id.collection) else { return nil }
        let (position, found) = search(id.key, in: collection)
        return found ? ConfigurationItem(id: id, bytes: entries[collection][position].bytes) : nil
    }

    /// Adds or replaces an item; returns the one it replaced.
    @discardableResult
    public mutating func upsert(_ item: ConfigurationItem) throws(ConfigurationError) -> ConfigurationItem? {
        upsert(item, at: try index(of: item.collection))
    }

    /// Adds or replaces an item of the collection at `collection` (an index into `layout.collections`).
    @discardableResult
    mutating func upsert(_ item: ConfigurationItem, at collection: Int) -> ConfigurationItem? {
        let (position, found) = search(item.key, in: collection)
        itemBytes += item.bytes.count
        if found {
            let old = entries[collection][position].bytes
            itemBytes -= old.count
            entries[collection][position].bytes = item.bytes
            return ConfigurationItem(id: item.id, bytes: old)
        }
        entries[collection].insert(Entry(key: item.key, bytes: item.bytes), at: position)
        return nil
    }

    /// Removes an item; returns it, or nil when there was none.
    @discardableResult
    public mutating func remove(_ id: ConfigurationItemID) -> ConfigurationItem? {
        guard let collection = layout.collections.firstIndex(of: id.collection) else { return nil }
        let (position, found) = search(id.key, in: collection)
        guard found else { return nil }
        let old = entries[collection].remove(at: position)
        itemBytes -= old.bytes.count
        return ConfigurationItem(id: id, bytes: old.bytes)
    }

    /// Every item, in build order.
    public func forEachItem(_ body: (ConfigurationItem) -> Void) {
        for (index, collection) in layout.collections.enumerated() {
            for entry in entries[index] {
                body(
                    ConfigurationItem(
                        id: ConfigurationItemID(collection: collection, key: entry.key), bytes: entry.bytes))
            }
        }
    }

    /// Every item, in build order.
    public var items: [ConfigurationItem] {
        var all: [ConfigurationItem] = []
        all.reserveCapacity(count)
        forEachItem { all.append($0) }
        return all
    }

    /// The items of one collection, in build order.
    public func items(of collection: String) -> [ConfigurationItem] {
        guard let index = layout.collections.firstIndex(of: collection) else { return [] }
        return entries[index].map {
            ConfigurationItem(id: ConfigurationItemID(collection: collection, key: $0.key), bytes: $0.bytes)
        }
    }

    /// The build: the canonical JSON of the whole configuration, handed to `sink` in pieces (the stored
    /// item bytes themselves, no copy), so that a digest can be computed without assembling it.
    public func write(_ sink: ([UInt8]) -> Void) {
        let comma: [UInt8] = [UInt8(ascii: ",")]
        sink([UInt8(ascii: "{")])
        for (position, member) in layout.memberNames.enumerated() {
            var head: [UInt8] = position == 0 ? [] : comma
            head.append(UInt8(ascii: "\""))
            head.append(contentsOf: member.utf8)
            head.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            if let fixed = layout.fixedMembers[member] {
                sink(head + fixed)
                continue
            }
            head.append(UInt8(ascii: "["))
            sink(head)
            let list = entries[layout.collections.firstIndex(of: member)!]
            for (index, entry) in list.enumerated() {
                if index > 0 { sink(comma) }
                sink(entry.bytes)
            }
            sink([UInt8(ascii: "]")])
        }
        sink([UInt8(ascii: "}")])
    }

    /// The build as one byte array.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(itemBytes + count + 128)
        write { out.append(contentsOf: $0) }
        return out
    }
}
