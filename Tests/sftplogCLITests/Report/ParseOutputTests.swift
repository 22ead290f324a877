import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogReport

final class ParseOutputTests: XCTestCase {
    func testParseOutputEqualsRecordsRenderedInLine() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // More records than a batch, plus a sample with unparsed lines and invalid UTF-8.
        let files = [try Paths.generatedLog(lines: 7000, seed: 3, in: dir),
                     Paths.sample("sftpplus/dev-ts-first-5.26.log"),
                     Paths.repo.appendingPathComponent("Tests/SFTPLogKitTests/Fixtures/hostile/invalid-utf8.log").path]
        var expected = JSONBytes()
        for f in files {
            for r in try Harness.parse(f) { RecordJSON.write(r, to: &expected) }
        }
        let r = try CLI.run(["parse", "--timezone", "UTC"] + files)
        XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)
        XCTAssertGreaterThan(expected.bytes.count, 1 << 20)
        XCTAssertEqual(r.stdoutBytes, Data(expected.bytes))
    }
}
