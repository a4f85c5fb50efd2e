import KonnectChaos
import KonnectCore
import KonnectScenario
import Testing

/// Issue 18: each invariant checker against hand-made histories that must pass and must fail.
@Suite struct WritesInvariantTests {
    /// An organization with a control plane and a service, then the final reads.
    func history(between: (inout HistoryBuilder) -> Void = { _ in }, read: (inout HistoryBuilder) -> Void)
        -> HistoryBuilder
    {
        var h = HistoryBuilder()
        h.organization("org1", user: "u1", token: "t1")
        h.controlPlane("cp1", name: "shop", token: "t1")
        h.service("svc1", controlPlane: "cp1", prefix: "/u/o1", token: "t1")
        between(&h)
        h.mark("final")
        h.view("org1", state: "active", history: [("active", "created", .defaultStart)])
        h.mark("reads")
        h.login(org: "org1", user: "u1", token: "t9")
        read(&h)
        return h
    }

    @Test func anAcknowledgedCreateReadBackHolds() {
        let h = history { h in
            h.call("eu", "GET", "/v2/control-planes/cp1", token: "t9", 200, ["id": "cp1", "name": "shop"])
            h.call(
                "eu", "GET", "/v2/control-planes/cp1/core-entities/services/svc1", token: "t9", 200,
                ["id": "svc1", "name": "svc1", "retries": 5])
        }
        #expect(h.verdict("writes").passed)
    }

    @Test func anAcknowledgedCreateThatIsGoneFails() {
        let h = history { h in
            h.call("eu", "GET", "/v2/control-planes/cp1", token: "t9", 404, ["message": "Not found"])
        }
        let verdict = h.verdict("writes")
        #expect(!verdict.passed)
        #expect(verdict.violations.first?.message.contains("was acknowledged (201) but is gone") == true)
        #expect(verdict.violations.first?.events == [2, h.events.count - 1])
    }

    @Test func anAcknowledgedUpdateThatReadsOldFails() {
        let h = history(
            between: { h in
                h.call(
                    "eu", "PATCH", "/v2/control-planes/cp1/core-entities/services/svc1", token: "t1",
                    body: ["retries": 2],
                    200, ["id": "svc1", "name": "svc1", "retries": 2])
            },
            read: { h in
                h.call(
                    "eu", "GET", "/v2/control-planes/cp1/core-entities/services/svc1", token: "t9", 200,
                    ["id": "svc1", "name": "svc1", "retries": 5])
            })
        #expect(!h.verdict("writes").passed)
    }

    /// A write without an answer may or may not have happened: either value is right. A server default
    /// (retries 5, never written by the client) is what the create's answer said.
    @Test func anUnansweredUpdateAllowsBothValues() {
        for seen: Int64 in [5, 7] {
            let h = history(
                between: { h in
                    h.unanswered(
                        "eu", "PATCH", "/v2/control-planes/cp1/core-entities/services/svc1", token: "t1",
                        body: ["retries": 7])
                },
                read: { h in
                    h.call(
                        "eu", "GET", "/v2/control-planes/cp1/core-entities/services/svc1", token: "t9", 200,
                        ["id": "svc1", "name": "svc1", "retries": .int(seen)])
                })
            #expect(h.verdict("writes").passed, "retries \(seen)")
        }
    }

    @Test func aRefusedUpdateChangesNothing() {
        let h = history(
            between: { h in
                h.call(
                    "eu", "PATCH", "/v2/control-planes/cp1/core-entities/services/svc1", token: "t1",
                    body: ["retries": 7],
                    401, ["message": "deactivated"])
            },
            read: { h in
                h.call(
                    "eu", "GET", "/v2/control-planes/cp1/core-entities/services/svc1", token: "t9", 200,
                    ["id": "svc1", "name": "svc1", "retries": 7])
            })
        #expect(!h.verdict("writes").passed)
    }

    @Test func aDeleteThatMayHaveHappenedExemptsTheObjectAndItsEntities() {
        let h = history(
            between: { h in h.unanswered("eu", "DELETE", "/v2/control-planes/cp1", token: "t1") },
            read: { h in
                h.call("eu", "GET", "/v2/control-planes/cp1", token: "t9", 404, [:])
                h.call("eu", "GET", "/v2/control-planes/cp1/core-entities/services/svc1", token: "t9", 404, [:])
            })
        #expect(h.verdict("writes").passed)
    }

