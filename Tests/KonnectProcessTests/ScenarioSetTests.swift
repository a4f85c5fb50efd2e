import Foundation
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

        static var files: [String] { (try? ScenarioSuite.files([directory])) ?? [] }

        @Test("The scenario set parses and is not empty")
        func everyScenarioParses() throws {
            #expect(Self.files.count >= 1)
            _ = try ScenarioSuite.parse(Self.files)
        }

        @Test("Scenario", arguments: ScenarioSet.files.map { URL(fileURLWithPath: $0).lastPathComponent })
        func scenario(_ name: String) throws {
            TestCluster.locateExecutable()
            let scenario = try #require(try ScenarioSuite.parse([Self.directory + "/" + name]).first)
            // Every public API answer the steps get is checked against the document its node serves.
            let conformance = ResponseConformance()
            let result = ScenarioRunner(
                scenario: scenario,
                options: ScenarioOptions(
                    seed: 1, baseDirectory: Self.directory,
                    responseObserver: { endpoint, method, target, response in
                        conformance.check(endpoint, method, target, response, sourceLocation: #_sourceLocation)
                    })
            ).run()
            conformance.reportPending()
            #expect(result.passed, "\(result.failureText)")
        }
    }
}
