/// One version of a configuration with its content digest: what a geo builds once per version and
/// what a data plane or zone runs. A delta is applied atomically: the version it starts from and the
/// digest it must lead to are checked before anything changes (C2).
public struct VersionedConfiguration: Sendable, Hashable {
    public private(set) var version: Int64
    public private(set) var content: ConfigurationContent
    public private(set) var digest: ConfigurationDigest

    /// A version whose digest is computed from its content.
    public init(version: Int64, content: ConfigurationContent, digester: ItemDigester) {
        self.version = version
        self.content = content
        digest = digester.digest(content)
    }

    /// The digest the configuration would have after `delta`, without applying it.
    public func digest(after delta: ConfigurationDelta, digester: ItemDigester) -> ConfigurationDigest {
        var result = digest
        for id in delta.deletes {
            if let old = content.item(id) { result -= digester.element(old) }
        }
        for item in delta.upserts {
            if let old = content.item(item.id) { result -= digester.element(old) }
            result += digester.element(item)
        }
        return result
    }

    /// Applies `delta`, which leads from `from` to `version`. Nothing changes when it does not start
    /// at this version, names an id twice or a collection the layout lacks, or (when `expected` is
    /// given) would not lead to that digest; the error says which. Removing an item that is not there
    /// changes nothing (the change log merges an item created and removed after `from` into a removal).
    public mutating func apply(
        _ delta: ConfigurationDelta, from: Int64, to version: Int64, expecting expected: ConfigurationDigest?,
        digester: ItemDigester
    ) throws(ConfigurationError) {
        guard from == self.version else {
            throw ConfigurationError("a delta from version \(from) does not apply to version \(self.version)")
        }
        guard version >= from else {
            throw ConfigurationError("a delta cannot lead back from version \(from) to version \(version)")
        }
        if let id = delta.repeatedID { throw ConfigurationError("the delta to version \(version) names \(id) twice") }
        var collections: [Int] = []
        for item in delta.upserts {
            guard let index = content.layout.collections.firstIndex(of: item.collection) else {
                throw ConfigurationError(
                    "\(item.collection) is not a collection of a \(content.layout.name) configuration")
            }
            collections.append(index)
        }
        let next = digest(after: delta, digester: digester)
        if let expected, expected != next {
            throw ConfigurationError(
                "the delta from version \(from) to \(version) leads to digest \(next.hex), not \(expected.hex) as the control plane says"
            )
        }
        for id in delta.deletes { content.remove(id) }
        for (item, collection) in zip(delta.upserts, collections) { content.upsert(item, at: collection) }
        self.version = version
        digest = next
    }
}
