// The PostgreSQL store: migrations, read-only SQL, and loading what an ingest staged.

import Foundation
import GRDB
import GRDBSQLite
import PostgresNIO
import SFTPLogStore

/// A PostgreSQL database holding sftplog's tables (`PostgresSchema`).
///
/// Ingest reads its inputs with the same pipeline as for SQLite, into a
/// staging SQLite file, and moves each source into PostgreSQL in one
/// transaction (`load(staged:stagedID:)`, or a `PostgresDirectLoad` whose
/// records are sent as they are read): a source is there whole or not at all, so a
/// killed or disconnected ingest leaves a consistent database, and the next run
/// stores what is missing. Sources are recognised by content (`UNIQUE
/// (content_hash)`), and rows are keyed, so concurrent ingesters of the same
/// content store it once.
public final class PostgresStore: Sendable {
    let link: PostgresLink
    public var location: PostgresLocation { link.location }

    init(_ link: PostgresLink) { self.link = link }

    /// Connects and brings the schema up to date (writers).
    public static func openForWriting(_ l: PostgresLocation) throws -> PostgresStore {
        let link = try PostgresLink.connect(l)
        do { _ = try PostgresSchema.migrate(link) } catch { link.close(); throw error }
        return PostgresStore(link)
    }

    /// Connects to a database whose schema is this build's (readers).
    public static func openForReading(_ l: PostgresLocation) throws -> PostgresStore {
        let link = try PostgresLink.connect(l)
        do { try PostgresSchema.check(link) } catch { link.close(); throw error }
        return PostgresStore(link)
    }

    /// `sftplog migrate`: the migrations it applied.
    public static func migrate(_ l: PostgresLocation) throws -> [String] {
        let link = try PostgresLink.connect(l)
        defer { link.close() }
        return try PostgresSchema.migrate(link)
    }

    public func close() { link.close() }

    // MARK: SQL from the user

    /// How long one `sftplog query` statement may run (`$SFTPLOG_QUERY_TIMEOUT`, seconds).
    static var statementTimeout: Int {
        ProcessInfo.processInfo.environment["SFTPLOG_QUERY_TIMEOUT"].flatMap(Int.init).map { max(1, $0) } ?? 300
    }

    /// Runs one statement in a `READ ONLY` transaction with a statement timeout.
    /// The extended protocol takes a single statement, so nothing can follow
    /// it; the server refuses any write (SQLSTATE 25006), and so do we.
    public func query(_ sql: String) throws -> QueryResult {
        try link.execute("BEGIN TRANSACTION READ ONLY", "SET LOCAL statement_timeout = '\(Self.statementTimeout)s'")
        defer { _ = try? link.execute("ROLLBACK") }
        do {
            let result = try link.connection.query(PostgresQuery(unsafeSQL: sql), logger: PostgresLink.logger).wait()
            var columns: [String] = []
            var rows: [[QueryValue]] = []
            for row in result.rows {
                let cells = row.makeRandomAccess()
                if columns.isEmpty { columns = (0..<cells.count).map { cells[$0].columnName } }
                rows.append((0..<cells.count).map { Self.value(cells[$0]) })
            }
            return QueryResult(columns: columns, rows: rows)
        } catch let e as PSQLError {
            if e.serverInfo?[.sqlState] == "25006" {
                throw StoreError.readOnlyViolation("the query runs in a read-only transaction; statements that change the database are refused")
            }
            throw QueryError.invalid(PostgresLink.describe(e, location: location))
        }
    }

    /// A cell as the SQLite store would give it: integers, reals, bytes, and text for the rest.
    static func value(_ c: PostgresCell) -> QueryValue {
        guard c.bytes != nil else { return .null }
        switch c.dataType {
        case .int2, .int4, .int8: return (try? c.decode(Int64.self)).map(QueryValue.integer) ?? .null
        case .float4, .float8: return (try? c.decode(Double.self)).map(QueryValue.real) ?? .null
        case .bool: return (try? c.decode(Bool.self)).map { .integer($0 ? 1 : 0) } ?? .null
        case .bytea: return (try? c.decode(ByteBuffer.self)).map { .blob(Array($0.readableBytesView)) } ?? .null
        case .numeric: return (try? c.decode(Decimal.self)).map { .text("\($0)") } ?? .null
        case .timestamptz, .timestamp:
            return (try? c.decode(Date.self)).map { .text($0.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))) } ?? .null
        case .uuid: return (try? c.decode(UUID.self)).map { .text($0.uuidString.lowercased()) } ?? .null
        case .text, .varchar, .bpchar, .name, .json, .jsonb, .unknown, .xml:
            return (try? c.decode(String.self)).map(QueryValue.text) ?? .null
        default:
            // Results come in binary form, which is not text for every type: say to cast.
            return .text("(\(c.dataType) value: cast it to text)")
        }
    }
}

