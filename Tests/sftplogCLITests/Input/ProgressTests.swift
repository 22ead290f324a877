import Foundation
import XCTest
import SFTPLogTestSupport

/// The progress line appears on a terminal only, and never with --quiet.
final class ProgressTests: XCTestCase {
    /// Runs sftplog under `script`, which gives it a pseudo-terminal.
    func onTerminal(_ args: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("util-linux script is missing") }
        let quoted = ([CLI.binary] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        return try CLI.capture("/usr/bin/script", ["-qfec", quoted, "/dev/null"], environment: CLI.environment()).stdout
    }

    func testProgressOnATerminalOnly() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = Paths.sample("sftpplus/dev-ts-first-5.26.log")
        let tty = try onTerminal(["ingest", "--db", dir.appendingPathComponent("a.db").path, log])
        XCTAssertTrue(tty.contains("lines/s"), tty)
        XCTAssertTrue(tty.contains("(100%)"), tty)
        XCTAssertTrue(tty.contains("\r\u{1B}[K"), "the line overwrites itself and is cleared at the end")
        let quiet = try onTerminal(["ingest", "--quiet", "--db", dir.appendingPathComponent("b.db").path, log])
        XCTAssertFalse(quiet.contains("lines/s"), quiet)
        XCTAssertFalse(quiet.contains("ingested"), "--quiet drops the summary too")
        let piped = try CLI.run(["ingest", "--db", dir.appendingPathComponent("c.db").path, log])
        XCTAssertFalse(piped.stderr.contains("lines/s"), "no progress when stderr is not a terminal")
        XCTAssertTrue(piped.stderr.contains("ingested 104 records"), piped.stderr)
    }
}
