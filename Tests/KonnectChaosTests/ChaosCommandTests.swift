import KonnectChaos
import KonnectCluster
import Testing

/// Issue 18: `konnect-sim chaos` options as values, and usage errors that name the bad value.
@Suite struct ChaosCommandTests {
    func request(_ arguments: [String]) throws -> ChaosRequest {
        guard case .run(let command) = CommandLineParser.parse(["chaos"] + arguments, root: CommandTree.root) else {
            throw UsageError("did not parse: \(arguments)")
        }
        return try ChaosRequest.parse(command)
    }

    @Test func defaults() throws {
        let parsed = try request([])
        #expect(parsed.seeds == 1...1)
        #expect(parsed.durationMilliseconds == 60_000)
        #expect(parsed.geos == ["us", "eu", "au"])
        #expect(parsed.rates == .standard)
        #expect(parsed.boundMilliseconds == 10_000)
        #expect(!parsed.shrink)
    }

    @Test func seedsDurationRatesAndShrinking() throws {
        let parsed = try request([
            "--seeds", "1..20", "--duration", "30s", "--fault-rate", "0.2", "--faults", "kill,partition=3", "--shrink",
            "--shrink-time", "2m", "--geos", "us,eu", "--steps", "100", "--bound", "5s",
        ])
        #expect(parsed.seeds == 1...20)
        #expect(parsed.durationMilliseconds == 30_000)
        #expect(parsed.rates == FaultRates(rate: 0.2, weights: [.kill: 1, .partition: 3]))
        #expect(parsed.shrink)
        #expect(parsed.shrinkMilliseconds == 120_000)
        #expect(parsed.maximumSteps == 100)
        let options = parsed.options(seed: 7)
        #expect(options.seed == 7)
        #expect(options.settings.deactivationBoundMilliseconds == 5000)
    }

    /// `isolate` needs hosts: on by default in netns, a usage error in unix (issue 17's topologies).
    @Test func isolateFaultsComeWithTheNetnsTopology() throws {
        #expect(try request([]).topology == .unix)
        #expect(try request([]).rates.weights[.isolate] == nil)
        let netns = try request(["--topology", "netns"])
        #expect(netns.topology == .netns)
        #expect(netns.rates.weights[.isolate] == 2)
        #expect(netns.options(seed: 1).topology == .netns)
        let chosen = try request(["--topology", "netns", "--faults", "isolate=3,kill"])
        #expect(chosen.rates == FaultRates(rate: 0.1, weights: [.isolate: 3, .kill: 1]))
    }

    @Test(arguments: [
        (["--seeds", "5..2"], "invalid value '5..2' for --seeds"),
        (["--seed", "x"], "invalid value 'x' for --seed"),
        (["--duration", "soon"], "invalid value 'soon' for --duration"),
        (["--fault-rate", "1.5"], "invalid value '1.5' for --fault-rate"),
        (["--faults", "kill,meteor"], "invalid fault 'meteor'"),
        (["--geos", "us,mars"], "unknown geo 'mars'"),
        (["--steps", "0"], "invalid value '0' for --steps"),
        (["--faults", "kill,isolate"], "isolate in --faults takes a node's host off the network"),
        (["--topology", "lan"], "invalid value 'lan' for --topology"),
    ])
    func usageErrorsNameTheBadValue(_ arguments: [String], _ message: String) {
        #expect {
            _ = try request(arguments)
        } throws: { error in
            (error as? UsageError)?.message.contains(message) == true
        }
    }
}
