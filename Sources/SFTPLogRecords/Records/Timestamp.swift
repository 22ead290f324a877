import Foundation

/// A timestamp as a log wrote it: calendar fields, the fraction digits exactly as
/// written, and the offset only when the source gave one (never invented).
///
/// Plain data, without a reference: every record carries one and is copied on
/// its way to sessions, and copying one that held its fraction as a String (a
/// reference to count) was a twentieth of the parsing thread.
public struct LogTimestamp: Equatable, Sendable {
    public var year: Int, month: Int, day: Int
    public var hour: Int, minute: Int, second: Int
    /// The fraction digits as a number and how many were written ("098": 98 and 3).
    private var fractionNumber: UInt64
    private var fractionWidth: UInt8
    /// Offset from UTC in seconds; nil when the source wrote none.
    public var offsetSeconds: Int?
    /// The source wrote `Z` (kept so the rendering matches the source).
    public var zulu: Bool

    /// The most fraction digits kept (what a UInt64 holds): scanners read no more
    /// than nine; Unix seconds written with more are cut here.
    public static let maxFractionDigits = 19

    /// `fraction`: its leading ASCII digits, at most `maxFractionDigits` of them.
    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int,
                fraction: String = "", offsetSeconds: Int? = nil, zulu: Bool = false) {
        var n: UInt64 = 0, width: UInt8 = 0
        for c in fraction.utf8 {
            guard c >= 0x30, c <= 0x39, width < LogTimestamp.maxFractionDigits else { break }
            n = n * 10 + UInt64(c - 0x30)
            width += 1
        }
        self.init(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                  fractionNumber: n, fractionWidth: width, offsetSeconds: offsetSeconds, zulu: zulu)
    }

    /// Callers give at most `maxFractionDigits` digits (`fractionNumber` below 10^width).
    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int,
         fractionNumber: UInt64, fractionWidth: UInt8, offsetSeconds: Int?, zulu: Bool) {
        self.year = year; self.month = month; self.day = day
        self.hour = hour; self.minute = minute; self.second = second
        self.fractionNumber = fractionNumber; self.fractionWidth = fractionWidth
        self.offsetSeconds = offsetSeconds; self.zulu = zulu
    }

    /// Fraction digits as written ("511" for .511), empty when none.
    public var fraction: String {
        guard fractionWidth > 0 else { return "" }
        return String(unsafeUninitializedCapacity: fractionCount) { b in
            var i = 0
            LogTimestamp.digits(fractionNumber, fractionCount, b, &i)
            return i
        }
    }

    /// How many fraction digits were written.
    public var fractionCount: Int { Int(fractionWidth) }

    /// The fraction's digits read as a number, and how many there are ("098": 98, 3).
    package var fractionDigits: (number: UInt64, count: Int) { (fractionNumber, fractionCount) }

    /// Writes `v` as exactly `width` digits (callers check 0 <= v < 10^width).
    @inline(__always) static func digits<T: BinaryInteger>(_ v: T, _ width: Int, _ b: UnsafeMutableBufferPointer<UInt8>, _ i: inout Int) {
        var x = v, k = width
        while k > 0 { k -= 1; b[i + k] = UInt8(truncatingIfNeeded: x % 10) &+ 0x30; x /= 10 }
        i += width
    }

    /// `YYYY-MM-DDTHH:MM:SS` (callers check each value fits its digits).
    @inline(__always) static func dateTime(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, _ s: Int,
                                           _ b: UnsafeMutableBufferPointer<UInt8>, _ i: inout Int) {
        digits(y, 4, b, &i); b[i] = 0x2D; i += 1
        digits(mo, 2, b, &i); b[i] = 0x2D; i += 1
        digits(d, 2, b, &i); b[i] = 0x54; i += 1
        digits(h, 2, b, &i); b[i] = 0x3A; i += 1
        digits(mi, 2, b, &i); b[i] = 0x3A; i += 1
        digits(s, 2, b, &i)
    }

    /// ISO-8601 rendering with `T`, the source's precision and offset. Written into
    /// one buffer: concatenating padded pieces was a tenth of the ingest's parse thread.
    public var iso: String {
        guard fitsISOBuffer else { return isoByPieces }
        return String(unsafeUninitializedCapacity: 48) { writeISO(into: $0) }
    }

    /// `iso`'s bytes, lent to `body` from the stack (no String is made when they fit).
    package func withISO<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard fitsISOBuffer else { return LogTimestamp.lend(isoByPieces, body) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { b in
            body(UnsafeBufferPointer(rebasing: b[0..<writeISO(into: b)]))
        }
    }

    /// `iso`'s bytes written into `b` (48 bytes or more); nil when they do not fit
    /// (then `withISO`). Not generic: a hot caller in another module would pay
    /// for the generic `withISO`'s metadata lookups on every record.
    package func writeISO(to b: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard fitsISOBuffer, b.count >= 48 else { return nil }
        return writeISO(into: b)
    }

    static func lend<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var s = s
        return s.withUTF8(body)
    }

    /// Whether `writeISO` can write it: every field within its digits (48 bytes at most).
    private var fitsISOBuffer: Bool {
        (0...9999).contains(year) && (0...99).contains(month) && (0...99).contains(day) && (0...99).contains(hour)
            && (0...99).contains(minute) && (0...99).contains(second) && fractionCount <= 19
            && abs(offsetSeconds ?? 0) < 100 * 3600
    }

    private func writeISO(into b: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let fractionCount = self.fractionCount
        var i = 0
        LogTimestamp.dateTime(year, month, day, hour, minute, second, b, &i)
        if fractionCount > 0 {
            b[i] = 0x2E; i += 1
            LogTimestamp.digits(fractionNumber, fractionCount, b, &i)
        }
        if zulu { b[i] = 0x5A; i += 1 } else if let o = offsetSeconds {
            b[i] = o < 0 ? 0x2D : 0x2B; i += 1
            let a = abs(o)
            LogTimestamp.digits(a / 3600, 2, b, &i); b[i] = 0x3A; i += 1
            LogTimestamp.digits((a % 3600) / 60, 2, b, &i)
        }
        return i
    }

    /// The general rendering, for values outside what `iso` writes directly.
    var isoByPieces: String {
        var s = String(year).leftPadded(4) + "-" + String(month).leftPadded(2) + "-" + String(day).leftPadded(2)
        s += "T" + String(hour).leftPadded(2) + ":" + String(minute).leftPadded(2) + ":" + String(second).leftPadded(2)
        if fractionWidth > 0 { s += "." + fraction }
        if zulu { s += "Z" } else if let o = offsetSeconds { s += LogTimestamp.renderOffset(o) }
        return s
    }

    package static func renderOffset(_ o: Int) -> String {
        let sign = o < 0 ? "-" : "+"
        let a = abs(o)
        return sign + String(a / 3600).leftPadded(2) + ":" + String((a % 3600) / 60).leftPadded(2)
    }

    var fractionValue: Double {
        // Digits over a power of ten: both exact up to 15 digits, so the one rounding
        // of the division gives what parsing "0.ddd" gives, without making a String.
        guard fractionWidth > 0 else { return 0 }
        guard fractionWidth <= 15 else { return Double("0." + fraction) ?? 0 }
        return Double(fractionNumber) / LogTimestamp.powersOfTen[Int(fractionWidth)]
    }

    private static let powersOfTen: [Double] = (0...15).map { (0..<$0).reduce(1.0) { a, _ in a * 10 } }

    /// Seconds since the Unix epoch of the wall-clock fields read as UTC.
    package var wallEpoch: Double { wallEpoch(days: LogTimestamp.daysFromCivil(year, month, day)) }

    /// `wallEpoch` given `daysFromCivil` of its date (a caller reading stamps in
    /// order keeps the last date's).
    package func wallEpoch(days: Int) -> Double {
        Double(days * 86400 + hour * 3600 + minute * 60 + second) + fractionValue
    }

    /// The instant: the written offset wins; otherwise `zone` interprets the wall time.
    public func epoch(in zone: TimeZone) -> Double {
        if let o = offsetSeconds { return wallEpoch - Double(o) }
        let wall = wallEpoch
        // Two passes settle the zone offset around DST changes.
        var guess = wall - Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: wall)))
        guess = wall - Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: guess)))
        return guess
    }

    public var isValid: Bool {
        (1...9999).contains(year) && (1...12).contains(month) && day >= 1
            && day <= LogTimestamp.daysInMonth(year, month) && (0...23).contains(hour)
            && (0...59).contains(minute) && (0...60).contains(second)
            && (offsetSeconds.map { abs($0) <= 18 * 3600 } ?? true)
    }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    package static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// UTC ISO rendering of an epoch value, with milliseconds when there is a fraction.
    public static func utcISO(_ epoch: Double, fractionDigits: Int) -> String {
        let u = UTCFields(epoch, fractionDigits: fractionDigits)
        guard u.fitsBuffer else { return u.byPieces }
        return String(unsafeUninitializedCapacity: 32) { u.write(into: $0) }
    }

    /// `utcISO`'s bytes, lent to `body` from the stack (no String is made when they fit).
    package static func withUTCISO<R>(_ epoch: Double, fractionDigits: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let u = UTCFields(epoch, fractionDigits: fractionDigits)
        guard u.fitsBuffer else { return lend(u.byPieces, body) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { b in
            body(UnsafeBufferPointer(rebasing: b[0..<u.write(into: b)]))
        }
    }

    /// `utcISO`'s bytes written into `b` (32 bytes or more); nil when they do not
    /// fit (then `withUTCISO`). Not generic, as `writeISO(to:)`.
    package static func writeUTCISO(_ epoch: Double, fractionDigits: Int, to b: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        let u = UTCFields(epoch, fractionDigits: fractionDigits)
        guard u.fitsBuffer, b.count >= 32 else { return nil }
        return u.write(into: b)
    }

    /// An epoch value's UTC calendar fields, as `utcISO` writes them.
    private struct UTCFields {
        var y = 0, mo = 0, d = 0, rem = 0, fd = 0, scaled = 0

        init(_ epoch: Double, fractionDigits: Int) {
            let secs = epoch.rounded(.down)
            var frac = epoch - secs
            if frac < 0 { frac = 0 }
            var days = Int(secs / 86400)
            rem = Int(secs) - days * 86400
            if rem < 0 { rem += 86400; days -= 1 }
            (y, mo, d) = LogTimestamp.civilFromDays(days)
            fd = min(fractionDigits, 6)
            if fd > 0 {
                // The table's powers are pow()'s, exactly (both exact below 10^16).
                let scale = LogTimestamp.powersOfTen[fd]
                scaled = Int((frac * scale).rounded())
                if scaled >= Int(scale) { scaled -= 1 }
            }
        }

        var fitsBuffer: Bool { (0...9999).contains(y) }

        func write(into b: UnsafeMutableBufferPointer<UInt8>) -> Int {
            var i = 0
            LogTimestamp.dateTime(y, mo, d, rem / 3600, (rem % 3600) / 60, rem % 60, b, &i)
            if fd > 0 { b[i] = 0x2E; i += 1; LogTimestamp.digits(scaled, fd, b, &i) }
            b[i] = 0x5A
            return i + 1
        }

        var byPieces: String {
            var s = String(y).leftPadded(4) + "-" + String(mo).leftPadded(2) + "-" + String(d).leftPadded(2)
                + "T" + String(rem / 3600).leftPadded(2) + ":" + String((rem % 3600) / 60).leftPadded(2)
                + ":" + String(rem % 60).leftPadded(2)
            if fd > 0 { s += "." + String(scaled).leftPadded(fd) }
            return s + "Z"
        }
    }

    package static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

extension String {
    package func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }

    /// Exactly `width` characters: cut, or padded with spaces on the right (as
    /// Foundation's `padding(toLength:withPad:startingAt:)`, without the NSString bridge).
    package func fitted(_ width: Int) -> String {
        let n = count
        return n == width ? self : n > width ? String(prefix(width)) : self + String(repeating: " ", count: width - n)
    }
}

