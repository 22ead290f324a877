import XCTest
import SFTPLogKit
import SFTPLogTestSupport

/// SFTPPlus server lines in the timestamp-first layout, with the documented
/// wordings and our own values.
struct ServerLog {
    var start = Date(timeIntervalSince1970: 1_772_445_600)  // 2026-03-02T10:00:00Z
    var lines: [String] = []

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    mutating func add(_ seconds: Double, _ id: String, _ account: String, _ peer: String, _ message: String) {
        lines.append("\(ServerLog.iso(start.addingTimeInterval(seconds))) \(id) sftp-1 \(account) \(peer) \(message)")
    }

    mutating func failure(_ seconds: Double, user: String, from peer: String) {
        add(seconds, "20021", "Unknown", peer, "Failed to authenticate user \"\(user)\" with \"password\" credentials. "
            + "Possible typo in username. No authentication method was able to handle the credentials.")
    }

    /// A whole session: connect, log in, start SFTP with `client` and algorithms, optionally upload, close.
    mutating func session(_ seconds: Double, user: String, from peer: String, client: String = "SSH-2.0-OpenSSH_9.6",
                          algorithms: String = "ssh-ed25519 curve25519-sha256 hmac-sha2-256-etm@openssh.com aes256-gcm@openssh.com compression:none",
                          upload: Int? = nil) {
        add(seconds, "30014", "Unknown", peer, "New SSH connection made.")
        add(seconds + 1, "20137", user, peer, "Successful authentication for \"\(user)\" of type \"application\" from groups/roles "
            + "\"DEFAULT_GROUP\", by \"application:Application Accounts\" using password credentials as \"\(user)\". ")
        add(seconds + 2, "30011", user, peer, "SFTP access started at \"/srv/sftp/\(user)/\" as \"/\". Client \"\(client)\" using \(algorithms).")
        if let upload {
            add(seconds + 3, "30043", user, peer, "Successfully opened \"/srv/sftp/\(user)/big.bin\" in \"write\" mode, requested as \"/big.bin\".")
            add(seconds + 4, "30068", user, peer, "Close file \"/srv/sftp/\(user)/big.bin\" after successful write. "
                + "Wrote \(upload) bytes at 1000000 bytes/second in 1.0 seconds.")
        }
        add(seconds + 5, "30015", user, peer, "SSH connection closed from \"\(client)\".")
    }

    var text: String { lines.joined(separator: "\n") + "\n" }
}

final class AlertEngineTests: XCTestCase {
    static let utc = TimeZone(identifier: "UTC")!

    func engine(rules: AlertRules? = nil, history: AlertHistory = AlertHistory()) throws -> (AlertEngine, () -> [Alert]) {
        _ = Harness.catalog
        let memo = SessionJudge.Memo(SessionJudge(policy: try AlgorithmPolicy.bundled()))
        let e = AlertEngine(rules: try rules ?? AlertRules.bundled(), sessionRules: try SessionRules.bundled(), zone: Self.utc,
                            history: history) { memo.judge(&$0) }
        final class Box { var alerts: [Alert] = [] }
        let box = Box()
        e.deliver = { box.alerts.append($0) }
        return (e, { box.alerts })
    }

    func run(_ text: String, rules: AlertRules? = nil, history: AlertHistory = AlertHistory()) throws -> [Alert] {
        let (e, alerts) = try engine(rules: rules, history: history)
        for r in try Harness.parse(text: text) { e.add(r) }
        e.finishAll()
        return alerts()
    }

    func runFiles(_ paths: [String]) throws -> [Alert] {
        let (e, alerts) = try engine()
        for p in paths {
            for r in try Harness.parse(p) { e.add(r) }
            e.finish(file: p)
        }
        return alerts()
    }

