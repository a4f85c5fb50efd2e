/// The view of the database inside `read` or `write`: a transaction on one connection.
///
/// Valid only inside the body it was given to; inside `read` it cannot write (the reader connection
/// is `query_only`).
public struct Transaction {
    let connection: Connection

    /// Runs a statement and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ arguments: SQLValue...) throws(DatabaseError) -> [Row] {
        try connection.query(sql, arguments)
    }

    @discardableResult
    public func query(_ sql: String, arguments: [SQLValue]) throws(DatabaseError) -> [Row] {
        try connection.query(sql, arguments)
    }

    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ arguments: SQLValue...) throws(DatabaseError) -> Int {
        _ = try connection.query(sql, arguments)
        return connection.changes
    }

    @discardableResult
    public func execute(_ sql: String, arguments: [SQLValue]) throws(DatabaseError) -> Int {
        _ = try connection.query(sql, arguments)
        return connection.changes
    }

    /// Runs several statements separated by semicolons (migrations).
    public func executeScript(_ sql: String) throws(DatabaseError) {
        try connection.executeScript(sql)
    }

    public var lastInsertRowID: Int64 { connection.lastInsertRowID }

    /// A single value from the first row, or nil.
    public func scalar(_ sql: String, _ arguments: SQLValue...) throws(DatabaseError) -> SQLValue? {
        try connection.query(sql, arguments).first?.values.first
    }
}
