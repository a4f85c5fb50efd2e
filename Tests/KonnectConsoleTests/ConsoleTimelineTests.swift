import KonnectCluster
import KonnectCore
import KonnectScenario
import Testing

@testable import KonnectConsole

/// issue 16 (timeline): faults, lifecycle changes, configuration versions and calendar moves, live.
@Suite struct ConsoleTimelineTests {
    let t0 = 1_800_000_000_000

    @Test func theFirstStateOpensEveryLaneAndThePastFaultLog() {
        var fixture = Fixture()
        fixture.faultLog = [
            FaultLogEntry(wallMilliseconds: 1_799_999_990_000, calendarTime: nil, fault: "kill", subject: "us"),
            FaultLogEntry(
                wallMilliseconds: 1_799_999_995_000, calendarTime: nil, fault: "latency", subject: "eu->auth",
                detail: "300ms+0ms"),
        ]
        var timeline = ConsoleTimeline()
        timeline.observe(fixture.state, at: t0)
        let lanes = timeline.events.filter { $0.kind == .node }.map(\.subject)
        #expect(lanes == ["auth", "eu", "us", "up1", "dp1", "zone-1"])
        let faults = timeline.events.filter { $0.kind == .fault }
        #expect(faults.map(\.detail) == ["kill us", "latency eu->auth 300ms+0ms"])
        #expect(faults.map(\.at) == [1_799_999_990_000, 1_799_999_995_000])

        // Observing the same log again adds nothing.
        timeline.observe(fixture.state, at: t0 + 300)
        #expect(timeline.events.filter { $0.kind == .fault }.count == 2)
        #expect(timeline.events.filter { $0.kind == .node }.count == 6)
    }

    @Test func faultLogLinesAreReadWithMillisecondsOrSeconds() throws {
        let recent = try #require(
            FaultLogEntry(json: [
                "fault": "latency", "link": "eu->auth", "latency_ms": 300, "jitter_ms": 20,
                "wall_time": "2027-01-15T08:00:00Z", "wall_ms": 1_800_000_000_123,
                "calendar_time": "2026-02-01T00:00:00Z",
            ]))
        #expect(recent.wallMilliseconds == 1_800_000_000_123)
        #expect(recent.text == "latency eu->auth 300ms+20ms")
        #expect(recent.calendarTime == SimTime(year: 2026, month: 2, day: 1))
        let older = try #require(
            FaultLogEntry(json: ["fault": "kill", "node": "eu", "wall_time": "2027-01-15T08:00:00Z"]))
        #expect(older.wallMilliseconds == Int(SimTime(year: 2027, month: 1, day: 15, hour: 8).seconds) * 1000)
        #expect(older.text == "kill eu")
        #expect(FaultLogEntry(json: ["node": "eu"]) == nil)
    }

    @Test func changesBecomeLaneEventsAndMarkers() {
        var fixture = Fixture()
        var timeline = ConsoleTimeline()
        timeline.observe(fixture.state, at: t0)
        let before = timeline.events.count

        fixture.eu = .down
        fixture.euToAuth = LinkFault(partitioned: true)
        fixture.dataPlane.version = 4
        fixture.dataPlane.hash = "ffff0000aaaa"
        fixture.organizations?[0].state = "inactive"
        fixture.organizations?[0].history = [
            StateChange(state: .inactive, reason: "support_request", actor: "support", at: SimTime(seconds: 0))
        ]
        fixture.organizations?[0].objects["eu"]?.controlPlanes[0].configVersion = 4
        fixture.organizations?.append(
            OrganizationSummary(
                id: "33333333-3333-4333-8333-333333333333", name: "Initech", homeGeo: "us", plan: "plus",
                state: "active"))
        fixture.calendar = SimTime(year: 2026, month: 1, day: 31)
        fixture.faultLog = [FaultLogEntry(wallMilliseconds: nil, calendarTime: nil, fault: "kill", subject: "eu")]
        timeline.observe(fixture.state, at: t0 + 1000)

        let new = timeline.events.dropFirst(before).map {
            "\($0.kind.rawValue) \($0.detail.isEmpty ? "\($0.subject) \($0.state)" : $0.detail)"
        }
        #expect(new.contains("node eu down"))
        #expect(new.contains("link eu->auth partitioned"))
        #expect(new.contains("fault kill eu"))
        #expect(new.contains("config dp1 applied configuration v4 (hash ffff0000)"))
        #expect(new.contains("config control plane shop (Acme, eu) pushed configuration v4"))
        #expect(new.contains("lifecycle Acme: active -> inactive (support_request, by support)"))
        #expect(new.contains("lifecycle Initech created (plus, home geo us)"))
        #expect(new.contains("calendar calendar 2026-01-01T00:00:00Z -> 2026-01-31T00:00:00Z"))
        #expect(timeline.events.allSatisfy { $0.at <= t0 + 1000 })
    }

    @Test func changesMadeWhileTheAuthNodeDidNotAnswerShowOnceItDoes() {
        var fixture = Fixture()
        var timeline = ConsoleTimeline()
        timeline.observe(fixture.state, at: t0)
        let (organizations, calendar) = (fixture.organizations, fixture.calendar)
        fixture.organizations = nil
        fixture.calendar = nil
        timeline.observe(fixture.state, at: t0 + 1000)
        fixture.organizations = organizations
        fixture.organizations?[0].state = "inactive"
        fixture.calendar = calendar.map { $0 + .days(1) }
        timeline.observe(fixture.state, at: t0 + 2000)
        let markers = timeline.events.filter { $0.kind == .lifecycle || $0.kind == .calendar }
        #expect(
            markers.map(\.detail) == [
                "calendar 2026-01-01T00:00:00Z -> 2026-01-02T00:00:00Z", "Acme: active -> inactive",
            ])
        #expect(markers.allSatisfy { $0.at == t0 + 2000 })
    }

    @Test func theWindowStartsEachLaneWithItsStateThenAndDropsOlderMarkers() {
        var fixture = Fixture()
        var timeline = ConsoleTimeline()
        timeline.observe(fixture.state, at: t0)
        fixture.eu = .down
        fixture.faultLog = [
            FaultLogEntry(
                wallMilliseconds: t0 + 5_000, calendarTime: nil, fault: "kill", subject: "eu")
        ]
        timeline.observe(fixture.state, at: t0 + 5_000)
        fixture.eu = .running
        timeline.observe(fixture.state, at: t0 + 20_000)

        let (events, start) = timeline.window(now: t0 + 30_000, milliseconds: 10_000)
        #expect(start == t0 + 20_000)
        let eu = events.filter { $0.kind == .node && $0.subject == "eu" }
        #expect(eu.map(\.state) == ["up"])
        #expect(eu.map(\.at) == [0])
        #expect(!events.contains { $0.kind == .fault })

        let (all, from) = timeline.window(now: t0 + 30_000, milliseconds: 60_000)
        #expect(from == t0)
        #expect(all.filter { $0.subject == "eu" && $0.kind == .node }.map(\.state) == ["up", "down", "up"])
        #expect(all.filter { $0.kind == .fault }.map(\.at) == [5_000])
        let html = ConsolePage.timeline(timeline, now: t0 + 30_000)
        #expect(html.contains("<svg"))
        #expect(html.contains("kill eu"))
        #expect(html.contains("<ol class=\"markers\" reversed>"))
    }
}
