import Foundation

/// A bounded pool of threads for work that blocks (request handlers: SQLite is synchronous; a handler may
/// call another node with the blocking `HTTPClient`). Threads start on demand, up to `maxThreads` for
/// ordinary jobs plus `reservedThreads` that only `priority` jobs may use, so requests on the Unix
/// socket (node-to-node and the operator) still run when public requests occupy every ordinary thread.
/// Jobs wait in first-in, first-out order; priority jobs go first.
public final class WorkerPool: @unchecked Sendable {
    public let maxThreads: Int
    public let reservedThreads: Int
    private let name: String
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var ordinary = JobQueue()
    private var priority = JobQueue()
    private var threads = 0
    private var idle = 0
    private var busyOrdinary = 0

    public init(maxThreads: Int, reservedThreads: Int = 4, name: String = "http-worker") {
        self.maxThreads = max(1, maxThreads)
        self.reservedThreads = max(0, reservedThreads)
        self.name = name
    }

    /// Handlers of every server in the process: sixteen threads (four per core beyond four cores), four
    /// more for the Unix socket.
    public static let shared = WorkerPool(
        maxThreads: max(16, 4 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))), reservedThreads: 4)

    public func submit(priority isPriority: Bool = false, _ job: @escaping @Sendable () -> Void) {
        condition.lock()
        if isPriority { priority.append(job) } else { ordinary.append(job) }
        if idle > 0 && (isPriority || busyOrdinary < maxThreads) {
            condition.signal()
        } else if threads < maxThreads + reservedThreads && (isPriority || busyOrdinary < maxThreads) {
            threads += 1
            spawnThread(name: name, stackSize: 2 << 20) { [self] in work() }
        }
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            if let job = priority.popFirst() {
                condition.unlock()
                job()
                condition.lock()
                continue
            }
            if busyOrdinary < maxThreads, let job = ordinary.popFirst() {
                busyOrdinary += 1
                condition.unlock()
                job()
                condition.lock()
                busyOrdinary -= 1
                // A slot for ordinary jobs is free again: a waiting job may need another idle thread.
                if !ordinary.isEmpty && idle > 0 { condition.signal() }
                continue
            }
            idle += 1
            condition.wait()
            idle -= 1
        }
    }
}

/// A first-in, first-out queue of jobs without moving elements on every pop.
private struct JobQueue {
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0

    var isEmpty: Bool { head == jobs.count }

    mutating func append(_ job: @escaping @Sendable () -> Void) { jobs.append(job) }

    mutating func popFirst() -> (@Sendable () -> Void)? {
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: jobs.count <= 1024)
            head = 0
        } else if head > 1024 && head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }
}
