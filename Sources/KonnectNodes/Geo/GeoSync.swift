import KonnectCore
import KonnectHTTP

/// The sending side of configuration push, shared by data planes and Mesh zones.
extension GeoNode {
    /// A chunked stream of newline-delimited JSON messages: the full configuration on connect and after
    /// every change, `decommissioned` while the control plane is (D5), and a heartbeat every second so
    /// a frozen geo is noticed. Ends when the peer leaves, the credential is revoked, the control plane
    /// is deleted, or the geo shuts down.
    func pushStream(
        stillAuthorized: @escaping @Sendable () -> Bool, state: @escaping @Sendable () -> SyncState,
        message: @escaping @Sendable (Int64) throws -> [UInt8], onClose: @escaping @Sendable () -> Void = {}
    ) -> HTTPResponse {
        HTTPResponse(
            status: 200, headers: ["Content-Type": "application/x-ndjson"],
            body: .stream { [self] writer in
                defer { onClose() }
                var sentVersion: Int64? = nil
                var sentDecommission: String? = nil
                while writer.isOpen && !isStopping {
                    let generation = configChanged.current
                    let current = state()
                    guard current == .deleted || stillAuthorized() else {
                        _ = writer.write(
                            Array("{\"type\":\"unauthorized\",\"reason\":\"the credential was revoked\"}\n".utf8))
                        return
                    }
                    switch current {
                    case .deleted:
                        _ = writer.write(
                            Array("{\"type\":\"decommissioned\",\"reason\":\"the control plane was deleted\"}\n".utf8))
                        return
                    case .decommissioned(let reason):
                        if sentDecommission != reason {
                            let notice: JSON = ["type": "decommissioned", "reason": .string(reason)]
                            guard writer.write(notice.bytes + [0x0A]) else { return }
                            sentDecommission = reason
                            sentVersion = nil
                        }
                    case .active(let version):
                        if sentVersion != version || sentDecommission != nil {
                            guard let bytes = try? message(version), writer.write(bytes) else { return }
                            sentVersion = version
                            sentDecommission = nil
                        }
                    }
                    if configChanged.wait(after: generation, timeoutMilliseconds: 1000) == generation {
                        guard writer.write(Array("{\"type\":\"heartbeat\"}\n".utf8)) else { return }
                    }
                }
            })
    }
}
