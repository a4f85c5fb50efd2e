import Testing

@testable import KonnectCore

private func role(_ name: String, _ type: String, id: String = "*", region: String = "*") -> RoleAssignment {
    RoleAssignment(roleName: name, entityTypeName: type, entityID: id, entityRegion: region)
}

@Suite struct RoleAssignmentTests {
    @Test func defaultsCoverEveryEntityAndEveryGeo() {
        let assignment = RoleAssignment(roleName: "Admin", entityTypeName: RoleCatalog.controlPlanes)
        #expect(assignment.entityID == "*")
        #expect(assignment.entityRegion == "*")
    }

    @Test func appliesToRegion() {
        #expect(role("Admin", RoleCatalog.controlPlanes).applies(toRegion: "us"))
        #expect(role("Admin", RoleCatalog.controlPlanes).applies(toRegion: "sg"))
        #expect(role("Admin", RoleCatalog.controlPlanes, region: "eu").applies(toRegion: "eu"))
        #expect(!role("Admin", RoleCatalog.controlPlanes, region: "eu").applies(toRegion: "us"))
    }

    @Test func jsonShapeAndRoundTrip() {
        let assignment = role(
            "Viewer", RoleCatalog.controlPlanes, id: "0b6a0c3e-0000-4000-8000-000000000001", region: "au")
        #expect(
            assignment.json == [
                "role_name": "Viewer", "entity_type_name": "Control Planes",
                "entity_id": "0b6a0c3e-0000-4000-8000-000000000001", "entity_region": "au",
            ])
        #expect(RoleAssignment(json: assignment.json) == assignment)
    }

    @Test func jsonWithoutEntityFieldsDefaultsToEverything() {
        #expect(
            RoleAssignment(json: ["role_name": "Admin", "entity_type_name": "Billing"]) == role("Admin", "Billing"))
    }

    @Test(
        arguments: [
            ["entity_type_name": "Billing"], ["role_name": "Admin"], ["role_name": 1, "entity_type_name": "Billing"],
            "Admin",
        ] as [JSON])
    func jsonWithoutRoleOrTypeIsRejected(json: JSON) {
        #expect(RoleAssignment(json: json) == nil)
    }
}

/// Rule A4: the predefined roles and their assignment rules.
@Suite struct RoleCatalogTests {
    static let validPairs: [(String, String)] = RoleCatalog.rolesByEntityType.flatMap { entry in
        entry.roles.map { (entry.type, $0.name) }
    }