    @Test func objectsOfADeletedOrganizationAreNotRequired() {
        var h = HistoryBuilder()
        h.organization("org1", user: "u1", token: "t1")
        h.controlPlane("cp1", name: "shop", token: "t1")
        h.mark("final")
        h.view("org1", state: "deleted", history: [])
        h.mark("reads")
        h.call("eu", "GET", "/v2/control-planes/cp1", token: "t9", 404, [:])
        #expect(h.verdict("writes").passed)
    }
}

@Suite struct IsolationInvariantTests {
    func twoOrganizations() -> HistoryBuilder {
        var h = HistoryBuilder()
        h.organization("org1", user: "u1", token: "t1")
        h.organization("org2", user: "u2", token: "t2")
        h.controlPlane("cp1", name: "shop", token: "t1")
        h.controlPlane("cp2", name: "shop", token: "t2")
        return h
    }

    @Test func ownObjectsAndNotFoundForOthersHold() {
        var h = twoOrganizations()
        h.call("eu", "GET", "/v2/control-planes", token: "t1", 200, ["data": [["id": "cp1"]]])
        h.call("eu", "GET", "/v2/control-planes/cp2", token: "t1", 404, [:])
        h.call("us", "GET", "/v2/control-planes/cp1", token: "t1", 404, [:])
        #expect(h.verdict("isolation").passed)
    }

    @Test func anotherOrganizationsObjectInAListFails() {
        var h = twoOrganizations()
        h.call("eu", "GET", "/v2/control-planes", token: "t1", 200, ["data": [["id": "cp1"], ["id": "cp2"]]])
        let verdict = h.verdict("isolation")
        #expect(verdict.violations.count == 1)
        #expect(verdict.violations.first?.message.contains("control plane cp2 of organization org2") == true)
    }

    @Test func actingOnAnotherOrganizationsObjectFails() {
        var h = twoOrganizations()
        h.call("eu", "DELETE", "/v2/control-planes/cp2", token: "t1", 204, [:])
        #expect(!h.verdict("isolation").passed)
    }

    @Test func anObjectFromAnotherGeoFails() {
        var h = twoOrganizations()
        h.call("us", "GET", "/v2/control-planes/cp1", token: "t1", 200, ["id": "cp1"])
        #expect(h.verdict("isolation").violations.first?.message.contains("created in geo eu") == true)
    }

    @Test func aDataPlaneAnsweringFromAnotherOrganizationsServiceFails() {
        var h = twoOrganizations()
        h.service("s1", controlPlane: "cp1", prefix: "/u/o1", token: "t1")
        h.service("s2", controlPlane: "cp2", prefix: "/u/o2", token: "t2")
        h.dataPlane("dp1", controlPlane: "cp1", organization: "org1")
        h.served("dp1", "/o1/x")
        #expect(h.verdict("isolation").passed)
        h.served("dp1", "/o2/x")
        #expect(!h.verdict("isolation").passed)
    }
}

@Suite struct DeactivationInvariantTests {
    /// org1 in eu with dp1 serving, then an admin's deactivation acknowledged.
    func deactivated() -> HistoryBuilder {
        var h = HistoryBuilder()
        h.organization("org1", user: "u1", token: "t1")
        h.controlPlane("cp1", name: "shop", token: "t1")
        h.service("s1", controlPlane: "cp1", prefix: "/u/o1", token: "t1")
        h.dataPlane("dp1", controlPlane: "cp1", organization: "org1")
        h.served("dp1", "/o1/x")
        h.call("auth", "POST", "/v3/organizations/me/deactivate", token: "t1", 200, ["state": "inactive"])
        return h
    }

    @Test func refusalsAndNoLoginsHold() {
        var h = deactivated()
        h.refusedByDataPlane("dp1", "/o1/x")
        h.call("auth", "POST", "/v3/authenticate", 401, ["reason": "organization_deactivated"])
        h.call("eu", "GET", "/v2/control-planes", token: "t1", 401, [:])
        #expect(h.verdict("deactivation").passed)
    }

    @Test func aLoginAfterTheDeactivationFails() {
        var h = deactivated()
        h.login(org: "org1", user: "u1", token: "t2")
        #expect(h.verdict("deactivation").violations.first?.message.contains("a login into organization org1") == true)
    }

