import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectStorage
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Finds, parses and runs scenario files: each in its own cluster, several at once.
public enum ScenarioSuite {
    /// Scenario files under the given paths (files, or directories searched recursively for
    /// `*.scenario`), sorted.
    public static func files(_ paths: [String]) throws -> [String] {
        var found: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else { throw UsageError("no such file or directory: \(path)") }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                guard let directory = opendir(path) else { throw UsageError("cannot read directory \(path)") }
                var subdirectories: [String] = []
                while let entry = readdir(directory) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) {
                        String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    let child = (path.hasSuffix("/") ? path : path + "/") + name
                    if name.hasSuffix(".scenario") {
                        found.append(child)
                    } else if !name.hasPrefix("."), entry.pointee.d_type == UInt8(DT_DIR) {
                        subdirectories.append(child)
                    }
                }
                closedir(directory)
                // Subdirectories too (Scenarios/found/: shrunk chaos runs kept as regressions).
                found += try files(subdirectories)
            } else {
                found.append(path)
            }
        }
        return found.sorted()
    }

    /// Parses every file first: nothing starts unless all parse.
    public static func parse(_ files: [String]) throws -> [Scenario] {
        var scenarios: [Scenario] = []
        var errors: [String] = []
        for file in files {
            guard let bytes = readWholeFile(file), let text = String(validating: bytes, as: UTF8.self) else {
                errors.append("\(file): cannot read the file as UTF-8 text")
                continue
            }
            do {
                scenarios.append(try ScenarioParser.parseAndCheck(text, file: file))
            } catch {
                errors.append(error.description)
            }
        }
        if !errors.isEmpty { throw UsageError("scenario files do not parse:\n" + errors.joined(separator: "\n")) }
        return scenarios
    }

    /// Runs scenarios, at most `jobs` at once; `progress` is called as each finishes.
    public static func run(
        _ scenarios: [Scenario], options: ScenarioOptions, jobs: Int,
        progress: @escaping @Sendable (ScenarioResult) -> Void
    ) -> [ScenarioResult] {
        let results = Mutex<[Int: ScenarioResult]>([:])
        // A scenario never throws: failures are in its result.
        try? concurrently(scenarios.count, lanes: jobs, name: "scenario") { index in
            var scenarioOptions = options
            scenarioOptions.baseDirectory = directoryOf(scenarios[index].file)
            let result = ScenarioRunner(scenario: scenarios[index], options: scenarioOptions).run()
            results.withLock { $0[index] = result }
            progress(result)
        }
        let all = results.withLock { $0 }
        return scenarios.indices.compactMap { all[$0] }
    }

    static func directoryOf(_ file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        return String(file[..<slash])
    }

    /// `konnect-sim scenario run|check`.
    /// `checks` runs the scenarios' `check` steps (the chaos module's checkers).
    public static func command(_ command: ParsedCommand, checks: (any InvariantChecking)? = nil) throws {
        if command.path.last == "merge-reports" { return try ScenarioReportMerge.command(command) }
        var files = try files(command.arguments)
        guard !files.isEmpty else {
            throw UsageError("no .scenario files in \(command.arguments.joined(separator: " "))")
        }
        if let text = command.option("shard") {
            let shard = try ScenarioShard(parsing: text)
            files = shard.select(files)
            print(
                "shard \(shard.index)/\(shard.count): \(files.count) of the set's scenario files\(files.isEmpty ? " (nothing to run: the set has fewer files than shards)" : "")"
            )
            if files.isEmpty {
                if let report = command.option("report") { try ScenarioReport.write([], to: report) }
                return
            }
        }
        let scenarios = try parse(files)
        if command.path.last == "check" {
            print(
                "\(scenarios.count) scenario\(scenarios.count == 1 ? "" : "s") parse: \(scenarios.map(\.name).joined(separator: ", "))"
            )
            return
        }
        guard let seed = UInt64(command.option("seed") ?? "1") else {
            throw UsageError(
                "invalid value '\(command.option("seed") ?? "")' for --seed; expected a non-negative integer")
        }
        var jobs = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let text = command.option("jobs") {
            guard let value = Int(text), (1...64).contains(value) else {
                throw UsageError("invalid value '\(text)' for --jobs; expected 1 to 64")
            }
            jobs = value
        }
        let options = ScenarioOptions(
            seed: seed, keepGoing: command.flag("keep-going"), checks: checks, topology: try command.topology() ?? .unix
        )
        let started = Monotonic.now
        let results = run(scenarios, options: options, jobs: jobs) { result in
            let verdict =
                switch (result.passed, result.knownBug) {
                case (true, nil): "PASS"
                case (false, nil): "FAIL"
                case (false, _): "KNOWN BUG"
                case (true, _): "FIXED?"
                }
            let line =
                "\(verdict)  \(result.name)  (\(result.steps.count) steps, \(Double(result.durationMilliseconds) / 1000) s)"
            print(line)
            if let bug = result.knownBug {
                print(
                    result.passed
                        ? "    it no longer shows the known bug (\(bug)): remove its 'known bug' step"
                        : "    fails as expected: \(bug)")
            } else if !result.passed {
                print(
                    indent(result.failureText)
                        + "\n    seed \(result.seed): replay with 'konnect-sim scenario run --seed \(result.seed) \(result.file)'"
                )
            }
        }
        // A scenario with a known bug counts as failed only when the bug no longer shows.
        let failed = results.filter { $0.passed == ($0.knownBug != nil) }.count
        let known = results.filter { $0.knownBug != nil && !$0.passed }.count
        print(
            "\(results.count - failed - known) passed, \(failed) failed\(known > 0 ? ", \(known) known bug\(known == 1 ? "" : "s")" : "") (\(Double(Monotonic.now - started) / 1000) s, seed \(seed))"
        )
        if let report = command.option("report") {
            try ScenarioReport.write(results, to: report)
            print("report: \(report)/report.html and \(report)/report.json")
        }
        if failed > 0 { throw ProcessError("\(failed) scenario\(failed == 1 ? "" : "s") failed") }
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }
}
