import KonnectCore
import KonnectHTTP
import KonnectScenario

/// Shrinks a failing chaos run: replays smaller and smaller schedules, each in a fresh cluster, keeping a
/// removal when the run still breaks one of the invariants the original broke. Bounded by time.
public struct ChaosShrinker {
    let options: ChaosOptions
    let budgetMilliseconds: Int
    let progress: (String) -> Void

    public init(options: ChaosOptions, budgetMilliseconds: Int, progress: @escaping (String) -> Void) {
        self.options = options
        self.budgetMilliseconds = budgetMilliseconds
        self.progress = progress
    }

    /// The smallest failing replay found (the original run if nothing smaller fails).
    public func shrink(_ original: ChaosRunResult) -> ChaosRunResult {
        let broken = Set(original.failedInvariants)
        guard !broken.isEmpty else { return original }
        let deadline = Monotonic.now + budgetMilliseconds
        let shrinking = Shrinking(lines: original.lines)
        var attempts = 0
        var smallest = original
        let started = Monotonic.now
        progress("\(original.lines.count) lines, broken: \(broken.sorted().joined(separator: ", "))")
        let kept = shrinking.shrink(
            lastNeeded: ChaosShrinker.lastNeededLine(original).map { $0 - 1 },
            progress: { message in
                progress("attempt \(attempts) (\((Monotonic.now - started) / 1000) s) \(message)")
            },
            shouldStop: { Monotonic.now >= deadline },
            fails: { lines in
                attempts += 1
                let replay = ChaosRun.replay(lines, options)
                let fails = !Set(replay.failedInvariants).isDisjoint(with: broken)
                if fails { smallest = replay }
                return fails
            })
        progress(
            "done after \(attempts) runs in \((Monotonic.now - started) / 1000) s: \(original.lines.count) -> \(kept.count) lines"
        )
        return smallest
    }

    /// The last scenario line (1-based) an offending event of the run proper came from.
    static func lastNeededLine(_ result: ChaosRunResult) -> Int? {
        let facts = RunFacts(result.history)
        let runEnd = facts.finalStart ?? result.history.count
        let lines = (result.outcome?.details ?? []).flatMap(\.violations).flatMap(\.events).filter { $0 < runEnd }.map {
            result.history[$0].line
        }
        return lines.max()
    }
}
