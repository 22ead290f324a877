import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

/// The OpenSSH pastes through the commands users run: `ingest` then `sessions`
/// (JSON, table, CSV) and `audit`, read from the database.
final class PasteSessionsCommandTests: XCTestCase {
    static let dir = Paths.tempDir()
    static var db: String { dir.appendingPathComponent("p.db").path }
    static let names = OpenSSHFixtures.pasteCases()

    override class func setUp() {
        let r = try! CLI.run(["ingest", "--quiet", "--db", db] + names.map { "\(OpenSSHFixtures.pastes)/\($0).log" })
        // Some pastes hold other programs' text: stored, and said with exit status 2.
        precondition(r.status == 0 || r.status == 2, r.stderr)
    }
    override class func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testSessionsJSONCarriesEveryRunWithClosedToolAndUserSource() throws {
        let r = try CLI.run(["sessions", "--db", Self.db, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let all = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        var runs = 0
        for name in Self.names {
            let truth = try Harness.json("\(OpenSSHFixtures.pastes)/\(name).truth.json")
            let want = truth["runs"] as! [[String: Any]]
            runs += want.count
            let mine = all.filter { ($0["file"] as! String).hasSuffix("/\(name).log") }
                .sorted { (($0["lines"] as! [String: Any])["first"] as! Int) < (($1["lines"] as! [String: Any])["first"] as! Int) }
            XCTAssertEqual(mine.count, want.count, "\(name): sessions")
            for (s, t) in zip(mine, want) {
                let ctx = "\(name) line \(t["first_line"] ?? "")"
                XCTAssertEqual((s["lines"] as! [String: Any])["first"] as? Int, t["first_line"] as? Int, ctx)
                XCTAssertEqual(s["outcome"] as? String, t["outcome"] as? String, ctx)
                XCTAssertEqual(s["closed"] as? Bool, t["closed"] as? Bool, ctx)
                XCTAssertEqual(s["user"] as? String, t["user"] as? String, ctx)
                let details = s["details"] as? [String: Any] ?? [:]
                XCTAssertEqual(details["user_source"] as? String, t["user_source"] as? String, "\(ctx): user_source")
                XCTAssertEqual(details["tool"] as? String, t["tool"] as? String, "\(ctx): tool")
                XCTAssertEqual(Set(details["derived"] as? [String] ?? []), Set(t["derived"] as? [String] ?? []), "\(ctx): derived")
            }
        }
        XCTAssertEqual(all.count, runs, "one session per client run, nothing else")
        // The column is in the database for SQL.
        let q = try CLI.run(["query", "--db", Self.db, "--format", "csv", "SELECT closed, count(*) FROM sessions GROUP BY closed ORDER BY closed"])
        XCTAssertEqual(q.status, 0, q.stderr)
        XCTAssertTrue(q.stdout.contains("\r\n0,") && q.stdout.contains("\r\n1,"), q.stdout)
    }

    func testTableAndCSVShowWhetherTheEndWasSeen() throws {
        let t = try CLI.run(["sessions", "--db", Self.db], env: ["COLUMNS": "80"])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.split(separator: "\n").first?.contains(" end ") ?? false, t.stdout)
        XCTAssertTrue(t.stdout.contains(" cut ") && t.stdout.contains(" seen "))
        XCTAssertTrue(t.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, "fits 80 columns")
        let c = try CLI.run(["sessions", "--db", Self.db, "--format", "csv"])
        XCTAssertEqual(c.status, 0, c.stderr)
        let lines = c.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertTrue(lines[0].hasSuffix(",terrapin_vulnerable,closed"))
        var open = 0, closed = 0
        for name in Self.names {
            for run in try Harness.json("\(OpenSSHFixtures.pastes)/\(name).truth.json")["runs"] as! [[String: Any]] {
                if run["closed"] as? Bool == true { closed += 1 } else { open += 1 }
            }
        }
        XCTAssertEqual(lines.dropFirst().filter { $0.hasSuffix(",false") }.count, open)
        XCTAssertEqual(lines.dropFirst().filter { $0.hasSuffix(",true") }.count, closed)
    }

    func testPostQuantumAndMarkerNamesAreKnownToTheAudit() throws {
        let r = try CLI.run(["audit", "--db", Self.db, "--json", "--min-rating", "warn"])
        XCTAssertTrue([0, 1, 2].contains(r.status), r.stderr)
        let out = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let findings = (out["sessions"] as! [[String: Any]]).flatMap { $0["findings"] as! [[String: Any]] }
        for name in ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "curve25519-sha256", "kex-strict-c-v00@openssh.com", "ext-info-c"] {
            XCTAssertFalse(findings.contains { $0["algorithm"] as? String == name && $0["rating"] as? String == "unknown" }, name)
        }
        let pq = try CLI.run(["sessions", "--db", Self.db, "--json"])
        let all = try JSONSerialization.jsonObject(with: Data(pq.stdout.utf8)) as! [[String: Any]]
        XCTAssertTrue(all.contains { ($0["negotiated"] as? [String: Any])?["kex"] as? String == "mlkem768x25519-sha256" }, "a paste negotiating ML-KEM")
    }
}
