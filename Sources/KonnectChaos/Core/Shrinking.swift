import KonnectScenario

/// Delta debugging over a schedule's lines (Zeller's ddmin, with the scenario's own dependencies):
/// find a small subset of the lines that still fails. Pure: `fails` runs a candidate and says whether it
/// still fails the same way; `shouldStop` ends the search when the time or attempts are used up.
///
/// The first `fixedPrefix` lines (`cluster`, `chaos`) and the last line (`check`) are always kept. A line
/// that needs a capture (`$o1`) or a node (`dp1`) no kept line makes is removed with the line that made
/// it, so no candidate spends a run on steps that can only fail.
public struct Shrinking {
    public let lines: [String]
    public let fixedPrefix: Int

    public init(lines: [String], fixedPrefix: Int = 2) {
        self.lines = lines
        self.fixedPrefix = fixedPrefix
    }

    /// The capture a line makes (`as $x` makes `x`).
    static func capture(_ line: String) -> String? {
        let words = line.split(separator: " ").map(String.init)
        guard let index = words.lastIndex(of: "as"), index + 1 < words.count, words[index + 1].hasPrefix("$") else {
            return nil
        }
        return String(words[index + 1].dropFirst())
    }

    /// The node a line starts (`dp start dp1`, `upstream start up1`), also a capture of that name.
    static func startedNode(_ line: String) -> String? {
        let words = line.split(separator: " ").map(String.init)
        guard words.count >= 3, ["dp", "upstream", "zone"].contains(words[0]), words[1] == "start" else { return nil }
        return words[2]
    }

    static func provides(_ line: String) -> Set<String> {
        Set([capture(line), startedNode(line)].compactMap { $0 })
    }

    /// The names a line needs: its `$name` references, and the nodes it names.
    static func uses(_ line: String, nodes: Set<String>) -> Set<String> {
        var names = Set(Templates.references(line).map(\.1))
        if let capture = capture(line) { names.remove(capture) }
        for word in line.split(separator: " ").map(String.init) where nodes.contains(word) { names.insert(word) }
        if let started = startedNode(line) { names.remove(started) }
        return names
    }

    /// The kept indices after also dropping lines whose needs only removed lines provided.
    public func closure(keeping kept: [Int]) -> [Int] {
        let nodes = Set(lines.compactMap(Shrinking.startedNode))
        var keep = Set(kept)
        var changed = true
        while changed {
            changed = false
            var available: Set<String> = []
            for index in keep.sorted() {
                let needs = Shrinking.uses(lines[index], nodes: nodes)
                if index >= fixedPrefix, index < lines.count - 1, !needs.isSubset(of: available) {
                    keep.remove(index)
                    changed = true
                    continue
                }
                available.formUnion(Shrinking.provides(lines[index]))
            }
        }
        return keep.sorted()
    }

    /// The lines at these indices.
    public func lines(_ indices: [Int]) -> [String] { indices.map { lines[$0] } }

    /// Shrinks: first the tail after `lastNeeded` (the last line an offending event came from), then
    /// every fault at once, then chunks of ever smaller size (ddmin), each removal kept if the candidate
    /// still fails. Returns the indices of the smallest failing schedule found.
    public func shrink(
        lastNeeded: Int?, progress: (String) -> Void, shouldStop: () -> Bool, fails: ([String]) -> Bool
    ) -> [Int] {
        var current = Array(lines.indices)
        func attempt(_ candidate: [Int], _ what: String) -> Bool {
            let closed = closure(keeping: candidate)
            guard closed.count < current.count, !shouldStop() else { return false }
            let result = fails(lines(closed))
            progress("\(what): \(closed.count) lines \(result ? "still fail" : "pass")")
            if result { current = closed }
            return result
        }
        let last = lines.count - 1
        if let lastNeeded, lastNeeded + 1 < last {
            _ = attempt(
                current.filter { $0 <= lastNeeded || $0 == last }, "without the steps after line \(lastNeeded + 1)")
        }
        _ = attempt(
            current.filter { $0 < fixedPrefix || $0 == last || !ChaosSchedule.isFault(lines[$0]) }, "without faults")
        var chunks = 2
        while !shouldStop() {
            let body = current.filter { $0 >= fixedPrefix && $0 != last }
            guard !body.isEmpty else { break }
            chunks = min(chunks, body.count)
            let size = (body.count + chunks - 1) / chunks
            var removedOne = false
            var start = 0
            while start < body.count, !shouldStop() {
                let removed = Set(body[start..<min(body.count, start + size)])
                let liveBody = current.filter { $0 >= fixedPrefix && $0 != last }
                if removed.isSubset(of: Set(liveBody)),
                    attempt(
                        current.filter { !removed.contains($0) },
                        "without \(removed.count) line\(removed.count == 1 ? "" : "s")")
                {
                    removedOne = true
                }
                start += size
            }
            if removedOne {
                chunks = max(2, chunks - 1)
            } else {
                // Nothing of this size could go: halve the size, down to single lines.
                guard size > 1 else { break }
                chunks *= 2
            }
        }
        return current
    }
}