    func testFailedLoginsFireOnceAtTheThresholdWithinTheWindow() throws {
        var log = ServerLog()
        for k in 0..<9 { log.failure(Double(k * 10), user: "admin", from: "198.51.100.7:\(40000 + k)") }
        XCTAssertEqual(try run(log.text).filter { $0.rule == "failed-logins" }.count, 0, "9 failures are under the threshold of 10")
        for k in 9..<25 { log.failure(Double(k * 10), user: "admin", from: "198.51.100.7:\(40000 + k)") }
        let fired = try run(log.text).filter { $0.rule == "failed-logins" }
        XCTAssertEqual(fired.count, 1, "one alert per address within the window")
        XCTAssertEqual(fired.first?.peer, "198.51.100.7")
        XCTAssertEqual(fired.first?.severity, .high)
        XCTAssertEqual(fired.first?.evidence.count, 10)
        XCTAssertEqual(fired.first?.evidence.last?.line, 10, "it fires on the tenth failure's line")
        XCTAssertEqual(fired.first?.ts, "2026-03-02T10:01:30.000Z")
    }

    func testFailuresSpreadBeyondTheWindowDoNotFire() throws {
        var log = ServerLog()
        for k in 0..<30 { log.failure(Double(k * 60), user: "admin", from: "198.51.100.7:\(40000 + k)") }  // 5 per 300 s
        XCTAssertEqual(try run(log.text).filter { $0.kind == .failedLogins }.count, 0)
    }

    func testAFailureAfterTheWindowFiresAgain() throws {
        var log = ServerLog()
        for k in 0..<10 { log.failure(Double(k), user: "admin", from: "198.51.100.7:1") }
        for k in 0..<10 { log.failure(Double(1000 + k), user: "admin", from: "198.51.100.7:2") }
        XCTAssertEqual(try run(log.text).filter { $0.kind == .failedLogins }.count, 2)
    }

    func testManyUsernamesFromOneAddressAndOneUsernameFromManyAddresses() throws {
        var log = ServerLog()
        for (k, user) in ["root", "admin", "oracle", "test", "guest"].enumerated() {
            log.failure(Double(k), user: user, from: "203.0.113.9:\(50000 + k)")
        }
        for k in 0..<5 { log.failure(Double(100 + k), user: "finance", from: "192.0.2.\(10 + k):2222") }
        let alerts = try run(log.text)
        let spray = alerts.filter { $0.kind == .usernamesFromAddress }
        XCTAssertEqual(spray.map(\.peer), ["203.0.113.9"])
        XCTAssertTrue(spray[0].message.contains("5 different usernames"), spray[0].message)
        let distributed = alerts.filter { $0.kind == .addressesForUsername }
        XCTAssertEqual(distributed.map(\.user), ["finance"])
        XCTAssertEqual(distributed[0].evidence.count, 5)
    }

    func testWeakCryptoFiresOnTheNegotiationLineNotOnModernCrypto() throws {
        var log = ServerLog()
        log.session(0, user: "alice", from: "10.1.1.1:5000")
        log.session(100, user: "bob", from: "10.1.1.2:5001", client: "SSH-2.0-JSCH_0.1.54",
                    algorithms: "ssh-rsa diffie-hellman-group1-sha1 hmac-sha1 aes128-cbc compression:none")
        let weak = try run(log.text).filter { $0.kind == .weakCrypto }
        XCTAssertEqual(weak.count, 1)
        XCTAssertEqual(weak.first?.peer, "10.1.1.2")
        XCTAssertEqual(weak.first?.user, "bob")
        XCTAssertEqual(weak.first?.evidence.first?.line, 7, "the line that says what was negotiated")
        XCTAssertNotNil(weak.first?.session)
        for name in ["diffie-hellman-group1-sha1", "aes128-cbc"] { XCTAssertTrue(weak[0].message.contains(name), weak[0].message) }
    }

    func testWeakCryptoOnTheSampleTranscriptsMatchesTheirTruth() throws {
        for name in ["sftp-cbc-aes128-hmac-sha1", "sftp-kex-dh-group14-sha1", "sftp-hostkey-ssh-rsa-sha1", "sftp-vvv-default-ls-get",
                     "sftp-kex-gex-sha256"] {
            let truth = try Harness.json(Paths.sample("openssh/\(name).truth.json"))
            let expected = Set((truth["expected_weak"] as? [String]) ?? [])
            let alerts = try runFiles([Paths.sample("openssh/\(name).log")]).filter { $0.kind == .weakCrypto }
            if expected.isEmpty {
                XCTAssertEqual(alerts.count, 0, name)
            } else {
                XCTAssertEqual(alerts.count, 1, name)
                for a in expected { XCTAssertTrue(alerts.first?.message.contains(a) == true, "\(name): \(a) in \(alerts.first?.message ?? "")") }
            }
        }
    }

