import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A deliberate bug, for the test that `konnect-sim chaos` finds bugs (issue 18); off unless the geo was
/// started with `KONNECT_SIM_PLANTED_BUG=geo-skips-outbox-event` in its environment (read once, at start).
/// Then the geo skips the first organization deactivation it reads from the auth node's outbox: it
/// advances its cursor as if the event were applied, so the organization is never decommissioned there.
final class PlantedBug: Sendable {
    static let variable = "KONNECT_SIM_PLANTED_BUG"
    static let skipsOutboxEvent = "geo-skips-outbox-event"

    private let armed: Mutex<Bool>

    init(environment value: String?) {
        armed = Mutex(value == PlantedBug.skipsOutboxEvent)
    }

    /// The switch as this process's environment sets it.
    static func fromEnvironment() -> PlantedBug {
        PlantedBug(environment: getenv(variable).map { String(cString: $0) })
    }

    /// Whether to skip this deactivation: true once, when planted.
    func skipsDeactivation() -> Bool {
        armed.withLock { armed in
            defer { armed = false }
            return armed
        }
    }
}
