import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import Testing

// MARK: - Mesh helpers

extension TestCluster {
    /// Creates a Mesh global control plane; returns its id.
    func mzControlPlane(_ name: String, geo: String = "eu", token: String) throws -> String {
        try expect(201, geo, "POST", "/v0/mesh/control-planes", ["name": .string(name)], token: token)["id"]?
            .stringValue ?? ""
    }

    /// PUTs a mesh or a policy under `/v0/mesh/control-planes/{id}/api/meshes/...`.
    @discardableResult
    func mzPut(
        _ meshControlPlane: String, _ path: String, _ body: JSON, geo: String = "eu", token: String,
        expecting status: Int = 201
    ) throws -> JSON {
        try expect(
            status, geo, "PUT", "/v0/mesh/control-planes/\(meshControlPlane)/api/meshes/\(path)", body, token: token)
    }

    /// Mesh "default" with a traffic permission and a timeout: version 4 of the global control plane.
    func mzDefaultPolicies(_ meshControlPlane: String, geo: String = "eu", token: String) throws {
        try mzPut(meshControlPlane, "default", ["type": "Mesh", "name": "default"], geo: geo, token: token)
        try mzPut(
            meshControlPlane, "default/meshtrafficpermissions/allow-all",
            [
                "type": "MeshTrafficPermission", "name": "allow-all", "mesh": "default",
                "spec": [
                    "targetRef": ["kind": "Mesh"],
                    "from": [["targetRef": ["kind": "Mesh"], "default": ["action": "Allow"]]],
                ],
            ], geo: geo, token: token)
        try mzPut(
            meshControlPlane, "default/meshtimeouts/short",
            [
                "type": "MeshTimeout", "name": "short", "mesh": "default",
                "spec": [
                    "targetRef": ["kind": "Mesh"],
                    "to": [["targetRef": ["kind": "Mesh"], "default": ["idleTimeout": "20s"]]],
                ],
            ], geo: geo, token: token)
    }

    /// A MeshRetry policy (one more version).
    func mzRetry(
        _ meshControlPlane: String, name: String = "retry-5xx", geo: String = "eu", token: String,
        expecting status: Int = 201
    ) throws {
        try mzPut(
            meshControlPlane, "default/meshretries/\(name)",
            [
                "type": "MeshRetry", "name": .string(name), "mesh": "default",
                "spec": [
                    "targetRef": ["kind": "Mesh"],
                    "to": [["targetRef": ["kind": "Mesh"], "default": ["http": ["numRetries": 3]]]],
                ],
            ], geo: geo, token: token, expecting: status)
    }

    func mzStartZone(_ name: String, meshControlPlane: String, geo: String = "eu") throws {
        do {
            try cluster.startZone(name: name, geo: geo, meshControlPlane: meshControlPlane)
        } catch {
            throw ProcessTestFailure(message: "zone \(name) did not start: \(error)\n\(allLogs())")
        }
    }

    /// Waits until a zone is synced on this policy version, with its hash (which follows a delta).
    func mzWaitForVersion(_ zone: String, _ version: Int64, timeout: Double = 5) throws {
        try waitUntil("\(zone) is synced on policies version \(version)", timeout: timeout) {
            let status = try dataPlaneStatus(zone)
            return status["state"]?.stringValue == "synced" && status["policies"]?["version"]?.intValue == version
                && status["policies"]?["hash"]?.stringValue != nil
        }
    }

    /// What the zone serves to its workloads.
    func mzServed(_ zone: String) throws -> JSON {
        let response = try unix(zone).send("GET", "/policies")
        guard response.status == 200, let body = response.json else {
            throw ProcessTestFailure(message: "\(zone) /policies answered \(response.status)")
        }
        return body
    }

    /// Registers a workload (a mesh data plane) with a zone.
    func mzWorkload(_ zone: String, _ name: String, mesh: String = "default") throws {
        let response = try unix(zone).json("POST", "/workloads", ["name": .string(name), "mesh": .string(mesh)])
        guard response.status == 201 else {
            throw ProcessTestFailure(message: "workload \(name) on \(zone): \(response.status) \(response.text)")
        }
    }
}

