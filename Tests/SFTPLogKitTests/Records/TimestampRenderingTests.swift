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
    /// ISO stamps read at fixed places (the extended form) or field by field
    /// (the rest) give what their text says: each field, where the stamp ends,
    /// and nil for any byte out of place, on stamps and near-stamps of every shape.
    func testISOScanningReadsEveryFieldAndRefusesEveryMisfit() {
        var rng = SplitMix64(seed: 11)
        func pick(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var read = 0
        for _ in 0..<30_000 {
            let (y, mo, d, h, mi, sec) = (pick(1...9999), pick(0...13), pick(0...32), pick(0...24), pick(0...60), pick(0...61))
            let seps = [pick(0...9) == 0 ? "/" : "-", pick(0...9) == 0 ? "." : "-", ["T", " ", "t", "x"][pick(0...3)],
                        pick(0...9) == 0 ? "-" : ":", pick(0...9) == 0 ? "." : ":"]
            var digits = String(repeating: "0", count: 4 - String(y).count) + "\(y)" + two(mo) + two(d) + two(h) + two(mi) + two(sec)
            // Now and then a byte that is no digit, just below or above them.
            if pick(0...9) == 0 {
                var c = Array(digits.utf8)
                c[pick(0...13)] = [0x2F, 0x3A, 0x41, 0x20][pick(0...3)]
                digits = String(decoding: c, as: UTF8.self)
            }
            let c = Array(digits)
            var text = String(c[0..<4]) + seps[0] + String(c[4..<6]) + seps[1] + String(c[6..<8]) + seps[2]
            text += String(c[8..<10]) + seps[3] + String(c[10..<12]) + seps[4] + String(c[12..<14])
            let tail = ["", ".5", "+02:00", "Z", " 30014 x", ".123-05:30 y"][pick(0...5)]
            let bytes = Array((text + tail).utf8)
            let got = bytes.withUnsafeBufferPointer { TimestampScanner.iso($0, at: 0) }
            let wellFormed = digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber) && seps[0] == "-" && seps[1] == "-"
                && seps[2] != "x" && seps[3] == ":" && seps[4] == ":"
            let valid = LogTimestamp(year: y, month: mo, day: d, hour: h, minute: mi, second: sec).isValid
            guard wellFormed, valid else { XCTAssertNil(got, text + tail); continue }
            let (ts, end) = try! XCTUnwrap(got, text + tail)
            XCTAssertEqual([ts.year, ts.month, ts.day, ts.hour, ts.minute, ts.second], [y, mo, d, h, mi, sec], text + tail)
            let expectedEnd = 19 + ["": 0, ".5": 2, "+02:00": 6, "Z": 1, " 30014 x": 0, ".123-05:30 y": 10][tail]!
            XCTAssertEqual(end, expectedEnd, text + tail)
            read += 1
        }
        XCTAssertGreaterThan(read, 1000)
    }

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
