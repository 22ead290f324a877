import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogSessions

final class SFTPPlusSessionTests: XCTestCase {
    static let rules: SessionRules = {
        _ = Harness.catalog
        return try! SessionRules.bundled()
    }()

    func sessions(_ path: String, options: ReaderOptions = ReaderOptions(timeZone: TimeZone(identifier: "UTC")!)) throws -> [SessionTimeline] {
        let builder = SFTPPlusSessionBuilder(rules: Self.rules, file: path, sourceID: 1, timeZone: TimeZone(identifier: "UTC")!)
        for r in try Harness.parse(path, options: options) { builder.add(r, seq: 0) }
        return builder.finish()
    }

    func sessions(text: String) throws -> [SessionTimeline] {
        let dir = Paths.tempDir()
        let path = dir.appendingPathComponent("t.log").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try sessions(path)
    }

    func testSessionsMatchTheTruthFiles() throws {
        for name in ["dev-ts-first-5.26", "dev-id-first-4.0", "dev-csv-4.16"] {
            let truth = try Harness.json(Paths.sample("sftpplus/\(name).truth.json"))
            let expected = truth["sessions"] as! [[String: Any]]
            let got = try sessions(Paths.sample("sftpplus/\(name).log"))
            XCTAssertEqual(got.count, expected.count, name)
            for t in expected {
                let peer = t["peer"] as! [String: Any]
                let ctx = "\(name) \(peer["address"]!):\(peer["port"]!)"
                guard let s = got.first(where: { $0.peer?.address == peer["address"] as? String && $0.peer?.port == peer["port"] as? Int }) else {
                    XCTFail("\(ctx): no session"); continue
                }
                XCTAssertEqual(s.side, "server", ctx)
                XCTAssertEqual(s.user, t["user"] as? String, ctx)
                XCTAssertEqual(s.outcome.rawValue, t["outcome"] as? String, ctx)
                XCTAssertEqual(s.eventCount, t["event_count"] as? Int, ctx)
                XCTAssertEqual(s.clientVersion, t["client_version"] as? String, ctx)
                XCTAssertTrue(sameInstantText(s.start?.iso, t["start"] as? String, ignoreOffset: true), "\(ctx) start \(s.start?.iso ?? "-")")
                XCTAssertTrue(sameInstantText(s.end?.iso, t["end"] as? String, ignoreOffset: true), "\(ctx) end \(s.end?.iso ?? "-")")
                let n = t["negotiated"] as? [String: Any]
                let ours = s.negotiated.json
                for key in ["kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s", "mac_s2c", "compression_c2s", "compression_s2c"] {
                    XCTAssertEqual(stringValue(ours[key]), n?[key] as? String, "\(ctx) negotiated.\(key)")
                }
                let ops = t["sftp_ops"] as! [[String: Any]]
                XCTAssertEqual(s.operations.map(\.op.rawValue), ops.map { $0["op"] as! String }, "\(ctx) ops")
                for (o, e) in zip(s.operations, ops) {
                    XCTAssertEqual(o.path, e["path"] as? String, ctx)
                    XCTAssertEqual(o.ok, e["ok"] as? Bool, "\(ctx) \(o.op) \(o.path)")
                    XCTAssertEqual(o.bytes, e["bytes"] as? Int, "\(ctx) \(o.op) \(o.path) bytes")
                }
            }
        }
    }

    func testSeedServerLogIsOneSessionForItsPeer() throws {
        let all = try sessions(Paths.sample("sftpplus/seed-server-3.30.log"))
        let peer = all.filter { $0.peer == Peer(address: "127.0.0.1", port: 58032) }
        XCTAssertEqual(peer.count, 1)
        XCTAssertEqual(peer[0].user, "user")
        XCTAssertEqual(peer[0].authSucceededMethod, "publickey")
        XCTAssertEqual(peer[0].eventCount, 10)
        XCTAssertEqual(peer[0].operations.map(\.op.rawValue), ["ls"])
        // The same events shown again in the short layout join that session as duplicates.
        XCTAssertEqual(peer[0].records.count, 18)
        XCTAssertEqual(peer[0].records.filter(\.duplicate).count, 8)
        XCTAssertEqual(all.count, 1)
    }

