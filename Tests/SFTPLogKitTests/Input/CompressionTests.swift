import Foundation
import GRDB
import XCTest
@testable import SFTPLogKit

/// Compressed inputs (gzip, bzip2, xz) are recognised by content and read as
/// the log they contain. Fixtures are made at test time with the system tools.
final class CompressionTests: XCTestCase {
    var dir: URL!
    let sample = Paths.sample("sftpplus/dev-ts-first-5.26.log")
    let transcript = Paths.sample("openssh/sftp-vvv-default-ls-get.log")

    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Compresses `input` into `output` with the format's usual tool.
    func compress(_ input: String, _ c: Compression, to output: String) throws {
        let tool = ["gzip": "gzip", "bzip2": "bzip2", "xz": "xz"][c.rawValue]!
        try shell("\(tool) -c '\(input)' > '\(output)'")
    }

    func shell(_ script: String) throws {
        let r = try CLI.capture("/bin/sh", ["-c", script])
        XCTAssertEqual(r.status, 0, "\(script): \(r.stderr)")
    }

    /// Everything `fd` yields, then (with `check`) the stream's verdict.
    func readAll(_ src: InputSource, check: Bool = true) throws -> [UInt8] {
        var out: [UInt8] = []
        while true {
            let chunk = try src.readUpTo(1 << 16)
            out += chunk
            if chunk.count < 1 << 16 { break }
        }
        if check { try src.checkStream() }
        return out
    }

