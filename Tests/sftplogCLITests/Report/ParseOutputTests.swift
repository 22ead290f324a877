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

    /// The render thread loads the catalogue while the lines are read: one that
    /// cannot be loaded still stops `parse` before it prints anything, naming
    /// the file, for a missing catalogue and a malformed one, with one input and several.
    func testAnUnloadableCatalogueStopsParseBeforeAnyOutput() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let malformed = dir.appendingPathComponent("malformed")
        try FileManager.default.createDirectory(at: malformed, withIntermediateDirectories: true)
        try Data(#"{"events": 5}"#.utf8).write(to: malformed.appendingPathComponent("events.json"))
        let log = try Paths.generatedLog(lines: 3000, seed: 5, in: dir)
        for (catalogue, says) in [(dir.appendingPathComponent("missing").path, "not found"), (malformed.path, "malformed")] {
            for inputs in [[log], [log, Paths.sample("sftpplus/dev-ts-first-5.26.log")]] {
                let r = try CLI.run(["parse"] + inputs, env: ["SFTPLOG_CATALOG": catalogue])
                XCTAssertEqual(r.status, 1, r.stderr)
                XCTAssertEqual(r.stdoutBytes.count, 0, "printed \(r.stdoutBytes.count) bytes")
                XCTAssertTrue(r.stderr.contains(catalogue) && r.stderr.contains(says), r.stderr)
            }
        }
        // The same log with the catalogue prints its lines.
        let ok = try CLI.run(["parse", log])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout.split(separator: "\n").count, 3000)
    }
}
