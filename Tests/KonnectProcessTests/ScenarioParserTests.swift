import KonnectCore
import Testing

@testable import KonnectScenario

/// The scenario language's parser (issue 7): steps, values, and errors at file:line:column.
@Suite struct ScenarioParserTests {
    func parse(_ text: String) throws -> Scenario { try ScenarioParser.parse(text, file: "t.scenario") }

    /// The parse error of `text`, or nil; with `check`, also what `ScenarioCheck` finds.
    func error(_ text: String, check: Bool = false) -> ScenarioParseError? {
        do {
            _ =
                try check
                ? ScenarioParser.parseAndCheck(text, file: "t.scenario")
                : ScenarioParser.parse(text, file: "t.scenario")
            return nil
        } catch {
            return error
        }
    }

    @Test func summaryStepsAndDefaultCluster() throws {
        let scenario = try parse(
            "# A story.\n# Two lines.\n\nsignup ana@example.com org Acme geo eu as $acme\nadvance 31d\n")
        #expect(scenario.name == "t")
        #expect(scenario.summary == "A story. Two lines.")
        #expect(scenario.steps.count == 3)
        #expect(scenario.steps[0].action == .cluster(geos: ["us", "eu", "au"], start: .defaultStart, rateCard: nil))
        #expect(scenario.steps[1].line == 4)
        #expect(scenario.steps[2].action == .advance(.days(31)))
    }

    @Test func requestWithBodyTokenCaptureAndStatus() throws {
        let scenario = try parse(
            #"POST eu /v2/control-planes/$cp.id/core-entities/services {"name":"a","port":$up.port} with $ana as $svc -> 201"#
        )
        guard
            case .request(let node, let method, let path, let body, let token, let capture, let status) =
                scenario.steps[1].action
        else {
            Issue.record("expected a request")
            return
        }
        #expect(node == "eu")
        #expect(method == "POST")
        #expect(path == .template("/v2/control-planes/$cp.id/core-entities/services"))
        #expect(body == .template(#"{"name":"a","port":$up.port}"#))
        #expect(token == .reference(name: "ana", path: ""))
        #expect(capture == "svc")
        #expect(status == 201)
    }

