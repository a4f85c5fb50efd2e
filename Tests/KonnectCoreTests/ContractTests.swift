import Testing

@testable import KonnectCore

/// Every node-to-node message survives its own encoding (through bytes, as on the wire), and a
/// message that is not what the other side expects is an error naming the field, never a default.
@Suite struct ContractTests {
    static let now = SimTime(iso8601: "2026-03-04T05:06:07Z")!
    static let license: JSON = ["id": "lic-1", "product": "kong-gateway-enterprise", "payload": ["x": 1]]

    /// Encodes, writes to bytes, parses and decodes again.
    private func wire(_ json: JSON) throws -> JSON { try JSONParser.parse(json.bytes) }

    static let introspection = Introspection(
        user: .init(id: "u-1", email: "ana@example.com", fullName: "Ana"),
        organization: .init(id: "o-1", name: "Acme", state: .active, plan: .plus, ownerID: "u-1", homeGeo: "eu"),
        roles: [
            RoleAssignment(roleName: "Admin", entityTypeName: "Organization"),
            RoleAssignment(roleName: "Creator", entityTypeName: "Control Planes", entityRegion: "us"),
        ], tokenKind: .personalAccessToken, now: now, gatewayLicense: license, meshLicense: .null)

    @Test func introspectionRoundTrips() throws {
        #expect(try Introspection(json: wire(Self.introspection.json)) == Self.introspection)
        let request = IntrospectionRequest(tokens: ["kpat_abc", "kses_def"])
        #expect(try IntrospectionRequest(json: wire(request.json)) == request)
    }

    static let refusal = APIError(
        status: 401, title: "Organization Deactivated", detail: "Organization o-1 is deactivated",
        extra: JSONObject([("reason", "organization_deactivated"), ("organization_state", "inactive")]))

    @Test func introspectionAnswersRoundTripEachAnIntrospectionOrAProblem() throws {
        let answers = IntrospectionAnswers(answers: [
            .introspection(Self.introspection), .refused(Self.refusal),
            .refused(APIError(status: 401, title: "Unauthenticated", detail: "The token is invalid")),
            .refused(APIError(status: 500, detail: "The auth node could not read its database")),
        ])
        #expect(try IntrospectionAnswers(json: wire(answers.json)) == answers)
        #expect(try IntrospectionAnswers(json: wire(IntrospectionAnswers(answers: []).json)).answers.isEmpty)
    }

    @Test func introspectionAnswersThatAreNeitherAreAnErrorNamingTheAnswer() throws {
        let refused = try #require(IntrospectionAnswers(answers: [.refused(Self.refusal)]).json["answers"]?[0])
        var broken = Self.introspection.json
        broken["organization"]?["id"] = nil
        let json: JSON = ["answers": [refused, ["introspection": broken]]]
        let missing = #expect(throws: ContractError.self) { try IntrospectionAnswers(json: json) }
        #expect(missing?.problems.map(\.field) == ["answers[1].introspection.organization.id"])
        for answer: JSON in [
            ["refused": ["status": 200, "title": "OK", "detail": "fine"]], ["refused": ["status": 401]],
            ["introduction": [:]], "401",
        ] {
            let error = #expect(throws: ContractError.self) { try IntrospectionAnswers(json: ["answers": [answer]]) }
            #expect(error?.problems.map(\.field) == ["answers[0]"], "\(answer)")
        }
        #expect(throws: ContractError.self) { try IntrospectionAnswers(json: ["answers": "all fine"]) }
        #expect(throws: ContractError.self) { try IntrospectionAnswers(json: [:]) }
    }

