import KonnectHTTP
import Synchronization

/// Set once when the node shuts down; background loops check it and pause on it, so a loop waiting
/// to retry ends at once instead of after its delay.
final class StopFlag: Sendable {
    private let stopped = Mutex(false)
    private let signal = Signal()

    var isStopping: Bool { stopped.withLock { $0 } }

    func stop() {
        stopped.withLock { $0 = true }
        signal.fire()
    }

    /// Waits `milliseconds`, or less when the node stops meanwhile.
    func pause(_ milliseconds: Int) {
        let seen = signal.current
        guard !isStopping else { return }
        signal.wait(after: seen, timeoutMilliseconds: milliseconds)
    }
}
