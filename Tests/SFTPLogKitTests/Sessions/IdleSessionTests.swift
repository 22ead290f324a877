import XCTest
import SFTPLogKit
import SFTPLogTestSupport

final class IdleSessionTests: XCTestCase {
    /// A session whose close never comes is ended once its log has gone on an hour without it.
    func testEndIdleEndsOnlySessionsQuietBeforeTheCutoff() throws {
        _ = Harness.catalog
        var log = ServerLog()
        log.add(0, "30014", "Unknown", "10.7.0.1:1000", "New SSH connection made.")       // never closed
        log.add(10, "30014", "Unknown", "10.7.0.2:2000", "New SSH connection made.")
        log.add(7200, "30014", "Unknown", "10.7.0.3:3000", "New SSH connection made.")    // two hours on
        log.add(7201, "30015", "Unknown", "10.7.0.1:1000", "SSH connection closed from \"SSH-2.0-X\".")
        let records = try Harness.parse(text: log.text)
        let b = SFTPPlusSessionBuilder(rules: try SessionRules.bundled(), file: "f", sourceID: 1, timeZone: TimeZone(identifier: "UTC")!)
        for r in records.prefix(3) { b.add(r) }
        let t = try XCTUnwrap(records[2].timestamp).epoch(in: TimeZone(identifier: "UTC")!)
        b.endIdle(before: t - 3600)
        let ended = b.takeClosed(keepingLast: 0)
        XCTAssertEqual(ended.map { $0.peer?.address }, ["10.7.0.1", "10.7.0.2"])
        XCTAssertEqual(ended.map(\.outcome), [.incomplete, .incomplete])
        XCTAssertEqual(ended.map(\.closed), [false, false])
        // The late close starts a session of its own (begun before what is held), as after a rotation.
        b.add(records[3])
        let rest = b.finish()
        XCTAssertEqual(rest.map { $0.peer?.address }, ["10.7.0.3", "10.7.0.1"])
        XCTAssertTrue(rest[1].details.contains { $0.0 == "started_before_log" })
    }
}
