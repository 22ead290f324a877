import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogOpenSSH
@testable import SFTPLogSessions

/// OpenSSH sessions are built while a transcript streams in: a run's session is
/// handed out when the next run begins, and only the open run's record places
/// are held (holding every record until the end grew with the file: 490 MB for
/// an 18 MB transcript).
final class OpenSSHStreamingSessionTests: XCTestCase {
    var dir: URL!
    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func testRunsAreHandedOutWhenTheNextBeginsAndMatchTheWholeFileFold() throws {
        let (path, runs) = try OpenSSHFixtures.concatenatedTranscripts(in: dir)
        let records = try OpenSSHFixtures.records(file: path)
        // Reference: the whole-file fold, each run given the records within its lines.
        let whole = OpenSSHSessionBuilder.sessions(from: records, file: path)
        XCTAssertEqual(whole.count, runs)
        let expected: [SessionTimeline] = whole.map { run in
            var s = OpenSSHSessions.timeline(run, file: path)
            s.sourceID = 7
            s.records = records.filter { $0.line >= run.firstLine && $0.line <= run.lastLine }.map { RecordRef(line: $0.line, seq: 0) }
            s.id = SessionIdentity.make(s)
            return s
        }

        var b = OpenSSHTimelineBuilder(file: path, sourceID: 7)
        var streamed: [SessionTimeline] = []
        var handedAt: [Int] = []
        var maxHeld = 0
        for (i, r) in records.enumerated() {
            b.add(r, seq: 0)
            maxHeld = max(maxHeld, b.heldPlaces)
            let closed = b.takeClosed()
            streamed += closed
            handedAt += Array(repeating: i, count: closed.count)
        }
        let rest = b.finish()
        XCTAssertEqual(rest.count, 1, "only the last run waits for the end")
        streamed += rest
        XCTAssertEqual(b.heldPlaces, 0)

        XCTAssertEqual(streamed.map(\.id), expected.map(\.id))
        XCTAssertEqual(streamed.map(\.records), expected.map(\.records))
        XCTAssertEqual(streamed.map { SessionJSON.object($0).json }, expected.map { SessionJSON.object($0).json })
        // Run k is handed out at the record that starts run k+1, never later.
        XCTAssertEqual(handedAt.count, runs - 1)
        for k in 0..<min(runs - 1, handedAt.count) {
            let next = expected[k + 1]
            XCTAssertEqual(records[handedAt[k]].line, next.firstLine, "run \(k)")
        }
        // Memory: never more places than the largest run's records, plus the one that closed it.
        let largest = expected.map(\.records.count).max()!
        XCTAssertLessThanOrEqual(maxHeld, largest + 1)
        XCTAssertLessThan(maxHeld, records.count / 3)
    }

}
