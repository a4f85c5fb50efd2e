/// What a geo sends a subscriber (C2): the full configuration when it is new, asked for everything,
/// claims a version the geo does not know, or was away longer than the change log reaches back;
/// otherwise the changes since its version (empty when it is up to date).
public enum SyncPlan: Sendable, Hashable {
    case full
    case delta(from: Int64)

    /// How many versions back a geo keeps each control plane's changes: a subscriber away for longer
    /// gets the full configuration.
    public static let retainedVersions: Int64 = 1000

    /// - Parameters:
    ///   - subscriber: the version the subscriber runs, nil when it has none or wants everything.
    ///   - current: the control plane's version.
    ///   - changesSince: the oldest version the change log can start a delta from.
    public static func choose(subscriber: Int64?, current: Int64, changesSince: Int64) -> SyncPlan {
        guard let subscriber, subscriber <= current, subscriber >= changesSince else { return .full }
        return .delta(from: subscriber)
    }

    /// A delta is worth sending when it changes no more items than the configuration holds (a long
    /// absence that rewrote everything is cheaper as the configuration itself).
    public static func prefersDelta(_ delta: ConfigurationDelta, over content: ConfigurationContent) -> Bool {
        delta.count <= content.count
    }
}
