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

    /// One format option for every command: each refuses what it cannot write and
    /// says what it can, and `--json` means `--format json` everywhere.
    func testEachCommandNamesTheFormatsItWrites() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("t.db").path
        let sample = Paths.sample("openssh/sftp-cbc-aes128-hmac-sha1.log")
        XCTAssertEqual(try CLI.run(["ingest", "--quiet", "--db", db, sample]).status, 0)
        let accepted: [([String], String, String)] = [
            (["report", "--db", db], "csv", "text, markdown, html or json"),
            (["sessions", "--db", db], "html", "table, json, ndjson or csv"),
            (["query", "--db", db, "SELECT 1"], "markdown", "table, csv, json or ndjson"),
            (["audit", "--db", db], "ndjson", "table, json or csv"),
        ]
        for (args, refused, list) in accepted {
            let r = try CLI.run(args + ["--format", refused])
            XCTAssertEqual(r.status, 64, "\(args) --format \(refused)")
            XCTAssertTrue(r.stderr.contains("use \(list)"), "\(args): \(r.stderr)")
            let help = try CLI.run([args[0], "--help"])
            XCTAssertTrue(help.stdout.contains("Output format: \(list)"), help.stdout)
        }
        let flag = try CLI.run(["report", "--db", db, "--json"])
        let spelled = try CLI.run(["report", "--db", db, "--format", "json"])
        XCTAssertEqual(flag.status, 0, flag.stderr)
        // Both name the moment they were made; the rest is the same report.
        func undated(_ s: String) -> String { s.replacingOccurrences(of: #""generated_at":"[^"]*""#, with: "", options: .regularExpression) }
        XCTAssertEqual(undated(flag.stdout), undated(spelled.stdout))
        XCTAssertTrue(flag.stdout.contains("\"sessions\""), flag.stdout.prefix(300).description)
    }
}