    func bytes(_ p: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: p))) }

    func testDetectsFormatsByMagic() {
        XCTAssertEqual(Compression.detect([0x1F, 0x8B, 0x08, 0x00]), .gzip)
        XCTAssertEqual(Compression.detect(Array("BZh91AY".utf8)), .bzip2)
        XCTAssertEqual(Compression.detect([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0x00]), .xz)
        XCTAssertNil(Compression.detect(Array("BZh is not a block size".utf8)))
        XCTAssertNil(Compression.detect(Array("2025-11-21 08:14:14".utf8)))
        XCTAssertNil(Compression.detect([UInt8]()))
        XCTAssertTrue(Compression.couldBecomeMagic([0x1F]))
        XCTAssertTrue(Compression.couldBecomeMagic(Array("BZh".utf8)))
        XCTAssertFalse(Compression.couldBecomeMagic(Array("20".utf8)))
    }

    func testEachFormatYieldsTheOriginalBytes() throws {
        for c in Compression.allCases {
            let p = path("server.log.\(c.rawValue)")
            try compress(sample, c, to: p)
            let src = try InputSource.open(p)
            defer { src.close() }
            XCTAssertEqual(src.compression, c)
            XCTAssertTrue(src.isStream)
            XCTAssertFalse(src.isStdin)
            XCTAssertEqual(src.name, p, "the real name is kept for messages")
            XCTAssertEqual(try readAll(src), try bytes(sample), c.rawValue)
        }
        let plain = try InputSource.open(sample)
        XCTAssertNil(plain.compression)
        XCTAssertFalse(plain.isStream)
    }

    /// `sftplog parse` prints the same NDJSON for a compressed file as for the
    /// plain one, whatever the compressed file is called (here: no suffix at all).
    func testParseOutputIsIdenticalToTheUncompressedFile() throws {
        for input in [sample, transcript] {
            let plainDir = dir.appendingPathComponent("plain-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: plainDir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: input, toPath: plainDir.appendingPathComponent("server.log").path)
            let expected = try CLI.run(["parse", "server.log"], cwd: plainDir)
            XCTAssertEqual(expected.status, 0, expected.stderr)
            XCTAssertGreaterThan(expected.stdout.count, 1000)
            for c in Compression.allCases {
                let d = dir.appendingPathComponent("\(c.rawValue)-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
                try compress(input, c, to: d.appendingPathComponent("server.log").path)
                let r = try CLI.run(["parse", "server.log"], cwd: d)
                XCTAssertEqual(r.status, 0, r.stderr)
                XCTAssertEqual(r.stdout, expected.stdout, "\(c.rawValue) of \(input)")
            }
        }
    }

    func testCompressedStandardInput() throws {
        let expected = try CLI.run(["parse", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: sample)))
        XCTAssertEqual(expected.status, 0, expected.stderr)
        for c in Compression.allCases {
            let p = path("stdin.\(c.rawValue)")
            try compress(sample, c, to: p)
            let r = try CLI.run(["parse", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: p)))
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, expected.stdout, c.rawValue)
        }
    }

    func testConcatenatedGzipMembersAndPadding() throws {
        let a = path("a.gz"), b = path("b.gz"), both = path("both.gz"), padded = path("padded.gz"), garbage = path("garbage.gz")
        try compress(sample, .gzip, to: a)
        try compress(transcript, .gzip, to: b)
        try shell("cat '\(a)' '\(b)' > '\(both)'")
        let src = try InputSource.open(both)
        XCTAssertEqual(try readAll(src), try bytes(sample) + bytes(transcript))
        src.close()
        // Trailing zeros (tape padding) are ignored, as gzip(1) does; other trailing bytes are an error.
        try shell("cat '\(a)' > '\(padded)'; head -c 512 /dev/zero >> '\(padded)'")
        let p = try InputSource.open(padded)
        XCTAssertEqual(try readAll(p), try bytes(sample))
        p.close()
        try shell("cat '\(a)' > '\(garbage)'; printf 'not gzip' >> '\(garbage)'")
        let g = try InputSource.open(garbage)
        XCTAssertThrowsError(try readAll(g)) { XCTAssertTrue("\($0)".contains("corrupt gzip data"), "\($0)") }
        g.close()
        // Several bzip2 streams and several xz streams too.
        for c in [Compression.bzip2, .xz] {
            let x = path("x.\(c.rawValue)"), y = path("y.\(c.rawValue)"), xy = path("xy.\(c.rawValue)")
            try compress(sample, c, to: x)
            try compress(transcript, c, to: y)
            try shell("cat '\(x)' '\(y)' > '\(xy)'")
            let s = try InputSource.open(xy)
            XCTAssertEqual(try readAll(s), try bytes(sample) + bytes(transcript), c.rawValue)
            s.close()
        }
    }

    func testTruncatedAndCorruptDataIsAnErrorAfterWhatWasRead() throws {
        let sampleBytes = try bytes(sample)
        for c in Compression.allCases {
            let full = path("full.\(c.rawValue)"), cut = path("cut.\(c.rawValue)")
            try compress(sample, c, to: full)
            let compressed = try bytes(full)
            try Data(compressed.prefix(compressed.count * 2 / 3)).write(to: URL(fileURLWithPath: cut))
            let src = try InputSource.open(cut)
            let prefix = try readAll(src, check: false)
            XCTAssertThrowsError(try src.checkStream()) { e in
                guard let e = e as? DecompressionError else { return XCTFail("\(e)") }
                XCTAssertEqual(e.name, cut)
                XCTAssertEqual(e.compression, c)
                if case .truncated = e.reason {} else { XCTFail("\(c): \(e)") }
            }
            src.close()
            // What came out before the cut is a prefix of the log.
            XCTAssertTrue(sampleBytes.starts(with: prefix), c.rawValue)
            XCTAssertLessThan(prefix.count, sampleBytes.count, c.rawValue)
        }
        // A flipped byte in the middle is caught (deflate or CRC check).
        let gz = path("full.gzip")
        var damaged = try bytes(gz)
        damaged[damaged.count / 2] ^= 0xFF
        try Data(damaged).write(to: URL(fileURLWithPath: path("damaged.gz")))
        let d = try InputSource.open(path("damaged.gz"))
        XCTAssertThrowsError(try readAll(d)) { XCTAssertTrue("\($0)".contains("corrupt gzip data"), "\($0)") }
        d.close()
    }

    func testTruncatedGzipGivesOneClearErrorAndKeepsEarlierRecords() throws {
        let full = path("server.log.1.gz"), cut = path("server.log.2.gz")
        try compress(sample, .gzip, to: full)
        let compressed = try bytes(full)
        try Data(compressed.prefix(compressed.count / 2)).write(to: URL(fileURLWithPath: cut))

        let parsed = try CLI.run(["parse", cut])
        XCTAssertEqual(parsed.status, 1)
        let err = parsed.stderr.split(separator: "\n")
        XCTAssertEqual(err.count, 1, parsed.stderr)
        XCTAssertTrue(err.first?.hasPrefix("sftplog: \(cut): gzip data is truncated") == true, parsed.stderr)
        let printed = CLI.jsonLines(parsed.stdout)
        XCTAssertGreaterThan(printed.count, 0, "records before the cut are printed")
        XCTAssertLessThan(printed.count, 104)

        // Ingest stores what was read and says the input was cut; the whole file later resumes it.
        let db = path("test.db")
        let first = try CLI.run(["ingest", "--db", db, cut])
        XCTAssertEqual(first.status, 1)
        XCTAssertTrue(first.stderr.contains("sftplog: \(cut): gzip data is truncated"), first.stderr)
        let q = try LogStore.openForReading(db).queue
        let stored = try q.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM records")! }
        XCTAssertGreaterThan(stored, 0)
        XCTAssertLessThanOrEqual(stored, printed.count)
        let second = try CLI.run(["ingest", "--db", db, "--json", full])
        XCTAssertEqual(second.status, 0, second.stderr)
        try q.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM records"), 104)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM sources"), 1)
        }
    }

    /// Identity is the decompressed content: a rotated file compressed later is already stored.
    func testRotatedThenCompressedIsAlreadyStored() throws {
        let db = path("test.db")
        let rotated = path("server.log.1")
        try FileManager.default.copyItem(atPath: sample, toPath: rotated)
        let first = try CLI.run(["ingest", "--db", db, "--json", rotated])
        XCTAssertEqual(first.status, 0, first.stderr)
        try shell("gzip '\(rotated)'")  // logrotate's compress: server.log.1 becomes server.log.1.gz
        XCTAssertFalse(FileManager.default.fileExists(atPath: rotated))
        let second = try CLI.run(["ingest", "--db", db, "--json", rotated + ".gz"])
        XCTAssertEqual(second.status, 0, second.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["records"] as? Int, 0)
        let inputs = summary["inputs"] as! [[String: Any]]
        XCTAssertEqual(inputs.first?["already_stored"] as? Bool, true)
        // And the other way round: compressed first, then the plain file.
        let db2 = path("test2.db")
        XCTAssertEqual(try CLI.run(["ingest", "--db", db2, rotated + ".gz"]).status, 0)
        let plain = try CLI.run(["ingest", "--db", db2, "--json", sample])
        let s2 = try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((s2["inputs"] as! [[String: Any]]).first?["already_stored"] as? Bool, true)
        let q = try LogStore.openForReading(db2).queue
        try q.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM records"), 104)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM sources"), 1)
        }
    }

    /// A reader that stops early (format sniffing, errors) must not leave the
    /// decompression thread or its pipe behind.
    func testClosingEarlyStopsTheDecompressionThread() throws {
        let big = path("big.log"), gz = path("big.log.gz")
        try shell("for i in $(seq 200); do cat '\(sample)'; done > '\(big)'")  // 3.5 MB: far more than a pipe holds
        try compress(big, .gzip, to: gz)
        // What each open descriptor points at: counting them alone failed when another
        // test's descriptor closed meanwhile.
        func openFDs() -> [String] {
            let dir = "/proc/self/fd"
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap {
                try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + $0)
            }
        }
        func pipes(_ fds: [String]) -> Int { fds.filter { $0.hasPrefix("pipe:") }.count }
        let before = openFDs()
        for _ in 0..<20 {
            let src = try InputSource.open(gz)
            XCTAssertEqual(try src.readUpTo(100).count, 100)
            src.close()
        }
        let after = openFDs()
        XCTAssertFalse(after.contains { $0.hasSuffix("/big.log.gz") }, "file closed once the thread has stopped")
        XCTAssertLessThanOrEqual(pipes(after), pipes(before), "pipes closed once the thread has stopped")
    }
}
