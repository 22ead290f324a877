import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogOpenSSH
@testable import SFTPLogPipeline

/// Walks every shared corpus case and checks each fact of its truth file
/// against the session folded from the transcript.
final class OpenSSHTruthTests: XCTestCase {
    /// Sorts object keys recursively so Foundation-decoded truth compares with our ordered JSON.
    static func normalized(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let pairs): return .object(pairs.sorted { $0.0 < $1.0 }.map { ($0.0, normalized($0.1)) })
        case .array(let a): return .array(a.map(normalized))
        default: return v
        }
    }

    static func value(_ any: Any?) -> JSONValue {
        guard let any else { return .null }
        return normalized(JSONValue.from(foundation: any))
    }

    func testCorpusHasThirteenCases() {
        XCTAssertEqual(OpenSSHFixtures.truthCases().count, 13, "\(OpenSSHFixtures.truthCases())")
    }

    func testEveryTruthFact() throws {
        let cases = OpenSSHFixtures.truthCases()
        XCTAssertFalse(cases.isEmpty)
        for name in cases {
            let truth = try OpenSSHFixtures.truth(name)
            let recs = try OpenSSHFixtures.records(file: OpenSSHFixtures.path(name + ".log"))
            OpenSSHFixtures.assertWellFormed(recs)
            let sessions = OpenSSHSessionBuilder.sessions(from: recs)
            XCTAssertEqual(sessions.count, 1, "\(name): sessions")
            guard let s = sessions.first else { continue }
            let j = s.json()
            func check(_ key: String, _ ours: JSONValue?, file: StaticString = #filePath, line: UInt = #line) {
                XCTAssertEqual(ours.map(Self.normalized) ?? .null, Self.value(truth[key]), "\(name): \(key)", file: file, line: line)
            }
            check("client_version", j["client_version"])
            check("server_version", j["server_version"])
            // peer {host, port}
            let tPeer = truth["peer"] as? [String: Any]
            XCTAssertEqual(j["peer"]?["host"], Self.value(tPeer?["host"]), "\(name): peer.host")
            XCTAssertEqual(j["peer"]?["port"], Self.value(tPeer?["port"]), "\(name): peer.port")
            XCTAssertEqual(s.peer.host, tPeer?["host"] as? String, "\(name): struct peer.host")
            XCTAssertEqual(s.peer.port, tPeer?["port"] as? Int, "\(name): struct peer.port")
            // negotiated: all eight slots, or null
            if let tn = truth["negotiated"] as? [String: Any] {
                XCTAssertNotNil(s.negotiated, "\(name): negotiated")
                for k in ["kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s", "mac_s2c", "compression_c2s", "compression_s2c"] {
                    XCTAssertEqual(j["negotiated"]?[k], Self.value(tn[k]), "\(name): negotiated.\(k)")
                }
                XCTAssertEqual(s.negotiated?.kex, tn["kex"] as? String)
                XCTAssertEqual(s.negotiated?.hostkey, tn["hostkey"] as? String)
            } else {
                XCTAssertNil(s.negotiated, "\(name): negotiated should be null")
                XCTAssertEqual(j["negotiated"], .null)
            }
            check("strict_kex", j["strict_kex"])
            XCTAssertEqual(s.strictKex, truth["strict_kex"] as? Bool, "\(name): struct strict_kex")
            check("hostkey_fingerprint", j["hostkey_fingerprint"])
            // auth
            let tAuth = truth["auth"] as! [String: Any]
            for k in ["user", "methods_tried", "succeeded_method"] {
                XCTAssertEqual(j["auth"]?[k], Self.value(tAuth[k]), "\(name): auth.\(k)")
            }
            XCTAssertEqual(s.user, tAuth["user"] as? String)
            check("host_key_check", j["host_key_check"])
            check("outcome", j["outcome"])
            XCTAssertEqual(s.outcome.rawValue, truth["outcome"] as? String, "\(name): struct outcome")
            // error: a substring of our main error message
            if let te = truth["error"] as? String {
                XCTAssertNotNil(s.error, "\(name): error missing")
                XCTAssertTrue(s.error?.contains(te) ?? false, "\(name): error \(s.error ?? "nil") should contain \(te)")
            } else {
                XCTAssertNil(s.error, "\(name): unexpected error \(s.error ?? "")")
            }
            // sftp_ops
            let tOps = truth["sftp_ops"] as? [[String: Any]] ?? []
            XCTAssertEqual(s.operations.count, tOps.count, "\(name): sftp op count \(s.operations.map(\.command))")
            for (k, t) in tOps.enumerated() where k < s.operations.count {
                let o = s.operations[k]
                XCTAssertEqual(o.op.rawValue, t["op"] as? String, "\(name): op[\(k)].op")
                XCTAssertEqual(o.path, t["path"] as? String, "\(name): op[\(k)].path")
                XCTAssertEqual(o.ok, t["ok"] as? Bool, "\(name): op[\(k)].ok")
                XCTAssertEqual(o.local, t["local"] as? String, "\(name): op[\(k)].local")
                XCTAssertEqual(o.to, t["to"] as? String, "\(name): op[\(k)].to")
                let jo = j["sftp_ops"].flatMap { v -> JSONValue? in if case .array(let a) = v, k < a.count { return a[k] }; return nil }
                XCTAssertEqual(jo?["op"], .string(t["op"] as? String ?? ""), "\(name): json op[\(k)]")
                XCTAssertEqual(jo?["ok"], .bool(t["ok"] as? Bool ?? false), "\(name): json op[\(k)].ok")
                XCTAssertEqual(jo?["local"], (t["local"] as? String).map(JSONValue.string), "\(name): json op[\(k)].local")
            }
            for n in truth["sftp_ops_not_executed"] as? [[String: Any]] ?? [] {
                XCTAssertFalse(s.operations.contains { $0.op.rawValue == n["op"] as? String && $0.path == n["path"] as? String },
                               "\(name): \(n) was never run")
            }
            if let rk = truth["rekey_count"] as? Int {
                XCTAssertEqual(s.rekeyCount, rk, "\(name): rekey_count")
            } else {
                XCTAssertEqual(s.rekeyCount, 0, "\(name): rekey_count")
            }
            XCTAssertEqual(s.recordCount, recs.count, "\(name): every record belongs to the session")
        }
    }

    /// Facts beyond the truth files, checked on specific cases.
    func testCorpusDetails() throws {
        let gex = try OpenSSHFixtures.sessions(file: "sftp-kex-gex-sha256.log")[0]
        XCTAssertEqual(gex.gex?.requestedMin, 2048)
        XCTAssertEqual(gex.gex?.requestedPreferred, 8192)
        XCTAssertEqual(gex.gex?.requestedMax, 8192)
        XCTAssertEqual(gex.gex?.groupBits, 8192)

        let vvv = try OpenSSHFixtures.sessions(file: "sftp-vvv-default-ls-get.log")[0]
        XCTAssertEqual(vvv.clientProposal?.extInfo, true)
        XCTAssertEqual(vvv.clientProposal?.strictKex, true)
        XCTAssertEqual(vvv.serverProposal?.strictKex, true)
        XCTAssertEqual(vvv.clientProposal?.cipherC2S.first, "chacha20-poly1305@openssh.com")
        XCTAssertEqual(vvv.serverProposal?.compressionS2C, ["none", "zlib@openssh.com"])
        XCTAssertEqual(vvv.clientProposal?.languagesC2S, [])
        XCTAssertEqual(vvv.clientProposal?.firstKexFollows, 0)
        XCTAssertEqual(vvv.channel.subsystem, "sftp")
        XCTAssertEqual(vvv.channel.remoteExitStatus, 0)
        XCTAssertEqual(vvv.hostKey.type, "ssh-ed25519")
        XCTAssertEqual(vvv.hostKey.file, "/srv/corpus/cases/sftp-vvv-default-ls-get/known_hosts")
        XCTAssertEqual(vvv.hostKey.line, 1)
        XCTAssertEqual(vvv.compat, "0x04000000")
        XCTAssertEqual(vvv.protocolVersion, "2.0")
        XCTAssertEqual(vvv.auth.methodsAllowed.first, ["publickey", "password"])
        XCTAssertEqual(vvv.auth.keysOffered, ["/srv/corpus/keys/user_ed25519"])
        XCTAssertEqual(vvv.verbosity, 3)

        let cmd = try OpenSSHFixtures.sessions(file: "ssh-vvv-default-command.log")[0]
        XCTAssertEqual(cmd.channel.command, "echo corpus-command-ok; id -un")
        XCTAssertEqual(cmd.transfer.bytesSent, 3564)
        XCTAssertEqual(cmd.transfer.bytesReceived, 3400)
        XCTAssertEqual(cmd.transfer.seconds, 0.1)
        XCTAssertEqual(cmd.transfer.bytesPerSecondSent, 69990.2)
        XCTAssertEqual(cmd.transfer.bytesPerSecondReceived, 66769.6)

        let neg = try OpenSSHFixtures.sessions(file: "ssh-negfail-no-matching-cipher.log")[0]
        XCTAssertEqual(neg.negotiationFailure?.slot, "cipher_s2c")
        XCTAssertEqual(neg.negotiationFailure?.clientOffer, ["aes128-cbc", "3des-cbc"])
        XCTAssertEqual(neg.negotiationFailure?.serverOffer.first, "chacha20-poly1305@openssh.com")
        XCTAssertEqual(neg.negotiationFailure?.serverOffer.count, 6)

        let denied = try OpenSSHFixtures.sessions(file: "ssh-auth-publickey-denied.log")[0]
        XCTAssertEqual(denied.auth.failures, 1)
        XCTAssertNil(denied.channel.command)

        let abort = try OpenSSHFixtures.sessions(file: "sftp-get-missing-batch-abort.log")[0]
        XCTAssertEqual(abort.operations.last?.error, "File \"/srv/corpus/home/data/missing.txt\" not found.")
    }

    /// Per-line kinds and facts on the corpus.
    func testCorpusRecordKinds() throws {
        let recs = try OpenSSHFixtures.records(file: OpenSSHFixtures.path("sftp-vvv-default-ls-get.log"))
        let text = try String(contentsOfFile: OpenSSHFixtures.path("sftp-vvv-default-ls-get.log"), encoding: .utf8)
        let nonBlank = text.components(separatedBy: CharacterSet(charactersIn: "\r\n"))
            .filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        XCTAssertEqual(recs.count, nonBlank.count, "one record per non-blank line")
        XCTAssertFalse(recs.contains { $0.kind == .unparsed })
        let kinds = Set(recs.map(\.kind.rawValue))
        for k in ["openssh.version", "openssh.compat", "openssh.connect", "openssh.kexinit", "openssh.negotiated",
                  "openssh.strict_kex", "openssh.hostkey", "openssh.auth", "openssh.channel", "openssh.sftp",
                  "openssh.transfer", "openssh.debug", "openssh.output"] {
            XCTAssertTrue(kinds.contains(k), "missing \(k)")
        }
        // raw bytes exact (CR stripped by the splitter), message without the prefix, level kept
        let kexLine = recs.first { $0.kind == .opensshNegotiated && $0.extraValue("direction") == .string("s2c") }!
        XCTAssertEqual(String(decoding: kexLine.raw, as: UTF8.self),
                       "debug1: kex: server->client cipher: chacha20-poly1305@openssh.com MAC: <implicit> compression: none")
        XCTAssertEqual(kexLine.message, "kex: server->client cipher: chacha20-poly1305@openssh.com MAC: <implicit> compression: none")
        XCTAssertEqual(kexLine.extraValue("level"), .int(1))
        XCTAssertEqual(kexLine.extraValue("cipher"), .string("chacha20-poly1305@openssh.com"))
        XCTAssertEqual(kexLine.extraValue("mac"), .null)
        XCTAssertEqual(kexLine.extraValue("mac_implicit"), .bool(true))
        let kexinit = recs.filter { $0.kind == .opensshKexinit && $0.extraValue("event") == .string("proposal") }
        XCTAssertEqual(kexinit.count, 24)
        XCTAssertEqual(kexinit.filter { $0.extraValue("side") == .string("client") }.count, 12)
        let echo = recs.first { $0.kind == .opensshSFTP && $0.extraValue("event") == .string("command") }!
        XCTAssertEqual(echo.extraValue("op"), .string("ls"))
        XCTAssertEqual(echo.extraValue("args"), .array([.string("-l"), .string("data")]))
        let banner = recs.first!
        XCTAssertEqual(banner.kind, .opensshVersion)
        XCTAssertEqual(banner.extraValue("client_version"), .string("OpenSSH_9.2p1 Debian-2+deb12u10"))
        XCTAssertNil(banner.extraValue("level"))
        let dump = recs.first { String(decoding: $0.raw, as: UTF8.self).hasPrefix("  #0 client-session") }!
        XCTAssertEqual(dump.kind, .opensshDebug)
        XCTAssertEqual(dump.extraValue("continuation"), .bool(true))
        let seqnr = recs.filter { $0.kind == .opensshStrictKex && $0.extraValue("event") == .string("reset_seqnr") }
        XCTAssertEqual(seqnr.map { $0.extraValue("direction") }, [.string("send"), .string("read")])
        XCTAssertEqual(seqnr.first?.extraValue("function"), .string("ssh_packet_send2_wrapped"))
        // The record offsets cover the file.
        XCTAssertEqual(recs.first?.offset, 0)
    }

    func testFactoryReturnsOpenSSHReader() {
        let stream = RecordStream(options: ReaderOptions())
        let reader = stream.makeReader(file: "x.log", fileYear: nil, format: .openssh, readerState: nil)
        XCTAssertTrue(reader is OpenSSHTranscriptReader)
    }
}
