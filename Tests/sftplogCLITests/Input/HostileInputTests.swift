import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogOpenSSH

/// Issue 8, "Bad input": the hostile corpus in Fixtures/hostile (small cases committed,
/// written by Fixtures/hostile/generate.py small; large ones generated here and, full
/// size with memory measurements, by `generate.py measure`). Every case runs the CLI
/// as a subprocess killed after `HostileRun.timeout`: no crash, no hang, the right exit
/// status, a per-line diagnostic on stderr for unparsed lines, and every line's exact
/// bytes kept (NDJSON `text`/`raw_base64`, and the database's `raw`).
final class HostileInputTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func fixture(_ name: String) -> String { Paths.fixture("hostile/" + name) }

    // MARK: - The whole corpus: generic guarantees

    /// Exit status and number of unparsed records each committed case must give.
    static let corpus: [(String, status: Int32, unparsed: Int)] = [
        ("random-bytes.bin", 2, -1),  // -1: some, count not fixed
        ("nul-bytes.log", 2, 2),
        ("invalid-utf8.log", 2, 7),
        ("utf16le-bom.log", 2, 7),
        ("utf16be-bom.log", 2, 6),
        ("cr-only.log", 0, 0),
        ("truncated-mid-line.log", 0, 0),
        ("truncated-mid-utf8.log", 0, 0),
        ("json-truncated.log", 2, 2),
        ("json-deep.log", 2, 1),
        ("json-deep-unclosed.log", 2, 2),
        ("csv-unbalanced-quotes.log", 2, 3),
        ("csv-header-only.log", 0, 0),
        ("timestamps.log", 2, 7),
        ("peers.log", 0, 0),
        ("event-id-40-digits.log", 0, 0),
        ("template-delimiters.log", 0, 0),
        ("openssh-cut-in-kexinit.log", 0, 0),
        ("openssh-interleaved.log", 0, 0),
    ]

    func testCorpusParseStatusDiagnosticsAndExactBytes() throws {
        for (name, status, unparsed) in HostileInputTests.corpus {
            let path = fixture(name)
            let r = try HostileRun.run(["parse", path])
            XCTAssertFalse(r.timedOut, "\(name): parse hung")
            XCTAssertEqual(r.status, status, "\(name): exit status; stderr: \(r.stderr.prefix(500))")
            let recs = r.records
            XCTAssertEqual(recs.count, r.stdoutBytes.split(separator: 0x0A).count, "\(name): every NDJSON line is valid JSON")
            let bad = recs.filter { $0["kind"] as? String == "unparsed" }
            if unparsed >= 0 { XCTAssertEqual(bad.count, unparsed, "\(name): unparsed records") } else { XCTAssertGreaterThan(bad.count, 0, name) }
            let lines = HostileRun.physicalLines(try Data(contentsOf: URL(fileURLWithPath: path)))
            let warned = StoreSafety.errorLines(r.stderr)
            for (k, u) in bad.enumerated() {
                let line = u["line"] as! Int
                let diag = u["diagnostic"] as? String ?? ""
                XCTAssertFalse(diag.isEmpty, "\(name):\(line): no diagnostic")
                // Exact bytes: raw_base64 when present, else the text is the line verbatim.
                let count = u["lines"] as? Int ?? 1
                let expected = HostileRun.joined(lines, from: line, count: count)
                let got: Data = (u["raw_base64"] as? String).map { Data(base64Encoded: $0)! } ?? Data((u["text"] as! String).utf8)
                XCTAssertEqual(got, expected, "\(name):\(line): bytes of the unparsed record")
                if k < HostileRun.shownPerFile {
                    XCTAssertTrue(warned.contains { $0.hasPrefix("sftplog: \(path):\(line): unparsed: ") && $0.contains(diag) },
                                  "\(name):\(line): not named on stderr")
                }
            }
            if bad.count > HostileRun.shownPerFile {
                XCTAssertTrue(r.stderr.contains("\(bad.count - HostileRun.shownPerFile) more unparsed lines (\(bad.count) in all)"), name)
            }
            // Records whose bytes are not UTF-8 carry them exactly.
            for rec in recs where rec["raw_base64"] != nil && rec["kind"] as? String != "unparsed" {
                let line = rec["line"] as! Int
                XCTAssertEqual(Data(base64Encoded: rec["raw_base64"] as! String), HostileRun.joined(lines, from: line, count: rec["lines"] as? Int ?? 1), "\(name):\(line)")
            }
        }
    }

    /// The same corpus ingested: same status, and the database's `raw` of every record
    /// is the exact bytes of its lines; every non-blank line is in some record.
    func testCorpusIngestKeepsEveryLineExactly() throws {
        for (name, status, unparsed) in HostileInputTests.corpus {
            let path = fixture(name)
            let db = dir.appendingPathComponent(name + ".db").path
            let r = try HostileRun.run(["ingest", "--db", db, path])
            XCTAssertFalse(r.timedOut, "\(name): ingest hung")
            XCTAssertEqual(r.status, status, "\(name): ingest exit status; stderr: \(r.stderr.prefix(500))")
            let lines = HostileRun.physicalLines(try Data(contentsOf: URL(fileURLWithPath: path)))
            let q = try StoreSafety.readOnly(db)
            defer { try? q.close() }
            let rows = try q.read { try Row.fetchAll($0, sql: "SELECT line, line_count, kind, raw, diagnostic FROM records ORDER BY line, seq") }
            if unparsed >= 0 { XCTAssertEqual(rows.filter { $0["kind"] as String == "unparsed" }.count, unparsed, name) }
            var covered = Set<Int>()
            for row in rows {
                let line: Int = row["line"], count: Int = row["line_count"]
                XCTAssertEqual(row["raw"] as Data, HostileRun.joined(lines, from: line, count: count), "\(name):\(line): stored raw")
                if (row["kind"] as String) == "unparsed" { XCTAssertFalse((row["diagnostic"] as String? ?? "").isEmpty, "\(name):\(line)") }
                covered.formUnion(line..<(line + count))
            }
            let csvHeader = name.hasPrefix("csv-") ? 1 : 0
            for (i, l) in lines.enumerated() where !l.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) && i + 1 > csvHeader {
                XCTAssertTrue(covered.contains(i + 1), "\(name): line \(i + 1) is in no record")
            }
        }
    }

    // MARK: - Case by case: what the right behaviour is

    func testRandomBytesAreAllUnparsedWithTheirBytes() throws {
        let r = try HostileRun.run(["parse", fixture("random-bytes.bin")])
        XCTAssertTrue(r.records.allSatisfy { $0["kind"] as? String == "unparsed" })
        XCTAssertTrue(r.records.contains { $0["raw_base64"] != nil })
    }

    func testNULInsideAFieldIsKeptNotCut() throws {
        let recs = try HostileRun.run(["parse", fixture("nul-bytes.log")]).records
        XCTAssertEqual(recs[0]["account"] as? String, "Un\u{0}known")
        XCTAssertEqual(recs[1]["message"] as? String, "New SSH\u{0} connection made.")
        XCTAssertEqual(recs[4]["kind"] as? String, "sftpplus.event")
    }

    func testInvalidAndOverlongUTF8() throws {
        let recs = try HostileRun.run(["parse", fixture("invalid-utf8.log")]).records
        // A valid event with a bad byte in a field is still the event; the bytes are in raw_base64.
        XCTAssertEqual(recs[0]["kind"] as? String, "sftpplus.event")
        XCTAssertEqual(recs[0]["account"] as? String, "bad\u{FFFD}user")
        XCTAssertNotNil(recs[0]["raw_base64"])
        // An overlong `/` (C0 AF) is never decoded to `/`.
        XCTAssertEqual(recs[1]["account"] as? String, "\u{FFFD}\u{FFFD}")
        for r in recs[2...8] {
            XCTAssertEqual(r["kind"] as? String, "unparsed")
            XCTAssertNotNil(r["raw_base64"])
            XCTAssertFalse((r["text"] as! String).contains("/"), "overlong forms must not decode")
        }
        XCTAssertEqual(recs[9]["kind"] as? String, "sftpplus.event")
    }

    func testUTF16FilesAreNamedAsSuch() throws {
        for (name, bom) in [("utf16le-bom.log", "FF FE"), ("utf16be-bom.log", "FE FF")] {
            let r = try HostileRun.run(["parse", fixture(name)])
            XCTAssertEqual(r.status, 2)
            for u in r.records { XCTAssertTrue((u["diagnostic"] as? String ?? "").contains("UTF-16 (byte-order mark \(bom)"), name) }
            XCTAssertTrue(r.stderr.contains("iconv -f UTF-16 -t UTF-8"), name)
        }
    }

    func testCROnlyLineEndsSplit() throws {
        let recs = try HostileRun.run(["parse", fixture("cr-only.log")]).records
        XCTAssertEqual(recs.map { $0["line"] as! Int }, Array(1...6))
        XCTAssertTrue(recs.allSatisfy { $0["kind"] as? String == "sftpplus.event" && $0["catalog"] is [String: Any] })
    }

    func testTruncatedFilesSayWhereTheInputStops() throws {
        let note = "no line terminator after this line: the input may have been cut short here"
        let cut = try HostileRun.run(["parse", fixture("truncated-mid-line.log")]).records
        XCTAssertEqual(cut.count, 4)
        XCTAssertEqual(cut.last?["line_note"] as? String, note)
        XCTAssertTrue(cut.last?["catalog"] is NSNull, "a cut message must not resolve as a whole wording")
        XCTAssertTrue(cut.dropLast().allSatisfy { $0["line_note"] == nil })
        let utf8 = try HostileRun.run(["parse", fixture("truncated-mid-utf8.log")]).records
        XCTAssertEqual(utf8.last?["line_note"] as? String, note)
        XCTAssertNotNil(utf8.last?["raw_base64"], "half a UTF-8 sequence is kept exactly")
        // An unparsed last line says it in its diagnostic.
        let p = dir.appendingPathComponent("cut.log").path
        _ = FileManager.default.createFile(atPath: p, contents: Data("2025-11-21T08:1".utf8))
        let u = try HostileRun.run(["parse", p])
        XCTAssertEqual(u.status, 2)
        XCTAssertTrue((u.records[0]["diagnostic"] as! String).hasSuffix(note))
    }

    func testTruncatedJSONDoesNotSwallowTheLinesAfterIt() throws {
        let r = try HostileRun.run(["parse", fixture("json-truncated.log")])
        let recs = r.records
        XCTAssertEqual(recs.map { $0["kind"] as! String }, ["sftpplus.event", "unparsed", "sftpplus.event", "sftpplus.event", "unparsed"])
        XCTAssertEqual(recs.map { $0["line"] as! Int }, [1, 2, 3, 4, 5])
        XCTAssertEqual(recs[1]["diagnostic"] as? String, "not a complete SFTPPlus JSON event")
        XCTAssertEqual(recs[4]["diagnostic"] as? String, "not a complete SFTPPlus JSON event")
    }

    func testDeeplyNestedJSONIsRefusedWithoutCrashing() throws {
        let r = try HostileRun.run(["parse", fixture("json-deep.log")])
        XCTAssertEqual(r.records.first?["diagnostic"] as? String, "JSON nested 100001 levels deep (more than 64 are refused)")
        XCTAssertEqual(r.records.last?["kind"] as? String, "sftpplus.event")
        let u = try HostileRun.run(["parse", fixture("json-deep-unclosed.log")]).records
        XCTAssertEqual(u.map { $0["kind"] as! String }, ["unparsed", "unparsed", "sftpplus.event"])
    }

    func testCSVUnbalancedQuotesAndHeaderOnly() throws {
        let recs = try HostileRun.run(["parse", fixture("csv-unbalanced-quotes.log")]).records
        XCTAssertEqual(recs.map { $0["line"] as! Int }, [2, 3, 4, 5, 6])
        XCTAssertEqual(recs.map { $0["kind"] as! String }, ["unparsed", "sftpplus.event", "unparsed", "sftpplus.event", "unparsed"])
        XCTAssertEqual(recs[0]["diagnostic"] as? String, "quoted field not closed before the next row (line 3)")
        XCTAssertEqual(recs[2]["diagnostic"] as? String, "malformed CSV quoting")
        XCTAssertTrue((recs[4]["diagnostic"] as! String).hasPrefix("quoted field not closed before end of input"))
        let port = recs[3]["peer"] as! [String: Any]
        XCTAssertTrue(port["port"] is NSNull, "70000 is no port")
        XCTAssertEqual(recs[3]["peer_note"] as? String, "port \"70000\" is not a port number (0–65535); not taken as a port")
        let h = try HostileRun.run(["parse", fixture("csv-header-only.log")])
        XCTAssertEqual(h.status, 0)
        XCTAssertEqual(h.records.count, 0)
    }

    func testTimestampsOutOfRangeFutureAndBackwards() throws {
        let r = try HostileRun.run(["parse", "--timezone", "UTC", fixture("timestamps.log")])
        let recs = r.records
        let diag = recs.prefix(7).map { $0["diagnostic"] as? String ?? "" }
        for (k, want) in ["(month 13)", "(hour 25)", "(year 0)", "year 99999 has more than 4 digits", "(day 30)",
                          "(UTC offset 99 hours)", "(minute 61)"].enumerated() {
            XCTAssertTrue(diag[k].contains(want), "line \(k + 1): \(diag[k])")
        }
        // Valid events with odd clocks are kept as written, with a note.
        XCTAssertEqual(recs[7]["ts"] as? String, "9999-12-31T23:59:59.999+00:00")
        XCTAssertEqual(recs[7]["ts_note"] as? String, "timestamp is in the future (after the time of this run)")
        XCTAssertTrue((recs[8]["ts_note"] as? String ?? "").hasPrefix("timestamp goes back "), "\(recs[8])")
        XCTAssertEqual(recs[9]["ts_note"] as? String, "timestamp goes back 60 min from line 9")
        XCTAssertNil(recs[10]["ts_note"])
    }

    func testPortsAboveRangeAndIPv6Zones() throws {
        let recs = try HostileRun.run(["parse", fixture("peers.log")]).records
        let peers = recs.map { $0["peer"] as! [String: Any] }
        XCTAssertEqual(peers[0]["address"] as? String, "10.0.4.28")
        XCTAssertTrue(peers[0]["port"] is NSNull)
        XCTAssertEqual(recs[0]["peer_note"] as? String, "port 65536 is out of range (0–65535); not taken as a port")
        XCTAssertTrue(peers[1]["port"] is NSNull)
        XCTAssertEqual(recs[1]["peer_note"] as? String, "port 9999999999 is out of range (0–65535); not taken as a port")
        XCTAssertEqual(peers[2]["address"] as? String, "fe80::1%eth0")
        XCTAssertEqual(peers[2]["port"] as? Int, 22)
        XCTAssertEqual(peers[3]["address"] as? String, "fe80::1%eth0")
        XCTAssertEqual(peers[3]["port"] as? Int, 2222)
        XCTAssertEqual(peers[4]["port"] as? Int, 65535)
        XCTAssertNil(recs[4]["peer_note"])
    }

    func testFortyDigitEventIDsStayText() throws {
        let recs = try HostileRun.run(["parse", fixture("event-id-40-digits.log")]).records
        XCTAssertEqual(recs.map { $0["event_id"] as? String }, Array(repeating: "1234567890123456789012345678901234567890", count: 3))
        XCTAssertTrue(recs.allSatisfy { $0["catalog"] is NSNull })
        let db = dir.appendingPathComponent("ids.db").path
        XCTAssertEqual(try HostileRun.run(["ingest", "--db", db, fixture("event-id-40-digits.log")]).status, 0)
        let q = try StoreSafety.readOnly(db)
        defer { try? q.close() }
        let ids = try q.read { try String.fetchAll($0, sql: "SELECT event_id FROM records") }
        XCTAssertEqual(ids, Array(repeating: "1234567890123456789012345678901234567890", count: 3))
    }

    func testTemplateDelimitersInsideValues() throws {
        let recs = try HostileRun.run(["parse", fixture("template-delimiters.log")]).records
        func fields(_ i: Int) -> [String: Any] { recs[i]["fields"] as! [String: Any] }
        // A username made of the wording's own delimiters stays one username.
        XCTAssertEqual(fields(0)["account_name"] as? String, "al\" of type \"x\" as \"ice")
        XCTAssertEqual(fields(0)["username"] as? String, "al\" of type \"x\" as \"ice")
        XCTAssertEqual(fields(0)["credentials_type"] as? String, "ssh-key")
        // A client version faking strong algorithms does not displace the real ones.
        XCTAssertEqual(fields(2)["client_version"] as? String,
                       "x\" using ssh-ed25519 curve25519-sha256 hmac-sha2-256 aes256-gcm compression:none.")
        XCTAssertEqual(fields(2)["host_key"] as? String, "ssh-dss")
        XCTAssertEqual(fields(2)["key_exchange"] as? String, "diffie-hellman-group1-sha1")
        XCTAssertEqual(fields(2)["in_cipher"] as? String, "3des-cbc")
        XCTAssertEqual(fields(2)["in_compression"] as? String, "none")
        XCTAssertEqual(recs[4]["account"] as? String, "evil:user")
    }

    func testOpenSSHCutInsideKEXINIT() throws {
        let r = try HostileRun.run(["parse", fixture("openssh-cut-in-kexinit.log")])
        let last = r.records.last!
        XCTAssertEqual(last["kind"] as? String, "openssh.kexinit")
        XCTAssertEqual(last["line_note"] as? String, "no line terminator after this line: the input may have been cut short here")
        // The session is incomplete, not negotiated.
        let db = dir.appendingPathComponent("kex.db").path
        XCTAssertEqual(try HostileRun.run(["ingest", "--db", db, fixture("openssh-cut-in-kexinit.log")]).status, 0)
        let s = try HostileRun.run(["sessions", "--db", db, "--json"])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(s.stdout.contains("\"outcome\":\"incomplete\""), s.stdout)
    }

    func testInterleavedTranscriptsParseEveryLine() throws {
        let r = try HostileRun.run(["parse", fixture("openssh-interleaved.log")])
        XCTAssertEqual(r.status, 0)
        let lines = HostileRun.physicalLines(try Data(contentsOf: URL(fileURLWithPath: fixture("openssh-interleaved.log"))))
        XCTAssertEqual(r.records.count, lines.filter { !$0.bytes.isEmpty }.count)
        let db = dir.appendingPathComponent("inter.db").path
        XCTAssertEqual(try HostileRun.run(["ingest", "--db", db, fixture("openssh-interleaved.log")]).status, 0)
        let s = try HostileRun.run(["sessions", "--db", db, "--json"])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertFalse(s.timedOut)
    }

    // MARK: - Large inputs, generated here (full size: generate.py large/measure)

    /// A 50 MB single line: one unparsed record with its exact bytes, in a few seconds.
    func testFiftyMegabyteLine() throws {
        let p = dir.appendingPathComponent("line.log").path
        // A seeded 64 KB block repeated (filling 50 MB byte by byte is slow in debug builds).
        var rng = SplitMix64(seed: 50)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789 \"-:.".utf8)
        let block = Data((0..<(1 << 16)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        var d = Data(capacity: (50 << 20) + 1)
        for _ in 0..<((50 << 20) / block.count) { d.append(block) }
        d.append(0x0A)
        _ = FileManager.default.createFile(atPath: p, contents: d)
        let start = Date()
        let r = try HostileRun.run(["parse", p])
        print("50 MB line: sftplog parse took \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.status, 2)
        let recs = r.records
        XCTAssertEqual(recs.count, 1)
        XCTAssertEqual(Data((recs[0]["text"] as! String).utf8), d.dropLast())
        XCTAssertTrue(r.stderr.contains("\(p):1: unparsed: "))
    }

    /// 10^6 empty lines: no records, nothing unparsed, linear time.
    func testMillionEmptyLines() throws {
        let p = dir.appendingPathComponent("empty.log").path
        _ = FileManager.default.createFile(atPath: p, contents: Data(repeating: 0x0A, count: 1_000_000))
        let r = try HostileRun.run(["parse", p])
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stdoutBytes.isEmpty)
        // Followed by an event: still detected and parsed, with the right line number.
        let q = dir.appendingPathComponent("empty-then-event.log").path
        var d = Data(repeating: 0x0A, count: 1_000_000)
        d.append(Data("2025-11-21T08:14:14.492+02:00 30014 sftp-1 Unknown 10.0.4.28:37545 New SSH connection made.\n".utf8))
        _ = FileManager.default.createFile(atPath: q, contents: d)
        let e = try HostileRun.run(["parse", q])
        XCTAssertEqual(e.status, 0)
        XCTAssertEqual(e.records.first?["line"] as? Int, 1_000_001)
    }

    /// Repeating a wording's literal in a value made template matching unbounded.
    func testRepeatedTemplateLiteralsDoNotHang() throws {
        let p = dir.appendingPathComponent("literals.log").path
        let msg = "Account \"" + String(repeating: "\" of type \"", count: 200_000)
        _ = FileManager.default.createFile(atPath: p, contents: Data(("2025-11-21T08:14:14.492+02:00 20137 sftp-1 alice 10.0.4.28:37545 " + msg + "\n").utf8))
        let r = try HostileRun.run(["parse", p])
        XCTAssertFalse(r.timedOut)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.records.first?["event_id"] as? String, "20137")
    }
}

