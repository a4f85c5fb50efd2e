import KonnectHTTP

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
        let line = "\(stamp) \(level) \(message)\n"
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
