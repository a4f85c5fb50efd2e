import Synchronization

/// Writes chunks of a streamed response body. `write` returns false once the peer is gone or the server is
/// shutting down, and the stream should end.
public protocol ChunkWriter: Sendable {
    func write(_ bytes: [UInt8]) -> Bool
    var isOpen: Bool { get }
}

/// The sending end of a streamed (chunked) response, safe to use from any thread: `write` queues a chunk
/// and wakes the connection's event loop, `finish` ends the body. It reports when the stream is over for
/// another reason (the peer left, did not read for the write timeout, or the server drains) through
/// `isOpen`, a false `write`, and the `onClose` actions, which run once on a worker thread whatever ended
/// the stream.
public final class StreamWriter: ChunkWriter, Sendable {
    private struct State {
        var pending: [UInt8] = []
        var finished = false
        /// Writes are refused (peer gone, server draining, or finished).
        var closed = false
        var attached = false
        var flushScheduled = false
        var ended = false
        var onClose: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    private let connection: ServerConnection
    /// Blocking producers (`HTTPBody.stream`) wait while this much is queued; pushing producers are cut off
    /// when the peer falls this far behind.
    private let blocking: Bool
    /// A HEAD request: the head says what a GET would send, and no body follows.
    let headOnly: Bool
    private let drained = Signal()

    static let blockingLimit = 1 << 20
    static let pushLimit = 64 << 20

    init(connection: ServerConnection, blocking: Bool, headOnly: Bool) {
        self.connection = connection
        self.blocking = blocking
        self.headOnly = headOnly
        if headOnly { state.withLock { $0.closed = true } }
    }

    public var isOpen: Bool { state.withLock { !$0.closed } }

    /// Queues one chunk; false when the stream is over and nothing more will be sent.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return isOpen }
        while true {
            let outcome = state.withLock { state -> (accepted: Bool, schedule: Bool, wait: UInt64?) in
                guard !state.closed else { return (false, false, nil) }
                if blocking && state.pending.count >= StreamWriter.blockingLimit {
                    return (false, false, drained.current)
                }
                if state.pending.count >= StreamWriter.pushLimit {
                    state.closed = true
                    state.pending = []
                    return (false, true, nil)
                }
                MessageEncoding.appendChunk(bytes, to: &state.pending)
                return (true, scheduleFlush(&state), nil)
            }
            if outcome.schedule { wakeConnection() }
            if let seen = outcome.wait {
                drained.wait(after: seen, timeoutMilliseconds: 1000)
                continue
            }
            return outcome.accepted
        }
    }

    /// Ends the body once what was written has been sent.
    public func finish() {
        let schedule = state.withLock { state -> Bool in
            guard !state.finished else { return false }
            state.finished = true
            state.closed = true
            return scheduleFlush(&state)
        }
        if schedule { wakeConnection() }
    }

    /// Runs `action` once when the stream is over, whatever ended it (immediately if it already is).
    public func onClose(_ action: @escaping @Sendable () -> Void) {
        let already = state.withLock { state -> Bool in
            if state.ended { return true }
            state.onClose.append(action)
            return false
        }
        if already { connection.workers.submit(priority: true, action) }
    }

    private func scheduleFlush(_ state: inout State) -> Bool {
        guard state.attached, !state.flushScheduled else { return false }
        state.flushScheduled = true
        return true
    }

    private func wakeConnection() {
        let connection = self.connection
        connection.loop.execute { [self] in connection.streamReady(self) }
    }

    // MARK: - The connection's side (its loop thread)

    /// The head has been queued: writes made so far can be sent.
    func attach() {
        state.withLock { state in
            state.attached = true
            state.flushScheduled = true
        }
    }

    /// Takes what is queued; `finished` once nothing more will come.
    func take() -> (bytes: [UInt8], finished: Bool) {
        let taken = state.withLock { state -> ([UInt8], Bool) in
            state.flushScheduled = false
            defer { state.pending = [] }
            return (state.pending, state.finished || (state.closed && state.pending.isEmpty))
        }
        if blocking && !taken.0.isEmpty { drained.fire() }
        return taken
    }

    /// The server ends the stream (draining): what is queued is still sent, then the body ends.
    func close() {
        state.withLock { $0.closed = true }
        drained.fire()
    }

    /// The stream is over (sent, or the peer is gone): writes fail and the `onClose` actions run.
    func end() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.ended else { return [] }
            state.ended = true
            state.closed = true
            state.pending = []
            defer { state.onClose = [] }
            return state.onClose
        }
        drained.fire()
        for action in actions { connection.workers.submit(priority: true, action) }
    }
}
