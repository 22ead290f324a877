import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

/// `ReaderOptions.keepsRaw` off (answers that never show a line as written):
/// the same records, only without their lines' bytes, while the reader reuses
/// one buffer from line to line.
final class LineBytesTests: XCTestCase {
    func testRecordsWithoutTheirBytesAreTheSameRecords() throws {
        var dropped = 0
        for f in Paths.everyTestLog() {
            var without = ReaderOptions(timeZone: TimeZone(identifier: "UTC")!)
            without.keepsRaw = false
            let a = try Harness.parse(f), b = try Harness.parse(f, options: without)
            XCTAssertEqual(a.count, b.count, f)
            for (x, y) in zip(a, b) {
                let ctx = "\(f) line \(x.line)"
                if y.raw.isEmpty && !x.raw.isEmpty {
                    XCTAssertEqual(y.kind, .sftpplusEvent, ctx)
                    XCTAssertTrue(y.rawIsUTF8, ctx)
                    dropped += 1
                } else {
                    XCTAssertEqual(y.raw, x.raw, ctx)
                    XCTAssertEqual(y.rawIsUTF8, x.rawIsUTF8, ctx)
                }
                // Everything else as before (the bytes and their validity aside).
                var z = x
                z.raw = y.raw
                z.rawIsUTF8 = y.rawIsUTF8
                XCTAssertEqual(RecordJSON.object(y).json, RecordJSON.object(z).json, ctx)
            }
        }
        XCTAssertGreaterThan(dropped, 300, "event lines read without their bytes")
    }

    /// A last line without a terminator keeps its bytes, so it is still noted as cut short.
    func testAnUnterminatedLastLineIsStillNoted() throws {
        var without = ReaderOptions(timeZone: TimeZone(identifier: "UTC")!)
        without.keepsRaw = false
        let text = "2025-11-01T00:00:00.098+02:00 30014 sftp-1 Unknown 10.0.2.146:20001 New SSH connection made.\n"
            + "2025-11-01T00:00:01.098+02:00 30014 sftp-1 Unknown 10.0.2.147:20002 New SSH connection made."
        let records = try Harness.parse(text: text, options: without)
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records[0].raw, [])
        XCTAssertNil(records[0].extraValue("line_note"))
        XCTAssertEqual(records[1].raw, Array(text.split(separator: "\n")[1].utf8))
        XCTAssertNotNil(records[1].extraValue("line_note"))
        XCTAssertEqual(records.map { $0.peer?.address }, ["10.0.2.146", "10.0.2.147"])
    }
}
