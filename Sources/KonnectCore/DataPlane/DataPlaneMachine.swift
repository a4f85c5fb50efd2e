/// A data plane's relation to its control plane (C2, D5, D6).
public enum DataPlaneState: String, Sendable, CaseIterable {
    /// Connected and running the latest configuration it received.
    case synced
    /// The control plane cannot be reached (crash, pause, partition): proxying on the cached
    /// configuration, retrying with backoff (D6).
    case disconnected
    /// The control plane was decommissioned: the last configuration is kept and visible, no updates,
    /// no proxying; only a manual stop ends the process (D5).
    case orphaned
}

/// What the proxy does with a request in the current state.
public enum ProxyMode: Sendable, Equatable {
    case serve
    /// 503 with a body naming the reason.
    case refuse(reason: String)
}

/// What the data-plane shell must carry out after an event.
public enum DataPlaneDirective: Sendable, Equatable {
    /// Swap the routing table to this configuration and write it to the disk cache (write, fsync, rename).
    /// The hash is nil for a delta whose hash follows.
    case applyConfiguration(version: Int64, hash: String?)
    /// Persist the orphaned state so a restart keeps it.
    case persistOrphaned(reason: String?)
    /// Report the running hash to the control plane's node list.
    case ping
    /// Reconnect after this many milliseconds.
    case reconnect(afterMilliseconds: Int)
    /// End the stream and reconnect at once, asking for the full configuration (a delta did not apply
    /// or did not verify); the running configuration keeps serving meanwhile.
    case resync(reason: String)
}

/// The data plane's state machine: pure, so every transition is tested without sockets.
public struct DataPlaneMachine: Sendable {
    public private(set) var state: DataPlaneState
    public private(set) var version: Int64?
    public private(set) var hash: String?
    public private(set) var orphanReason: String?
    public private(set) var lastError: String?
    private var backoff: Backoff

    /// Starts from what the disk holds: a cached configuration (or none) and a persisted orphaned reason.
    public init(cachedVersion: Int64?, cachedHash: String?, orphanReason: String?, seed: UInt64) {
        version = cachedVersion
        hash = cachedHash
        self.orphanReason = orphanReason
        state = orphanReason != nil ? .orphaned : .disconnected
        backoff = Backoff(baseMilliseconds: 100, maximumMilliseconds: 3000, seed: seed)
    }

    public var hasConfiguration: Bool { version != nil }

    public var proxyMode: ProxyMode {
        if state == .orphaned {
            return .refuse(reason: orphanReason ?? "the control plane was decommissioned")
        }
        if !hasConfiguration {
            return .refuse(reason: "the data plane has not received a configuration from its control plane yet")
        }
        return .serve
    }

    /// A configuration arrived: apply it. The control plane only sends configurations while it is
    /// commissioned, so this also ends an orphaned state (reactivation, D7).
    public mutating func onConfiguration(version newVersion: Int64, hash newHash: String) -> [DataPlaneDirective] {
        var directives: [DataPlaneDirective] = []
        if state == .orphaned { directives.append(.persistOrphaned(reason: nil)) }
        state = .synced
        orphanReason = nil
        lastError = nil
        backoff.reset()
        if newVersion != version || newHash != hash {
            version = newVersion
            hash = newHash
            directives.insert(.applyConfiguration(version: newVersion, hash: newHash), at: 0)
        }
        directives.append(.ping)
        return directives
    }

    /// A delta arrived (the shell has verified it against the configuration it runs): it applies only
    /// on top of the version it was computed from; otherwise the full configuration is needed. Without
    /// a hash (the control plane sends it next), the new version's hash is unknown until `onHash`, and
    /// the control plane is told the running hash then.
    public mutating func onDelta(from: Int64, version newVersion: Int64, hash newHash: String?) -> [DataPlaneDirective]
    {
        guard from == version else {
            let reason =
                "the control plane sent changes from version \(from), but this node runs \(version.map { "version \($0)" } ?? "no configuration")"
            lastError = reason
            return [.resync(reason: reason)]
        }
        var directives: [DataPlaneDirective] = []
        if state == .orphaned { directives.append(.persistOrphaned(reason: nil)) }
        state = .synced
        orphanReason = nil
        lastError = nil
        backoff.reset()
        if newVersion != version || (newHash != nil && newHash != hash) {
            version = newVersion
            hash = newHash
            directives.insert(.applyConfiguration(version: newVersion, hash: newHash), at: 0)
        }
        // The running hash is reported once it is known.
        if hash != nil { directives.append(.ping) }
        return directives
    }

    /// Kong's hash of a version arrived: it is the running hash when that version runs (a stale one,
    /// for a version already replaced, is ignored).
    public mutating func onHash(version hashVersion: Int64, hash newHash: String) -> [DataPlaneDirective] {
        guard hashVersion == version else { return [] }
        let changed = hash != newHash
        hash = newHash
        return changed ? [.ping] : []
    }

    /// A configuration or delta did not verify (its digest or hash differs from what it should lead
    /// to): keep what runs, ask for the full configuration.
    public mutating func onVerificationFailed(_ reason: String) -> [DataPlaneDirective] {
        lastError = reason
        return [.resync(reason: reason)]
    }

    /// The control plane says it is decommissioned (now, or on reconnect).
    public mutating func onDecommissioned(reason: String) -> [DataPlaneDirective] {
        let changed = state != .orphaned || orphanReason != reason
        state = .orphaned
        orphanReason = reason
        backoff.reset()
        return changed ? [.persistOrphaned(reason: reason)] : []
    }

    /// Connected again (the stream's head arrived): still not synced until a message says how things are.
    public mutating func onConnected() {
        lastError = nil
    }

    /// The link to the control plane failed or went silent: keep serving the cache, retry later.
    public mutating func onConnectionLost(_ error: String) -> [DataPlaneDirective] {
        lastError = error
        if state == .synced { state = .disconnected }
        return [.reconnect(afterMilliseconds: backoff.next())]
    }
}
