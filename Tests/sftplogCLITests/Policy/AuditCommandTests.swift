import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

final class AuditCommandTests: XCTestCase {
    func testAuditCommandExitCodesAndJSON() throws {
        let fail = try CLI.run(["audit", Paths.sample("openssh/sftp-hostkey-ssh-rsa-sha1.log")])
        XCTAssertEqual(fail.status, 2, fail.stderr)
        XCTAssertTrue(fail.stdout.contains("ssh-rsa"))
        let warn = try CLI.run(["audit", Paths.sample("openssh/sftp-cbc-aes128-hmac-sha1.log")])
        XCTAssertEqual(warn.status, 1, warn.stdout)
        XCTAssertEqual(try CLI.run(["audit", "--min-rating", "fail", Paths.sample("openssh/sftp-cbc-aes128-hmac-sha1.log")]).status, 0)
        let clean = try CLI.run(["audit", Paths.sample("openssh/sftp-vvv-default-ls-get.log")])
        XCTAssertEqual(clean.status, 0, clean.stdout)
        let json = try CLI.run(["audit", "--json", Paths.sample("sftpplus/dev-ts-first-5.26.log"), Paths.sample("openssh/sftp-kex-dh-group14-sha1.log")])
        XCTAssertEqual(json.status, 2)
        let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let sessions = obj["sessions"] as! [[String: Any]]
        XCTAssertEqual(sessions.count, 4)
        for s in sessions { for key in ["id", "source", "peer", "user", "start", "findings", "terrapin_vulnerable"] { XCTAssertNotNil(s[key], key) } }
        let summary = obj["summary"] as! [String: Any]
        let lines = summary["by_algorithm"] as! [[String: Any]]
        XCTAssertEqual(lines.first { $0["algorithm"] as? String == "ssh-dss" }?["sessions"] as? Int, 2)
        XCTAssertEqual(lines.first { $0["algorithm"] as? String == "diffie-hellman-group14-sha1" }?["peers"] as? Int, 1)
        // --policy changes verdicts; --print-policy shows the merged result.
        let dir = Paths.tempDir()
        let override = dir.appendingPathComponent("p.json")
        try #"{"name":"lenient","algorithms":{"hostkey":{"ssh-rsa":{"rating":"ok","reason":"legacy box","reference":"local"}}}}"#
            .write(to: override, atomically: true, encoding: .utf8)
        XCTAssertEqual(try CLI.run(["audit", "--policy", override.path, Paths.sample("openssh/sftp-hostkey-ssh-rsa-sha1.log")]).status, 0)
        let printed = try CLI.run(["audit", "--print-policy", "--policy", override.path])
        XCTAssertTrue(printed.stdout.contains("legacy box"))
        XCTAssertTrue(printed.stdout.contains("diffie-hellman-group1-sha1"))
        let bad = try CLI.run(["audit", "--policy", "/nonexistent/policy.yaml", Paths.sample("openssh/sftp-hostkey-ssh-rsa-sha1.log")])
        XCTAssertEqual(bad.status, 3)
        XCTAssertTrue(bad.stderr.contains("/nonexistent/policy.yaml"))
    }
}