    @Test func aTokenFromBeforeTheDeactivationNeverWorksAgain() {
        var h = deactivated()
        h.call("auth", "POST", "/v3/support/organizations/org1/reactivate", token: "support", 200, [:])
        h.call("eu", "GET", "/v2/control-planes", token: "t1", 200, ["data": []])
        #expect(h.verdict("deactivation").violations.first?.message.contains("issued before its deactivation") == true)
    }

    /// Within the bound the data plane may still serve; after it, with a healthy path, it must not.
    @Test func aDataPlaneServingAfterTheBoundFails() {
        var h = deactivated()
        h.served("dp1", "/o1/x")
        #expect(h.verdict("deactivation").passed)
        h.wait(10_001)
        h.served("dp1", "/o1/x")
        let verdict = h.verdict("deactivation")
        #expect(verdict.violations.count == 1)
        #expect(verdict.violations.first?.events == [6, h.events.count - 1])
    }

    /// The bound counts from the moment the path to the auth node is healthy again.
    @Test func theBoundStartsWhenThePathHeals() {
        var h = deactivated()
        h.fault("partition", "eu->auth")
        h.wait(20_000)
        h.served("dp1", "/o1/x")
        h.fault("heal", "eu->auth")
        h.wait(5000)
        h.served("dp1", "/o1/x")
        #expect(h.verdict("deactivation").passed)
        h.wait(5001)
        h.served("dp1", "/o1/x")
        #expect(!h.verdict("deactivation").passed)
    }

    /// An isolated host (`isolate`, netns) cuts every link touching it, both ways: the bound counts
    /// from its rejoin.
    @Test func theBoundStartsWhenAnIsolatedHostRejoins() {
        var h = deactivated()
        h.fault("isolate", "auth")
        h.wait(20_000)
        h.served("dp1", "/o1/x")
        h.fault("rejoin", "auth")
        h.wait(5000)
        h.served("dp1", "/o1/x")
        #expect(h.verdict("deactivation").passed)
        h.wait(5001)
        h.served("dp1", "/o1/x")
        #expect(h.verdict("deactivation").violations.count == 1)
    }

    @Test func aReactivationEndsTheWindow() {
        var h = deactivated()
        h.call("auth", "POST", "/v3/support/organizations/org1/reactivate", token: "support", 200, [:])
        h.wait(20_000)
        h.served("dp1", "/o1/x")
        h.login(org: "org1", user: "u1", token: "t3")
        #expect(h.verdict("deactivation").passed)
    }

    @Test func finalStatesMustAgreeInEveryGeo() {
        var h = deactivated()
        h.mark("final")
        h.view("org1", state: "inactive", history: [])
        h.geoStatus("eu", decommissioned: ["org1"])
        h.geoStatus("us", decommissioned: [])
        h.refusedByDataPlane("dp1", "/o1/x")
        let verdict = h.verdict("deactivation")
        #expect(
            verdict.violations.map(\.message) == ["organization org1 is inactive, but geo us never decommissioned it"])
    }

    @Test func aDataPlaneStillServingAtTheEndFails() {
        var h = deactivated()
        h.mark("final")
        h.view("org1", state: "inactive", history: [])
        h.geoStatus("eu", decommissioned: ["org1"])
        h.served("dp1", "/o1/x")
        #expect(h.verdict("deactivation").violations.first?.message.contains("still answers 200") == true)
    }

    /// Deleting a control plane orphans its data planes, like a decommission.
    @Test func aDataPlaneOfADeletedControlPlaneStillServingAtTheEndFails() {
        var h = HistoryBuilder()
        h.organization("org1", user: "u1", token: "t1")
        h.controlPlane("cp1", name: "shop", token: "t1")
        h.dataPlane("dp1", controlPlane: "cp1", organization: "org1")
        h.call("eu", "DELETE", "/v2/control-planes/cp1", token: "t1", 204, [:])
        h.mark("final")
        h.served("dp1", "/o1/x")
        #expect(h.verdict("deactivation").violations.first?.message.contains("its control plane was deleted") == true)
        var orphaned = h
        orphaned.events.removeLast()
        orphaned.proxied(
            "dp1", "/o1/x", 503, message: "This data plane no longer proxies: the control plane was deleted")
        #expect(orphaned.verdict("deactivation").passed)
    }

    @Test func anActiveOrganizationStillDecommissionedFails() {
        var h = deactivated()
        h.call("auth", "POST", "/v3/support/organizations/org1/reactivate", token: "support", 200, [:])
        h.mark("final")
        h.view("org1", state: "active", history: [])
        h.geoStatus("eu", decommissioned: ["org1"])
        h.refusedByDataPlane("dp1", "/o1/x")
        #expect(h.verdict("deactivation").violations.count == 2)
    }
}