extension ProcessTests {
    /// Kong Mesh global control planes in the geo and zone control planes that outlive them (issue 8:
    /// D3, D5, D6, P3).
    @Suite struct Mesh {
        @Test("issue 8, T3: Mesh global control plane CRUD; a geo object invisible from other geos")
        func meshControlPlaneCRUD() throws {
            let cluster = try TestCluster(geos: ["us", "eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let created = try cluster.expect(
                201, "eu", "POST", "/v0/mesh/control-planes",
                [
                    "name": "mesh-global", "description": "the global one", "labels": ["team": "platform"],
                ], token: token)
            let id = try #require(created["id"]?.stringValue)
            #expect(created["name"]?.stringValue == "mesh-global")
            #expect(created["description"]?.stringValue == "the global one")
            #expect(created["labels"]?["team"]?.stringValue == "platform")
            #expect(created["created_at"]?.stringValue == "2026-01-01T00:00:00Z")
            try cluster.expect(409, "eu", "POST", "/v0/mesh/control-planes", ["name": "mesh-global"], token: token)
            try cluster.expect(400, "eu", "POST", "/v0/mesh/control-planes", ["description": "no name"], token: token)
            try cluster.expect(401, "eu", "GET", "/v0/mesh/control-planes")

            var list = try cluster.expect(200, "eu", "GET", "/v0/mesh/control-planes", token: token)
            #expect(list["data"]?.arrayValue?.map { $0["id"]?.stringValue } == [id])
            #expect(
                try cluster.expect(200, "eu", "GET", "/v0/mesh/control-planes/\(id)", token: token)["name"]?.stringValue
                    == "mesh-global")
            let patched = try cluster.expect(
                200, "eu", "PATCH", "/v0/mesh/control-planes/\(id)",
                ["description": "renamed", "labels": ["env": "prod"]], token: token)
            #expect(patched["description"]?.stringValue == "renamed")
            #expect(patched["labels"]?["env"]?.stringValue == "prod")

            // A geo object (T3): 404 from us, and another organization sees nothing.
            try cluster.expect(404, "us", "GET", "/v0/mesh/control-planes/\(id)", token: token)
            #expect(
                try cluster.expect(200, "us", "GET", "/v0/mesh/control-planes", token: token)["data"]?.arrayValue?
                    .isEmpty == true)
            let (other, _) = try cluster.newOrganization("bo@example.com", organization: "Other")
            try cluster.expect(404, "eu", "GET", "/v0/mesh/control-planes/\(id)", token: other)

            try cluster.expect(204, "eu", "DELETE", "/v0/mesh/control-planes/\(id)", token: token)
            try cluster.expect(404, "eu", "GET", "/v0/mesh/control-planes/\(id)", token: token)
            list = try cluster.expect(200, "eu", "GET", "/v0/mesh/control-planes", token: token)
            #expect(list["data"]?.arrayValue?.isEmpty == true)
        }

        @Test("issue 8: meshes and traffic permission / timeout / retry policies")
        func meshesAndPolicies() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let mesh = try cluster.mzControlPlane("mesh-global", token: token)
            let api = "/v0/mesh/control-planes/\(mesh)/api/meshes"

            // A policy needs its mesh first.
            try cluster.mzPut(
                mesh, "default/meshtimeouts/short",
                [
                    "type": "MeshTimeout", "name": "short", "mesh": "default", "spec": ["targetRef": ["kind": "Mesh"]],
                ], token: token, expecting: 404)
            try cluster.mzDefaultPolicies(mesh, token: token)
            try cluster.mzPut(
                mesh, "default", ["type": "Mesh", "name": "default", "labels": ["env": "prod"]], token: token,
                expecting: 200)
            try cluster.mzRetry(mesh, token: token)
            #expect(try cluster.expect(200, "eu", "GET", api, token: token)["total"]?.intValue == 1)
            for (collection, type) in [
                ("meshtrafficpermissions", "MeshTrafficPermission"), ("meshtimeouts", "MeshTimeout"),
                ("meshretries", "MeshRetry"),
            ] {
                let items = try cluster.expect(200, "eu", "GET", "\(api)/default/\(collection)", token: token)
                #expect(items["total"]?.intValue == 1)
                #expect(items["items"]?[0]?["type"]?.stringValue == type)
                #expect(items["items"]?[0]?["mesh"]?.stringValue == "default")
            }
            let timeout = try cluster.expect(200, "eu", "GET", "\(api)/default/meshtimeouts/short", token: token)
            #expect(timeout["spec"]?["to"]?[0]?["default"]?["idleTimeout"]?.stringValue == "20s")
            #expect(timeout["creationTime"]?.stringValue != nil)

