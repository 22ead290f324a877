import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogOpenSSH
@testable import SFTPLogStore

/// Hand-written transcripts in the line formats of older clients (see
/// shared/reference/openssh-debug-formats.md).
final class OpenSSHOldFormatTests: XCTestCase {
    func session(_ name: String) throws -> (OpenSSHSession, [Record]) {
        let recs = try OpenSSHFixtures.records(file: OpenSSHFixtures.path(name))
        OpenSSHFixtures.assertWellFormed(recs)
        let sessions = OpenSSHSessionBuilder.sessions(from: recs)
        XCTAssertEqual(sessions.count, 1, name)
        return (sessions[0], recs)
    }

    /// 6.6 at -vv: `kex_parse_kexinit:` dumps only, legacy `kex: server->client C M Z` lines,
    /// MD5 host key fingerprint, `Offering RSA public key:`, GEX with min 1024.
    func testOpenSSH66KexParseKexinit() throws {
        let (s, recs) = try session("old-6.6-vv-sftp-gex-md5.log")
        XCTAssertEqual(s.clientVersion, "OpenSSH_6.6.1p1 Ubuntu-2ubuntu2.13")
        XCTAssertEqual(s.clientLibrary, "OpenSSL 1.0.1f 6 Jan 2014")
        XCTAssertEqual(s.serverVersion, "OpenSSH_5.9p1 Debian-5ubuntu1.10")
        XCTAssertEqual(s.compat, "0x0c000000")
        XCTAssertEqual(s.peer, OpenSSHPeer(host: "files.example.com", address: "192.0.2.10", port: 22))
        // Proposals: first block is the client, second the server.
        XCTAssertEqual(s.clientProposal?.kex.first, "curve25519-sha256@libssh.org")
        // The server prefers other algorithms than the client: the client's order decides.
        XCTAssertEqual(s.serverProposal?.kex, ["diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha256"])
        XCTAssertEqual(s.serverProposal?.hostKey, ["ssh-dss", "ssh-rsa"])
        XCTAssertEqual(s.serverProposal?.compressionC2S, ["none", "zlib@openssh.com"])
        XCTAssertEqual(s.serverProposal?.languagesS2C, [])
        XCTAssertEqual(s.serverProposal?.reserved, 0)
        XCTAssertEqual(s.clientProposal?.extInfo, false)
        // Negotiated: KEX and host key computed by RFC 4253 (first client name the server offers).
        let n = try XCTUnwrap(s.negotiated)
        XCTAssertEqual(n.kex, "diffie-hellman-group-exchange-sha256")
        XCTAssertEqual(n.hostkey, "ssh-rsa")
        XCTAssertEqual(n.cipherC2S, "aes128-ctr")
        XCTAssertEqual(n.cipherS2C, "aes128-ctr")
        XCTAssertEqual(n.macC2S, "hmac-sha1")
        XCTAssertEqual(n.macS2C, "hmac-sha1")
        XCTAssertEqual(n.compressionC2S, "none")
        XCTAssertEqual(n.compressionS2C, "none")
        XCTAssertEqual(s.negotiatedDerivedSlots, ["kex", "hostkey"])
        XCTAssertEqual(s.strictKex, false, "both proposals visible, neither carries the strict-KEX marker")
        XCTAssertEqual(s.gex?.requestedMin, 1024)
        XCTAssertEqual(s.gex?.requestedPreferred, 3072)
        XCTAssertEqual(s.gex?.requestedMax, 8192)
        XCTAssertEqual(s.gex?.groupBits, 3072)
        XCTAssertEqual(s.hostKey.type, "RSA")
        XCTAssertEqual(s.hostKey.fingerprint, "3f:9a:c1:55:07:2e:84:d0:6b:4e:11:a2:9c:70:fe:2b")
        XCTAssertEqual(s.hostKey.fingerprintHash, "MD5")
        XCTAssertEqual(s.hostKey.check, "known")
        XCTAssertEqual(s.hostKey.file, "/home/alice/.ssh/known_hosts")
        XCTAssertEqual(s.hostKey.line, 3)
        // gssapi methods were announced but never sent.
        XCTAssertEqual(s.auth.methodsTried, ["publickey"])
        XCTAssertEqual(s.auth.keysOffered, ["/home/alice/.ssh/id_rsa"])
        XCTAssertEqual(s.auth.succeededMethod, "publickey")
        XCTAssertNil(s.auth.user, "6.6 has no `Authenticating to` line")
        // sftp: `-rm` failed without aborting; `bye` is not an operation.
        XCTAssertEqual(s.operations.map(\.op.rawValue), ["cd", "get", "rm", "rename"])
        XCTAssertEqual(s.operations[1].path, "report-2014.csv")
        XCTAssertEqual(s.operations[1].local, "report-2014.csv", "from the Fetching line")
        XCTAssertEqual(s.operations[2].ok, false)
        XCTAssertEqual(s.operations[2].ignoreErrors, true)
        XCTAssertEqual(s.operations[2].error, "Couldn't delete file: No such file")
        XCTAssertEqual(s.operations[3].to, "b.txt")
        XCTAssertTrue(s.operations[3].ok)
        XCTAssertEqual(s.outcome, .ok)
        XCTAssertNil(s.error)
        XCTAssertEqual(s.transfer.bytesReceived, 254112)
        XCTAssertEqual(s.verbosity, 3)
        // Per-line: the proposal lines carry side and slot.
        let old = recs.filter { $0.extraValue("format") == .string("kex_parse_kexinit") }
        XCTAssertEqual(old.count, 24)
        XCTAssertEqual(old[12].extraValue("side"), .string("server"))
        XCTAssertEqual(old[12].extraValue("slot"), .string("kex"))
        XCTAssertEqual(old[11].extraValue("slot"), .string("reserved"))
        let legacy = recs.filter { $0.kind == .opensshNegotiated }
        XCTAssertEqual(legacy.map { $0.extraValue("format") }, [.string("legacy"), .string("legacy")])
        // The GSS minor-status continuation is part of the debug output, not foreign.
        let gss = recs.first { String(decoding: $0.raw, as: UTF8.self).hasPrefix("No Kerberos credentials") }
        XCTAssertEqual(gss?.kind, .opensshDebug)
        XCTAssertFalse(recs.contains { $0.kind == .unparsed })
        XCTAssertEqual(recs.first { $0.message == "Couldn't delete file: No such file" }?.kind, .opensshSFTP)
    }