    func testInterleavedSessionsAndReusedPorts() throws {
        let log = """
        2025-01-01T10:00:00Z 30014 sftp-1 Unknown 192.0.2.1:5000 New SSH connection made.
        2025-01-01T10:00:01Z 30014 sftp-1 Unknown 192.0.2.1:5001 New SSH connection made.
        2025-01-01T10:00:02Z 20137 sftp-1 ann 192.0.2.1:5000 Account "ann" of type "application" from "G", authenticated as "ann" by "Application Accounts" of type "application" using password.
        2025-01-01T10:00:03Z 20021 sftp-1 Unknown 192.0.2.1:5001 Failed to authenticate user "root" with "password" credentials. Possible typo in username. No authentication method was able to handle the credentials.
        2025-01-01T10:00:04Z 30022 sftp-1 ann 192.0.2.1:5000 Deleting "/a.txt".
        2025-01-01T10:00:05Z 30050 sftp-1 Unknown 192.0.2.1:5001 Closing the SSH connection. Too many authentication failures.
        2025-01-01T10:00:06Z 30023 sftp-1 ann 192.0.2.1:5000 Successfully deleted "/a.txt".
        2025-01-01T10:00:07Z 30015 sftp-1 ann 192.0.2.1:5000 SSH connection closed from "SSH-2.0-x". Protected using host-key:ssh-ed25519 key-exchange:curve25519-sha256 in-hmac:<implicit> in-cipher:aes128-gcm@openssh.com out-hmac:<implicit> out-cipher:aes128-gcm@openssh.com in-compression:none out-compression:none
        2025-01-01T10:05:00Z 30014 sftp-1 Unknown 192.0.2.1:5000 New SSH connection made.
        2025-01-01T10:05:01Z 20137 sftp-1 bob 192.0.2.1:5000 Account "bob" of type "application" from "G", authenticated as "bob" by "Application Accounts" of type "application" using ssh-key.
        2025-01-01T10:05:02Z 30015 sftp-1 bob 192.0.2.1:5000 SSH connection closed from "SSH-2.0-y". Protected using host-key:ssh-ed25519 key-exchange:curve25519-sha256 in-hmac:hmac-sha2-256 in-cipher:aes128-ctr out-hmac:hmac-sha2-512 out-cipher:aes256-ctr in-compression:none out-compression:zlib
        2025-01-01T10:06:00Z 20156 Process Process 0.0.0.0:0 Successfully started service "sftp-1" of type ssh.

        """
        let s = try sessions(text: log)
        XCTAssertEqual(s.count, 3, "same address, two ports, then the first port reused after its close")
        XCTAssertEqual(s.map(\.user), ["ann", "root", "bob"])
        XCTAssertEqual(s.map(\.outcome.rawValue), ["ok", "auth-failed", "ok"])
        XCTAssertEqual(s.map(\.eventCount), [5, 3, 3])
        XCTAssertEqual(s[0].operations.first?.op, .rm)
        XCTAssertEqual(s[0].operations.first?.ok, true)
        XCTAssertNil(s[0].negotiated.macC2S, "<implicit> MAC is null")
        XCTAssertEqual(s[2].negotiated.macS2C, "hmac-sha2-512", "server out- is server-to-client")
        XCTAssertEqual(s[2].negotiated.compressionS2C, "zlib")
        XCTAssertEqual(s[2].authSucceededMethod, "publickey")
        XCTAssertNotEqual(s[0].id, s[2].id)
    }

