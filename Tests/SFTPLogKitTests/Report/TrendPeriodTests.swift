import Foundation
import XCTest
@testable import SFTPLogReport

/// Periods of `report --trend`, against Foundation's ISO 8601 calendar.
final class TrendPeriodTests: XCTestCase {
    func testEveryDayFrom1999To2032FallsInFoundationsISOWeekAndMonth() throws {
        var iso = Calendar(identifier: .iso8601)
        iso.timeZone = TimeZone(identifier: "UTC")!
        var day = iso.date(from: DateComponents(year: 1999, month: 1, day: 1))!
        let end = iso.date(from: DateComponents(year: 2033, month: 1, day: 1))!
        var checked = 0
        while day < end {
            let c = iso.dateComponents([.year, .month, .day, .yearForWeekOfYear, .weekOfYear, .weekday], from: day)
            let text = TrendPeriod.dayText(c.year!, c.month!, c.day!)
            let week = try XCTUnwrap(TrendPeriod.week.period(ofDay: Substring(text)))
            XCTAssertEqual(week.label, String(format: "%04d-W%02d", c.yearForWeekOfYear!, c.weekOfYear!), text)
            // The week's first day is its Monday (weekday 2 in Foundation).
            let back = (c.weekday! + 5) % 7
            let monday = iso.dateComponents([.year, .month, .day], from: iso.date(byAdding: .day, value: -back, to: day)!)
            XCTAssertEqual(week.first, TrendPeriod.dayText(monday.year!, monday.month!, monday.day!), text)
            XCTAssertEqual(TrendPeriod.month.period(ofDay: Substring(text))?.label, String(text.prefix(7)))
            XCTAssertEqual(TrendPeriod.day.next(after: text), {
                let n = iso.dateComponents([.year, .month, .day], from: iso.date(byAdding: .day, value: 1, to: day)!)
                return TrendPeriod.dayText(n.year!, n.month!, n.day!)
            }())
            day = iso.date(byAdding: .day, value: 1, to: day)!
            checked += 1
        }
        XCTAssertEqual(checked, 12_419)
    }

    func testStepsGoFromPeriodToPeriod() {
        XCTAssertEqual(TrendPeriod.week.next(after: "2026-12-28"), "2027-01-04")
        XCTAssertEqual(TrendPeriod.week.period(ofDay: "2027-01-03")?.label, "2026-W53")
        XCTAssertEqual(TrendPeriod.month.next(after: "2026-12-01"), "2027-01-01")
        XCTAssertEqual(TrendPeriod.day.next(after: "2028-02-28"), "2028-02-29")
        XCTAssertNil(TrendPeriod.day.period(ofDay: "2026-13-01"))
        XCTAssertNil(TrendPeriod.week.period(ofDay: "not a day"))
    }
}
