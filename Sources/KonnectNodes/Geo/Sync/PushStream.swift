import KonnectCore
import KonnectHTTP

/// Where a control plane (or Mesh global control plane) stands for its subscribers.
enum SyncState: Equatable, Sendable {
    case active(version: Int64)
    case decommissioned(reason: String)
    case deleted
}

/// What one push stream serves: whether the subscriber's credential still holds, where the control
/// plane stands, and the configuration message for a version.
struct SyncSubscription: Sendable {
    var stillAuthorized: @Sendable () throws -> Bool
    var state: @Sendable () throws -> SyncState
    /// The `SyncMessage` line of the configuration at a version (or a newer one).
    var configuration: @Sendable (Int64) throws -> [UInt8]
    var closed: @Sendable () -> Void = {}
}

/// The sending side of configuration push, shared by data planes and Mesh zones (C2, D5): a chunked
/// stream of `SyncMessage` lines: the full configuration on connect and after every change,
/// `decommissioned` while the control plane is, and a heartbeat every second so a frozen geo is
/// noticed. Ends when the peer leaves, the credential is revoked, the control plane is deleted, the
/// geo cannot read its database (the subscriber reconnects), or the geo shuts down.
struct PushStream: Sendable {
    /// Fired by `GeoWakeups` when anything a stream serves may have changed.
    let wakeups: Signal
    let stop: StopFlag

    func response(_ subscription: SyncSubscription) -> HTTPResponse {
        HTTPResponse(
            status: 200, headers: ["Content-Type": "application/x-ndjson"],
            body: .stream { [self] writer in
                defer { subscription.closed() }
                var sentVersion: Int64? = nil
                var sentDecommission: String? = nil
                var failedVersion: Int64? = nil
                while writer.isOpen && !stop.isStopping {
                    let generation = wakeups.current
                    let current: SyncState
                    do {
                        current = try subscription.state()
                        let authorized = try current == .deleted || subscription.stillAuthorized()
                        guard authorized else {
                            _ = writer.write(SyncMessage.unauthorized(reason: "the credential was revoked").line)
                            return
                        }
                    } catch {
                        Log.error(
                            "a push stream ends: cannot read its control plane (\(error)); the subscriber reconnects")
                        return
                    }
                    switch current {
                    case .deleted:
                        _ = writer.write(SyncMessage.decommissioned(reason: "the control plane was deleted").line)
                        return
                    case .decommissioned(let reason):
                        if sentDecommission != reason {
                            guard writer.write(SyncMessage.decommissioned(reason: reason).line) else { return }
                            sentDecommission = reason
                            sentVersion = nil
                        }
                    case .active(let version):
                        if sentVersion != version || sentDecommission != nil {
                            let line: [UInt8]
                            do {
                                line = try subscription.configuration(version)
                            } catch {
                                // Deleted meanwhile: the next turn says so. Failing twice ends the stream.
                                guard failedVersion == version else {
                                    failedVersion = version
                                    continue
                                }
                                Log.error(
                                    "a push stream ends: cannot build configuration version \(version) (\(error)); the subscriber reconnects"
                                )
                                return
                            }
                            failedVersion = nil
                            guard writer.write(line) else { return }
                            sentVersion = version
                            sentDecommission = nil
                        }
                    }
                    if wakeups.wait(after: generation, timeoutMilliseconds: 1000) == generation {
                        guard writer.write(SyncMessage.heartbeat.line) else { return }
                    }
                }
            })
    }
}
