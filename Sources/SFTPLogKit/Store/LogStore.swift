import Foundation
import GRDB

public enum StoreError: Error, CustomStringConvertible {
    case notOurs(path: String)
    case newerSchema(path: String)
    case cannotOpen(path: String, reason: String)
    case missing(path: String)
    case readOnlyViolation(String)

    public var description: String {
        switch self {
        case .notOurs(let p): return "\(p): not an sftplog database (it has other tables); refusing to touch it"
        case .newerSchema(let p): return "\(p): written by a newer sftplog (unknown schema migrations); upgrade sftplog to use it"
        case .cannotOpen(let p, let r): return "\(p): cannot open database: \(r)"
        case .missing(let p): return "\(p): no such database (run `sftplog ingest` first)"
        case .readOnlyViolation(let m): return "query is read-only: \(m)"
        }
    }
}

/// Opens sftplog databases. Writers get WAL and a busy timeout so concurrent
/// ingests queue instead of failing; readers open the file read-only.
public enum LogStore {
    public static func defaultPath(_ explicit: String?) -> String {
        if let e = explicit { return e }
        if let env = ProcessInfo.processInfo.environment["SFTPLOG_DB"], !env.isEmpty { return env }
        return "./sftplog.db"
    }

    static func configuration(readOnly: Bool) -> Configuration {
        var c = Configuration()
        c.readonly = readOnly
        c.busyMode = .timeout(30)
        c.label = "sftplog"
        c.prepareDatabase { db in
            if !readOnly {
                // WAL: readers never block the writer, and a killed writer leaves no torn pages.
                _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode=WAL")
                try db.execute(sql: "PRAGMA synchronous=NORMAL")
                // 64 MiB of page cache: index and FTS pages of a large load stay in memory.
                try db.execute(sql: "PRAGMA cache_size=-65536")
            }
            try db.execute(sql: "PRAGMA foreign_keys=OFF")
        }
        return c
    }

    /// Opens (creating if needed) a database for writing and brings its schema up to date.
    public static func openForWriting(_ path: String) throws -> DatabaseQueue {
        let exists = FileManager.default.fileExists(atPath: path)
        if exists, (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 > 0 {
            // Check read-only first: opening for writing switches the file to WAL,
            // which would already change a database that is not ours.
            _ = try openForReading(path)
        }
        let q: DatabaseQueue
        do {
            q = try DatabaseQueue(path: path, configuration: configuration(readOnly: false))
        } catch {
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
        do {
            try q.writeWithoutTransaction { db in
                try checkOwnership(db, path: path, isNew: !exists)
                if try Schema.isSuperseded(db) { throw StoreError.newerSchema(path: path) }
            }
            try Schema.migrator.migrate(q)
            try q.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA application_id = \(Schema.applicationID)")
                try Schema.createRecordIndexes(db)
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
        return q
    }

    /// Opens an existing database read-only (SQL that writes fails).
    public static func openForReading(_ path: String) throws -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.missing(path: path) }
        let q: DatabaseQueue
        do {
            q = try DatabaseQueue(path: path, configuration: configuration(readOnly: true))
            try q.read { db in
                try checkOwnership(db, path: path, isNew: false)
                if try Schema.isSuperseded(db) { throw StoreError.newerSchema(path: path) }
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
        return q
    }

    static func checkOwnership(_ db: Database, path: String, isNew: Bool) throws {
        let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if appID == Schema.applicationID { return }
        let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'") ?? 0
        if appID != 0 || tables > 0 { throw StoreError.notOurs(path: path) }
    }

    public static func describe(_ error: Error) -> String {
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_NOTADB: return "not an SQLite database"
            case .SQLITE_CORRUPT: return "database file is corrupt"
            case .SQLITE_CANTOPEN: return "cannot open file (missing directory or no permission)"
            case .SQLITE_READONLY: return "database is read-only"
            case .SQLITE_FULL: return "disk full"
            case .SQLITE_IOERR: return "I/O error (\(e.message ?? "no detail"))"
            default: return e.message ?? "\(e)"
            }
        }
        return "\(error)"
    }
}
