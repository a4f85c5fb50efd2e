import Synchronization

/// A request waiting for its response, which any thread may give later with `complete` (the first
/// answer wins). No thread is held meanwhile. `isOpen` turns false once answered or once the peer has
/// left; `onClose` actions run (on a worker thread) when the peer leaves or the server drains before
/// an answer, so a waiter can forget it.
public final class PendingResponse: Sendable {
    private struct State {
        var answered = false
        var abandoned = false
        var onClose: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())
    let connection: ServerConnection
    /// The request's number on its connection: an answer for an earlier request is never sent.
    let sequence: Int
    let method: String
    let keepAlive: Bool

    init(connection: ServerConnection, sequence: Int, method: String, keepAlive: Bool) {
        self.connection = connection
        self.sequence = sequence
        self.method = method
        self.keepAlive = keepAlive
    }

    /// The event loop of the connection: completing from it sends the answer without a thread hop.
    public var loop: EventLoop { connection.loop }

    public var isOpen: Bool { state.withLock { !$0.answered && !$0.abandoned } }

    /// Sends `response`; false when an answer was already given (this one is dropped).
    @discardableResult
    public func complete(_ response: HTTPResponse) -> Bool {
        guard claim() else { return false }
        var response = response
        if case .deferred = response.body {
            response = HTTPResponse(status: 500, bytes: Array("a deferred response cannot answer another\n".utf8))
        }
        send(connection.encode(response, method: method, keepAlive: keepAlive, sequence: sequence))
        return true
    }

    /// The request's method (an answer to HEAD has no body).
    public var requestMethod: String { method }

    /// Whether the answer must close the connection (the client asked, or the server drains): an answer
    /// encoded by the caller then says `Connection: close`.
    public var closesConnection: Bool { connection.closes(keepAlive: keepAlive) }

    /// Sends an answer the caller encoded completely (status line, fields, framing and body, no body for
    /// HEAD), for handlers that relay messages; `close` closes the connection after it (see
    /// `closesConnection`). False when an answer was already given.
    @discardableResult
    public func complete(encoded bytes: [UInt8], close: Bool) -> Bool {
        guard claim() else { return false }
        send(.message(bytes, close: close))
        return true
    }

    private func claim() -> Bool {
        state.withLock { state -> Bool in
            guard !state.answered else { return false }
            state.answered = true
            state.onClose = []
            return true
        }
    }

    private func send(_ reply: ServerConnection.Reply) {
        let connection = self.connection
        let sequence = self.sequence
        if connection.loop.inLoop {
            // A loop handler's answer (the proxy's): sent at once, without a task.
            connection.deliver(reply, sequence: sequence)
        } else {
            connection.loop.execute { connection.deliver(reply, sequence: sequence) }
        }
    }

    /// Runs `action` once if the peer leaves (or the server drains) before an answer.
    public func onClose(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.answered { return false }
            if state.abandoned { return true }
            state.onClose.append(action)
            return false
        }
        if now { connection.workers.submit(priority: true, action) }
    }

    /// The peer left before the answer (loop thread).
    func abandon() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.answered, !state.abandoned else { return [] }
            state.abandoned = true
            defer { state.onClose = [] }
            return state.onClose
        }
        for action in actions { connection.workers.submit(priority: true, action) }
    }
}
