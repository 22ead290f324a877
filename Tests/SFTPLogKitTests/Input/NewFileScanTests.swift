import Foundation
import XCTest
import SFTPLogTestSupport
@testable import SFTPLogRecords

/// Logs that appear in a followed directory are new; what rotation leaves
/// behind (renamed, copied or compressed pieces) is not.
final class NewFileScanTests: TemporaryDirectoryTestCase {
    func write(_ name: String, _ text: String = "2026-12-06 09:00:00 30014 sftp-1 Unknown 192.0.2.1:4000 New SSH connection made.\n") throws -> String {
        let path = dir.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    func testOnlyLogsNewToTheDirectoryAreFound() throws {
        let live = try write("server.log")
        let old = try write("server.log.1", "older\n")
        var scan = NewFileScan(directories: [dir.path], options: .init(), following: try InputExpansion.expand([dir.path]))
        XCTAssertEqual(scan.newFiles(), [], "what was there at the start is followed already")

        let other = try write("other.log")
        let nested = try write("node-b/server.log")
        _ = try write(".hidden.log")
        XCTAssertEqual(Set(scan.newFiles()), [other, nested])
        XCTAssertEqual(scan.newFiles(), [], "found once")

        // Rotation by rename (logrotate's create mode): every name now holds a file already seen, or a followed path.
        XCTAssertEqual(rename(old, old.replacingOccurrences(of: ".1", with: ".2")), 0)
        XCTAssertEqual(rename(live, old), 0)
        _ = try write("server.log")
        XCTAssertEqual(scan.newFiles(), [])

        // copytruncate and compression make new files with old lines: rotated pieces of a followed live log.
        try FileManager.default.copyItem(atPath: live, toPath: live + ".2026-12-06-09-00-00")
        try FileManager.default.copyItem(atPath: live, toPath: live + ".3.gz")
        try FileManager.default.copyItem(atPath: other, toPath: dir.appendingPathComponent("other-20261206.log").path)
        XCTAssertEqual(scan.newFiles(), [])
    }

    func testDatedLogsWithoutALiveNameAreEachNew() throws {
        let first = try write("audit-20261205.log")
        var scan = NewFileScan(directories: [dir.path], options: .init(glob: "audit-*"), following: [first])
        let second = try write("audit-20261206.log")
        _ = try write("notes.txt")
        XCTAssertEqual(scan.newFiles(), [second], "no live audit.log is followed, so a dated one is a log of its own; the glob still applies")
    }

    func testARemovedFilesIdentityIsLetGo() throws {
        let a = try write("a.log")
        var scan = NewFileScan(directories: [dir.path], options: .init(), following: [a])
        try FileManager.default.removeItem(atPath: a)
        XCTAssertEqual(scan.newFiles(), [])
        // New, even when the system gives it the removed file's inode.
        let b = try write("b.log")
        XCTAssertEqual(scan.newFiles(), [b])
    }

    func testLiveNames() {
        for live in ["server.log", "/var/log/sftpplus/server.log", "node-2.log", "activity"] {
            XCTAssertTrue(NewFileScan.isLiveName(live), live)
        }
        for piece in ["server.log.1", "server.log.12.gz", "server.log.2025-03-11-15-34-00", "/x/server-20251101.log", "server.log.gz"] {
            XCTAssertFalse(NewFileScan.isLiveName(piece), piece)
        }
    }
}
