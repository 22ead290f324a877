import XCTest
@testable import SFTPLogRecords

/// A reader's table of token strings must give exactly the string of the bytes
/// asked for, whatever it held before: every length up to and past its limit,
/// tokens sharing prefixes and suffixes, NUL and non-ASCII bytes, collisions.
final class TokenStringsTests: XCTestCase {
    func testEveryTokenIsItsOwnString() {
        var rng = SystemRandomNumberGenerator()
        let table = TokenStrings(slots: 8)  // few slots: most tokens collide
        let alphabet: [UInt8] = Array("ab.:-_0\u{0}".utf8) + [0xC3, 0xA9, 0xFF]
        var hits = 0
        var seen: [[UInt8]: String] = [:]
        for _ in 0..<50_000 {
            let n = Int.random(in: 1...40, using: &rng)
            let token = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
            // The token inside a longer buffer, as readers hand it over.
            let buffer = [0x20] + token + [0x20, 0x41]
            let s = buffer.withUnsafeBufferPointer { table.string($0, 1, 1 + n) }
            XCTAssertEqual(s, UTF8Text.decode(token).0, "\(token)")
            if seen[token] != nil { hits += 1 }
            seen[token] = s
        }
        XCTAssertGreaterThan(hits, 1_000, "tokens repeated")
    }

    func testNoTableDecodesEveryToken() {
        let bytes = Array("30014 sftp-1".utf8)
        let s = bytes.withUnsafeBufferPointer { TokenStrings.none.string($0, 6, 12) }
        XCTAssertEqual(s, "sftp-1")
    }
}