/// Byte-level timestamp parsing: no regex, no Foundation formatters.
public enum TimestampScanner {
    @inline(__always) static func digit(_ b: UInt8) -> Int? {
        b >= 0x30 && b <= 0x39 ? Int(b - 0x30) : nil
    }

    @inline(__always) static func number(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ n: Int) -> Int? {
        guard i + n <= p.count else { return nil }
        var v = 0
        for k in i..<i + n {
            let d = p[k] &- 0x30
            guard d < 10 else { return nil }
            v = v &* 10 &+ Int(d)  // at most 4 digits: cannot overflow
        }
        return v
    }

    /// Parses an ISO-8601 / CWA 14051 timestamp at `start`: `YYYY-MM-DD[T ]HH:MM:SS[.f][Z|±HH:MM|±HHMM|±HH]`
    /// and the basic form `YYYYMMDDTHHMMSS[.f][Z|±HHMM]`. Returns the timestamp and the index after it.
    public static func iso(_ p: UnsafeBufferPointer<UInt8>, at start: Int = 0) -> (LogTimestamp, Int)? {
        var i = start
        // The extended form's date and time, `YYYY-MM-DD?HH:MM:SS`, read at fixed
        // places (every line of most logs opens with one; field by field, with a
        // bounds check and an optional per digit, it was a tenth of reading a line).
        if start >= 0, start + 19 <= p.count, let q = p.baseAddress.map({ $0 + start }),
           q[4] == 0x2D, q[7] == 0x2D, q[13] == 0x3A, q[16] == 0x3A {
            @inline(__always) func two(_ k: Int) -> Bool { q[k] &- 0x30 < 10 && q[k + 1] &- 0x30 < 10 }
            if two(0) && two(2) && two(5) && two(8) && two(11) && two(14) && two(17) {
                @inline(__always) func value(_ k: Int) -> Int { Int(q[k] &- 0x30) &* 10 &+ Int(q[k + 1] &- 0x30) }
                let sep = q[10]
                guard sep == 0x54 || sep == 0x20 || sep == 0x74 else { return nil }  // T, space, t
                return isoRest(p, start + 19, year: value(0) &* 100 &+ value(2), month: value(5), day: value(8),
                               hour: value(11), minute: value(14), second: value(17))
            }
        }
        guard let y = number(p, i, 4) else { return nil }
        i += 4
        let basic: Bool
        var mo: Int, d: Int
        if i < p.count && p[i] == 0x2D {  // '-'
            basic = false
            guard let m1 = number(p, i + 1, 2), i + 3 < p.count, p[i + 3] == 0x2D, let d1 = number(p, i + 4, 2) else { return nil }
            mo = m1; d = d1; i += 6
        } else {
            basic = true
            guard let m1 = number(p, i, 2), let d1 = number(p, i + 2, 2) else { return nil }
            mo = m1; d = d1; i += 4
        }
        guard i < p.count, p[i] == 0x54 || p[i] == 0x20 || p[i] == 0x74 else { return nil }  // T, space, t
        if basic && p[i] == 0x20 { return nil }
        i += 1
        let h: Int, mi: Int, s: Int
        if basic {
            guard let h1 = number(p, i, 2), let m1 = number(p, i + 2, 2), let s1 = number(p, i + 4, 2) else { return nil }
            h = h1; mi = m1; s = s1; i += 6
        } else {
            guard let h1 = number(p, i, 2), i + 2 < p.count, p[i + 2] == 0x3A, let m1 = number(p, i + 3, 2),
                  i + 5 < p.count, p[i + 5] == 0x3A, let s1 = number(p, i + 6, 2) else { return nil }
            h = h1; mi = m1; s = s1; i += 8
        }
        return isoRest(p, i, year: y, month: mo, day: d, hour: h, minute: mi, second: s)
    }

