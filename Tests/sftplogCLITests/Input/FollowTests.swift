import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogStore

/// `--follow`: lines stored as they are appended, across a rename rotation,
/// and everything stored when the user presses Ctrl-C (SIGINT).
final class FollowTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    /// The real 5.26 sample's lines, with their terminators.
    func sampleLines() throws -> [Data] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-ts-first-5.26.log")))
        return data.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { Data($0) + Data([0x0A]) }
    }

    func append(_ lines: ArraySlice<Data>, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seekToEnd()
        for l in lines { try h.write(contentsOf: l) }
        try h.close()
    }

    func start(_ args: [String], stdout: FileHandle? = nil, stderr: FileHandle? = nil, env: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = args
        p.environment = CLI.environment(env)
        p.standardOutput = stdout ?? FileHandle.nullDevice
        p.standardError = stderr ?? FileHandle.nullDevice
        try p.run()
        return p
    }

    struct TimedOut: Error { var what: String }

    /// Polls `condition` for up to 20 s (slow CI machines); fails the test if it never holds.
    func eventually(_ what: String, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if (try? condition()) == true { return }
            usleep(100_000)
        }
        throw TimedOut(what: what)
    }

    func records(_ db: String, _ sql: String = "SELECT count(*) FROM records") throws -> Int {
        guard FileManager.default.fileExists(atPath: db) else { return -1 }
        return try LogStore.openForReading(db).queue.read { try Int.fetchOne($0, sql: sql) ?? -1 }
    }

    /// Following keeps only some terms in memory (here 64, with
    /// $SFTPLOG_FOLLOW_TERMS): 1,500 peer addresses and 37 components, then
    /// the first 500 addresses again, are stored as a plain ingest stores them.
    func testFollowingWithFewTermsInMemoryStoresWhatAnIngestStores() throws {
        func lines(_ r: Range<Int>) -> ArraySlice<Data> {
            ArraySlice(r.map { i in
                Data(("2026-12-01T10:\(String(format: "%02d:%02d", i / 60 % 60, i % 60)).000+00:00 30014 sftp-\(i % 37) Unknown " +
                      "2001:db8::\(String(i, radix: 16)):\(20000 + i) New SSH connection made.\n").utf8)
            })
        }
        let log = dir.appendingPathComponent("many-peers.log").path
        let db = dir.appendingPathComponent("follow.db").path
        try append(lines(0..<1500), to: log)
        let p = try start(["ingest", "--follow", "--db", db, log], env: ["SFTPLOG_FOLLOW_TERMS": "64"])
        defer { if p.isRunning { p.terminate() } }
        try eventually("the first 1,500 lines") { try records(db) == 1500 }
        try append(lines(0..<500), to: log)
        try eventually("the addresses met again") { try records(db) == 2000 }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)

        let plain = dir.appendingPathComponent("plain.db").path
        let r = try CLI.run(["ingest", "--quiet", "--db", plain, log])
        XCTAssertEqual(r.status, 0, r.stderr)
        let sql = "SELECT line, seq, kind, ts, event_id, component, account, peer_address, peer_port, message, raw FROM records ORDER BY line, seq"
        let a = try CLI.run(["query", "--db", db, "--format", "ndjson", sql]), b = try CLI.run(["query", "--db", plain, "--format", "ndjson", sql])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(a.stdout.split(separator: "\n").count, 2000)
        XCTAssertTrue(a.stdout == b.stdout, "the followed records differ from the ingested ones")
        XCTAssertEqual(try records(db, "SELECT count(*) FROM record_terms WHERE term LIKE '2001:db8::%'"), 1500)
    }

    func testIngestFollowStoresAppendedLinesAcrossRotationAndStopsCleanlyOnCtrlC() throws {
        let lines = try sampleLines()
        XCTAssertEqual(lines.count, 104)
        let log = dir.appendingPathComponent("server.log").path
        let db = dir.appendingPathComponent("follow.db").path
        try append(lines[0..<40], to: log)
        let p = try start(["ingest", "--follow", "--db", db, log])
        defer { if p.isRunning { p.terminate() } }

        try eventually("the first 40 lines") { try records(db) == 40 }
        try append(lines[40..<70], to: log)
        try eventually("lines appended while following") { try records(db) == 70 }

        // Rotation by rename: the old file is finished, the new one at the same path followed.
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        try append(lines[70..<104], to: log)
        try eventually("the rotated-in file") { try records(db) == 104 }
        XCTAssertEqual(try records(db, "SELECT count(*) FROM sources"), 2)

        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 0)
        let q = try LogStore.openForReading(db).queue
        try q.read { db in
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA integrity_check"), "ok")
            // Every line once, in order, the same as an ingest of the whole file at once.
            let stored = try Data.fetchAll(db, sql: "SELECT raw FROM records ORDER BY source_id, line")
            XCTAssertEqual(stored.map { $0 + Data([0x0A]) }, lines)
            // Sessions span the follow: connections opened before the rotation are closed after it in the same source.
            XCTAssertGreaterThan(try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions")!, 0)
        }

        // A later plain ingest of both files adds nothing: the content is already stored.
        let again = try CLI.run(["ingest", "--db", db, "--json", log + ".1", log])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try records(db), 104)
    }

    /// `--follow` of a directory also follows the logs that appear in it later.
    func testIngestFollowOfADirectoryStoresALogThatAppearsInIt() throws {
        let lines = try sampleLines()
        let logs = dir.appendingPathComponent("logs").path
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let db = dir.appendingPathComponent("follow.db").path
        try append(lines[0..<30], to: logs + "/node-a.log")
        // With --quiet, not even the new log is announced.
        let errPath = dir.appendingPathComponent("stderr.txt").path
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let p = try start(["ingest", "--follow", "--quiet", "--db", db, logs], stderr: err)
        defer { if p.isRunning { p.terminate() } }
        try eventually("the log there at the start") { try records(db) == 30 }
        try append(lines[30..<104], to: logs + "/node-b.log")
        try eventually("the log that appeared") { try records(db) == 104 }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(try records(db, "SELECT count(*) FROM sources WHERE name LIKE '%/node-b.log'"), 1)
        XCTAssertEqual(try String(contentsOfFile: errPath, encoding: .utf8), "")
    }

    /// A database kept in the directory it is fed from is not read as a log of
    /// itself, nor are SQLite's files beside it.
    func testADatabaseInsideTheDirectoryItReadsIsNotAnInput() throws {
        let logs = dir.appendingPathComponent("logs").path
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Paths.sample("sftpplus/dev-ts-first-5.26.log"), toPath: logs + "/server.log")
        for _ in 0..<2 {
            let r = try CLI.run(["ingest", "--db", logs + "/here.db", "--json", logs])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertFalse(r.stderr.contains("here.db"), r.stderr)
        }
        XCTAssertEqual(try records(logs + "/here.db"), 104)
        XCTAssertEqual(try records(logs + "/here.db", "SELECT count(*) FROM sources"), 1)
    }

    func testParseFollowPrintsRecordsAsLinesArrive() throws {
        let lines = try sampleLines()
        let log = dir.appendingPathComponent("server.log").path
        let outPath = dir.appendingPathComponent("out.ndjson").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        try append(lines[0..<10], to: log)
        let p = try start(["parse", "--follow", log], stdout: out)
        defer { if p.isRunning { p.terminate() } }
        func printed() throws -> [[String: Any]] { CLI.jsonLines(String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self)) }
        // The last line is printed once the file goes quiet, not only when the next line arrives.
        try eventually("the first 10 records") { try printed().count == 10 }
        try append(lines[10..<25], to: log)
        try eventually("appended records") { try printed().count == 25 }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let recs = try printed()
        XCTAssertEqual(recs.map { $0["line"] as? Int }, Array(1...25))
        XCTAssertEqual(recs[0]["event_id"] as? String, "30014")
    }
}
