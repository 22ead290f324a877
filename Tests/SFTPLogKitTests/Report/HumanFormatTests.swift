import XCTest
@testable import SFTPLogReport

/// Speeds and durations come from the log: whatever number it writes, a report
/// shows something and does not trap (a speed of 1e300 once crashed `report --format html`).
final class HumanFormatTests: XCTestCase {
    func testAnyNumberFormatsWithoutTrapping() {
        XCTAssertEqual(Human.rate(.infinity), "-")
        XCTAssertEqual(Human.rate(.nan), "-")
        XCTAssertEqual(Human.rate(-.infinity), "-")
        XCTAssertEqual(Human.rate(1e300), Human.bytes(.max) + "/s")
        XCTAssertEqual(Human.rate(-1e300), Human.bytes(.min) + "/s")
        XCTAssertEqual(Human.rate(2500), "2.5K/s")
        XCTAssertEqual(Human.duration(.nan), "-")
        XCTAssertEqual(Human.duration(.infinity), "-")
        XCTAssertEqual(Human.duration(1e300), Human.duration(Double(Int.max)))
        XCTAssertEqual(Human.duration(3725), "1h02m")
        XCTAssertEqual(Human.whole(0x1p63), .max)
        XCTAssertEqual(Human.whole(-0x1p63), .min)
        XCTAssertEqual(Human.whole(-12.7), -12)
    }
}
