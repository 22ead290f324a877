import Foundation
import XCTest
@testable import SFTPLogStore

/// An OpenSSH session's `details` is stored as the text before its proposals,
/// the proposals (a term when seen before) and the text after: the split must
/// find the object's own `proposals` key, whatever the strings around it hold.
final class CompactSessionsTests: XCTestCase {
    func range(_ json: String) -> String? {
        let bytes = Array(json.utf8)
        return CompactSessions.valueRange(of: "proposals", in: bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    func testTheObjectsOwnProposalsValueIsFound() {
        XCTAssertEqual(range(#"{"peer":{"host":"h"},"proposals":{"client":{"kex":["a","b"]}},"tool":"ssh"}"#), #"{"client":{"kex":["a","b"]}}"#)
        XCTAssertEqual(range(#"{"proposals":[1,{"x":"}"}]}"#), #"[1,{"x":"}"}]"#)
        XCTAssertEqual(range(#"{"a":1,"proposals":"x\"y"}"#), #""x\"y""#)
        // A key of a nested object, or the word in a string, is not the object's key.
        XCTAssertNil(range(#"{"peer":{"proposals":{"k":1}}}"#))
        XCTAssertNil(range(#"{"note":"\"proposals\":{}","x":1}"#))
        XCTAssertNil(range(#"["proposals",{"proposals":1}]"#))
        XCTAssertNil(range(#"{"proposals":{"unterminated":"#))
    }

    /// The three parts give the text back, and the view's SQL does the same.
    func testTheSplitRowGivesDetailsBack() throws {
        let details = #"{"peer":{"host":"10.0.0.1","port":22},"proposals":{"client":{"kex":["\#(String(repeating: "curve25519-sha256,", count: 20))"]}},"transfer":{"seconds":0.1}}"#
        var row = [SQLValue](repeating: .null, count: CompactSessions.sessionsColumns.count)
        row[CompactSessions.sessionsColumns.firstIndex(of: "details")!] = .text(details)
        let out = CompactSessions.row(row, start: nil, end: nil)
        func text(_ c: String) -> String? {
            if case .text(let t) = out[CompactSessions.columns.firstIndex(of: c)!] { return t }
            return nil
        }
        XCTAssertNotNil(text("details_tail"))
        XCTAssertEqual((text("details") ?? "") + (text("details_proposals") ?? "") + (text("details_tail") ?? ""), details)
        XCTAssertTrue(text("details_proposals")?.hasPrefix(#"{"client""#) == true)
    }
}
