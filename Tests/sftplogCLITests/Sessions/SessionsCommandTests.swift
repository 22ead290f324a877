import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

/// `sftplog sessions` over a database holding both SFTPPlus logs and OpenSSH transcripts.
final class SessionsCommandTests: XCTestCase {
    static let dir = Paths.tempDir()
    static var db: String { dir.appendingPathComponent("s.db").path }
    static let opensshCases = (try! FileManager.default.contentsOfDirectory(atPath: Paths.samples.appendingPathComponent("openssh").path))
        .filter { $0.hasSuffix(".log") }.sorted()

    override class func setUp() {
        let openssh = Paths.samples.appendingPathComponent("openssh")
        // A mixed directory's files, ingested together: both kinds are detected and stored.
        let inputs = ["dev-ts-first-5.26", "dev-id-first-4.0", "dev-csv-4.16", "seed-server-3.30", "seed-client-3.31"].map { Paths.sample("sftpplus/\($0).log") }
            + opensshCases.map { openssh.appendingPathComponent($0).path }
        let r = try! CLI.run(["ingest", "--db", db] + inputs)
        precondition(r.status == 0, r.stderr)
    }
    override class func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func sessions(_ args: [String] = []) throws -> [[String: Any]] {
        let r = try CLI.run(["sessions", "--db", Self.db, "--json"] + args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
    }

    /// The table is fitted to a terminal (here `COLUMNS=80`), never to a pipe:
    /// piped, every user, peer, client and outcome is printed whole.
    func testTableIsCutOnlyToFitATerminal() throws {
        let all = try sessions()
        let fitted = try CLI.run(["sessions", "--db", Self.db], env: ["COLUMNS": "80"])
        XCTAssertEqual(fitted.status, 0, fitted.stderr)
        XCTAssertTrue(fitted.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })
        XCTAssertTrue(fitted.stdout.contains("…"))
        let piped = try CLI.run(["sessions", "--db", Self.db], env: ["COLUMNS": ""])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertFalse(piped.stdout.contains("…"), piped.stdout)
        let rows = piped.stdout.split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, all.count)
        for s in all {
            let outcome = s["outcome"] as! String, client = (s["client_version"] as? String ?? "").replacingOccurrences(of: "SSH-2.0-", with: "")
            XCTAssertTrue(rows.contains { $0.contains(" \(outcome) ") && (client.isEmpty || $0.contains(client)) }, "\(outcome) \(client)")
        }
    }

    func testOpenSSHTranscriptsGiveTheirTruthFactsThroughSessionsJSON() throws {
        let all = try sessions()
        for c in Self.opensshCases {
            let truth = try Harness.json(Paths.sample("openssh/" + c.replacingOccurrences(of: ".log", with: ".truth.json")))
            let mine = all.filter { ($0["file"] as! String).hasSuffix(c) }
            XCTAssertEqual(mine.count, 1, "\(c): one session per client run")
            guard let s = mine.first else { continue }
            XCTAssertEqual(s["source"] as? String, "openssh")
            XCTAssertEqual(s["client_version"] as? String, truth["client_version"] as? String, c)
            XCTAssertEqual(s["server_version"] as? String, truth["server_version"] as? String, c)
            let peer = truth["peer"] as! [String: Any]
            XCTAssertEqual((s["peer"] as? [String: Any])?["address"] as? String, peer["host"] as? String, c)
            XCTAssertEqual((s["peer"] as? [String: Any])?["port"] as? Int, peer["port"] as? Int, c)
            let n = s["negotiated"] as! [String: Any]
            if let tn = truth["negotiated"] as? [String: Any] {
                for (k, v) in tn { XCTAssertEqual(n[k] as? String, v as? String, "\(c) negotiated.\(k)") }
            } else {
                XCTAssertTrue(n.values.allSatisfy { $0 is NSNull }, "\(c): no negotiation")
            }
            XCTAssertEqual(s["strict_kex"] as? Bool, truth["strict_kex"] as? Bool, "\(c) strict_kex")
            let auth = s["auth"] as! [String: Any], tauth = truth["auth"] as! [String: Any]
            XCTAssertEqual(auth["methods_tried"] as? [String], tauth["methods_tried"] as? [String], c)
            XCTAssertEqual(auth["succeeded_method"] as? String, tauth["succeeded_method"] as? String, c)
            XCTAssertEqual(s["host_key_check"] as? String, truth["host_key_check"] as? String, c)
            XCTAssertEqual(s["outcome"] as? String, truth["outcome"] as? String, c)
            let ops = (s["operations"] as! [[String: Any]]).map { "\($0["op"]!) \($0["path"]!) \($0["ok"]!)" }
            let tops = (truth["sftp_ops"] as! [[String: Any]]).map { "\($0["op"]!) \($0["path"] ?? "") \($0["ok"]!)" }
            XCTAssertEqual(ops, tops, c)
            XCTAssertEqual(s["terrapin_vulnerable"] as? Bool, truth["terrapin_vulnerable"] as? Bool, "\(c) terrapin")
        }
    }

    func testFiltersAndTableAndStableIDs() throws {
        let bob = try sessions(["--user", "bob"])
        XCTAssertFalse(bob.isEmpty)
        XCTAssertTrue(bob.allSatisfy { $0["user"] as? String == "bob" })
        let failed = try sessions(["--outcome", "auth-failed"])
        XCTAssertTrue(failed.allSatisfy { $0["outcome"] as? String == "auth-failed" })
        XCTAssertGreaterThanOrEqual(failed.count, 5)
        let peer = try sessions(["--peer", "127.0.0.1:58032"])
        XCTAssertEqual(peer.count, 1)
        XCTAssertEqual(peer.first?["user"] as? String, "user")
        let since = try sessions(["--since", "2025-11-21", "--until", "2025-11-22"])
        XCTAssertEqual(since.count, 10, "the ts-first day's sessions")
        let weak = try sessions(["--weak"])
        XCTAssertTrue(weak.allSatisfy { s in
            (s["findings"] as! [[String: Any]]).contains { ["warn", "fail", "unknown"].contains($0["rating"] as! String) } || s["terrapin_vulnerable"] as? Bool == true
        })
        // Malicious filter values are bound, not interpolated.
        XCTAssertEqual(try sessions(["--user", "x' OR '1'='1"]).count, 0)
        let table = try CLI.run(["sessions", "--db", Self.db])
        XCTAssertTrue(table.stdout.hasPrefix("start"))
        XCTAssertTrue(table.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, "fits 80 columns")
        // Ids are stable across re-ingest into a new database.
        let other = Self.dir.appendingPathComponent("again.db").path
        XCTAssertEqual(try CLI.run(["ingest", "--db", other, Paths.sample("sftpplus/dev-ts-first-5.26.log")]).status, 0)
        let again = try JSONSerialization.jsonObject(with: Data(try CLI.run(["sessions", "--db", other, "--json"]).stdout.utf8)) as! [[String: Any]]
        let ids = Set(try sessions().map { $0["id"] as! String })
        XCTAssertTrue(again.allSatisfy { ids.contains($0["id"] as! String) })
        let timeline = try sessions(["--peer", "127.0.0.1:58032", "--timeline"])
        XCTAssertEqual((timeline.first?["timeline"] as? [[String: Any]])?.count, 18)
    }

    func testSessionTablesAreQueryable() throws {
        let r = try CLI.run(["query", "--db", Self.db, "--format", "json", """
            SELECT s.user, o.op, o.path, o.bytes FROM session_operations o JOIN sessions s ON s.id = o.session_id
            WHERE o.op = 'put' AND o.ok = 1 ORDER BY o.bytes DESC LIMIT 1
            """])
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        XCTAssertEqual(rows.first?["bytes"] as? Int, 99527892)
        let offered = try CLI.run(["query", "--db", Self.db, "SELECT count(*) AS n FROM session_algorithms_offered WHERE algorithm = 'hmac-sha1'", "--format", "csv"])
        XCTAssertNotEqual(offered.stdout, "n\r\n0\r\n")
    }
}
