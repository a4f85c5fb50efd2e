import Synchronization

/// The sending end of a streamed (chunked) response, safe to use from any thread: `write` queues a chunk
/// and wakes the connection's event loop, `finish` ends the body. No thread waits for the peer: the loop
/// sends what is queued when the socket takes it. The writer reports when the stream is over for another
/// reason (the peer left, did not read for the write timeout, fell too far behind, or the server drains)
/// through `isOpen`, a false `write`, and the `onClose` actions, which run once on a worker thread
/// whatever ended the stream.
public final class StreamWriter: Sendable {
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
    /// A HEAD request: the head says what a GET would send, and no body follows.
    let headOnly: Bool

    /// A peer this far behind (bytes queued and not taken by the socket) is cut off.
    static let queueLimit = 64 << 20

    init(connection: ServerConnection, headOnly: Bool) {
        self.connection = connection
        self.headOnly = headOnly
        if headOnly { state.withLock { $0.closed = true } }
    }

    public var isOpen: Bool { state.withLock { !$0.closed } }

    /// Queues one chunk; false when the stream is over and nothing more will be sent.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return isOpen }
        let (accepted, schedule) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            if state.pending.count >= StreamWriter.queueLimit {
                state.closed = true
                state.pending = []
                return (false, scheduleFlush(&state))
            }
            MessageEncoding.appendChunk(bytes, to: &state.pending)
            return (true, scheduleFlush(&state))
        }
        if schedule { wakeConnection() }
        return accepted
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
        state.withLock { state -> ([UInt8], Bool) in
            state.flushScheduled = false
            defer { state.pending = [] }
            return (state.pending, state.finished || (state.closed && state.pending.isEmpty))
        }
    }

    /// The server ends the stream (draining): what is queued is still sent, then the body ends.
    func close() {
        state.withLock { $0.closed = true }
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
        for action in actions { connection.workers.submit(priority: true, action) }
    }
}
