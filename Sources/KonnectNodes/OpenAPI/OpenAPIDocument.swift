import KonnectCore

/// The OpenAPI 3 documents the nodes serve at `GET /openapi.json`.
public enum OpenAPIDocument {
    public static var auth: JSON { [:] }
}

extension OpenAPIDocument {
    public static var geo: JSON { [:] }
}