    @Test func expectationsWithComparisonsAndWithin() throws {
        let scenario = try parse(
            "expect dp dp1 state synced within 5s\nexpect $x.a.0 >= 3\nexpect body name contains \"sh\"\nexpect node eu down\n"
        )
        #expect(
            scenario.steps[1].action
                == .expect(
                    subject: .dataPlane("dp1"), path: "state", comparison: .equal, value: .literal("synced"),
                    withinMilliseconds: 5000))
        #expect(
            scenario.steps[2].action
                == .expect(
                    subject: .variable("x"), path: "a.0", comparison: .greaterOrEqual, value: .literal(3),
                    withinMilliseconds: nil))
        #expect(
            scenario.steps[3].action
                == .expect(
                    subject: .lastResponse, path: "body.name", comparison: .contains, value: .literal("sh"),
                    withinMilliseconds: nil))
        #expect(
            scenario.steps[4].action
                == .expect(
                    subject: .node("eu"), path: "state", comparison: .equal, value: .literal("down"),
                    withinMilliseconds: nil))
    }

    @Test func expectationOnAFreshRequest() throws {
        let scenario = try parse(
            "expect GET eu /v2/control-planes/$cp.id/nodes with $ana body.items.0.config_hash == $v.hash within 5s")
        #expect(
            scenario.steps[1].action
                == .expect(
                    subject: .api(
                        node: "eu", path: .template("/v2/control-planes/$cp.id/nodes"),
                        token: .reference(name: "ana", path: "")),
                    path: "body.items.0.config_hash", comparison: .equal, value: .reference(name: "v", path: "hash"),
                    withinMilliseconds: 5000))
    }

    @Test func faultsAndTraffic() throws {
        let scenario = try parse(
            "latency dp1 eu 50ms jitter 20ms\ndrop eu auth 0.25\nsend 100 requests to dp1 /orders -> 200\nheal all\n")
        #expect(scenario.steps[1].action == .latency(from: "dp1", to: "eu", milliseconds: 50, jitterMilliseconds: 20))
        #expect(scenario.steps[2].action == .drop(from: "eu", to: "auth", partsPerMillion: 250_000))
        #expect(
            scenario.steps[3].action
                == .send(count: 100, dataPlane: "dp1", method: "GET", path: .template("/orders"), status: 200))
        #expect(scenario.steps[4].action == .healAll)
    }

    /// Issue 18: chaos runs are scenarios; `chaos` makes the steps after it tolerate failures, `check`
    /// runs the invariant checkers.
    @Test func chaosAndCheckSteps() throws {
        let scenario = try parse("chaos timeout 3s\nchaos\ncheck\ncheck deactivation usage within 5s\n")
        #expect(scenario.steps[1].action == .chaos(timeoutMilliseconds: 3000))
        #expect(scenario.steps[2].action == .chaos(timeoutMilliseconds: 2000))
        #expect(scenario.steps[3].action == .check(names: [], withinMilliseconds: nil))
        #expect(scenario.steps[4].action == .check(names: ["deactivation", "usage"], withinMilliseconds: 5000))
    }

    @Test func aKnownBug() throws {
        let scenario = try parse("known bug \"usage is lost\"\nadvance 1d\n")
        #expect(scenario.steps[1].action == .knownBug("usage is lost"))
        #expect(scenario.knownBug == "usage is lost")
        #expect(try parse("advance 1d\n").knownBug == nil)
    }

    @Test func oneLineAtATime() throws {
        #expect(try ScenarioParser.step("   # a comment", file: "t", line: 3) == nil)
        let step = try #require(try ScenarioParser.step("  kill eu", file: "t", line: 7))
        #expect(step == ScenarioStep(line: 7, text: "kill eu", action: .kill("eu")))
    }

    @Test(arguments: [
        ("frobnicate", 1, 1, "unknown step 'frobnicate'"),
        ("check writes luck", 1, 14, "unknown invariant 'luck'"),
        ("chaos timeout 0ms", 1, 15, "above 0 ms"),
        ("check within soon", 1, 14, "expected a duration"),
        ("known bug lost", 1, 11, "as a quoted string"),
        ("advance soon", 1, 9, "expected a duration"),
        ("cluster geos us,mars", 1, 14, "unknown geo 'mars'"),
        (#"POST eu /x {"a":}"#, 1, 17, "invalid JSON"),
        ("signup\n", 1, 7, "expected an email"),
        ("expect node eu sleeping", 1, 16, "expected up, down or paused"),
        ("advance 1d\ncluster", 2, 1, "'cluster' must be the first step"),
        ("drop eu auth 1.5", 1, 14, "expected a fraction"),
        (#"login "ana"#, 1, 7, "unterminated string"),
        ("expect status 201 extra", 1, 19, "unexpected 'extra'"),
    ])
    func errorsNameLineColumnAndWhatWasExpected(_ text: String, _ line: Int, _ column: Int, _ message: String) throws {
        let failure = try #require(error(text))
        #expect(failure.line == line)
        #expect(failure.column == column)
        #expect(failure.message.contains(message), "\(failure.message)")
        #expect(failure.description.hasPrefix("t.scenario:\(line):\(column): "))
    }

    /// Issue 14: huge durations used to trap (SIGILL) in the scenario's own parser; there is one parser now,
    /// `WallDuration`, shared with the command line.
    @Test(arguments: [
        ("wait 99999999999999999s", 1, 6), ("latency eu auth 9999999999999999m", 1, 17),
        ("expect status 200 within 99999999999999999999ms", 1, 26), ("wait 11m", 1, 6), ("wait -1s", 1, 6),
    ])
    func hugeDurationsAreParseErrors(_ text: String, _ line: Int, _ column: Int) throws {
        let failure = try #require(error(text))
        #expect(failure.line == line)
        #expect(failure.column == column)
        #expect(failure.message.contains("at most 10m"), "\(failure.message)")
    }

    /// Issue 14: `scenario check` finds undefined references and unknown nodes before anything runs.
    @Test(arguments: [
        ("signup ana@example.com as $ana\nPOST eu /v2/x {} with $bob -> 201", 2, 23, "$bob is not set"),
        ("GET eu /v2/control-planes/$cp.id with $ana", 1, 27, "$cp is not set"),
        (#"set $a = {"x":$b.y}"#, 1, 15, "$b is not set"),
        ("expect $plane.id exists", 1, 8, "$plane is not set"),
        ("kill dp1", 1, 6, "unknown node 'dp1'"),
        ("cluster geos eu\nGET us /v2/x", 2, 5, "geo 'us' is not in this scenario's cluster"),
        ("request eu GET /x", 1, 9, "'eu' is a geo, expected a data plane"),
        ("upstream start up1\npartition up1 eu", 2, 11, "'up1' is an upstream"),
        ("upstream start up1\ndp start dp1 geo eu control-plane shop\nlatency dp1 us 5ms", 3, 13, "no link dp1 -> us"),
        ("dp start eu geo eu control-plane shop", 1, 10, "names one of the cluster's own nodes"),
        ("expect dp dp9 state synced", 1, 11, "unknown node 'dp9'"),
    ])
    func checkFindsUndefinedReferencesAndUnknownNodes(_ text: String, _ line: Int, _ column: Int, _ message: String)
        throws
    {
        #expect(error(text) == nil, "the syntax alone is fine")
        let failure = try #require(error(text, check: true))
        #expect(failure.line == line, "\(failure)")
        #expect(failure.column == column, "\(failure)")
        #expect(failure.message.contains(message), "\(failure.message)")
    }

    @Test func checkAcceptsWhatEarlierStepsDefine() throws {
        let text = """
            cluster geos eu
            signup ana@example.com as $acme
            login ana@example.com as $ana
            POST eu /v2/control-planes {"name":"shop"} with $ana as $cp -> 201
            upstream start up1
            POST eu /v2/control-planes/$cp.id/core-entities/services {"name":"s","url":"$up1.url"} with $ana -> 201
            dp start dp1 geo eu control-plane $cp.id
            send 3 requests to dp1 /s -> 404
            expect $sent.count == 3
            expect $last.status == 404
            set $org = $acme.organization.id
            expect usage $org cycle current periods.0.usage.api_calls >= 0
            expect $start exists
            partition dp1 eu
            latency eu auth 5ms
            kill dp1
            expect node dp1 down
            """
        _ = try ScenarioParser.parseAndCheck(text, file: "t.scenario")
    }

    @Test func templatesSubstituteInsideAndOutsideStrings() throws {
        let text = Templates.substitute(#"{"id":"$cp.id","port":$up.port}"#, json: true) { name, path in
            name == "cp" ? .string("a\"b") : .int(8080)
        }
        #expect(text == #"{"id":"a\"b","port":8080}"#)
        #expect(Templates.substitute("/v2/x/$cp.id/y", json: false) { _, _ in "abc" } == "/v2/x/abc/y")
    }

    @Test func comparisonsAreNumericAcrossDecimalStrings() {
        #expect(ScenarioRunner.holds(.string("105.00"), .equal, .int(105)))
        #expect(ScenarioRunner.holds(.int(3), .greater, .string("2.5")))
        #expect(ScenarioRunner.holds(.array(["a", "b"]), .contains, "b"))
        #expect(ScenarioRunner.holds(nil, .missing, nil))
        #expect(!ScenarioRunner.holds(.null, .exists, nil))
        #expect(!ScenarioRunner.holds(.string("x"), .equal, .string("y")))
    }
}
