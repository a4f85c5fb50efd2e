import Foundation
import KonnectCluster
import KonnectCore
import KonnectHTTP
import KonnectNodes
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension TestCluster {
    /// What the geo's push streams have sent: full configurations and deltas.
    func gwPushed(_ geo: String = "eu") throws -> (full: Int64, deltas: Int64) {
        let push = try gwGeoStatus(geo)["push"]
        return (push?["full_messages"]?.intValue ?? -1, push?["delta_messages"]?.intValue ?? -1)
    }

    /// `count` changes to the shop's service (its retries), from 8 clients at once.
    func gwChangeService(_ shop: GatewayShop, times count: Int) throws {
        let port = try port("eu")
        let token = shop.token
        let path = "/v2/control-planes/\(shop.controlPlane)/core-entities/services/orders"
        let failures = Mutex<[String]>([])
        try concurrently(count, lanes: 8, name: "changes") { index in
            let client = HTTPClient(endpoint: .tcp(host: "127.0.0.1", port: port), timeoutMilliseconds: 30_000)
            let response = try client.json(
                "PATCH", path, ["retries": .int(index % 30)], headers: ["Authorization": "Bearer \(token)"])
            if response.status != 200 { failures.withLock { $0.append("\(response.status) \(response.text)") } }
        }
        if let first = failures.withLock({ $0.first }) {
            throw ProcessTestFailure(message: "a change failed: \(first)\n\(allLogs())")
        }
    }

    func gwLog(_ name: String) throws -> String {
        String(decoding: readWholeFile(NodeFiles.log(try record(name).directory)) ?? [], as: UTF8.self)
    }

    /// The data plane's running configuration (its `/config` document).
    func gwConfig(_ dataPlane: String) throws -> JSON {
        try unix(dataPlane).send("GET", "/config").json ?? .null
    }
}

extension ProcessTests {
    /// Issue 12: the full configuration on connect, changes after that (C2), verified before they
    /// apply, with the disk cache following (D6).
    @Suite struct DeltaSync {
        @Test("C2: a data plane that reconnects after missing changes gets only those changes, as a delta")
        func aReconnectingDataPlaneGetsADelta() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            #expect(try cluster.gwPushed().full == 1, "the full configuration on connect")
            try cluster.waitUntil("dp1 cached version 3", timeout: 5) {
                try cluster.dataPlaneStatus("dp1")["config"]?["cached_version"]?.intValue == 3
            }

