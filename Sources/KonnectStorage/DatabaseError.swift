import CSQLite

/// A failed SQLite call, with SQLite's message and the statement that caused it.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var sql: String

    public var description: String {
        sql.isEmpty ? "SQLite error \(code): \(message)" : "SQLite error \(code): \(message) (in: \(sql.prefix(200)))"
    }

    /// A UNIQUE or PRIMARY KEY constraint was violated.
    public var isConstraintViolation: Bool { code & 0xFF == SQLITE_CONSTRAINT }

    /// The database was used in a way that cannot work (a programming error, not bad input).
    static func misuse(_ message: String, sql: String = "") -> DatabaseError {
        DatabaseError(code: SQLITE_MISUSE, message: message, sql: sql)
    }
}
