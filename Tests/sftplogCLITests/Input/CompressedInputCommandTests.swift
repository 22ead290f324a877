import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogStore

/// Compressed inputs through the command line: parse, ingest and stdin.
final class CompressedInputCommandTests: TemporaryDirectoryTestCase {
    let sample = Paths.sample("sftpplus/dev-ts-first-5.26.log")
    let transcript = Paths.sample("openssh/sftp-vvv-default-ls-get.log")

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func bytes(_ p: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: p))) }

    /// `sftplog parse` prints the same NDJSON for a compressed file as for the
    /// plain one, whatever the compressed file is called (here: no suffix at all).
    func testParseOutputIsIdenticalToTheUncompressedFile() throws {
        for input in [sample, transcript] {
            let plainDir = dir.appendingPathComponent("plain-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: plainDir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: input, toPath: plainDir.appendingPathComponent("server.log").path)
            let expected = try CLI.run(["parse", "server.log"], cwd: plainDir)
            XCTAssertEqual(expected.status, 0, expected.stderr)
            XCTAssertGreaterThan(expected.stdout.count, 1000)
            for c in Compression.allCases {
                let d = dir.appendingPathComponent("\(c.rawValue)-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
                try Shell.compress(input, with: c.rawValue, to: d.appendingPathComponent("server.log").path)
                let r = try CLI.run(["parse", "server.log"], cwd: d)
                XCTAssertEqual(r.status, 0, r.stderr)
                XCTAssertEqual(r.stdout, expected.stdout, "\(c.rawValue) of \(input)")
            }
        }
    }

    func testCompressedStandardInput() throws {
        let expected = try CLI.run(["parse", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: sample)))
        XCTAssertEqual(expected.status, 0, expected.stderr)
        for c in Compression.allCases {
            let p = path("stdin.\(c.rawValue)")
            try Shell.compress(sample, with: c.rawValue, to: p)
            let r = try CLI.run(["parse", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: p)))
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(r.stdout, expected.stdout, c.rawValue)
        }
    }

    func testTruncatedGzipGivesOneClearErrorAndKeepsEarlierRecords() throws {
        let full = path("server.log.1.gz"), cut = path("server.log.2.gz")
        try Shell.compress(sample, with: "gzip", to: full)
        let compressed = try bytes(full)
        try Data(compressed.prefix(compressed.count / 2)).write(to: URL(fileURLWithPath: cut))

        let parsed = try CLI.run(["parse", cut])
        XCTAssertEqual(parsed.status, 1)
        let err = parsed.stderr.split(separator: "\n")
        XCTAssertEqual(err.count, 1, parsed.stderr)
        XCTAssertTrue(err.first?.hasPrefix("sftplog: \(cut): gzip data is truncated") == true, parsed.stderr)
        let printed = CLI.jsonLines(parsed.stdout)
        XCTAssertGreaterThan(printed.count, 0, "records before the cut are printed")
        XCTAssertLessThan(printed.count, 104)

        // Ingest stores what was read and says the input was cut; the whole file later resumes it.
        let db = path("test.db")
        let first = try CLI.run(["ingest", "--db", db, cut])
        XCTAssertEqual(first.status, 1)
        XCTAssertTrue(first.stderr.contains("sftplog: \(cut): gzip data is truncated"), first.stderr)
        let q = try LogStore.openForReading(db).queue
        let stored = try q.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM records")! }
        XCTAssertGreaterThan(stored, 0)
        XCTAssertLessThanOrEqual(stored, printed.count)
        let second = try CLI.run(["ingest", "--db", db, "--json", full])
        XCTAssertEqual(second.status, 0, second.stderr)
        try q.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM records"), 104)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM sources"), 1)
        }
    }

    /// Identity is the decompressed content: a rotated file compressed later is already stored.
    func testRotatedThenCompressedIsAlreadyStored() throws {
        let db = path("test.db")
        let rotated = path("server.log.1")
        try FileManager.default.copyItem(atPath: sample, toPath: rotated)
        let first = try CLI.run(["ingest", "--db", db, "--json", rotated])
        XCTAssertEqual(first.status, 0, first.stderr)
        try Shell.run("gzip '\(rotated)'")  // logrotate's compress: server.log.1 becomes server.log.1.gz
        XCTAssertFalse(FileManager.default.fileExists(atPath: rotated))
        let second = try CLI.run(["ingest", "--db", db, "--json", rotated + ".gz"])
        XCTAssertEqual(second.status, 0, second.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(summary["records"] as? Int, 0)
        let inputs = summary["inputs"] as! [[String: Any]]
        XCTAssertEqual(inputs.first?["already_stored"] as? Bool, true)
        // And the other way round: compressed first, then the plain file.
        let db2 = path("test2.db")
        XCTAssertEqual(try CLI.run(["ingest", "--db", db2, rotated + ".gz"]).status, 0)
        let plain = try CLI.run(["ingest", "--db", db2, "--json", sample])
        let s2 = try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((s2["inputs"] as! [[String: Any]]).first?["already_stored"] as? Bool, true)
        let q = try LogStore.openForReading(db2).queue
        try q.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM records"), 104)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM sources"), 1)
        }
    }
}
