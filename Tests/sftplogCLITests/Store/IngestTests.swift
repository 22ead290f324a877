import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogOpenSSH
@testable import SFTPLogStore

final class IngestTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("test.db").path }

    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func count(_ sql: String = "SELECT count(*) FROM records") throws -> Int {
        try LogStore.openForReading(db).queue.read { try Int.fetchOne($0, sql: sql)! }
    }

    func ingest(_ args: [String], stdin: Data? = nil) throws -> CLI.Result {
        try CLI.run(["ingest", "--db", db, "--json"] + args, stdin: stdin)
    }

    func testIngestTwiceAddsNothing() throws {
        let files = ["dev-ts-first-5.26", "dev-id-first-4.0", "dev-csv-4.16", "seed-server-3.30", "layouts/json-batch-5.26"].map { Paths.sample("sftpplus/\($0).log") }
        let first = try ingest(files)
        XCTAssertEqual(first.status, 0, first.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as! [String: Any]
        let n = try count()
        XCTAssertEqual(summary["records"] as? Int, n)
        XCTAssertEqual(n, 104 + 75 + 79 + 18 + 104)
        XCTAssertEqual(try count("SELECT count(*) FROM sources"), 5)
        let second = try ingest(files)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(try count(), n)
        let s2 = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(s2["records"] as? Int, 0)
        XCTAssertEqual(try count("SELECT count(*) FROM sources"), 5)
        // The same content under another name is the same source.
        let copy = dir.appendingPathComponent("renamed.log").path
        try FileManager.default.copyItem(atPath: files[0], toPath: copy)
        XCTAssertEqual(try ingest([copy]).status, 0)
        XCTAssertEqual(try count(), n)
    }

    func testGrownFileAddsOnlyNewLines() throws {
        let lines = try String(contentsOfFile: Paths.sample("sftpplus/dev-ts-first-5.26.log"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let path = dir.appendingPathComponent("server.log").path
        try (lines[0..<50].joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ingest([path]).status, 0)
        XCTAssertEqual(try count(), 50)
        try (lines.joined(separator: "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        let r = try ingest([path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try count(), 104)
        XCTAssertEqual(try count("SELECT count(DISTINCT line) FROM records"), 104)
        XCTAssertEqual(try count("SELECT count(*) FROM sources"), 1)
        XCTAssertEqual(try count("SELECT max(line) FROM records"), 104)
        // FTS stays consistent with the table after the tail was re-read.
        XCTAssertEqual(try count("SELECT count(*) FROM records_fts WHERE records_fts MATCH 'connection'"),
                       try count("SELECT count(*) FROM records WHERE message LIKE '%connection%'"))
    }

    /// A database written before `v6-fts-without-column-sizes` gets the message
    /// index rebuilt without per-row token counts, and it answers as before: the
    /// same rows for each term, in the same `rank` order, with the same scores.
    func testOlderFullTextIndexIsRebuiltAndAnswersTheSame() throws {
        let files = ["dev-ts-first-5.26", "dev-id-first-4.0", "dev-csv-4.16", "seed-server-3.30", "seed-client-3.31"].map { Paths.sample("sftpplus/\($0).log") }
        XCTAssertEqual(try ingest(files).status, 0)
        let terms = ["connection", "rename", "upload OR download", "file transfer", "user*", "failed NOT password"]
        func answers(_ q: DatabaseQueue) throws -> [String: [String]] {
            try q.read { db in
                var out: [String: [String]] = [:]
                for t in terms {
                    out[t] = try Row.fetchAll(db, sql: "SELECT rowid, round(bm25(records_fts), 9) AS score FROM records_fts WHERE records_fts MATCH ? ORDER BY rank, rowid",
                                              arguments: [t]).map { "\($0["rowid"] as Int64) \($0["score"] as Double)" }
                }
                return out
            }
        }
        let fresh = try answers(try LogStore.openForReading(db).queue)
        XCTAssertGreaterThan(fresh["connection"]!.count, 20)
        XCTAssertGreaterThan(fresh.values.filter { !$0.isEmpty }.count, 3)

        let old = dir.appendingPathComponent("v5.db").path
        let q5 = try DatabaseQueue(path: old)
        try Schema.migrator.migrate(q5, upTo: "v5-sessions-order-index")
        // The columns of the `records` table before migration v8 (now the view's).
        let cols = """
            id, source_id, line, seq, line_count, kind, file, layout, ts, ts_utc, ts_note, event_id, component, account, peer_address,
            peer_port, message, text, catalog_status, catalog_variant, fields, extra, diagnostic, raw_bytes, session_id, session_duplicate
            """
        try q5.write { db in
            try db.execute(sql: "PRAGMA application_id = \(Schema.applicationID)")
            try db.execute(sql: "ATTACH ? AS src", arguments: [self.db])
            try db.execute(sql: "INSERT INTO sources SELECT * FROM src.sources")
            try db.execute(sql: "INSERT INTO catalog_variants SELECT * FROM src.catalog_variants")
            try db.execute(sql: "INSERT INTO records(\(cols)) SELECT \(cols) FROM src.records")
            try db.execute(sql: "INSERT INTO records_fts(records_fts) VALUES('rebuild')")
        }
        func ftsSQL(_ q: DatabaseQueue) throws -> String {
            try q.read { try String.fetchOne($0, sql: "SELECT sql FROM sqlite_schema WHERE name = 'records_fts'")! }
        }
        XCTAssertFalse(try ftsSQL(q5).contains("columnsize"))
        XCTAssertTrue(try q5.read { try $0.tableExists("records_fts_docsize") })
        let before = try answers(q5)
        try q5.close()

        let upgraded = try LogStore.openForWriting(old).queue
        XCTAssertTrue(try ftsSQL(upgraded).contains("columnsize=0"))
        XCTAssertFalse(try upgraded.read { try $0.tableExists("records_fts_docsize") })
        try upgraded.write { try $0.execute(sql: "INSERT INTO records_fts(records_fts, rank) VALUES('integrity-check', 1)") }
        // The same rows match. Migration v8 indexes only the rows with a message, as
        // an ingest does, so the upgraded scores are the fresh ingest's; 'rebuild'
        // (v6) also counted the rows without a message as documents, which moved the
        // scores in the third decimal.
        func rows(_ a: [String: [String]]) -> [String: [String]] { a.mapValues { $0.map { String($0.split(separator: " ")[0]) }.sorted() } }
        XCTAssertEqual(rows(try answers(upgraded)), rows(before))
        XCTAssertEqual(try answers(upgraded), fresh)
        XCTAssertEqual(rows(fresh), rows(before))
    }

    /// Many inputs in one run: each is read while the one before finishes
    /// writing, yet sources are stored one after another in input order, a
    /// source still being written is found by the next input that repeats or
    /// grows it, and each failure is reported for its own input (in order).
    func testManyInputsInOneRunKeepOrderDuplicatesAndTheirOwnErrors() throws {
        let sample = Paths.sample("sftpplus/dev-ts-first-5.26.log")
        let text = try String(contentsOfFile: sample, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        func file(_ name: String, _ content: String) throws -> String {
            let p = dir.appendingPathComponent(name).path
            try content.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        let start = try file("start.log", lines[0..<50].joined(separator: "\n") + "\n")
        let whole = try file("whole.log", text)
        let copy = try file("copy.log", text)
        // A gzip cut in half: its first records are stored, then its error is reported.
        let gz = dir.appendingPathComponent("cut.log.gz").path
        let z = Process()
        z.executableURL = URL(fileURLWithPath: "/bin/sh")
        z.arguments = ["-c", "gzip -c \"$0\" > \"$1\"", Paths.sample("sftpplus/dev-id-first-4.0.log"), gz + ".full"]
        try z.run(); z.waitUntilExit()
        let full = try Data(contentsOf: URL(fileURLWithPath: gz + ".full"))
        try full.prefix(full.count / 2).write(to: URL(fileURLWithPath: gz))
        let missing = dir.appendingPathComponent("missing.log").path
        let csv = Paths.sample("sftpplus/dev-csv-4.16.log")
        // Shorter than a head (4 KiB): found by its own head length.
        let tiny = try file("tiny.log", lines[0..<3].joined(separator: "\n") + "\n")
        let tinyCopy = try file("tiny-copy.log", lines[0..<3].joined(separator: "\n") + "\n")

        // (The same path twice is one input.)
        let r = try ingest([start, whole, copy, gz, whole, missing, csv, tiny, tinyCopy])
        XCTAssertEqual(r.status, 1, r.stderr)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("sftplog:") }
        XCTAssertEqual(errors.count, 2, r.stderr)
        XCTAssertTrue(errors.first?.contains("cut.log.gz") == true && errors.first?.contains("truncated") == true, r.stderr)
        XCTAssertTrue(errors.last?.contains("missing.log") == true, r.stderr)

        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let inputs = summary["inputs"] as! [[String: Any]]
        XCTAssertEqual(inputs.map { ($0["name"] as! String).split(separator: "/").last.map(String.init)! },
                       ["start.log", "whole.log", "copy.log", "dev-csv-4.16.log", "tiny.log", "tiny-copy.log"])
        // whole.log continues start.log (its last record, which might have grown, read again).
        XCTAssertEqual(inputs.map { $0["records"] as! Int }, [50, 55, 0, 79, 3, 0])
        XCTAssertEqual(inputs.map { $0["already_stored"] as! Bool }, [false, false, true, false, false, true])
        XCTAssertEqual(inputs.map { $0["resumed"] as! Bool }, [false, true, false, false, false, false])
        XCTAssertEqual(inputs.map { $0["source_id"] as! Int }, [1, 1, 1, 3, 4, 4])

        try LogStore.openForReading(db).queue.read { db in
            let sources = try Row.fetchAll(db, sql: "SELECT id, name, complete, records FROM sources ORDER BY id")
            XCTAssertEqual(sources.count, 4)
            XCTAssertEqual(sources.map { $0["id"] as Int64 }, [1, 2, 3, 4])
            XCTAssertTrue((sources[1]["name"] as String).hasSuffix("cut.log.gz"))
            XCTAssertEqual(sources[0]["records"] as Int, 104)
            XCTAssertEqual(sources[2]["records"] as Int, 79)
            XCTAssertGreaterThan(try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE source_id = 2")!, 0)
            // One source after another: record ids never go back to an earlier source.
            let order = try Int64.fetchAll(db, sql: "SELECT source_id FROM records ORDER BY id")
            XCTAssertEqual(order.count, 104 + 79 + 3 + (try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE source_id = 2")!))
            XCTAssertTrue(zip(order, order.dropFirst()).allSatisfy { $0 <= $1 }, "records of sources interleaved")
        }
    }

    /// Small sources share transactions on the run's one writer: a source whose
    /// write fails (here a trigger refuses its rows) loses only its own rows and
    /// reports its own error, in input order; the sources around it are stored whole.
    func testAWriteFailingForOneSourceLeavesTheOthersStored() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Paths.sample("openssh")).filter { $0.hasSuffix(".log") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 10)
        // The fifth is the one refused.
        var inputs: [String] = []
        for (i, n) in names.enumerated() {
            let p = dir.appendingPathComponent(i == 4 ? "poison-\(n)" : n).path
            try FileManager.default.copyItem(atPath: Paths.sample("openssh/\(n)"), toPath: p)
            inputs.append(p)
        }
        let reference = dir.appendingPathComponent("reference.db").path
        let ref = try CLI.run(["ingest", "--db", reference, "--json"] + inputs.enumerated().filter { $0.offset != 4 }.map(\.element))
        XCTAssertEqual(ref.status, 0, ref.stderr)
        XCTAssertEqual(try ingest([Paths.sample("sftpplus/dev-id-first-4.0.log")]).status, 0)
        // A plain connection: LogStore's writer lock would be held by this test process until it exits.
        try DatabaseQueue(path: db).write { db in
            try db.execute(sql: """
                CREATE TRIGGER poison BEFORE INSERT ON record_rows WHEN (SELECT name FROM sources WHERE id = NEW.source_id) LIKE '%poison-%'
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                """)
        }
        let r = try ingest(inputs)
        XCTAssertEqual(r.status, 1, r.stderr)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("sftplog:") }
        XCTAssertEqual(errors.count, 1, r.stderr)
        XCTAssertTrue(errors.first?.contains("poison-\(names[4])") == true && errors.first?.contains("refused by the test") == true, r.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let stored = (summary["inputs"] as! [[String: Any]]).map { ($0["name"] as! String).split(separator: "/").last.map(String.init)! }
        XCTAssertEqual(stored, names.enumerated().filter { $0.offset != 4 }.map(\.element))
        // Every other source stored exactly as a run without the refused one stores it.
        func dump(_ path: String) throws -> [String] {
            try LogStore.openForReading(path).queue.read { db in
                try String.fetchAll(db, sql: """
                    SELECT s.name || '|' || s.complete || '|' || s.records || '|' || r.line || '|' || r.seq || '|' || r.kind || '|'
                      || coalesce(r.message, '') || '|' || coalesce(r.session_id, '')
                    FROM records r JOIN sources s ON s.id = r.source_id WHERE s.name NOT LIKE '%dev-id-first%' ORDER BY s.name, r.line, r.seq
                    """)
            }
        }
        XCTAssertEqual(try dump(db), try dump(reference))
        XCTAssertEqual(try count("SELECT count(*) FROM sources WHERE name LIKE '%poison-%'"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM sessions WHERE source_id NOT IN (SELECT id FROM sources)"), 0)
        let transcriptSessions = "SELECT count(*) FROM sessions WHERE source_id IN (SELECT id FROM sources WHERE name NOT LIKE '%dev-id-first%')"
        XCTAssertEqual(try count(transcriptSessions), try LogStore.openForReading(reference).queue.read { try Int.fetchOne($0, sql: transcriptSessions)! })
    }

    func testStdinFollowsTheSameRule() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-id-first-4.0.log")))
        XCTAssertEqual(try ingest(["-"], stdin: data).status, 0)
        XCTAssertEqual(try count(), 75)
        XCTAssertEqual(try ingest(["-"], stdin: data).status, 0)
        XCTAssertEqual(try count(), 75)
        // Piping the file and naming it is still one source.
        XCTAssertEqual(try ingest([Paths.sample("sftpplus/dev-id-first-4.0.log")]).status, 0)
        XCTAssertEqual(try count(), 75)
        XCTAssertEqual(try count("SELECT count(*) FROM sources"), 1)
    }

    func testStoredColumnsAndVersionInference() throws {
        XCTAssertEqual(try ingest([Paths.sample("sftpplus/dev-ts-first-5.26.log"), Paths.sample("sftpplus/seed-server-3.30.log"),
                                   Paths.sample("sftpplus/invalid-utf8-5.26.log")]).status, 0)
        let q = try LogStore.openForReading(db).queue
        try q.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM records WHERE line = 1 AND file LIKE '%dev-ts-first%'")!
            XCTAssertEqual(row["kind"], "sftpplus.event")
            XCTAssertEqual(row["layout"], "ts-first")
            XCTAssertEqual(row["ts"], "2025-11-21T08:14:14.492+02:00")
            XCTAssertEqual(row["ts_utc"], "2025-11-21T06:14:14.492Z")
            XCTAssertEqual(row["event_id"], "30014")
            XCTAssertEqual(row["account"], "Unknown")
            XCTAssertEqual(row["peer_address"], "10.0.4.28")
            XCTAssertEqual(row["peer_port"], 37545)
            XCTAssertEqual(row["message"], "New SSH connection made.")
            XCTAssertEqual(row["catalog_status"], "resolved")
            let raw: Data = row["raw"]
            XCTAssertEqual(String(decoding: raw, as: UTF8.self), "2025-11-21T08:14:14.492+02:00 30014 sftp-1 Unknown 10.0.4.28:37545 New SSH connection made.")
            // Bytes that are not UTF-8 are stored exactly.
            let bad: Data = try Data.fetchOne(db, sql: "SELECT raw FROM records WHERE file LIKE '%invalid-utf8%' AND line = 2")!
            XCTAssertTrue(bad.contains(0xC8))
            // Sources are stored in time order (the 2014 article first), so look them up by name.
            let versions = try String.fetchAll(db, sql: "SELECT coalesce(sftpplus_versions, '') FROM sources WHERE name NOT LIKE '%invalid%' ORDER BY name LIKE '%seed%'")
            XCTAssertEqual(versions[0], "5.24.0+", "wording of 20137 only documented from 5.24.0")
            XCTAssertEqual(versions[1], "3.30.0", "3.x wordings seen in the 3.30 article")
        }
    }

    /// `raw` is rebuilt from the columns for most 4.x+ lines (raw_bytes NULL):
    /// whatever was stored, every record's raw must be its line's exact bytes.
    func testRawIsTheExactLineWhetherStoredOrRebuilt() throws {
        let dirs = ["sftpplus", "sftpplus/layouts", "openssh"].map { Paths.samples.appendingPathComponent($0).path }
        let files = dirs.flatMap { d in
            ((try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []).filter { $0.hasSuffix(".log") }.map { d + "/" + $0 }
        }.sorted()
        XCTAssertGreaterThan(files.count, 10)
        XCTAssertEqual(try ingest(files).status, 2, "stored, with the invalid-UTF-8 sample's unparsed lines")
        let q = try LogStore.openForReading(db).queue
        var rebuilt = 0, checked = 0
        try q.read { db in
            for file in files {
                let data = try Data(contentsOf: URL(fileURLWithPath: file))
                // Physical lines without terminators (LF, CRLF or CR).
                var lines: [Data] = []
                var start = data.startIndex, i = data.startIndex
                while i < data.endIndex {
                    if data[i] == 0x0A || data[i] == 0x0D {
                        lines.append(data[start..<i])
                        if data[i] == 0x0D, i + 1 < data.endIndex, data[i + 1] == 0x0A { i += 1 }
                        start = i + 1
                    }
                    i += 1
                }
                if start < data.endIndex { lines.append(data[start...]) }
                let rows = try Row.fetchAll(db, sql: "SELECT line, line_count, raw, raw_bytes IS NULL AS rebuilt FROM records "
                    + "WHERE file = ? AND seq = 0 AND kind NOT LIKE 'openssh.%' ORDER BY line", arguments: [file])
                for row in rows {
                    let line: Int = row["line"], count: Int = row["line_count"]
                    guard count == 1 else { continue }
                    let raw: Data = row["raw"]
                    XCTAssertEqual(raw, Data(lines[line - 1]), "\(file):\(line)")
                    checked += 1
                    if row["rebuilt"] as Bool { rebuilt += 1 }
                }
            }
        }
        XCTAssertGreaterThan(checked, 500)
        XCTAssertGreaterThan(rebuilt, 100, "4.x+ lines are rebuilt rather than stored twice")
    }

    func testErrorsNameTheFileAndKeepWhatIsStored() throws {
        XCTAssertEqual(try ingest([Paths.sample("sftpplus/dev-id-first-4.0.log")]).status, 0)
        let missing = try ingest([dir.appendingPathComponent("nope.log").path, Paths.sample("sftpplus/dev-csv-4.16.log")])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nope.log: no such file"), missing.stderr)
        XCTAssertTrue(missing.stderr.hasPrefix("sftplog: "))
        XCTAssertEqual(try count(), 75 + 79, "the good input is still stored")
        let empty = dir.appendingPathComponent("empty.log").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let e = try ingest([empty])
        XCTAssertEqual(e.status, 1)
        XCTAssertTrue(e.stderr.contains("empty.log: empty input"), e.stderr)
        // A database that is not ours is refused and left untouched.
        let foreign = dir.appendingPathComponent("foreign.db").path
        let fq = try DatabaseQueue(path: foreign)
        try fq.write { try $0.execute(sql: "CREATE TABLE t(x); INSERT INTO t VALUES(1)") }
        let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
        let f = try CLI.run(["ingest", "--db", foreign, Paths.sample("sftpplus/dev-id-first-4.0.log")])
        XCTAssertEqual(f.status, 1)
        XCTAssertTrue(f.stderr.contains("not an sftplog database"), f.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: foreign)), before)
        // Not SQLite at all.
        let text = dir.appendingPathComponent("text.db").path
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        let t = try CLI.run(["query", "--db", text, "SELECT 1"])
        XCTAssertEqual(t.status, 1)
        XCTAssertTrue(t.stderr.contains("text.db"), t.stderr)
        XCTAssertEqual(try String(contentsOfFile: text, encoding: .utf8), "hello")
    }

    func testNewerSchemaIsRefused() throws {
        XCTAssertEqual(try ingest([Paths.sample("sftpplus/dev-id-first-4.0.log")]).status, 0)
        let q = try DatabaseQueue(path: db)
        try q.write { try $0.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES('v99-from-the-future')") }
        let r = try CLI.run(["query", "--db", db, "SELECT count(*) FROM records"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("newer sftplog"), r.stderr)
        let w = try ingest([Paths.sample("sftpplus/dev-csv-4.16.log")])
        XCTAssertEqual(w.status, 1)
        XCTAssertTrue(w.stderr.contains("newer sftplog"), w.stderr)
    }

    func testNewDatabasesUseLargePagesAndOldOnesKeepTheirs() throws {
        let sample = Paths.sample("sftpplus/dev-ts-first-5.26.log")
        XCTAssertEqual(try ingest([sample]).status, 0)
        XCTAssertEqual(try count("PRAGMA page_size"), 16384)
        // A database created with 4 KiB pages (earlier sftplog) keeps them and takes more input.
        let old = dir.appendingPathComponent("old.db").path
        try DatabaseQueue(path: old).writeWithoutTransaction { try $0.execute(sql: "PRAGMA page_size=4096; VACUUM") }
        let r = try CLI.run(["ingest", "--db", old, "-q", sample])
        XCTAssertEqual(r.status, 0, r.stderr)
        let q = try LogStore.openForReading(old).queue
        XCTAssertEqual(try q.read { try Int.fetchOne($0, sql: "PRAGMA page_size") }, 4096)
        XCTAssertEqual(try q.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM records") }, 104)
    }
}
