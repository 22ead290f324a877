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

}
