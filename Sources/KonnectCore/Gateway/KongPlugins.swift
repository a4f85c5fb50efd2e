/// The plugins Kong Gateway bundles, the only names a plugin entity may have (Kong answers 400 for any
/// other: "plugin 'x' not enabled; add it to the 'plugins' configuration property").
///
/// Source: Kong Gateway 3.9 open source, `kong/constants.lua` (`BUNDLED_PLUGINS`), in that file's
/// order. Enterprise-only plugins are not in it (a deliberate difference, see the README).
public enum KongPlugins {
    public static let gatewayVersion = "3.9"

    public static let bundled = [
        "jwt", "acl", "correlation-id", "cors", "oauth2", "tcp-log", "udp-log", "file-log", "http-log", "key-auth",
        "hmac-auth", "basic-auth", "ip-restriction", "request-transformer", "response-transformer",
        "request-size-limiting", "rate-limiting", "response-ratelimiting", "syslog", "loggly", "datadog", "ldap-auth",
        "statsd", "bot-detection", "aws-lambda", "request-termination", "prometheus", "proxy-cache", "session", "acme",
        "grpc-gateway", "grpc-web", "pre-function", "post-function", "azure-functions", "zipkin", "opentelemetry",
        "ai-proxy", "ai-prompt-decorator", "ai-prompt-template", "ai-prompt-guard", "ai-request-transformer",
        "ai-response-transformer", "standard-webhooks", "redirect",
    ]

    static let names = Set(bundled)

    /// Why `name` cannot name a plugin, or nil.
    public static func problem(_ name: String) -> String? {
        names.contains(name)
            ? nil
            : "plugin '\(name.prefix(128))' not enabled; Kong Gateway \(gatewayVersion) bundles: \(bundled.joined(separator: ", "))"
    }
}
