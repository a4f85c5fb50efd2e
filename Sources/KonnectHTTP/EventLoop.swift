import CLinux
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Something an event loop watches: `ready` runs on the loop's thread with the epoll events that fired.
protocol LoopWatcher: AnyObject {
    func ready(_ events: UInt32)
}

/// Epoll event bits, as the `UInt32` masks `epoll_event.events` carries.
enum EpollEvents {
    static let input = EPOLLIN.rawValue
    static let output = EPOLLOUT.rawValue
    static let peerClosed = EPOLLRDHUP.rawValue
    static let hangUp = EPOLLHUP.rawValue
    static let error = EPOLLERR.rawValue
    static let exclusive = EPOLLEXCLUSIVE.rawValue
}

/// One I/O thread: an epoll instance, the descriptors it watches, tasks handed in from other threads
/// (an eventfd wakes it), and deadlines. Everything a loop owns (connections, their buffers and timers)
/// is touched only on its thread; other threads talk to it through `execute`.
///
/// The loop never blocks on anything but `epoll_wait`: handlers that block (SQLite, a blocking client)
/// run on a `WorkerPool`.
public final class EventLoop: @unchecked Sendable {
    /// The loop's position in its group (also its lane for per-thread counters).
    public let index: Int
    private let epoll: Int32
    private let wakeFD: Int32
    private let thread = Atomic<UInt>(0)

    private struct Inbox {
        var tasks: [@Sendable () -> Void] = []
        var wakePending = false
    }
    private let inbox = Mutex(Inbox())

    // Owned by the loop's thread.
    private struct Registration {
        var generation: UInt32
        var watcher: any LoopWatcher
    }
    private var registrations: [Registration?] = []
    private var generation: UInt32 = 0
    private var localTasks: [() -> Void] = []
    private var timers = TimerHeap()
    /// Monotonic milliseconds, refreshed every time the loop wakes.
    private(set) var now = Monotonic.now
    /// One read buffer shared by every socket of this loop: an idle connection holds no buffer of its own.
    let readBuffer: UnsafeMutableRawBufferPointer

    private static let wakeToken = UInt64.max

    init(index: Int) {
        self.index = index
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epoll >= 0 && wakeFD >= 0, "cannot create an epoll instance: \(String(cString: strerror(errno)))")
        readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        var event = epoll_event()
        event.events = EpollEvents.input
        event.data.u64 = EventLoop.wakeToken
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeFD, &event)
        spawnThread(name: "http-io-\(index)", stackSize: 1 << 20) { [self] in run() }
    }

    /// Whether the caller runs on this loop's thread.
    public var inLoop: Bool { thread.load(ordering: .acquiring) == UInt(pthread_self()) }

    /// Runs `task` on the loop's thread: after the current event when called from the loop itself,
    /// otherwise as soon as the loop wakes (an eventfd write, only when no wake-up is pending already).
    public func execute(_ task: @escaping @Sendable () -> Void) {
        if inLoop {
            localTasks.append(task)
            return
        }
        let wake = inbox.withLock { inbox -> Bool in
            inbox.tasks.append(task)
            defer { inbox.wakePending = true }
            return !inbox.wakePending
        }
        if wake {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    // MARK: - Descriptors (loop thread only)

    func watch(_ fd: Int32, _ watcher: any LoopWatcher, events: UInt32) {
        generation &+= 1
        if Int(fd) >= registrations.count {
            registrations.append(
                contentsOf: repeatElement(nil, count: max(Int(fd) + 1, registrations.count * 2) - registrations.count))
        }
        registrations[Int(fd)] = Registration(generation: generation, watcher: watcher)
        var event = epoll_event()
        event.events = events
        event.data.u64 = UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))
        if epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0 {
            registrations[Int(fd)] = nil
        }
    }

    func change(_ fd: Int32, events: UInt32) {
        guard Int(fd) < registrations.count, let registration = registrations[Int(fd)] else { return }
        var event = epoll_event()
        event.events = events
        event.data.u64 = UInt64(registration.generation) << 32 | UInt64(UInt32(bitPattern: fd))
        epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event)
    }

    /// Stops watching; the caller closes the descriptor afterwards.
    func unwatch(_ fd: Int32) {
        guard Int(fd) < registrations.count, registrations[Int(fd)] != nil else { return }
        registrations[Int(fd)] = nil
        var event = epoll_event()
        epoll_ctl(epoll, EPOLL_CTL_DEL, fd, &event)
    }

    // MARK: - Timers (loop thread only)

    fileprivate func schedule(_ timer: LoopTimer, at deadline: Int) {
        timers.push(TimerHeap.Entry(at: deadline, timer: timer))
        // Entries of cancelled timers wait for their moment in the heap, holding their timer; when they
        // outnumber the armed timers, drop them at once (closed connections' memory is freed now).
        if timers.count > 2 * armedTimers + 1024 { timers.dropStale() }
    }

    /// Timers with a deadline (maintained by `LoopTimer`).
    fileprivate(set) var armedTimers = 0

    /// Entries in the timer heap, stale ones included (loop thread only; for tests).
    var timerEntries: Int { timers.count }

    /// Runs `action` on this loop's thread after `milliseconds`, from any thread. The action must not
    /// block (hand blocking work to a `WorkerPool`).
    public func schedule(after milliseconds: Int, _ action: @escaping @Sendable () -> Void) {
        if inLoop {
            after(milliseconds, action)
        } else {
            execute { [self] in after(milliseconds, action) }
        }
    }

    /// Runs `action` on the loop after `milliseconds` (a one-off timer; from the loop thread only).
    func after(_ milliseconds: Int, _ action: @escaping () -> Void) {
        let timer = LoopTimer(loop: self, action: action)
        timer.set(at: now + milliseconds)
    }

    // MARK: - The loop

    private func run() {
        thread.store(UInt(pthread_self()), ordering: .releasing)
        let capacity = 512
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        while true {
            let count = epoll_wait(epoll, events, Int32(capacity), nextTimeout())
            now = Monotonic.now
            if count < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait failed: \(String(cString: strerror(errno)))")
            }
            for position in 0..<Int(count) {
                let data = events[position].data.u64
                if data == EventLoop.wakeToken {
                    var value: UInt64 = 0
                    _ = Glibc.read(wakeFD, &value, 8)
                    continue
                }
                let fd = Int(UInt32(truncatingIfNeeded: data))
                // A descriptor closed (and perhaps reused) earlier in this batch has a new generation.
                guard fd < registrations.count, let registration = registrations[fd],
                    registration.generation == UInt32(truncatingIfNeeded: data >> 32)
                else { continue }
                registration.watcher.ready(events[position].events)
            }
            runTasks()
            runTimers()
        }
    }

    private func nextTimeout() -> Int32 {
        if !localTasks.isEmpty { return 0 }
        guard let first = timers.first else { return -1 }
        return Int32(clamping: max(0, first.at - Monotonic.now))
    }

    private func runTasks() {
        // Tasks may queue more tasks; those run on the next turn, after new I/O events.
        let remote = inbox.withLock { inbox -> [@Sendable () -> Void] in
            inbox.wakePending = false
            defer { inbox.tasks = [] }
            return inbox.tasks
        }
        for task in remote { task() }
        if !localTasks.isEmpty {
            let local = localTasks
            localTasks = []
            for task in local { task() }
        }
    }

    private func runTimers() {
        now = Monotonic.now
        while let first = timers.first, first.at <= now {
            timers.pop()
            first.timer.expire(entry: first.at, now: now)
        }
        if timers.count > 2 * armedTimers + 1024 { timers.dropStale() }
    }
}