    @Test func theFourNamedRolesOfA4Exist() {
        let pairs = Set(Self.validPairs.map { "\($0.0)/\($0.1)" })
        #expect(
            pairs.isSuperset(of: [
                "Organization/Admin", "Control Planes/Admin", "Control Planes/Viewer", "Billing/Admin",
            ]))
        #expect(RoleCatalog.organizationAdmin == role("Admin", "Organization"))
    }

    @Test func everyCatalogRoleIsAssignableInEveryKnownGeoAndEverywhere() {
        for (type, name) in Self.validPairs {
            for region in RoleCatalog.regions + ["*"] {
                #expect(RoleCatalog.problem(with: role(name, type, region: region)) == nil, "\(type) \(name) \(region)")
            }
        }
    }

    @Test func knownGeosAreTheSixKonnectRegions() {
        #expect(RoleCatalog.regions == ["us", "eu", "au", "me", "in", "sg"])
    }

    @Test func unknownEntityTypeIsRejected() throws {
        let problem = try #require(RoleCatalog.problem(with: role("Admin", "Teams")))
        #expect(problem.field == "entity_type_name")
        #expect(problem.rule == "enum")
        #expect(problem.reason == "must be one of Organization, Billing, Control Planes, Mesh Control Planes, Portals")
    }

    @Test(arguments: [
        ("Viewer", "Organization", "must be one of Admin for Organization"),
        ("Viewer", "Billing", "must be one of Admin for Billing"),
        ("Connector", "Control Planes", "must be one of Admin, Creator, Viewer for Control Planes"),
        ("Owner", "Portals", "must be one of Admin, Viewer for Portals"),
        ("admin", "Control Planes", "must be one of Admin, Creator, Viewer for Control Planes"),
    ])
    func roleNotDefinedForTheTypeIsRejected(name: String, type: String, reason: String) {
        let problem = RoleCatalog.problem(with: role(name, type))
        #expect(problem?.field == "role_name")
        #expect(problem?.rule == "enum")
        #expect(problem?.reason == reason)
        // Kong's choice rule names the choices.
        #expect(problem?.isKongShaped == true)
    }

    @Test(arguments: ["xx", "", "US", "global", "eu,us"])
    func unknownRegionIsRejected(region: String) {
        #expect(
            RoleCatalog.problem(with: role("Admin", "Control Planes", region: region))
                == InvalidParameter(
                    field: "entity_region", rule: "enum", reason: "must be one of us, eu, au, me, in, sg, *",
                    choices: ["us", "eu", "au", "me", "in", "sg", "*"]))
    }

    @Test func catalogJSONListsRolesByEntityTypeKey() {
        let json = RoleCatalog.json
        #expect(
            json.objectValue?.keys == ["organization", "billing", "control_planes", "mesh_control_planes", "portals"])
        #expect(json.value(atPath: "control_planes.name") == "Control Planes")
        #expect(json.value(atPath: "control_planes.roles.viewer.name") == "Viewer")
        #expect(json.value(atPath: "organization.roles.admin.name") == "Admin")
        #expect(
            json.value(atPath: "mesh_control_planes.roles")?.objectValue?.keys == [
                "admin", "connector", "creator", "viewer",
            ])
        #expect(json.value(atPath: "billing.roles.admin.description")?.stringValue?.isEmpty == false)
    }
}

/// Rule A4: authorization per organization and per geo.
@Suite struct PermissionsTests {
    static let geos = RoleCatalog.regions
    static let cp1 = "11111111-1111-4111-8111-111111111111"
    static let cp2 = "22222222-2222-4222-8222-222222222222"

    @Test func noAssignmentsAllowNothing() {
        let permissions = Permissions([])
        #expect(!permissions.isOrganizationAdmin)
        #expect(!permissions.canManageBilling)
        for geo in Self.geos {
            #expect(!permissions.canCreateControlPlanes(geo: geo))
            #expect(!permissions.canWriteControlPlane(nil, geo: geo))
            #expect(!permissions.canReadControlPlane(Self.cp1, geo: geo))
            #expect(!permissions.canListControlPlanes(geo: geo))
            #expect(!permissions.canWriteMesh(nil, geo: geo))
            #expect(!permissions.canReadMesh(nil, geo: geo))
            #expect(!permissions.canWritePortals(geo: geo))
            #expect(!permissions.canReadPortals(geo: geo))
        }
    }

    @Test func organizationAdminMayDoEverythingInEveryGeo() {
        let permissions = Permissions([RoleCatalog.organizationAdmin])
        #expect(permissions.isOrganizationAdmin)
        #expect(permissions.canManageBilling)
        for geo in Self.geos {
            #expect(permissions.canCreateControlPlanes(geo: geo))
            #expect(permissions.canWriteControlPlane(nil, geo: geo))
            #expect(permissions.canWriteControlPlane(Self.cp1, geo: geo))
            #expect(permissions.canReadControlPlane(Self.cp2, geo: geo))
            #expect(permissions.canListControlPlanes(geo: geo))
            #expect(permissions.canWriteMesh(nil, geo: geo))
            #expect(permissions.canReadMesh(Self.cp1, geo: geo))
            #expect(permissions.canWritePortals(geo: geo))
            #expect(permissions.canReadPortals(geo: geo))
        }
    }

