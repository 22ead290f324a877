import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogOpenSSH

/// `-o LogVerbose=kex.c:*,…` puts `file.c:function():line (pid=N): ` in front of
/// the messages of the named files. Fixture: OpenSSH 9.2's sftp at -vvv against
/// a local sshd on 127.0.0.1, with kex.c, packet.c and sshconnect2.c named (97
/// tagged lines; the scratch folder's path replaced by /srv/paste).
final class OpenSSHLogVerboseTests: XCTestCase {
    let fixture = "real-9.2-vvv-sftp-logverbose.log"
    let table = try! OpenSSHMessageTable.shared()

    /// The same transcript as the release prints it without `LogVerbose`: every tag cut
    /// out by a regular expression (not the reader's scan), and the function's name put
    /// back where the release's own format starts with it (`debug_f`).
    private func untagged() throws -> (tagged: String, plain: String, tags: [Int: (source: String, function: String)]) {
        let text = try String(contentsOfFile: OpenSSHFixtures.path(fixture), encoding: .utf8)
        let tag = try NSRegularExpression(pattern: #"^(debug[123]: )?([a-z0-9_]+\.c):([a-z0-9_]+)\(\):([0-9]+) \(pid=[0-9]+\): "#)
        var tags: [Int: (String, String)] = [:]
        var lines: [String] = []
        // (Split as UTF-16: a Swift String takes CR LF for one character.)
        for (i, line) in (text as NSString).components(separatedBy: "\n").enumerated() {
            let ns = line as NSString
            if let m = tag.firstMatch(in: line, range: NSRange(location: 0, length: ns.length)) {
                let prefix = m.range(at: 1).location == NSNotFound ? "" : ns.substring(with: m.range(at: 1))
                let function = ns.substring(with: m.range(at: 3))
                tags[i + 1] = (ns.substring(with: m.range(at: 2)) + ":" + ns.substring(with: m.range(at: 4)), function)
                let rest = ns.substring(from: m.range.upperBound)
                let message = rest.trimmingCharacters(in: .whitespacesAndNewlines)
                let level = prefix.isEmpty ? nil : Int(prefix.dropFirst(5).prefix(1))
                let named = table.match(message: message[...], level: level) == nil
                    && table.match(message: (function + ": " + message)[...], level: level) != nil
                lines.append(prefix + (named ? function + ": " : "") + rest)
            } else {
                lines.append(line)
            }
        }
        return (text, lines.joined(separator: "\n"), tags)
    }

    /// A tagged line reads as the same message with the same values as without its
    /// tag, plus where it came from; nothing is left unparsed.
    func testTaggedLinesReadAsTheirMessage() throws {
        let (tagged, plain, tags) = try untagged()
        XCTAssertEqual(tags.count, 97)
        XCTAssertTrue(plain.contains("debug1: ssh_packet_send2_wrapped: resetting send seqnr 3"))
        let a = try OpenSSHFixtures.records(text: tagged), b = try OpenSSHFixtures.records(text: plain)
        XCTAssertEqual(a.count, b.count)
        XCTAssertEqual(a.filter { $0.kind == .unparsed }.count, 0)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.kind, y.kind, "line \(x.line)")
            XCTAssertTrue(y.message.map { $0.hasSuffix(x.message ?? "") } ?? false, "line \(x.line)")
            let drop: Set<String> = ["source", "function"]
            XCTAssertEqual(x.extra.filter { !drop.contains($0.0) }.map { "\($0.0)=\($0.1)" },
                           y.extra.filter { !drop.contains($0.0) }.map { "\($0.0)=\($0.1)" }, "line \(x.line)")
            if let t = tags[x.line] {
                XCTAssertEqual(x.extraValue("source"), .string(t.source), "line \(x.line)")
                XCTAssertEqual(x.extraValue("function"), .string(t.function), "line \(x.line)")
                XCTAssertNotNil(x.extraValue("message_id"), "line \(x.line)")
            } else {
                XCTAssertNil(x.extraValue("source"), "line \(x.line)")
            }
        }
        // The session is the same: algorithms, user, outcome, operations.
        let s = OpenSSHSessionBuilder.sessions(from: a), t = OpenSSHSessionBuilder.sessions(from: b)
        XCTAssertEqual(s.count, 1)
        // (Each text was read from its own temporary file.)
        func shown(_ x: [OpenSSHSession]) -> [String] {
            x.map { "\($0.json())".replacingOccurrences(of: #"openssh-test-[0-9A-F-]+"#, with: "F", options: .regularExpression) }
        }
        XCTAssertEqual(shown(s), shown(t))
        XCTAssertEqual(s.first?.negotiated?.kex, "sntrup761x25519-sha512")
        XCTAssertEqual(s.first?.strictKex, true)
    }

    /// 9.x writes the function in front of a `debug_f` message itself; the tag takes its
    /// place, and the message is still the release's (`resetting send seqnr %u`).
    func testTagInPlaceOfTheFunctionName() throws {
        let recs = try OpenSSHFixtures.records(text: "debug1: packet.c:ssh_packet_send2_wrapped():1223 (pid=7): resetting send seqnr 3\n"
            + "debug2: kex.c:kex_buf2prop():443 (bin=ssh, pid=7): KEX algorithms: curve25519-sha256\n"
            + "debug1: kex.c: not a tag (pid=7): Connection established.\n")
        XCTAssertEqual(recs.map(\.kind), [.opensshStrictKex, .opensshKexinit, .unparsed])
        XCTAssertEqual(recs[0].extraValue("seqnr"), .int(3))
        XCTAssertEqual(recs[0].extraValue("source"), .string("packet.c:1223"))
        XCTAssertEqual(recs[1].extraValue("names"), .array([.string("curve25519-sha256")]))
        XCTAssertEqual(recs[1].extraValue("function"), .string("kex_buf2prop"))
    }
}