    /// `iso` after the seconds at `i`: the fraction and the offset.
    @inline(__always)
    private static func isoRest(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, year y: Int, month mo: Int, day d: Int,
                                hour h: Int, minute mi: Int, second s: Int) -> (LogTimestamp, Int)? {
        var i = i
        var fraction: UInt64 = 0, fractionWidth: UInt8 = 0
        if i < p.count && (p[i] == 0x2E || p[i] == 0x2C) {  // . or ,
            var j = i + 1
            while j < p.count, let v = digit(p[j]), j - i <= 9 { fraction = fraction * 10 + UInt64(v); j += 1 }
            if j == i + 1 { return nil }
            fractionWidth = UInt8(j - i - 1)
            i = j
        }
        var offset: Int? = nil
        var zulu = false
        if i < p.count {
            if p[i] == 0x5A || p[i] == 0x7A { zulu = true; offset = 0; i += 1 }
            else if p[i] == 0x2B || p[i] == 0x2D {  // + or -
                let sign = p[i] == 0x2D ? -1 : 1
                if let oh = number(p, i + 1, 2) {
                    var om = 0
                    var j = i + 3
                    if j < p.count && p[j] == 0x3A, let m2 = number(p, j + 1, 2) { om = m2; j += 3 }
                    else if let m2 = number(p, j, 2) { om = m2; j += 2 }
                    // Only an offset if what follows is a boundary (not e.g. "-1234abc").
                    if j == p.count || p[j] == 0x20 || p[j] == 0x09 || p[j] == 0x2C || p[j] == 0x7C || p[j] == 0x5D {
                        offset = sign * (oh * 3600 + om * 60); i = j
                    }
                }
            }
        }
        let ts = LogTimestamp(year: y, month: mo, day: d, hour: h, minute: mi, second: s,
                              fractionNumber: fraction, fractionWidth: fractionWidth, offsetSeconds: offset, zulu: zulu)
        return ts.isValid ? (ts, i) : nil
    }

