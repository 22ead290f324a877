import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogStore

final class FuzzRegressionCommandTests: XCTestCase {
    /// Byte counts of 1e400, NaN or 20 digits left a session builder trapping on Int(_:).
    func testOutOfRangeTransferSizesDoNotCrashSessions() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("t.db").path
        let files = ["session-transfer-bytes-7e57.log", "session-transfer-bytes-out-of-range.log"]
            .map { Paths.fixture("hostile/fuzz-regressions/FuzzSFTPPlusText/\($0)") }
        let r = try CLI.run(["ingest", "--db", db] + files)
        XCTAssertEqual(r.status, 0, r.stderr)
        let ops = try LogStore.openForReading(db).queue.read { db in
            try Row.fetchAll(db, sql: "SELECT path, bytes FROM session_operations ORDER BY path")
        }
        XCTAssertTrue(ops.contains { ($0["path"] as String?) == "/a" })
        for op in ops where ["/a", "/b"].contains(op["path"] as String?) {
            XCTAssertNil(op["bytes"] as Int?, "a size that is not an integer is left empty, not trapped on")
        }
    }
}