    @Test func anIntrospectionRequestCarriesOneToSixtyFourTokensTheAuthNodeCanRead() throws {
        let sixtyFour = (0..<64).map { "kses_\($0)" }
        #expect(try IntrospectionRequest(json: IntrospectionRequest(tokens: sixtyFour).json).tokens == sixtyFour)
        for tokens in [[], sixtyFour + ["kses_64"], [""], [String(repeating: "k", count: 1025)]] {
            #expect(throws: ContractError.self, "\(tokens.count)") {
                try IntrospectionRequest(json: IntrospectionRequest(tokens: tokens).json)
            }
        }
        #expect(throws: ContractError.self) { try IntrospectionRequest(json: ["token": "kses_1"]) }
        #expect(throws: ContractError.self) { try IntrospectionRequest(json: ["tokens": [1]]) }
    }

    @Test func aTokenTooLongOrEmptyToAskAboutGetsTheSame400OnEitherSide() throws {
        #expect(IntrospectionRequest.problem(token: "kses_abc") == nil)
        #expect(IntrospectionRequest.problem(token: String(repeating: "é", count: 1024)) == nil)
        let long = try #require(IntrospectionRequest.problem(token: String(repeating: "k", count: 1025)))
        #expect(long.status == 400)
        #expect(long.detail == "Invalid introspection request: check token")
        #expect(long.invalidParameters.map(\.rule) == ["max_length"])
        #expect(IntrospectionRequest.problem(token: "")?.invalidParameters.map(\.rule) == ["min_length"])
    }

    @Test(arguments: ["organization.id", "user.id", "now", "token_kind", "roles", "gateway_license"])
    func introspectionWithoutAFieldIsAnErrorNamingIt(path: String) throws {
        var json = Self.introspection.json
        let parts = path.split(separator: ".").map(String.init)
        if parts.count == 2 {
            json[parts[0]]?[parts[1]] = nil
        } else {
            json[parts[0]] = nil
        }
        let error = #expect(throws: ContractError.self) { try Introspection(json: json) }
        #expect(error?.problems.map(\.field).contains(path) == true)
        #expect(error?.description.contains(path) == true)
    }

    @Test func introspectionWithARenamedOrganizationIDIsRejected() throws {
        var json = Self.introspection.json
        json["organization"]?["id"] = nil
        json["organization"]?["org_id"] = "o-1"
        #expect(throws: ContractError.self) { try Introspection(json: json) }
        json = Self.introspection.json
        json["organization"]?["id"] = ""
        #expect(throws: ContractError.self) { try Introspection(json: json) }
        json = Self.introspection.json
        json["organization"]?["state"] = "frozen"
        #expect(throws: ContractError.self) { try Introspection(json: json) }
        json = Self.introspection.json
        json["roles"] = [["role_name": "Admin"]]
        #expect(throws: ContractError.self) { try Introspection(json: json) }
    }

    @Test func creatorRoleMessagesRoundTrip() throws {
        let request = CreatorRoleRequest(organizationID: "o-1", userID: "u-2", controlPlaneID: "cp-1", geo: "us")
        #expect(try CreatorRoleRequest(json: wire(request.json)) == request)
        #expect(
            request.assignment
                == RoleAssignment(
                    roleName: "Admin", entityTypeName: "Control Planes", entityID: "cp-1", entityRegion: "us"))
        let receipt = CreatorRoleReceipt(assignmentID: "ra-1", role: request.assignment, created: true)
        #expect(try CreatorRoleReceipt(json: wire(receipt.json)) == receipt)
    }

    @Test(arguments: ["organization_id", "user_id", "control_plane_id", "geo"])
    func creatorRoleRequestWithoutAFieldIsAnErrorNamingIt(field: String) throws {
        var json = CreatorRoleRequest(organizationID: "o-1", userID: "u-2", controlPlaneID: "cp-1", geo: "us").json
        json[field] = nil
        let error = #expect(throws: ContractError.self) { try CreatorRoleRequest(json: json) }
        #expect(error?.problems.map(\.field).contains(field) == true)
        json[field] = ""
        #expect(throws: ContractError.self) { try CreatorRoleRequest(json: json) }
    }

    @Test func creatorRoleMessagesRefuseWhatTheyDoNotHold() throws {
        var request = CreatorRoleRequest(organizationID: "o-1", userID: "u-2", controlPlaneID: "cp-1", geo: "us").json
        request["geo"] = "mars"
        #expect(throws: ContractError.self) { try CreatorRoleRequest(json: request) }
        let receipt = CreatorRoleReceipt(
            assignmentID: "ra-1", role: RoleAssignment(roleName: "Admin", entityTypeName: "Control Planes"),
            created: false
        ).json
        for field in ["assignment_id", "role", "created"] {
            var json = receipt
            json[field] = nil
            #expect(throws: ContractError.self) { try CreatorRoleReceipt(json: json) }
        }
        var json = receipt
        json["role"] = ["entity_type_name": "Control Planes"]
        #expect(throws: ContractError.self) { try CreatorRoleReceipt(json: json) }
    }

    static let events: [OutboxEvent] = [
        OutboxEvent(seq: 1, organizationID: "o-1", at: now, kind: .deactivated(reason: "admin_deactivated")),
        OutboxEvent(
            seq: 2, organizationID: "o-1", at: now, kind: .reactivated(gatewayLicense: license, meshLicense: .null)),
        OutboxEvent(seq: 3, organizationID: "o-1", at: now, kind: .deleted),
    ]

    @Test func outboxEventsAndTheirFeedRoundTrip() throws {
        for event in Self.events {
            #expect(try OutboxEvent(json: wire(event.json)) == event)
            #expect(try OutboxEvent.Kind(name: event.kind.name, payload: event.kind.payload) == event.kind)
        }
        let feed = EventFeed(events: Self.events, now: Self.now)
        #expect(try EventFeed(json: wire(feed.json)) == feed)
        #expect(try EventFeed(json: ["events": [], "now": .string(Self.now.iso8601)]).events.isEmpty)
    }

    @Test func anEventKindNobodyKnowsIsAnErrorNotASkip() throws {
        var json = Self.events[0].json
        json["kind"] = "organization.renamed"
        let error = #expect(throws: ContractError.self) { try OutboxEvent(json: json) }
        #expect(error?.problems.first?.field == "kind")
        #expect(error?.description.contains("organization.renamed") == true)
        // One bad event makes the whole feed fail: a geo must not advance its cursor past it.
        var feed = EventFeed(events: Self.events, now: Self.now).json
        feed["events"] = .array([Self.events[0].json, json])
        #expect(throws: ContractError.self) { try EventFeed(json: feed) }
    }

    @Test func aDeactivationWithoutReasonOrAnEventWithoutSeqIsRejected() throws {
        #expect(throws: ContractError.self) { try OutboxEvent.Kind(name: "organization.deactivated", payload: [:]) }
        var json = Self.events[2].json
        json["seq"] = 0
        #expect(throws: ContractError.self) { try OutboxEvent(json: json) }
        json["seq"] = "3"
        #expect(throws: ContractError.self) { try OutboxEvent(json: json) }
    }

    static let records: [UsageRecord] = [
        .serviceStarted(organizationID: "o", controlPlaneID: "cp", serviceID: "s", name: "orders", at: now),
        .serviceEnded(organizationID: "o", controlPlaneID: "cp", serviceID: "s", at: now),
        .portalPublished(organizationID: "o", portalID: "p", name: "portal", at: now),
        .portalUnpublished(organizationID: "o", portalID: "p", at: now),
        .apiCalls(organizationID: "o", controlPlaneID: "cp", nodeID: "n", count: 42, at: now),
        .apiCalls(organizationID: "o", controlPlaneID: "cp", nodeID: "n", count: 0, at: nil),
    ]

    @Test func usageRecordsAndBatchesRoundTrip() throws {
        for record in Self.records {
            #expect(try UsageRecord(json: wire(record.json)) == record)
            #expect(record.organizationID == "o")
        }
        let batch = UsageBatch(
            geo: "eu", records: Self.records.enumerated().map { NumberedUsageRecord(seq: Int64($0 + 1), record: $1) })
        #expect(try UsageBatch(json: wire(batch.json)) == batch)
        let receipt = UsageBatchReceipt(applied: 4, duplicates: 2)
        #expect(try UsageBatchReceipt(json: wire(receipt.json)) == receipt)
    }

    @Test func badUsageRecordsAreRejectedWithTheirPosition() throws {
        var json = Self.records[4].json
        json["count"] = .int(UsageRecord.maximumCount + 1)
        #expect(throws: ContractError.self) { try UsageRecord(json: json) }
        json["count"] = -1
        #expect(throws: ContractError.self) { try UsageRecord(json: json) }
        json = Self.records[0].json
        json["type"] = "service_paused"
        #expect(throws: ContractError.self) { try UsageRecord(json: json) }
        json = Self.records[0].json
        json["at"] = "yesterday"
        #expect(throws: ContractError.self) { try UsageRecord(json: json) }
        let batch: JSON = [
            "geo": "eu", "records": [NumberedUsageRecord(seq: 1, record: Self.records[0]).json, Self.records[1].json],
        ]
        let error = #expect(throws: ContractError.self) { try UsageBatch(json: batch) }
        #expect(error?.problems.first?.field == "records[1].seq")
        #expect(error?.apiError.status == 400)
    }

    static let configuration = SyncedConfiguration(
        target: .controlPlane(id: "cp-1"), version: 7, hash: "0123456789abcdef0123456789abcdef",
        digest: ConfigurationDigest(element: Array(0..<32)),
        body: ["_format_version": "3.0", "services": [["id": "s", "name": "orders"]], "routes": []], license: license)

    @Test func syncMessagesRoundTrip() throws {
        let zone = SyncedConfiguration(
            target: .meshControlPlane(id: "m-1"), version: 2, hash: DeclarativeConfig.emptyHash, digest: .zero,
            body: ["meshes": [], "policies": []], license: .null)
        let messages: [SyncMessage] = [
            .configuration(Self.configuration), .configuration(zone),
            .decommissioned(reason: "organization deactivated"),
            .unauthorized(reason: "the credential was revoked"), .heartbeat(now: Self.now), .heartbeat(now: nil),
        ]
        for message in messages {
            #expect(try SyncMessage(json: JSONParser.parse(message.line)) == message)
        }
        // The wire shape data planes and zones have always read.
        #expect(SyncMessage.configuration(Self.configuration).json["config"]?["services"]?[0]?["name"] == "orders")
        #expect(SyncMessage.configuration(zone).json["policies"]?["meshes"] == [])
    }

    static let delta = SyncedDelta(
        target: .controlPlane(id: "cp-1"), fromVersion: 7, version: 9, hash: "fedcba9876543210fedcba9876543210",
        digest: ConfigurationDigest(element: Array(100..<132)),
        changes: ConfigurationDelta(
            upserts: [
                ConfigurationItem(
                    id: ConfigurationItemID(collection: "services", key: "s"),
                    bytes: (["id": "s", "name": "orders", "tags": ["é", "\n"]] as JSON).canonicalBytes)
            ], deletes: [ConfigurationItemID(collection: "routes", key: "r")]),
        license: license)

    @Test func deltaMessagesRoundTrip() throws {
        let zone = SyncedDelta(
            target: .meshControlPlane(id: "m-1"), fromVersion: 2, version: 2, hash: DeclarativeConfig.emptyHash,
            digest: .zero, changes: .empty, license: .null)
        var withoutHash = Self.delta
        withoutHash.hash = nil
        let hash = SyncedHash(target: .controlPlane(id: "cp-1"), version: 9, hash: "fedcba9876543210fedcba9876543210")
        let part = SyncedConfigurationPart(
            target: .controlPlane(id: "cp-1"), version: 9, index: 2, items: Self.delta.changes.upserts)
        var header = Self.configuration
        header.body = ["_format_version": "3.0"]
        header.parts = 3
        for message in [
            SyncMessage.delta(Self.delta), .delta(zone), .delta(withoutHash), .hash(hash), .configurationPart(part),
            .configuration(header),
        ] {
            #expect(try SyncMessage(json: JSONParser.parse(message.line)) == message)
            #expect(try SyncMessage(json: message.json) == message)
        }
        let json = SyncMessage.delta(Self.delta).json
        #expect(json["type"] == "delta")
        #expect(json["from_version"] == 7)
        #expect(json["upserts"]?[0]?["collection"] == "services")
        #expect(json["upserts"]?[0]?["item"]?["name"] == "orders")
        #expect(json["deletes"]?[0] == ["collection": "routes", "key": "r"])
        #expect(json["digest"]?.stringValue == Self.delta.digest.hex)
        // On the stream the hash follows the delta in its own message.
        #expect(SyncMessage.delta(withoutHash).json["hash"] == nil)
        #expect(
            SyncMessage.hash(hash).json == [
                "type": "hash", "control_plane_id": "cp-1", "version": 9, "hash": "fedcba9876543210fedcba9876543210",
            ])
        #expect(throws: ContractError.self) {
            try SyncMessage(json: ["type": "hash", "control_plane_id": "cp-1", "version": 9])
        }
    }

    @Test func aConfigurationLineFromABuildIsTheConfigurationMessage() throws {
        let content = try ConfigurationContent(
            layout: .gateway,
            items: [
                try ConfigurationLayout.gateway.item(
                    ["id": "s", "name": "orders", "x": ["b": 1, "a": 2.5]], in: "services"),
                try ConfigurationLayout.gateway.item(["id": "r", "paths": ["/o"]], in: "routes"),
            ])
        let line = SyncMessage.configurationLine(
            target: .controlPlane(id: "cp-1"), version: 4, hash: "h", digest: .zero, body: content,
            license: Self.license)
        let message = SyncMessage.configuration(
            SyncedConfiguration(
                target: .controlPlane(id: "cp-1"), version: 4, hash: "h", digest: .zero,
                body: try JSONParser.parse(content.canonicalBytes), license: Self.license))
        #expect(line == message.line)
        #expect(try SyncMessage(json: JSONParser.parse(line)) == message)
    }

    @Test func malformedDeltasAreErrorsNamingTheField() throws {
        let base = SyncMessage.delta(Self.delta).json
        let cases: [(String, (inout JSON) -> Void)] = [
            ("digest", { $0["digest"] = "not hex" }),
            ("digest", { $0["digest"] = nil }),
            ("from_version", { $0["from_version"] = nil }),
            ("upserts", { $0["upserts"] = "everything" }),
            ("upserts[0].item", { $0["upserts"] = [["collection": "services", "item": ["name": "no id"]]] }),
            ("upserts[0].collection", { $0["upserts"] = [["collection": "upstreams", "item": ["id": "u"]]] }),
            ("deletes[0].key", { $0["deletes"] = [["collection": "routes"]] }),
            ("deletes", { $0["deletes"] = nil }),
        ]
        for (field, change) in cases {
            var json = base
            change(&json)
            let error = #expect(throws: ContractError.self, "\(field)") { try SyncMessage(json: json) }
            let fields = error?.problems.map { $0.field } ?? []
            #expect(fields.contains(field), "\(field): \(fields)")
        }
    }

    @Test func malformedSyncMessagesAreErrors() throws {
        #expect(throws: ContractError.self) { try SyncMessage(json: ["type": "snapshot"]) }
        #expect(throws: ContractError.self) { try SyncMessage(json: ["type": "decommissioned"]) }
        var json = SyncMessage.configuration(Self.configuration).json
        json["version"] = "7"
        #expect(throws: ContractError.self) { try SyncMessage(json: json) }
        json = SyncMessage.configuration(Self.configuration).json
        json["config"] = nil
        let error = #expect(throws: ContractError.self) { try SyncMessage(json: json) }
        #expect(error?.problems.first?.field == "config")
    }

    @Test func dataPlaneReportsRoundTrip() throws {
        let ping = DataPlanePing(nodeID: "n-1", configHash: DeclarativeConfig.emptyHash, state: .disconnected)
        #expect(try DataPlanePing(json: wire(ping.json)) == ping)
        let zonePing = ZonePing(configHash: "abc", workloads: 3, state: .orphaned)
        #expect(try ZonePing(json: wire(zonePing.json)) == zonePing)
        let report = DataPlaneUsageReport(
            nodeID: "n-1", seq: 9,
            counts: [
                CallCount(serviceID: "s", routeID: "r", count: 3), CallCount(serviceID: "s", routeID: "r2", count: 4),
            ])
        #expect(try DataPlaneUsageReport(json: wire(report.json)) == report)
        #expect(report.total == 7)
        let receipt = DataPlaneUsageReceipt(seq: 9, accepted: false)
        #expect(try DataPlaneUsageReceipt(json: wire(receipt.json)) == receipt)
    }

    @Test func organizationObjectsRoundTrip() throws {
        let report = OrganizationObjectsReport(
            geo: "eu",
            organizations: [
                OrganizationObjects(
                    organizationID: "org-1",
                    controlPlanes: [
                        .init(id: "cp-1", name: "shop", configVersion: 3, configHash: DeclarativeConfig.emptyHash)
                    ], entities: 2, portals: 1, meshControlPlanes: 1, dataPlanes: 2, zones: 1),
                OrganizationObjects(organizationID: "org-2"),
            ])
        #expect(try OrganizationObjectsReport(json: wire(report.json)) == report)
        #expect(try OrganizationObjects(json: wire(report.organizations[0].json)) == report.organizations[0])
        #expect(report.organizations[1].isEmpty && !report.organizations[0].isEmpty)
    }

    @Test func badOrganizationObjectsAreRejected() throws {
        var json = OrganizationObjects(organizationID: "org-1").json
        json["portals"] = -1
        let error = #expect(throws: ContractError.self) {
            try OrganizationObjectsReport(json: ["geo": "eu", "organizations": [json]])
        }
        #expect(error?.problems.first?.field == "organizations[0].portals")
        json = OrganizationObjects(organizationID: "org-1").json
        json["control_planes"] = [["id": "cp-1", "name": "shop", "config_version": 1]]
        let missing = #expect(throws: ContractError.self) { try OrganizationObjects(json: json) }
        #expect(missing?.problems.first?.field == "control_planes[0].config_hash")
        #expect(throws: ContractError.self) { try OrganizationObjectsReport(json: ["geo": "eu"]) }
    }

    @Test func badDataPlaneReportsAreRejected() throws {
        #expect(throws: ContractError.self) { try DataPlanePing(json: ["node_id": "n", "config_hash": "h"]) }
        #expect(throws: ContractError.self) {
            try DataPlanePing(json: ["node_id": "n", "config_hash": "h", "state": "asleep"])
        }
        let tooMany = JSON.array(
            Array(repeating: CallCount(serviceID: "s", routeID: "r", count: 1).json, count: 10_001))
        #expect(throws: ContractError.self) {
            try DataPlaneUsageReport(json: ["node_id": "n", "seq": 1, "counts": tooMany])
        }
        let error = #expect(throws: ContractError.self) {
            try DataPlaneUsageReport(
                json: ["node_id": "n", "seq": 1, "counts": [["service_id": "s", "route_id": "r", "count": -2]]])
        }
        #expect(error?.problems.first?.field == "counts[0].count")
    }
}
