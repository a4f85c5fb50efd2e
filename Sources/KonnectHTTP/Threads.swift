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

/// Runs `body(0..<count)` on up to `lanes` threads and returns when all are done; rethrows the first
/// error (after every item has run). Used to start nodes and to load clusters in benchmarks.
public func concurrently(
    _ count: Int, lanes: Int, name: String = "worker", _ body: @escaping @Sendable (Int) throws -> Void
) throws {
    guard count > 0 else { return }
    let next = Mutex(0)
    let finished = Mutex(0)
    let firstError = Mutex<(any Error)?>(nil)
    let done = Signal()
    let workers = max(1, min(lanes, count))
    for _ in 0..<workers {
        spawnThread(name: name, stackSize: 4 << 20) {
            while true {
                let index = next.withLock { value -> Int in
                    defer { value += 1 }
                    return value
                }
                guard index < count else { break }
                do {
                    try body(index)
                } catch {
                    firstError.withLock { if $0 == nil { $0 = error } }
                }
            }
            finished.withLock { $0 += 1 }
            done.fire()
        }
    }
    while finished.withLock({ $0 }) < workers { done.wait(after: done.current, timeoutMilliseconds: 100) }
    if let error = firstError.withLock({ $0 }) { throw error }
}
