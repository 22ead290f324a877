import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords

/// Directories, globs and rotated names: files are read oldest content first.
final class InputExpansionTests: TemporaryDirectoryTestCase {
    func testDirectoryIsWalkedRecursivelyWithGlobInTimeOrder() throws {
        let (logs, _) = try RotatedSample.make(in: dir)
        let files = try InputExpansion.expand([logs.path], options: .init(glob: "server.log*"))
        XCTAssertEqual(files.map { String($0.dropFirst(logs.path.count + 1)) },
                       ["server.log.2", "old/server.log.2025-11-21-08-20-00", "server.log.1", "server.log"])
        // Without a glob every non-hidden file is read, still oldest first.
        let all = try InputExpansion.expand([logs.path])
        XCTAssertEqual(all.count, 5)
        XCTAssertFalse(all.contains { $0.hasSuffix(".swp") })
        // Naming a file twice (directly and through its directory) reads it once.
        XCTAssertEqual(try InputExpansion.expand([logs.path + "/server.log", logs.path], options: .init(glob: "server.log*")).count, 4)
    }

    /// The database being written, its companions and a spool folder inside a
    /// directory being read are not logs, however their paths are spelled.
    func testOwnFilesInADirectoryAreLeftOut() throws {
        let logs = dir.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs.appendingPathComponent("w.db.syslog"), withIntermediateDirectories: true)
        for name in ["server.log", "w.db", "w.db-wal", "w.db-shm", "w.db-lock", "w.db.syslog/syslog-udp-127.0.0.1-514.log", "other.db"] {
            try "2026-12-06 09:00:00 30014 sftp-1 Unknown 192.0.2.1:4000 New SSH connection made.\n"
                .write(to: logs.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        let db = logs.path + "/../logs/w.db"
        let own = ["", "-wal", "-shm", "-journal", "-lock"].map { db + $0 } + [logs.path + "/w.db.syslog"]
        let files = try InputExpansion.expand([logs.path], options: .init(excluding: own))
        XCTAssertEqual(files.map { ($0 as NSString).lastPathComponent }.sorted(), ["other.db", "server.log"])
        // Named directly, a file is read whatever it is.
        XCTAssertEqual(try InputExpansion.expand([logs.path + "/w.db"], options: .init(excluding: own)).count, 1)
    }

}
