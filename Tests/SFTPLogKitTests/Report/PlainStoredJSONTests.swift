import Foundation
import XCTest
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogStore

/// Copying a stored JSON column's bytes must give what parsing it and writing
/// the value gives (sorted keys, last of a repeated key), or leave it to parsing.
final class PlainStoredJSONTests: XCTestCase {
    static let keys = [#""closed_by""#, #""close_details""#, #""a""#, #""""#, #""Z""#, #""k\"q""#, #""é""#, #""path""#]
    static let values = [#""30015""#, #""Too many authentication failures.""#, #""""#, #""a\"b""#, #""tab\there""#, #""é""#,
                         "0", "12", "-5", "-0", "007", "1.5", "1e3", "123456789012345", "1234567890123456", "true", "false", "null",
                         "{}", "[1]", #"{"x":1}"#, "tru", #""\u0041""#, "\"\u{7F}\""]

    /// The old way: parse, then write the pairs (or `{}` for anything else).
    func parsedObject(_ bytes: [UInt8]) -> [UInt8] {
        var j = JSONBytes()
        if case .object(let pairs)? = JSONValue.parse(bytes) { j.object(pairs) } else { j.object([]) }
        return j.bytes
    }

    func parsedStrings(_ bytes: [UInt8]) -> [UInt8] {
        var j = JSONBytes()
        if case .array(let a)? = JSONValue.parse(bytes) {
            for (k, s) in a.compactMap(\.stringValue).enumerated() { if k > 0 { j.raw(",") }; j.string(s) }
        }
        return j.bytes
    }

    func testObjectsCopyLikeTheParsedValue() {
        var rng = SystemRandomNumberGenerator()
        var copied = 0
        for round in 0..<20000 {
            var text = "{" + (0..<Int.random(in: 0...5, using: &rng)).map { _ in
                Self.keys.randomElement(using: &rng)! + ":" + Self.values.randomElement(using: &rng)!
            }.joined(separator: ",") + "}"
            // Some damaged or spaced copies: the copy must refuse them, not misread them.
            if round % 7 == 0, !text.isEmpty { text.removeLast(Int.random(in: 0...min(3, text.count), using: &rng)) }
            if round % 11 == 0 { text = text.replacingOccurrences(of: ":", with: ": ") }
            let bytes = Array(text.utf8)
            var fast = JSONBytes()
            let plain = bytes.withUnsafeBufferPointer { PlainStoredJSON.object($0, to: &fast) }
            if plain {
                copied += 1
                XCTAssertEqual(fast.text, String(decoding: parsedObject(bytes), as: UTF8.self), text)
            } else {
                XCTAssertTrue(fast.bytes.isEmpty, text)
            }
        }
        XCTAssertGreaterThan(copied, 1000)  // the copy is taken, not always refused
    }

    func testStringArraysCopyLikeTheParsedValue() {
        let items = [#""password""#, #""publickey""#, #""""#, #""a\"b""#, #""é""#, "1", "null", "[]"]
        var rng = SystemRandomNumberGenerator()
        var copied = 0
        for round in 0..<5000 {
            var text = "[" + (0..<Int.random(in: 0...4, using: &rng)).map { _ in items.randomElement(using: &rng)! }.joined(separator: ",") + "]"
            if round % 7 == 0 { text.removeLast() }
            let bytes = Array(text.utf8)
            var fast = JSONBytes()
            if bytes.withUnsafeBufferPointer({ PlainStoredJSON.stringArrayItems($0, to: &fast) }) {
                copied += 1
                XCTAssertEqual(fast.text, String(decoding: parsedStrings(bytes), as: UTF8.self), text)
            } else {
                XCTAssertTrue(fast.bytes.isEmpty, text)
            }
        }
        XCTAssertGreaterThan(copied, 100)
    }
}
