import Foundation
import SFTPLogRecords
import SFTPLogSessions
import SFTPLogStore

/// What the HTML summary shows of every session: the counts on its cards, a
/// bar in the day charts and a row in the weak-cryptography table. Fed one
/// session at a time in any order, each with its place in the list as bytes
/// (`OrderKey.orderBytes`, or a counter for sessions already in order); bars and
/// rows are set aside as they come, so memory does not grow with the sessions.
public final class DrawnSessions {
    public private(set) var count = 0, notOK = 0, weakCount = 0
    let chart: DayChart
    let weakRows: OrderedSpill

    /// `spillBound` and `keyBound` as `OrderedSpill` takes them, for the bars and for the rows.
    public init(spillBound: Int = 4 << 20, keyBound: Int = 1 << 14) {
        chart = DayChart(spillBound: spillBound, keyBound: keyBound)
        weakRows = OrderedSpill(bound: spillBound, keyBound: keyBound)
    }

    /// The `i`th of sessions given in list order (its place as a counter's bytes).
    public func add(_ s: SessionTimeline, listed i: Int) {
        add(s, listKey: withUnsafeBytes(of: UInt64(i).bigEndian, Array.init))
    }

    public func add(_ s: SessionTimeline, listKey: [UInt8]) {
        count += 1
        if s.outcome != .ok { notOK += 1 }
        chart.add(s, listKey: listKey)
        if SessionFilter.isWeak(s) {
            weakCount += 1
            weakRows.append(key: listKey, HTMLReport.weakRow(s))
        }
    }
}

/// Sessions over the day, one chart per day for the first `days` days: a bar
/// per session from start to end, in start order, on lanes packed so that bars
/// never overlap; weak sessions outlined. Each bar's facts are set aside keyed
/// by its day, its start and its place in the list, and a day's bars are drawn
/// when all of them are known (the chart's height is its number of lanes).
final class DayChart {
    static let days = 7
    private let bars: OrderedSpill
    private let spillBound: Int
    /// The earliest day labels seen so far, at most `days`, in order: a later
    /// day's sessions are not drawn.
    private var earliest: [[UInt8]] = []

    init(spillBound: Int, keyBound: Int) {
        bars = OrderedSpill(bound: spillBound, keyBound: keyBound)
        self.spillBound = spillBound
    }

    func add(_ s: SessionTimeline, listKey: [UInt8]) {
        guard let start = s.start, let startEpoch = s.startEpoch else { return }
        let clock = Human.clock(start)
        let dayText = String(clock.prefix(10))
        let day = Array(dayText.utf8)
        if !earliest.contains(day) {
            if earliest.count == Self.days, let last = earliest.last, OrderedSpill.order(day, last) > 0 { return }
            earliest.insert(day, at: earliest.firstIndex { OrderedSpill.order(day, $0) < 0 } ?? earliest.count)
            if earliest.count > Self.days { earliest.removeLast() }
        }
        var key: [UInt8] = []
        SessionQuery.OrderKey.appendOrdered(day, to: &key)
        // The start as bytes in its numeric order (sign flipped; negatives inverted).
        let bits = (startEpoch == 0 ? 0 : startEpoch).bitPattern
        withUnsafeBytes(of: (bits >> 63 == 1 ? ~bits : bits | (1 << 63)).bigEndian) { key += $0 }
        key += listKey
        let weak = s.findings.contains { $0.rating.isWeak }
        let dayStart = LogTimestamp(year: start.year, month: start.month, day: start.day, hour: 0, minute: 0, second: 0,
                                    offsetSeconds: start.offsetSeconds, zulu: start.zulu).epoch(in: .current)
        let bar = Bar(day: dayText, dayStart: dayStart, zone: Human.zoneLabel(start), start: startEpoch, end: s.endEpoch ?? startEpoch,
                      weak: weak, colour: HTMLReport.colour(s.outcome),
                      label: "\(s.user ?? "-") @ \(s.peer?.address ?? "-") \(clock.suffix(8)) \(s.outcome.rawValue)\(weak ? " weak crypto" : "")")
        bars.append(key: key, bar.bytes)
    }

    /// What a bar is drawn from; the day's first bar (in start order) gives the
    /// day's start and zone label.
    struct Bar {
        var day: String, dayStart: Double, zone: String, start: Double, end: Double, weak: Bool, colour: String, label: String

