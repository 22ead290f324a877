import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogCatalog

/// JSONBytes.string skips clean runs a word at a time; its output must equal the
/// scalar-by-scalar escaping of JSONValue.writeString for every input.
final class JSONBytesTests: XCTestCase {
    func testWordSkippingEscapesLikeTheScalarWriter() {
        var rng = SplitMix64(seed: 3)
        // Bytes that matter at every position of a word: controls, quote, backslash, DEL, U+2028/9, other UTF-8.
        let pieces = ["a", "bcdefgh", "\u{0}", "\u{1F}", "\"", "\\", "\u{7F}", "\u{2028}", "\u{2029}", "\u{2027}", "é", "€", "😀", "\n", "\t", "\r", " ", "~"]
        for _ in 0..<20_000 {
            var s = ""
            for _ in 0..<Int(rng.next() % 24) { s += pieces[Int(rng.next() % UInt64(pieces.count))] }
            var j = JSONBytes()
            j.string(s)
            var reference = ""
            JSONValue.writeString(s, to: &reference)
            XCTAssertEqual(j.text, reference, s.debugDescription)
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(j.bytes), options: [.fragmentsAllowed]), s.debugDescription)
        }
    }

    func testEveryByteValueInEveryWordPosition() {
        for b in 0..<128 {
            for pos in 0..<9 {
                let s = String(repeating: "x", count: pos) + String(UnicodeScalar(UInt8(b))) + String(repeating: "y", count: 16 - pos)
                var j = JSONBytes()
                j.string(s)
                var reference = ""
                JSONValue.writeString(s, to: &reference)
                XCTAssertEqual(j.text, reference, "byte \(b) at \(pos)")
            }
        }
    }

    /// Integers are written as Swift prints them: every digit count, both signs, the extremes.
    func testIntegersAsSwiftPrintsThem() {
        var values: [Int] = [0, 1, -1, 9, 10, 99, 100, 101, 999, 1000, Int.max, Int.min, Int.max - 1, Int.min + 1]
        var p = 1
        for _ in 0..<18 { p *= 10; values += [p - 1, p, p + 1, -(p - 1), -p, -(p + 1)] }
        var rng = SplitMix64(seed: 9)
        for _ in 0..<20_000 { values.append(Int(bitPattern: UInt(rng.next())) >> Int(rng.next() % 64)) }
        for v in values {
            var j = JSONBytes()
            j.int(v)
            XCTAssertEqual(j.text, String(v))
        }
    }

    /// A decimal field's value: read without a String and written from its own
    /// digits where that is what parsing and formatting give, on decimals of
    /// every shape (zeros at either end, 1 to 20 digits, the 15-digit edge).
    func testDecimalsReadAndWriteAsParsingAndFormattingDo() {
        var tokens = ["0.0", "0.5", "00.5", "0.05", "0.0001", "0.00001", "1.0", "1.50", "007.25", "10.000", "000.000",
                      "123456789012.345", "1234567890123.45", "999999999999999.9", "99999999999999.9", "0.123456789012345",
                      "0.1234567890123456", "9007199254740993.0", "1e5", ".5", "5.", "1.2.3", "-1.5", "+1.5", "1,5", "1.5 "]
        var rng = SplitMix64(seed: 21)
        for _ in 0..<50_000 {
            func digits(_ n: Int) -> String { String((0..<n).map { _ in Character(String(rng.next() % 10)) }) }
            var i = digits(1 + Int(rng.next() % 10)), f = digits(1 + Int(rng.next() % 10))
            if rng.next() % 3 == 0 { i = String(repeating: "0", count: 1 + Int(rng.next() % 3)) + i }
            if rng.next() % 3 == 0 { f += String(repeating: "0", count: 1 + Int(rng.next() % 3)) }
            if rng.next() % 4 == 0 { i = "0" }
            if rng.next() % 5 == 0 { f = String(repeating: "0", count: Int(rng.next() % 4)) + f }
            tokens.append(i + "." + f)
        }
        var written = 0, read = 0
        for t in tokens {
            let b = Array(t.utf8)
            let parsed = Double(t).flatMap { $0.isFinite ? $0 : nil }
            b.withUnsafeBufferPointer { p in
                if let d = EventCatalog.shortDecimal(p) {
                    read += 1
                    XCTAssertEqual(d.bitPattern, parsed?.bitPattern, t)
                }
                guard let k = JSONValue.plainDecimal(p) else { return }
                written += 1
                XCTAssertEqual(String(decoding: UnsafeBufferPointer(rebasing: p[k]), as: UTF8.self), parsed.map(JSONValue.format), t)
            }
        }
        // Most decimals take the short ways.
        XCTAssertGreaterThan(written, tokens.count / 2)
        XCTAssertGreaterThan(read, tokens.count / 2)
    }

    func testStoredBytesEscapeLikeTheirDecodedString() {
        var rng = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [Array("plain ascii text, 8+ bytes long".utf8), [0x22, 0x5C, 0x0A, 0x00, 0x7F], Array("é ü ✓".utf8),
                                 [0xE2, 0x80, 0xA8], [0xFF, 0xFE], [0xC3], [0xED, 0xA0, 0x80], Array("/srv/sftp/file.txt".utf8)]
        for _ in 0..<5000 {
            var b: [UInt8] = []
            for _ in 0..<Int.random(in: 0...6, using: &rng) { b += pieces.randomElement(using: &rng)! }
            var stored = JSONBytes(), decoded = JSONBytes()
            b.withUnsafeBufferPointer { stored.string(stored: $0) }
            decoded.string(String(decoding: b, as: UTF8.self))
            XCTAssertEqual(stored.bytes, decoded.bytes, "\(b)")
        }
    }
}
