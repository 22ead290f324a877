import Foundation
import XCTest
import SFTPLogTestSupport

/// Every derived fact links to the records it came from: each link must point
/// at a line of the input that shows the fact, at the byte offset it gives, and
/// the database's links must name the same lines and records with those lines.
final class EvidenceTests: XCTestCase {
    /// Every test log and paste (plain text: offsets are checked against the file's bytes).
    static func inputs() -> [String] {
        var out = Paths.everyTestLog()
        if let e = FileManager.default.enumerator(atPath: Paths.samples.path) {
            for case let rel as String in e where rel.hasSuffix(".txt") && !rel.contains("/tools/") { out.append(Paths.sample(rel)) }
        }
        return out.sorted()
    }

    /// The lines of a file, by number (1-based), and where each begins.
    struct Lines {
        let bytes: [UInt8]
        var starts: [Int] = [0]
        init(_ path: String) throws {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            // As the readers split: at LF when the file has one, else at CR.
            let end: UInt8 = bytes.contains(0x0A) ? 0x0A : 0x0D
            for (i, b) in bytes.enumerated() where b == end { starts.append(i + 1) }
            if starts.last == bytes.count { starts.removeLast() }
        }
        /// Lines `n` to `n + count - 1` (those there are), joined without their terminators.
        func text(_ n: Int, count: Int = 1) -> String? {
            guard n >= 1, n <= starts.count else { return nil }
            let end = min(starts.count, n + count - 1)
            var s = ""
            for k in n...end {
                let a = starts[k - 1], b = k < starts.count ? starts[k] : bytes.count
                var line = bytes[a..<b]
                while let last = line.last, last == 0x0A || last == 0x0D { line = line.dropLast() }
                s += String(decoding: line, as: UTF8.self)
            }
            return s
        }
    }

    static func contains(_ text: String, _ needle: String) -> Bool {
        text.range(of: needle, options: .caseInsensitive) != nil
    }

    /// Where a link points: its file, a line of it that begins at its byte
    /// offset, within the session's lines.
    func checkPlace(_ link: [String: Any], of session: [String: Any], file: String, lines: Lines, label: String) {
        guard let fact = link["fact"] as? String, let line = link["line"] as? Int else { return XCTFail("\(label): malformed link \(link)") }
        XCTAssertEqual(link["file"] as? String, file, "\(label): \(fact) names another file")
        guard let first = lines.text(line) else { return XCTFail("\(label): \(fact) line \(line) is past the end") }
        if let offset = link["byte_offset"] as? Int {
            XCTAssertEqual(lines.starts.firstIndex(of: offset).map { $0 + 1 }, line, "\(label): \(fact) line \(line) does not begin at byte \(offset)")
        }
        // Every record of the session is within its lines (a rotated log's next file aside).
        if let span = session["lines"] as? [String: Int], (session["details"] as? [String: Any])?["continued_into"] == nil {
            XCTAssertTrue((span["first"]!...span["last"]!).contains(line), "\(label): \(fact) at line \(line) «\(first.prefix(120))» outside the session's lines \(span)")
        }
    }

