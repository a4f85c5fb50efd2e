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
/// config push and "wait until" loops without sleeping. `whenChanged` waits without a thread.
public final class Signal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: @Sendable (Bool) -> Void] = [:]
    }

    private let condition = NSCondition()
    private let state = Mutex(State())

    public init() {}

    /// The current generation; pass it to `wait(after:)` to wait for the next change.
    public var current: UInt64 { state.withLock { $0.generation } }

    /// Wakes every waiter.
    public func fire() {
        condition.lock()
        let actions = state.withLock { state -> [@Sendable (Bool) -> Void] in
            state.generation &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        condition.broadcast()
        condition.unlock()
        for action in actions { WorkerPool.shared.submit(priority: true) { action(true) } }
    }

    /// Waits until the generation moves past `seen` or the timeout elapses; returns the generation.
    @discardableResult
    public func wait(after seen: UInt64, timeoutMilliseconds: Int) -> UInt64 {
        let deadline = Date(timeIntervalSinceNow: Double(timeoutMilliseconds) / 1000)
        condition.lock()
        defer { condition.unlock() }
        while state.withLock({ $0.generation }) == seen {
            if !condition.wait(until: deadline) { break }
        }
        return current
    }

    /// Runs `action` once on a worker thread, without holding one meanwhile: with `true` when the
    /// generation moves past `seen` (at once if it already has), with `false` after `timeoutMilliseconds`
    /// without a change. The returned waiter can be cancelled (then `action` never runs).
    @discardableResult
    public func whenChanged(
        after seen: UInt64, timeoutMilliseconds: Int, _ action: @escaping @Sendable (_ changed: Bool) -> Void
    ) -> SignalWaiter {
        let token = state.withLock { state -> UInt64? in
            guard state.generation == seen else { return nil }
            state.nextWaiter &+= 1
            state.waiters[state.nextWaiter] = action
            return state.nextWaiter
        }
        guard let token else {
            WorkerPool.shared.submit(priority: true) { action(true) }
            return SignalWaiter(signal: nil, token: 0)
        }
        EventLoopGroup.shared.next().schedule(after: timeoutMilliseconds) { [self] in
            if let action = take(token) { WorkerPool.shared.submit(priority: true) { action(false) } }
        }
        return SignalWaiter(signal: self, token: token)
    }

    fileprivate func take(_ token: UInt64) -> (@Sendable (Bool) -> Void)? {
        state.withLock { $0.waiters.removeValue(forKey: token) }
    }
}

/// A pending `Signal.whenChanged`.
public struct SignalWaiter: Sendable {
    fileprivate let signal: Signal?
    fileprivate let token: UInt64

    /// Forgets the waiter: its action will not run (unless it is running already).
    public func cancel() { _ = signal?.take(token) }
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
