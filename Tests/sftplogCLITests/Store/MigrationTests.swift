import Foundation
import XCTest
import GRDB
import SFTPLogTestSupport

/// A database written by the release before migration v8 (`records` a table)
/// is migrated in place, and reads back exactly as it was.
final class MigrationTests: XCTestCase {
    /// Every column but `raw_bytes`, which is NULL wherever the view rebuilds
    /// `raw` (since v8 also OpenSSH lines: a `debugN: ` prefix and the message).
    static let recordColumns = "id, source_id, line, seq, line_count, kind, file, layout, ts, ts_utc, ts_note, event_id, component, "
        + "account, peer_address, peer_port, message, text, catalog_status, catalog_variant, fields, extra, diagnostic, raw, "
        + "session_id, session_duplicate"

    /// The sessions' file operations and findings (views since migration v9), and offered algorithms.
    static let children = ["SELECT * FROM session_operations ORDER BY session_id, position",
                           "SELECT * FROM findings ORDER BY session_id, position",
                           "SELECT * FROM session_algorithms_offered ORDER BY session_id, side, slot, position"]

    func rows(_ path: String, _ sql: String) throws -> [[DatabaseValue]] {
        var c = Configuration()
        c.readonly = true
        let q = try DatabaseQueue(path: path, configuration: c)
        defer { try? q.close() }
        return try q.read { db in try Row.fetchAll(db, sql: sql).map { Array($0.databaseValues) } }
    }

    func olderDatabase(in dir: URL, schema: String = "v7") throws -> String {
        let path = dir.appendingPathComponent("\(schema).db").path
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gunzip.arguments = ["-c", "gzip -dc \"$0\" > \"$1\"", Paths.fixture("store/\(schema)-samples.db.gz"), path]
        try gunzip.run()
        gunzip.waitUntilExit()
        XCTAssertEqual(gunzip.terminationStatus, 0)
        return path
    }

    func testAnOlderDatabaseIsMigratedInPlaceAndReadsBackAsItWas() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try olderDatabase(in: dir)
        // The same rows match (the ranks move: the index keeps no token positions or counts since v8).
        // The columns sessions had (v12 adds the span of their records' ids).
        let sessionColumns = try rows(path, "SELECT name FROM pragma_table_info('sessions')").map { "\"\(String.fromDatabaseValue($0[0])!)\"" }
            .joined(separator: ", ")
        let search = "SELECT rowid FROM records_fts WHERE records_fts MATCH 'connection OR denied OR closed OR file' ORDER BY rowid"
        let before = (records: try rows(path, "SELECT \(Self.recordColumns) FROM records ORDER BY id"),
                      fts: try rows(path, search),
                      sessions: try rows(path, "SELECT \(sessionColumns) FROM sessions ORDER BY id"),
                      children: try Self.children.map { try rows(path, $0) },
                      sources: try rows(path, "SELECT * FROM sources ORDER BY id"))
        XCTAssertGreaterThan(before.records.count, 900)
        XCTAssertGreaterThan(before.fts.count, 100)
        XCTAssertEqual(try rows(path, "SELECT type FROM sqlite_master WHERE name = 'records'"), [["table".databaseValue]])

