import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogOpenSSH

/// The client's messages that are not `debug` lines, one by one: each gives its
/// kind and facts, and in a run the outcome and reason it stands for.
final class OpenSSHPlainMessageTests: XCTestCase {
    /// A -v run of a 9.x client up to the point where `tail` is printed.
    func run(_ tail: [String], authenticated: Bool = false) throws -> OpenSSHSession {
        var lines = ["OpenSSH_9.6p1 Ubuntu-3ubuntu13, OpenSSL 3.0.13 30 Jan 2024",
                     "debug1: Connecting to sftp.example.net [198.51.100.7] port 22.",
                     "debug1: Connection established."]
        if authenticated {
            lines += ["debug1: SSH2_MSG_NEWKEYS received", "debug1: Authentications that can continue: publickey",
                      "Authenticated to sftp.example.net ([198.51.100.7]:22) using \"publickey\"."]
        }
        let sessions = try OpenSSHFixtures.sessions(text: (lines + tail).joined(separator: "\r\n") + "\r\n")
        XCTAssertEqual(sessions.count, 1, "\(tail)")
        return sessions[0]
    }

    func testDisconnects() throws {
        let cases: [([String], Bool, String)] = [
            (["Read from socket failed: Connection reset by peer"], true, "Connection reset by peer"),
            (["Read from remote host sftp.example.net: Connection reset by peer"], true, "Connection reset by peer"),
            (["Connection reset by peer"], true, "Connection reset by peer"),
            (["Connection closed by 198.51.100.7 port 22"], false, "Connection closed by 198.51.100.7 port 22"),
            (["kex_exchange_identification: read: Connection reset by peer"], false, "kex_exchange_identification"),
            (["Received disconnect from 198.51.100.7 port 22:11: idle timeout", "Disconnected from 198.51.100.7 port 22"], true, "idle timeout"),
            (["Received disconnect from 198.51.100.7: 2: Protocol error"], true, "Protocol error"),
            (["Bad packet length 1349676916.", "Disconnecting: Packet corrupt"], true, "Bad packet length 1349676916."),
            (["Corrupted MAC on input.", "Disconnecting: Packet corrupt"], true, "Corrupted MAC on input."),
            (["lost connection"], true, "lost connection"),
            (["Connection closed."], true, "Connection closed."),
            (["Couldn't read packet: Connection reset by peer"], true, "Connection reset by peer"),
            (["Timeout, server sftp.example.net not responding."], true, "not responding"),
            (["Write failed: Broken pipe"], true, "Broken pipe"),
            (["client_loop: send disconnect: Broken pipe"], true, "Broken pipe"),
            (["packet_write_wait: Connection to 198.51.100.7 port 22: Broken pipe"], true, "Broken pipe"),
            (["client_loop: ssh_packet_write_poll: Connection to 198.51.100.7 port 22: Broken pipe"], true, "Broken pipe"),
        ]
        for (tail, auth, reason) in cases {
            let s = try run(tail, authenticated: auth)
            XCTAssertEqual(s.outcome, .disconnected, "\(tail)")
            XCTAssertTrue(s.closed, "\(tail)")
            XCTAssertTrue((s.disconnectReason ?? "").contains(reason), "\(tail): \(s.disconnectReason ?? "nil")")
        }
    }

    func testConnectionRefusedHostKeyAndAuthentication() throws {
        for reason in ["Connection refused", "Connection timed out", "No route to host", "Network is unreachable"] {
            let s = try run(["ssh: connect to host sftp.example.net port 22: \(reason)"])
            XCTAssertEqual(s.outcome, .connectionRefused, reason)
            XCTAssertTrue(s.error?.contains(reason) ?? false)
        }
        let resolve = try OpenSSHFixtures.sessions(text: "ssh: Could not resolve hostname nosuch.example: Name or service not known\r\n")[0]
        XCTAssertEqual(resolve.outcome, .connectionRefused)
        XCTAssertEqual(resolve.peer.host, "nosuch.example")

        let unknown = try run(["No ED25519 host key is known for sftp.example.net and you have requested strict checking.",
                               "Host key verification failed."])
        XCTAssertEqual(unknown.outcome, .hostkeyUnknown)
        XCTAssertEqual(unknown.hostKey.check, "unknown-refused")

        let denied = try run(["debug1: SSH2_MSG_NEWKEYS received", "dana@sftp.example.net: Permission denied (publickey,password)."])
        XCTAssertEqual(denied.outcome, .authFailed)
        XCTAssertEqual(denied.user, "dana")
        XCTAssertEqual(denied.userSource, "denied")
        XCTAssertNotNil(denied.negotiated, "the exchange completed before authentication")
    }

