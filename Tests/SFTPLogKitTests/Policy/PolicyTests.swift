import Foundation
import XCTest
import Yams
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogSessions

final class PolicyTests: XCTestCase {
    static let policy: AlgorithmPolicy = { _ = Harness.catalog; return try! AlgorithmPolicy.bundled() }()
    let judge = SessionJudge(policy: PolicyTests.policy)
    static let nameCategories: Set<AlgorithmCategory> = [.kex, .hostkey, .cipher, .mac, .compression, .gexSize]

    func weakNames(_ s: SessionTimeline) -> Set<String> {
        Set(s.findings.filter { Self.nameCategories.contains($0.category) && [.warn, .fail].contains($0.rating) }.map(\.algorithm))
    }

    func opensshSessions(_ path: String) throws -> [SessionTimeline] {
        let records = try Harness.parse(path)
        return OpenSSHSessions.timelines(records: records, file: path, sourceID: 1)
    }

    func testEveryOpenSSHCaseFlagsExactlyItsExpectedWeakNames() throws {
        let dir = Paths.samples.appendingPathComponent("openssh")
        let cases = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".truth.json") }.sorted()
        XCTAssertEqual(cases.count, 13)
        for c in cases {
            let truth = try Harness.json(dir.appendingPathComponent(c).path)
            var sessions = try opensshSessions(dir.appendingPathComponent(c.replacingOccurrences(of: ".truth.json", with: ".log")).path)
            XCTAssertEqual(sessions.count, 1, c)
            judge.judge(&sessions[0])
            XCTAssertEqual(weakNames(sessions[0]), Set(truth["expected_weak"] as! [String]), c)
            XCTAssertEqual(sessions[0].terrapinVulnerable, truth["terrapin_vulnerable"] as? Bool, "\(c): terrapin")
            if truth["terrapin_vulnerable"] as? Bool == true {
                XCTAssertTrue(sessions[0].findings.contains { $0.category == .terrapin && $0.rating == .warn }, c)
            }
        }
    }

    func testSFTPPlusSessionsWithWeakProtectedUsingAreFlagged() throws {
        let rules = try SessionRules.bundled()
        for name in ["dev-ts-first-5.26", "dev-id-first-4.0", "dev-csv-4.16"] {
            let truth = try Harness.json(Paths.sample("sftpplus/\(name).truth.json"))
            let builder = SFTPPlusSessionBuilder(rules: rules, file: name, sourceID: 1, timeZone: TimeZone(identifier: "UTC")!)
            for r in try Harness.parse(Paths.sample("sftpplus/\(name).log")) { builder.add(r, seq: 0) }
            var sessions = builder.finish()
            for i in sessions.indices { judge.judge(&sessions[i]) }
            for t in truth["sessions"] as! [[String: Any]] {
                let peer = t["peer"] as! [String: Any]
                let s = sessions.first { $0.peer?.address == peer["address"] as? String && $0.peer?.port == peer["port"] as? Int }!
                XCTAssertEqual(weakNames(s), Set(t["expected_weak"] as! [String]), "\(name) \(peer)")
                // SFTPPlus never logs strict KEX: Terrapin exposure is undetermined, not guessed.
                if s.negotiated.cipherC2S == "chacha20-poly1305@openssh.com" { XCTAssertNil(s.terrapinVulnerable) }
            }
        }
    }

    func testStrongSessionsGetNoWarnOrFail() {
        let strong: [NegotiatedAlgorithms] = [
            .init(kex: "sntrup761x25519-sha512", hostkey: "ssh-ed25519", cipherC2S: "chacha20-poly1305@openssh.com", cipherS2C: "chacha20-poly1305@openssh.com", compressionC2S: "none", compressionS2C: "none"),
            .init(kex: "curve25519-sha256", hostkey: "rsa-sha2-512", cipherC2S: "aes256-gcm@openssh.com", cipherS2C: "aes128-gcm@openssh.com", compressionC2S: "none", compressionS2C: "none"),
            .init(kex: "curve25519-sha256@libssh.org", hostkey: "ssh-ed25519", cipherC2S: "aes128-ctr", cipherS2C: "aes256-ctr",
                  macC2S: "hmac-sha2-256-etm@openssh.com", macS2C: "hmac-sha2-512-etm@openssh.com", compressionC2S: "none", compressionS2C: "none"),
        ]
        for n in strong {
            var s = SessionTimeline(source: "openssh", side: "client", file: "x")
            s.negotiated = n
            s.strictKex = true
            judge.judge(&s)
            XCTAssertEqual(s.findings.filter { $0.rating.isWeak }.map(\.algorithm), [], "\(n)")
            XCTAssertEqual(s.terrapinVulnerable, false)
        }
    }

    func testRulesBeyondSingleNames() {
        var s = SessionTimeline(source: "openssh", side: "client", file: "x")
        s.negotiated = NegotiatedAlgorithms(kex: "diffie-hellman-group-exchange-sha256", hostkey: "ssh-ed25519", cipherC2S: "aes256-cbc",
                                            cipherS2C: "aes256-cbc", macC2S: "hmac-sha2-256-etm@openssh.com", macS2C: "hmac-sha2-256-etm@openssh.com")
        s.gexBits = 1536
        s.strictKex = false
        judge.judge(&s)
        XCTAssertTrue(s.findings.contains { $0.category == .gexSize && $0.rating == .fail && $0.reason.contains("1536") })
        XCTAssertEqual(s.terrapinVulnerable, true, "CBC with an ETM MAC and no strict KEX")
        s.gexBits = 2048
        judge.judge(&s)
        XCTAssertTrue(s.findings.contains { $0.category == .gexSize && $0.rating == .warn })
        s.gexBits = nil
        s.strictKex = nil
        judge.judge(&s)
        XCTAssertTrue(s.findings.contains { $0.category == .gexSize && $0.rating == .info && $0.reason.contains("not in the log") })
        XCTAssertNil(s.terrapinVulnerable, "strict KEX not visible: undetermined")
        XCTAssertTrue(s.terrapinExplanation?.contains("strict KEX") ?? false)
        // none cipher/MAC fail; a name nobody rated is `unknown`, never silently ok.
        s.negotiated = NegotiatedAlgorithms(kex: "curve25519-sha256", hostkey: "ssh-ed25519", cipherC2S: "none", cipherS2C: "frob-cipher@example.com",
                                            macC2S: "none", macS2C: "hmac-sha2-256")
        judge.judge(&s)
        XCTAssertEqual(s.findings.first { $0.algorithm == "none" && $0.category == .cipher }?.rating, .fail)
        XCTAssertEqual(s.findings.first { $0.algorithm == "frob-cipher@example.com" }?.rating, .unknown)
    }

    func testOfferedButNotNegotiatedIsInfo() throws {
        var sessions = try opensshSessions(Paths.sample("openssh/sftp-vvv-default-ls-get.log"))
        judge.judge(&sessions[0])
        let offered = sessions[0].findings.filter { $0.reason.hasPrefix("offered by the server") }
        XCTAssertTrue(offered.contains { $0.algorithm == "hmac-sha1" })
        XCTAssertTrue(offered.allSatisfy { $0.rating == .info })
    }

    /// The policy tree is typed (Sendable): JSON's booleans, whole and fractional
    /// numbers keep their kinds, and `--print-policy` prints what JSONSerialization
    /// printed of the untyped tree (its key order too), except that `/` is no
    /// longer written `\/`.
    func testPolicyValuesKeepTheirKindsAndPrintAsBefore() throws {
        let text = #"{"b":true,"f":false,"i":2048,"d":1.5,"s":"x/y","a":["y",1],"o":{"n":null},"k25519":1,"k448":2,"K1":3}"#
        guard case .object(let typed) = PolicyValue(try XCTUnwrap(JSONValue.parse(Array(text.utf8)))) else { return XCTFail("not an object") }
        XCTAssertEqual(typed["b"], .bool(true))
        XCTAssertEqual(typed["f"], .bool(false))
        XCTAssertEqual(typed["i"], .int(2048))
        XCTAssertEqual(typed["d"], .double(1.5))
        XCTAssertEqual(typed["a"], .array([.string("y"), .int(1)]))
        XCTAssertNil(typed["a"]?.strings, "a list with a number is no list of strings")
        XCTAssertEqual(typed["o"]?["n"], .null)
        let any = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let before = String(decoding: try JSONSerialization.data(withJSONObject: any, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self)
        XCTAssertEqual(PolicyValue.object(typed).json.prettyJSON, before.replacingOccurrences(of: "\\/", with: "/"))
        XCTAssertEqual(PolicyValue(yaml: try XCTUnwrap(try Yams.load(yaml: "n: 3\nb: yes\nd: 2.0\n") as? [String: Any])),
                       .object(["n": .int(3), "b": .bool(true), "d": .double(2.0)]))
    }

    func testARatingThatIsNoRatingIsRefusedWithItsFile() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let typo = dir.appendingPathComponent("typo.yaml")
        try "algorithms:\n  cipher:\n    aes128-ctr: {rating: warning, reason: x, reference: y}\n".write(to: typo, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try AlgorithmPolicy.bundled(overrides: [typo.path])) { e in
            XCTAssertTrue("\(e)".contains(typo.path) && "\(e)".contains("\"warning\" is not one of ok, info, warn, fail, unknown"), "\(e)")
        }
    }

    func testOverridesInJSONAndYAML() throws {
        let dir = Paths.tempDir()
        let yaml = dir.appendingPathComponent("strict.yaml")
        try """
        name: very-strict
        algorithms:
          kex:
            curve25519-sha256: {rating: warn, reason: "classical only", reference: "house rule"}
        rules:
          gex_size: {fail_below: 16384}
        """.write(to: yaml, atomically: true, encoding: .utf8)
        let p = try AlgorithmPolicy.bundled(overrides: [yaml.path])
        XCTAssertEqual(p.name, "very-strict")
        XCTAssertEqual(p.rate(.kex, "curve25519-sha256").rating, .warn)
        XCTAssertEqual(p.rate(.kex, "diffie-hellman-group1-sha1").rating, .fail, "untouched entries keep the default")
        var s = SessionTimeline(source: "openssh", side: "client", file: "x")
        s.negotiated = NegotiatedAlgorithms(kex: "diffie-hellman-group-exchange-sha256")
        s.gexBits = 8192
        SessionJudge(policy: p).judge(&s)
        XCTAssertTrue(s.findings.contains { $0.category == .gexSize && $0.rating == .fail })
        // The bundled profiles load and change verdicts.
        let strict = try AlgorithmPolicy.bundled(overrides: [Paths.repo.appendingPathComponent("catalog/policies/strict.json").path])
        XCTAssertEqual(strict.rate(.cipher, "aes128-cbc").rating, .fail)
        XCTAssertEqual(PolicyTests.policy.rate(.cipher, "aes128-cbc").rating, .warn)
        let pq = try AlgorithmPolicy.bundled(overrides: [Paths.repo.appendingPathComponent("catalog/policies/post-quantum.json").path])
        XCTAssertEqual(pq.rate(.kex, "curve25519-sha256").rating, .warn)
        XCTAssertEqual(pq.rate(.kex, "sntrup761x25519-sha512").rating, .ok)
    }

}