@Suite struct AvailabilityInvariantTests {
    func serving() -> HistoryBuilder {
        var h = HistoryBuilder()
        h.add(.node("start", kind: "upstream", name: "up1", details: [:]), .done)
        h.organization("org1", user: "u1", token: "t1")
        h.controlPlane("cp1", name: "shop", token: "t1")
        h.service("s1", controlPlane: "cp1", prefix: "/u/o1", token: "t1")
        h.dataPlane("dp1", controlPlane: "cp1", organization: "org1")
        h.served("dp1", "/o1/x")
        return h
    }

    @Test func servingThroughControlPlaneFaultsHolds() {
        var h = serving()
        h.fault("kill", "eu")
        h.fault("partition", "dp1->eu")
        h.fault("pause", "auth")
        h.served("dp1", "/o1/x")
        #expect(h.verdict("availability").passed)
    }

    @Test func aRefusalThroughControlPlaneFaultsFails() {
        var h = serving()
        h.fault("kill", "eu")
        h.proxied("dp1", "/o1/x", 503, message: "This data plane cannot proxy yet")
        let verdict = h.verdict("availability")
        #expect(verdict.violations.first?.events == [h.events.count - 3, h.events.count - 1])
    }

    @Test func noAnswerFromARunningDataPlaneFails() {
        var h = serving()
        h.add(.proxy(dataPlane: "dp1", method: "GET", path: "/o1/x"), .unknown("no response within 3000 ms"))
        #expect(!h.verdict("availability").passed)
    }

    @Test func requestsWhileTheDataPlaneOrUpstreamIsDownAreNotJudged() {
        var h = serving()
        h.fault("pause", "dp1")
        h.add(.proxy(dataPlane: "dp1", method: "GET", path: "/o1/x"), .unknown("no response"))
        h.fault("resume", "dp1")
        h.fault("kill", "up1")
        h.proxied("dp1", "/o1/x", 502, message: "An invalid response was received from the upstream server")
        #expect(h.verdict("availability").passed)
    }

    /// Requests to an isolated data plane (or through an isolated upstream) are lost on the way: not
    /// judged. An isolated auth node or geo is a control-plane fault like any other: the data plane serves.
    @Test func requestsWhileTheDataPlaneOrUpstreamIsIsolatedAreNotJudged() {
        var h = serving()
        h.fault("isolate", "dp1")
        h.add(.proxy(dataPlane: "dp1", method: "GET", path: "/o1/x"), .unknown("no response within 3000 ms"))
        h.fault("rejoin", "dp1")
        h.fault("isolate", "up1")
        h.add(.proxy(dataPlane: "dp1", method: "GET", path: "/o1/x"), .unknown("no response within 3000 ms"))
        #expect(h.verdict("availability").passed)
        h.fault("rejoin", "up1")
        h.add(.proxy(dataPlane: "dp1", method: "GET", path: "/o1/x"), .unknown("no response within 3000 ms"))
        #expect(!h.verdict("availability").passed)
    }

    @Test func anIsolatedControlPlaneIsAControlPlaneFault() {
        var h = serving()
        h.fault("isolate", "eu")
        h.fault("isolate", "auth")
        h.served("dp1", "/o1/x")
        #expect(h.verdict("availability").passed)
        h.proxied("dp1", "/o1/x", 503, message: "This data plane cannot proxy yet")
        #expect(!h.verdict("availability").passed)
    }

    @Test func aChangeOfConfigurationEndsTheProof() {
        var h = serving()
        h.call("eu", "DELETE", "/v2/control-planes/cp1/core-entities/routes/r1", token: "t1", 204, [:])
        h.proxied("dp1", "/o1/x", 404, message: "no Route matched with those values")
        h.call("auth", "POST", "/v3/simulator/clock/advance", token: "support", 200, [:])
        #expect(h.verdict("availability").passed)
    }

