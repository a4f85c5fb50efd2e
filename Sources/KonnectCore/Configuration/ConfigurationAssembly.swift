/// Puts together a full configuration that arrives in parts (a header, then `parts` messages of items):
/// pure, one per connection. A configuration is complete when its last part arrived; a part out of
/// order, for another version, or without a header is an error (the subscriber then asks for the full
/// configuration again).
public struct ConfigurationAssembly: Sendable {
    private var header: SyncedConfiguration?
    private var items: [ConfigurationItem] = []
    private var received = 0

    public init() {}

    /// Whether a configuration is being put together.
    public var isAssembling: Bool { header != nil }

    /// A full configuration's header: complete at once when its items are in its body, otherwise the
    /// start of an assembly.
    public mutating func onConfiguration(_ configuration: SyncedConfiguration) throws(ConfigurationError)
        -> (configuration: SyncedConfiguration, items: [ConfigurationItem])?
    {
        if let interrupted = header {
            let received = self.received
            reset()
            throw ConfigurationError(
                "configuration version \(interrupted.version) ended after \(received) of \(interrupted.parts) parts")
        }
        let layout = ConfigurationLayout.of(configuration.target)
        guard configuration.parts > 0 else { return (configuration, try layout.items(of: configuration.body)) }
        // Members of the body other than the layout's fixed ones would be lost: a body in parts holds none.
        let bodyItems = try layout.items(of: configuration.body)
        guard bodyItems.isEmpty else {
            throw ConfigurationError(
                "configuration version \(configuration.version) has items both inline and in parts")
        }
        header = configuration
        return nil
    }

    /// A part: the configuration when it was the last one.
    public mutating func onPart(_ part: SyncedConfigurationPart) throws(ConfigurationError)
        -> (configuration: SyncedConfiguration, items: [ConfigurationItem])?
    {
        guard let current = header else {
            throw ConfigurationError(
                "part \(part.index) of configuration version \(part.version) arrived without its header")
        }
        guard part.target == current.target, part.version == current.version, part.index == received else {
            reset()
            throw ConfigurationError(
                "part \(part.index) of configuration version \(part.version) arrived while part \(received) of version \(current.version) was expected"
            )
        }
        items.append(contentsOf: part.items)
        received += 1
        guard received == current.parts else { return nil }
        let complete = (current, items)
        reset()
        return complete
    }

    /// Another message (or a new connection) while assembling: what was received is dropped.
    public mutating func reset() {
        header = nil
        items = []
        received = 0
    }
}
