import KonnectHTTP

/// The one place where what a committed write changed becomes wake-ups: push streams resend or
/// re-check their credential, caches keyed on a generation miss, the usage reporter sends.
final class GeoWakeups: Sendable {
    /// Wakes push streams: a configuration, a decommission, a credential or a zone token changed.
    let streams = Signal()
    /// Wakes the usage reporter.
    let usage = Signal()
    /// Moves when a data-plane credential is issued or revoked (the credential cache's generation).
    let credentials = Signal()
    /// Moves when a zone token is issued or revoked.
    let zoneTokens = Signal()
    /// Moves when an organization's licenses or decommission state change (configuration messages carry both).
    let organizations = Signal()

    func publish(_ changes: [GeoChange]) {
        var wakeStreams = false
        for change in changes {
            switch change {
            case .configuration, .meshConfiguration:
                wakeStreams = true
            case .organization:
                organizations.fire()
                wakeStreams = true
            case .credentials:
                credentials.fire()
                wakeStreams = true
            case .zoneTokens:
                zoneTokens.fire()
                wakeStreams = true
            case .usageQueued:
                usage.fire()
            }
        }
        if wakeStreams { streams.fire() }
    }

    /// A configuration's hash was computed after its delta went out: streams send it.
    func hashReady() { streams.fire() }

    /// Wakes every loop and stream so they notice the node is stopping.
    func stopping() {
        streams.fire()
        usage.fire()
    }
}