    func testClientSideLocationsAreSessionsOfTheirOwn() throws {
        let log = """
        2025-02-01 08:00:00 20140 51e1 Process 0.0.0.0:0 Connecting resource "partner".
        2025-02-01 08:00:01 30072 Process svc 198.51.100.7:22 Location partner connected to the SSH server.
        2025-02-01 08:00:02 60043 Process Process 0.0.0.0:0 Successfully renamed "/out/a.csv" to "/out/a.csv.done" on "partner".
        2025-02-01 08:00:03 20140 77aa Process 0.0.0.0:0 Connecting resource "backup".
        2025-02-01 08:00:04 30072 Process svc 203.0.113.9:2222 Location backup connected to the SSH server.
        2025-02-01 08:00:05 30073 Process svc 198.51.100.7:22 Connection to SSH server "SSH-2.0-OpenSSH_9.6" was lost for location partner. Protected using host-key:rsa-sha2-512 key-exchange:curve25519-sha256 in-hmac:hmac-sha2-256 in-cipher:aes256-ctr out-hmac:hmac-sha1 out-cipher:aes128-cbc

        """
        let s = try sessions(text: log)
        XCTAssertEqual(s.count, 2)
        let partner = s.first { $0.location == "partner" }!
        XCTAssertEqual(partner.side, "client")
        XCTAssertEqual(partner.peer, Peer(address: "198.51.100.7", port: 22))
        XCTAssertEqual(partner.serverVersion, "SSH-2.0-OpenSSH_9.6")
        XCTAssertEqual(partner.eventCount, 4)
        XCTAssertEqual(partner.operations.map(\.op.rawValue), ["rename"])
        // For a client location `out` is client-to-server.
        XCTAssertEqual(partner.negotiated.cipherC2S, "aes128-cbc")
        XCTAssertEqual(partner.negotiated.macC2S, "hmac-sha1")
        XCTAssertEqual(partner.negotiated.cipherS2C, "aes256-ctr")
        let backup = s.first { $0.location == "backup" }!
        XCTAssertEqual(backup.eventCount, 2)
        XCTAssertEqual(backup.peer?.port, 2222)
    }

    func testPeerlessShortLayoutGroupsOnlyWhereEvidenceAllows() throws {
        // One connection at a time: grouped.
        let sequential = try sessions(Paths.sample("sftpplus/layouts/short-5.26.log"))
        XCTAssertGreaterThan(sequential.count, 1)
        XCTAssertTrue(sequential.allSatisfy { $0.details.contains { $0.0 == "grouped_without_peer" } })
        // Two connections open at once: their events are not merged into either.
        let overlapping = try sessions(text: """
        2025-01-01 10:00:00 30014 New SSH connection made.
        2025-01-01 10:00:01 30014 New SSH connection made.
        2025-01-01 10:00:02 30022 Deleting "/a.txt".

        """)
        XCTAssertEqual(overlapping.count, 2)
        XCTAssertEqual(overlapping.map(\.eventCount), [1, 1])
        XCTAssertTrue(overlapping.allSatisfy { $0.details.contains { $0.0 == "ambiguous" } })
    }

    /// A session's id names its file by its last path component only (the same
    /// log read from another folder keeps its ids), as splitting the path gives it.
    func testSessionIdentityNamesTheFileByItsLastComponent() {
        for path in ["server.log", "/var/log/sftpplus/server.log", "logs//server.log", "logs/server.log/", "/", "///", "", "-", "a/b//",
                     "dír/été.log", "a/\u{301}b", "x/a\u{301}/", "/données//"] {
            XCTAssertEqual(SessionIdentity.baseName(path), path.split(separator: "/").last.map(String.init) ?? path, path)
        }
        var a = SessionTimeline(source: "sftpplus", side: "server", file: "/one/server.log")
        var b = SessionTimeline(source: "sftpplus", side: "server", file: "/two/server.log")
        a.firstLine = 7; b.firstLine = 7
        XCTAssertEqual(SessionIdentity.make(a), SessionIdentity.make(b))
        b.file = "/two/other.log"
        XCTAssertNotEqual(SessionIdentity.make(a), SessionIdentity.make(b))
    }
}
