import KonnectCluster
import KonnectCore
import Testing

@testable import KonnectConsole

/// A small cluster as the console reads it: auth, us and eu, a data plane and a zone in eu, an upstream.
struct Fixture {
    var eu = ProcessState.running
    var dataPlane = ClusterSnapshot.SyncReport(
        state: "synced", version: 3, hash: "1a2b3c4d5e6f", target: "cp-1")
    var euToAuth = LinkFault()
    var organizations: [OrganizationSummary]? = [
        OrganizationSummary(
            id: "11111111-1111-4111-8111-111111111111", name: "Acme", homeGeo: "eu", plan: "plus", state: "active",
            trialEnd: SimTime(year: 2026, month: 1, day: 31), trialActive: true, creditsLeft: "487.50",
            creditsGranted: "500.00",
            objects: [
                "eu": OrganizationObjects(
                    organizationID: "11111111-1111-4111-8111-111111111111",
                    controlPlanes: [.init(id: "cp-1", name: "shop", configVersion: 3, configHash: "1a2b3c4d")],
                    entities: 2,
                    dataPlanes: 1),
                "us": OrganizationObjects(organizationID: "11111111-1111-4111-8111-111111111111"),
            ]),
        OrganizationSummary(
            id: "22222222-2222-4222-8222-222222222222", name: "Globex <Corp>", homeGeo: "us", plan: "enterprise",
            state: "inactive", objects: [:]),
    ]
    var calendar: SimTime? = SimTime(year: 2026, month: 1, day: 1)
    var faultLog: [FaultLogEntry] = []

    var snapshot: ClusterSnapshot {
        ClusterSnapshot(
            nodes: [
                .init(name: "auth", kind: .auth, process: .running, healthy: true),
                .init(name: "eu", kind: .geo, process: eu, healthy: eu == .running ? true : nil),
                .init(name: "us", kind: .geo, process: .running, healthy: true),
                .init(name: "up1", kind: .upstream, process: .running, healthy: true),
                .init(name: "dp1", kind: .dataPlane, process: .running, healthy: true, geo: "eu", sync: dataPlane),
                .init(
                    name: "zone-1", kind: .zone, process: .paused, geo: "eu"),
            ],
            links: [
                .init(from: "eu", to: "auth", fault: euToAuth), .init(from: "us", to: "auth"),
                .init(from: "dp1", to: "eu"), .init(from: "zone-1", to: "eu"),
            ])
    }

    var state: ConsoleState {
        ConsoleState(
            directory: "/tmp/demo", geos: ["us", "eu"], cluster: snapshot, calendar: calendar,
            organizations: organizations, faultLog: faultLog)
    }
}

/// issue 16 (topology, faults, calendar, geo isolation): the state turned into what the page draws.
@Suite struct ConsoleViewTests {
    @Test func everyNodeIsABoxColouredByItsStateInTheReportsPalette() throws {
        let view = ConsoleView(state: Fixture().state)
        #expect(view.topology.boxes.map(\.name) == ["auth", "us", "eu", "dp1", "zone-1", "up1"])
        let eu = try #require(view.topology.box("eu"))
        #expect(eu.state == "up")
        #expect(eu.color == "#2e7d32")
        let zone = try #require(view.topology.box("zone-1"))
        #expect(zone.state == "paused")
        #expect(zone.color == "#f9a825")
    }

    @Test func aKilledGeoIsDownAndLosesItsKillAndPauseButtons() throws {
        var fixture = Fixture()
        fixture.eu = .down
        let view = ConsoleView(state: fixture.state)
        let eu = try #require(view.topology.box("eu"))
        #expect(eu.state == "down")
        #expect(eu.color == "#c62828")
        let controls = try #require(view.nodes.first { $0.name == "eu" })
        #expect(!controls.canKill && !controls.canPause && !controls.canResume)
        let zone = try #require(view.nodes.first { $0.name == "zone-1" })
        #expect(zone.canKill && !zone.canPause && zone.canResume)
    }

    @Test func dataPlanesAndZonesSitUnderTheirGeoWithSyncStateVersionAndHash() throws {
        var fixture = Fixture()
        fixture.dataPlane = .init(
            state: "orphaned", version: 7, hash: "abcdef0123456789", orphanedReason: "deactivated")
        let view = ConsoleView(state: fixture.state)
        let eu = try #require(view.topology.box("eu"))
        let dp = try #require(view.topology.box("dp1"))
        #expect(dp.sync == "orphaned")
        #expect(dp.syncColor == "#6a1b9a")
        #expect(dp.version == "v7 · abcdef01")
        #expect(dp.orphanedReason == "deactivated")
        #expect(dp.y > eu.y)
        let usColumnEnd = try #require(view.topology.box("us")).centerX * 2
        #expect(dp.centerX > usColumnEnd / 2, "dp1 is drawn in eu's column, not us's")
        let edge = try #require(view.topology.edge("dp1->eu"))
        #expect((edge.x1, edge.y1) == (dp.centerX, dp.y))
        #expect((edge.x2, edge.y2) == (eu.centerX, eu.y + eu.height))
    }

