#if canImport(Glibc)
    import Glibc
#endif

/// The process's descriptor limit: connections are bounded by it, not by a thread count.
public enum FileLimit {
    /// Raises the soft `RLIMIT_NOFILE` to the hard limit (once per process) and returns the soft limit in force.
    @discardableResult
    public static func raiseToHardLimit() -> Int { raised }

    private static let raised: Int = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var wanted = limit
            wanted.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &wanted) == 0 { limit = wanted }
        }
        return Int(clamping: limit.rlim_cur)
    }()
}