/// A deadline on an event loop, set and cancelled on the loop's thread; `action` runs there once the
/// deadline passes. Moving a deadline later costs nothing (the heap entry is checked when it comes due),
/// so a connection re-arming its timeout on every request never floods the heap.
final class LoopTimer {
    /// Loops live as long as the process.
    unowned(unsafe) let loop: EventLoop
    private(set) var deadline = Int.max
    /// The moment of this timer's live heap entry (.max: none); older entries are ignored.
    private var scheduledAt = Int.max
    private let action: () -> Void

    init(loop: EventLoop, action: @escaping () -> Void) {
        self.loop = loop
        self.action = action
    }

    var isArmed: Bool { deadline != .max }

    func set(at moment: Int) {
        if deadline == .max { loop.armedTimers += 1 }
        deadline = moment
        if moment < scheduledAt {
            scheduledAt = moment
            loop.schedule(self, at: moment)
        }
    }

    func set(after milliseconds: Int) { set(at: loop.now + milliseconds) }

    func cancel() {
        if deadline != .max { loop.armedTimers -= 1 }
        deadline = .max
    }

    /// Whether the heap entry for `moment` is the one that counts and the timer is armed.
    fileprivate func isLive(entry moment: Int) -> Bool { moment == scheduledAt && deadline != .max }

    /// The entry for `moment` was dropped from the heap.
    fileprivate func dropped(entry moment: Int) {
        if moment == scheduledAt { scheduledAt = .max }
    }

    fileprivate func expire(entry: Int, now: Int) {
        guard entry == scheduledAt else { return }
        scheduledAt = .max
        if deadline <= now {
            deadline = .max
            loop.armedTimers -= 1
            action()
        } else if deadline != .max {
            scheduledAt = deadline
            loop.schedule(self, at: deadline)
        }
    }
}

/// A binary min-heap of timer entries.
private struct TimerHeap {
    struct Entry {
        var at: Int
        var timer: LoopTimer
    }
    private var entries: [Entry] = []

    var first: Entry? { entries.first }
    var count: Int { entries.count }

    /// Removes the entries that no longer count (cancelled timers, superseded entries) and rebuilds.
    mutating func dropStale() {
        var kept: [Entry] = []
        kept.reserveCapacity(entries.count / 2)
        for entry in entries {
            if entry.timer.isLive(entry: entry.at) { kept.append(entry) } else { entry.timer.dropped(entry: entry.at) }
        }
        entries = kept
        for parent in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(parent) }
    }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].at < entries[parent].at else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        entries[0] = last
        siftDown(0)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].at < entries[smallest].at { smallest = left }
            if right < entries.count && entries[right].at < entries[smallest].at { smallest = right }
            if smallest == parent { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// The I/O threads of a process. Servers spread their connections over every loop of a group (each
/// loop accepts on its own); clients use the loop they are called on.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let nextLoop = Atomic<Int>(0)

    public init(threads: Int) {
        loops = (0..<max(1, threads)).map { EventLoop(index: $0) }
    }

    /// The process's loops: `KONNECT_SIM_IO_THREADS` of them, else one per core, at most four.
    public static let shared: EventLoopGroup = {
        if let text = getenv("KONNECT_SIM_IO_THREADS").map({ String(cString: $0) }), let count = Int(text),
            (1...64).contains(count)
        {
            return EventLoopGroup(threads: count)
        }
        return EventLoopGroup(threads: min(4, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))))
    }()

    /// Loops in turn.
    public func next() -> EventLoop {
        loops[(nextLoop.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max) % loops.count]
    }

    /// The loop the caller runs on, if any.
    public var current: EventLoop? { loops.first { $0.inLoop } }
}
