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
    /// Signals sent to idle threads that have not woken yet.
    private var wakeups = 0
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

    /// Threads waiting for a job.
    public var idleThreads: Int {
        condition.lock()
        defer { condition.unlock() }
        return idle
    }

    public func submit(priority isPriority: Bool = false, _ job: @escaping @Sendable () -> Void) {
        condition.lock()
        if isPriority { priority.append(job) } else { ordinary.append(job) }
        wakeOrStartThread()
        condition.unlock()
    }

    /// Makes sure a thread will take the runnable jobs: an idle one not yet woken, else a new one within the
    /// limits. Counting the wake-ups already sent matters: a woken thread may take another job first (a
    /// priority one that blocks for long) and the job that woke it must not wait behind it.
    private func wakeOrStartThread() {
        let runnable = priority.count + (busyOrdinary < maxThreads ? ordinary.count : 0)
        guard runnable > 0 else { return }
        if idle > wakeups {
            wakeups += 1
            condition.signal()
        } else if threads < maxThreads + reservedThreads && (!priority.isEmpty || busyOrdinary < maxThreads) {
            threads += 1
            spawnThread(name: name, stackSize: 2 << 20) { [self] in work() }
        }
    }

    private func work() {
        condition.lock()
        while true {
            if let job = priority.popFirst() {
                if !priority.isEmpty || !ordinary.isEmpty { wakeOrStartThread() }
                condition.unlock()
                job()
                condition.lock()
                continue
            }
            if busyOrdinary < maxThreads, let job = ordinary.popFirst() {
                busyOrdinary += 1
                if !ordinary.isEmpty { wakeOrStartThread() }
                condition.unlock()
                job()
                condition.lock()
                busyOrdinary -= 1
                continue
            }
            idle += 1
            condition.wait()
            idle -= 1
            if wakeups > 0 { wakeups -= 1 }
        }
    }
}

/// A first-in, first-out queue of jobs without moving elements on every pop.
private struct JobQueue {
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0

    var isEmpty: Bool { head == jobs.count }
    var count: Int { jobs.count - head }

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
