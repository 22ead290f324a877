import Foundation
import XCTest
import GRDB
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogStore

/// Records are found by their place (source, line, seq) through
/// `record_line_map`, not a unique index on every row (migration v16).
final class RecordLineMapTests: XCTestCase {
    /// Every test log in one database, and a log that grew between two runs so
    /// that its later records come after other sources'.
    func database(in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("all.db").path
        let grown = dir.appendingPathComponent("grown.log").path
        let lines = try String(contentsOfFile: Paths.sample("sftpplus/dev-ts-first-5.26.log"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        try (lines.prefix(30).joined(separator: "\n") + "\n").write(toFile: grown, atomically: true, encoding: .utf8)
        var first = try CLI.run(["ingest", "--quiet", "--db", path, grown])
        XCTAssertEqual(first.status, 0, first.stderr)
        first = try CLI.run(["ingest", "--quiet", "--db", path] + Paths.everyTestLog())
        XCTAssertTrue([0, 2].contains(first.status), first.stderr)
        try (lines.joined(separator: "\n")).write(toFile: grown, atomically: true, encoding: .utf8)
        let again = try CLI.run(["ingest", "--quiet", "--db", path, grown])
        XCTAssertEqual(again.status, 0, again.stderr)
        return path
    }

    func testEveryRecordIsFoundByItsPlaceAndNoneWhereThereIsNone() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let q = try DatabaseQueue(path: try database(in: dir))
        try q.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, source_id, line, seq FROM record_rows ORDER BY id")
            XCTAssertGreaterThan(rows.count, 5000)
            let sources = try Int.fetchOne(db, sql: "SELECT count(*) FROM sources") ?? 0
            XCTAssertGreaterThan(sources, 100)
            // A handful of entries per source, not one per record.
            let entries = try Int.fetchOne(db, sql: "SELECT count(*) FROM record_line_map") ?? 0
            XCTAssertLessThan(entries, rows.count / 10, "\(entries) entries for \(rows.count) records")
            XCTAssertEqual(try Int.fetchOne(db, sql: """
                SELECT count(*) FROM sqlite_master WHERE tbl_name = 'record_rows' AND type = 'index'
                """), 0, "no index over every record")
            // The grown log's records continue after other sources'.
            let grown = try Row.fetchOne(db, sql: """
                SELECT min(id), max(id), count(*) FROM record_rows WHERE source_id = (SELECT id FROM sources WHERE name LIKE '%grown.log')
                """)!
            XCTAssertGreaterThan((grown[1] as Int64) - (grown[0] as Int64) + 1, grown[2] as Int64)

            let at = try db.makeStatement(sql: "SELECT r.id FROM record_rows r WHERE \(RecordLineMap.rowAt("r", source: "?1", line: "?2", seq: "?3"))")
            var places = Set<[Int64]>()
            for row in rows {
                let id: Int64 = row[0], source: Int64 = row[1], line: Int64 = row[2], seq: Int64 = row[3]
                places.insert([source, line, seq])
                XCTAssertEqual(try Int64.fetchAll(at, arguments: [source, line, seq]), [id], "record \(id) at \(source):\(line):\(seq)")
            }
            // Places next to every record that hold none (inside multi-line records, past a line's last record, line 0).
            var absent = 0
            for row in rows {
                let source: Int64 = row[1], line: Int64 = row[2], seq: Int64 = row[3]
                for p in [[source, line, seq + 1], [source, line + 1, 0], [source, 0, 0], [source, line + 1, 1]] where !places.contains(p) {
                    XCTAssertEqual(try Int64.fetchAll(at, arguments: StatementArguments(p)), [], "\(p)")
                    absent += 1
                }
            }
            XCTAssertGreaterThan(absent, rows.count)

            // Line ranges give exactly the source's records on those lines.
            var rng = SplitMix64(seed: 7)
            let bySource = Dictionary(grouping: rows, by: { $0[1] as Int64 })
            for (source, list) in bySource {
                let maxLine = list.map { $0[2] as Int }.max() ?? 1
                for _ in 0..<4 {
                    let a = Int(rng.next() % UInt64(maxLine + 2)), b = a + Int(rng.next() % 40)
                    let want = list.filter { (a...b).contains($0[2] as Int) }.map { $0[0] as Int64 }
                    XCTAssertEqual(try Int64.fetchAll(db, sql: "SELECT id FROM record_rows r WHERE \(RecordLineMap.rowsOn("r", source: "?1", from: "?2", to: "?3")) ORDER BY id",
                                                      arguments: [source, a, b]), want, "source \(source) lines \(a)…\(b)")
                    let tail = list.filter { ($0[2] as Int) >= a }.map { $0[0] as Int64 }
                    XCTAssertEqual(try Int64.fetchAll(db, sql: "SELECT id FROM record_rows r WHERE \(RecordLineMap.rowsOn("r", source: "?1", from: "?2")) ORDER BY id",
                                                      arguments: [source, a]), tail, "source \(source) from line \(a)")
                }
                XCTAssertEqual(try Int64.fetchAll(db, sql: "SELECT id FROM record_rows r WHERE \(RecordLineMap.rowsOf("r", source: "?1")) ORDER BY id",
                                                  arguments: [source]), list.map { $0[0] as Int64 })
            }
        }
    }

    /// The writer keeps the map only if places come in order: a record at or
    /// before the source's last place is refused (the unique index refused only
    /// the same place), and nothing is written.
    func testARecordBeforeTheSourcesLastPlaceIsRefused() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("one.db").path
        let log = Paths.sample("sftpplus/dev-ts-first-5.26.log")
        XCTAssertEqual(try CLI.run(["ingest", "--quiet", "--db", path, log]).status, 0)
        let records = try Harness.parse(log)
        let q = try DatabaseQueue(path: path)
        let before = try q.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM record_rows") }
        for (line, seq) in [(records.last!.line, 0), (records.last!.line - 1, 3), (1, 0)] {
            XCTAssertThrowsError(try q.write { db in
                let terms = try TermDictionary(db)
                var used = Set<Int64>()
                var r = records[0]
                r.line = line
                let p = RecordWriter.prepare(r, seq: seq, zone: TimeZone(identifier: "UTC")!, terms: terms, used: &used)
                let writer = try RecordWriter(db)
                try writer.storeTerms(terms.terms(used))
                try writer.write(p, sourceID: 1, db: db)
            }, "line \(line) seq \(seq)") { error in
                XCTAssertTrue("\(error)".contains("came after line"), "\(error)")
            }
        }
        XCTAssertEqual(try q.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM record_rows") }, before)
        // The next line is taken, and found by its place.
        try q.write { db in
            let terms = try TermDictionary(db)
            var used = Set<Int64>()
            var r = records[0]
            r.line = records.last!.line + 5
            let p = RecordWriter.prepare(r, seq: 0, zone: TimeZone(identifier: "UTC")!, terms: terms, used: &used)
            let writer = try RecordWriter(db)
            try writer.storeTerms(terms.terms(used))
            try writer.write(p, sourceID: 1, db: db)
            let found = try Int64.fetchOne(db, sql: "SELECT r.id FROM record_rows r WHERE \(RecordLineMap.rowAt("r", source: "1", line: "?1", seq: "0"))",
                                           arguments: [r.line])
            XCTAssertEqual(found, db.lastInsertedRowID)
        }
    }
}
