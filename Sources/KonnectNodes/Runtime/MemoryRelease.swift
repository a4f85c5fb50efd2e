#if canImport(Glibc)
    import Glibc
#endif

/// Returns memory freed after a large transient (a full configuration parsed, sent or cached) to the
/// system. glibc keeps freed memory in its per-thread arenas, where it still counts in the node's
/// resident memory; `malloc_trim(0)` releases the free pages of every arena. Glibc's Swift overlay
/// does not export it (malloc.h), so it is looked up once by name.
enum MemoryRelease {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = {
        // RTLD_DEFAULT is the null handle on glibc.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
    }()

    private typealias Option = @convention(c) (Int32, Int32) -> Int32

    private static let option: Option? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return nil }
        return unsafeBitCast(symbol, to: Option.self)
    }()

    /// A transient this large or larger is worth returning.
    static let threshold = 1 << 20

    /// Blocks this large or larger get pages of their own, which go back to the system when freed.
    static let ownPagesFrom: Int32 = 256 << 10

    static func returnFreedMemory() { _ = trim?(0) }

    /// Keeps large blocks out of the threads' arenas, for the node's whole life (call before starting
    /// threads). glibc raises its mmap threshold, up to 32 MB, each time a block it mapped is freed;
    /// after that, large transients (a full configuration queued for a push stream, parsed or built) are
    /// carved from the arena of the worker thread that made them, and the free top of a thread's arena
    /// stays resident: `malloc_trim` does not return it. A fixed threshold (`M_MMAP_THRESHOLD`, -3)
    /// stops the raising, so such blocks are mapped and unmapped, and a geo serving 50 data planes a
    /// 10,000-entity configuration does not keep 5 MB per worker thread.
    static func keepLargeBlocksOutOfArenas() { _ = option?(-3, ownPagesFrom) }
}
