import KonnectCluster
import KonnectCore
import KonnectHTTP

#if canImport(Glibc)
    import Glibc
#endif

extension Benchmarks {
    /// A throwaway cluster for one benchmark, always stopped.
    final class BenchCluster: Sendable {
        let cluster: Cluster
        let directory: String
        init(geos: [String], topology: Topology = .unix) throws {
            var template = Array("/tmp/ksb-XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw ProcessError("cannot create a temporary directory") }
            directory = String(cString: made)
            cluster = Cluster(directory: directory)
            ThrowawayClusters.hold(cluster, removeDirectory: true)
            do {
                _ = try ClusterBoot.up(cluster, ClusterConfiguration(geos: geos, seed: 1, topology: topology))
            } catch {
                // deinit does not run for an object whose init threw: stop what started here.
                _ = cluster.down(graceMilliseconds: 3000)
                removeTree(directory)
                ThrowawayClusters.release(cluster)
                throw error
            }
        }
        deinit {
            _ = cluster.down(graceMilliseconds: 3000)
            removeTree(directory)
            ThrowawayClusters.release(cluster)
        }
        /// The node's public (TCP) API.
        func endpoint(_ name: String) throws -> Endpoint {
            let record = try cluster.requireRecord(name)
            guard let descriptor = cluster.descriptor(record) else { throw ProcessError("\(name) has no port") }
            return cluster.publicEndpoint(descriptor)
        }
        func tcp(_ name: String) throws -> HTTPClient {
            HTTPClient(endpoint: try endpoint(name), timeoutMilliseconds: 60_000)
        }
        func expect(_ response: ClientResponse, _ status: Int, _ what: String) throws -> JSON {
            guard response.status == status else {
                throw ProcessError("\(what) answered \(response.status): \(response.text.prefix(300))")
            }
            return response.json ?? .null
        }
        /// An organization with a logged-in admin; returns the token.
        func organization(_ email: String, geo: String = "eu") throws -> String {
            let auth = try tcp("auth")
            _ = try expect(
                try auth.json(
                    "POST", "/v3/signup",
                    [
                        "email": .string(email), "password": "Correct-Horse-42!", "full_name": "Bench",
                        "organization_name": "Bench", "geo": .string(geo),
                    ]), 201, "signup")
            let login = try expect(
                try auth.json("POST", "/v3/authenticate", ["email": .string(email), "password": "Correct-Horse-42!"]),
                200, "login")
            return login["access_token"]?.stringValue ?? ""
        }
        /// A control plane in `geo`; returns its id.
        func controlPlane(_ name: String, token: String, geo: String = "eu") throws -> String {
            let cp = try expect(
                try tcp(geo).json(
                    "POST", "/v2/control-planes", ["name": .string(name)], headers: ["Authorization": "Bearer \(token)"]
                ),
                201, "create control plane")
            guard let id = cp["id"]?.stringValue else { throw ProcessError("the new control plane has no id: \(cp)") }
            return id
        }
    }
}
