import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogOpenSSH

final class QueryTests: XCTestCase {
    static let dir = Paths.tempDir()
    static var db: String { dir.appendingPathComponent("q.db").path }

    override class func setUp() {
        let r = try! CLI.run(["ingest", "--db", db] + ["dev-ts-first-5.26", "dev-id-first-4.0", "dev-csv-4.16"].map { Paths.sample("sftpplus/\($0).log") })
        precondition(r.status == 0, r.stderr)
    }
    override class func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func query(_ sql: String, _ format: String = "json") throws -> CLI.Result {
        try CLI.run(["query", "--db", Self.db, "--format", format, sql])
    }

    func testEventsPerAccount() throws {
        let r = try query("SELECT account, count(*) AS events FROM records WHERE kind = 'sftpplus.event' GROUP BY account ORDER BY events DESC, account")
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        // Cross-check against the truth files.
        var expected: [String: Int] = [:]
        for name in ["dev-ts-first-5.26", "dev-id-first-4.0", "dev-csv-4.16"] {
            for rec in try Harness.json(Paths.sample("sftpplus/\(name).truth.json"))["records"] as! [[String: Any]] {
                expected[rec["account"] as! String, default: 0] += 1
            }
        }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: rows.map { ($0["account"] as! String, $0["events"] as! Int) }), expected)
    }

    /// A NUL inside a log's text is data: `query` gives the whole value, not the part before it.
    func testTextAfterANULIsKept() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("nul.db").path
        _ = try CLI.run(["ingest", "--quiet", "--db", db, Paths.fixture("hostile/nul-bytes.log")])
        let r = try CLI.run(["query", "--db", db, "--format", "ndjson", "SELECT account, message, length(account) AS n FROM records WHERE line <= 2 ORDER BY line"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = CLI.jsonLines(r.stdout)
        XCTAssertEqual(rows.map { $0["account"] as? String }, ["Un\u{0}known", "alice"])
        XCTAssertEqual(rows.last?["message"] as? String, "New SSH\u{0} connection made.")
        // The sessions built from it keep the whole name through a migration too (MigrationTests), and in `sessions --json`.
        let sessions = try CLI.run(["sessions", "--json", "--db", db])
        XCTAssertTrue(sessions.stdout.contains("\"Un\\u0000known\""), sessions.stdout)
    }

    /// A table pads every row to its widest cell: one 600 KB hostile line among
    /// 2,000 rows asked for over a GB and aborted. It is refused with a way out.
    func testATableTooLargeToWriteIsRefusedWithTheOtherFormats() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("wide.db").path
        let log = try Paths.generatedLog(lines: 2000, seed: 7, in: dir)
        _ = try CLI.run(["ingest", "--quiet", "--db", db, log, Paths.fixture("hostile/json-deep.log")])
        let sql = "SELECT line, coalesce(text, message) AS body FROM records ORDER BY id"
        // Into a pipe, with no terminal width: cells are not cut.
        let table = try CLI.run(["query", "--db", db, "--format", "table", sql], env: ["COLUMNS": "0"])
        XCTAssertEqual(table.status, 1)
        XCTAssertTrue(table.stdout.isEmpty)
        XCTAssertTrue(table.stderr.hasPrefix("sftplog: the table would take more than 1 GiB (column body"), table.stderr)
        XCTAssertTrue(table.stderr.contains("--format csv"), table.stderr)
        let ndjson = try CLI.run(["query", "--db", db, "--format", "ndjson", sql])
        XCTAssertEqual(ndjson.status, 0, ndjson.stderr)
        let count = try CLI.run(["query", "--db", db, "--format", "csv", "SELECT count(*) AS n FROM records"])
        XCTAssertEqual("n\r\n\(CLI.jsonLines(ndjson.stdout).count)\r\n", count.stdout)
        XCTAssertTrue(ndjson.stdout.utf8.count > 600_000)
    }

    func testEventsPerHourAndTable() throws {
        let sql = "SELECT strftime('%Y-%m-%d %H:00', ts_utc) AS hour, count(*) AS events FROM records GROUP BY hour ORDER BY hour"
        let r = try query(sql, "ndjson")
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = CLI.jsonLines(r.stdout)
        XCTAssertEqual(rows.reduce(0) { $0 + ($1["events"] as! Int) }, 104 + 75 + 79)
        XCTAssertTrue(rows.contains { ($0["hour"] as? String) == "2025-11-21 06:00" }, "ts-first +02:00 stamps land in UTC hours")
        let t = try query(sql, "table")
        let lines = t.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first?.hasPrefix("hour"), true)
        XCTAssertEqual(lines.count, rows.count + 2)
    }

    func testFullTextSearch() throws {
        let r = try query("SELECT r.line, r.message FROM records_fts JOIN records r ON r.id = records_fts.rowid WHERE records_fts MATCH 'rename' ORDER BY rank")
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        XCTAssertFalse(rows.isEmpty)
        XCTAssertTrue(rows.allSatisfy { ($0["message"] as! String).lowercased().contains("rename") })
    }

    func testDatabaseIsReadOnlyAndCSVIsNeutralised() throws {
        let del = try query("DELETE FROM records")
        XCTAssertEqual(del.status, 1)
        XCTAssertTrue(del.stderr.contains("read-only"), del.stderr)
        let after = try query("SELECT count(*) AS n FROM records")
        XCTAssertTrue(after.stdout.contains("\"n\":258"), after.stdout)
        let csv = try query("SELECT '=cmd|calc' AS a, 'x,\"y' AS b", "csv")
        XCTAssertEqual(csv.stdout, "a,b\r\n'=cmd|calc,\"x,\"\"y\"\r\n")
        let bad = try query("SELEC nonsense")
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.hasPrefix("sftplog: SQL error"), bad.stderr)
    }

    func testTableEscapesControlCharacters() throws {
        let r = try query("SELECT char(27) || ']0;pwned' || char(7) AS v", "table")
        XCTAssertFalse(r.stdout.contains("\u{1B}"))
        XCTAssertTrue(r.stdout.contains("\\e]0;pwned\\x07"), r.stdout)
    }
}