    func testTerrapinFiresOnTheVulnerableSampleOnly() throws {
        for name in ["sftp-asyncssh-old-terrapin-chacha", "sftp-cbc-aes128-hmac-sha1", "sftp-vvv-default-ls-get"] {
            let truth = try Harness.json(Paths.sample("openssh/\(name).truth.json"))
            let alerts = try runFiles([Paths.sample("openssh/\(name).log")]).filter { $0.kind == .terrapin }
            XCTAssertEqual(alerts.count, (truth["terrapin_vulnerable"] as? Bool) == true ? 1 : 0, name)
        }
    }

    func testHostKeyRulesOnRealTranscripts() throws {
        let f = { (n: String) in Paths.fixture("watch/hostkey-\(n).log") }
        // The client's own warning.
        let warned = try runFiles([f("2-client-warns")])
        XCTAssertEqual(warned.map(\.kind), [.hostKeyChanged])
        XCTAssertTrue(warned[0].message.contains("[127.0.0.1]:22420"), warned[0].message)
        // First sight, then another ed25519 key (the client, with a new known_hosts, says nothing), then an RSA key.
        let seen = try runFiles([f("1-first"), f("3-other-key"), f("4-new-type")])
        XCTAssertEqual(seen.map(\.kind), [.hostKeyChanged, .hostKeyNew])
        XCTAssertEqual(seen.map { $0.evidence.first?.file }, [f("3-other-key"), f("4-new-type")])
        // Each alone: nothing known before, nothing to say.
        for n in ["1-first", "3-other-key", "4-new-type"] { XCTAssertEqual(try runFiles([f(n)]).count, 0, n) }
    }

    func testNewClientSoftwareForAnAccount() throws {
        var log = ServerLog()
        log.session(0, user: "carol", from: "10.2.0.1:1", client: "SSH-2.0-WinSCP_release_6.3.5")
        log.session(100, user: "carol", from: "10.2.0.1:2", client: "SSH-2.0-WinSCP_release_6.3.5")
        log.session(200, user: "dave", from: "10.2.0.2:1", client: "SSH-2.0-paramiko_3.4.0")
        XCTAssertEqual(try run(log.text).filter { $0.kind == .newClientSoftware }.count, 0, "first sight of an account is not news")
        log.session(300, user: "carol", from: "10.9.9.9:1", client: "SSH-2.0-Go")
        let news = try run(log.text).filter { $0.kind == .newClientSoftware }
        XCTAssertEqual(news.map(\.user), ["carol"])
        XCTAssertEqual(news.first?.peer, "10.9.9.9")
        XCTAssertTrue(news[0].message.contains("SSH-2.0-Go"), news[0].message)
    }

    func testLoginOutsideTheUsualHoursLearnedFromHistory() throws {
        var history = AlertHistory()
        let day = 1_772_409_600.0  // 2026-03-02T00:00:00Z
        for d in 0..<10 {
            for h in [9, 14] {
                history.learn(user: "erin", clientVersion: nil, loginEpoch: day - Double(d) * 86400 + Double(h) * 3600, zone: Self.utc,
                              host: nil, hostKeyType: nil, fingerprint: nil)
            }
        }
        var log = ServerLog()
        log.start = Date(timeIntervalSince1970: day + 9 * 3600 + 60)
        log.session(0, user: "erin", from: "10.3.0.1:1")
        XCTAssertEqual(try run(log.text, history: history).filter { $0.kind == .unusualHour }.count, 0, "09 h is usual")
        log.start = Date(timeIntervalSince1970: day + 3 * 3600 + 60)
        log.lines = []
        log.session(0, user: "erin", from: "10.3.0.1:1")
        let odd = try run(log.text, history: history).filter { $0.kind == .unusualHour }
        XCTAssertEqual(odd.map(\.user), ["erin"])
        XCTAssertTrue(odd[0].message.contains("03 h"), odd[0].message)
        XCTAssertEqual(try run(log.text).filter { $0.kind == .unusualHour }.count, 0, "no history, no judgement")
    }

