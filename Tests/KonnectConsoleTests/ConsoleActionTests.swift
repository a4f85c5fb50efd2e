import KonnectCore
import Testing

@testable import KonnectConsole

/// issue 16 (faults with a click): what the page sends becomes one of the CLI's operations.
@Suite struct ConsoleActionTests {
    static let actions: [(JSON, ConsoleAction)] = [
        (["action": "kill", "node": "eu"], .kill(node: "eu")),
        (["action": "restart", "node": "dp1"], .restart(node: "dp1")),
        (["action": "pause", "node": "auth"], .pause(node: "auth")),
        (["action": "resume", "node": "auth"], .resume(node: "auth")),
        (["action": "partition", "link": "eu->auth"], .partition(from: "eu", to: "auth")),
        (["action": "heal", "link": "dp1->eu"], .heal(from: "dp1", to: "eu")),
        (["action": "heal-all"], .healAll),
        (
            ["action": "slow", "link": "eu->auth", "latency_ms": 300],
            .slow(from: "eu", to: "auth", delayMilliseconds: 300)
        ),
        (
            ["action": "drop", "link": "eu->auth", "percent": 25],
            .drop(from: "eu", to: "auth", partsPerMillion: 250_000)
        ),
        (["action": "advance", "by": "30d"], .advanceCalendar(by: "30d")),
        (["action": "set-clock", "date": "2026-03-01"], .setCalendar(to: "2026-03-01T00:00:00Z")),
        (["action": "set-clock", "date": "2026-03-01T12:00:00Z"], .setCalendar(to: "2026-03-01T12:00:00Z")),
    ]

    @Test(arguments: actions)
    func readsEachAction(body: JSON, expected: ConsoleAction) throws {
        #expect(try ConsoleAction(json: body) == expected)
    }

    func problems(_ body: JSON) -> [String] {
        do {
            _ = try ConsoleAction(json: body)
            return []
        } catch {
            return error.invalidParameters.map { "\($0.field) \($0.rule)" }
        }
    }

    @Test func badBodiesAre400NamingEveryField() {
        #expect(problems("kill") == ["body is_object"])
        #expect(problems(["action": "explode"]) == ["action enum"])
        #expect(problems(["action": "kill"]) == ["node required"])
        #expect(problems(["action": "kill", "node": "eu", "extra": 1]) == ["extra unknown_property"])
        #expect(problems(["action": "partition", "link": "eu"]) == ["link invalid"])
        #expect(problems(["action": "partition", "link": "->auth"]) == ["link invalid"])
        #expect(problems(["action": "slow", "link": "eu->auth"]) == ["latency_ms required"])
        #expect(problems(["action": "slow", "link": "eu->auth", "latency_ms": 0]) == ["latency_ms min"])
        #expect(problems(["action": "drop", "link": "eu->auth", "percent": 101]) == ["percent max"])
        #expect(problems(["action": "advance", "by": "soon"]) == ["by invalid"])
        #expect(problems(["action": "set-clock", "date": "tomorrow"]) == ["date invalid"])
        #expect(problems(["action": "set-clock"]) == ["date required"])
    }

    @Test func eachActionSaysWhatWasDoneInTheCLIsWords() {
        #expect(ConsoleAction.kill(node: "eu").done == "killed eu (SIGKILL)")
        #expect(ConsoleAction.partition(from: "eu", to: "auth").done == "partitioned eu -> auth")
        #expect(ConsoleAction.drop(from: "eu", to: "auth", partsPerMillion: 250_000).done.contains("25.0%"))
    }
}
