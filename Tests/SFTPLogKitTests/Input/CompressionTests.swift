import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords

/// Compressed inputs (gzip, bzip2, xz) are recognised by content and read as
/// the log they contain. Fixtures are made at test time with the system tools.
final class CompressionTests: TemporaryDirectoryTestCase {
    let sample = Paths.sample("sftpplus/dev-ts-first-5.26.log")
    let transcript = Paths.sample("openssh/sftp-vvv-default-ls-get.log")

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Compresses `input` into `output` with the format's usual tool.
    func compress(_ input: String, _ c: Compression, to output: String) throws {
        let tool = ["gzip": "gzip", "bzip2": "bzip2", "xz": "xz"][c.rawValue]!
        try Shell.run("\(tool) -c '\(input)' > '\(output)'")
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
            try Shell.compress(sample, with: c.rawValue, to: p)
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

    func testConcatenatedGzipMembersAndPadding() throws {
        let a = path("a.gz"), b = path("b.gz"), both = path("both.gz"), padded = path("padded.gz"), garbage = path("garbage.gz")
        try Shell.compress(sample, with: "gzip", to: a)
        try Shell.compress(transcript, with: "gzip", to: b)
        try Shell.run("cat '\(a)' '\(b)' > '\(both)'")
        let src = try InputSource.open(both)
        XCTAssertEqual(try readAll(src), try bytes(sample) + bytes(transcript))
        src.close()
        // Trailing zeros (tape padding) are ignored, as gzip(1) does; other trailing bytes are an error.
        try Shell.run("cat '\(a)' > '\(padded)'; head -c 512 /dev/zero >> '\(padded)'")
        let p = try InputSource.open(padded)
        XCTAssertEqual(try readAll(p), try bytes(sample))
        p.close()
        try Shell.run("cat '\(a)' > '\(garbage)'; printf 'not gzip' >> '\(garbage)'")
        let g = try InputSource.open(garbage)
        XCTAssertThrowsError(try readAll(g)) { XCTAssertTrue("\($0)".contains("corrupt gzip data"), "\($0)") }
        g.close()
        // Several bzip2 streams and several xz streams too.
        for c in [Compression.bzip2, .xz] {
            let x = path("x.\(c.rawValue)"), y = path("y.\(c.rawValue)"), xy = path("xy.\(c.rawValue)")
            try Shell.compress(sample, with: c.rawValue, to: x)
            try Shell.compress(transcript, with: c.rawValue, to: y)
            try Shell.run("cat '\(x)' '\(y)' > '\(xy)'")
            let s = try InputSource.open(xy)
            XCTAssertEqual(try readAll(s), try bytes(sample) + bytes(transcript), c.rawValue)
            s.close()
        }
    }

    func testTruncatedAndCorruptDataIsAnErrorAfterWhatWasRead() throws {
        let sampleBytes = try bytes(sample)
        for c in Compression.allCases {
            let full = path("full.\(c.rawValue)"), cut = path("cut.\(c.rawValue)")
            try Shell.compress(sample, with: c.rawValue, to: full)
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

    /// A reader that stops early (format sniffing, errors) must not leave the
    /// decompression thread or its pipe behind.
    func testClosingEarlyStopsTheDecompressionThread() throws {
        let big = path("big.log"), gz = path("big.log.gz")
        try Shell.run("for i in $(seq 200); do cat '\(sample)'; done > '\(big)'")  // 3.5 MB: far more than a pipe holds
        try Shell.compress(big, with: "gzip", to: gz)
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
