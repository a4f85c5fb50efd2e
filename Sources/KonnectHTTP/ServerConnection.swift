import KonnectCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One accepted connection, owned by one event loop: reads requests with the incremental parser, hands
/// each to the server's handler, writes the answer, and keeps its deadlines. Everything here runs on
/// the loop's thread except `encode`, which whoever has the response calls.
///
/// On a TLS link every byte goes through the connection's `TLSSession`: the handshake comes first (within
/// the deadline of the first request head), and a read or write that needs the socket in the other
/// direction (`wantWrite` while reading, `wantRead` while writing) watches for that too.
///
/// Phases: `waiting` for a request (nothing of one received), `receiving` one, `busy` while the handler
/// runs or a deferred answer is awaited, `writing` a complete response, `streaming` a chunked one,
/// `lingering` after the last response (our side shut, draining the peer's until it closes).
final class ServerConnection: LoopWatcher, @unchecked Sendable {
    enum Phase { case waiting, receiving, busy, writing, streaming, lingering, closed }

    let fd: Int32
    let kind: ListenerKind
    /// The TLS session of a link connection (nil on Unix sockets and plain TCP).
    private let tls: TLSSession?
    /// A link connection whose handshake is not complete yet.
    private var handshaking: Bool
    /// The certificate the client presented (a link connection, after its handshake).
    private var peer: PeerCertificate?
    /// The client's IPv4 address (TCP listeners).
    private let clientAddress: String?
    /// TLS needs the socket writable to go on reading (handshake or read), or readable to go on writing.
    private var readWaitsForOutput = false
    private var writeWaitsForInput = false
    let loop: EventLoop
    unowned let context: ServerLoopContext
    private let core: ServerCore
    let workers: WorkerPool

    private(set) var phase = Phase.waiting
    private var parser: HTTPRequestParser
    private let openedAt: Int
    private var answered = 0
    private var sequence = 0
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var closeAfterResponse = false
    private var peerClosed = false
    private var interest: UInt32 = 0
    private var readingPaused = false
    private var bufferedWhileBusy = 0
    /// When the request being received began (its deadline is set once it is known to be incomplete).
    private var requestStartedAt: Int?
    private var inProcessInput = false
    private var stream: StreamWriter?
    private var streamEnding = false
    private var pending: PendingResponse?
    private var pendingTimeout: (@Sendable () -> HTTPResponse)?
    private var timer: LoopTimer!

    // Membership in one of the context's lists of idle connections (closed oldest first under pressure).
    // A connection leaves its list before it closes (`closeNow`), so the back links never dangle.
    var list: ConnectionList?
    var listNext: ServerConnection?
    unowned(unsafe) var listPrevious: ServerConnection?

    init(fd: Int32, kind: ListenerKind, tls: TLSSession?, context: ServerLoopContext) {
        self.fd = fd
        self.kind = kind
        self.tls = tls
        handshaking = tls != nil
        clientAddress = kind == .unix ? nil : Socket.peerAddress(fd)
        self.context = context
        self.loop = context.loop
        core = context.core
        workers = context.core.workers
        parser = HTTPRequestParser(limits: context.core.configuration.limits)
        openedAt = context.loop.now
        timer = LoopTimer(loop: context.loop) { [weak self] in self?.deadlinePassed() }
    }

    /// Starts watching the socket: the request head must arrive within the request timeout (or the idle
    /// timeout, if shorter) of the connection being opened.
    func start() {
        let configuration = core.configuration
        timer.set(at: openedAt + min(configuration.idleTimeoutMilliseconds, configuration.requestTimeoutMilliseconds))
        context.fresh(kind).append(self)
        updateInterest()
    }

    // MARK: - Events

    func ready(_ events: UInt32) {
        if events & (EpollEvents.hangUp | EpollEvents.error) != 0 && phase != .lingering {
            // Reset by the peer (or both sides shut): nothing more can be sent or received.
            closeNow()
            return
        }
        if handshaking {
            continueHandshake()
            return
        }
        let readable =
            events & (EpollEvents.input | EpollEvents.peerClosed | EpollEvents.hangUp | EpollEvents.error) != 0
        if events & EpollEvents.output != 0 || (readable && writeWaitsForInput) {
            flush()
            if phase == .closed { return }
        }
        if readable || (events & EpollEvents.output != 0 && readWaitsForOutput) {
            readInput()
        }
    }