    @Test func billingAdminManagesBillingOnly() {
        let permissions = Permissions([role("Admin", "Billing")])
        #expect(permissions.canManageBilling)
        #expect(!permissions.isOrganizationAdmin)
        #expect(!permissions.canListControlPlanes(geo: "us"))
        #expect(!permissions.canReadControlPlane(nil, geo: "us"))
        #expect(!permissions.canReadPortals(geo: "us"))
    }

    @Test func controlPlaneAdminEverywhere() {
        let permissions = Permissions([role("Admin", "Control Planes")])
        #expect(!permissions.isOrganizationAdmin)
        #expect(!permissions.canManageBilling)
        for geo in Self.geos {
            #expect(permissions.canCreateControlPlanes(geo: geo))
            #expect(permissions.canWriteControlPlane(nil, geo: geo))
            #expect(permissions.canWriteControlPlane(Self.cp1, geo: geo))
            #expect(permissions.canReadControlPlane(Self.cp1, geo: geo))
            #expect(permissions.canListControlPlanes(geo: geo))
            #expect(!permissions.canWriteMesh(nil, geo: geo))
            #expect(!permissions.canReadPortals(geo: geo))
        }
    }

    @Test func controlPlaneViewerReadsButNeverWrites() {
        let permissions = Permissions([role("Viewer", "Control Planes")])
        #expect(permissions.canReadControlPlane(nil, geo: "us"))
        #expect(permissions.canReadControlPlane(Self.cp1, geo: "eu"))
        #expect(permissions.canListControlPlanes(geo: "au"))
        #expect(!permissions.canWriteControlPlane(Self.cp1, geo: "us"))
        #expect(!permissions.canWriteControlPlane(nil, geo: "us"))
        #expect(!permissions.canCreateControlPlanes(geo: "us"))
    }

    @Test func controlPlaneCreatorCreatesButNeitherWritesNorReadsOthers() {
        let permissions = Permissions([role("Creator", "Control Planes")])
        #expect(permissions.canCreateControlPlanes(geo: "us"))
        #expect(permissions.canListControlPlanes(geo: "us"))
        #expect(!permissions.canWriteControlPlane(Self.cp1, geo: "us"))
        #expect(!permissions.canReadControlPlane(Self.cp1, geo: "us"))
    }

    @Test(arguments: ["Admin", "Viewer", "Creator"])
    func roleForAnotherGeoGrantsNothingHere(name: String) {
        // A4: entity_region "eu" applies in eu only.
        let permissions = Permissions([role(name, "Control Planes", region: "eu")])
        for geo in Self.geos where geo != "eu" {
            #expect(!permissions.canCreateControlPlanes(geo: geo))
            #expect(!permissions.canWriteControlPlane(nil, geo: geo))
            #expect(!permissions.canWriteControlPlane(Self.cp1, geo: geo))
            #expect(!permissions.canReadControlPlane(nil, geo: geo))
            #expect(!permissions.canReadControlPlane(Self.cp1, geo: geo))
            #expect(!permissions.canListControlPlanes(geo: geo))
        }
        #expect(permissions.canListControlPlanes(geo: "eu"))
    }

    @Test func regionalAdminActsInItsGeo() {
        let permissions = Permissions([role("Admin", "Control Planes", region: "eu")])
        #expect(permissions.canCreateControlPlanes(geo: "eu"))
        #expect(permissions.canWriteControlPlane(Self.cp1, geo: "eu"))
        #expect(!permissions.canWriteControlPlane(Self.cp1, geo: "us"))
    }

