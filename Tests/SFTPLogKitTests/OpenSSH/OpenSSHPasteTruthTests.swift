import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogOpenSSH

/// Every paste in samples/pastes/openssh (real runs made here, and excerpts built
/// from the documented formats) against its hand-checked truth: the number of
/// runs, where each begins, and every fact its text shows.
final class OpenSSHPasteTruthTests: XCTestCase {
    static let dir = OpenSSHFixtures.pastes

    /// One fact of one run: what the truth says and what we found.
    struct Fact {
        var name: String
        var want: JSONValue
        var got: JSONValue
        var ok: Bool { OpenSSHTruthTests.normalized(want) == OpenSSHTruthTests.normalized(got) }
    }

    static func facts(_ t: [String: Any], _ s: OpenSSHSession) -> [Fact] {
        func v(_ any: Any?) -> JSONValue { OpenSSHTruthTests.value(any) }
        func str(_ x: String?) -> JSONValue { x.map(JSONValue.string) ?? .null }
        func int(_ x: Int?) -> JSONValue { x.map(JSONValue.int) ?? .null }
        var out: [Fact] = []
        func add(_ n: String, _ got: JSONValue) { out.append(Fact(name: n, want: v(t[n]), got: got)) }
        add("first_line", .int(s.firstLine))
        add("tool", str(s.tool))
        add("verbosity", .int(s.verbosity))
        add("client_version", str(s.clientVersion))
        add("server_version", str(s.serverVersion))
        let tp = t["peer"] as? [String: Any] ?? [:]
        out.append(Fact(name: "peer.host", want: v(tp["host"]), got: str(s.peer.host)))
        out.append(Fact(name: "peer.port", want: v(tp["port"]), got: int(s.peer.port)))
        add("user", str(s.auth.user))
        add("user_source", str(s.userSource))
        if let tn = t["negotiated"] as? [String: Any] {
            let j = s.negotiated?.json
            for k in ["kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s", "mac_s2c", "compression_c2s", "compression_s2c"] {
                out.append(Fact(name: "negotiated.\(k)", want: v(tn[k]), got: j?[k] ?? .string("(no negotiation)")))
            }
        } else {
            out.append(Fact(name: "negotiated", want: .null, got: s.negotiated?.json ?? .null))
        }
        let wantDerived = (t["derived"] as? [String] ?? []).sorted()
        out.append(Fact(name: "derived", want: .array(wantDerived.map(JSONValue.string)), got: .array(s.negotiatedDerivedSlots.sorted().map(JSONValue.string))))
        add("strict_kex", s.strictKex.map(JSONValue.bool) ?? .null)
        let ta = t["auth"] as? [String: Any] ?? [:]
        out.append(Fact(name: "auth.methods_tried", want: v(ta["methods_tried"]), got: .array(s.auth.methodsTried.map(JSONValue.string))))
        out.append(Fact(name: "auth.succeeded_method", want: v(ta["succeeded_method"]), got: str(s.auth.succeededMethod)))
        add("host_key_check", str(s.hostKey.check))
        add("outcome", .string(s.outcome.rawValue))
        add("closed", .bool(s.closed))
        // reason: a substring of what we give as the reason
        let reasonText = [s.error, s.disconnectReason, s.negotiationFailure?.reason].compactMap { $0 }.joined(separator: " | ")
        if let r = t["reason"] as? String {
            out.append(Fact(name: "reason", want: .string(r), got: .string(reasonText.contains(r) ? r : reasonText)))
        } else {
            out.append(Fact(name: "reason", want: .null, got: s.outcome == .ok ? .null : (reasonText.isEmpty ? .null : .string(reasonText))))
        }
        let ops = (t["sftp_ops"] as? [[String: Any]] ?? []).map { o -> JSONValue in
            .object([("op", v(o["op"])), ("path", v(o["path"])), ("ok", v(o["ok"]))])
        }
        let ours = s.operations.map { o -> JSONValue in .object([("op", .string(o.op.rawValue)), ("path", str(o.path)), ("ok", .bool(o.ok))]) }
        out.append(Fact(name: "sftp_ops", want: .array(ops), got: .array(ours)))
        return out
    }

    func testEveryPasteFact() throws {
        let names = OpenSSHFixtures.pasteCases()
        XCTAssertGreaterThanOrEqual(names.count, 40, "pastes with truth files")
        var right = 0, total = 0, runsRight = 0
        var wrong: [String: Int] = [:]
        for name in names {
            let truth = try Harness.json("\(Self.dir)/\(name).truth.json")
            // Read as `sftplog` reads a file: the format is detected, not told.
            let recs = try Harness.parse("\(Self.dir)/\(name).log", resolve: false)
            let sessions = OpenSSHSessionBuilder.sessions(from: recs)
            let runs = truth["runs"] as? [[String: Any]] ?? []
            XCTAssertEqual(sessions.count, runs.count, "\(name): runs (ours begin at \(sessions.map(\.firstLine)))")
            if sessions.count == runs.count { runsRight += 1 }
            for (k, t) in runs.enumerated() {
                guard k < sessions.count else {
                    total += Self.facts(t, OpenSSHSession(file: name, firstLine: 0)).count
                    continue
                }
                for f in Self.facts(t, sessions[k]) {
                    total += 1
                    if f.ok { right += 1 } else {
                        wrong[f.name, default: 0] += 1
                        XCTFail("\(name) run \(k + 1): \(f.name): want \(f.want.json), got \(f.got.json)")
                    }
                }
            }
            // Other programs' text is unparsed; everything else is a typed record.
            let unparsed = recs.filter { $0.kind == .unparsed }.map(\.line)
            XCTAssertEqual(unparsed, truth["unparsed_lines"] as? [Int] ?? [], "\(name): unparsed lines \(recs.filter { $0.kind == .unparsed }.map { "\($0.line): \($0.text ?? "")" })")
        }
        let pct = total == 0 ? 0 : Double(right) * 100 / Double(total)
        print("OpenSSH pastes: \(right) of \(total) facts right (\(String(format: "%.1f", pct))%), \(runsRight) of \(names.count) pastes with the right number of runs; wrong by fact: \(wrong.sorted { $0.key < $1.key })")
    }
}
