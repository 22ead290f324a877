import Foundation
import XCTest
@testable import SFTPLogRecords

/// `JSONValue.parse` reads most text by hand and leaves the rest to Foundation:
/// both must give the same value for every text, valid or not.
final class JSONReaderTests: XCTestCase {
    /// What JSONSerialization alone makes of the text (the reference).
    func foundation(_ text: String) -> JSONValue? {
        guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return nil }
        return JSONValue.from(foundation: obj)
    }

    static let pieces = [#""a""#, #""b\"c""#, #""\u00e9\u0041""#, #""\ud83d\ude00""#, #""\ud83d""#, #""\udc00x""#, #""\u12""#,
                         #""tab\tnl\n\/""#, "\"\u{7F}é\"", "0", "-0", "17", "-42", "007", "1.5", "2.0", "1e3", "123456789012345",
                         "1234567890123456", "true", "false", "null", "{}", "[]", "tru", "nul", "-", "\"\u{01}\"", #""\x""#]

    func testHandAndFoundationAgree() {
        var rng = SystemRandomNumberGenerator()
        var byHand = 0
        for round in 0..<20000 {
            func value(_ depth: Int) -> String {
                switch Int.random(in: 0..<(depth > 2 ? 1 : 4), using: &rng) {
                case 1: return "[" + (0..<Int.random(in: 0...3, using: &rng)).map { _ in value(depth + 1) }.joined(separator: ",") + "]"
                case 2:
                    return "{" + (0..<Int.random(in: 0...3, using: &rng)).map { _ in
                        [#""k""#, #""a""#, #""\u006b""#, #""Z""#].randomElement(using: &rng)! + ": " + value(depth + 1)
                    }.joined(separator: ", ") + "}"
                default: return Self.pieces.randomElement(using: &rng)!
                }
            }
            var text = value(0)
            if round % 9 == 0, !text.isEmpty { text.removeLast() }
            let reference = foundation(text)
            XCTAssertEqual(JSONValue.parse(Array(text.utf8)), reference, text)
            if reference != nil { byHand += 1 }
        }
        XCTAssertGreaterThan(byHand, 5000)
    }

    func testEscapesDecodeToTheirCharacters() {
        XCTAssertEqual(JSONValue.parse(Array(#"["\u00e9", "\ud83d\ude00", "\u0041\/"]"#.utf8)), .array([.string("é"), .string("😀"), .string("A/")]))
        XCTAssertEqual(JSONValue.parse(Array(#"{"b":1,"a":2,"b":3}"#.utf8)), .object([("a", .int(2)), ("b", .int(3))]))
    }

    func testDeepNestingIsRefused() {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        XCTAssertNil(JSONValue.parse(Array(deep.utf8)))
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNotNil(JSONValue.parse(Array(ok.utf8)))
    }

    func testPrettyFormIsIndentedAndReadsBack() {
        let v = JSONValue.object([("a", .array([.int(1), .string("x/y")])), ("b", .object([])), ("c", .null)])
        XCTAssertEqual(v.prettyJSON, "{\n  \"a\" : [\n    1,\n    \"x/y\"\n  ],\n  \"b\" : {},\n  \"c\" : null\n}")
        XCTAssertEqual(JSONValue.parse(Array(v.prettyJSON.utf8)), v)
    }
}
