import Foundation
import GRDB
import GRDBSQLite
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// A value bound straight onto a prepared statement.
package enum SQLValue {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    init(_ v: String?) { self = v.map(SQLValue.text) ?? .null }
    init(_ v: Int?) { self = v.map { .int(Int64($0)) } ?? .null }
    init(_ v: Int64?) { self = v.map(SQLValue.int) ?? .null }
    init(_ v: Double?) { self = v.map(SQLValue.double) ?? .null }
    init(_ v: Bool?) { self = v.map { .int($0 ? 1 : 0) } ?? .null }

    /// The value as a GRDB argument.
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .int(let x): return x.databaseValue
        case .double(let x): return x.databaseValue
        case .text(let x): return x.databaseValue
        case .blob(let x): return Data(x).databaseValue
        }
    }
}

extension Database {
    /// Runs one statement compiled once per connection: statements run for every
    /// source (10,000 transcripts: 10,000 compiles each) skip SQLite's parser.
    func executeCached(sql: String, arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// The connection's error for a failed `sqlite3_step` result code.
    func stepError(_ rc: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(sqliteConnection)))
    }
}

extension Statement {
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Resets the statement and binds `values` without GRDB's argument boxing.
    func bindRaw(_ values: [SQLValue]) {
        let s = sqliteStatement
        sqlite3_reset(s)
        for (k, v) in values.enumerated() {
            let i = Int32(k + 1)
            switch v {
            case .null: sqlite3_bind_null(s, i)
            case .int(let x): sqlite3_bind_int64(s, i, x)
            case .double(let x): sqlite3_bind_double(s, i, x)
            case .text(var t):
                t.withUTF8 { p in
                    _ = sqlite3_bind_text(s, i, p.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) } ?? UnsafePointer<CChar>(bitPattern: 1),
                                          Int32(p.count), Statement.transient)
                }
            case .blob(let b):
                b.withUnsafeBytes { p in _ = sqlite3_bind_blob(s, i, p.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(p.count), Statement.transient) }
            }
        }
    }

    /// `read` of the first row (nil: no row); the statement is reset after.
    func firstRow<R>(_ values: [SQLValue], _ db: Database, _ read: (SQLiteStatement) -> R) throws -> R? {
        bindRaw(values)
        let s = sqliteStatement
        defer { sqlite3_reset(s) }
        let rc = sqlite3_step(s)
        guard rc == SQLITE_ROW else {
            guard rc == SQLITE_DONE else { throw db.stepError(rc) }
            return nil
        }
        return read(s)
    }

    /// A column's integer (nil: NULL), for `firstRow`.
    static func int64(_ s: SQLiteStatement, _ column: Int32) -> Int64? {
        sqlite3_column_type(s, column) == SQLITE_NULL ? nil : sqlite3_column_int64(s, column)
    }

    /// Binds and steps without GRDB's argument boxing (measured 3–5× cheaper per row
    /// for the session tables' inserts).
    package func run(_ values: [SQLValue], _ db: Database) throws {
        bindRaw(values)
        let rc = sqlite3_step(sqliteStatement)
        guard rc == SQLITE_DONE else {
            throw db.stepError(rc)
        }
    }
}