    /// A change reaches the data plane later: what it serves just after one proves nothing (found by
    /// seed 3: served 30 ms after a support deactivation, refused once it arrived); once the bound has
    /// passed with a healthy path, it does.
    @Test func servingJustAfterAChangeProvesNothing() {
        var h = serving()
        h.call("auth", "POST", "/v3/support/organizations/org1/deactivate", token: "support", 200, [:])
        h.served("dp1", "/o1/x")
        h.refusedByDataPlane("dp1", "/o1/x")
        #expect(h.verdict("availability").passed)

        var later = serving()
        later.call("eu", "PATCH", "/v2/control-planes/cp1/core-entities/services/s1", token: "t1", 200, [:])
        later.wait(10_001)
        later.served("dp1", "/o1/x")
        later.fault("kill", "eu")
        later.proxied("dp1", "/o1/x", 404, message: "no Route matched with those values")
        #expect(!later.verdict("availability").passed)
    }

    /// The disk cache keeps what was applied long enough before a crash, not what was applied just before.
    @Test func aRestartedDataPlaneServesFromItsCache() {
        var h = serving()
        h.wait(1000)
        h.fault("kill", "dp1")
        h.fault("kill", "eu")
        h.fault("restart", "dp1")
        h.proxied("dp1", "/o1/x", 503, message: "This data plane cannot proxy yet")
        #expect(!h.verdict("availability").passed)

        var fresh = serving()
        fresh.fault("kill", "dp1")
        fresh.fault("restart", "dp1")
        fresh.proxied("dp1", "/o1/x", 503, message: "This data plane cannot proxy yet")
        #expect(fresh.verdict("availability").passed)
    }
}

@Suite struct UsageInvariantTests {
    /// org1 with dp1: `calls` answered, then a clean settle, the final observations and the views.
    func billed(_ answered: (inout HistoryBuilder) -> Void, views: [(Int64, Int64)]) -> CheckVerdict {
        var h = HistoryBuilder()
        h.organization("org1", user: "u1", token: "t1")
        h.controlPlane("cp1", name: "shop", token: "t1")
        h.dataPlane("dp1", controlPlane: "cp1", organization: "org1")
        answered(&h)
        h.settle()
        h.mark("final")
        h.settle()
        for (cycle, calls) in views { h.usage("org1", cycle: cycle, calls: calls) }
        return h.verdict("usage")
    }

    func serve(_ count: Int) -> (inout HistoryBuilder) -> Void {
        { h in for _ in 0..<count { h.served("dp1", "/o1/x") } }
    }

    @Test func exactlyTheAnsweredCallsHold() {
        #expect(billed(serve(3), views: [(0, 3)]).passed)
    }

    @Test func moreThanAnsweredIsADoubleCount() {
        let verdict = billed(serve(3), views: [(0, 4)])
        #expect(verdict.violations.first?.message.contains("double count") == true)
    }

    @Test func fewerThanAnsweredIsLostUsage() {
        let verdict = billed(serve(3), views: [(0, 2)])
        #expect(verdict.violations.first?.message.contains("lost usage") == true)
    }

    /// No route (404) and refusals are not calls; the data plane's own 502 is.
    @Test func onlyMatchedRoutesCount() {
        let answered: (inout HistoryBuilder) -> Void = { h in
            h.proxied("dp1", "/nothing", 404, message: "no Route matched with those values")
            h.refusedByDataPlane("dp1", "/o1/x")
            h.proxied("dp1", "/o1/x", 502, message: "An invalid response was received from the upstream server")
        }
        #expect(billed(answered, views: [(0, 1)]).passed)
        #expect(!billed(answered, views: [(0, 0)]).passed)
    }

    @Test func aRequestWithoutAnAnswerMayHaveCounted() {
        let answered: (inout HistoryBuilder) -> Void = { h in
            h.served("dp1", "/o1/x")
            h.add(.proxy(dataPlane: "dp1", method: "GET", path: "/o1/x"), .unknown("connection reset"))
        }
        #expect(billed(answered, views: [(0, 1)]).passed)
        #expect(billed(answered, views: [(0, 2)]).passed)
        #expect(!billed(answered, views: [(0, 3)]).passed)
    }