            try cluster.cluster.kill("dp1")
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            try cluster.gwChangeService(shop, times: 3)
            let before = try cluster.gwPushed()
            try cluster.cluster.restart("dp1")
            try cluster.gwWaitForVersion("dp1", 7, timeout: 8)
            let after = try cluster.gwPushed()
            #expect(after.full == before.full, "no full configuration for a data plane the change log reaches")
            #expect(after.deltas >= before.deltas + 1)
            let status = try cluster.dataPlaneStatus("dp1")
            #expect(
                status["config"]?["hash"]?.stringValue
                    == (try cluster.gwExpectedHash(shop.controlPlane, token: shop.token)))
            #expect(status["config"]?["resyncs"]?.intValue == 0)
            #expect(try cluster.gwProxy("dp1", "GET", "/returns/3").json?["path"]?.stringValue == "/api/3")
        }

        @Test("C2: a data plane further behind than the geo's change log gets the full configuration")
        func aDataPlaneTooFarBehindGetsTheFullConfiguration() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.waitUntil("dp1 cached version 3", timeout: 5) {
                try cluster.dataPlaneStatus("dp1")["config"]?["cached_version"]?.intValue == 3
            }
            try cluster.cluster.kill("dp1")
            let changes = Int(SyncPlan.retainedVersions) + 10
            try cluster.gwChangeService(shop, times: changes)
            let before = try cluster.gwPushed()
            try cluster.cluster.restart("dp1")
            try cluster.gwWaitForVersion("dp1", 3 + Int64(changes), timeout: 10)
            let after = try cluster.gwPushed()
            #expect(after.full == before.full + 1)
            #expect(after.deltas == before.deltas, "nothing but the full configuration (and its hash)")
            #expect(
                try cluster.dataPlaneStatus("dp1")["config"]?["hash"]?.stringValue
                    == cluster.gwExpectedHash(shop.controlPlane, token: shop.token))
            #expect(try cluster.gwProxy("dp1", "GET", "/orders/1").status == 200)
        }

        @Test(
            "C2: a corrupted delta does not verify; the data plane logs it, keeps what runs and gets the full configuration"
        )
        func aCorruptedDeltaLeadsToAFullResync() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)

            // The geo restarts with the test switch: it corrupts the first delta that changes something.
            setenv("KONNECT_SIM_TEST_CORRUPT_DELTA", "1", 1)
            defer { unsetenv("KONNECT_SIM_TEST_CORRUPT_DELTA") }
            try cluster.cluster.restart("eu")
            unsetenv("KONNECT_SIM_TEST_CORRUPT_DELTA")
            try cluster.gwWaitForVersion("dp1", 3, timeout: 8)
            let before = try cluster.gwPushed()

            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            try cluster.waitUntil("dp1 resynced version 4", timeout: 10) {
                let status = try cluster.dataPlaneStatus("dp1")
                return status["config"]?["version"]?.intValue == 4 && status["config"]?["resyncs"]?.intValue == 1
                    && status["config"]?["hash"]?.stringValue != nil
            }
            let after = try cluster.gwPushed()
            #expect(after.full == before.full + 1, "the data plane asked for, and got, the full configuration")
            #expect(try cluster.gwLog("eu").contains("test switch KONNECT_SIM_TEST_CORRUPT_DELTA"))
            let log = try cluster.gwLog("dp1")
            #expect(log.contains("leads to digest"), "the mismatch is logged")
            #expect(log.contains("asking for the full configuration"))
            let config = try cluster.gwConfig("dp1")
            #expect(!config.text.contains("corrupted-in-transit"))
            #expect(config["hash"]?.stringValue == (try cluster.gwExpectedHash(shop.controlPlane, token: shop.token)))
            #expect(try cluster.gwProxy("dp1", "GET", "/returns/2").json?["path"]?.stringValue == "/api/2")
        }

        @Test("D5: a zone that reconnects gets the changes to its policies as a delta")
        func aReconnectingZoneGetsADelta() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let (token, _) = try cluster.newOrganization("ana@example.com")
            let mesh = try cluster.mzControlPlane("mesh", token: token)
            try cluster.mzDefaultPolicies(mesh, token: token)
            try cluster.mzStartZone("zone-1", meshControlPlane: mesh)
            try cluster.mzWaitForVersion("zone-1", 4)
            try cluster.waitUntil("zone-1 cached version 4", timeout: 5) {
                try cluster.dataPlaneStatus("zone-1")["policies"]?["cached_version"]?.intValue == 4
            }
            try cluster.cluster.kill("zone-1")
            try cluster.mzRetry(mesh, token: token)
            try cluster.expect(
                204, "eu", "DELETE", "/v0/mesh/control-planes/\(mesh)/api/meshes/default/meshtimeouts/short",
                token: token)
            let before = try cluster.gwPushed()
            try cluster.cluster.restart("zone-1")
            try cluster.mzWaitForVersion("zone-1", 6, timeout: 8)
            let after = try cluster.gwPushed()
            #expect(after.full == before.full)
            #expect(after.deltas >= before.deltas + 1)
            let served = try cluster.mzServed("zone-1")
            #expect(
                served["policies"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["retry-5xx", "allow-all"])
        }

        @Test("D6: each change is cached as a delta file; a data plane restarted during an outage serves the latest")
        func theDiskCacheFollowsDeltas() throws {
            let cluster = try TestCluster(geos: ["eu"])
            let shop = try cluster.gwShop()
            try cluster.gwStartDataPlane("dp1", controlPlane: shop.controlPlane)
            try cluster.gwWaitForVersion("dp1", 3)
            try cluster.waitUntil("dp1 cached version 3", timeout: 5) {
                try cluster.dataPlaneStatus("dp1")["config"]?["cached_version"]?.intValue == 3
            }
            try cluster.gwRoute(
                shop.controlPlane, service: "orders", ["name": "returns", "paths": ["/returns"]], token: shop.token)
            try cluster.gwWaitForVersion("dp1", 4)
            try cluster.waitUntil("dp1 cached version 4", timeout: 5) {
                try cluster.dataPlaneStatus("dp1")["config"]?["cached_version"]?.intValue == 4
            }
            let directory = try cluster.record("dp1").directory
            let deltas = try FileManager.default.contentsOfDirectory(atPath: directory + "/config-cache-deltas")
            #expect(deltas == ["3-4.json"], "the change is a delta file next to the snapshot")
            let hash = try cluster.dataPlaneStatus("dp1")["config"]?["hash"]?.stringValue

            try cluster.cluster.kill("eu")
            try cluster.cluster.kill("dp1")
            try cluster.cluster.restart("dp1")
            let status = try cluster.dataPlaneStatus("dp1")
            #expect(status["state"]?.stringValue == "disconnected")
            #expect(status["config"]?["version"]?.intValue == 4)
            #expect(status["config"]?["hash"]?.stringValue == hash)
            #expect(try cluster.gwProxy("dp1", "GET", "/returns/cached").json?["path"]?.stringValue == "/api/cached")

            try cluster.cluster.restart("eu")
            try cluster.gwWaitForVersion("dp1", 4, timeout: 8)
        }
    }
}
