import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

final class CatalogStatsOpenSSHTests: XCTestCase {
    let table = Harness.opensshTable

    /// `catalog stats`: the SFTPPlus lines first and unchanged, then the table; with a
    /// database, how its OpenSSH records match; without one, the table alone.
    func testCatalogStatsDescribesTheTableAndTheStoredRecords() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alone = try CLI.run(["catalog", "stats"], cwd: dir)
        XCTAssertEqual(alone.status, 0, alone.stderr)
        XCTAssertTrue(alone.stdout.hasPrefix("OpenSSH message table: \(table.entries.count) formats from 56 releases (5.0–10.5)"), alone.stdout)
        let json = try CLI.run(["catalog", "stats", "--json"], cwd: dir)
        let tableOnly = try XCTUnwrap(JSONSerialization.jsonObject(with: json.stdoutBytes) as? [String: Any])
        XCTAssertEqual(Array(tableOnly.keys), ["openssh"])
        XCTAssertEqual(try CLI.run(["catalog", "stats", "--db", dir.appendingPathComponent("none.db").path]).status, 1, "a named database must exist")

        let db = dir.appendingPathComponent("t.db").path
        let log = dir.appendingPathComponent("mixed.log").path
        try "2025-01-01 10:00:00 30014 sftp-1 Unknown 192.0.2.1:1 New SSH connection made.\n".write(toFile: log, atomically: true, encoding: .utf8)
        let ingest = try CLI.run(["ingest", "--db", db, log, Paths.sample("openssh/sftp-v1-put-ls.log")])
        XCTAssertLessThanOrEqual(ingest.status, 2, ingest.stderr)
        let text = try CLI.run(["catalog", "stats", "--db", db])
        XCTAssertTrue(text.stdout.hasPrefix("SFTPPlus events: 1; resolved 1, unresolved 0, unknown ID 0\n\nOpenSSH message table: "), text.stdout)
        XCTAssertTrue(text.stdout.contains("\nOpenSSH records: "), text.stdout)
        let stats = try XCTUnwrap(JSONSerialization.jsonObject(with: try CLI.run(["catalog", "stats", "--db", db, "--json"]).stdoutBytes) as? [String: Any])
        XCTAssertEqual(stats["resolved"] as? Int, 1)
        let openssh = try XCTUnwrap(stats["openssh"] as? [String: Any])
        XCTAssertEqual(openssh["formats"] as? Int, table.entries.count)
        XCTAssertEqual((openssh["releases"] as? [String: Any])?["count"] as? Int, 56)
        // How many formats the reader reads by data, as the table itself counts them.
        let byData = try XCTUnwrap(openssh["read_by_data"] as? [String: Any])
        XCTAssertEqual(byData["fields"] as? Int, table.entries.filter { $0.event != nil }.count)
        XCTAssertEqual(byData["extractor"] as? Int, table.entries.filter { $0.extractor != nil }.count)
        XCTAssertGreaterThan((byData["fields"] as? Int ?? 0) + (byData["extractor"] as? Int ?? 0), 350)
        XCTAssertTrue(text.stdout.contains("\nread by data (catalog/openssh-events.json): \(table.entries.filter(\.isReadByData).count) formats"), text.stdout)
        let records = try XCTUnwrap(openssh["records"] as? [String: Any])
        let total = try XCTUnwrap(records["total"] as? Int), matched = try XCTUnwrap(records["matched"] as? Int)
        XCTAssertGreaterThan(total, 50)
        XCTAssertEqual(total - matched, records["unmatched"] as? Int)
        // What is left of that transcript is the sftp listing (`-rw-r--r-- …`).
        XCTAssertEqual(Set(((records["unmatched_by_first_word"] as? [String: Any]) ?? [:]).keys), ["-rw-r--r--"])
    }
}