    /// Calls answered before a move whose settle was not clean may be billed to the next cycle: the two
    /// cycles are judged together.
    @Test func anUnsettledMoveGroupsCycles() {
        let answered: (inout HistoryBuilder) -> Void = { h in
            h.served("dp1", "/o1/x")
            h.served("dp1", "/o1/x")
            h.advance(days: 31, clean: false)
        }
        #expect(billed(answered, views: [(0, 0), (1, 2)]).passed)
        #expect(billed(answered, views: [(0, 1), (1, 1)]).passed)
        #expect(!billed(answered, views: [(0, 1), (1, 2)]).passed)
    }

    /// The calendar was unknown from a lost move on: the bill still has the call as its upper bound
    /// (found by seed 15: a call whose closing settle had no known calendar was left out).
    @Test func aCallWithAnUnknownCalendarStillBoundsTheBill() {
        let answered: (inout HistoryBuilder) -> Void = { h in
            h.served("dp1", "/o1/x")
            h.unanswered("auth", "POST", "/v3/simulator/clock/advance", token: "support", body: ["by": "31d"])
            h.calendar = nil
            h.served("dp1", "/o1/x")
        }
        #expect(billed(answered, views: [(0, 2)]).passed)
        #expect(billed(answered, views: [(0, 1), (1, 1)]).passed)
        #expect(!billed(answered, views: [(0, 2), (1, 1)]).passed)
    }

    /// Usage a data plane still holds after every fault was healed is lost, unless its organization was
    /// deleted (never billed anyway).
    @Test func usageStillHeldAtTheEndIsLost() {
        func verdict(state: String) -> CheckVerdict {
            var h = HistoryBuilder()
            h.organization("org1", user: "u1", token: "t1")
            h.controlPlane("cp1", name: "shop", token: "t1")
            h.dataPlane("dp1", controlPlane: "cp1", organization: "org1")
            h.served("dp1", "/o1/x")
            h.call("eu", "DELETE", "/v2/control-planes/cp1", token: "t1", 204, [:])
            h.mark("final")
            h.view("org1", state: state, history: [])
            h.settle(clean: false)
            h.add(.observation(subject: "dp1", state: "usage pending", details: ["pending": 1]), .done)
            h.usage("org1", cycle: 0, calls: 0)
            return h.verdict("usage")
        }
        let active = verdict(state: "active")
        #expect(
            active.violations.map(\.message) == [
                "data plane dp1 of organization org1 still holds 1 usage report it could not deliver after every fault was healed, after its control plane was deleted (lost usage)"
            ])
        #expect(verdict(state: "deleted").passed)
    }

    @Test func aCleanMoveSeparatesCycles() {
        let answered: (inout HistoryBuilder) -> Void = { h in
            h.served("dp1", "/o1/x")
            h.advance(days: 31)
            h.served("dp1", "/o1/x")
        }
        #expect(billed(answered, views: [(0, 1), (1, 1)]).passed)
        #expect(!billed(answered, views: [(0, 0), (1, 2)]).passed)
    }

    /// Calls recorded while deactivated are never billed (D3): after a deactivation attempt, only the
    /// upper bound applies.
    @Test func afterADeactivationOnlyTheUpperBoundHolds() {
        let answered: (inout HistoryBuilder) -> Void = { h in
            h.served("dp1", "/o1/x")
            h.settle()
            h.served("dp1", "/o1/x")
            h.call("auth", "POST", "/v3/organizations/me/deactivate", token: "t1", 200, [:])
        }
        #expect(billed(answered, views: [(0, 1)]).passed)
        #expect(billed(answered, views: [(0, 2)]).passed)
        #expect(!billed(answered, views: [(0, 0)]).passed)
        #expect(!billed(answered, views: [(0, 3)]).passed)
    }
}

@Suite struct CalendarInvariantTests {
    let start = SimTime.defaultStart
    let day = SimDuration.days(1)

    func verdict(state: String, history: [(String, String, SimTime)], invoices: [(SimTime, SimTime)], now: SimTime)
        -> CheckVerdict
    {
        var h = HistoryBuilder()
        h.calendar = now
        h.mark("final")
        h.view("org1", state: state, history: history)
        h.invoices("org1", invoices)
        return h.verdict("calendar")
    }

    @Test func eachElapsedCycleInvoicedOnceHolds() {
        let now = start + .days(65)
        let cycles = [(start, start + .days(30)), (start + .days(30), start + .days(60))]
        #expect(verdict(state: "active", history: [("active", "created", start)], invoices: cycles, now: now).passed)
    }