    /// Why an ISO-shaped timestamp at `start` is not a valid one (month 13, hour 25,
    /// year 0, …), for diagnostics; nil when there is no such timestamp there (or it is valid).
    public static func outOfRange(_ p: UnsafeBufferPointer<UInt8>, at start: Int) -> String? {
        guard start >= 0, start < p.count else { return nil }
        var i = start
        while i < p.count, digit(p[i]) != nil { i += 1 }
        let yearDigits = i - start
        // `99999-01-01T…`: a year of five or more digits.
        if yearDigits > 4, i < p.count, p[i] == 0x2D, number(p, i + 1, 2) != nil {
            return "year \(String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)) has more than 4 digits"
        }
        guard yearDigits == 4, let y = number(p, start, 4), i + 15 <= p.count, p[i] == 0x2D,
              let mo = number(p, i + 1, 2), p[i + 3] == 0x2D, let d = number(p, i + 4, 2),
              p[i + 6] == 0x54 || p[i + 6] == 0x20, let h = number(p, i + 7, 2), p[i + 9] == 0x3A,
              let mi = number(p, i + 10, 2), p[i + 12] == 0x3A, let s = number(p, i + 13, 2) else { return nil }
        var problems: [String] = []
        if !(1...9999).contains(y) { problems.append("year \(y)") }
        if !(1...12).contains(mo) { problems.append("month \(mo)") }
        else if d < 1 || d > LogTimestamp.daysInMonth(max(y, 1), mo) { problems.append("day \(d)") }
        if h > 23 { problems.append("hour \(h)") }
        if mi > 59 { problems.append("minute \(mi)") }
        if s > 60 { problems.append("second \(s)") }
        var j = i + 15
        if j < p.count, p[j] == 0x2E || p[j] == 0x2C { j += 1; while j < p.count, digit(p[j]) != nil { j += 1 } }
        if j < p.count, p[j] == 0x2B || p[j] == 0x2D, let oh = number(p, j + 1, 2), oh > 18 { problems.append("UTC offset \(oh) hours") }
        guard !problems.isEmpty else { return nil }
        let text = String(decoding: UnsafeBufferPointer(rebasing: p[start..<min(p.count, start + 35)]).prefix { $0 != 0x20 }, as: UTF8.self)
        return "timestamp \(text) is out of range (" + problems.joined(separator: ", ") + ")"
    }

