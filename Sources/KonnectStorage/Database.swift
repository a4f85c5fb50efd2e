import CSQLite
import Synchronization

/// A failed SQLite call, with SQLite's message and the statement that caused it.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var sql: String

    public var description: String { "SQLite error \(code): \(message) (in: \(sql.prefix(200)))" }

    /// A UNIQUE or PRIMARY KEY constraint was violated.
    public var isConstraintViolation: Bool { code & 0xFF == SQLITE_CONSTRAINT }
}

/// A value stored in or read from a column.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }
    public static func optional(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    public static func optional(_ value: Int64?) -> SQLValue { value.map(SQLValue.int) ?? .null }
    public static func bool(_ value: Bool) -> SQLValue { .int(value ? 1 : 0) }
    public static func int(_ value: Int) -> SQLValue { .int(Int64(value)) }
}

/// The column names of a result, shared by all its rows.
public final class ColumnIndex: Sendable {
    public let names: [String]
    let positions: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }
}

/// One result row, read by column name.
public struct Row: Sendable {
    let index: ColumnIndex
    public let values: [SQLValue]

    public var columns: [String] { index.names }

    public subscript(name: String) -> SQLValue {
        guard let position = index.positions[name] else { return .null }
        return values[position]
    }

    public func string(_ name: String) -> String? {
        switch self[name] {
        case .text(let text): text
        case .int(let number): String(number)
        default: nil
        }
    }

    public func int(_ name: String) -> Int64? {
        switch self[name] {
        case .int(let number): number
        case .double(let number): Int64(number)
        case .text(let text): Int64(text)
        default: nil
        }
    }

    public func bool(_ name: String) -> Bool { (int(name) ?? 0) != 0 }

    public func blob(_ name: String) -> [UInt8]? {
        switch self[name] {
        case .blob(let bytes): bytes
        case .text(let text): Array(text.utf8)
        default: nil
        }
    }
}

/// A schema change, applied once in version order and recorded in `PRAGMA user_version`.
public struct Migration: Sendable {
    public var version: Int
    public var sql: String

    public init(version: Int, sql: String) {
        self.version = version
        self.sql = sql
    }
}

/// One node's SQLite database: WAL, `synchronous=FULL`, one connection guarded by a lock.
///
/// A write transaction that returns has been fsynced, so a node may answer 2xx as soon as `write`
/// returns. Nothing else in the project touches the SQLite C API.
public final class Database: @unchecked Sendable {
    // `handle` is only used while `lock` is held (every method takes it), which is what makes the
    // class safe to share between connection threads.
    private let handle: OpaquePointer
    private let lock = Mutex(())
    public let path: String
    // Prepared statements by SQL text, reused across calls (guarded by `lock` like `handle`).
    private var statements: [String: PreparedStatement] = [:]

    /// A prepared statement with its result's column names, both reused across calls.
    private struct PreparedStatement {
        var handle: OpaquePointer
        var columns: ColumnIndex
    }

    /// How hard a commit pushes to disk. `full` fsyncs every commit (acknowledged API writes); `normal`
    /// survives a process crash but not a power loss (a data plane's call counters, written per request).
    public enum Durability: Sendable { case full, normal }

    public init(path: String, migrations: [Migration], durability: Durability = .full) throws(DatabaseError) {
        self.path = path
        var pointer: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &pointer, flags, nil)
        guard status == SQLITE_OK, let pointer else {
            let message = pointer.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(pointer)
            throw DatabaseError(code: status, message: message, sql: "open \(path)")
        }
        handle = pointer
        sqlite3_busy_timeout(handle, 5000)
        try execute("PRAGMA journal_mode=WAL")
        try execute(durability == .full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
        try execute("PRAGMA foreign_keys=ON")
        try migrate(migrations)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement.handle) }
        sqlite3_close_v2(handle)
    }

    /// Runs the migrations newer than the stored version, each in its own transaction.
    private func migrate(_ migrations: [Migration]) throws(DatabaseError) {
        let current =
            try lock.withLock { _ throws(DatabaseError) in try unlockedQuery("PRAGMA user_version", []) }
            .first?.int("user_version") ?? 0
        for migration in migrations.sorted(by: { $0.version < $1.version }) where migration.version > current {
            do {
                try write { db in
                    try db.executeScript(migration.sql)
                    try db.execute("PRAGMA user_version = \(migration.version)")
                }
            } catch let error as DatabaseError {
                throw error
            } catch {
                throw DatabaseError(code: -1, message: "\(error)", sql: "migration \(migration.version)")
            }
        }
    }

    /// The schema version the database is at.
    public var schemaVersion: Int {
        let version = try? read { db in try db.query("PRAGMA user_version").first?.int("user_version") }
        return Int(version.flatMap { $0 } ?? 0)
    }

    /// Runs `body` in an IMMEDIATE transaction: committed (and fsynced) when it returns, rolled back
    /// when it throws. Errors from `body` are rethrown unchanged.
    @discardableResult
    public func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        try lock.withLock { _ in
            try unlockedExecute("BEGIN IMMEDIATE")
            let result: T
            do {
                result = try body(Transaction(database: self))
            } catch {
                try? unlockedExecute("ROLLBACK")
                throw error
            }
            do {
                try unlockedExecute("COMMIT")
            } catch {
                try? unlockedExecute("ROLLBACK")
                throw error
            }
            return result
        }
    }

    /// Runs `body` with a consistent view of the database.
    @discardableResult
    public func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        try lock.withLock { _ in
            try? unlockedExecute("BEGIN")
            defer { try? unlockedExecute("COMMIT") }
            return try body(Transaction(database: self))
        }
    }

    fileprivate func unlockedExecute(_ sql: String) throws(DatabaseError) {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &error)
        if status != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw DatabaseError(code: status, message: message, sql: sql)
        }
    }

    private func execute(_ sql: String) throws(DatabaseError) {
        try lock.withLock { _ throws(DatabaseError) in try unlockedExecute(sql) }
    }

    fileprivate func unlockedQuery(_ sql: String, _ arguments: [SQLValue]) throws(DatabaseError) -> [Row] {
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
            cachedStatement = statements.count < 512
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

    fileprivate var changes: Int { Int(sqlite3_changes(handle)) }
    fileprivate var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}

/// The view of the database inside `read` or `write`.
public struct Transaction {
    fileprivate let database: Database

    /// Runs a statement and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ arguments: SQLValue...) throws(DatabaseError) -> [Row] {
        try database.unlockedQuery(sql, arguments)
    }

    @discardableResult
    public func query(_ sql: String, arguments: [SQLValue]) throws(DatabaseError) -> [Row] {
        try database.unlockedQuery(sql, arguments)
    }

    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    public func execute(_ sql: String, _ arguments: SQLValue...) throws(DatabaseError) -> Int {
        _ = try database.unlockedQuery(sql, arguments)
        return database.changes
    }

    @discardableResult
    public func execute(_ sql: String, arguments: [SQLValue]) throws(DatabaseError) -> Int {
        _ = try database.unlockedQuery(sql, arguments)
        return database.changes
    }

    /// Runs several statements separated by semicolons (migrations).
    public func executeScript(_ sql: String) throws(DatabaseError) {
        try database.unlockedExecute(sql)
    }

    public var lastInsertRowID: Int64 { database.lastInsertRowID }

    /// A single value from the first row, or nil.
    public func scalar(_ sql: String, _ arguments: SQLValue...) throws(DatabaseError) -> SQLValue? {
        try database.unlockedQuery(sql, arguments).first?.values.first
    }
}