    @Test(arguments: [
        (LinkFault(partitioned: true), LinkCondition.partitioned, "#c62828", "partitioned"),
        (LinkFault(latencyMilliseconds: 300), .slowed, "#fdd835", "latency 300ms+0ms"),
        (LinkFault(dropPartsPerMillion: 250_000), .dropping, "#ef6c00", "drop 25.0%"),
        (LinkFault(), .healthy, "#cfd8dc", ""),
    ])
    func linksShowTheirFaultInTheReportsColours(
        fault: LinkFault, condition: LinkCondition, color: String, label: String
    )
        throws
    {
        var fixture = Fixture()
        fixture.euToAuth = fault
        let view = ConsoleView(state: fixture.state)
        let edge = try #require(view.topology.edge("eu->auth"))
        #expect(edge.condition == condition)
        #expect(edge.color == color)
        #expect(edge.label == label)
        let row = try #require(view.links.first { $0.link == "eu->auth" })
        #expect(row.condition == condition)
    }

    @Test func eachOrganizationShowsWhatEachGeoHoldsForIt() throws {
        let view = ConsoleView(state: Fixture().state)
        #expect(view.organizations.available)
        let acme = try #require(view.organizations.rows.first { $0.name == "Acme" })
        #expect(acme.homeGeo == "eu")
        #expect(acme.plan == "Plus (free)")
        #expect(acme.trial == "until 2026-01-31")
        #expect(acme.credits == "487.50 of 500.00 USD left")
        #expect(acme.cells.map(\.geo) == ["us", "eu"])
        #expect(acme.cells.map(\.isHome) == [false, true])
        #expect(acme.cells[0].objects?.isEmpty == true)
        #expect(acme.cells[1].objects?.controlPlanes.map(\.name) == ["shop"])
        let globex = try #require(view.organizations.rows.first { $0.homeGeo == "us" })
        #expect(globex.plan == "Enterprise")
        #expect(globex.trial == "contract")
        #expect(globex.state == "inactive")
        #expect(globex.cells.allSatisfy { $0.objects == nil })
    }

    @Test func withoutTheAuthNodeOrganizationsAreUnavailable() {
        var fixture = Fixture()
        fixture.organizations = nil
        fixture.calendar = nil
        let view = ConsoleView(state: fixture.state)
        #expect(!view.organizations.available)
        #expect(view.calendar.now == nil)
        #expect(ConsolePage.organizations(view.organizations).contains("does not answer"))
        #expect(ConsolePage.calendar(view.calendar).contains("does not answer"))
    }

    @Test func theLastMoveListsWhatFellDueInvoicesAndStateChanges() throws {
        var fixture = Fixture()
        let start = SimTime(year: 2026, month: 1, day: 1)
        let end = SimTime(year: 2026, month: 3, day: 2)
        fixture.calendar = end
        fixture.organizations?[0].invoices = [
            InvoiceSummary(
                id: "inv-0", issuedAt: start + .days(30), periodStart: start, periodEnd: start + .days(30),
                total: "0.00",
                currency: "USD"),
            InvoiceSummary(
                id: "inv-old", issuedAt: start, periodStart: start - .days(30), periodEnd: start, total: "9.00",
                currency: "USD"),
        ]
        fixture.organizations?[0].history = [
            StateChange(state: .active, reason: "created", actor: "user:1", at: start),
            StateChange(state: .inactive, reason: "inactivity", actor: "system", at: start + .days(60)),
        ]
        let made = CalendarMove(
            from: start, to: end,
            report: [
                "previous": .string(start.iso8601), "now": .string(end.iso8601),
                "by_kind": ["cycle_end": 2, "inactivity": 1, "retention_end": 0],
            ])
        let view = ConsoleView(state: fixture.state, lastMove: made)
        let move = try #require(view.calendar.lastMove)
        #expect(move.madeHere)
        #expect(move.invoices == ["Acme: 0.00 USD for 2026-01-01 to 2026-01-31"])
        #expect(move.changes == ["Acme: inactive (inactivity, by system) at 2026-03-02T00:00:00Z"])
        let html = ConsolePage.calendar(view.calendar)
        #expect(html.contains("fell due: 2 cycle end, 1 inactivity"))
        #expect(!html.contains("retention"))

        let seen = ConsoleView(state: fixture.state, lastMove: CalendarMove(from: start, to: end))
        #expect(seen.calendar.lastMove?.madeHere == false)
        #expect(ConsolePage.calendar(seen.calendar).contains("made by another client"))
    }

    @Test func thePageEscapesWhatNodesAndOrganizationsAreCalledAndMarksStatesForTests() {
        let view = ConsoleView(state: Fixture().state)
        let html = ConsolePage.sections(view, timeline: "")
        #expect(html["organizations"]?.contains("Globex &lt;Corp&gt;") == true)
        #expect(html["organizations"]?.contains("<Corp>") == false)
        #expect(html["topology"]?.contains("data-node=\"eu\" data-kind=\"geo\" data-state=\"up\"") == true)
        #expect(
            html["topology"]?.contains(
                "data-node=\"dp1\" data-kind=\"dp\" data-state=\"up\" data-sync=\"synced\" data-version=\"3\"") == true)
        #expect(html["topology"]?.contains("data-link=\"eu-&gt;auth\" data-condition=\"healthy\"") == true)
        #expect(html["faults"]?.contains("data-action=\"kill\" data-node=\"eu\">") == true)
        #expect(html["faults"]?.contains("data-action=\"heal\" data-link=\"eu-&gt;auth\" disabled>") == true)
        for (_, fragment) in html {
            #expect(!fragment.contains("<script"))
            #expect(!fragment.contains("style="))
        }
    }
}
