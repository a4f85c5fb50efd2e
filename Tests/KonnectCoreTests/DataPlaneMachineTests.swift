import Testing

@testable import KonnectCore

/// The states a data plane can be in when an event arrives, built the way the shell reaches them.
enum MachineStart: String, CaseIterable, CustomTestStringConvertible {
    /// Just started, nothing cached.
    case disconnectedEmpty
    /// Started from the disk cache (version 3, hash h3), not connected yet (D6).
    case disconnectedCached
    /// Connected and running version 3 (C2).
    case synced
    /// Synced, then the link failed: still serving version 3 (D6).
    case disconnectedAfterSync
    /// Its control plane was decommissioned: keeps version 3, refuses to proxy (D5).
    case orphaned
    /// Restarted with an orphaned state persisted on disk.
    case orphanedFromDisk

    var testDescription: String { rawValue }

    static let seed: UInt64 = 42

    func machine() -> DataPlaneMachine {
        switch self {
        case .disconnectedEmpty:
            return DataPlaneMachine(cachedVersion: nil, cachedHash: nil, orphanReason: nil, seed: MachineStart.seed)
        case .disconnectedCached:
            return DataPlaneMachine(cachedVersion: 3, cachedHash: "h3", orphanReason: nil, seed: MachineStart.seed)
        case .synced:
            var machine = MachineStart.disconnectedEmpty.machine()
            _ = machine.onConfiguration(version: 3, hash: "h3")
            return machine
        case .disconnectedAfterSync:
            var machine = MachineStart.synced.machine()
            _ = machine.onConnectionLost("link down")
            return machine
        case .orphaned:
            var machine = MachineStart.synced.machine()
            _ = machine.onDecommissioned(reason: "old reason")
            return machine
        case .orphanedFromDisk:
            return DataPlaneMachine(
                cachedVersion: 3, cachedHash: "h3", orphanReason: "old reason", seed: MachineStart.seed)
        }
    }

    var isOrphaned: Bool { self == .orphaned || self == .orphanedFromDisk }
    var hasConfiguration: Bool { self != .disconnectedEmpty }
}

/// Rules C2, D5, D6: every transition of the data plane's state machine, from every state.
@Suite struct DataPlaneMachineTests {
    // MARK: - Starting points

    @Test(arguments: MachineStart.allCases)
    func startingPointsHoldWhatTheyClaim(start: MachineStart) {
        let machine = start.machine()
        switch start {
        case .disconnectedEmpty, .disconnectedCached, .disconnectedAfterSync: #expect(machine.state == .disconnected)
        case .synced: #expect(machine.state == .synced)
        case .orphaned, .orphanedFromDisk: #expect(machine.state == .orphaned)
        }
        #expect(machine.hasConfiguration == start.hasConfiguration)
        #expect(machine.version == (start.hasConfiguration ? 3 : nil))
        #expect(machine.orphanReason == (start.isOrphaned ? "old reason" : nil))
    }