    /// 7.4 at -vv: labelled proposals, `kex: algorithm:` lines, `Offering RSA public key:`,
    /// publickey refused then password (one wrong try), key added to known_hosts.
    func testOpenSSH74Labelled() throws {
        let (s, recs) = try session("old-7.4-vv-ssh-password-added.log")
        XCTAssertEqual(s.clientVersion, "OpenSSH_7.4")
        XCTAssertEqual(s.serverVersion, "OpenSSH_7.9p1 Debian-10+deb10u2")
        XCTAssertEqual(s.peer, OpenSSHPeer(host: "backup.example.net", address: "203.0.113.5", port: 2222))
        XCTAssertEqual(s.user, "bob")
        let n = try XCTUnwrap(s.negotiated)
        XCTAssertEqual(n, NegotiatedAlgorithms(kex: "curve25519-sha256", hostkey: "ecdsa-sha2-nistp256", cipherC2S: "aes128-ctr",
                                               cipherS2C: "aes128-ctr", macC2S: "hmac-sha2-256", macS2C: "hmac-sha2-256",
                                               compressionC2S: "none", compressionS2C: "none"))
        XCTAssertEqual(s.negotiatedDerivedSlots, [])
        XCTAssertEqual(s.clientProposal?.extInfo, true)
        XCTAssertEqual(s.clientProposal?.strictKex, false)
        XCTAssertEqual(s.serverProposal?.cipherC2S, ["aes128-ctr", "aes192-ctr", "aes256-ctr"])
        XCTAssertEqual(s.strictKex, false)
        XCTAssertEqual(s.hostKey.check, "added")
        XCTAssertEqual(s.hostKey.fingerprint, "SHA256:Zq1oC8v4mXbEw3N6v0m3d9Qb2S7c1YyTnLk0pQe5aHc")
        XCTAssertEqual(s.auth.methodsTried, ["publickey", "password"])
        XCTAssertEqual(s.auth.succeededMethod, "password")
        XCTAssertEqual(s.auth.failures, 2, "publickey refused once, one wrong password")
        XCTAssertEqual(s.auth.methodsAllowed.count, 3)
        XCTAssertEqual(s.channel.command, "df -h /srv/backup")
        XCTAssertEqual(s.channel.remoteExitStatus, 0)
        XCTAssertEqual(s.outcome, .ok)
        XCTAssertEqual(s.operations, [])
        XCTAssertEqual(s.rekeyCount, 0)
        let offer = recs.first { $0.extraValue("event") == .string("offering") }
        XCTAssertEqual(offer?.extraValue("key_type"), .string("RSA"))
        XCTAssertEqual(offer?.extraValue("key_path"), .string("/home/bob/.ssh/id_rsa"))
        let out = recs.filter { $0.kind == .opensshOutput }
        XCTAssertEqual(out.count, 2, "remote command output")
        // `kex: <alg> need=… dh_need=…` is not a negotiation line.
        XCTAssertEqual(recs.filter { $0.kind == .opensshNegotiated }.count, 4)
    }

