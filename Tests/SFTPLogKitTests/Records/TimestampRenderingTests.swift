import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords

/// The one-buffer renderings of timestamps must equal the piecewise ones they replaced.
final class TimestampRenderingTests: XCTestCase {
    func testISOEqualsPiecewiseRendering() {
        var rng = SplitMix64(seed: 7)
        func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        for _ in 0..<20_000 {
            let fraction = String(repeating: "7", count: pick(0...9))
            let offset: Int? = pick(0...2) == 0 ? nil : pick(-14 * 3600...14 * 3600) / 60 * 60
            let ts = LogTimestamp(year: pick(0...12000), month: pick(0...13), day: pick(0...32), hour: pick(0...24), minute: pick(0...60),
                                  second: pick(0...61), fraction: fraction, offsetSeconds: offset, zulu: offset == 0 && pick(0...1) == 1)
            XCTAssertEqual(ts.iso, ts.isoByPieces)
        }
        // Values outside the direct path still render.
        XCTAssertEqual(LogTimestamp(year: -5, month: 1, day: 1, hour: 0, minute: 0, second: 0).iso, "00-5-01-01T00:00:00")
        XCTAssertEqual(LogTimestamp(year: 2025, month: 3, day: 1, hour: 9, minute: 5, second: 7, fraction: "25", offsetSeconds: -(3 * 3600 + 1800)).iso,
                       "2025-03-01T09:05:07.25-03:30")
    }

    /// The stack-buffer renderings the report's session rows read back are the Strings' bytes,
    /// in and out of the range the buffers take (years past 9999 and before 0 are made by pieces).
    func testLentRenderingsAreTheStringsBytes() {
        var rng = SplitMix64(seed: 23)
        func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        var outside = 0
        for _ in 0..<20_000 {
            let fraction = String(repeating: "3", count: pick(0...19))
            let offset: Int? = pick(0...2) == 0 ? nil : pick(-14 * 3600...14 * 3600) / 60 * 60
            let ts = LogTimestamp(year: pick(-20...10_020), month: pick(0...13), day: pick(0...32), hour: pick(0...24), minute: pick(0...60),
                                  second: pick(0...61), fraction: fraction, offsetSeconds: offset, zulu: offset == 0 && pick(0...1) == 1)
            XCTAssertEqual(ts.withISO { String(decoding: $0, as: UTF8.self) }, ts.iso)
            let epoch = Double(pick(-70_000_000_000...260_000_000_000)) + Double(pick(0...999_999)) / 1e6
            let digits = pick(0...9)
            XCTAssertEqual(LogTimestamp.withUTCISO(epoch, fractionDigits: digits) { String(decoding: $0, as: UTF8.self) },
                           LogTimestamp.utcISO(epoch, fractionDigits: digits))
            if !(0...9999).contains(ts.year) || epoch < -62_167_219_200 || epoch >= 253_402_300_800 { outside += 1 }
        }
        XCTAssertGreaterThan(outside, 100)
    }

    func testUTCRenderingAgreesWithFoundation() {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        var rng = SplitMix64(seed: 11)
        for _ in 0..<5_000 {
            let millis = Int64(rng.next() % 253_402_300_799_000)  // 1970 … 9999
            let epoch = Double(millis) / 1000
            XCTAssertEqual(LogTimestamp.utcISO(epoch, fractionDigits: 3), f.string(from: Date(timeIntervalSince1970: epoch)), "\(millis)")
        }
        XCTAssertEqual(LogTimestamp.utcISO(1_762_000_000.5, fractionDigits: 0), "2025-11-01T12:26:40Z")
        XCTAssertEqual(LogTimestamp.utcISO(1_762_000_000.123456, fractionDigits: 6), "2025-11-01T12:26:40.123456Z")
    }

    func testFractionValueEqualsParsingTheDigits() {
        var rng = SplitMix64(seed: 5)
        for _ in 0..<50_000 {
            let digits = String((0..<Int(1 + rng.next() % 18)).map { _ in Character(String(rng.next() % 10)) })
            let ts = LogTimestamp(year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: digits)
            XCTAssertEqual(ts.fractionValue, Double("0." + digits)!, digits)
        }
        XCTAssertEqual(LogTimestamp(year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 0).fractionValue, 0)
    }

    func testFractionDigitsAreKeptAsWrittenLeadingZerosIncluded() {
        for digits in ["0", "098", "000", "5", "123456789", "0000000000000000001", "9999999999999999999"] {
            let ts = LogTimestamp(year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: digits)
            XCTAssertEqual(ts.fraction, digits)
            XCTAssertEqual(ts.fractionCount, digits.count)
            XCTAssertEqual(ts.iso, "2025-01-01T00:00:00." + digits)
        }
        // Equal only with the same digits: "5" and "50" are different writings.
        let a = LogTimestamp(year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: "5")
        let b = LogTimestamp(year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: "50")
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a, LogTimestamp(year: 2025, month: 1, day: 1, hour: 0, minute: 0, second: 0, fraction: "5"))
        // The scanner reads up to nine digits, as written.
        let line = Array("2025-11-01T00:00:00.000120+02:00 30014".utf8)
        let scanned = line.withUnsafeBufferPointer { TimestampScanner.iso($0, at: 0) }
        XCTAssertEqual(scanned?.0.fraction, "000120")
        XCTAssertEqual(scanned?.0.iso, "2025-11-01T00:00:00.000120+02:00")
        // Unix seconds written with more digits than a timestamp keeps: the first nineteen.
        let unix = TimestampScanner.unix("1762000000.12345678901234567890123")
        XCTAssertEqual(unix?.fraction, "1234567890123456789")
        XCTAssertEqual(TimestampScanner.unix("1762000000.25")?.iso, "2025-11-01T12:26:40.25Z")
    }
}
