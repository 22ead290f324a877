import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

final class ReportTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// A server log whose attacker-controlled values are markup and terminal escapes.
    func hostileLog() throws -> String {
        let path = dir.appendingPathComponent("hostile.log").path
        let user = "<img src=x onerror=alert(1)>"
        try """
        2025-03-01T10:00:00Z 30014 sftp-1 Unknown 192.0.2.66:4000 New SSH connection made.
        2025-03-01T10:00:01Z 20021 sftp-1 Unknown 192.0.2.66:4000 Failed to authenticate user "\(user)" with "password" credentials. Possible typo in username. No authentication method was able to handle the credentials.
        2025-03-01T10:00:02Z 30050 sftp-1 Unknown 192.0.2.66:4000 Closing the SSH connection. Too many authentication failures.
        2025-03-01T10:01:00Z 30014 sftp-1 Unknown 192.0.2.67:4001 New SSH connection made.
        2025-03-01T10:01:01Z 20137 sftp-1 <script>alert(2)</script> 192.0.2.67:4001 Account "<script>alert(2)</script>" of type "application" from "G", authenticated as "<script>alert(2)</script>" by "Application Accounts" of type "application" using password.
        2025-03-01T10:01:02Z 30043 sftp-1 <script>alert(2)</script> 192.0.2.67:4001 Successfully opened "/srv/\u{1B}]0;pwned\u{07}.txt" in "read" mode, requested as "/\u{1B}]0;pwned\u{07}.txt".
        2025-03-01T10:01:03Z 30015 sftp-1 <script>alert(2)</script> 192.0.2.67:4001 SSH connection closed from "SSH-2.0-<b>bold</b>". Protected using host-key:ssh-ed25519 key-exchange:curve25519-sha256 in-hmac:<implicit> in-cipher:aes128-gcm@openssh.com out-hmac:<implicit> out-cipher:aes128-gcm@openssh.com in-compression:none out-compression:none

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testHTMLEscapesEveryLogValue() throws {
        let out = dir.appendingPathComponent("r.html").path
        let r = try CLI.run(["report", "--format", "html", "--output", out, try hostileLog()])
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertFalse(html.contains("<img"), "no element from log content")
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("<b>bold"))
        XCTAssertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(2)&lt;/script&gt;"))
        XCTAssertFalse(html.contains("\u{1B}"))
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "self-contained: no network fetches")
        XCTAssertTrue(html.contains("<svg"), "the day's SVG timeline")
        XCTAssertTrue(html.contains("name=\"viewport\""), "readable on a phone")
        // In a real headless browser: the DOM has no <img> or <script> element at all.
        let dom = try Self.chromiumDOM(out)
        XCTAssertFalse(dom.lowercased().contains("<img"), "browser DOM has an <img> element")
        XCTAssertFalse(dom.lowercased().contains("<script"), "browser DOM has a <script> element")
        XCTAssertTrue(dom.contains("onerror=alert(1)"), "the username is shown as text")
    }

    /// The headless browser (.ci/run installs Debian's chromium).
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func chromiumDOM(_ path: String) throws -> String {
        guard let bin = chromium else {
            XCTFail("no headless browser: .ci/run installs Debian's chromium"); return ""
        }
        return try CLI.capture(bin, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://" + path]).stdout
    }

    func testTextReportFitsAndEscapes() throws {
        let r = try CLI.run(["report", try hostileLog()], env: ["NO_COLOR": "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("\u{1B}"), "no raw escapes, no colour with NO_COLOR")
        XCTAssertEqual(r.stdout.split(separator: "\n").filter { $0.count > 80 }, [], "lines wider than 80 columns")
        let one = try CLI.run(["report", "--session", "", Paths.sample("sftpplus/dev-ts-first-5.26.log")])
        XCTAssertNotEqual(one.status, 0, "an empty prefix matches many sessions")
    }

    func testSummaryFromStdinAndSessionReports() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-ts-first-5.26.log")))
        let r = try CLI.run(["report", "-", "--format", "json"], stdin: data)
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(obj["sessions"] as? Int, 10)
        let perUser = obj["per_user"] as! [[String: Any]]
        XCTAssertEqual(perUser.first { $0["key"] as? String == "bob" }?["count"] as? Int, 3)
        XCTAssertEqual((obj["weak_sessions"] as! [Any]).count, 3)
        XCTAssertTrue((obj["failure_events"] as! [[String: Any]]).contains { $0["event_id"] as? String == "20021" })
        // One session, each format.
        let sessions = try JSONSerialization.jsonObject(with: Data(try CLI.run(["sessions", "--json", "--db", ingest()]).stdout.utf8)) as! [[String: Any]]
        let id = sessions.first { $0["user"] as? String == "alice" }!["id"] as! String
        let text = try CLI.run(["report", "--db", ingest(), "--session", id])
        XCTAssertTrue(text.stdout.contains("Timeline"))
        XCTAssertTrue(text.stdout.contains("Failures explained"))
        XCTAssertTrue(text.stdout.contains("ssh-dss"))
        let md = try CLI.run(["report", "--db", ingest(), "--session", id, "--format", "markdown"])
        XCTAssertTrue(md.stdout.hasPrefix("# Session \(id)"))
        XCTAssertTrue(md.stdout.contains("| rating | category | algorithm | reason | reference |"))
        // `--session` takes a prefix of the id; `%` and `_` are characters, not SQL wildcards.
        let prefix = try CLI.run(["report", "--db", ingest(), "--session", String(id.prefix(6)), "--format", "markdown"])
        XCTAssertTrue(prefix.stdout.hasPrefix("# Session \(id)"), prefix.stderr)
        for pattern in ["%", "_", "\(id.prefix(3))%", "_\(id.dropFirst())"] {
            let none = try CLI.run(["report", "--db", ingest(), "--session", pattern])
            XCTAssertTrue(none.stderr.contains("no session"), "\(pattern): \(none.stderr)")
            XCTAssertFalse(none.stdout.contains("# Session"), pattern)
        }
        let summaryMD = try CLI.run(["report", "--db", ingest(), "--format", "markdown"])
        XCTAssertTrue(summaryMD.stdout.contains("## Sessions per user"))
    }

    var dbPath: String?
    func ingest() throws -> String {
        if let p = dbPath { return p }
        let p = dir.appendingPathComponent("r.db").path
        XCTAssertEqual(try CLI.run(["ingest", "--db", p, Paths.sample("sftpplus/dev-ts-first-5.26.log")]).status, 0)
        dbPath = p
        return p
    }

    func testBruteForceDetection() throws {
        var lines = ""
        for k in 0..<8 {
            let port = 50000 + k
            lines += "2025-04-01T03:00:\(String(k * 5).leftPadded(2))Z 30014 sftp-1 Unknown 203.0.113.5:\(port) New SSH connection made.\n"
            lines += "2025-04-01T03:00:\(String(k * 5 + 1).leftPadded(2))Z 20021 sftp-1 Unknown 203.0.113.5:\(port) Failed to authenticate user \"root\(k % 2)\" with \"password\" credentials. Possible typo in username. No authentication method was able to handle the credentials.\n"
        }
        let path = dir.appendingPathComponent("bf.log").path
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["report", "--format", "json", path])
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let bf = obj["brute_force"] as! [[String: Any]]
        XCTAssertEqual(bf.first?["address"] as? String, "203.0.113.5")
        XCTAssertEqual(bf.first?["failures"] as? Int, 8)
        XCTAssertEqual(bf.first?["users"] as? [String], ["root0", "root1"])
    }
}
