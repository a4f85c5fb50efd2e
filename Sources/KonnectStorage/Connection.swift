import CSQLite

/// One SQLite connection with its cache of prepared statements.
///
/// Not thread-safe: `Database` hands each connection to one thread at a time (the writer to the
/// leader of a group commit, a reader to one `read`), which is what `@unchecked Sendable` relies on.
final class Connection: @unchecked Sendable {
    let handle: OpaquePointer
    let path: String
    /// Prepared statements by SQL text, reused across calls.
    private var statements: [String: PreparedStatement] = [:]
    /// Statements beyond this many are prepared for one use (a caller building SQL text dynamically
    /// must not grow the cache without bound).
    private static let cacheLimit = 512

    /// A prepared statement with its result's column names, both reused across calls.
    private struct PreparedStatement {
        var handle: OpaquePointer
        var columns: ColumnIndex
    }

    init(path: String, flags: Int32) throws(DatabaseError) {
        self.path = path
        var pointer: OpaquePointer?
        let status = sqlite3_open_v2(path, &pointer, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard status == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(pointer)
            throw DatabaseError(code: status, message: message, sql: "open \(path)")
        }
        handle = pointer
        // Only the rare WAL moments that lock out everyone (recovery after a crash, a checkpoint that
        // restarts the log) make a connection wait; never for long.
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement.handle) }
        sqlite3_close_v2(handle)
    }

    /// True between BEGIN and COMMIT/ROLLBACK (false again if SQLite rolled back on its own).
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }
    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs one statement without a result (prepared once, then reused).
    func execute(_ sql: String) throws(DatabaseError) {
        _ = try query(sql, [])
    }

    /// Ends the current transaction, if any, keeping nothing. False when SQLite refused, in which
    /// case the connection must not be used for another transaction.
    @discardableResult
    func rollBack() -> Bool {
        guard isInTransaction else { return true }
        do {
            try execute("ROLLBACK")
            return true
        } catch {
            return !isInTransaction
        }
    }

    /// Runs one or more statements separated by semicolons, without a result.
    func executeScript(_ sql: String) throws(DatabaseError) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        if status != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw DatabaseError(code: status, message: message, sql: sql)
        }
    }

    /// Runs one statement (prepared once, then reused) and returns its rows.
    func query(_ sql: String, _ arguments: [SQLValue]) throws(DatabaseError) -> [Row] {
        let statement: OpaquePointer
        let columns: ColumnIndex
        let cachedStatement: Bool
        if let cached = statements[sql] {
            statement = cached.handle
            columns = cached.columns
            cachedStatement = true
        } else {
            var prepared: OpaquePointer?
            let status = sqlite3_prepare_v2(handle, sql, -1, &prepared, nil)
            guard status == SQLITE_OK, let prepared else {
                throw DatabaseError(code: status, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
            }
            statement = prepared
            columns = ColumnIndex(
                (0..<sqlite3_column_count(prepared)).map { String(cString: sqlite3_column_name(prepared, $0)) })
            cachedStatement = statements.count < Self.cacheLimit
            if cachedStatement { statements[sql] = PreparedStatement(handle: prepared, columns: columns) }
        }
        defer {
            if cachedStatement {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            } else {
                sqlite3_finalize(statement)
            }
        }
        for (position, argument) in arguments.enumerated() {
            let index = Int32(position + 1)
            let status: Int32
            switch argument {
            case .null: status = sqlite3_bind_null(statement, index)
            case .int(let number): status = sqlite3_bind_int64(statement, index, number)
            case .double(let number): status = sqlite3_bind_double(statement, index, number)
            case .text(let text): status = csqlite_bind_text(statement, index, text, -1)
            case .blob(let bytes):
                status = bytes.withUnsafeBytes { csqlite_bind_blob(statement, index, $0.baseAddress, Int32($0.count)) }
            }
            guard status == SQLITE_OK else {
                throw DatabaseError(code: status, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
            }
        }
        let columnCount = Int32(columns.names.count)
        var rows: [Row] = []
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else {
                throw DatabaseError(
                    code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)), sql: sql)
            }
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(statement, column)))
                case SQLITE_FLOAT: values.append(.double(sqlite3_column_double(statement, column)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(statement, column))))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    if count > 0, let pointer = sqlite3_column_blob(statement, column) {
                        values.append(.blob(Array(UnsafeRawBufferPointer(start: pointer, count: count))))
                    } else {
                        values.append(.blob([]))
                    }
                default: values.append(.null)
                }
            }
            rows.append(Row(index: columns, values: values))
        }
        return rows
    }
}
