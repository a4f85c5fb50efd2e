#if canImport(Glibc)
    import Glibc
#endif

/// Work that must never slow what a node answers or applies: the calling thread gets the lowest
/// priority (nice 19). On Linux nice is per thread, so only this thread yields; unlike an idle-only
/// policy it still runs on a machine that is never idle.
enum BackgroundPriority {
    static func lowerThisThread() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
    }
}
