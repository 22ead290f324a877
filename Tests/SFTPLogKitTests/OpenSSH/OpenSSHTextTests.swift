import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogOpenSSH

/// The byte-wise scanners answer as a plain byte-by-byte reading does, on every
/// line of the real transcripts and on the edges a scan gets wrong.
final class OpenSSHTextTests: XCTestCase {
    /// Offsets of the first occurrence, by the slowest obvious reading.
    private func reference(_ s: Substring, _ needle: String) -> Range<Int>? {
        let h = Array(s.utf8), n = Array(needle.utf8)
        guard !n.isEmpty, h.count >= n.count else { return nil }
        for i in 0...(h.count - n.count) where Array(h[i..<(i + n.count)]) == n { return i..<(i + n.count) }
        return nil
    }

    private func offsets(_ s: Substring, _ r: Range<Substring.Index>?) -> Range<Int>? {
        r.map { s.utf8.distance(from: s.startIndex, to: $0.lowerBound)..<s.utf8.distance(from: s.startIndex, to: $0.upperBound) }
    }

    private func transcriptLines() throws -> [Substring] {
        let dir = Paths.sample("openssh")
        var lines: [Substring] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where name.hasSuffix(".log") {
            let text = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
            lines += text.split(whereSeparator: \.isNewline)  // the transcripts end lines with CRLF
        }
        return lines
    }

    func testFindAgreesWithAByteReadingOnRealLinesAndEdges() throws {
        let lines = try transcriptLines()
        XCTAssertGreaterThan(lines.count, 500)
        let needles = [": ", ", ", "debug1", "ssh-", "@openssh.com", "SSH2_MSG_", "sftp>", "port ", "x", "zz-not-there"]
        var found = 0
        for line in lines {
            // Also from the middle of the line: Substring indices must stay right.
            for s in [line, line.dropFirst(min(7, line.count))] {
                for n in needles {
                    let got = offsets(s, OpenSSHText.find(s, n))
                    XCTAssertEqual(got, reference(s, n), "\(n) in \(s)")
                    if got != nil { found += 1 }
                }
            }
        }
        XCTAssertGreaterThan(found, 1000)
        let edges: [(String, String)] = [("aaab", "aab"), ("ab", "abc"), ("abc", "c"), ("", "a"), ("a", ""), ("héllo: wörld", ": w"),
                                         ("x: ", ": "), ("ababac", "abac"), ("\u{0}a\u{0}b", "\u{0}b")]
        for (h, n) in edges {
            let s = Substring(h)
            XCTAssertEqual(offsets(s, OpenSSHText.find(s, n)), reference(s, n), "\(n) in \(h)")
        }
    }

    func testListSplitsAndTrimsAsTheCharacterReadingDid() throws {
        func characterReading(_ s: Substring) -> [String] {
            s.split(separator: ",", omittingEmptySubsequences: true)
                .map { part -> String in
                    var p = part
                    while let c = p.first, c == " " || c == "\t" { p = p.dropFirst() }
                    while let c = p.last, c == " " || c == "\t" { p = p.dropLast() }
                    return String(p)
                }
                .filter { !$0.isEmpty }
        }
        var lists = 0
        for line in try transcriptLines() where line.contains(",") {
            let tail = line[(line.firstIndex(of: ":") ?? line.startIndex)...].dropFirst()
            XCTAssertEqual(OpenSSHText.list(tail), characterReading(tail), String(line))
            lists += 1
        }
        XCTAssertGreaterThan(lists, 100)
        for s in ["", ",", " , ,", "a", " a ,b\t,\t c ", "curve25519-sha256,ext-info-c,kex-strict-c-v00@openssh.com", "é,ü , ß"] {
            XCTAssertEqual(OpenSSHText.list(Substring(s)), characterReading(Substring(s)), s)
        }
        XCTAssertEqual(Substring(" \t a b \t").trimmingSpaces, "a b")
        XCTAssertEqual(Substring("   ").trimmingSpaces, "")
    }
}