/// Runs `sftplog` with a time limit (killed after it), output through files.
enum HostileRun {
    static let timeout: TimeInterval = 60
    /// Unparsed lines named on stderr per file (the CLI's UnparsedReport.shownPerFile).
    static let shownPerFile = 5

    struct Result {
        var status: Int32
        var timedOut: Bool
        var stdoutBytes: Data
        var stderr: String
        var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
        /// NDJSON objects (split on bytes: Character-wise splitting of 50 MB is slow in debug builds).
        var records: [[String: Any]] {
            stdoutBytes.split(separator: 0x0A).compactMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
        }
    }

    static func run(_ args: [String]) throws -> Result {
        let d = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: d) }
        let out = d.appendingPathComponent("out"), err = d.appendingPathComponent("err")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = args
        p.environment = CLI.environment()
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        final class Flag: @unchecked Sendable { var killed = false }
        let flag = Flag()
        let timer = DispatchWorkItem { if p.isRunning { flag.killed = true; kill(p.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        p.waitUntilExit()
        timer.cancel()
        let o = (try? Data(contentsOf: out)) ?? Data(), e = (try? Data(contentsOf: err)) ?? Data()
        // A crash (signal) shows as 128+n.
        let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return Result(status: status, timedOut: flag.killed, stdoutBytes: o, stderr: String(decoding: e, as: UTF8.self))
    }

    /// Physical lines as LineSplitter cuts them (LF, CRLF, lone CR), with their terminators.
    /// Lines as the splitter cuts them: with an LF in the text, at LF (CRs just before
    /// it are part of the line end); without one, at CR too.
    static func physicalLines(_ d: Data) -> [(bytes: Data, terminator: Data)] {
        let b = [UInt8](d)
        var out: [(Data, Data)] = []
        if b.contains(0x0A) {
            var start = 0
            for (i, c) in b.enumerated() where c == 0x0A {
                var end = i
                while end > start && b[end - 1] == 0x0D { end -= 1 }
                out.append((Data(b[start..<end]), Data(b[end...i])))
                start = i + 1
            }
            if start < b.count { out.append((Data(b[start...]), Data())) }
            return out
        }
        var start = 0, i = 0
        while i < b.count {
            if b[i] == 0x0A || b[i] == 0x0D {
                let t = (b[i] == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A) ? 2 : 1
                out.append((Data(b[start..<i]), Data(b[i..<(i + t)])))
                i += t; start = i
            } else { i += 1 }
        }
        if start < b.count { out.append((Data(b[start...]), Data())) }
        return out
    }

    /// Lines `from`..<`from+count` (1-based) joined by their inner terminators.
    static func joined(_ lines: [(bytes: Data, terminator: Data)], from: Int, count: Int) -> Data {
        var d = Data()
        for k in (from - 1)..<(from - 1 + count) {
            if k > from - 1 { d.append(lines[k - 1].terminator) }
            d.append(lines[k].bytes)
        }
        return d
    }
}
