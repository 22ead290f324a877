import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogCatalog

/// `catalog import`, `show` and `stats` through the command line.
final class CatalogCommandTests: XCTestCase {
    let catalog = Harness.catalog

    func testImportReadsAnEventsReference() throws {
        let text = try String(contentsOfFile: Paths.fixture("catalog/events-5.27-excerpt.rst"), encoding: .utf8)
        let entries = EventsReferenceImporter.parse(text)
        XCTAssertEqual(entries.map(\.id), ["30014", "30099"])
        XCTAssertEqual(entries[0].message, "New SSH connection accepted from \"%(peer)s\".")
        XCTAssertEqual(entries[1].message, "SFTP quota exceeded for \"%(path)s\" while writing %(size)s bytes.")
        XCTAssertEqual(entries[1].groups, ["failure", "failure-high", "ssh"])
        XCTAssertEqual(entries[1].dataKeys, ["path", "size"])
        // Through the CLI: the imported wording resolves in later runs.
        let data = Paths.tempDir()
        let r = try CLI.run(["catalog", "import", Paths.fixture("catalog/events-5.27-excerpt.rst"), "--version", "5.27.0"], env: ["SFTPLOG_DATA": data.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("2 new wordings"), r.stderr)
        let log = data.appendingPathComponent("new.log")
        try "2026-01-02T03:04:05Z 30099 sftp-1 bob 192.0.2.9:5000 SFTP quota exceeded for \"/q/a.bin\" while writing 1024 bytes.\n".write(to: log, atomically: true, encoding: .utf8)
        let p = try CLI.run(["parse", log.path], env: ["SFTPLOG_DATA": data.path])
        let obj = CLI.jsonLines(p.stdout)[0]
        XCTAssertEqual((obj["catalog"] as? [String: Any])?["versions"] as? String, "5.27.0")
        XCTAssertEqual((obj["fields"] as? [String: Any])?["size"] as? Int, 1024)
        let show = try CLI.run(["catalog", "show", "30014", "--json"], env: ["SFTPLOG_DATA": data.path])
        let variants = (try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as! [String: Any])["variants"] as! [[String: Any]]
        XCTAssertTrue(variants.contains { ($0["template"] as? String)?.contains("accepted from") ?? false })
        // Importing again adds nothing.
        let again = try CLI.run(["catalog", "import", Paths.fixture("catalog/events-5.27-excerpt.rst")], env: ["SFTPLOG_DATA": data.path])
        XCTAssertTrue(again.stderr.contains("0 new wordings"), again.stderr)
    }

    func testShowAndStatsCommands() throws {
        let show = try CLI.run(["catalog", "show", "30011"])
        XCTAssertEqual(show.status, 0)
        XCTAssertEqual(show.stdout.components(separatedBy: "\nWording ").count - 1, catalog.events["30011"]!.variants.count)
        XCTAssertTrue(show.stdout.contains("inferred from logs, seen in 3.30.0"))
        let missing = try CLI.run(["catalog", "show", "12345678"])
        XCTAssertEqual(missing.status, 1)
        let dir = Paths.tempDir()
        let db = dir.appendingPathComponent("s.db").path
        let log = dir.appendingPathComponent("mixed.log").path
        try """
        2025-01-01 10:00:00 30014 sftp-1 Unknown 192.0.2.1:1 New SSH connection made.
        2025-01-01 10:00:01 30014 sftp-1 Unknown 192.0.2.1:1 A wording no version documents.
        2025-01-01 10:00:02 77777 sftp-1 Unknown 192.0.2.1:1 An ID nobody knows.

        """.write(toFile: log, atomically: true, encoding: .utf8)
        XCTAssertEqual(try CLI.run(["ingest", "--db", db, log]).status, 0)
        let stats = try CLI.run(["catalog", "stats", "--db", db, "--json"])
        let s = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(s["resolved"] as? Int, 1)
        XCTAssertEqual(s["unresolved"] as? Int, 1)
        XCTAssertEqual(s["unknown_id"] as? Int, 1)
        XCTAssertEqual((s["unknown_ids"] as? [String: Any])?["77777"] as? Int, 1)
        // The catalogue is in the database too: records join to their wording.
        let q = try CLI.run(["query", "--db", db, "--format", "json",
                             "SELECT c.template FROM records r JOIN catalog_variants c ON c.event_id = r.event_id AND c.variant = r.catalog_variant"])
        XCTAssertTrue(q.stdout.contains("New SSH connection made."), q.stdout)
    }
}
