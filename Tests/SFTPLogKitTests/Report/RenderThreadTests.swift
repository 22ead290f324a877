import Foundation
import XCTest
import SFTPLogKit
@testable import SFTPLogRecords

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

}