    func testLargeTransfer() throws {
        var log = ServerLog()
        log.session(0, user: "frank", from: "10.4.0.1:1", upload: 5_000_000)
        log.session(100, user: "frank", from: "10.4.0.1:2", upload: 2_000_000_000)
        let big = try run(log.text).filter { $0.kind == .largeTransfer }
        XCTAssertEqual(big.count, 1)
        XCTAssertTrue(big[0].message.contains("2000000000 bytes"), big[0].message)
        XCTAssertEqual(big[0].evidence.first?.line, 11, "the line that gave its size")
    }

    func testUnknownEventIDAndUnresolvedWording() throws {
        var log = ServerLog()
        log.add(0, "99999", "alice", "10.5.0.1:1", "A message no version documents.")
        log.add(1, "99999", "alice", "10.5.0.1:1", "A message no version documents.")
        log.add(2, "30014", "Unknown", "10.5.0.1:2", "An SSH connection came along, worded anew.")
        let unknown = try run(log.text).filter { $0.kind == .unknownEvent }
        XCTAssertEqual(unknown.count, 2, "one per ID and kind within the window")
        XCTAssertTrue(unknown[0].message.contains("99999"))
        XCTAssertTrue(unknown[1].message.contains("wording"), unknown[1].message)
    }

    func testTheSampleServerLogRaisesNoBruteForceNorUnknownEvents() throws {
        let alerts = try runFiles([Paths.sample("sftpplus/dev-ts-first-5.26.log")])
        XCTAssertFalse(alerts.contains { [.failedLogins, .usernamesFromAddress, .addressesForUsername, .unknownEvent].contains($0.kind) },
                       "\(alerts.map(\.message))")
        XCTAssertTrue(alerts.contains { $0.kind == .weakCrypto }, "its JSCH client negotiates ssh-dss and hmac-md5")
    }

    func testRulesFilesChangeAddAndDisable() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("rules.yaml").path
        try """
            rules:
              - id: failed-logins
                threshold: 3
              - id: weak-crypto
                enabled: false
              - id: failed-logins-slow
                kind: failed-logins
                severity: critical
                threshold: 20
                window: 86400
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let rules = try AlertRules.bundled(overrides: [file])
        XCTAssertEqual(rules.rules.first { $0.id == "failed-logins" }?.threshold, 3)
        XCTAssertEqual(rules.rules.first { $0.id == "failed-logins" }?.window, 300, "keys not given keep their value")
        XCTAssertEqual(rules.rules.first { $0.id == "weak-crypto" }?.enabled, false)
        var log = ServerLog()
        for k in 0..<3 { log.failure(Double(k), user: "x", from: "198.51.100.1:1") }
        log.session(100, user: "bob", from: "10.1.1.2:5001", algorithms: "ssh-rsa diffie-hellman-group1-sha1 hmac-sha1 aes128-cbc compression:none")
        let alerts = try run(log.text, rules: rules)
        XCTAssertEqual(alerts.filter { $0.rule == "failed-logins" }.count, 1)
        XCTAssertEqual(alerts.filter { $0.kind == .weakCrypto }.count, 0)

        for (text, why) in [("rules:\n  - id: nope\n    kind: failed-logins\n", "needs a \"severity\""),
                            ("rules:\n  - id: failed-logins\n    thresold: 3\n", "takes no \"thresold\""),
                            ("rules:\n  - id: x\n    kind: psychic\n    severity: low\n", "is not one of"),
                            ("rules:\n  - id: weak-crypto\n    min_rating: ok\n", "min_rating")] {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try AlertRules.bundled(overrides: [file])) { e in
                XCTAssertTrue("\(e)".contains(why) && "\(e)".contains(file), "\(e)")
            }
        }
    }

    func testAlertJSONHasTheDocumentedFields() throws {
        var log = ServerLog()
        for k in 0..<10 { log.failure(Double(k), user: "admin", from: "198.51.100.7:1") }
        let a = try XCTUnwrap(try run(log.text).first { $0.kind == .failedLogins })
        guard case .object(let pairs) = a.json else { return XCTFail() }
        XCTAssertEqual(pairs.map(\.0), ["rule", "severity", "ts", "peer", "user", "session", "evidence", "message"])
        XCTAssertTrue(a.json.json.contains("\"evidence\":[{\"file\":"), a.json.json)
    }
}
