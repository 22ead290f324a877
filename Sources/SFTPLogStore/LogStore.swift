import Foundation
import GRDB
import GRDBSQLite
import CSQLiteConfig
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

public enum StoreError: Error, CustomStringConvertible {
    case notOurs(path: String)
    case newerSchema(path: String)
    case olderSchema(path: String)
    case cannotOpen(path: String, reason: String)
    case missing(path: String)
    case readOnlyViolation(String)
    case changedWhileReading(path: String)
    case badLocation(String)
    case server(location: String, reason: String)

    public var description: String {
        switch self {
        case .notOurs(let p): return "\(p): not an sftplog database (it has other tables); refusing to touch it"
        case .newerSchema(let p): return "\(p): written by a newer sftplog (unknown schema migrations); upgrade sftplog to use it"
        case .olderSchema(let p): return "\(p): written by an older sftplog; run `sftplog migrate --db \(p)` (or the next `sftplog ingest` into it) to bring it up to date"
        case .cannotOpen(let p, let r): return "\(p): cannot open database: \(r)"
        case .missing(let p): return "\(p): no such database (run `sftplog ingest` first)"
        case .readOnlyViolation(let m): return "query is read-only: \(m)"
        case .changedWhileReading(let p): return "\(p): the database changed while it was being read (a writer other than sftplog?); run the command again"
        case .badLocation(let m): return "--db: \(m)"
        case .server(let l, let r): return "\(l): \(r)"
        }
    }
}

/// An sftplog database: the one facade through which commands, reports and
/// the ingest pipeline reach the store (no SQL outside `Store/`). Writers get
/// WAL and a busy timeout so concurrent ingests queue instead of failing;
/// readers open the file read-only.
public final class LogStore: Sendable {
    package let queue: DatabaseQueue
    /// Whether written records' messages go into the full-text index; not in a
    /// staging file, which is read once for its rows and then removed.
    package let indexesMessages: Bool

    init(_ queue: DatabaseQueue, indexesMessages: Bool = true) { self.queue = queue; self.indexesMessages = indexesMessages }

    /// The database file (`:memory:` for a workspace).
    public var path: String { queue.path }

    /// The term ids for a run that follows its inputs (`TermDictionary.following`).
    package func followingTermDictionary() throws -> TermDictionary { try TermDictionary.following(self) }