        var bytes: [UInt8] {
            var o: [UInt8] = []
            for d in [dayStart, start, end] { withUnsafeBytes(of: d.bitPattern.littleEndian) { o += $0 } }
            o.append(weak ? 1 : 0)
            for t in [day, zone, colour, label] {
                withUnsafeBytes(of: UInt32(t.utf8.count).littleEndian) { o += $0 }
                o += t.utf8
            }
            return o
        }

        init(day: String, dayStart: Double, zone: String, start: Double, end: Double, weak: Bool, colour: String, label: String) {
            (self.day, self.dayStart, self.zone, self.start, self.end, self.weak, self.colour, self.label) = (day, dayStart, zone, start, end, weak, colour, label)
        }

        init(_ b: [UInt8]) {
            var at = 0
            func double() -> Double {
                defer { at += 8 }
                return Double(bitPattern: b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) }.littleEndian)
            }
            func text() -> String {
                let n = Int(b.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) }.littleEndian)
                defer { at += 4 + n }
                return String(decoding: b[(at + 4)..<(at + 4 + n)], as: UTF8.self)
            }
            dayStart = double(); start = double(); end = double()
            weak = b[at] == 1
            at += 1
            day = text(); zone = text(); colour = text(); label = text()
        }
    }

    /// The charts, lent to `write` in pieces (nothing without a timed session).
    /// A day's bars wait in a `TextSpill` until its lanes are counted.
    func write(_ write: (UnsafeBufferPointer<UInt8>) -> Void) throws {
        guard bars.count > 0 else { return }
        func out(_ text: String) { var t = text; t.withUTF8(write) }
        let dayBars = TextSpill(bound: spillBound)
        out("<h2>Sessions over the day</h2>\n")
        let width = 960.0, left = 30.0, laneH = 10.0, right = 30.0
        var day: (label: String, dayStart: Double, zone: String)?
        var lanes: [Double] = [], drawn = 0, shown = 0
        var svg = "", pieces: [Range<Int>] = []
        func endDay() throws {
            guard let d = day else { return }
            let height = 30 + Double(lanes.count) * laneH
            var axis = ""
            for hour in stride(from: 0, through: 24, by: 3) {
                let x = left + Double(hour) / 24 * (width - left - right)
                axis += String(format: "<line x1=\"%.1f\" y1=\"16\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"var(--line)\"/><text x=\"%.1f\" y=\"12\" text-anchor=\"middle\">%02d:00</text>\n",
                               x, x, height, x, hour)
            }
            out("<p class=\"muted\">\(HTMLReport.h(d.label)) (\(HTMLReport.h(d.zone))): \(drawn) sessions; green ok, red failed, grey incomplete, orange outline weak crypto.</p>\n")
            out("<div class=\"scroll\"><svg style=\"min-width:640px\" role=\"img\" aria-label=\"sessions on \(HTMLReport.h(d.label))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n\(axis)")
            try dayBars.read(pieces, write)
            out(svg)
            out("</svg></div>\n")
            shown += 1
            day = nil
        }
        try bars.forEachPiece { bytes in
            let bar = Bar(bytes)
            if bar.day != day?.label {
                try endDay()
                guard shown < Self.days else { return false }
                day = (bar.day, bar.dayStart, bar.zone)
                lanes = []; drawn = 0; svg = ""; pieces = []
            }
            let dayStart = day!.dayStart
            let x0 = left + (bar.start - dayStart) / 86400 * (width - left - right)
            let x1 = left + (bar.end - dayStart) / 86400 * (width - left - right)
            let lane = lanes.firstIndex { $0 < x0 - 1 } ?? { lanes.append(0); return lanes.count - 1 }()
            lanes[lane] = max(x1, x0 + 3)
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" fill=\"%@\"%@><title>%@</title></rect>\n",
                          x0, 24 + Double(lane) * laneH, max(3, x1 - x0), laneH - 2, bar.colour,
                          bar.weak ? " stroke=\"var(--warn)\" stroke-width=\"2\"" : "", HTMLReport.h(bar.label))
            drawn += 1
            if svg.utf8.count >= min(1 << 16, spillBound) { pieces.append(dayBars.append(svg)); svg = "" }
            return true
        }
        try endDay()
    }
}
