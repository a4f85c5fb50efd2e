import Foundation
import Synchronization

/// Starts a detached OS thread. konnect-sim runs blocking socket and SQLite work on its own threads so
/// the Swift concurrency pool is never blocked by a `recv` or an `fsync`.
public func spawnThread(name: String, stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread { body() }
    thread.name = name
    thread.stackSize = stackSize
    thread.start()
}

/// Sleeps the calling thread.
public func sleepMilliseconds(_ milliseconds: Int) {
    guard milliseconds > 0 else { return }
    usleep(UInt32(clamping: milliseconds * 1000))
}

/// A value that one thread can wait on until another changes it: the building block for long polls,
/// config push and "wait until" loops without sleeping.
public final class Signal: Sendable {
    private let condition = NSCondition()
    private let generation = Mutex<UInt64>(0)

    public init() {}

    /// The current generation; pass it to `wait(after:)` to wait for the next change.
    public var current: UInt64 { generation.withLock { $0 } }

    /// Wakes every waiter.
    public func fire() {
        condition.lock()
        generation.withLock { $0 &+= 1 }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the generation moves past `seen` or the timeout elapses; returns the generation.
    @discardableResult
    public func wait(after seen: UInt64, timeoutMilliseconds: Int) -> UInt64 {
        let deadline = Date(timeIntervalSinceNow: Double(timeoutMilliseconds) / 1000)
        condition.lock()
        defer { condition.unlock() }
        while generation.withLock({ $0 }) == seen {
            if !condition.wait(until: deadline) { break }
        }
        return generation.withLock { $0 }
    }
}
