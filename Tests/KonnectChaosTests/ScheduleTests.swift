import KonnectChaos
import KonnectCore
import KonnectScenario
import Testing

/// Issue 18: the seeded schedule, its shrinking, and the history's JSON lines.
@Suite struct ScheduleTests {
    func schedule(seed: UInt64, steps: Int, rates: FaultRates = .standard) -> [String] {
        var workload = ChaosWorkload(seed: seed, geos: ["us", "eu"], rates: rates)
        var lines = workload.setup()
        for _ in 0..<steps { lines += workload.next() }
        return lines
    }

    @Test func theSameSeedWritesTheSameScheduleAndAnotherSeedAnother() {
        #expect(schedule(seed: 7, steps: 300) == schedule(seed: 7, steps: 300))
        #expect(schedule(seed: 7, steps: 300) != schedule(seed: 8, steps: 300))
    }

    /// Every line the workload writes is a step of the scenario language; the schedule is a scenario.
    @Test(arguments: [1, 2, 3, 42] as [UInt64])
    func everyLineParses(_ seed: UInt64) throws {
        let lines = schedule(seed: seed, steps: 500)
        let scenario = try ScenarioParser.parse(lines.joined(separator: "\n") + "\ncheck\n", file: "s.scenario")
        #expect(scenario.steps.count == lines.count + 1)
        #expect(lines[0].hasPrefix("cluster geos us,eu"))
        #expect(lines[1] == "chaos timeout 3s")
    }

    /// Faults come at about the rate asked for, each repaired later; at rate 0 there are none.
    @Test func faultRates() {
        let kinds: Set<String> = ["kill", "pause", "partition", "latency", "drop"]
        let repairs: Set<String> = ["restart", "resume", "heal"]
        func count(_ lines: [String], _ words: Set<String>) -> Int {
            lines.filter { words.contains(String($0.split(separator: " ")[0])) }.count
        }
        let none = schedule(seed: 3, steps: 400, rates: FaultRates(rate: 0, weights: FaultRates.standard.weights))
        #expect(count(none, kinds) == 0)
        let some = schedule(seed: 3, steps: 2000)
        let injected = count(some, kinds)
        #expect((100...300).contains(injected), "\(injected) faults in 2000 steps at rate 0.1")
        #expect(count(some, repairs) >= injected - 3)
        let killsOnly = schedule(seed: 3, steps: 1000, rates: FaultRates(rate: 0.2, weights: [.kill: 1]))
        #expect(count(killsOnly, ["pause", "partition", "latency", "drop"]) == 0)
        #expect(count(killsOnly, ["kill"]) > 50)
    }

    /// In netns the nemesis isolates the auth node, geos and data planes (never the upstream), and
    /// rejoins each host it isolated; without netns rates it never isolates.
    @Test func isolateFaultsAreRejoined() {
        let lines = schedule(seed: 5, steps: 1000, rates: FaultRates(rate: 0.2, weights: [.isolate: 1]))
        let isolated = lines.filter { $0.hasPrefix("isolate ") }.map { String($0.dropFirst(8)) }
        let rejoined = lines.filter { $0.hasPrefix("rejoin ") }.map { String($0.dropFirst(7)) }
        #expect(isolated.count > 50)
        #expect(!isolated.contains("up1"))
        #expect(Set(isolated).isSuperset(of: ["auth", "us", "eu", "dp1"]))
        #expect(isolated.count - rejoined.count <= 3)
        for node in Set(isolated) {
            #expect(isolated.filter { $0 == node }.count - rejoined.filter { $0 == node }.count <= 1)
        }
        #expect(!schedule(seed: 5, steps: 1000).contains { $0.hasPrefix("isolate") })
        #expect(FaultRates.standard(for: .netns).weights[.isolate] == 2)
    }

    @Test func faultRatesParse() throws {
        let rates = try FaultRates.parse(rate: "0.25", kinds: "kill=3,drop").get()
        #expect(rates == FaultRates(rate: 0.25, weights: [.kill: 3, .drop: 1]))
        #expect(throws: FaultRatesError.self) { try FaultRates.parse(rate: "2", kinds: nil).get() }
        #expect(throws: FaultRatesError.self) { try FaultRates.parse(rate: nil, kinds: "kill,quake").get() }
        #expect(throws: FaultRatesError.self) { try FaultRates.parse(rate: nil, kinds: "kill=x").get() }
    }
}

@Suite struct ShrinkingTests {
    let lines = [
        "cluster geos eu", "chaos timeout 3s", "upstream start up1", "signup a@x org A geo eu as $a",
        "login a@x org $a.organization.id as $t", "kill eu",
        "POST eu /v2/control-planes {\"name\":\"c\"} with $t as $cp",
        "restart eu", "dp start dp1 geo eu control-plane $cp.id", "request dp1 GET /x", "advance 1d",
        "deactivate organization with $t", "request dp1 GET /y", "check",
    ]

