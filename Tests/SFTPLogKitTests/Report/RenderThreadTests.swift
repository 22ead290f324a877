import Foundation
import XCTest
@testable import SFTPLogKit

/// Output rendered on a second thread must come out exactly as rendering in
/// line would have made it: same records, same order, nothing lost at the end.
final class RenderThreadTests: XCTestCase {
    func testItemsRenderInOrderAndCloseWaitsForTheLast() {
        final class Seen: @unchecked Sendable { var items: [Int] = []; var finished = false }
        let seen = Seen()
        let t = RenderThread<Int>(name: "test", capacity: 2, render: { n in
            if n % 97 == 0 { usleep(200) }  // a slow consumer: the producer must wait, not drop
            seen.items.append(n)
        }, finish: { seen.finished = true })
        for n in 0..<5000 { t.put(n) }
        t.close()
        XCTAssertEqual(seen.items, Array(0..<5000))
        XCTAssertTrue(seen.finished)
        t.close()  // a second close returns at once
    }

    func testParseOutputEqualsRecordsRenderedInLine() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // More records than a batch, plus a sample with unparsed lines and invalid UTF-8.
        let files = [try Harness.generatedLog(lines: 7000, seed: 3, in: dir),
                     Paths.sample("sftpplus/dev-ts-first-5.26.log"),
                     Paths.repo.appendingPathComponent("Tests/SFTPLogKitTests/Fixtures/hostile/invalid-utf8.log").path]
        var expected = JSONBytes()
        for f in files {
            for r in try Harness.parse(f) { RecordJSON.write(r, to: &expected) }
        }
        let r = try CLI.run(["parse", "--timezone", "UTC"] + files)
        XCTAssertTrue(r.status == 0 || r.status == 2, r.stderr)
        XCTAssertGreaterThan(expected.bytes.count, 1 << 20)
        XCTAssertEqual(r.stdoutBytes, Data(expected.bytes))
    }
}
