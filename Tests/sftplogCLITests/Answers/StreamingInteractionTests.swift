import Foundation
import XCTest
import SFTPLogTestSupport

/// A streaming pass reports what it reads as `ingest` does: unparsed lines and
/// unreadable inputs on stderr with their names, the same exit statuses, and a
/// compressed input cut short answered up to where it stops.
final class StreamingInteractionTests: XCTestCase {
    func testUnparsedLinesAreNamedAndExitAsIngest() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = Paths.fixture("hostile/random-bytes.bin")
        let sample = Paths.sample("sftpplus/dev-ts-first-5.26.log")
        let ingest = try CLI.run(["ingest", "--db", dir.appendingPathComponent("u.db").path, junk, sample])
        XCTAssertEqual(ingest.status, 2)
        for cmd in [["sessions"], ["report"]] {
            let r = try CLI.run(cmd + [junk, sample])
            XCTAssertEqual(r.status, ingest.status, "\(cmd) exits as ingest")
            XCTAssertTrue(r.stderr.contains("random-bytes.bin:1: unparsed:"), r.stderr)
            XCTAssertTrue(r.stderr.contains("more unparsed lines"), r.stderr)
            let quiet = try CLI.run(cmd + ["--quiet", junk, sample])
            XCTAssertEqual(quiet.stderr, "", "\(cmd) --quiet")
            XCTAssertEqual(quiet.stdout, r.stdout)
        }
        // audit keeps its own codes: findings decide, not unparsed lines.
        let audit = try CLI.run(["audit", "--quiet", junk, sample])
        XCTAssertEqual(audit.status, try CLI.run(["audit", "--quiet", sample]).status)
    }

    func testAnUnreadableInputIsNamedAndTheOthersAnswered() throws {
        let sample = Paths.sample("sftpplus/dev-csv-4.16.log")
        let alone = try CLI.run(["audit", "--json", "--quiet", sample])
        let r = try CLI.run(["audit", "--json", "--quiet", "/nonexistent/missing.log", sample])
        XCTAssertEqual(r.status, 3)
        XCTAssertTrue(r.stderr.contains("/nonexistent/missing.log"), r.stderr)
        XCTAssertEqual(r.stdout, alone.stdout)
        let sessions = try CLI.run(["sessions", "--json", "--quiet", "/nonexistent/missing.log", sample])
        XCTAssertEqual(sessions.status, 1)
        XCTAssertEqual(sessions.stdout, try CLI.run(["sessions", "--json", "--quiet", sample]).stdout)
    }

    func testACompressedInputCutShortIsAnsweredUpToTheCut() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gz = dir.appendingPathComponent("full.log.gz").path
        try Shell.compress(Paths.sample("sftpplus/dev-ts-first-5.26.log"), with: "gzip", to: gz)
        let data = try Data(contentsOf: URL(fileURLWithPath: gz))
        let cut = dir.appendingPathComponent("cut.log.gz").path
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let db = dir.appendingPathComponent("c.db").path
        let ingest = try CLI.run(["ingest", "--quiet", "--db", db, cut])
        let stored = try CLI.run(["report", "--format", "json", "--db", db])
        let streamed = try CLI.run(["report", "--format", "json", cut])
        XCTAssertEqual(streamed.status, ingest.status)
        XCTAssertEqual(streamed.status, 1)
        XCTAssertTrue(streamed.stderr.contains("cut.log.gz") && streamed.stderr.contains("truncated"), streamed.stderr)
        XCTAssertEqual(StreamingAnswerTests.undated(streamed.stdout), StreamingAnswerTests.undated(stored.stdout))
        XCTAssertTrue(streamed.stdout.contains("\"records\":"), streamed.stdout)
        XCTAssertFalse(streamed.stdout.contains("\"records\":0,"), "the part before the cut is answered")
    }

    func testStandardInputAnswersAsItsIngest() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-ts-first-5.26.log")))
        let db = dir.appendingPathComponent("s.db").path
        XCTAssertEqual(try CLI.run(["ingest", "--quiet", "--db", db, "-"], stdin: log).status, 0)
        for args in [["sessions", "--json"], ["audit", "--json"], ["report", "--format", "json"]] {
            let stored = try CLI.run(args + ["--db", db])
            let piped = try CLI.run(args + ["-"], stdin: log)
            XCTAssertEqual(StreamingAnswerTests.undated(piped.stdout), StreamingAnswerTests.undated(stored.stdout), "\(args)")
        }
    }
}
