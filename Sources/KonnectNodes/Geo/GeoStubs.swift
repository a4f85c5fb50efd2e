import KonnectHTTP

extension GeoNode {
    var controlPlaneRoutes: [Router.Route] { [] }
    var entityRoutes: [Router.Route] { [] }
    var portalRoutes: [Router.Route] { [] }
    var dataPlaneRoutes: [Router.Route] { [] }
    var meshRoutes: [Router.Route] { [] }
    var internalRoutes: [Router.Route] { [] }
    func followAuthEvents() {}
    func reportUsage() {}
}