    /// Reads in one transaction: every call on `StoreReader` sees the same snapshot.
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        try queue.read { try body(StoreReader(db: $0)) }
    }

    /// Writes in one transaction.
    public func write<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        try queue.write { try body(StoreWriter(db: $0, indexesMessages: indexesMessages)) }
    }

    /// A fresh in-memory database with the schema: where `report` and `audit`
    /// put the files they are given.
    public static func inMemory() throws -> LogStore {
        let q = try DatabaseQueue()
        try Schema.migrator.migrate(q)
        try q.write { try $0.execute(sql: "PRAGMA application_id = \(Schema.applicationID)") }
        return LogStore(q)
    }

    public static func defaultPath(_ explicit: String?) -> String {
        if let e = explicit { return e }
        if let env = ProcessInfo.processInfo.environment["SFTPLOG_DB"], !env.isEmpty { return env }
        return "./sftplog.db"
    }

    /// SQLite counts every allocation under one process-wide mutex unless told
    /// not to; with two connections reading at once (`SessionExport`) the
    /// contention on it cost about a sixth of the CPU. Nothing here reads the counts.
    private static let memoryStatisticsOff: Void = { _ = sftplog_sqlite_memstatus_off() }()

    /// SQLite's sorter threads: one per core, at most its compiled maximum of 8.
    private static let sortThreads = min(8, max(1, ProcessInfo.processInfo.activeProcessorCount))

    package static func configuration(readOnly: Bool) -> Configuration {
        _ = memoryStatisticsOff
        var c = Configuration()
        c.readonly = readOnly
        c.busyMode = .timeout(30)
        c.label = "sftplog"
        c.prepareDatabase { db in
            if !readOnly {
                // WAL: readers never block the writer, and a killed writer leaves no torn pages.
                // A rollback journal for bulk loads into a new file measured 0.5 s faster on
                // the 1M-line log but 4.7 s slower on 10,000 transcripts (a synced commit per
                // source), and left read-only readers a hot journal after a kill.
                // 16 KiB pages for new databases (an existing file keeps its own): a
                // 1M-line load measured ~1 s faster, with 40% less system time, than
                // at 4 KiB (SFTPLOG_PAGE_SIZE overrides it, for measuring).
                let pageSize = ProcessInfo.processInfo.environment["SFTPLOG_PAGE_SIZE"].flatMap(Int.init) ?? 16384
                try db.execute(sql: "PRAGMA page_size=\(pageSize)")
                _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode=WAL")
                try db.execute(sql: "PRAGMA synchronous=NORMAL")
                // 8 MiB of page cache: measured on a 1M-line load, 64 MiB was no faster
                // (39 s vs 35-38 s) and peaked at 224 MB of RSS instead of 128 MB
                // (SFTPLOG_CACHE_KIB overrides it, for measuring).
                let cacheKiB = ProcessInfo.processInfo.environment["SFTPLOG_CACHE_KIB"].flatMap(Int.init) ?? 8192
                try db.execute(sql: "PRAGMA cache_size=-\(cacheKiB)")
                // Checkpoint every 64 MiB of WAL instead of every 4 MiB: each checkpoint
                // fsyncs, and with the default a bulk load paid one per batch (256 MiB
                // measured no different; SFTPLOG_WAL_PAGES overrides it, for measuring).
                let walPages = ProcessInfo.processInfo.environment["SFTPLOG_WAL_PAGES"].flatMap(Int.init) ?? 16384
                try db.execute(sql: "PRAGMA wal_autocheckpoint=\(walPages)")
            }
            try db.execute(sql: "PRAGMA foreign_keys=OFF")
            // Large sorts (GROUP BY, ORDER BY, index builds) on helper threads while
            // the query goes on reading: the events per account per hour of the
            // 1M-line log took 1.03 s without and 0.80 s with two on two cores
            // (in the sqlite3 shell, four were slower than two).
            try db.execute(sql: "PRAGMA threads = \(sortThreads)")
        }
        return c
    }

    /// Opens (creating if needed) a database for writing and brings its schema up to date.
    ///
    /// Only one process writes a database at a time: the first takes an
    /// exclusive lock (`WriterLock`, file `<path>-lock`) held until it exits,
    /// later ones wait for it (`waiting` is called first). That keeps two
    /// concurrent ingests of the same content from storing it twice.
    public static func openForWriting(_ path: String, waiting: (() -> Void)? = nil) throws -> LogStore {
        // Store safety: a write past `ulimit -f` must fail with EFBIG (reported
        // as an I/O error, the transaction rolled back), not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        rollBackInterruptedLoad(path)
        let exists = FileManager.default.fileExists(atPath: path)
        if exists, (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 > 0 {
            // Check read-only first: opening for writing switches the file to WAL,
            // which would already change a database that is not ours.
            func check() throws {
                let reader = try openQueueForReading(path, allowingOlder: true)
                // Store safety: SQLite finds corrupt pages only when it reads them, so
                // an ingest could add rows to a damaged file (and checkpoint into it).
                // A quick_check (structure only, no index contents; ~0.15 s per 100 MB)
                // refuses it first, read-only.
                try checkIntegrity(reader, path: path)
            }
            do {
                try check()
            } catch where FileManager.default.fileExists(atPath: WriterLock.lockPath(databasePath: path)) {
                // An sftplog has written here, and may be creating the file right now
                // (its tables exist before its application_id): two ingests started
                // together refused a new database as "not an sftplog database". Judge
                // the file again once no other ingest is writing it.
                try WriterLock.acquire(databasePath: path, waiting: waiting)
                try check()
            }
        }
        try WriterLock.acquire(databasePath: path, waiting: waiting)
        let q: DatabaseQueue
        do {
            q = try DatabaseQueue(path: path, configuration: configuration(readOnly: false))
        } catch {
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
        do {
            try q.writeWithoutTransaction { db in
                // Store safety: SQLite opens a file it may not write read-only without
                // saying so; say it now, before any input is read.
                if sqlite3_db_readonly(db.sqliteConnection, "main") == 1 {
                    throw StoreError.cannotOpen(path: path, reason: "database is read-only (no permission to write the file)")
                }
                try checkOwnership(db, path: path, isNew: !exists)
                if try Schema.isSuperseded(db) { throw StoreError.newerSchema(path: path) }
            }
            try Schema.migrator.migrate(q)
            try q.writeWithoutTransaction { db in
                // Only when missing: a refused or failed run must leave the file's bytes as they were.
                if try Int32.fetchOne(db, sql: "PRAGMA application_id") != Schema.applicationID {
                    try db.execute(sql: "PRAGMA application_id = \(Schema.applicationID)")
                }
                try Schema.createBulkIndexes(db)
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
        return LogStore(q)
    }

    /// A bulk load (an ingest into an empty database) writes with a rollback
    /// journal and without syncing (`beginBulkJournal`): each page is written
    /// once, not to the WAL and again to the file: the 1M-line load took 6.97 s
    /// against 7.43 s (medians of 5 alternating runs; 10,000 transcripts, one
    /// commit each, took the same). A SIGKILL leaves the journal, which the next
    /// open rolls back (`rollBackInterruptedLoad`); a power cut during the load
    /// may damage the new file, which `checkIntegrity` is there to refuse.
    /// Syncing each commit was no faster than the WAL on the log and 10 s
    /// slower on the transcripts.
    ///
    /// Returns whether the journal is in use (switching needs every other
    /// connection closed; if one is open, the load keeps the WAL).
    package func beginBulkJournal() -> Bool {
        (try? queue.writeWithoutTransaction { db -> Bool in
            guard try String.fetchOne(db, sql: "PRAGMA journal_mode=DELETE") == "delete" else { return false }
            try db.execute(sql: "PRAGMA synchronous=OFF")
            return true
        }) ?? false
    }

    /// Back to the WAL and synced commits after a bulk load. If a reader holds
    /// the file, the switch waits for the next writer (each turns the WAL on).
    package func endBulkJournal() {
        _ = try? queue.writeWithoutTransaction { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode=WAL")
            try db.execute(sql: "PRAGMA synchronous=NORMAL")
        }
    }

    /// A bulk load killed mid-transaction leaves its journal "hot": SQLite rolls
    /// it back at the next read, but only on a connection that may write the
    /// file, and every read of sftplog is read-only. So the journal is rolled
    /// back first, on a short read-write connection, when the file may be
    /// written. A journal that is not hot (its writer is alive) is left alone by
    /// SQLite, which then only reads.
    package static func rollBackInterruptedLoad(_ path: String) {
        let journal = path + "-journal"
        guard let size = (try? FileManager.default.attributesOfItem(atPath: journal))?[.size] as? Int, size > 0,
              access(path, W_OK) == 0 else { return }
        var c = Configuration()
        c.busyMode = .timeout(30)
        guard let q = try? DatabaseQueue(path: path, configuration: c) else { return }
        _ = try? q.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM sqlite_master") }
        try? q.close()
    }

    /// The files SQLite and sftplog keep for a database: a directory being
    /// read as logs must not give them as inputs.
    public static func ownFiles(_ path: String) -> [String] {
        ["", "-wal", "-shm", "-journal"].map { path + $0 } + [WriterLock.lockPath(databasePath: path)]
    }

    /// A new database for an ingest whose rows are then moved elsewhere
    /// (PostgreSQL): no full-text index of the messages, which nothing reads.
    public static func openForStaging(_ path: String) throws -> LogStore {
        LogStore(try openForWriting(path).queue, indexesMessages: false)
    }

    /// Brings an existing database's schema up to date (`sftplog migrate`);
    /// returns the migrations applied.
    public static func migrate(_ path: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.missing(path: path) }
        let before = try openQueueForReading(path, allowingOlder: true).read { try Schema.appliedMigrations($0) }
        let store = try openForWriting(path)
        defer { store.finishWriting() }
        let after = try store.queue.read { try Schema.appliedMigrations($0) }
        // In the migrator's order (the table's row order is not the order they ran in).
        return Schema.migrator.migrations.filter { after.contains($0) && !before.contains($0) }
    }

    /// Ends a run of writes: folds the WAL into the main file, so the database
    /// file alone holds everything (a copy of just `PATH` is complete), then
    /// closes. Never fails: what is committed is safe in the WAL either way.
    public func finishWriting() {
        _ = try? queue.writeWithoutTransaction { try $0.checkpoint(.passive) }
        try? queue.close()
    }

    /// Closes the connection (a reader; a writer calls `finishWriting`).
    public func close() { try? queue.close() }

    /// A read-only connection to the same file, opened without the checks of
    /// `openForReading` (this writer made them): lookups while this connection is
    /// busy writing. nil for an in-memory database or when it cannot be opened.
    public func readerAlongside() -> LogStore? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return (try? DatabaseQueue(path: path, configuration: LogStore.configuration(readOnly: true))).map { LogStore($0) }
    }

    /// Reads the database at `path` on `count` connections at once, all on one
    /// snapshot (see `SnapshotReaders`); nil, starting nothing, while an ingest writes it.
    public static func readInParallel(path: String, count: Int,
                                      body: @escaping @Sendable (Int, StoreReader) throws -> Void) throws -> SnapshotReaders? {
        try SnapshotReaders.start(path: path, count: count, body: body)
    }

    /// Opens an existing database read-only (SQL that writes fails).
    public static func openForReading(_ path: String) throws -> LogStore {
        LogStore(try openQueueForReading(path))
    }

    static func openQueueForReading(_ path: String, allowingOlder: Bool = false) throws -> DatabaseQueue {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError.missing(path: path) }
        rollBackInterruptedLoad(path)
        func open(_ location: String) throws -> DatabaseQueue {
            let q = try DatabaseQueue(path: location, configuration: configuration(readOnly: true))
            try q.read { db in
                try checkOwnership(db, path: path, isNew: false)
                if try Schema.isSuperseded(db) { throw StoreError.newerSchema(path: path) }
                if !allowingOlder, try Schema.needsMigration(db) { throw StoreError.olderSchema(path: path) }
            }
            return q
        }
        do {
            return try open(path)
        } catch let e as StoreError {
            throw e
        } catch {
            // Store safety: a WAL database in a read-only directory (or a read-only
            // copy without its -shm) cannot set up the WAL index. With no -wal file
            // everything committed is in the main file, so it is read as immutable.
            // Never with a journal left by a killed bulk load: the file alone may then hold half a transaction.
            if let e = error as? DatabaseError, e.resultCode == .SQLITE_READONLY || e.resultCode == .SQLITE_CANTOPEN,
               !FileManager.default.fileExists(atPath: path + "-wal"), !FileManager.default.fileExists(atPath: path + "-journal"),
               let encoded = URL(fileURLWithPath: path).path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) {
                do { return try open("file:\(encoded)?immutable=1") } catch let e as StoreError { throw e } catch {}
            }
            if FileManager.default.fileExists(atPath: path + "-journal") {
                throw StoreError.cannotOpen(path: path, reason: "an interrupted ingest left its journal (\(path)-journal), which only "
                                            + "a process that may write the database can roll back (sftplog migrate)")
            }
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
    }

    static func checkOwnership(_ db: Database, path: String, isNew: Bool) throws {
        let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if appID == Schema.applicationID { return }
        let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'") ?? 0
        if appID == 0, tables > 0, try isOursBeingCreated(db) { return }
        if appID != 0 || tables > 0 { throw StoreError.notOurs(path: path) }
    }

    /// Store safety: `application_id` is set after the migrations, in a separate
    /// transaction, so a database can be seen (by a concurrent ingest or query,
    /// or after a kill in between) with sftplog's migrations and no mark yet.
    /// It is ours when every migration it records is one of ours.
    static func isOursBeingCreated(_ db: Database) throws -> Bool {
        guard try db.tableExists("grdb_migrations") else { return false }
        let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        return !applied.isEmpty && Set(applied).isSubset(of: Set(Schema.migrator.migrations))
    }

    /// Refuses a database whose pages are damaged (`PRAGMA quick_check`), read-only.
    static func checkIntegrity(_ reader: DatabaseQueue, path: String) throws {
        let problems: [String]
        do {
            problems = try reader.read { try String.fetchAll($0, sql: "PRAGMA quick_check(3)") }
        } catch {
            throw StoreError.cannotOpen(path: path, reason: describe(error))
        }
        guard problems != ["ok"] else { return }
        let detail = problems.joined(separator: "; ").replacingOccurrences(of: "\n", with: " ")
        throw StoreError.cannotOpen(path: path, reason: "database file is corrupt (\(detail)); refusing to write into it")
    }

    /// One line for an error met while writing the database at `path`: SQLite's
    /// errors in words and the file named (others as they describe themselves).
    public static func explain(_ error: Error, database path: String, during: String? = nil) -> String {
        guard error is DatabaseError else { return "\(error)" }
        return "\(path): \(describe(error))" + (during.map { " (while \($0))" } ?? "")
    }

    public static func describe(_ error: Error) -> String {
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_NOTADB: return "not an SQLite database"
            case .SQLITE_CORRUPT: return "database file is corrupt"
            case .SQLITE_CANTOPEN: return "cannot open file (missing directory or no permission)"
            case .SQLITE_READONLY: return "database is read-only"
            case .SQLITE_FULL: return "disk full"
            case .SQLITE_IOERR:
                // A failed write (EFBIG past `ulimit -f`, EIO, ENOSPC seen as EIO) rolls the transaction back.
                if e.extendedResultCode == .SQLITE_IOERR_WRITE || e.extendedResultCode == .SQLITE_IOERR_FSYNC {
                    return "cannot write the database (disk full, file size limit or I/O error); its last transaction was rolled back"
                }
                return "I/O error (\(e.message ?? "no detail"))"
            default: return e.message ?? "\(e)"
            }
        }
        return "\(error)"
    }
}

/// Our log record, not GRDB's `Record` class.
typealias Record = SFTPLogRecords.Record
