import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogStore

/// Rotated files in a directory, through `ingest`.
final class DirectoryIngestTests: TemporaryDirectoryTestCase {
    func testIngestOfADirectoryStoresRotatedFilesInTimeOrderSoSessionsJoinUp() throws {
        let (logs, lines) = try RotatedSample.make(in: dir)
        let db = dir.appendingPathComponent("t.db").path
        let r = try CLI.run(["ingest", "--db", db, "--json", "--glob", "server.log*", logs.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        try LogStore.openForReading(db).queue.read { db in
            let names = try String.fetchAll(db, sql: "SELECT name FROM sources ORDER BY id").map { ($0 as NSString).lastPathComponent }
            XCTAssertEqual(names, ["server.log.2", "server.log.2025-11-21-08-20-00", "server.log.1", "server.log"])
            let raw = try Data.fetchAll(db, sql: "SELECT raw FROM records ORDER BY source_id, line")
            XCTAssertEqual(raw.map { $0 + Data([0x0A]) }, lines, "every line once, in the log's own order")
        }
        let parsed = try CLI.run(["parse", "--glob", "server.log*", logs.path])
        XCTAssertEqual(parsed.status, 0, parsed.stderr)
        let ts = CLI.jsonLines(parsed.stdout).compactMap { ($0["timestamp"] as? String) ?? ($0["ts"] as? String) }
        XCTAssertEqual(ts.count, 104)
        XCTAssertEqual(ts, ts.sorted(), "records come out in time order across the rotated files")
    }

    func testUnparsedLinesAreNamedAndSetTheExitStatus() throws {
        let log = dir.appendingPathComponent("mixed.log")
        let good = try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-ts-first-5.26.log"))).prefix(2000)
        var bytes = Data(good.prefix(upTo: good.lastIndex(of: 0x0A)! + 1))
        for i in 0..<8 { bytes += Data("garbage line \(i) \u{1B}]0;pwned\u{07}\n".utf8) }
        try bytes.write(to: log)
        let r = try CLI.run(["parse", log.path])
        XCTAssertEqual(r.status, 2, "done, but some lines unparsed")
        let warnings = r.stderr.split(separator: "\n")
        XCTAssertEqual(warnings.count, UnparsedLimit.shown + 1, r.stderr)
        XCTAssertTrue(warnings[0].hasPrefix("sftplog: \(log.path):"), r.stderr)
        XCTAssertTrue(warnings[0].contains(": unparsed: "), r.stderr)
        XCTAssertFalse(r.stderr.contains("\u{1B}"), "log bytes never reach the terminal raw")
        XCTAssertTrue(warnings.last!.contains("3 more unparsed lines (8 in all)"), r.stderr)
        let db = dir.appendingPathComponent("t.db").path
        let i = try CLI.run(["ingest", "--db", db, log.path])
        XCTAssertEqual(i.status, 2)
        XCTAssertTrue(i.stderr.contains(": unparsed: "), i.stderr)
        let clean = try CLI.run(["parse", Paths.sample("sftpplus/dev-ts-first-5.26.log")])
        XCTAssertEqual(clean.status, 0)
    }
}
