import KonnectCore
import KonnectHTTP
import Synchronization
import Testing

// Issue 13: the bounded worker pool that runs blocking handlers.

@Suite struct WorkerPoolTests {
    @Test("issue 13: a job submitted right after one that blocks runs on another thread, not behind it")
    func blockedJobDoesNotHoldUpTheNext() throws {
        let pool = WorkerPool(maxThreads: 2, reservedThreads: 1, name: "pool-test")
        // One thread exists and is idle: both jobs below are submitted before it wakes.
        let warm = Signal()
        pool.submit { warm.fire() }
        warm.wait(after: 0, timeoutMilliseconds: 5000)
        let deadline = Monotonic.now + 5000
        while pool.idleThreads < 1 && Monotonic.now < deadline {
            warm.wait(after: warm.current, timeoutMilliseconds: 5)
        }
        try #require(pool.idleThreads == 1)
        let release = Signal()
        let ran = Signal()
        pool.submit(priority: true) { release.wait(after: 0, timeoutMilliseconds: 10_000) }
        pool.submit { ran.fire() }
        #expect(ran.wait(after: 0, timeoutMilliseconds: 5000) > 0, "the second job waited behind the blocked one")
        release.fire()
    }

    @Test("issue 13: ordinary jobs use at most maxThreads threads; priority jobs still run when those are busy")
    func priorityJobsHaveReservedThreads() {
        let pool = WorkerPool(maxThreads: 2, reservedThreads: 1, name: "pool-test")
        let release = Signal()
        let running = Mutex(0)
        let started = Signal()
        for _ in 0..<3 {
            pool.submit {
                running.withLock { $0 += 1 }
                started.fire()
                release.wait(after: 0, timeoutMilliseconds: 10_000)
            }
        }
        while running.withLock({ $0 }) < 2 { started.wait(after: started.current, timeoutMilliseconds: 100) }
        let priorityRan = Signal()
        pool.submit(priority: true) { priorityRan.fire() }
        #expect(priorityRan.wait(after: 0, timeoutMilliseconds: 5000) > 0)
        #expect(
            running.withLock { $0 } == 2, "a third ordinary job ran although two already used every ordinary thread")
        release.fire()
    }
}