    /// What the lines of one fact's links must show, together: a fact read from
    /// several records (both proposals, a list wrapped onto the next lines) is
    /// in their text, and a record may go on over the next lines of the file.
    func checkFact(_ fact: String, _ links: [[String: Any]], of session: [String: Any], lines: Lines, label: String) {
        let parts = links.compactMap { ($0["line"] as? Int).flatMap { lines.text($0, count: 6) } }
        let text = parts.joined(separator: "\n") + "\n" + parts.joined()
        let place = "\(label): \(fact) at lines \(links.compactMap { $0["line"] as? Int }) «\(text.prefix(300))»"
        let negotiated = session["negotiated"] as? [String: Any] ?? [:]
        switch fact {
        case _ where fact.hasPrefix("negotiated."):
            let value = negotiated[String(fact.dropFirst("negotiated.".count))] as? String ?? ""
            XCTAssertFalse(value.isEmpty, "\(place): a link for a slot with no value")
            // Before 7.2 the host key algorithm is read from the key's type (`Server host key: RSA …`).
            XCTAssertTrue(Self.contains(text, value) || (fact == "negotiated.hostkey" && Self.contains(text, "host key")), place)
        case "user":
            XCTAssertTrue(Self.contains(text, session["user"] as? String ?? "\u{0}"), place)
        case "gex_bits":
            let gex = (session["details"] as? [String: Any])?["gex"] as? [String: Any]
            XCTAssertTrue(Self.contains(text, String(gex?["group_bits"] as? Int ?? -1)), place)
        case "strict_kex":
            // Its own line (`will use strict KEX`, the sequence numbers reset), or the KEX proposals.
            XCTAssertTrue(Self.contains(text, "strict") || Self.contains(text, "kex") || Self.contains(text, "seqnr"), place)
        case "server_offer":
            let proposals = (session["details"] as? [String: Any])?["proposals"] as? [String: Any]
            let offered = ((proposals?["server"] as? [String: Any]) ?? [:]).values.compactMap { $0 as? [String] }.joined()
            XCTAssertTrue(offered.contains { Self.contains(text, $0) }, place)
        case "outcome":
            let words: [String: [String]] = [
                "auth-failed": ["fail", "denied", "too many", "no more authentication"],
                "connection-refused": ["refused", "connect", "resolve", "too many", "unreachable", "timed out"],
                "negotiation-failed": ["unable to negotiate", "no matching", "negotiat"],
                "hostkey-changed": ["changed", "offending", "identification"],
                "hostkey-unknown": ["verification failed", "authenticity", "host key"],
            ]
            if let want = words[session["outcome"] as? String ?? ""] {
                XCTAssertTrue(want.contains { Self.contains(text, $0) }, "\(place) (outcome \(session["outcome"] ?? ""))")
            }
        case "operation":
            break  // checked per operation below
        default:
            XCTFail("\(place): unknown fact")
        }
    }

