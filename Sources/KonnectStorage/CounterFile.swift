import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What a counter counts: a group and a name (for a data plane: the service and the route).
public struct CounterKey: Sendable, Hashable {
    public var group: String
    public var name: String

    public init(group: String, name: String) {
        self.group = group
        self.name = name
    }
}

/// Why a counter file could not be opened.
public struct CounterFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "cannot open counter file \(path): \(message)" }
}

/// Cumulative counters in a memory-mapped file (`MAP_SHARED`): counting is a store to memory, without a
/// system call, and survives a crash of the process, because the kernel owns the pages. Counters only
/// grow; a reader remembers what it has already taken (see the data plane's usage reports).
///
/// Each writing thread has a lane of its own (an event loop's index), so counting needs no lock: a lane is
/// written by one thread only, and a reader sees each aligned 64-bit count whole. A lane hands out slots
/// in order and publishes how many it uses after the slot is written, so a reader never sees half a key.
///
/// Layout: a 4 KiB header (magic, version, lanes, slots per lane, a random identity), then per lane
/// `slotsPerLane` slots of 128 bytes; slot 0 of a lane holds its count of used slots; a used slot holds
/// its total (8 bytes), its key's length (4 bytes, written last) and the key (up to 112 bytes).
public final class CounterFile: @unchecked Sendable {
    /// One counter and its total so far.
    public struct Counter: Sendable, Hashable {
        public var lane: Int
        public var slot: Int
        public var key: CounterKey
        public var total: UInt64
    }

    public let path: String
    /// Random, made when the file is created: a reader's memory of totals is valid for this file only.
    public let identity: String
    public let lanes: Int
    public let slotsPerLane: Int
    private let base: UnsafeMutableRawPointer
    private let size: Int
    /// Per lane, the slot of each key (used by that lane's writer only).
    private let slotsByLane: [LaneSlots]

    static let magic: UInt64 = 0x3154_4E43_4E4E_4F4B  // "KONNCNT1"
    static let headerSize = 4096
    static let slotSize = 128
    static let maxKeyBytes = 112

