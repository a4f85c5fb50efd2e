import KonnectHTTP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A node's log: one line per event on standard error, which `up` sends to the node's `node.log`.
public enum Log {
    public static func info(_ message: String) { write("info", message) }
    public static func warning(_ message: String) { write("warn", message) }
    public static func error(_ message: String) { write("error", message) }

    private static func write(_ level: String, _ message: String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = Int(now.tv_nsec) / 1_000_000
        let stamp =
            "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis < 10 ? "00" : millis < 100 ? "0" : "")\(millis)"
        let line = "\(stamp) \(level) \(escaped(message))\n"
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// The message on one line: control characters (newlines, escape sequences) are written as
    /// `\n`, `\u{1B}` and so on, so a value from a request can neither forge a log line nor drive the
    /// terminal of whoever reads the log.
    static func escaped(_ message: String) -> String {
        guard message.unicodeScalars.contains(where: isControl) else { return message }
        var out = ""
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isControl(scalar): out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }
}

/// How a background loop reports its failures: every failure is logged with what the loop will do
/// next, but a failure that repeats is logged at most once per interval (with how many were
/// suppressed), so an auth node that is down for an hour does not fill the log.
public final class LoopLog: Sendable {
    private struct State {
        var lastLogged: Int = .min
        var suppressed = 0
        var failing = false
    }

    public let loop: String
    private let intervalMilliseconds: Int
    private let state = Mutex(State())

    public init(loop: String, intervalMilliseconds: Int = 10_000) {
        self.loop = loop
        self.intervalMilliseconds = intervalMilliseconds
    }

    /// Logs a failure and what happens next ("retrying in 400 ms").
    public func failed(_ error: any Error, next: String) {
        let now = Monotonic.now
        let line = state.withLock { state -> String? in
            state.failing = true
            guard state.lastLogged == .min || now - state.lastLogged >= intervalMilliseconds else {
                state.suppressed += 1
                return nil
            }
            let repeats = state.suppressed > 0 ? " (\(state.suppressed) similar failures not logged)" : ""
            state.lastLogged = now
            state.suppressed = 0
            return "\(loop) failed: \(error); \(next)\(repeats)"
        }
        if let line { Log.warning(line) }
    }

    /// Notes a success; the first one after failures is logged so the log shows the recovery.
    public func succeeded() {
        let recovered = state.withLock { state -> Int? in
            guard state.failing else { return nil }
            defer { state = State() }
            return state.suppressed
        }
        if let recovered {
            Log.info("\(loop) recovered\(recovered > 0 ? " (\(recovered) failures not logged)" : "")")
        }
    }
}
