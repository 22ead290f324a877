import Foundation
import GRDB
import GRDBSQLite
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// Rows read straight off a prepared statement: GRDB's generic row decoding
/// (metadata lookups, dynamic casts, boxed values) was half the time of
/// loading 63k sessions with their operations.
package struct RawRows {
    private let statement: Statement
    private let db: Database
    private var positions: [String: Int32] = [:]

    package init(_ db: Database, sql: String, arguments: [SQLValue] = []) throws {
        self.db = db
        statement = try db.makeStatement(sql: sql)
        let s = statement.sqliteStatement
        for i in 0..<sqlite3_column_count(s) { positions[String(cString: sqlite3_column_name(s, i))] = i }
        statement.bindRaw(arguments)
    }

    /// Steps to the next row; false at the end.
    package func next() throws -> Bool {
        let rc = sqlite3_step(statement.sqliteStatement)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw db.stepError(rc)
    }

    package func has(_ name: String) -> Bool { positions[name] != nil }

    /// The column as stored (a blob read as text, as the session columns are).
    package func value(at i: Int32) -> SQLValue {
        switch sqlite3_column_type(statement.sqliteStatement, i) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(statement.sqliteStatement, i))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(statement.sqliteStatement, i))
        default: return text(at: i).map(SQLValue.text) ?? .null
        }
    }

    package func position(_ name: String) -> Int32 {
        guard let p = positions[name] else { preconditionFailure("no column \(name)") }
        return p
    }

    @inline(__always) private func isNull(_ i: Int32) -> Bool { sqlite3_column_type(statement.sqliteStatement, i) == SQLITE_NULL }

    /// Text of a column (bytes as stored, NUL included; invalid UTF-8 repaired as String does).
    package func text(_ name: String) -> String? { text(at: position(name)) }

    package func text(at i: Int32) -> String? {
        let s = statement.sqliteStatement
        guard !isNull(i), let p = sqlite3_column_text(s, i) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, i))), as: UTF8.self)
    }

    /// The column's bytes (text or blob) without making a String.
    package func bytes(_ name: String) -> [UInt8]? { bytes(at: position(name)) }

    package func bytes(at i: Int32) -> [UInt8]? {
        let s = statement.sqliteStatement
        guard !isNull(i), let p = sqlite3_column_text(s, i) else { return nil }
        return Array(UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, i))))
    }

    /// The column's bytes in place (valid until the next step), nil when NULL.
    @inline(__always) package func withBytes<T>(at i: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T? {
        let s = statement.sqliteStatement
        // sqlite3_column_text is NULL for SQL NULL (an empty text is ""), so no type check.
        guard let p = sqlite3_column_text(s, i) else { return nil }
        return body(UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(s, i))))
    }

    package func int(_ name: String) -> Int? { int(at: position(name)) }

    package func int(at i: Int32) -> Int? {
        return isNull(i) ? nil : Int(sqlite3_column_int64(statement.sqliteStatement, i))
    }

    package func double(_ name: String) -> Double? { double(at: position(name)) }

    package func double(at i: Int32) -> Double? {
        return isNull(i) ? nil : sqlite3_column_double(statement.sqliteStatement, i)
    }

    package func bool(_ name: String) -> Bool? { int(name).map { $0 != 0 } }
    package func bool(at i: Int32) -> Bool? { int(at: i).map { $0 != 0 } }
}