    /// Advances the TLS handshake; once done, the connection reads requests like any other.
    private func continueHandshake() {
        guard let tls else { return }
        switch tls.handshake() {
        case .done:
            handshaking = false
            readWaitsForOutput = false
            peer = tls.peerCertificate
            updateInterest()
            readInput()
        case .wantRead:
            readWaitsForOutput = false
            updateInterest()
        case .wantWrite:
            readWaitsForOutput = true
            updateInterest()
        case .closed, .failed:
            // No certificate, a plain-HTTP client, a protocol error: nothing can be answered.
            closeNow()
        }
    }

    private enum Received {
        case bytes(Int)
        case wouldBlock, ended, failed
    }

    /// Reads from the socket, or through TLS on a link.
    private func receive(_ buffer: UnsafeMutableRawBufferPointer) -> Received {
        guard let tls else {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 { return .bytes(count) }
            if count == 0 { return .ended }
            let code = errno
            return code == EAGAIN || code == EWOULDBLOCK || code == EINTR ? .wouldBlock : .failed
        }
        let outcome = tls.read(into: buffer)
        let waitedForOutput = readWaitsForOutput
        readWaitsForOutput = outcome == .wantWrite
        if readWaitsForOutput != waitedForOutput { updateInterest() }
        switch outcome {
        case .done(let count): return .bytes(count)
        case .wantRead, .wantWrite: return .wouldBlock
        case .closed: return .ended
        case .failed: return .failed
        }
    }

    private enum Sent {
        case bytes(Int)
        case wouldBlock, failed
    }