    public init(path: String, lanes: Int = 16, slotsPerLane: Int = 4096) throws(CounterFileError) {
        self.path = path
        self.lanes = lanes
        self.slotsPerLane = slotsPerLane
        size = CounterFile.headerSize + lanes * slotsPerLane * CounterFile.slotSize
        if !CounterFile.isValid(path: path, lanes: lanes, slotsPerLane: slotsPerLane, size: size) {
            try CounterFile.create(path: path, lanes: lanes, slotsPerLane: slotsPerLane, size: size)
        }
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw CounterFileError(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            throw CounterFileError(path: path, message: "mmap: \(String(cString: strerror(errno)))")
        }
        // Counting touches one page per lane and one per slot in use; without this the kernel maps 16
        // pages around each touched one (fault-around), 4 MB of resident memory for 64 lanes.
        _ = madvise(mapped, size, MADV_RANDOM)
        base = mapped
        identity = (0..<16).map {
            let hex = String(mapped.load(fromByteOffset: 24 + $0, as: UInt8.self), radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined()
        var indexes: [LaneSlots] = []
        for lane in 0..<lanes {
            let slots = LaneSlots()
            let used = min(
                Int(mapped.load(fromByteOffset: CounterFile.laneOffset(lane, slotsPerLane), as: UInt64.self)),
                slotsPerLane - 1)
            slots.used = used
            if used > 0 {
                for slot in 1...used {
                    if let key = CounterFile.key(at: mapped + CounterFile.slotOffset(lane, slot, slotsPerLane)) {
                        slots.byKey[key] = slot
                    }
                }
            }
            indexes.append(slots)
        }
        slotsByLane = indexes
    }

    deinit { munmap(base, size) }

    /// Adds one to `key`'s counter in `lane` (call only from that lane's thread). False when the lane has no
    /// room for another key or the key is too long: the caller counts elsewhere.
    public func increment(_ key: CounterKey, lane: Int) -> Bool {
        let index = slotsByLane[lane % lanes]
        if let last = index.last, last.key == key {
            total(lane % lanes, last.slot).pointee &+= 1
            return true
        }
        if let slot = index.byKey[key] {
            index.last = (key, slot)
            total(lane % lanes, slot).pointee &+= 1
            return true
        }
        let keyBytes = Array(key.group.utf8) + [0x0A] + Array(key.name.utf8)
        guard keyBytes.count <= CounterFile.maxKeyBytes, index.used + 1 < slotsPerLane else { return false }
        let slot = index.used + 1
        let pointer = base + CounterFile.slotOffset(lane % lanes, slot, slotsPerLane)
        keyBytes.withUnsafeBytes { (pointer + 16).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        pointer.storeBytes(of: 1, toByteOffset: 0, as: UInt64.self)
        // The key and total are in place before its length says the slot is used, and the slot before the
        // lane's count of used slots includes it.
        atomicMemoryFence(ordering: .releasing)
        pointer.storeBytes(of: UInt32(keyBytes.count), toByteOffset: 8, as: UInt32.self)
        atomicMemoryFence(ordering: .releasing)
        (base + CounterFile.laneOffset(lane % lanes, slotsPerLane)).storeBytes(of: UInt64(slot), as: UInt64.self)
        index.used = slot
        index.byKey[key] = slot
        return true
    }

    /// Every counter in use with its total so far (from any thread).
    public func counters() -> [Counter] {
        var result: [Counter] = []
        for lane in 0..<lanes {
            let used = min(
                Int((base + CounterFile.laneOffset(lane, slotsPerLane)).load(as: UInt64.self)), slotsPerLane - 1)
            guard used > 0 else { continue }
            for slot in 1...used {
                let pointer = base + CounterFile.slotOffset(lane, slot, slotsPerLane)
                guard let key = CounterFile.key(at: pointer) else { continue }
                result.append(Counter(lane: lane, slot: slot, key: key, total: pointer.load(as: UInt64.self)))
            }
        }
        return result
    }

    private func total(_ lane: Int, _ slot: Int) -> UnsafeMutablePointer<UInt64> {
        (base + CounterFile.slotOffset(lane, slot, slotsPerLane)).assumingMemoryBound(to: UInt64.self)
    }

    static func laneOffset(_ lane: Int, _ slotsPerLane: Int) -> Int {
        headerSize + lane * slotsPerLane * slotSize
    }

    static func slotOffset(_ lane: Int, _ slot: Int, _ slotsPerLane: Int) -> Int {
        laneOffset(lane, slotsPerLane) + slot * slotSize
    }

    static func key(at pointer: UnsafeMutableRawPointer) -> CounterKey? {
        let length = Int(pointer.load(fromByteOffset: 8, as: UInt32.self))
        guard length > 0, length <= maxKeyBytes else { return nil }
        let bytes = UnsafeRawBufferPointer(start: pointer + 16, count: length)
        guard let separator = bytes.firstIndex(of: 0x0A) else { return nil }
        return CounterKey(
            group: String(decoding: bytes[..<separator], as: UTF8.self),
            name: String(decoding: bytes[(separator + 1)...], as: UTF8.self))
    }

    private static func isValid(path: String, lanes: Int, slotsPerLane: Int, size: Int) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, Int(info.st_size) == size else { return false }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 40)
        guard header.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 40, 0) }) == 40 else { return false }
        return header.withUnsafeBytes { raw in
            raw.load(fromByteOffset: 0, as: UInt64.self) == magic && raw.load(fromByteOffset: 8, as: UInt32.self) == 1
                && raw.load(fromByteOffset: 12, as: UInt32.self) == UInt32(lanes)
                && raw.load(fromByteOffset: 16, as: UInt32.self) == UInt32(slotsPerLane)
        }
    }

    /// A new, empty file with a fresh identity (written, fsynced and renamed into place).
    private static func create(path: String, lanes: Int, slotsPerLane: Int, size: Int) throws(CounterFileError) {
        var header = [UInt8](repeating: 0, count: headerSize)
        header.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: magic, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: UInt32(1), toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: UInt32(lanes), toByteOffset: 12, as: UInt32.self)
            raw.storeBytes(of: UInt32(slotsPerLane), toByteOffset: 16, as: UInt32.self)
            var generator = SystemRandomNumberGenerator()
            for offset in 24..<40 { raw[offset] = UInt8.random(in: 0...255, using: &generator) }
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CounterFileError(path: path, message: String(cString: strerror(errno))) }
        let written = header.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        let ok = written == header.count && ftruncate(fd, off_t(size)) == 0 && fsync(fd) == 0
        let message = String(cString: strerror(errno))
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CounterFileError(path: path, message: message)
        }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let directoryFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }
}

/// A lane's slots by key (its writer's thread only).
private final class LaneSlots {
    var byKey: [CounterKey: Int] = [:]
    /// The key counted last: a data plane under load counts the same route again and again.
    var last: (key: CounterKey, slot: Int)?
    var used = 0
}
