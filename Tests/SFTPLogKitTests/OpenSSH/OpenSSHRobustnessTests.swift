import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogOpenSSH

/// Truncation, concatenation, garbage and the less common outcomes.
final class OpenSSHRobustnessTests: XCTestCase {
    func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: OpenSSHFixtures.path(name))))
    }

    /// Physical lines of a file with their terminators kept.
    func lines(_ b: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var cur: [UInt8] = []
        for c in b {
            cur.append(c)
            if c == 0x0A { out.append(cur); cur = [] }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    /// The byte-wise prefix helpers agree with `hasPrefix`/`dropFirst` on text
    /// without combining marks (ASCII, accented letters, emoji, mid-line slices).
    func testBytePrefixHelpersAgreeWithCharacterOnes() {
        var rng = SplitMix64(seed: 11)
        let alphabet: [String] = ["a", "b", " ", ":", "é", "ü", "🔑", "\u{1F1E9}\u{1F1EA}", "\t", "\""]
        func word(_ n: Int) -> String { (0..<n).map { _ in alphabet.randomElement(using: &rng)! }.joined() }
        var matched = 0
        for _ in 0..<20_000 {
            let line = word(Int.random(in: 0...12, using: &rng))
            let drop = Int.random(in: 0...min(3, line.count), using: &rng)
            let s = line.dropFirst(drop)  // a slice that does not start at its string's start
            let prefix = Bool.random(using: &rng) ? String(s.prefix(Int.random(in: 0...s.count, using: &rng))) : word(Int.random(in: 0...3, using: &rng))
            XCTAssertEqual(s.hasBytePrefix(prefix), s.hasPrefix(prefix), "\(s.debugDescription) \(prefix.debugDescription)")
            let after = OpenSSHText.after(s, prefix)
            XCTAssertEqual(after.map(String.init), s.hasPrefix(prefix) ? String(s.dropFirst(prefix.count)) : nil)
            if after != nil { matched += 1 }
        }
        XCTAssertGreaterThan(matched, 5_000)
    }

    func testCutMidKexinitIsIncomplete() throws {
        let all = lines(try bytes("sftp-vvv-default-ls-get.log"))
        let cut = all.firstIndex { String(decoding: $0, as: UTF8.self).hasPrefix("debug2: MACs stoc:") }!
        let s = try OpenSSHFixtures.sessions(text: String(decoding: all[..<cut].joined(), as: UTF8.self))
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s[0].outcome, .incomplete)
        XCTAssertNil(s[0].negotiated)
        XCTAssertNil(s[0].strictKex)
        XCTAssertNil(s[0].error)
        XCTAssertEqual(s[0].clientVersion, "OpenSSH_9.2p1 Debian-2+deb12u10")
        XCTAssertEqual(s[0].serverVersion, "OpenSSH_9.2p1 Debian-2+deb12u10")
        XCTAssertEqual(s[0].peer.port, 22201)
        XCTAssertEqual(s[0].user, "sshcorpus")
        // What was dumped so far is kept.
        XCTAssertEqual(s[0].clientProposal?.cipherC2S.first, "chacha20-poly1305@openssh.com")
        XCTAssertEqual(s[0].clientProposal?.slotsSeen.contains("mac_s2c"), false)
        XCTAssertEqual(s[0].json()["outcome"], .string("incomplete"))
        XCTAssertFalse(s[0].closed)
        XCTAssertEqual(s[0].json()["negotiated"], .null)
    }

    /// Every line prefix of an ok transcript (and of a failing one) parses. Cut before
    /// any result the session is incomplete; cut after authentication succeeded it is
    /// ok, not closed; only with its closing lines is it closed.
    func testEveryTruncationPoint() throws {
        for name in ["sftp-vvv-default-ls-get.log", "ssh-auth-publickey-denied.log", "sftp-v1-put-ls.log"] {
            let b = try bytes(name)
            let all = lines(b)
            func at(_ p: (String) -> Bool) -> Int? { all.firstIndex { p(String(decoding: $0, as: UTF8.self)) } }
            let authenticated = at { $0.hasPrefix("Authenticated to ") }
            let denied = at { $0.contains("Permission denied (") || $0.contains("No more authentication methods to try.") }
            let closing = at { $0.hasPrefix("Transferred:") || $0.hasPrefix("debug1: Exit status") || $0.contains("Permission denied (") }!
            let whole = OpenSSHSessionBuilder.sessions(from: try OpenSSHFixtures.records(bytes: b))[0]
            for n in 0..<all.count {
                let recs = try OpenSSHFixtures.records(bytes: Array(all[..<n].joined()))
                OpenSSHFixtures.assertWellFormed(recs)
                let sessions = OpenSSHSessionBuilder.sessions(from: recs)
                XCTAssertEqual(sessions.count, n == 0 ? 0 : 1, "\(name) cut at \(n)")
                guard let s = sessions.first else { continue }
                XCTAssertEqual(s.closed, n > closing, "\(name) cut at line \(n): closed")
                if let a = authenticated, n > a {
                    XCTAssertEqual(s.outcome, whole.outcome == .sftpCommandFailed && s.operations.contains { !$0.ok } ? .sftpCommandFailed : .ok,
                                   "\(name) cut at line \(n), after authentication")
                } else if let d = denied, n > d {
                    XCTAssertEqual(s.outcome, .authFailed, "\(name) cut at line \(n)")
                } else {
                    XCTAssertEqual(s.outcome, .incomplete, "\(name) cut at line \(n), before any result")
                }
            }
            // Cut inside a line too (no terminator, half a UTF-8 sequence is fine).
            for k in stride(from: 1, to: b.count, by: 97) {
                let recs = try OpenSSHFixtures.records(bytes: Array(b[..<k]))
                OpenSSHFixtures.assertWellFormed(recs)
                _ = OpenSSHSessionBuilder.sessions(from: recs).map { $0.json().json }
            }
        }
    }

    func testTwoRunsAppendedInOneFile() throws {
        let a = try bytes("ssh-vvv-default-command.log")
        let b = try bytes("sftp-get-missing-batch-abort.log")
        let recs = try OpenSSHFixtures.records(bytes: a + b)
        let s = OpenSSHSessionBuilder.sessions(from: recs)
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s.map(\.peer.port), [22202, 22212])
        XCTAssertEqual(s.map(\.outcome), [.ok, .sftpCommandFailed])
        XCTAssertEqual(s[0].channel.command, "echo corpus-command-ok; id -un")
        XCTAssertEqual(s[1].operations.count, 2)
        XCTAssertEqual(s[0].firstLine, 1)
        XCTAssertEqual(s[1].firstLine, s[0].lastLine + 1)
        XCTAssertEqual(s[0].recordCount + s[1].recordCount, recs.count)
    }

    /// `ssh -E` style: the second run has no banner line, it starts at `Reading configuration data`.
    func testSecondRunWithoutBannerSplitsAtConfig() throws {
        let a = try bytes("sftp-v1-put-ls.log")
        let second = lines(try bytes("sftp-connection-refused.log")).dropFirst()
        let third = lines(try bytes("ssh-negfail-no-matching-cipher.log")).dropFirst()
        let s = OpenSSHSessionBuilder.sessions(from: try OpenSSHFixtures.records(bytes: a + Array(second.joined()) + Array(third.joined())))
        XCTAssertEqual(s.map(\.outcome), [.ok, .connectionRefused, .negotiationFailed])
        XCTAssertEqual(s.map(\.peer.port), [22203, 22213, 22210])
    }

    /// Several `Connecting to` lines of one run (address retries) stay one session.
    func testConnectRetriesStayOneSession() throws {
        let text = """
        OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\r
        debug1: Reading configuration data /etc/ssh/ssh_config\r
        debug1: Connecting to dual.example.com [2001:db8::5] port 22.\r
        debug1: connect to address 2001:db8::5 port 22: Network is unreachable\r
        debug1: Connecting to dual.example.com [192.0.2.5] port 22.\r
        debug1: connect to address 192.0.2.5 port 22: Connection timed out\r
        ssh: connect to host dual.example.com port 22: Connection timed out\r

        """
        let s = try OpenSSHFixtures.sessions(text: text)
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s[0].outcome, .connectionRefused)
        XCTAssertEqual(s[0].peer, OpenSSHPeer(host: "dual.example.com", address: "192.0.2.5", port: 22))
        XCTAssertEqual(s[0].error, "ssh: connect to host dual.example.com port 22: Connection timed out")
    }

    func testRandomGarbageNeverCrashes() throws {
        var rng = SplitMix64(seed: 0x5EED)
        let seeds: [String] = [
            "debug1: ", "debug2: kex_parse_kexinit: ", "debug1: Connecting to ", "debug1: kex: server->client ",
            "debug1: kex: client->server cipher: ", "Authenticated to (", "debug1: SSH2_MSG_KEX_DH_GEX_REQUEST(<<) sent",
            "Received disconnect from  port :", "debug9: x", "debug1:", "sftp>", "sftp> -", "sftp> get \"", "Transferred: sent , received  bytes",
            "Unable to negotiate with", "The fingerprint for the", "debug1: Offering public key: ", "debug1: Server host key: ",
            "Warning: Permanently added '", "Offending  key in :", "debug3: channel 0: status: The following connections are open:",
            "  #0", "debug1: Authenticating to :", "@@@", "File \"", "debug1: Remote protocol version ", "debug2: bits set: /",
            "no matching cipher found: client  server ", "debug1: Host '' is known and matches the ", "OpenSSH_", "\u{1B}[31m",
            "debug1: Local version string SSH-", "debug1: do_download: download remote \"", "ssh: connect to host ",
            "debug2: peer server KEXINIT proposal", "debug2: KEX algorithms: ,,,", "Connection to  closed.", "X@Y: Permission denied (",
        ]
        for round in 0..<40 {
            var buf: [UInt8] = []
            for _ in 0..<200 {
                switch rng.next() % 4 {
                case 0:
                    for _ in 0..<(rng.next() % 80) { buf.append(UInt8(truncatingIfNeeded: rng.next())) }
                case 1:
                    buf += Array(seeds[Int(rng.next() % UInt64(seeds.count))].utf8)
                    for _ in 0..<(rng.next() % 12) { buf.append(UInt8(truncatingIfNeeded: rng.next() % 128)) }
                default:
                    buf += Array(seeds[Int(rng.next() % UInt64(seeds.count))].utf8)
                }
                switch rng.next() % 3 {
                case 0: buf += [0x0D, 0x0A]
                case 1: buf += [0x0A]
                default: buf += [0x0D]
                }
            }
            let recs = try OpenSSHFixtures.records(bytes: buf)
            OpenSSHFixtures.assertWellFormed(recs)
            XCTAssertFalse(recs.isEmpty, "round \(round)")
            for s in OpenSSHSessionBuilder.sessions(from: recs) {
                _ = s.json().json
                XCTAssertGreaterThanOrEqual(s.lastLine, s.firstLine)
            }
        }
    }

    func testUnrelatedLinesAreUnparsedButListingOutputIsNot() throws {
        let text = """
        $ sftp -v -b batch.txt user@host\r
        2024-03-01 10:00:00 some other program wrote this\r
        OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\r
        debug1: Sending subsystem: sftp\r
        sftp> ls\n\
        notes.txt  report.csv\n\
        debug1: Exit status 0\r

        """
        let recs = try OpenSSHFixtures.records(text: text)
        XCTAssertEqual(recs.map(\.kind), [.pasteCommand, .unparsed, .opensshVersion, .opensshChannel, .opensshSFTP, .opensshOutput, .opensshChannel])
        XCTAssertEqual(recs[0].extraValue("tool"), .string("sftp"))
        XCTAssertEqual(recs[1].text, "2024-03-01 10:00:00 some other program wrote this")
        XCTAssertNotNil(recs[1].diagnostic)
        let s = OpenSSHSessionBuilder.sessions(from: recs)
        XCTAssertEqual(s.count, 1)
        XCTAssertEqual(s[0].recordCount, 7)
        XCTAssertEqual(s[0].firstLine, 1, "the command line begins the run")
        XCTAssertEqual(s[0].user, "user")
        XCTAssertEqual(s[0].userSource, "command_line")
        XCTAssertEqual(s[0].operations.map(\.op.rawValue), ["ls"])
    }

    func testHostKeyChanged() throws {
        let text = """
        debug1: Server host key: ssh-ed25519 SHA256:NEWkeyNEWkeyNEWkeyNEWkeyNEWkeyNEWkeyNEWkey0
        debug1: Host '[127.0.0.1]:2200' is known and matches the ED25519 host key.
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
        Someone could be eavesdropping on you right now (man-in-the-middle attack)!
        It is also possible that a host key has just been changed.
        The fingerprint for the ED25519 key sent by the remote host is
        SHA256:NEWkeyNEWkeyNEWkeyNEWkeyNEWkeyNEWkeyNEWkey0.
        Please contact your system administrator.
        Add correct host key in /home/u/.ssh/known_hosts to get rid of this message.
        Offending ED25519 key in /home/u/.ssh/known_hosts:7
          remove with:
          ssh-keygen -f "/home/u/.ssh/known_hosts" -R "[127.0.0.1]:2200"
        Host key for [127.0.0.1]:2200 has changed and you have requested strict checking.
        Host key verification failed.

        """
        let pre = "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\ndebug1: Connecting to 127.0.0.1 [127.0.0.1] port 2200.\n"
        let recs = try OpenSSHFixtures.records(text: pre + text)
        let s = OpenSSHSessionBuilder.sessions(from: recs)[0]
        XCTAssertEqual(s.outcome, .hostkeyChanged)
        XCTAssertEqual(s.hostKey.check, "changed")
        XCTAssertEqual(s.hostKey.file, "/home/u/.ssh/known_hosts")
        XCTAssertEqual(s.hostKey.line, 7)
        XCTAssertEqual(s.error, "Host key for [127.0.0.1]:2200 has changed and you have requested strict checking.")
        XCTAssertEqual(s.json()["host_key_check"], .string("changed"))
        let fp = recs.first { $0.extraValue("event") == .string("hostkey_changed_fingerprint") }
        XCTAssertEqual(fp?.extraValue("fingerprint"), .string("SHA256:NEWkeyNEWkeyNEWkeyNEWkeyNEWkeyNEWkeyNEWkey0"))
        XCTAssertEqual(recs.filter { $0.kind == .opensshError && $0.extraValue("event") == .string("hostkey_changed_banner") }.count, 6)
    }

    func testHostKeyUnknownRefused() throws {
        let text = """
        OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\r
        debug1: Connecting to 127.0.0.1 [127.0.0.1] port 2200.\r
        debug1: kex: algorithm: curve25519-sha256\r
        debug1: kex: host key algorithm: ssh-ed25519\r
        debug1: kex: server->client cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com compression: none\r
        debug1: kex: client->server cipher: aes128-ctr MAC: hmac-sha2-256-etm@openssh.com compression: none\r
        debug1: Server host key: ssh-ed25519 SHA256:abcabcabcabcabcabcabcabcabcabcabcabcabcabc0\r
        No ED25519 host key is known for [127.0.0.1]:2200 and you have requested strict checking.\r
        Host key verification failed.\r

        """
        let s = try OpenSSHFixtures.sessions(text: text)[0]
        XCTAssertEqual(s.outcome, .hostkeyUnknown)
        XCTAssertEqual(s.hostKey.check, "unknown-refused")
        // The host key was refused inside the key exchange, so nothing was negotiated.
        XCTAssertNil(s.negotiated)
        XCTAssertNil(s.strictKex, "-v, no seqnr lines")
        XCTAssertTrue(s.error?.hasSuffix("Host key verification failed.") ?? false)
        XCTAssertTrue(s.error?.hasPrefix("No ED25519 host key is known") ?? false)
    }

    func testDisconnectAndTooManyFailures() throws {
        let disc = """
        OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\r
        debug1: Connecting to 10.0.0.1 [10.0.0.1] port 22.\r
        debug1: Connection established.\r
        Received disconnect from 10.0.0.1 port 22:2: Too many authentication failures\r
        Disconnected from 10.0.0.1 port 22\r

        """
        let a = try OpenSSHFixtures.sessions(text: disc)[0]
        XCTAssertEqual(a.outcome, .authFailed)
        XCTAssertTrue(a.error?.contains("Too many authentication failures") ?? false)

        let reset = """
        OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\r
        debug1: Connecting to 10.0.0.1 [10.0.0.1] port 22.\r
        debug1: Connection established.\r
        debug1: Local version string SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r
        kex_exchange_identification: read: Connection reset by peer\r
        Connection reset by 10.0.0.1 port 22\r

        """
        let b = try OpenSSHFixtures.sessions(text: reset)[0]
        XCTAssertEqual(b.outcome, .disconnected)
        // Both lines the client gave, in order.
        XCTAssertEqual(b.disconnectReason, "kex_exchange_identification: read: Connection reset by peer / Connection reset by 10.0.0.1 port 22")
        XCTAssertTrue(b.closed)
        let recs = try OpenSSHFixtures.records(text: disc)
        let d = recs.first { $0.kind == .opensshAuth }!
        XCTAssertEqual(d.extraValue("code"), .int(2))
        XCTAssertEqual(d.extraValue("port"), .int(22))
        XCTAssertEqual(d.extraValue("text"), .string("Too many authentication failures"))
    }

    func testOldNegotiationFailureForm() throws {
        let text = """
        OpenSSH_6.6.1, OpenSSL 1.0.1f 6 Jan 2014\r
        debug1: Connecting to old.example.com [192.0.2.1] port 22.\r
        debug1: Connection established.\r
        debug1: SSH2_MSG_KEXINIT sent\r
        debug1: SSH2_MSG_KEXINIT received\r
        no matching cipher found: client aes256-gcm@openssh.com server aes128-cbc,3des-cbc\r

        """
        let s = try OpenSSHFixtures.sessions(text: text)[0]
        XCTAssertEqual(s.outcome, .negotiationFailed)
        XCTAssertEqual(s.negotiationFailure?.slot, "cipher")
        XCTAssertEqual(s.negotiationFailure?.clientOffer, ["aes256-gcm@openssh.com"])
        XCTAssertEqual(s.negotiationFailure?.serverOffer, ["aes128-cbc", "3des-cbc"])
        XCTAssertNil(s.negotiated)
    }
}