    /// Writes to the socket without blocking, or through TLS on a link.
    private func transmit(_ bytes: UnsafeRawBufferPointer) -> Sent {
        guard let tls else {
            while true {
                let sent = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                if sent > 0 { return .bytes(sent) }
                if sent < 0 && errno == EINTR { continue }
                if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .wouldBlock }
                return .failed
            }
        }
        let outcome = tls.write(bytes)
        writeWaitsForInput = outcome == .wantRead
        switch outcome {
        case .done(let count): return .bytes(count)
        case .wantRead, .wantWrite: return .wouldBlock
        case .closed, .failed: return .failed
        }
    }

    private func readInput() {
        if phase == .lingering {
            discardUntilClosed()
            return
        }
        // Bytes TLS has already taken from the socket do not make it readable again: read them all now.
        repeat {
            if readingPaused || peerClosed || phase == .closed { return }
            guard readOnce() else { return }
        } while tls?.hasBufferedInput == true
    }

    /// One read; false when nothing more can be read now.
    private func readOnce() -> Bool {
        let buffer = loop.readBuffer
        switch receive(buffer) {
        case .bytes(let count):
            received(count, in: buffer)
            return true
        case .wouldBlock:
            return false
        case .failed:
            closeNow()
            return false
        case .ended:
            peerLeft()
            return false
        }
    }

    /// Feeds what was read to the parser (and on to the handler once a request is complete).
    private func received(_ count: Int, in buffer: UnsafeMutableRawBufferPointer) {
        switch phase {
        case .waiting:
            context.remove(self)
            phase = .receiving
            // The request deadline is set only if the request is still incomplete after these bytes
            // (below): a request that arrives whole, the usual case, never touches the timer heap.
            requestStartedAt = answered == 0 ? openedAt : loop.now
        case .receiving, .lingering, .closed:
            break
        case .busy, .writing, .streaming:
            // Pipelined requests wait for the answer in progress; past a bound, stop reading.
            bufferedWhileBusy += count
            if bufferedWhileBusy > ServerConnection.maxBufferedWhileBusy {
                readingPaused = true
                updateInterest()
            }
        }
        parser.feed(
            UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count))
        if phase == .receiving {
            processInput()
            if phase == .receiving, let started = requestStartedAt {
                requestStartedAt = nil
                timer.set(at: started + core.configuration.requestTimeoutMilliseconds)
            }
        }
    }

    static let maxBufferedWhileBusy = 1 << 20

    /// End of input: a connection waiting or mid-request closes; an answer in progress is still sent
    /// (a client may half-close after its request), except to a stream, which then ends.
    private func peerLeft() {
        peerClosed = true
        switch phase {
        case .waiting, .receiving, .lingering, .closed:
            closeNow()
        case .busy:
            pending?.abandon()
            updateInterest()
        case .writing:
            updateInterest()
        case .streaming:
            closeNow()
        }
    }

    // MARK: - Requests

    private func processInput() {
        guard !inProcessInput else { return }
        inProcessInput = true
        defer { inProcessInput = false }
        while phase == .waiting || phase == .receiving {
            switch parser.next() {
            case .request(let request):
                dispatch(request)
            case .failure(let error):
                respondAndClose(core.renderedError(APIError(status: error.status, detail: error.detail)))
                return
            case .needMoreData:
                if parser.takeContinueExpectation() {
                    output.append(contentsOf: MessageEncoding.continueResponse)
                    flush()
                }
                if phase == .waiting && parser.hasPartialRequest {
                    context.remove(self)
                    phase = .receiving
                    timer.set(after: core.configuration.requestTimeoutMilliseconds)
                }
                return
            }
        }
    }

    private func dispatch(_ request: consuming HTTPRequest) {
        RequestTarget.normalizeAbsoluteForm(&request)
        request.peer = peer
        request.clientAddress = clientAddress
        context.remove(self)
        phase = .busy
        timer.cancel()
        bufferedWhileBusy = 0
        sequence += 1
        let number = sequence
        let kind = self.kind
        switch core.handling {
        case .blocking(let handler):
            let connection = self
            let request = copy request
            workers.submit(priority: kind != .tcp) {
                let response = handler(request, kind)
                let reply = connection.encode(
                    response, method: request.method, keepAlive: request.keepAlive, sequence: number)
                connection.loop.execute { connection.deliver(reply, sequence: number) }
            }
        case .onLoop(let handler):
            let waiting = PendingResponse(
                connection: self, sequence: number, method: request.method, keepAlive: request.keepAlive)
            pending = waiting
            handler(request, kind, waiting)
        }
    }

    /// A response turned into what the loop sends (on whichever thread has the response).
    enum Reply: @unchecked Sendable {
        case message([UInt8], close: Bool)
        case stream(head: [UInt8], close: Bool, writer: StreamWriter)
        case deferred(PendingResponse, Deferral)
    }

    /// Whether the answer to a request must close the connection.
    func closes(keepAlive: Bool) -> Bool { !keepAlive || core.isDraining }

    func encode(_ response: HTTPResponse, method: String, keepAlive: Bool, sequence: Int) -> Reply {
        let close = closes(keepAlive: keepAlive)
        switch response.body {
        case .bytes(let body):
            var length = body.count
            let isHead = method == "HEAD"
            if isHead, body.isEmpty, let declared = response.headers["content-length"].flatMap({ Int($0) }),
                declared >= 0
            {
                length = declared
            }
            let sendsBody = !HTTPResponse.hasNoBody(status: response.status, method: method)
            var bytes = MessageEncoding.responseHead(
                response, bodyLength: length, close: close, extra: sendsBody ? body.count : 0)
            if sendsBody { bytes.append(contentsOf: body) }
            return .message(bytes, close: close)
        case .push(let start):
            let writer = StreamWriter(connection: self, headOnly: method == "HEAD")
            start(writer)
            return .stream(head: chunkedHead(response, close: close), close: close, writer: writer)
        case .deferred(let deferral):
            let waiting = PendingResponse(connection: self, sequence: sequence, method: method, keepAlive: keepAlive)
            deferral.start(waiting)
            return .deferred(waiting, deferral)
        }
    }

    private func chunkedHead(_ response: HTTPResponse, close: Bool) -> [UInt8] {
        var headers = response.headers
        headers.set("Transfer-Encoding", "chunked")
        return MessageEncoding.responseHead(
            HTTPResponse(status: response.status, headers: headers), bodyLength: nil, close: close)
    }

    /// Sends the answer to request `sequence` (ignored when the connection has moved on or closed).
    func deliver(_ reply: Reply, sequence: Int) {
        guard phase == .busy, sequence == self.sequence else {
            if case .stream(_, _, let writer) = reply { writer.end() }
            return
        }
        switch reply {
        case .message(let bytes, let close):
            pending = nil
            pendingTimeout = nil
            closeAfterResponse = close
            phase = .writing
            timer.cancel()
            if output.isEmpty {
                // The usual case: the whole answer goes out in one send, without copying it.
                switch bytes.withUnsafeBytes({ transmit($0) }) {
                case .bytes(let sent) where sent == bytes.count:
                    responseFinished()
                    return
                case .bytes(let sent):
                    output = Array(bytes[sent...])
                case .wouldBlock, .failed:
                    // Retried by `flush`, which closes the connection if it fails again (TLS wants the
                    // same bytes again after a write that would block).
                    output = bytes
                }
            } else {
                output.append(contentsOf: bytes)
            }
            flush()
        case .stream(let head, let close, let writer):
            pending = nil
            pendingTimeout = nil
            closeAfterResponse = close
            phase = .streaming
            timer.cancel()
            stream = writer
            streamEnding = false
            output.append(contentsOf: head)
            writer.attach()
            if core.isDraining { writer.close() }
            flush()
        case .deferred(let waiting, let deferral):
            guard waiting.isOpen else { return }
            pending = waiting
            pendingTimeout = deferral.onTimeout
            timer.set(after: deferral.timeoutMilliseconds)
            if peerClosed || core.isDraining { expirePending() }
        }
    }

    /// A stream has something to send.
    func streamReady(_ writer: StreamWriter) {
        guard phase == .streaming, stream === writer else { return }
        flush()
    }

    /// Answers a deferred request with its timeout answer now (its deadline passed, or the server drains).
    private func expirePending() {
        guard let waiting = pending, let onTimeout = pendingTimeout else { return }
        pendingTimeout = nil
        timer.cancel()
        workers.submit(priority: true) { waiting.complete(onTimeout()) }
    }

    // MARK: - Writing

    /// Sends what is queued; when a response is fully sent, moves on to the next.
    private func flush() {
        while true {
            while outputOffset < output.count {
                let offset = outputOffset
                switch output.withUnsafeBytes({ transmit(UnsafeRawBufferPointer(rebasing: $0[offset...])) }) {
                case .bytes(let sent):
                    outputOffset += sent
                    if phase == .writing || phase == .streaming {
                        timer.set(after: core.configuration.writeTimeoutMilliseconds)
                    }
                case .wouldBlock:
                    if phase == .writing || phase == .streaming, !timer.isArmed {
                        timer.set(after: core.configuration.writeTimeoutMilliseconds)
                    }
                    updateInterest()
                    return
                case .failed:
                    closeNow()
                    return
                }
            }
            if output.capacity > 64 * 1024 { output = [] } else { output.removeAll(keepingCapacity: true) }
            outputOffset = 0
            switch phase {
            case .writing:
                responseFinished()
                return
            case .streaming:
                guard let writer = stream else { return }
                let (bytes, finished) = writer.take()
                if !bytes.isEmpty && !writer.headOnly {
                    output = bytes
                    continue
                }
                if finished || writer.headOnly {
                    if !streamEnding && !writer.headOnly {
                        streamEnding = true
                        output = MessageEncoding.lastChunk
                        continue
                    }
                    writer.end()
                    responseFinished()
                    return
                }
                timer.cancel()
                updateInterest()
                return
            default:
                updateInterest()
                return
            }
        }
    }

    private func respondAndClose(_ bytes: [UInt8]) {
        context.remove(self)
        phase = .writing
        closeAfterResponse = true
        output.append(contentsOf: bytes)
        flush()
    }

    private func responseFinished() {
        answered += 1
        stream = nil
        pending = nil
        pendingTimeout = nil
        if closeAfterResponse || peerClosed || core.isDraining {
            closeGracefully()
            return
        }
        phase = .waiting
        timer.set(after: core.configuration.idleTimeoutMilliseconds)
        context.keepAlive(kind).append(self)
        if readingPaused {
            readingPaused = false
            updateInterest()
            // Requests TLS took from the socket while reading was paused do not make the socket readable.
            if tls?.hasBufferedInput == true { loop.execute { [self] in readInput() } }
        }
        if parser.hasPartialRequest { processInput() }
    }

    // MARK: - Deadlines and closing

    private func deadlinePassed() {
        if handshaking {
            // The TLS handshake did not complete in time: there is no channel to answer 408 on.
            closeNow()
            return
        }
        let configuration = core.configuration
        switch phase {
        case .waiting:
            let detail =
                answered == 0 && configuration.requestTimeoutMilliseconds < configuration.idleTimeoutMilliseconds
                ? "The request did not arrive within \(configuration.requestTimeoutMilliseconds) ms of the connection being opened"
                : "The connection was idle for \(configuration.idleTimeoutMilliseconds) ms"
            respondAndClose(core.renderedError(APIError(status: 408, detail: detail)))
        case .receiving:
            respondAndClose(
                core.renderedError(
                    APIError(
                        status: 408,
                        detail: "The request did not arrive within \(configuration.requestTimeoutMilliseconds) ms")))
        case .busy:
            expirePending()
        case .writing, .streaming, .lingering:
            // The peer did not read for the write timeout (or never closed its side after ours).
            closeNow()
        case .closed:
            break
        }
    }

    /// Shuts our side after the last response and reads (discarding) until the peer closes, so a peer's
    /// unread request bytes never turn into a reset that destroys the response in flight.
    private func closeGracefully() {
        if peerClosed {
            closeNow()
            return
        }
        context.remove(self)
        phase = .lingering
        tls?.sendCloseNotify()
        Glibc.shutdown(fd, Int32(SHUT_WR))
        timer.set(after: 2000)
        updateInterest()
    }

    private func discardUntilClosed() {
        let buffer = loop.readBuffer
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 { continue }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            closeNow()
            return
        }
    }

    /// Closes at once; a stream or a deferred answer in progress learns the peer is gone.
    func closeNow() {
        guard phase != .closed else { return }
        phase = .closed
        timer.cancel()
        context.remove(self)
        loop.unwatch(fd)
        Glibc.close(fd)
        stream?.end()
        stream = nil
        pending?.abandon()
        pending = nil
        context.closed(self)
    }

    /// The server drains: a connection without a request in progress closes now; one with an answer in
    /// progress closes after it (a deferred answer is given now, a stream ends).
    func drain() {
        switch phase {
        case .waiting, .receiving:
            closeNow()
        case .busy:
            closeAfterResponse = true
            expirePending()
        case .writing:
            closeAfterResponse = true
        case .streaming:
            closeAfterResponse = true
            stream?.close()
            flush()
        case .lingering, .closed:
            break
        }
    }

    private func updateInterest() {
        guard phase != .closed else { return }
        var wanted: UInt32 = 0
        if phase == .lingering || (!peerClosed && !readingPaused) {
            wanted |= EpollEvents.input | EpollEvents.peerClosed
        }
        if outputOffset < output.count || readWaitsForOutput { wanted |= EpollEvents.output }
        if writeWaitsForInput { wanted |= EpollEvents.input }
        guard wanted != interest else { return }
        let first = interest == 0 && !registered
        interest = wanted
        if first {
            registered = true
            loop.watch(fd, self, events: wanted)
        } else {
            loop.change(fd, events: wanted)
        }
    }
    private var registered = false
}

/// An intrusive, ordered list of connections (oldest first), so that the oldest idle connection is found
/// and removed in constant time.
final class ConnectionList {
    private(set) var first: ServerConnection?
    private unowned(unsafe) var last: ServerConnection?
    private(set) var count = 0
    /// The count, readable from other loops (which look for an idle connection to close at a limit).
    let published = Atomic<Int>(0)

    func append(_ connection: ServerConnection) {
        precondition(connection.list == nil)
        connection.list = self
        connection.listPrevious = last
        connection.listNext = nil
        if let last { last.listNext = connection } else { first = connection }
        last = connection
        count += 1
        published.store(count, ordering: .relaxed)
    }

    func remove(_ connection: ServerConnection) {
        guard connection.list === self else { return }
        let next = connection.listNext
        let previous = connection.listPrevious
        if let previous { previous.listNext = next } else { first = next }
        if let next { next.listPrevious = previous } else { last = previous }
        connection.listNext = nil
        connection.listPrevious = nil
        connection.list = nil
        count -= 1
        published.store(count, ordering: .relaxed)
    }
}