    static let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// RFC 3164 `Mmm dd HH:MM:SS` (day may be space-padded). Year comes from the caller.
    public static func bsd(_ p: UnsafeBufferPointer<UInt8>, at start: Int, year: Int) -> (LogTimestamp, Int)? {
        guard start + 15 <= p.count else { return nil }
        var month = 0
        for (k, m) in months.enumerated() where p[start] == m[0] && p[start + 1] == m[1] && p[start + 2] == m[2] {
            month = k + 1
        }
        guard month > 0, p[start + 3] == 0x20 else { return nil }
        let d: Int
        if p[start + 4] == 0x20, let d1 = digit(p[start + 5]) { d = d1 }
        else if let d2 = number(p, start + 4, 2) { d = d2 } else { return nil }
        guard p[start + 6] == 0x20, let h = number(p, start + 7, 2), p[start + 9] == 0x3A,
              let mi = number(p, start + 10, 2), p[start + 12] == 0x3A, let s = number(p, start + 13, 2) else { return nil }
        let ts = LogTimestamp(year: year, month: month, day: d, hour: h, minute: mi, second: s)
        return ts.isValid ? (ts, start + 15) : nil
    }

    /// Unix seconds with an optional fraction (`timestamp.timestamp`), rendered as UTC.
    public static func unix(_ text: String) -> LogTimestamp? {
        guard let v = Double(text), v.isFinite, v > -62135596800, v < 253402300800 else { return nil }
        let whole = v.rounded(.down)
        var days = Int(whole / 86400)
        var rem = Int(whole) - days * 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let (y, m, d) = LogTimestamp.civilFromDays(days)
        var frac = ""
        if let dot = text.firstIndex(of: ".") {
            frac = String(text[text.index(after: dot)...].prefix(while: { $0.isASCII && $0.isNumber }))
        }
        return LogTimestamp(year: y, month: m, day: d, hour: rem / 3600, minute: (rem % 3600) / 60,
                            second: rem % 60, fraction: frac, offsetSeconds: 0, zulu: true)
    }
}