    @Test(arguments: MachineStart.allCases)
    func proxyModeFollowsTheStateAndTheConfiguration(start: MachineStart) {
        let mode = start.machine().proxyMode
        if start.isOrphaned {
            #expect(mode == .refuse(reason: "old reason"))
        } else if !start.hasConfiguration {
            #expect(
                mode == .refuse(reason: "the data plane has not received a configuration from its control plane yet"))
        } else {
            // A disconnected data plane keeps proxying from its cached configuration (D6).
            #expect(mode == .serve)
        }
    }

    // MARK: - A configuration arrives

    @Test(arguments: MachineStart.allCases)
    func aNewConfigurationIsAppliedAndSyncs(start: MachineStart) {
        var machine = start.machine()
        let directives = machine.onConfiguration(version: 4, hash: "h4")
        var expected: [DataPlaneDirective] = [.applyConfiguration(version: 4, hash: "h4")]
        // Only a configuration ends an orphaned state (reactivation, D7); the disk must forget it.
        if start.isOrphaned { expected.append(.persistOrphaned(reason: nil)) }
        expected.append(.ping)
        #expect(directives == expected)
        #expect(machine.state == .synced)
        #expect(machine.version == 4)
        #expect(machine.hash == "h4")
        #expect(machine.orphanReason == nil)
        #expect(machine.lastError == nil)
        #expect(machine.proxyMode == .serve)
    }

    @Test(arguments: MachineStart.allCases.filter(\.hasConfiguration))
    func theConfigurationAlreadyRunningIsNotAppliedAgain(start: MachineStart) {
        var machine = start.machine()
        let directives = machine.onConfiguration(version: 3, hash: "h3")
        #expect(directives == (start.isOrphaned ? [.persistOrphaned(reason: nil), .ping] : [.ping]))
        #expect(machine.state == .synced)
        #expect(machine.version == 3)
    }

    @Test func theSameVersionWithAnotherHashIsApplied() {
        var machine = MachineStart.synced.machine()
        #expect(
            machine.onConfiguration(version: 3, hash: "other") == [
                .applyConfiguration(version: 3, hash: "other"), .ping,
            ])
        #expect(machine.hash == "other")
    }

    // MARK: - A delta arrives

    @Test(arguments: MachineStart.allCases.filter(\.hasConfiguration))
    func aDeltaFromTheRunningVersionIsAppliedLikeAConfiguration(start: MachineStart) {
        var viaDelta = start.machine()
        var viaConfiguration = start.machine()
        #expect(
            viaDelta.onDelta(from: 3, version: 5, hash: "h5")
                == viaConfiguration.onConfiguration(version: 5, hash: "h5"))
        #expect(viaDelta.state == .synced)
        #expect(viaDelta.version == 5)
        #expect(viaDelta.hash == "h5")
    }

    @Test(arguments: MachineStart.allCases.filter(\.hasConfiguration))
    func aDeltaWhoseHashFollowsAppliesAndPingsOnceTheHashArrives(start: MachineStart) {
        var machine = start.machine()
        var expected: [DataPlaneDirective] = [.applyConfiguration(version: 5, hash: nil)]
        if start.isOrphaned { expected.append(.persistOrphaned(reason: nil)) }
        #expect(machine.onDelta(from: 3, version: 5, hash: nil) == expected, "no ping before the hash is known")
        #expect(machine.state == .synced)
        #expect(machine.version == 5)
        #expect(machine.hash == nil)
        #expect(machine.onHash(version: 4, hash: "h4") == [], "a stale hash is ignored")
        #expect(machine.hash == nil)
        #expect(machine.onHash(version: 5, hash: "h5") == [.ping])
        #expect(machine.hash == "h5")
        #expect(machine.onHash(version: 5, hash: "h5") == [])
        // An empty delta without a hash keeps the one it has.
        #expect(machine.onDelta(from: 5, version: 5, hash: nil) == [.ping])
        #expect(machine.hash == "h5")
    }

    @Test(arguments: MachineStart.allCases.filter(\.hasConfiguration))
    func anEmptyDeltaTellsAReconnectedNodeItIsUpToDate(start: MachineStart) {
        var machine = start.machine()
        let directives = machine.onDelta(from: 3, version: 3, hash: "h3")
        #expect(directives == (start.isOrphaned ? [.persistOrphaned(reason: nil), .ping] : [.ping]))
        #expect(machine.state == .synced)
    }

    @Test(arguments: MachineStart.allCases)
    func aDeltaFromAnotherVersionAsksForTheFullConfigurationAndChangesNothing(start: MachineStart) {
        var machine = start.machine()
        let before = (machine.state, machine.version, machine.hash)
        let directives = machine.onDelta(from: 2, version: 4, hash: "h4")
        guard case .resync(let reason)? = directives.first, directives.count == 1 else {
            Issue.record("expected one resync directive, got \(directives)")
            return
        }
        #expect(reason.contains("version 2"))
        #expect(machine.lastError == reason)
        #expect(machine.state == before.0)
        #expect(machine.version == before.1)
        #expect(machine.hash == before.2)
    }

    @Test(arguments: MachineStart.allCases)
    func anUpdateThatDoesNotVerifyKeepsWhatRunsAndAsksForTheFullConfiguration(start: MachineStart) {
        var machine = start.machine()
        let proxyMode = machine.proxyMode
        #expect(machine.onVerificationFailed("digest differs") == [.resync(reason: "digest differs")])
        #expect(machine.lastError == "digest differs")
        #expect(machine.version == (start.hasConfiguration ? 3 : nil))
        #expect(machine.proxyMode == proxyMode, "a node keeps serving what it runs while it resyncs")
    }

    // MARK: - The control plane is decommissioned

    @Test(arguments: MachineStart.allCases)
    func decommissioningOrphansAndPersistsTheReason(start: MachineStart) {
        var machine = start.machine()
        let directives = machine.onDecommissioned(reason: "organization deactivated")
        #expect(directives == [.persistOrphaned(reason: "organization deactivated")])
        #expect(machine.state == .orphaned)
        #expect(machine.orphanReason == "organization deactivated")
        #expect(machine.proxyMode == .refuse(reason: "organization deactivated"))
        // The last configuration stays visible (D5).
        #expect(machine.version == (start.hasConfiguration ? 3 : nil))
    }

    @Test(arguments: [MachineStart.orphaned, .orphanedFromDisk])
    func theSameDecommissionAgainChangesNothing(start: MachineStart) {
        var machine = start.machine()
        #expect(machine.onDecommissioned(reason: "old reason") == [])
        #expect(machine.state == .orphaned)
        #expect(machine.orphanReason == "old reason")
    }

    // MARK: - The stream connects

    @Test(arguments: MachineStart.allCases)
    func connectingClearsTheErrorButNotTheState(start: MachineStart) {
        var machine = start.machine()
        _ = machine.onConnectionLost("refused")
        let before = machine.state
        machine.onConnected()
        #expect(machine.lastError == nil)
        // Not synced until a message says how things are.
        #expect(machine.state == before)
        #expect(machine.state != .synced)
    }

    // MARK: - The link is lost

    @Test(arguments: MachineStart.allCases)
    func losingTheLinkKeepsTheConfigurationAndReconnects(start: MachineStart) {
        var machine = start.machine()
        let directives = machine.onConnectionLost("no message for 3000 ms")
        guard case .reconnect(let delay)? = directives.first, directives.count == 1 else {
            Issue.record("expected one reconnect directive, got \(directives)")
            return
        }
        #expect(delay > 0)
        #expect(machine.lastError == "no message for 3000 ms")
        #expect(machine.state == (start.isOrphaned ? .orphaned : .disconnected))
        #expect(machine.version == (start.hasConfiguration ? 3 : nil))
        #expect(machine.proxyMode == start.machine().proxyMode)
    }

    // MARK: - Backoff between reconnects

    static func reconnectDelays(_ machine: inout DataPlaneMachine, count: Int) -> [Int] {
        (0..<count).map { _ in
            guard case .reconnect(let delay)? = machine.onConnectionLost("down").first else { return -1 }
            return delay
        }
    }

    @Test func reconnectDelaysGrowWithinTheirBoundsUpToTheCap() {
        var machine = MachineStart.synced.machine()
        let delays = Self.reconnectDelays(&machine, count: 8)
        // 100 ms doubling, capped at 3 s; each delay in [ceiling / 2, ceiling].
        let ceilings = [100, 200, 400, 800, 1600, 3000, 3000, 3000]
        for (delay, ceiling) in zip(delays, ceilings) {
            #expect((ceiling / 2)...ceiling ~= delay, "\(delay) not within [\(ceiling / 2), \(ceiling)]")
        }
    }

    @Test(arguments: ["configuration", "decommissioned"])
    func aMessageFromTheControlPlaneResetsTheBackoff(event: String) {
        var machine = MachineStart.synced.machine()
        _ = Self.reconnectDelays(&machine, count: 6)
        if event == "configuration" {
            _ = machine.onConfiguration(version: 9, hash: "h9")
        } else {
            _ = machine.onDecommissioned(reason: "gone")
        }
        let next = Self.reconnectDelays(&machine, count: 1)[0]
        #expect((50...100).contains(next), "after a reset the first delay is back at the base: \(next)")
    }

    @Test func delaysAreReproducibleForASeed() {
        var first = MachineStart.synced.machine()
        var second = MachineStart.synced.machine()
        #expect(Self.reconnectDelays(&first, count: 10) == Self.reconnectDelays(&second, count: 10))
    }
}