    @Test func aMissingInvoiceFails() {
        let now = start + .days(65)
        let result = verdict(
            state: "active", history: [("active", "created", start)], invoices: [(start, start + .days(30))], now: now)
        #expect(result.violations.first?.message.contains("no invoice for [2026-01-31T00:00:00Z") == true)
    }

    @Test func aDuplicatedInvoiceFails() {
        let now = start + .days(35)
        let cycle = (start, start + .days(30))
        let result = verdict(
            state: "active", history: [("active", "created", start)], invoices: [cycle, cycle], now: now)
        #expect(result.violations.contains { $0.message.contains("duplicated") })
    }

    /// A deactivation closes the open cycle at once; a reactivation bills from its moment.
    @Test func deactivationAndReactivationPeriods() {
        let history = [
            ("active", "created", start), ("inactive", "admin_deactivated", start + .days(10)),
            ("active", "reactivated", start + .days(20)),
        ]
        let invoices = [(start, start + .days(10)), (start + .days(20), start + .days(30))]
        #expect(verdict(state: "active", history: history, invoices: invoices, now: start + .days(40)).passed)
        #expect(
            !verdict(state: "active", history: history, invoices: [(start, start + .days(30))], now: start + .days(40))
                .passed)
    }

    @Test func anOverdueRetentionFails() {
        let history = [("active", "created", start), ("inactive", "support", start + .days(1))]
        let invoices = [(start, start + .days(1))]
        #expect(verdict(state: "inactive", history: history, invoices: invoices, now: start + .days(90)).passed)
        let late = verdict(state: "inactive", history: history, invoices: invoices, now: start + .days(91))
        #expect(late.violations.first?.message.contains("retention period ended") == true)
    }

    @Test func aStateHistoryOutOfOrderFails() {
        let history = [
            ("active", "created", start), ("inactive", "inactivity", start + .days(40)),
            ("inactive", "inactivity", start + .days(41)),
        ]
        let result = verdict(
            state: "inactive", history: history,
            invoices: [(start, start + .days(30)), (start + .days(30), start + .days(40))], now: start + .days(50))
        #expect(result.violations.map(\.message).contains { $0.contains("went from inactive to inactive") })
    }
}

/// `isolate` / `rejoin` (netns): an isolated host is unreachable both ways, like a partition of every link
/// touching it; a node down or paused stays so.
@Suite struct ConditionsTests {
    @Test func anIsolatedHostCutsItsNodeAndEveryLinkTouchingIt() {
        var h = HistoryBuilder()
        let isolated = h.fault("isolate", "eu")
        let killed = h.fault("kill", "eu")
        let restarted = h.fault("restart", "eu")
        let rejoined = h.fault("rejoin", "eu")
        let end = h.fault("latency", "dp2->us")
        let conditions = RunFacts(h.events).conditions
        #expect(conditions.state("eu", before: isolated) == .up)
        #expect(conditions.state("eu", before: killed) == .isolated)
        #expect(conditions.state("dp1->eu", before: killed) == .isolated)
        #expect(conditions.state("eu->auth", before: killed) == .isolated)
        #expect(conditions.state("dp2->us", before: killed) == .healthy)
        #expect(conditions.state("us", before: killed) == .up)
        #expect(conditions.state("eu", before: restarted) == .down)
        #expect(conditions.state("eu", before: rejoined) == .isolated)
        #expect(conditions.state("eu", before: end) == .up)
        #expect(conditions.state("dp1->eu", before: end) == .healthy)
        #expect(conditions.healthySince(["dp1", "eu", "dp1->eu"], before: rejoined) == nil)
        #expect(conditions.healthySince(["dp1", "eu", "dp1->eu"], before: end) == h.events[rejoined].end)
    }

    @Test func aRejoinThatFailedLeavesTheHostIsolated() {
        var h = HistoryBuilder()
        h.fault("isolate", "auth")
        h.add(.fault("rejoin", target: "auth"), .refused("ip: cannot find device"))
        let after = h.fault("heal", "*")
        let conditions = RunFacts(h.events).conditions
        #expect(conditions.state("auth", before: after) == .isolated)
        #expect(conditions.state("eu->auth", before: after) == .isolated)
    }
}
