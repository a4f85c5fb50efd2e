import Testing

@testable import KonnectCore

/// Issue 15: a control plane group's configuration is the union of its members'; colliding entities are
/// conflicts, one entry per member involved.
@Suite struct ControlPlaneGroupTests {
    func member(_ id: String, services: [JSON] = [], routes: [JSON] = [], consumers: [JSON] = [], plugins: [JSON] = [])
        -> GroupMemberConfiguration
    {
        GroupMemberConfiguration(
            controlPlaneID: id,
            config: DeclarativeConfig(services: services, routes: routes, consumers: consumers, plugins: plugins))
    }

    @Test func theUnionKeepsEveryEntityInMemberOrder() {
        let merged = ControlPlaneGroup.merge([
            member("a", services: [["id": "s1", "name": "orders"]], routes: [["id": "r1", "name": "orders"]]),
            member("b", services: [["id": "s2", "name": "billing"]], plugins: [["id": "p1", "name": "cors"]]),
        ])
        #expect(merged.conflicts.isEmpty)
        #expect(merged.config.services == [["id": "s1", "name": "orders"], ["id": "s2", "name": "billing"]])
        #expect(merged.config.routes.count == 1)
        #expect(merged.config.plugins.count == 1)
        #expect(ControlPlaneGroup.merge([]).config.isEmpty)
    }

    @Test func aNameUsedByTwoMembersIsAConflictListedForEach() {
        let merged = ControlPlaneGroup.merge([
            member("a", services: [["id": "s1", "name": "svc1"]]),
            member("b", services: [["id": "s2", "name": "svc1"]]),
            member("c", services: [["id": "s3", "name": "other"]]),
        ])
        #expect(
            merged.conflicts == [
                GroupConflict(controlPlaneID: "a", kind: .service, entityID: "s1", name: "svc1"),
                GroupConflict(controlPlaneID: "b", kind: .service, entityID: "s2", name: "svc1"),
            ])
        #expect(
            merged.conflicts[0].json
                == [
                    "cluster_id": "a", "description": "conflicting entity found: ID=s1, Name=svc1",
                    "resource": ["id": "s1", "type": "service"],
                ])
    }

    static let collisionCases: [(GatewayEntityKind, JSON, JSON)] = [
        (.consumer, ["id": "c1", "username": "ana"], ["id": "c2", "username": "ana"]),
        (.consumer, ["id": "c1", "custom_id": "x"], ["id": "c2", "custom_id": "x"]),
        (.route, ["id": "r1"], ["id": "r1"]),
        (.plugin, ["id": "p1", "name": "cors"], ["id": "p2", "name": "cors"]),
        (
            .plugin, ["id": "p1", "name": "cors", "instance_name": "i"],
            ["id": "p2", "name": "acl", "instance_name": "i"]
        ),
    ]

    @Test(arguments: collisionCases)
    func collisions(kind: GatewayEntityKind, first: JSON, second: JSON) {
        func config(_ body: JSON) -> GroupMemberConfiguration {
            switch kind {
            case .service: member("x", services: [body])
            case .route: member("x", routes: [body])
            case .consumer: member("x", consumers: [body])
            case .plugin: member("x", plugins: [body])
            }
        }
        var a = config(first)
        a.controlPlaneID = "a"
        var b = config(second)
        b.controlPlaneID = "b"
        let conflicts = ControlPlaneGroup.merge([a, b]).conflicts
        #expect(conflicts.map(\.controlPlaneID) == ["a", "b"], "\(first.text) / \(second.text)")
        #expect(conflicts.allSatisfy { $0.kind == kind })
    }

    @Test func pluginsOfOneNameOnDifferentScopesDoNotCollide() {
        let merged = ControlPlaneGroup.merge([
            member("a", plugins: [["id": "p1", "name": "cors", "service": ["id": "s1"]]]),
            member("b", plugins: [["id": "p2", "name": "cors", "service": ["id": "s2"]]]),
        ])
        #expect(merged.conflicts.isEmpty)
    }

    @Test func entitiesOfOneMemberNeverConflictWithEachOther() {
        // A member's own store keeps its names unique; a same-name pair inside one member is not a group conflict.
        let merged = ControlPlaneGroup.merge([
            member("a", services: [["id": "s1", "name": "n"], ["id": "s2", "name": "n"]])
        ])
        #expect(merged.conflicts.isEmpty)
    }
}