    /// A line that needs a capture or a node only removed lines make goes with them.
    @Test func dependentLinesGoWithWhatTheyNeed() {
        let shrinking = Shrinking(lines: lines)
        let kept = shrinking.closure(keeping: lines.indices.filter { $0 != 3 })
        #expect(
            shrinking.lines(kept) == [
                "cluster geos eu", "chaos timeout 3s", "upstream start up1", "kill eu", "restart eu", "advance 1d",
                "check",
            ])
        let withoutDataPlane = shrinking.closure(keeping: lines.indices.filter { $0 != 8 })
        #expect(!shrinking.lines(withoutDataPlane).contains { $0.contains("dp1") })
    }

    /// The failure needs the deactivation and a request through the data plane after it: that is what
    /// remains (with what they need), and never the `cluster`, `chaos` or `check` lines' removal.
    @Test func shrinksToWhatTheFailureNeeds() {
        let shrinking = Shrinking(lines: lines)
        var runs = 0
        let kept = shrinking.shrink(
            lastNeeded: nil, progress: { _ in }, shouldStop: { false },
            fails: { candidate in
                runs += 1
                guard let deactivation = candidate.firstIndex(of: "deactivate organization with $t") else {
                    return false
                }
                return candidate[deactivation...].contains { $0.hasPrefix("request dp1") }
            })
        #expect(
            shrinking.lines(kept) == [
                "cluster geos eu", "chaos timeout 3s", "signup a@x org A geo eu as $a",
                "login a@x org $a.organization.id as $t", "POST eu /v2/control-planes {\"name\":\"c\"} with $t as $cp",
                "dp start dp1 geo eu control-plane $cp.id", "deactivate organization with $t", "request dp1 GET /y",
                "check",
            ])
        #expect(runs < 40)
    }

    @Test func theTailAfterTheLastNeededLineGoesFirst() {
        let shrinking = Shrinking(lines: lines)
        var first: [String]? = nil
        _ = shrinking.shrink(
            lastNeeded: 9, progress: { _ in }, shouldStop: { false },
            fails: { candidate in
                if first == nil { first = candidate }
                return false
            })
        #expect(first?.last == "check")
        #expect(first?.contains("deactivate organization with $t") == false)
    }

    @Test func itStopsWhenTold() {
        let shrinking = Shrinking(lines: lines)
        var runs = 0
        let kept = shrinking.shrink(
            lastNeeded: nil, progress: { _ in }, shouldStop: { runs >= 2 },
            fails: { _ in
                runs += 1
                return true
            })
        #expect(runs == 2)
        #expect(kept.count < lines.count)
    }
}

@Suite struct HistoryFileTests {
    @Test func eventsRoundTripThroughJSONLines() {
        let events = [
            HistoryEvent(
                index: 0, line: 4, start: 10, end: 15, calendar: .defaultStart,
                action: .call(node: "eu", method: "POST", path: "/v2/control-planes", token: "t1", body: ["name": "c"]),
                outcome: .response(status: 201, body: ["id": "cp1"])),
            HistoryEvent(
                index: 1, line: 5, start: 15, end: 3015, calendar: nil,
                action: .proxy(dataPlane: "dp1", method: "GET", path: "/x"), outcome: .unknown("timed out")),
            HistoryEvent(
                index: 2, line: 6, start: 3015, end: 3020, calendar: nil, action: .fault("kill", target: "eu"),
                outcome: .refused("eu is not running")),
            HistoryEvent(
                index: 3, line: 7, start: 3020, end: 3020, calendar: nil,
                action: .node("start", kind: "dp", name: "dp1", details: ["geo": "eu"]), outcome: .done),
            HistoryEvent(
                index: 4, line: 8, start: 3020, end: 3020, calendar: nil, action: .settle(clean: true), outcome: .done),
            HistoryEvent(
                index: 5, line: 9, start: 3020, end: 3020, calendar: nil,
                action: .observation(subject: "dp1", state: "synced", details: ["of": "sync"]), outcome: .done),
            HistoryEvent(
                index: 6, line: 10, start: 3020, end: 3020, calendar: nil, action: .mark("final"), outcome: .done),
        ]
        #expect(HistoryFile.events(HistoryFile.text(events)) == events)
    }

    @Test func eventSummaries() {
        let event = HistoryEvent(
            index: 12, line: 3, start: 0, end: 1, calendar: nil,
            action: .call(node: "eu", method: "POST", path: "/v2/control-planes", token: nil, body: nil),
            outcome: .response(status: 201, body: [:]))
        #expect(event.summary == "#12 POST eu /v2/control-planes -> 201")
    }
}
