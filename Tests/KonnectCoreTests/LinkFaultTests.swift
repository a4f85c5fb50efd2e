import Testing

@testable import KonnectCore

@Suite struct LinkFaultTests {
    @Test func defaultFaultIsNone() {
        #expect(LinkFault().isNone)
        #expect(!LinkFault(partitioned: true).isNone)
        #expect(!LinkFault(latencyMilliseconds: 1).isNone)
        #expect(!LinkFault(jitterMilliseconds: 1).isNone)
        #expect(!LinkFault(dropPartsPerMillion: 1).isNone)
    }

    @Test func linkNamesAreFromArrowTo() {
        #expect(LinkFault.linkName(from: "eu", to: "auth") == "eu->auth")
        #expect(LinkFault.linkName(from: "dp1", to: "eu") == "dp1->eu")
    }

    @Test func jsonShape() {
        let fault = LinkFault(
            partitioned: true, latencyMilliseconds: 250, jitterMilliseconds: 50, dropPartsPerMillion: 10_000)
        #expect(fault.json == ["partitioned": true, "latency_ms": 250, "jitter_ms": 50, "drop_ppm": 10_000])
    }

    @Test(arguments: [
        LinkFault(), LinkFault(partitioned: true), LinkFault(latencyMilliseconds: 1500, jitterMilliseconds: 300),
        LinkFault(partitioned: true, latencyMilliseconds: 1, jitterMilliseconds: 2, dropPartsPerMillion: 1_000_000),
    ])
    func jsonRoundTrip(fault: LinkFault) throws {
        #expect(LinkFault(json: fault.json) == fault)
        #expect(LinkFault(json: try JSONParser.parse(fault.json.bytes)) == fault)
    }

    @Test(arguments: [
        (LinkFault(), LinkCondition.healthy, "healthy"),
        (LinkFault(partitioned: true, latencyMilliseconds: 50), .partitioned, "partitioned, latency 50ms+0ms"),
        (LinkFault(latencyMilliseconds: 50, dropPartsPerMillion: 250_000), .dropping, "latency 50ms+0ms, drop 25.0%"),
        (LinkFault(jitterMilliseconds: 20), .slowed, "latency 0ms+20ms"),
    ])
    func conditionNamesTheStrongestFault(fault: LinkFault, condition: LinkCondition, summary: String) {
        #expect(fault.condition == condition)
        #expect(fault.summary == summary)
    }

    @Test func missingMembersMeanNoFault() {
        #expect(LinkFault(json: JSON.object(JSONObject())) == LinkFault())
        #expect(LinkFault(json: ["latency_ms": 20]) == LinkFault(latencyMilliseconds: 20))
        #expect(LinkFault(json: "not an object") == LinkFault())
    }
}

@Suite struct FaultPlanTests {
    static let plan = FaultPlan(
        seed: 0xFFFF_FFFF_FFFF_FFF0,  // beyond Int64.max: stored as its bit pattern
        links: [
            "eu->auth": LinkFault(partitioned: true),
            "dp1->eu": LinkFault(latencyMilliseconds: 100, jitterMilliseconds: 20, dropPartsPerMillion: 5),
        ])

    @Test func jsonListsLinksSortedByName() {
        let json = Self.plan.json
        #expect(json["links"]?.objectValue?.keys == ["dp1->eu", "eu->auth"])
        #expect(json["seed"] == .int(Int64(bitPattern: 0xFFFF_FFFF_FFFF_FFF0)))
    }

    @Test func jsonRoundTripThroughText() throws {
        let text = Self.plan.json.text
        #expect(FaultPlan(json: try JSONParser.parse(text)) == Self.plan)
        #expect(FaultPlan(json: Self.plan.json) == Self.plan)
    }

    @Test func emptyPlanRoundTrips() {
        #expect(FaultPlan(json: FaultPlan().json) == FaultPlan())
        #expect(FaultPlan(json: JSON.object(JSONObject())) == FaultPlan())
    }

    @Test func updateAddsAndChangesALink() {
        var plan = FaultPlan()
        plan.update("eu->auth") { $0.latencyMilliseconds = 300 }
        #expect(plan.links == ["eu->auth": LinkFault(latencyMilliseconds: 300)])
        plan.update("eu->auth") { $0.partitioned = true }
        #expect(plan.links == ["eu->auth": LinkFault(partitioned: true, latencyMilliseconds: 300)])
    }

    @Test func updateToNoFaultRemovesTheLink() {
        var plan = Self.plan
        plan.update("eu->auth") { $0.partitioned = false }
        #expect(plan.links["eu->auth"] == nil)
        #expect(plan.links.count == 1)
        plan.update("dp1->eu") { $0 = LinkFault() }
        #expect(plan.links.isEmpty)
    }

    @Test func updateThatChangesNothingOnAnUnknownLinkAddsNothing() {
        var plan = FaultPlan()
        plan.update("us->auth") { _ in }
        #expect(plan.links.isEmpty)
    }
}

@Suite struct SeededRandomTests {
    @Test func sameSeedGivesTheSameSequence() {
        var first = SeededRandom(seed: 12_345)
        var second = SeededRandom(seed: 12_345)
        let a = (0..<100).map { _ in first.next() }
        let b = (0..<100).map { _ in second.next() }
        #expect(a == b)
    }

    @Test func differentSeedsDiffer() {
        var first = SeededRandom(seed: 1)
        var second = SeededRandom(seed: 2)
        #expect((0..<10).map { _ in first.next() } != (0..<10).map { _ in second.next() })
    }

    @Test func knownSplitMix64Outputs() {
        // Reference values of SplitMix64 seeded with 0.
        var random = SeededRandom(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(random.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func derivedRandomValuesAreRepeatable() {
        var first = SeededRandom(seed: 99)
        var second = SeededRandom(seed: 99)
        let a = (0..<50).map { _ in Int.random(in: 0...1000, using: &first) }
        let b = (0..<50).map { _ in Int.random(in: 0...1000, using: &second) }
        #expect(a == b)
        #expect(Set(a).count > 30)  // not stuck on one value
    }

    @Test func fnv1aHash() {
        #expect(SeededRandom.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(SeededRandom.hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(SeededRandom.hash("foobar") == 0x8594_4171_f739_67e8)
        #expect(SeededRandom.hash("eu->auth") == SeededRandom.hash("eu->auth"))
        #expect(SeededRandom.hash("eu->auth") != SeededRandom.hash("auth->eu"))
    }
}
