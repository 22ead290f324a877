import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogCatalog
@testable import SFTPLogOpenSSH

/// The OpenSSH message table finds the format that printed a line: each format
/// matches its own rendering, the real transcripts match formats of their
/// release, and lines that are not OpenSSH output match nothing.
final class OpenSSHMessageTableTests: XCTestCase {
    static let table = Harness.opensshTable
    var table: OpenSSHMessageTable { Self.table }

    /// A line printed from `pieces` with sample values: text `x1`, numbers `7`.
    private func render(_ pieces: [OpenSSHPiece]) -> String {
        var out: [UInt8] = []
        for p in pieces {
            switch p {
            case .literal(let l): out += l
            case .hole(let h):
                switch h.shape {
                case .text: out += Array("x1".utf8)
                case .character: out += Array("c".utf8)
                case .pointer: out += Array("0x7".utf8)
                case .decimal: out += Array("7.0".utf8)
                default: out += Array("7".utf8)
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func debugLevel(_ l: OpenSSHMessageTable.Level) -> Int? {
        switch l {
        case .debug1: return 1
        case .debug2: return 2
        case .debug3: return 3
        default: return nil
        }
    }

    /// Each message the reader reads by data (`openssh-events.json`) gives its
    /// event and every named value when a line of it goes through the reader.
    func testMessagesReadByDataGiveTheirEventAndValues() throws {
        let read = table.entries.filter { $0.event != nil }
        XCTAssertGreaterThanOrEqual(read.count, 14)
        for e in read {
            guard let parts = OpenSSHFormat.compileLines(e.format), let first = parts.first else { XCTFail(e.format); continue }
            let prefix = debugLevel(e.level).map { "debug\($0): " } ?? ""
            let recs = try OpenSSHFixtures.records(text: prefix + render(first.1) + "\r\n")
            XCTAssertEqual(recs.count, 1, e.format)
            guard let r = recs.first else { continue }
            XCTAssertEqual(r.kind, e.kind, e.format)
            XCTAssertEqual(r.extraValue("event"), .string(e.event!), e.format)
            if let c = e.constant { XCTAssertEqual(r.extraValue(c.name), .string(c.value), e.format) }
            // A format starting with its function names it before the event, as older records did.
            if e.functionFirst { XCTAssertEqual(r.extra.first { $0.0 != "level" }?.1, e.function.map(JSONValue.string), e.format) }
            // (`Remote version: %d` and `%u` print the same text: either may be named.)
            let twins = read.filter { t in t.event == e.event && OpenSSHFormat.compileLines(t.format).map { render($0[0].1) } == render(first.1) }
            XCTAssertTrue(twins.contains { .string($0.id) == r.extraValue("message_id") }, e.format)
            // What each conversion was rendered as: `x1` for text, `7` for numbers.
            let holes = first.1.compactMap { p -> String? in
                if case .hole(let h) = p { return h.shape == .text ? "x1" : h.shape == .decimal ? "7.0" : "7" }
                return nil
            }
            XCTAssertEqual(holes.count, e.fields.count, e.format)
            for (f, rendered) in zip(e.fields, holes) {
                guard let name = f.name else { continue }
                switch f.shape {
                case .int: XCTAssertEqual(r.extraValue(name), Int(rendered).map(JSONValue.int) ?? .string(rendered), "\(e.format): \(name)")
                case .double: XCTAssertEqual(r.extraValue(name), Double(rendered).map(JSONValue.double) ?? .null, "\(e.format): \(name)")
                case .list: XCTAssertEqual(r.extraValue(name), .array([.string(rendered)]), "\(e.format): \(name)")
                case .string: XCTAssertEqual(r.extraValue(name), .string(rendered), "\(e.format): \(name)")
                }
            }
        }
    }

    /// Every extractor the data names exists and reads a real line's text after
    /// its start (the records themselves are checked on the corpora and pastes).
    func testEveryNamedExtractorExists() throws {
        let examples: [String: Substring] = [
            "proposal": "curve25519-sha256,ext-info-c", "kexinit_header": "client KEXINIT proposal", "negotiated": "algorithm: curve25519-sha256",
            "config": "/etc/ssh/ssh_config", "remote_version": "2.0, remote software version OpenSSH_9.2p1", "local_version": "SSH-2.0-OpenSSH_9.2p1",
            "offering": "public key: /home/u/.ssh/id_ed25519", "authenticating": "h.example:22 as 'u'", "kexinit_received": "",
            "server_host_key": "ssh-ed25519 SHA256:abc", "accepts_key": "/home/u/.ssh/id_ed25519 ED25519 SHA256:abc", "subsystem": "sftp",
            "command": "true", "will_attempt": "/home/u/.ssh/id_ed25519 ED25519 SHA256:abc explicit", "interactive": "",
            "status_dump": "0: status: The following connections are open:", "version": "OpenSSH_10.0p2, OpenSSL 3.5.1 1 Jul 2025",
            "compat": "OpenSSH_9.2p1 pat OpenSSH* compat 0x04000000", "fxp_request": "STAT \"/srv/in\"",
            "kexinit_number": "0", "old_proposal": " diffie-hellman-group1-sha1", "transferred": "stdin 0, stdout 0, stderr 0 bytes in 1.0 seconds",
            "transfer": "download remote \"/srv/a\" to local \"a\"",
            "authenticated": "h.example ([192.0.2.7]:22) using \"publickey\".", "peer": "192.0.2.7 port 22",
            "closed": "h.example closed.", "timed_out": "to 192.0.2.7 port 22 timed out", "disconnecting": ": Packet corrupt",
            "banner_exchange": "read: Connection reset by peer", "exec": "/usr/bin/ssh host h, user u, command sftp",
            "unable_to_negotiate": "with 192.0.2.7 port 22: no matching host key type found. Their offer: ssh-dss",
            "no_matching": "cipher found: client aes128-ctr server 3des-cbc", "denied": "u@h: Permission denied (publickey).",
            "file_not_found": "/srv/x\" not found.", "offending": "ED25519 key in /home/u/.ssh/known_hosts:3",
            "changed": "Host key for h has changed and you have requested strict checking.", "authenticity": "h (192.0.2.7)' can't be established.",
        ]
        let names = Set(table.entries.compactMap(\.extractor))
        XCTAssertGreaterThanOrEqual(names.count, 15)
        for name in names {
            let base = String(name.split(separator: ":").first!)
            guard let rest = examples[base] else { XCTFail("no example for extractor \(name)"); continue }
            var classifier = OpenSSHLineClassifier()
            let facts = classifier.extract(name, rest)
            XCTAssertNotNil(facts, name)
            XCTAssertTrue(facts?.contains { $0.0 == "event" || $0.0 == "slot" } ?? false, name)
        }
        var classifier = OpenSSHLineClassifier()
        XCTAssertNil(classifier.extract("no-such-extractor", "x"))
    }

    func testEveryFormatMatchesItsOwnRendering() {
        var tried = 0, ambiguous = 0
        var failures: [String] = []
        for e in table.entries where !e.fragment {
            guard let lines = OpenSSHFormat.compileLines(e.format) else { continue }
            for (n, pieces) in lines where OpenSSHFormat.hasText(pieces) {
                let text = render(pieces)
                let level = n == 0 ? debugLevel(e.level) : nil
                let m = e.level == .reason ? table.reason(text[...]) : table.match(message: text[...], level: level)
                tried += 1
                guard let m else { failures.append("\(e.id) \(e.level) no match: \(text)"); continue }
                if m.id == e.id { continue }
                // Another format printing the same text for the same values is as good.
                guard let winner = OpenSSHFormat.compileLines(m.entry.format)?.first(where: { $0.0 == m.line })?.1 else {
                    failures.append("\(e.id): winner \(m.id) does not compile"); continue
                }
                if render(winner) == text { continue }
                // So is one the text cannot tell apart: as much literal text and as many
                // numbers (`key %s` and `key %s%s` both print `key x1x1`).
                if weight(winner) == weight(pieces) && fits(pieces, text) { ambiguous += 1; continue }
                failures.append("\(e.id) \(e.level) \(text.debugDescription) -> \(m.id) \(m.entry.level) \(m.entry.format.debugDescription)")
            }
        }
        print("OpenSSH table: \(tried) format lines rendered and matched, \(ambiguous) won by a format printing the same text")
        XCTAssertGreaterThan(tried, 4_500)
        XCTAssertEqual(failures.count, 0, failures.prefix(30).joined(separator: "\n"))
    }

    /// Literal bytes and typed conversions: what ranks two formats fitting one line.
    private func weight(_ pieces: [OpenSSHPiece]) -> [Int] {
        var literal = 0, typed = 0
        for p in pieces {
            switch p {
            case .literal(let l): literal += l.count
            case .hole(let h): if h.shape != .text { typed += 1 }
            }
        }
        return [literal, typed]
    }

    private func fits(_ pieces: [OpenSSHPiece], _ text: String) -> Bool {
        OpenSSHFit.extents(pieces, Array(text.utf8)) != nil
    }

    /// The 13 transcripts (Debian 9.2p1 client): every `debugN:` line matches a
    /// format of that level that 9.2 prints (Debian's backports included).
    func testRealTranscriptsMatchFormatsOfTheirRelease() throws {
        let dir = Paths.sample("openssh")
        var total = 0, matched = 0, debug = 0
        var failures: [String] = []
        var unmatched: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where name.hasSuffix(".log") {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
            for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                var line = raw[...]
                if line.last == 0x0D { line = line.dropLast() }
                let text = String(decoding: line, as: UTF8.self)
                if text.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
                total += 1
                var level: Int?
                var body = text[...]
                if let (l, rest) = OpenSSHText.debugLevel(body) {
                    level = l
                    body = rest
                    debug += 1
                }
                let m = table.match(message: body, level: level, release: "9.2")
                if m != nil { matched += 1 } else { unmatched.append(text) }
                guard let level else { continue }
                guard let m else { failures.append("\(name): no match: \(text)"); continue }
                if m.level.rawValue != "debug\(level)" || !m.entry.isPrinted(inRelease: "9.2") {
                    failures.append("\(name): \(text) -> \(m.entry.format) \(m.level) \(m.first ?? "-")-\(m.last ?? "-")")
                }
            }
        }
        XCTAssertEqual(total, 2233)
        XCTAssertEqual(failures.count, 0, failures.prefix(30).joined(separator: "\n"))
        let share = Double(matched) / Double(total)
        print(String(format: "OpenSSH table coverage: %d of %d non-blank lines matched (%.1f%%), %d debug lines; unmatched: %@",
                     matched, total, share * 100, debug, Set(unmatched).sorted().prefix(8).joined(separator: " | ")))
        // What is left is program output (sftp listings, a remote command's stdout).
        XCTAssertGreaterThanOrEqual(share, 0.99)
    }

    func testLinesThatAreNotOpenSSHOutputMatchNothing() {
        for text in ["$ ls -l", "total 12", "hello world", "# comment", "", "x1: x1", "x1 x1"] {
            for level in [nil, 1, 2, 3] as [Int?] {
                let m = table.match(message: text[...], level: level)
                XCTAssertNil(m, "\(text) at \(String(describing: level)) -> \(m?.entry.format ?? "")")
            }
        }
        // `%s: %s` (the KEXINIT lists) has no literal text of its own: only its labelled forms match.
        XCTAssertNil(table.match(message: "anything: at all", level: 2))
        XCTAssertEqual(table.match(message: "KEX algorithms: curve25519-sha256", level: 2)?.kind, .opensshKexinit)
    }

    func testALineOfAnotherLevelIsNotReturned() {
        // debug1 only.
        XCTAssertEqual(table.match(message: "Connection established.", level: 1)?.kind, .opensshConnect)
        for level in [nil, 2, 3] as [Int?] {
            XCTAssertNil(table.match(message: "Connection established.", level: level))
        }
        // debug2 only.
        XCTAssertEqual(table.match(message: "bits set: 4095/8192", level: 2)?.values, ["4095", "8192"])
        XCTAssertNil(table.match(message: "bits set: 4095/8192", level: 1))
        XCTAssertNil(table.match(message: "bits set: 4095/8192", level: 3))
        // verbose (unprefixed) only.
        let authenticated = "Authenticated to example.org ([192.0.2.1]:22) using \"publickey\"."
        XCTAssertEqual(table.match(message: authenticated[...], level: nil)?.kind, .opensshAuth)
        XCTAssertNil(table.match(message: authenticated[...], level: 1))
    }

    func testMatchGivesTheEntryFactsAndTheValues() throws {
        let m = try XCTUnwrap(table.match(message: "kex_choose_conf: will use strict KEX ordering", level: 3, release: "9.2"))
        XCTAssertEqual(m.kind, .opensshStrictKex)
        XCTAssertEqual(m.area, "kex")
        XCTAssertEqual(m.function, "kex_choose_conf")
        XCTAssertEqual(m.first, "9.6")
        XCTAssertTrue(m.entry.isPrinted(inRelease: "9.2p1"), "Debian backport")
        XCTAssertFalse(m.entry.isPrinted(inRelease: "9.5"))

        let c = try XCTUnwrap(table.match(message: "Connecting to example.org [192.0.2.1] port 2222.", level: 1, release: "9.2"))
        XCTAssertEqual(c.values, ["example.org", "192.0.2.1", "2222"])
        XCTAssertEqual(c.kind, .opensshConnect)
        // A trailing CR is not part of the message.
        XCTAssertEqual(table.match(message: "Connection established.\r", level: 1)?.id, table.match(message: "Connection established.", level: 1)?.id)
        // The version line (the reference keeps it as `%s, %s`).
        XCTAssertEqual(table.match(message: "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026", level: nil, release: "9.2")?.kind, .opensshVersion)
        // Failure texts after `: `.
        XCTAssertEqual(table.reason("message authentication code incorrect")?.kind, .opensshError)
        XCTAssertEqual(table.reason("Bad packet length 1349676916.")?.values, ["1349676916"])
        XCTAssertNil(table.reason("hello world"))
    }

    func testEveryKindIsAnOpenSSHRecordKind() {
        let kinds = Set(RecordKind.opensshKinds)
        for e in table.entries { XCTAssertTrue(kinds.contains(e.kind), "\(e.id): \(e.kind)") }
        XCTAssertEqual(table.releases.first, "5.0")
        XCTAssertEqual(table.releases.last, "10.5")
        XCTAssertEqual(table.summary.compiled, table.entries.count, "every format compiles")
        XCTAssertEqual(Set(table.entries.map(\.id)).count, table.entries.count, "ids are unique")
    }

    /// The per-release bits the search ranks by say what `Entry.isPrinted` says.
    func testReleaseBitsAgreeWithIsPrinted() {
        for (k, e) in table.entries.enumerated() {
            for (i, r) in table.releases.enumerated() {
                let bit = table.releaseMasks[k] & (1 << UInt64(i)) != 0
                if bit != e.isPrinted(inRelease: r) { XCTFail("\(e.id) \(e.format) in \(r): bit \(bit)"); return }
            }
        }
    }

    func testHostileLinesStayCheap() {
        // A line repeating a format's delimiters: each format's search has a budget,
        // so this returns instead of backtracking for ever (no timing is asserted).
        let hostile = "channel 1: " + String(repeating: "rcvd ext data ", count: 20_000)
        XCTAssertNil(table.match(message: hostile[...], level: 2))
        _ = table.match(message: String(repeating: ": ", count: 50_000)[...], level: nil)
    }

    func testTheBundledTableLoads() throws {
        let shared = try OpenSSHMessageTable.shared()
        XCTAssertEqual(shared.entries.count, table.entries.count)
    }
}

/// The reader names the message of every client line it reads, and the table
/// decides lines the extractors do not know.
final class OpenSSHReaderTableTests: XCTestCase {
    func testEveryDebugLineCarriesItsMessage() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Paths.sample("openssh")).filter { $0.hasSuffix(".log") }.map { Paths.sample("openssh/\($0)") }
            + (try FileManager.default.contentsOfDirectory(atPath: Paths.sample("pastes/openssh"))).filter { $0.hasPrefix("real-") && $0.hasSuffix(".log") }.map { Paths.sample("pastes/openssh/\($0)") }
        XCTAssertGreaterThan(files.count, 60)
        var debug = 0, client = 0, named = 0
        for f in files {
            for r in try Harness.parse(f, resolve: false) where r.kind.rawValue.hasPrefix("openssh.") && r.kind != .opensshOutput {
                if r.extraValue("continuation") != nil { continue }
                client += 1
                if r.extraValue("message_id") != nil { named += 1 }
                if r.extraValue("level") != nil {
                    debug += 1
                    XCTAssertNotNil(r.extraValue("message_id"), "\(f):\(r.line): \(r.message ?? "")")
                }
            }
        }
        // The rest are texts the table cannot hold: a server's keyboard-interactive prompt, the randomart box, progress meters.
        XCTAssertGreaterThan(Double(named) / Double(client), 0.98, "\(named) of \(client) client lines named")
        print("message table: \(named) of \(client) client lines named, all \(debug) debug lines")
    }

    func testTheTableDecidesWhatTheExtractorsDoNotKnow() throws {
        let text = """
        OpenSSH_8.4p1 Debian-5+deb11u1, OpenSSL 1.1.1w  11 Sep 2023\r
        debug1: Reading configuration data /etc/ssh/ssh_config\r
        debug2: resolve_canonicalize: hostname h is address\r
        debug1: this line is printed by no OpenSSH release\r
        Bad owner or permissions on /home/u/.ssh/config\r

        """
        let recs = try OpenSSHFixtures.records(text: text)
        XCTAssertEqual(recs.map(\.kind), [.opensshVersion, .opensshDebug, .opensshDebug, .unparsed, .opensshError])
        XCTAssertEqual(recs[2].extraValue("function"), .string("resolve_canonicalize"))
        XCTAssertNotNil(recs[2].extraValue("message_id"))
        XCTAssertTrue(recs[3].diagnostic?.contains("no OpenSSH client release prints") ?? false, recs[3].diagnostic ?? "")
        XCTAssertEqual(recs[4].extraValue("event"), .string("fatal"))
        // The same id for the same message whatever its values.
        let a = try OpenSSHFixtures.records(text: "debug1: Connecting to a [192.0.2.1] port 22.\n")
        let b = try OpenSSHFixtures.records(text: "debug1: Connecting to b [2001:db8::1] port 2222.\n")
        XCTAssertEqual(a[0].extraValue("message_id"), b[0].extraValue("message_id"))
        XCTAssertNotNil(a[0].extraValue("message_id"))
    }
}
