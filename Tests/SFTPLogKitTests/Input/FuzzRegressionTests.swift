import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords

/// Inputs that crashed the fuzz targets (Fuzz/), kept as regressions.
final class FuzzRegressionTests: XCTestCase {
    static let dir = "hostile/fuzz-regressions"

    /// Splits the bytes as `LineSplitter` sees them when each `read()` returns one
    /// SOCK_SEQPACKET message: the CR/LF boundaries fall where the fuzzer put them.
    func splitInReads(_ body: [UInt8], pieces: Int) throws -> [(text: [UInt8], number: Int, offset: Int64, term: Int)] {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &fds) == 0 else { throw XCTSkip("no socketpair") }
        let step = max(1, (body.count + pieces - 1) / pieces)
        var at = 0
        while at < body.count {
            let n = min(step, body.count - at)
            XCTAssertEqual(body.withUnsafeBufferPointer { write(fds[1], $0.baseAddress! + at, n) }, n)
            at += n
        }
        close(fds[1])
        defer { close(fds[0]) }
        var out: [(text: [UInt8], number: Int, offset: Int64, term: Int)] = []
        try LineSplitter().split(fd: fds[0]) { l in out.append((Array(l.bytes), l.number, l.offset, l.terminatorLength)) }
        return out
    }

    /// Splitting in pieces must give what splitting the whole file at once gives.
    func testCRAtTheEndOfAReadIsNotACRLF() throws {
        for name in ["cr-at-end-of-read.bin", "cr-last-byte-at-eof.bin", "crlf-split-across-reads.bin"] {
            let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Paths.fixture("\(Self.dir)/FuzzRecordStream/\(name)"))))
            let body = Array(data.dropFirst())
            let pieces = try splitInReads(body, pieces: Int(data[0] & 0x3F) + 1)
            let whole = try splitInReads(body, pieces: 1)
            XCTAssertEqual(pieces.map { String(decoding: $0.text, as: UTF8.self) }, whole.map { String(decoding: $0.text, as: UTF8.self) }, name)
            XCTAssertEqual(pieces.map(\.offset), whole.map(\.offset), name)
            XCTAssertEqual(pieces.map(\.term), whole.map(\.term), name)
            for l in pieces { XCTAssertLessThanOrEqual(l.offset + Int64(l.text.count + l.term), Int64(body.count), name) }
        }
        // In text with LF a lone CR is part of its line (a terminal's redraw), even when a read ends on it.
        let cut = try splitInReads(Array("ab\rcd\n".utf8), pieces: 2)
        XCTAssertEqual(cut.map { String(decoding: $0.text, as: UTF8.self) }, ["ab\rcd"], "no byte lost after a CR ending a read")
        // Text without LF is split at CR, whatever the reads.
        let crOnly = try splitInReads(Array("ab\rcd\ref".utf8), pieces: 3)
        XCTAssertEqual(crOnly.map { String(decoding: $0.text, as: UTF8.self) }, ["ab", "cd", "ef"])
        // A terminal's CR CR LF is one line end.
        let doubled = try splitInReads(Array("ab\r\r\ncd\r\n".utf8), pieces: 2)
        XCTAssertEqual(doubled.map { String(decoding: $0.text, as: UTF8.self) }, ["ab", "cd"])
        XCTAssertEqual(doubled.map(\.term), [3, 2])
        let crlf = try splitInReads(Array("ab\r\ncd".utf8), pieces: 2)  // "ab\r" | "\ncd"
        XCTAssertEqual(crlf.map { String(decoding: $0.text, as: UTF8.self) }, ["ab", "cd"])
        XCTAssertEqual(crlf.map(\.term), [2, 0])
    }

}