    @Test func entitySpecificAdminCoversThatControlPlaneOnly() {
        let permissions = Permissions([role("Admin", "Control Planes", id: Self.cp1)])
        #expect(permissions.canWriteControlPlane(Self.cp1, geo: "us"))
        #expect(permissions.canReadControlPlane(Self.cp1, geo: "us"))
        #expect(!permissions.canWriteControlPlane(Self.cp2, geo: "us"))
        #expect(!permissions.canReadControlPlane(Self.cp2, geo: "us"))
        // "any control plane" needs an all-entities role
        #expect(!permissions.canWriteControlPlane(nil, geo: "us"))
        #expect(!permissions.canReadControlPlane(nil, geo: "us"))
        #expect(!permissions.canCreateControlPlanes(geo: "us"))
        // the list is visible (and then filtered to readable planes)
        #expect(permissions.canListControlPlanes(geo: "us"))
    }

    @Test func entitySpecificViewerInOneGeo() {
        let permissions = Permissions([role("Viewer", "Control Planes", id: Self.cp1, region: "au")])
        #expect(permissions.canReadControlPlane(Self.cp1, geo: "au"))
        #expect(!permissions.canWriteControlPlane(Self.cp1, geo: "au"))
        #expect(!permissions.canReadControlPlane(Self.cp1, geo: "us"))
        #expect(!permissions.canReadControlPlane(Self.cp2, geo: "au"))
        #expect(!permissions.canListControlPlanes(geo: "us"))
        #expect(permissions.canListControlPlanes(geo: "au"))
    }

    @Test func assignmentsCombine() {
        // A user's own roles plus their teams' roles.
        let permissions = Permissions([
            role("Viewer", "Control Planes"), role("Admin", "Control Planes", id: Self.cp2, region: "us"),
        ])
        #expect(permissions.canReadControlPlane(Self.cp1, geo: "us"))
        #expect(!permissions.canWriteControlPlane(Self.cp1, geo: "us"))
        #expect(permissions.canWriteControlPlane(Self.cp2, geo: "us"))
        #expect(!permissions.canWriteControlPlane(Self.cp2, geo: "eu"))
    }

    @Test(arguments: [
        ("Admin", true, true), ("Creator", true, true), ("Viewer", false, true), ("Connector", false, true),
    ])
    func meshRoles(name: String, write: Bool, read: Bool) {
        let permissions = Permissions([role(name, "Mesh Control Planes")])
        #expect(permissions.canWriteMesh(nil, geo: "us") == write)
        #expect(permissions.canReadMesh(nil, geo: "us") == read)
        #expect(!permissions.canReadControlPlane(nil, geo: "us"))
    }

    @Test func meshRoleForAnotherGeoGrantsNothing() {
        let permissions = Permissions([role("Admin", "Mesh Control Planes", region: "eu")])
        #expect(!permissions.canWriteMesh(nil, geo: "us"))
        #expect(!permissions.canReadMesh(nil, geo: "us"))
        #expect(permissions.canWriteMesh(nil, geo: "eu"))
    }

    @Test func portalRoles() {
        let admin = Permissions([role("Admin", "Portals")])
        let viewer = Permissions([role("Viewer", "Portals", region: "us")])
        #expect(admin.canWritePortals(geo: "eu"))
        #expect(admin.canReadPortals(geo: "eu"))
        #expect(!viewer.canWritePortals(geo: "us"))
        #expect(viewer.canReadPortals(geo: "us"))
        #expect(!viewer.canReadPortals(geo: "eu"))
    }
}

/// Review regression: Mesh Creator creates, and only Admin changes existing Mesh control planes (A4).
@Suite struct MeshCreatorTests {
    @Test func creatorCreatesButDoesNotChangeOthers() {
        let creator = Permissions([RoleAssignment(roleName: "Creator", entityTypeName: RoleCatalog.meshControlPlanes)])
        #expect(creator.canWriteMesh(nil, geo: "eu"))
        #expect(!creator.canWriteMesh("0d1c3e5a-9b2f-4c6d-8e0a-1b3c5d7e9f11", geo: "eu"))
        #expect(creator.canReadMesh("0d1c3e5a-9b2f-4c6d-8e0a-1b3c5d7e9f11", geo: "eu"))
    }
}
