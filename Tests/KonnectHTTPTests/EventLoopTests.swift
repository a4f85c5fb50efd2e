import KonnectCore
import Synchronization
import Testing

@testable import KonnectHTTP

// Issue 13: the event loop's deadlines and hand-offs, seen from inside the loop.

/// Runs `body` on the loop and waits for it (bounded).
private func onLoop<T: Sendable>(_ loop: EventLoop, _ body: @escaping @Sendable () -> T) -> T? {
    let result = Mutex<T?>(nil)
    let done = Signal()
    loop.execute {
        let value = body()
        result.withLock { $0 = value }
        done.fire()
    }
    done.wait(after: 0, timeoutMilliseconds: 5000)
    return result.withLock { $0 }
}

@Suite struct EventLoopTests {
    @Test("issue 13: timers fire in deadline order; a cancelled one never fires; one moved later fires later")
    func timersFireInOrder() {
        let loop = EventLoopGroup.shared.loops[0]
        let fired = Mutex<[String]>([])
        let allFired = Signal()
        _ = onLoop(loop) { () -> Int in
            func timer(_ name: String) -> LoopTimer {
                LoopTimer(loop: loop) {
                    fired.withLock { $0.append(name) }
                    allFired.fire()
                }
            }
            let late = timer("late")
            let early = timer("early")
            let cancelled = timer("cancelled")
            let moved = timer("moved")
            late.set(after: 60)
            early.set(after: 10)
            cancelled.set(after: 20)
            moved.set(after: 5)
            cancelled.cancel()
            moved.set(after: 90)  // later: the early entry is checked and re-armed when it comes due
            // The timers are kept alive by the heap's entries until they fire.
            return 0
        }
        let deadline = Monotonic.now + 5000
        while fired.withLock({ $0.count }) < 3 && Monotonic.now < deadline {
            allFired.wait(after: allFired.current, timeoutMilliseconds: 50)
        }
        #expect(fired.withLock { $0 } == ["early", "late", "moved"])
    }

    @Test("issue 13: entries of cancelled timers are dropped once they outnumber the armed ones")
    func cancelledTimersLeaveTheHeap() {
        let loop = EventLoopGroup.shared.loops[0]
        let counts = onLoop(loop) { () -> (Int, Int) in
            let before = loop.timerEntries
            var timers: [LoopTimer] = []
            for _ in 0..<5000 {
                let timer = LoopTimer(loop: loop) {}
                timer.set(after: 60_000)
                timers.append(timer)
            }
            for timer in timers { timer.cancel() }
            // The next timer set (here, or any connection's) finds the heap mostly stale and compacts it.
            let probe = LoopTimer(loop: loop) {}
            probe.set(after: 60_000)
            let after = loop.timerEntries
            probe.cancel()
            return (before, after)
        }
        let (before, after) = counts ?? (-1, -1)
        #expect(after <= before + 1024 + 1, "the heap kept \(after) entries (\(before) before)")
    }
}