    func testPromptsAreAttemptsAndShowTheUser() throws {
        let password = try OpenSSHFixtures.sessions(text: "dana@sftp.example.net's password: \r\nPermission denied, please try again.\r\ndana@sftp.example.net's password: \r\nAuthenticated to sftp.example.net ([198.51.100.7]:22) using \"password\".\r\n")[0]
        XCTAssertEqual(password.auth.methodsTried, ["password"])
        XCTAssertEqual(password.auth.failures, 1)
        XCTAssertEqual(password.user, "dana")
        XCTAssertEqual(password.userSource, "prompt")
        XCTAssertEqual(password.auth.succeededMethod, "password")
        XCTAssertEqual(password.outcome, .ok)
        let kbd = try OpenSSHFixtures.sessions(text: "(ops@10.1.2.3) Password: \r\n")[0]
        XCTAssertEqual(kbd.auth.methodsTried, ["keyboard-interactive"])
        XCTAssertEqual(kbd.user, "ops")
        XCTAssertEqual(kbd.outcome, .incomplete, "a prompt alone is no result")
        let bare = try OpenSSHFixtures.records(text: "Password: \r\n")
        XCTAssertEqual(bare.first?.extraValue("method"), .string("keyboard-interactive"))
    }

    func testOtherClientMessagesAreTyped() throws {
        let lines = [
            ("Warning: Permanently added 'sftp.example.net' (ED25519) to the list of known hosts.", RecordKind.opensshHostKey, "added"),
            ("warning: agent returned different signature type ssh-rsa (expected rsa-sha2-512)", .opensshAuth, "agent_signature_mismatch"),
            ("UpdateHostkeys is disabled because the host key is not trusted.", .opensshHostKey, "update_hostkeys_disabled"),
            ("Host key fingerprint is SHA256:2f6uGLgDEhbW3nyRtN/8yqE/eOhX3HfgcPq5VHFqXOM", .opensshHostKey, "fingerprint"),
            ("+--[ED25519 256]--+", .opensshHostKey, "randomart"),
            ("Authenticated to sftp.example.net ([198.51.100.7]:22) using \"publickey\".", .opensshAuth, "authenticated"),
            ("Transferred: sent 2964, received 3504 bytes, in 0.2 seconds", .opensshTransfer, "transferred"),
        ]
        for (line, kind, event) in lines {
            let r = try OpenSSHFixtures.records(text: line + "\r\n")
            XCTAssertEqual(r.first?.kind, kind, line)
            XCTAssertEqual(r.first?.extraValue("event"), .string(event), line)
        }
        let exit = try OpenSSHFixtures.records(text: "debug1: Exit status 3\r\n")
        XCTAssertEqual(exit.first?.extraValue("status"), .int(3))
        let minus = try OpenSSHFixtures.records(text: "debug1: Exit status -1\r\n")
        XCTAssertEqual(minus.first?.extraValue("status"), .int(-1))
        // The randomart box is one block of hostkey records.
        let box = try OpenSSHFixtures.records(text: "Host key fingerprint is SHA256:x\n+---[ED25519 256]---+\n|  .o.            |\n|   o .           |\n+----[SHA256]-----+\n")
        XCTAssertEqual(box.map { $0.extraValue("event") }, [.string("fingerprint")] + Array(repeating: .string("randomart"), count: 4))
    }

    func testSFTPFailuresAndTheServerRefusingAPut() throws {
        let text = """
        $ sftp -b batch.txt dana@sftp.example.net\r
        sftp> -put report.csv /readonly/report.csv\r
        remote open("/readonly/report.csv"): Permission denied\r
        sftp> put notes.txt /inbox/notes.txt\r
        sftp> ls /inbox\r
        notes.txt\r
        $ \r

        """
        let s = try OpenSSHFixtures.sessions(text: text)[0]
        XCTAssertEqual(s.operations.map(\.ok), [false, true, true])
        XCTAssertEqual(s.operations[0].error, "remote open(\"/readonly/report.csv\"): Permission denied")
        XCTAssertEqual(s.outcome, .ok, "the refused upload was a `-put`: the batch went on")
        XCTAssertTrue(s.closed, "the shell prompt came back")
        XCTAssertEqual(s.tool, "sftp")
        // 9.x wording of the same refusal.
        let newer = try OpenSSHFixtures.sessions(text: "sftp> put a.txt /ro/a.txt\r\ndest open \"/ro/a.txt\": Permission denied\r\n")[0]
        XCTAssertEqual(newer.operations.first?.ok, false)
        XCTAssertEqual(newer.outcome, .sftpCommandFailed)
    }
}