        // A reader refuses it and says how to bring it up to date.
        let refused = try CLI.run(["sessions", "--db", path, "--json"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("sftplog migrate --db"), refused.stderr)

        let migrated = try CLI.run(["migrate", "--db", path])
        XCTAssertEqual(migrated.status, 0, migrated.stderr)
        XCTAssertTrue(migrated.stderr.contains("v8-compact-records") && migrated.stderr.contains("v9-compact-session-rows"), migrated.stderr)
        XCTAssertEqual(try rows(path, "SELECT type FROM sqlite_master WHERE name = 'records'"), [["view".databaseValue]])

        let after = try rows(path, "SELECT \(Self.recordColumns) FROM records ORDER BY id")
        XCTAssertEqual(after.count, before.records.count)
        for (a, b) in zip(after, before.records) where a != b {
            XCTFail("record \(b[0]): \(b) became \(a)")
        }
        XCTAssertEqual(try rows(path, search), before.fts)
        XCTAssertEqual(try rows(path, "SELECT \(sessionColumns) FROM sessions ORDER BY id"), before.sessions)
        XCTAssertGreaterThan(before.children[0].count, 20)
        XCTAssertGreaterThan(before.children[1].count, 20)
        XCTAssertGreaterThan(before.children[2].count, 20)
        for (sql, rows) in zip(Self.children, before.children) { XCTAssertEqual(try self.rows(path, sql), rows, sql) }
        XCTAssertEqual(try rows(path, "SELECT type FROM sqlite_master WHERE name IN ('session_operations', 'findings')"),
                       Array(repeating: ["view".databaseValue], count: 2))
        XCTAssertEqual(try rows(path, "SELECT * FROM sources ORDER BY id"), before.sources)
        // The compact form is used: most resolved messages are no longer stored as text.
        let forms = try rows(path, "SELECT count(*), count(vals), count(message) FROM record_rows WHERE wording_id > 0")[0]
        XCTAssertGreaterThan(Int.fromDatabaseValue(forms[1]) ?? 0, (Int.fromDatabaseValue(forms[0]) ?? 0) * 9 / 10, "\(forms)")

        // The commands read it again, and a second migrate has nothing to do.
        let sessions = try CLI.run(["sessions", "--db", path, "--json"])
        XCTAssertEqual(sessions.status, 0, sessions.stderr)
        let again = try CLI.run(["migrate", "--db", path])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("already up to date"), again.stderr)
    }

    /// A database of the release before v10 (records already a view) gains the
    /// term columns and the offer lists in place; its rows read back as they
    /// were, and new rows store repeated messages once and read back as a new
    /// database gives them.
    func testAv9DatabaseIsMigratedToTermsAndOfferLists() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try olderDatabase(in: dir, schema: "v9")
        let before = try rows(path, "SELECT \(Self.recordColumns) FROM records ORDER BY id")
        let sessionColumns = try rows(path, "SELECT name FROM pragma_table_info('sessions')").map { "\"\(String.fromDatabaseValue($0[0])!)\"" }
            .joined(separator: ", ")
        let sessions = try rows(path, "SELECT \(sessionColumns) FROM sessions ORDER BY id")
        let children = try Self.children.map { try rows(path, $0) }
        XCTAssertGreaterThan(before.count, 300)
        XCTAssertGreaterThan(children[2].count, 20)
        let migrated = try CLI.run(["migrate", "--db", path])
        XCTAssertEqual(migrated.status, 0, migrated.stderr)
        XCTAssertTrue(migrated.stderr.contains("v10-whole-value-terms") && migrated.stderr.contains("v12-session-record-spans")
                      && migrated.stderr.contains("v13-compact-sessions")
                      && !migrated.stderr.contains("v9-compact"), migrated.stderr)
        XCTAssertEqual(try rows(path, "SELECT \(Self.recordColumns) FROM records ORDER BY id"), before)
        for (sql, old) in zip(Self.children, children) { XCTAssertEqual(try rows(path, sql), old, sql) }
        XCTAssertEqual(try rows(path, "SELECT \(sessionColumns) FROM sessions ORDER BY id"), sessions)
        XCTAssertEqual(try rows(path, "SELECT type FROM sqlite_master WHERE name = 'sessions'"), [["view".databaseValue]])
        XCTAssertEqual(try rows(path, "SELECT type FROM sqlite_master WHERE name = 'session_algorithms_offered'"), [["view".databaseValue]])
        // Every session's span of record ids is exactly where its records are (v12).
        let spans = try rows(path, """
            SELECT count(*), sum(s.first_record_id = r.a AND s.last_record_id = r.b) FROM sessions s
            JOIN (SELECT session_id AS sid, min(id) AS a, max(id) AS b FROM records WHERE session_id IS NOT NULL GROUP BY 1) r ON r.sid = s.id
            """)[0]
        XCTAssertGreaterThan(Int.fromDatabaseValue(spans[0]) ?? 0, 3)
        XCTAssertEqual(spans[0], spans[1])
        XCTAssertEqual(try rows(path, "SELECT count(*) FROM sqlite_master WHERE name = 'record_rows_session'"), [[0.databaseValue]])

        let log = Paths.sample("openssh/ssh-vvv-default-command.log")
        XCTAssertEqual(try CLI.run(["ingest", "--quiet", "--db", path, log]).status, 0)
        let fresh = dir.appendingPathComponent("fresh.db").path
        XCTAssertEqual(try CLI.run(["ingest", "--quiet", "--db", fresh, log]).status, 0)
        let columns = Self.recordColumns.replacingOccurrences(of: "id, source_id, ", with: "")
        let one = "SELECT \(columns) FROM records WHERE file LIKE '%ssh-vvv-default-command.log' ORDER BY line, seq"
        let added = try rows(path, one)
        XCTAssertGreaterThan(added.count, 100)
        XCTAssertEqual(added, try rows(fresh, one))
        let terms = try rows(path, "SELECT count(message_term_id), count(extra_term_id) FROM record_rows WHERE source_id = (SELECT max(id) FROM sources)")[0]
        XCTAssertGreaterThan(Int.fromDatabaseValue(terms[0]) ?? 0, 10, "\(terms)")
        XCTAssertGreaterThan(Int.fromDatabaseValue(terms[1]) ?? 0, 10, "\(terms)")
        // The same session, but for its row ids and those of its source and records.
        XCTAssertEqual(try rows(path, "SELECT * FROM sessions WHERE file LIKE '%ssh-vvv-default-command.log'").map { Array($0.dropFirst(2).dropLast(2)) },
                       try rows(fresh, "SELECT * FROM sessions").map { Array($0.dropFirst(2).dropLast(2)) })
        // Sessions are stored compact: times as numbers, repeated texts as terms.
        let compact = try rows(path, """
            SELECT count(*), count(start_us), sum(typeof(terrapin_explanation) = 'integer'), count(details_tail) FROM session_rows
            """)[0]
        XCTAssertGreaterThan(Int.fromDatabaseValue(compact[3]) ?? 0, 0, "an OpenSSH session's proposals apart: \(compact)")
        XCTAssertGreaterThan(Int.fromDatabaseValue(compact[1]) ?? 0, 3, "\(compact)")
        XCTAssertGreaterThan(Int.fromDatabaseValue(compact[2]) ?? 0, 0, "\(compact)")

        // Sessions stored before v15 have no evidence (null, not an empty list) until
        // `migrate --rebuild-sessions` builds them again from their records.
        func evidence() throws -> [Any] {
            let r = try CLI.run(["sessions", "--json", "--evidence", "--db", path])
            XCTAssertEqual(r.status, 0, r.stderr)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]).map { $0["evidence"] as Any }
        }
        let old = try evidence()
        XCTAssertGreaterThan(old.filter { $0 is NSNull }.count, 3)
        XCTAssertEqual(old.filter { $0 is NSNull }.count, old.count - 1, "only the session ingested since has links")
        let rebuilt = try CLI.run(["migrate", "--rebuild-sessions", "--timezone", "UTC", "--db", path])
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertTrue(rebuilt.stderr.contains("rebuilt"), rebuilt.stderr)
        let now = try evidence()
        XCTAssertEqual(now.count, old.count)
        XCTAssertTrue(now.allSatisfy { ($0 as? [Any])?.isEmpty == false }, "every session has its links after the rebuild")
        let audit = try CLI.run(["audit", "--json", "--db", path])
        XCTAssertFalse(audit.stdout.contains(#""evidence":[]"#), "a finding without evidence after the rebuild")
    }

    func testTheNextIngestMigratesAnOlderDatabase() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try olderDatabase(in: dir)
        let count = try rows(path, "SELECT count(*) FROM records")
        let r = try CLI.run(["ingest", "--quiet", "--db", path, Paths.sample("sftpplus/dev-ts-first-5.26.log")])
        XCTAssertEqual(r.status, 0, r.stderr)
        // Already stored: nothing added, and the records are the view's now.
        XCTAssertEqual(try rows(path, "SELECT count(*) FROM records"), count)
        XCTAssertEqual(try rows(path, "SELECT type FROM sqlite_master WHERE name = 'records'"), [["view".databaseValue]])
    }

    /// A database of the release before v16 (a unique index on every record's
    /// place) loses the index and gains `record_line_map`; its records, evidence
    /// links, sessions and answers read back as they were, and a log that grew
    /// since goes on where it stopped.
    func testAv15DatabaseFindsRecordsByTheLineMap() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try olderDatabase(in: dir, schema: "v15")
        let queries = ["SELECT \(Self.recordColumns) FROM records ORDER BY id", "SELECT * FROM evidence ORDER BY session_id, position",
                       "SELECT * FROM sessions ORDER BY id", "SELECT * FROM sources ORDER BY id"] + Self.children
        let before = try queries.map { try rows(path, $0) }
        let numbered = "SELECT rowid, id FROM session_rows ORDER BY rowid"
        let numbers = try rows(path, numbered)
        XCTAssertGreaterThan(before[0].count, 300)
        XCTAssertGreaterThan(before[1].count, 100)
        XCTAssertEqual(before[1].filter { $0[8].isNull }.count, 0, "every link names its record")
        XCTAssertEqual(try rows(path, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_autoindex_record_rows_1'"), [[1.databaseValue]])
        let answers = { (args: [String]) throws -> String in
            let r = try CLI.run(args + ["--db", path])
            // audit exits 2 when it flags a session.
            XCTAssertTrue([0, 2].contains(r.status), r.stderr)
            return r.stdout
        }
        let refused = try CLI.run(["audit", "--json", "--db", path])
        XCTAssertTrue(refused.status != 0 && refused.stderr.contains("sftplog migrate --db"), refused.stderr)
        let migrated = try CLI.run(["migrate", "--db", path])
        XCTAssertEqual(migrated.status, 0, migrated.stderr)
        for m in ["v16-record-line-map", "v17-session-child-terms", "v18-session-row-keys"] { XCTAssertTrue(migrated.stderr.contains(m), migrated.stderr) }
        for (sql, old) in zip(queries, before) { XCTAssertEqual(try rows(path, sql), old, sql) }
        // v17: paths, details and algorithm names may hold term ids; the unused index is gone, the used ones are back.
        XCTAssertEqual(try rows(path, """
            SELECT name, type FROM pragma_table_info('operation_rows') WHERE name IN ('path', 'to_path', 'local_path', 'detail')
            UNION ALL SELECT name, type FROM pragma_table_info('finding_rows') WHERE name = 'algorithm' ORDER BY 1
            """).map { $0[1] }, Array(repeating: "".databaseValue, count: 5))
        // v18: sessions keep their numbers, now a declared rowid; child rows are keyed by them, and no index
        // repeats a session id (a WITHOUT ROWID table's key is its table).
        XCTAssertEqual(try rows(path, numbered), numbers)
        XCTAssertEqual(try rows(path, "SELECT pk FROM pragma_table_info('session_rows') WHERE name = 'rowid'"), [[1.databaseValue]])
        let childTables = ["operation_rows", "finding_rows", "offer_rows", "evidence_rows"]
        for t in childTables {
            XCTAssertEqual(try rows(path, "SELECT pk FROM pragma_table_info('\(t)') WHERE name IN ('session_row', 'session_id')"), [[1.databaseValue]], t)
        }
        XCTAssertEqual(try rows(path, """
            SELECT name FROM sqlite_master WHERE tbl_name IN ('\(childTables.joined(separator: "', '"))') AND type = 'index' AND sql IS NOT NULL
            """), [])
        XCTAssertEqual(try rows(path, "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'record_rows' AND type = 'index'"), [[0.databaseValue]])
        // An entry where a source starts, resumes or a record spans lines or shares one; not one per record.
        let entries = try rows(path, "SELECT count(*), count(DISTINCT source_id) FROM record_line_map")[0]
        XCTAssertEqual(entries[1], 5.databaseValue)
        XCTAssertGreaterThan(Int.fromDatabaseValue(entries[0]) ?? 0, 20)
        XCTAssertLessThan(Int.fromDatabaseValue(entries[0]) ?? 0, before[0].count / 3)
        let audit = try answers(["audit", "--json"]), sessions = try answers(["sessions", "--json", "--evidence"])
        XCTAssertTrue(audit.contains("\"record_id\""), audit)

        // The log that grew goes on where it stopped, as a fresh database stores it.
        let grown = dir.appendingPathComponent("grown.log")
        try FileManager.default.copyItem(atPath: Paths.sample("sftpplus/dev-ts-first-5.26.log"), toPath: grown.path)
        let handle = try FileHandle(forWritingTo: grown)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("2026-01-05T10:00:00.000000Z 30014 sftp-1 Unknown 10.9.9.9:50000 New SSH connection made.\n".utf8))
        try handle.close()
        let more = try CLI.run(["ingest", "--quiet", "--timezone", "UTC", "--db", path, "grown.log"], cwd: dir)
        XCTAssertEqual(more.status, 0, more.stderr)
        let fresh = dir.appendingPathComponent("fresh.db").path
        XCTAssertEqual(try CLI.run(["ingest", "--quiet", "--timezone", "UTC", "--db", fresh, "grown.log"], cwd: dir).status, 0)
        let columns = Self.recordColumns.replacingOccurrences(of: "id, source_id, ", with: "")
        let one = "SELECT \(columns) FROM records WHERE file = 'grown.log' ORDER BY line, seq"
        XCTAssertEqual(try rows(path, one), try rows(fresh, one))
        XCTAssertEqual(try rows(path, one).count, before[0].filter { $0[6] == "grown.log".databaseValue }.count + 1)
        // The other sources' records, and their sessions' links, are as they were.
        let others = "SELECT \(Self.recordColumns) FROM records WHERE file <> 'grown.log' ORDER BY id"
        XCTAssertEqual(try rows(path, others), before[0].filter { $0[6] != "grown.log".databaseValue })
        XCTAssertGreaterThan(try rows(path, others).count, 200)
        let links = "SELECT * FROM evidence WHERE file <> 'grown.log' ORDER BY session_id, position"
        XCTAssertEqual(try rows(path, links), before[1].filter { $0[5] != "grown.log".databaseValue })
        XCTAssertTrue(sessions.contains("\"record_id\""))
        // A log's sessions written by an ingest store repeated paths and algorithm names once (a resumed
        // source's sessions, rebuilt whole, are stored as texts), and the views read them back the same.
        let terms = try rows(fresh, """
            SELECT (SELECT count(*) FROM operation_rows WHERE typeof(path) = 'integer'), (SELECT count(*) FROM finding_rows WHERE typeof(algorithm) = 'integer')
            """)[0]
        XCTAssertGreaterThan(Int.fromDatabaseValue(terms[0]) ?? 0, 5, "\(terms)")
        XCTAssertGreaterThan(Int.fromDatabaseValue(terms[1]) ?? 0, 5, "\(terms)")
        let children = Self.children.map { $0.replacingOccurrences(of: "ORDER BY", with: "WHERE session_id IN (SELECT id FROM sessions WHERE file = 'grown.log') ORDER BY") }
        for sql in children { XCTAssertEqual(try rows(path, sql), try rows(fresh, sql), sql) }
    }
}
