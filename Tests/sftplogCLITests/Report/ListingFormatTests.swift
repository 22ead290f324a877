import Foundation
import XCTest
import SFTPLogTestSupport

/// Every listing command speaks --json and --format csv (scripts depend on both).
final class ListingFormatTests: XCTestCase {
    func testListingsHaveJSONAndCSV() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("t.db").path
        let ingest = try CLI.run(["ingest", "--db", db, Paths.sample("sftpplus/dev-csv-4.16.log"),
                                  Paths.sample("openssh/sftp-cbc-aes128-hmac-sha1.log")])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        let listings: [[String]] = [
            ["sessions", "--db", db], ["query", "--db", db, "SELECT id, user FROM sessions"],
            ["audit", "--db", db], ["catalog", "search", "rename"], ["catalog", "stats", "--db", db],
        ]
        for args in listings {
            let json = try CLI.run(args + ["--json"])
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: json.stdoutBytes), "\(args) --json: \(json.stdout.prefix(200))")
            let csv = try CLI.run(args + ["--format", "csv"])
            let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            XCTAssertGreaterThan(lines.count, 1, "\(args) --format csv has a header and rows: \(csv.stdout.prefix(200))")
            let columns = lines[0].split(separator: ",").count
            XCTAssertGreaterThan(columns, 1, "\(args): \(lines[0])")
        }
        // audit's CSV names each weak algorithm of each flagged session.
        let audit = try CLI.run(["audit", "--db", db, "--format", "csv"])
        XCTAssertEqual(audit.status, 2, "dev-csv-4.16.log has failures")
        XCTAssertTrue(audit.stdout.hasPrefix("session,start,peer,user,category,algorithm,direction,rating,reason\r\n"), audit.stdout)
        XCTAssertTrue(audit.stdout.contains(",aes128-cbc,"), audit.stdout)
    }
}
