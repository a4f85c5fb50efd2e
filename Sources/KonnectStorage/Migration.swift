/// A schema change, applied once in version order and recorded in `PRAGMA user_version`.
public struct Migration: Sendable {
    public var version: Int
    public var sql: String

    public init(version: Int, sql: String) {
        self.version = version
        self.sql = sql
    }
}