    func testEveryLinkPointsAtALineThatShowsItsFact() throws {
        var checked = 0, kinds = Set<String>()
        for input in Self.inputs() {
            let label = (input as NSString).lastPathComponent
            let r = try CLI.run(["sessions", "--json", "--evidence", "--quiet", input])
            XCTAssertTrue([0, 2].contains(r.status), "\(label): \(r.stderr)")
            guard let sessions = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] else { XCTFail(label); continue }
            let lines = try Lines(input)
            for s in sessions {
                let links = try XCTUnwrap(s["evidence"] as? [[String: Any]], "\(label): no evidence array")
                let file = s["file"] as? String ?? ""
                for l in links {
                    checkPlace(l, of: s, file: file, lines: lines, label: "\(label) \(s["id"] ?? "")")
                    kinds.insert(l["fact"] as? String ?? "")
                    XCTAssertTrue(l["record_id"] is NSNull, "\(label): a record id without a database")
                    checked += 1
                }
                for fact in Set(links.compactMap { $0["fact"] as? String }) {
                    checkFact(fact, links.filter { $0["fact"] as? String == fact }, of: s, lines: lines, label: "\(label) \(s["id"] ?? "")")
                }
                func linked(_ fact: String) -> [[String: Any]] { links.filter { $0["fact"] as? String == fact } }
                // Every fact the session states has its links.
                for (slot, value) in s["negotiated"] as? [String: Any] ?? [:] where value is String {
                    XCTAssertFalse(linked("negotiated." + slot).isEmpty, "\(label) \(s["id"] ?? ""): negotiated \(slot) without evidence")
                }
                if s["user"] is String { XCTAssertFalse(linked("user").isEmpty, "\(label) \(s["id"] ?? ""): user without evidence") }
                if s["outcome"] as? String != "incomplete" { XCTAssertFalse(linked("outcome").isEmpty, "\(label) \(s["id"] ?? ""): outcome without evidence") }
                // Each operation: one of its lines names its path (or where it went or came from).
                for (k, op) in (s["operations"] as? [[String: Any]] ?? []).enumerated() {
                    let mine = links.filter { $0["fact"] as? String == "operation" && $0["item"] as? Int == k }
                    XCTAssertFalse(mine.isEmpty, "\(label) \(s["id"] ?? ""): operation \(k) without evidence")
                    // As written: a quote inside a CSV or JSON field is doubled or escaped.
                    let names = [op["path"], op["to"], op["local"]].compactMap { $0 as? String }.filter { !$0.isEmpty }
                        .flatMap { [$0, ($0 as NSString).lastPathComponent] }
                        .flatMap { [$0, $0.replacingOccurrences(of: "\"", with: "\"\""), $0.replacingOccurrences(of: "\"", with: "\\\"")] }
                    guard !names.isEmpty else { continue }
                    XCTAssertTrue(mine.contains { l in names.contains { Self.contains(lines.text(l["line"] as! Int, count: 6) ?? "", $0) } },
                                  "\(label) \(s["id"] ?? ""): no line of operation \(k) names \(names)")
                }
            }
        }
        XCTAssertGreaterThan(checked, 1000)
        XCTAssertTrue(kinds.isSuperset(of: ["negotiated.kex", "negotiated.hostkey", "negotiated.cipher_c2s", "negotiated.mac_s2c", "user", "outcome",
                                            "operation", "gex_bits", "strict_kex", "server_offer"]), "facts seen: \(kinds.sorted())")
    }

    /// audit's findings each rest on lines that name the algorithm; the database
    /// gives the same links with the ids of records on those lines.
    func testAuditFindingsRestOnTheirLinesFromFilesAndFromTheDatabase() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("e.db").path
        let inputs = Self.inputs()
        let ingest = try CLI.run(["ingest", "--quiet", "--db", db] + inputs)
        XCTAssertTrue([0, 2].contains(ingest.status), ingest.stderr)
        let streamed = try CLI.run(["audit", "--json", "--min-rating", "info", "--quiet"] + inputs)
        let stored = try CLI.run(["audit", "--json", "--min-rating", "info", "--db", db])
        let plain = { (s: String) in s.replacingOccurrences(of: #""record_id":[0-9]+"#, with: #""record_id":null"#, options: .regularExpression) }
        XCTAssertEqual(plain(streamed.stdout), plain(stored.stdout))
        let audit = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stored.stdout.utf8)) as? [String: Any])
        // Each link's record as the database holds it (several inputs here are copies
        // or prefixes of others, whose content a stored source carries on).
        let linked = Set((audit["sessions"] as? [[String: Any]] ?? []).flatMap { ($0["findings"] as? [[String: Any]] ?? []) }
            .flatMap { ($0["evidence"] as? [[String: Any]] ?? []) }.compactMap { $0["record_id"] as? Int })
        let raw = try CLI.run(["query", "--db", db, "--format", "json",
                               "SELECT id, CAST(raw AS TEXT) AS raw FROM records WHERE id IN (\(linked.map(String.init).joined(separator: ",")))"])
        var texts: [Int: String] = [:]
        for row in try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(raw.stdout.utf8)) as? [[String: Any]], raw.stderr) {
            if let id = row["id"] as? Int { texts[id] = row["raw"] as? String ?? "" }
        }
        XCTAssertEqual(texts.count, linked.count, "every linked record is stored")
        var findings = 0
        for s in audit["sessions"] as? [[String: Any]] ?? [] {
            for f in s["findings"] as? [[String: Any]] ?? [] {
                findings += 1
                let links = try XCTUnwrap(f["evidence"] as? [[String: Any]])
                XCTAssertFalse(links.isEmpty, "finding \(f["algorithm"] ?? "") of \(s["id"] ?? "") without evidence")
                // `aes256-cbc with hmac-sha2-256-etm@openssh.com` (Terrapin) names two algorithms.
                var names = (f["algorithm"] as? String ?? "").components(separatedBy: " with ")
                if f["category"] as? String == "gex-size", let bits = (f["reason"] as? String)?.split(separator: "-").first { names.append(String(bits)) }
                // A wrapped proposal's name may go on in the next record: the records together.
                let all = links.compactMap { ($0["record_id"] as? Int).flatMap { texts[$0] } }
                let text = all.joined(separator: "\n") + "\n" + all.joined()
                let named = names.contains { Self.contains(text, $0) }
                    || (f["category"] as? String == "hostkey" && Self.contains(text, "host key"))
                XCTAssertTrue(named, "no record of finding \(f["algorithm"] ?? "") (\(f["category"] ?? "")) of \(s["id"] ?? "") names it: \(all)")
            }
        }
        XCTAssertGreaterThan(findings, 50)
        // Every record id is a record on the link's line, in the link's file.
        let ids = try CLI.run(["query", "--db", db, "--format", "csv",
                               "SELECT count(*), sum(r.line = e.line AND s.name = e.file) FROM evidence e JOIN records r ON r.id = e.record_id JOIN sources s ON s.id = r.source_id"])
        let counts = ids.stdout.split(whereSeparator: \.isNewline).last?.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) ?? -1 }
        XCTAssertEqual(counts?.count, 2, ids.stdout + ids.stderr)
        XCTAssertGreaterThan(counts?.first ?? 0, 1000)
        XCTAssertEqual(counts?.first, counts?.last, "links whose record is on another line: \(ids.stdout)")
        let missing = try CLI.run(["query", "--db", db, "--format", "csv", "SELECT count(*) FROM evidence WHERE record_id IS NULL"])
        XCTAssertEqual(missing.stdout.split(whereSeparator: \.isNewline).last.map(String.init), "0", missing.stdout + missing.stderr)
    }

    /// `report --session` shows each line the facts came from, escaped like the rest.
    func testReportOfASessionShowsItsLinesEscaped() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("hostile.log").path
        // A username with a terminal escape, an operation on a path with one.
        let esc = "\u{1B}]0;owned\u{07}"
        try """
            2026-03-02T10:00:00.000Z 30014 sftp-1 Unknown 198.51.100.7:40001 New SSH connection made.
            2026-03-02T10:00:01.000Z 20137 sftp-1 eve\(esc) 198.51.100.7:40001 Successful authentication for "eve\(esc)" of type "application" from groups/roles "DEFAULT_GROUP", by "application:Application Accounts" using password credentials as "eve\(esc)".
            2026-03-02T10:00:02.000Z 30015 sftp-1 eve\(esc) 198.51.100.7:40001 SSH connection closed from "SSH-2.0-x". Protected using host-key:ssh-rsa key-exchange:diffie-hellman-group1-sha1 in-hmac:hmac-md5 in-cipher:3des-cbc out-hmac:hmac-md5 out-cipher:3des-cbc in-compression:none out-compression:none

            """.write(toFile: log, atomically: true, encoding: .utf8)
        let sessions = try CLI.run(["sessions", "--json", "--quiet", log])
        let id = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(sessions.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        let db = dir.appendingPathComponent("r.db").path
        XCTAssertEqual(try CLI.run(["ingest", "--quiet", "--db", db, log]).status, 0)
        for source in [[log], ["--db", db]] {
            let text = try CLI.run(["report", "--session", id] + source)
            XCTAssertEqual(text.status, 0, text.stderr)
            // Wrapped to the terminal: the words of the section, as one line.
            let evidence = try XCTUnwrap(text.stdout.components(separatedBy: "Evidence\n").dropFirst().first?.components(separatedBy: "\n\n").first,
                                         text.stdout).split(whereSeparator: \.isWhitespace).joined(separator: " ")
            XCTAssertTrue(evidence.contains("line 3"), evidence)
            XCTAssertTrue(evidence.contains("negotiated.kex"), evidence)
            XCTAssertTrue(evidence.contains("key-exchange:diffie-hellman-group1-sha1"), evidence)
            XCTAssertTrue(evidence.contains("line 2") && evidence.contains("user"), evidence)
            XCTAssertFalse(text.stdout.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" }, "a raw escape reached the terminal")
            if source.first == "--db" { XCTAssertTrue(evidence.contains("line 3 (record 3, byte "), evidence) }
            let html = try CLI.run(["report", "--session", id, "--format", "html"] + source)
            XCTAssertTrue(html.stdout.contains("<h3>Evidence</h3>"), html.stdout)
            XCTAssertFalse(html.stdout.unicodeScalars.contains { $0 == "\u{1B}" }, "a raw escape in the HTML")
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try CLI.run(["report", "--session", id, "--format", "json"] + source).stdout.utf8))
                                     as? [String: Any])
            let lines = try XCTUnwrap(json["evidence"] as? [[String: Any]])
            XCTAssertEqual(lines.map { $0["line"] as? Int }, [2, 3])
            XCTAssertEqual(lines.last?["text"] as? String, try Lines(log).text(3))
        }
    }
}
