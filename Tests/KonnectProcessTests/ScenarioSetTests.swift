import Foundation
import KonnectChaos
import KonnectCore
import KonnectHTTP
import KonnectScenario
import Testing

extension ProcessTests {
    /// Issue 7: `swift test` runs every scenario in `Scenarios/`, one test per file, so CI keeps the
    /// stories green.
    @Suite struct ScenarioSet {
        static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scenarios").path

        /// Every scenario file, also in subdirectories (`found/`: shrunk chaos runs), relative to the set.
        static var files: [String] {
            ((try? ScenarioSuite.files([directory])) ?? []).map { String($0.dropFirst(directory.count + 1)) }
        }

        @Test("The scenario set parses and is not empty")
        func everyScenarioParses() throws {
            #expect(Self.files.count >= 1)
            _ = try ScenarioSuite.parse(Self.files.map { Self.directory + "/" + $0 })
        }

        @Test("Scenario", arguments: ScenarioSet.files)
        func scenario(_ name: String) throws {
            TestCluster.locateExecutable()
            let file = Self.directory + "/" + name
            let scenario = try #require(try ScenarioSuite.parse([file]).first)
            // Every public API answer the steps get is checked against the document its node serves.
            let conformance = ResponseConformance()
            let result = ScenarioRunner(
                scenario: scenario,
                options: ScenarioOptions(
                    seed: 1, baseDirectory: URL(fileURLWithPath: file).deletingLastPathComponent().path,
                    responseObserver: { endpoint, method, target, response in
                        conformance.check(endpoint, method, target, response, sourceLocation: #_sourceLocation)
                    }, checks: ChaosChecks())
            ).run()
            conformance.reportPending()
            let passed = result.passed
            // A scenario with a `known bug` step (a shrunk chaos run in found/) is expected to fail until
            // the bug is fixed; then this test fails, so the step is removed.
            guard let bug = scenario.knownBug else {
                #expect(passed, "\(result.failureText)")
                return
            }
            withKnownIssue(Comment(rawValue: bug)) {
                #expect(passed, "\(result.failureText)")
            }
        }
    }
}