            // Validation: the type and name must match the path, the collection must exist, spec is required.
            try cluster.mzPut(
                mesh, "default/meshtimeouts/other",
                ["type": "MeshRetry", "name": "other", "spec": ["targetRef": ["kind": "Mesh"]]], token: token,
                expecting: 400)
            try cluster.mzPut(
                mesh, "default/meshtimeouts/other",
                ["type": "MeshTimeout", "name": "not-other", "spec": ["targetRef": ["kind": "Mesh"]]], token: token,
                expecting: 400)
            try cluster.mzPut(
                mesh, "default/meshtimeouts/other", ["type": "MeshTimeout", "name": "other"], token: token,
                expecting: 400)
            try cluster.mzPut(
                mesh, "default/meshgateways/gw", ["type": "MeshGateway", "name": "gw", "spec": ["x": 1]], token: token,
                expecting: 404)

            // Replace, delete, and deleting a mesh takes its policies.
            try cluster.mzPut(
                mesh, "default/meshtimeouts/short",
                [
                    "type": "MeshTimeout", "name": "short", "mesh": "default",
                    "spec": ["targetRef": ["kind": "Mesh"], "to": []],
                ], token: token, expecting: 200)
            try cluster.expect(204, "eu", "DELETE", "\(api)/default/meshretries/retry-5xx", token: token)
            try cluster.expect(404, "eu", "DELETE", "\(api)/default/meshretries/retry-5xx", token: token)
            try cluster.expect(404, "eu", "GET", "\(api)/default/meshretries/retry-5xx", token: token)
            try cluster.expect(204, "eu", "DELETE", "\(api)/default", token: token)
            #expect(try cluster.expect(200, "eu", "GET", api, token: token)["total"]?.intValue == 0)
            #expect(
                try cluster.expect(200, "eu", "GET", "\(api)/default/meshtrafficpermissions", token: token)["total"]?
                    .intValue == 0)
        }

        @Test(
            "issue 8, P3, P4: a zone receives the policies by push with the Mesh license, serves them, and shows in /api/zones"
        )
        func zoneReceivesPoliciesByPush() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let mesh = try cluster.mzControlPlane("mesh-global", token: token)
            try cluster.mzDefaultPolicies(mesh, token: token)
            try cluster.mzStartZone("zone-1", meshControlPlane: mesh)
            try cluster.mzWaitForVersion("zone-1", 4)
            var status = try cluster.dataPlaneStatus("zone-1")
            #expect(status["policies"]?["count"]?.intValue == 2)
            #expect(status["license"]?["product_subscription"]?.stringValue == "Kong Mesh")
            #expect(status["license"]?["state"]?.stringValue == "active")
            #expect(status["license"]?["customer"]?.stringValue == "Acme")
            var served = try cluster.mzServed("zone-1")
            #expect(served["state"]?.stringValue == "synced")
            #expect(served["meshes"]?.arrayValue?.map { $0["name"]?.stringValue } == ["default"])
            #expect(
                Set(served["policies"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == [
                    "allow-all", "short",
                ])

            // A change is pushed.
            try cluster.mzRetry(mesh, token: token)
            try cluster.mzWaitForVersion("zone-1", 5, timeout: 3)
            served = try cluster.mzServed("zone-1")
            #expect(served["policies"]?.arrayValue?.count == 3)

            // Workloads register with the zone and are counted; the geo shows the zone (ZoneInsight).
            try cluster.mzWorkload("zone-1", "web")
            try cluster.mzWorkload("zone-1", "backend")
            status = try cluster.dataPlaneStatus("zone-1")
            #expect(status["workloads"]?.intValue == 2)
            let hash = status["policies"]?["hash"]?.stringValue
            var zone: JSON? = nil
            try cluster.waitUntil("the geo shows zone-1 online with its 2 workloads and hash", timeout: 15) {
                let zones = try cluster.expect(
                    200, "eu", "GET", "/v0/mesh/control-planes/\(mesh)/api/zones", token: token)
                zone = zones["items"]?.arrayValue?.first { $0["name"]?.stringValue == "zone-1" }
                return zone?["workloads"]?.intValue == 2 && zone?["config_hash"]?.stringValue == hash
            }
            #expect(zone?["state"]?.stringValue == "online")
            #expect(zone?["zoneInsight"]?["subscriptions"]?[0]?["connectTime"]?.stringValue != nil)
            #expect(zone?["zoneInsight"]?["subscriptions"]?[0]?["disconnectTime"]?.isNull == true)
            #expect(zone?["zoneInsight"]?["version"]?["kumaCp"]?["version"]?.stringValue == "2.9.0")
            try cluster.expect(200, "eu", "GET", "/v0/mesh/control-planes/\(mesh)/api/zones/zone-1", token: token)
            try cluster.expect(404, "eu", "GET", "/v0/mesh/control-planes/\(mesh)/api/zones/zone-9", token: token)
        }

        @Test(
            "issue 8: /api/zones shows a zone offline with its disconnect time once it has gone, also across a geo crash"
        )
        func zoneInsightShowsDisconnects() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let mesh = try cluster.mzControlPlane("mesh-global", token: token)
            try cluster.mzDefaultPolicies(mesh, token: token)
            try cluster.mzStartZone("zone-1", meshControlPlane: mesh)
            try cluster.mzStartZone("zone-2", meshControlPlane: mesh)
            try cluster.mzWaitForVersion("zone-1", 4)
            try cluster.mzWaitForVersion("zone-2", 4)
            let zones = "/v0/mesh/control-planes/\(mesh)/api/zones"

            // zone-1 stops: the geo records when it left.
            cluster.cluster.stop(try cluster.record("zone-1"))
            try cluster.waitUntil("the geo shows zone-1 offline", timeout: 5) {
                try cluster.expect(200, "eu", "GET", "\(zones)/zone-1", token: token)["state"]?.stringValue == "offline"
            }
            let gone = try cluster.expect(200, "eu", "GET", "\(zones)/zone-1", token: token)
            #expect(gone["zoneInsight"]?["subscriptions"]?[0]?["disconnectTime"]?.stringValue != nil)

            // The geo crashes while zone-2 is connected, and zone-2 goes away before the geo is back:
            // the restarted geo must not show it online.
            try cluster.cluster.kill("eu")
            cluster.cluster.stop(try cluster.record("zone-2"))
            try cluster.cluster.restart("eu")
            let session = try cluster.login("ana@example.com")
            // (A kill -9 runs no stream-close handler: the restarted geo must close the streams of the
            // previous process itself.)
            try cluster.waitUntil("the restarted geo shows zone-2 offline", timeout: 5) {
                try cluster.expect(200, "eu", "GET", "\(zones)/zone-2", token: session)["state"]?.stringValue
                    == "offline"
            }
            let stale = try cluster.expect(200, "eu", "GET", "\(zones)/zone-2", token: session)
            #expect(stale["zoneInsight"]?["subscriptions"]?[0]?["disconnectTime"]?.stringValue != nil)
        }

        @Test(
            "A5, D5: after retention the Mesh global control plane is purged; the orphaned zone keeps serving its last policies"
        )
        func retentionPurgesMeshObjects() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, org) = try cluster.newOrganization("ana@example.com")
            let mesh = try cluster.mzControlPlane("mesh-global", token: token)
            try cluster.mzDefaultPolicies(mesh, token: token)
            try cluster.mzStartZone("zone-1", meshControlPlane: mesh)
            try cluster.mzWaitForVersion("zone-1", 4)
            try cluster.dxSupportAction(org, "deactivate")
            try cluster.gwWaitForState("zone-1", "orphaned")

            try cluster.advance("91d")
            try cluster.waitUntil("the organization is deleted", timeout: 10) { try cluster.dxState(org) == "deleted" }
            // The geo no longer knows the zone's token: its Mesh objects are gone.
            try cluster.waitUntil("zone-1 is refused as unknown", timeout: 8) {
                try cluster.dataPlaneStatus("zone-1")["last_error"]?.stringValue?.contains("401") == true
            }
            let geo = try cluster.unix("eu")
            #expect(
                try geo.json(
                    "POST", "/internal/v1/operator/zone-tokens",
                    ["mesh_control_plane": .string(mesh), "zone": "zone-9"]
                ).status == 404)
            // Never stopped remotely: still orphaned, still serving version 4.
            let status = try cluster.dataPlaneStatus("zone-1")
            #expect(status["state"]?.stringValue == "orphaned")
            #expect(status["policies"]?["version"]?.intValue == 4)
            #expect(try cluster.mzServed("zone-1")["policies"]?.arrayValue?.count == 2)
        }

        @Test("issue 8: a zone joins with a token issued for it; without one it gets nothing")
        func zoneNeedsItsToken() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let mesh = try cluster.mzControlPlane("mesh-global", token: token)
            try cluster.mzDefaultPolicies(mesh, token: token)
            let geo = try cluster.unix("eu")
            var response = try geo.send("GET", "/internal/v1/zone/sync", headers: ["X-Zone-Name": "zone-2"])
            #expect(response.status == 401)
            response = try geo.send(
                "GET", "/internal/v1/zone/sync",
                headers: ["Authorization": "Bearer spat_forged", "X-Zone-Name": "zone-2"])
            #expect(response.status == 401)

            let issued = try cluster.expect(
                201, "eu", "POST", "/v0/mesh/control-planes/\(mesh)/api/tokens/zone", ["zone": "zone-2"], token: token)
            let zoneToken = try #require(issued["token"]?.stringValue)
            #expect(zoneToken.hasPrefix("spat_"))
            // Issued for zone-2 only.
            response = try geo.send(
                "GET", "/internal/v1/zone/sync",
                headers: ["Authorization": "Bearer \(zoneToken)", "X-Zone-Name": "zone-3"])
            #expect(response.status == 403)
            let stream = try geo.openStream(
                "GET", "/internal/v1/zone/sync",
                headers: ["Authorization": "Bearer \(zoneToken)", "X-Zone-Name": "zone-2"])
            #expect(try stream.awaitHead(timeoutMilliseconds: 3000).get() == 200)
            // On connect: the calendar's moment (a heartbeat, issue 14), then the configuration.
            var moment: JSON? = nil
            if case .message(let message) = stream.next(timeoutMilliseconds: 3000) { moment = message }
            #expect(moment?["type"]?.stringValue == "heartbeat")
            #expect(moment?["now"]?.stringValue == "2026-01-01T00:00:00Z")
            var first: JSON? = nil
            if case .message(let message) = stream.next(timeoutMilliseconds: 3000) { first = message }
            #expect(first?["type"]?.stringValue == "config")
            #expect(first?["version"]?.intValue == 4)
            #expect(first?["license"]?["product_subscription"]?.stringValue == "Kong Mesh")
            #expect(first?["policies"]?["policies"]?.arrayValue?.count == 2)
            stream.close()
        }

        @Test(
            "D6: global outage (geo killed): the zone keeps serving its policies, also after its own restart, and catches up"
        )
        func globalOutage() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let mesh = try cluster.mzControlPlane("mesh-global", token: token)
            try cluster.mzDefaultPolicies(mesh, token: token)
            try cluster.mzStartZone("zone-1", meshControlPlane: mesh)
            try cluster.mzWorkload("zone-1", "web")
            try cluster.mzWaitForVersion("zone-1", 4)
            // The disk cache is written off the apply path (as a data plane's is).
            try cluster.waitUntil("zone-1 cached version 4", timeout: 5) {
                try cluster.dataPlaneStatus("zone-1")["policies"]?["cached_version"]?.intValue == 4
            }

            try cluster.cluster.kill("eu")
            try cluster.gwWaitForState("zone-1", "disconnected")
            var status = try cluster.dataPlaneStatus("zone-1")
            #expect(status["orphaned_reason"]?.stringValue == nil)
            #expect(status["policies"]?["version"]?.intValue == 4)
            #expect(status["license"]?["product_subscription"]?.stringValue == "Kong Mesh")
            var served = try cluster.mzServed("zone-1")
            #expect(served["policies"]?.arrayValue?.count == 2)
            try cluster.mzWorkload("zone-1", "backend")
            #expect(try cluster.dataPlaneStatus("zone-1")["workloads"]?.intValue == 2)

            // Restarted during the outage, it serves from its disk cache.
            try cluster.cluster.kill("zone-1")
            try cluster.cluster.restart("zone-1")
            status = try cluster.dataPlaneStatus("zone-1")
            #expect(status["state"]?.stringValue == "disconnected")
            #expect(status["policies"]?["version"]?.intValue == 4)
            #expect(status["workloads"]?.intValue == 2)
            served = try cluster.mzServed("zone-1")
            #expect(served["policies"]?.arrayValue?.count == 2)

            // The global control plane is back: the zone reconnects on its own and takes newer policies.
            try cluster.cluster.restart("eu")
            try cluster.mzWaitForVersion("zone-1", 4, timeout: 8)
            try cluster.mzRetry(mesh, token: token)
            try cluster.mzWaitForVersion("zone-1", 5)
            #expect(try cluster.mzServed("zone-1")["policies"]?.arrayValue?.count == 3)
            try cluster.waitUntil("the geo shows zone-1 online", timeout: 15) {
                try cluster.expect(200, "eu", "GET", "/v0/mesh/control-planes/\(mesh)/api/zones/zone-1", token: token)[
                    "state"]?.stringValue == "online"
            }
        }

        @Test(
            "D3, D5: deactivation orphans the zone: it keeps serving its last policies, gets no updates; reactivation resumes them"
        )
        func deactivationOrphansZoneAndReactivationResumes() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, org) = try cluster.newOrganization("ana@example.com")
            let mesh = try cluster.mzControlPlane("mesh-global", token: token)
            try cluster.mzDefaultPolicies(mesh, token: token)
            try cluster.mzStartZone("zone-1", meshControlPlane: mesh)
            try cluster.mzWorkload("zone-1", "web")
            try cluster.mzWaitForVersion("zone-1", 4)
            let hash = try cluster.dataPlaneStatus("zone-1")["policies"]?["hash"]?.stringValue
            let pid = try cluster.gwPid("zone-1")

            try cluster.dxSupportAction(org, "deactivate")
            try cluster.gwWaitForState("zone-1", "orphaned")
            var status = try cluster.dataPlaneStatus("zone-1")
            #expect(
                status["orphaned_reason"]?.stringValue?.contains("Mesh global control plane is decommissioned") == true)
            #expect(status["policies"]?["version"]?.intValue == 4)
            #expect(status["policies"]?["hash"]?.stringValue == hash)
            #expect(status["license"]?["product_subscription"]?.stringValue == "Kong Mesh")
            let served = try cluster.mzServed("zone-1")
            #expect(served["state"]?.stringValue == "orphaned")
            #expect(served["policies"]?.arrayValue?.count == 2)
            try cluster.mzWorkload("zone-1", "api")
            #expect(try cluster.dataPlaneStatus("zone-1")["workloads"]?.intValue == 2)
            // The organization's Mesh license ended; nobody can change the policies any more.
            let licenses =
                try cluster.support("GET", "/v3/support/organizations/\(org)/licenses").json?["data"]?.arrayValue ?? []
            #expect(licenses.first { $0["product"]?.stringValue == "kong-mesh" }?["state"]?.stringValue == "ended")
            try cluster.dxExpectDeactivated401(
                "eu", "PUT", "/v0/mesh/control-planes/\(mesh)/api/meshes/default/meshretries/retry",
                ["type": "MeshRetry", "name": "retry", "mesh": "default", "spec": ["targetRef": ["kind": "Mesh"]]],
                token: token)
            #expect(cluster.cluster.processState(try cluster.record("zone-1")).1 == .running)

            // Restarted by hand, it is still orphaned with the same policies.
            try cluster.cluster.restart("zone-1")
            try cluster.gwWaitForState("zone-1", "orphaned")
            #expect(try cluster.dataPlaneStatus("zone-1")["policies"]?["version"]?.intValue == 4)
            #expect(try cluster.dataPlaneStatus("zone-1")["workloads"]?.intValue == 2)

            // Reactivated: updates resume, without a restart.
            let restartedPid = try cluster.gwPid("zone-1")
            #expect(restartedPid != pid)
            try cluster.dxSupportAction(org, "reactivate")
            try cluster.mzWaitForVersion("zone-1", 4)
            status = try cluster.dataPlaneStatus("zone-1")
            #expect(status["orphaned_reason"]?.stringValue == nil)
            #expect(status["license"]?["state"]?.stringValue == "active")
            let ana = try cluster.login("ana@example.com")
            try cluster.mzRetry(mesh, token: ana)
            try cluster.mzWaitForVersion("zone-1", 5)
            #expect(try cluster.mzServed("zone-1")["policies"]?.arrayValue?.count == 3)
            #expect(try cluster.gwPid("zone-1") == restartedPid)
        }
    }
}