    /// 8.4 at -v only: AEAD ciphers with zlib, a rekey mid-session, ops with flags.
    func testOpenSSH84Rekey() throws {
        let (s, _) = try session("old-8.4-v-sftp-rekey-zlib.log")
        XCTAssertEqual(s.clientVersion, "OpenSSH_8.4p1 Debian-5+deb11u3")
        XCTAssertEqual(s.serverVersion, "OpenSSH_8.2p1 Ubuntu-4ubuntu0.11")
        let n = try XCTUnwrap(s.negotiated)
        XCTAssertEqual(n.kex, "curve25519-sha256")
        XCTAssertEqual(n.hostkey, "rsa-sha2-512", "signature algorithm, not the ssh-rsa key type")
        XCTAssertEqual(n.cipherC2S, "aes256-gcm@openssh.com")
        XCTAssertEqual(n.cipherS2C, "aes256-gcm@openssh.com")
        XCTAssertNil(n.macC2S)
        XCTAssertNil(n.macS2C)
        XCTAssertEqual(n.compressionC2S, "zlib@openssh.com")
        XCTAssertEqual(n.compressionS2C, "zlib@openssh.com")
        XCTAssertNil(s.strictKex, "-v without seqnr lines cannot tell")
        XCTAssertNil(s.clientProposal)
        XCTAssertEqual(s.rekeyCount, 1)
        XCTAssertEqual(s.hostKey.type, "ssh-rsa")
        XCTAssertEqual(s.hostKey.check, "known")
        XCTAssertEqual(s.hostKey.line, 12)
        XCTAssertEqual(s.auth.methodsTried, ["publickey"])
        XCTAssertEqual(s.auth.succeededMethod, "publickey")
        XCTAssertEqual(s.auth.keysOffered, ["/home/carol/.ssh/id_ed25519"])
        XCTAssertEqual(s.operations.map(\.op.rawValue), ["put", "mkdir", "chmod", "rename", "ls", "get"])
        XCTAssertEqual(s.operations[0].path, "/upload/nightly.tar.gz")
        XCTAssertEqual(s.operations[0].local, "nightly.tar.gz")
        XCTAssertEqual(s.operations[2].path, "/upload/nightly.tar.gz")
        XCTAssertEqual(s.operations[3].to, "/upload/archive/nightly.tar.gz")
        XCTAssertEqual(s.operations[4].path, "/upload/archive")
        XCTAssertEqual(s.operations[5].local, "restored.tar.gz")
        XCTAssertTrue(s.operations.allSatisfy(\.ok))
        XCTAssertEqual(s.transfer.compressionFactorOutgoing, 1.0)
        XCTAssertEqual(s.transfer.seconds, 12.5)
        XCTAssertEqual(s.outcome, .ok)
        XCTAssertEqual(s.json()["rekey_count"], .int(1))
        XCTAssertEqual(s.json()["strict_kex"], .null)
    }
}

extension OpenSSHOldFormatTests {
    /// 7.1: the unlabeled dump ends with `first_kex_follows`/`reserved` lines that lack the prefix.
    func testOpenSSH71UnprefixedTrailer() throws {
        var lines = ["OpenSSH_7.1p2, OpenSSL 1.0.2f  28 Jan 2016", "debug1: Connecting to h [192.0.2.9] port 22.",
                     "debug1: SSH2_MSG_KEXINIT sent", "debug1: SSH2_MSG_KEXINIT received"]
        let client = ["curve25519-sha256@libssh.org,diffie-hellman-group14-sha1", "ssh-ed25519,ssh-rsa",
                      "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""]
        let server = ["diffie-hellman-group14-sha1,curve25519-sha256@libssh.org", "ssh-rsa",
                      "aes256-ctr,aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""]
        for block in [client, server] {
            lines += block.map { "debug2: kex_parse_kexinit: \($0)" }
            lines += ["debug2: first_kex_follows 0 ", "debug2: reserved 0 "]
        }
        lines += ["debug1: kex: server->client aes128-ctr hmac-sha2-256 none",
                  "debug1: kex: client->server aes128-ctr hmac-sha2-256 none"]
        // Cut before the exchange is seen to complete: the choices are no negotiation yet.
        let cut = OpenSSHSessionBuilder.sessions(from: try OpenSSHFixtures.records(text: lines.joined(separator: "\r\n") + "\r\n"))[0]
        XCTAssertNil(cut.negotiated)
        lines += ["debug1: SSH2_MSG_NEWKEYS sent", "debug1: expecting SSH2_MSG_NEWKEYS", "debug1: SSH2_MSG_NEWKEYS received"]
        let recs = try OpenSSHFixtures.records(text: lines.joined(separator: "\r\n") + "\r\n")
        let trailers = recs.filter { $0.extraValue("slot") == .string("reserved") }
        XCTAssertEqual(trailers.map { $0.extraValue("side") }, [.string("client"), .string("server")])
        let s = OpenSSHSessionBuilder.sessions(from: recs)[0]
        XCTAssertEqual(s.negotiated?.kex, "curve25519-sha256@libssh.org")
        XCTAssertEqual(s.negotiated?.hostkey, "ssh-rsa")
        XCTAssertEqual(s.serverProposal?.cipherC2S, ["aes256-ctr", "aes128-ctr"])
        XCTAssertEqual(s.clientProposal?.reserved, 0)
        XCTAssertEqual(s.serverProposal?.reserved, 0)
        XCTAssertEqual(s.strictKex, false)
        XCTAssertEqual(s.outcome, .incomplete)
    }
}
