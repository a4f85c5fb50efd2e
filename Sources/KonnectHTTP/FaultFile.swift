import KonnectCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Supplies the fault (if any) in force on a link. The client asks before every connect and request.
public protocol LinkFaultSource: Sendable {
    func fault(on link: String) -> LinkFault?
    /// Draws a repeatable random number in `0..<bound` for that link (jitter, drop decisions).
    func draw(on link: String, below bound: Int) -> Int
}

/// The cluster's `faults.json`, re-read whenever the file changes (a `stat` per request), so the CLI or a
/// scenario can change faults on running nodes, also paused ones, which see it when they resume.
public final class FaultFile: LinkFaultSource {
    private struct State {
        var modified: (Int, Int, Int) = (-1, -1, -1)
        var plan = FaultPlan()
        var generators: [String: SeededRandom] = [:]
    }

    public let path: String
    private let state = Mutex(State())

    public init(path: String) { self.path = path }

    public func fault(on link: String) -> LinkFault? {
        state.withLock { state in
            reloadIfChanged(&state)
            return state.plan.links[link]
        }
    }

    public func draw(on link: String, below bound: Int) -> Int {
        guard bound > 0 else { return 0 }
        return state.withLock { state in
            var generator = state.generators[link] ?? SeededRandom(seed: state.plan.seed ^ SeededRandom.hash(link))
            let value = Int(generator.next() % UInt64(bound))
            state.generators[link] = generator
            return value
        }
    }

    private func reloadIfChanged(_ state: inout State) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if state.modified.0 != -1 { state = State() }
            return
        }
        let stamp = (Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_size))
        guard stamp != state.modified else { return }
        state.modified = stamp
        guard let bytes = readWholeFile(path), let json = try? JSONParser.parse(bytes) else { return }
        let plan = FaultPlan(json: json)
        if plan.seed != state.plan.seed { state.generators = [:] }
        state.plan = plan
    }
}

/// Reads a small file completely; nil when it cannot be read.
public func readWholeFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        if count < 0 { return nil }
        if count == 0 { return result }
        result.append(contentsOf: chunk[0..<count])
    }
}
