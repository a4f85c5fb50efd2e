import Foundation
import KonnectCluster
import KonnectCore
import KonnectScenario
import Testing

/// Issue 17 (5): sharded scenario runs for CI systems that already distribute work, and their reports
/// merged into one.
@Suite struct ScenarioShardTests {
    static let files = (1...23).map { String(format: "Scenarios/s%02d.scenario", $0) }

    @Test("the n shards of a set hold every file exactly once, sizes within one, whatever the order found")
    func shardsPartitionTheSet() {
        for count in [1, 2, 3, 8, 23, 30] {
            var seen: [String: Int] = [:]
            var sizes: [Int] = []
            for index in 1...count {
                let shard = ScenarioShard(index: index, count: count)
                let part = shard.select(Self.files)
                #expect(part == shard.select(Self.files.reversed()), "shard \(index)/\(count) depends on the order")
                sizes.append(part.count)
                for file in part { seen[file, default: 0] += 1 }
            }
            #expect(seen.count == Self.files.count, "\(count) shards")
            #expect(seen.values.allSatisfy { $0 == 1 }, "\(count) shards")
            #expect(sizes.max()! - sizes.min()! <= 1, "\(count) shards: \(sizes)")
        }
    }

    @Test(
        "--shard reads K/N and refuses anything else, naming the value",
        arguments: [
            "0/8", "9/8", "8", "a/b", "2/0", "1/1001", "99999999999999999999/1", "1/", "/8", "1/8/2", "-1/8", "+1/8",
            "",
        ])
    func badShards(_ text: String) {
        #expect {
            try ScenarioShard(parsing: text)
        } throws: { error in
            "\(error)".contains("'\(text)'") && "\(error)".contains("K/N")
        }
    }

    @Test("good shards parse")
    func goodShards() throws {
        #expect(try ScenarioShard(parsing: "2/8") == ScenarioShard(index: 2, count: 8))
        #expect(try ScenarioShard(parsing: "1/1") == ScenarioShard(index: 1, count: 1))
        #expect(try ScenarioShard(parsing: "1000/1000") == ScenarioShard(index: 1000, count: 1000))
    }

    @Test("a scenario result reads back from report.json as it was written")
    func resultsRoundTrip() throws {
        let result = ScenarioResult(
            name: "retention", file: "Scenarios/retention.scenario", summary: "A5: deleted after retention",
            seed: UInt64.max,
            steps: [
                StepResult(
                    line: 3, text: "advance 90d", outcome: .passed, message: nil, startedAt: 10,
                    durationMilliseconds: 250, calendar: "2026-04-01T00:00:00Z"),
                StepResult(
                    line: 4, text: "expect last.status == 200", outcome: .failed, message: "expected 200, got 404",
                    startedAt: 260, durationMilliseconds: 1, calendar: nil),
                StepResult(
                    line: 5, text: "GET eu /x", outcome: .tolerated, message: "503", startedAt: 261,
                    durationMilliseconds: 2, calendar: nil),
            ],
            timeline: [TimelineEvent(at: 12, kind: .fault, subject: "eu->auth", state: "partition", detail: "cut")],
            durationMilliseconds: 300, error: nil, knownBug: "a bug")
        let read = try ScenarioResult(json: try JSONParser.parse(result.json.prettyText))
        #expect(read.json == result.json)
        #expect(!read.passed)
    }

    @Test("a report that is not one is refused, naming the file and what is wrong")
    func badReports() throws {
        let directory = NSTemporaryDirectory() + "shard-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: UsageError.self) { try ScenarioReportMerge.results(in: [directory + "/none"]) }
        for (text, expected) in [
            ("not json", "is not JSON"), (#"{"passed":1}"#, "no 'scenarios' array"),
            (#"{"scenarios":[{"name":"x"}]}"#, "scenario 1: missing field"),
            (
                #"{"scenarios":[{"name":"x","file":"f","summary":"","seed":1,"duration_ms":1,"steps":[{"line":1,"step":"s","outcome":"maybe","started_ms":0,"duration_ms":0}],"timeline":[]}]}"#,
                "unknown step outcome 'maybe'"
            ),
        ] {
            try text.write(toFile: directory + "/report.json", atomically: true, encoding: .utf8)
            #expect {
                try ScenarioReportMerge.results(in: [directory])
            } throws: { error in
                "\(error)".contains(directory + "/report.json") && "\(error)".contains(expected)
            }
        }
    }
}

extension ProcessTests {
    /// Issue 17 (5): `scenario run --shard K/N --report DIR` on each shard, then `scenario merge-reports`
    /// gives one report with every scenario of the set.
    @Suite struct ShardedScenarioRuns {
        @Test("issue 17: three shards of a set run their own files; their reports merge into one")
        func shardedRunAndMerge() throws {
            let run = try TestCluster.commandRunner()
            let directory = NSTemporaryDirectory() + "sharded-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory + "/set", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let names = ["a", "b", "c", "d"]
            for name in names {
                try """
                # Scenario \(name): a cluster starts and its calendar answers.
                cluster geos eu start 2026-01-01
                advance 1d
                """.write(toFile: "\(directory)/set/\(name).scenario", atomically: true, encoding: .utf8)
            }
            var ran: [String] = []
            for index in 1...3 {
                let result = try run([
                    "scenario", "run", "--shard", "\(index)/3", "--report", "\(directory)/shard-\(index)",
                    "\(directory)/set",
                ])
                #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
                let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("PASS") }
                ran += lines.map { String($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }
            }
            #expect(ran.sorted() == names, "each scenario runs in exactly one shard: \(ran)")
            let merged = try run([
                "scenario", "merge-reports", "--out", "\(directory)/merged", "\(directory)/shard-3",
                "\(directory)/shard-1", "\(directory)/shard-2",
            ])
            #expect(merged.status == 0, "\(merged.stdout)\(merged.stderr)")
            #expect(merged.stdout.contains("4 passed, 0 failed"), "\(merged.stdout)")
            let report = try JSONParser.parse(
                try String(contentsOfFile: "\(directory)/merged/report.json", encoding: .utf8))
            #expect(report["scenarios"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == names)
            #expect(report["passed"]?.intValue == 4)
            let html = try String(contentsOfFile: "\(directory)/merged/report.html", encoding: .utf8)
            for name in names { #expect(html.contains("PASS \(name)")) }
        }
    }
}
