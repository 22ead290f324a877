import Foundation
import SFTPLogRecords
import SFTPLogSessions
import SFTPLogStore

/// `sessions` over sessions that were never stored, fed one at a time as a
/// streaming pass closes them: the same list as `sessions` on a database
/// holding them, in its order. Every selected session is held until the end
/// (the order needs them all), without its record places.
public struct SessionListing {
    public let filter: SessionFilter
    private var kept: [(key: SessionQuery.OrderKey, session: SessionTimeline)] = []
    /// With `render`: each selected session's output, made as it comes and set
    /// aside with its key (memory, then temporary files).
    private let render: ((SessionTimeline) -> [UInt8])?
    private var spill: OrderedSpill?
    /// The last file name's bytes, shared by the keys of its sessions.
    private var lastFile: [UInt8] = []

    /// `render`: what each session writes, when nothing the list holds later
    /// changes it (`writeRendered` writes it, in order); else `finish` gives the sessions.
    public init(filter: SessionFilter, render: ((SessionTimeline) -> [UInt8])? = nil, spillBound: Int = 16 << 20, keyBound: Int = 1 << 14) {
        self.filter = filter
        self.render = render
        if render != nil { spill = OrderedSpill(bound: spillBound, keyBound: keyBound) }
    }

    /// The session's place in the list when the filter selects it.
    @discardableResult
    public mutating func add(_ session: SessionTimeline) -> SessionQuery.OrderKey? {
        guard filter.matches(session) else { return nil }
        var s = SessionStore.storedForm(session)
        s.records = []
        var key = SessionQuery.OrderKey(s)
        key.shareFile(&lastFile)
        if let render, let spill {
            render(s).withUnsafeBufferPointer { spill.append(key: key.orderBytes, $0) }
        } else {
            kept.append((key, s))
        }
        return key
    }

    /// With `render`: each selected session's bytes in the database's order,
    /// `separator` between them, lent to `write`; how many there were.
    public mutating func writeRendered(separator: [UInt8] = [], _ write: (UnsafeBufferPointer<UInt8>) -> Void) throws -> Int {
        guard let spill else { return 0 }
        let n = spill.count
        try spill.read(separator: separator, write)
        return n
    }

    /// With `render`: each selected session's bytes in the database's order, one
    /// call each; how many there were.
    public mutating func forEachRendered(_ body: ([UInt8]) throws -> Void) throws -> Int {
        guard let spill else { return 0 }
        let n = spill.count
        try spill.forEachPiece { try body($0); return true }
        return n
    }

    /// The selected sessions in the database's order (none when rendered as they came).
    public mutating func finish() -> [SessionTimeline] {
        kept.sort { $0.key < $1.key }
        defer { kept = [] }
        return kept.map(\.session)
    }

    /// One session's object as `json` writes it (with its `timeline` when given),
    /// ended by a line break for `.lines`: what a listing renders as each session comes.
    public static func jsonPiece(_ s: SessionTimeline, framing: SessionExport.Framing, evidence: Bool,
                                 timeline: [(record: Record, duplicate: Bool)]? = nil) -> [UInt8] {
        var j = JSONBytes(capacity: 1024)
        j.value(SessionJSON.object(s, timeline: timeline, evidence: evidence))
        if framing == .lines { j.raw("\n") }
        return j.bytes
    }

    /// `sessions --json` (`.array`) or `--format ndjson` (`.lines`), as `SessionExport` frames it;
    /// with `timelines`, each session's `timeline` (`--timeline`).
    public static func json(_ sessions: [SessionTimeline], framing: SessionExport.Framing,
                            timelines: [SessionID: [(record: Record, duplicate: Bool)]]? = nil, evidence: Bool = false,
                            to sink: ([UInt8]) -> Void) {
        var j = JSONBytes(capacity: 1 << 16)
        if framing == .array { j.raw("[") }
        for (k, s) in sessions.enumerated() {
            if framing == .array, k > 0 { j.raw(",") }
            j.value(SessionJSON.object(s, timeline: timelines.map { $0[s.id] ?? [] }, evidence: evidence))
            if framing == .lines { j.raw("\n") }
            if j.bytes.count > 1 << 20 { sink(j.bytes); j.bytes.removeAll(keepingCapacity: true) }
        }
        if framing == .array { j.raw("]\n") }
        sink(j.bytes)
    }
}

extension SessionListing {
    /// What a timeline entry shows of a record (`--timeline`, a report's session
    /// detail), kept instead of the whole record: place, time, kind, event and
    /// wording, message.
    public static func timelineEntry(_ r: Record) -> Record {
        var e = Record(kind: r.kind, file: r.file, line: r.line, raw: [], rawIsUTF8: true)
        e.timestamp = r.timestamp
        e.eventID = r.eventID
        e.message = r.message ?? r.text
        if let res = r.resolution { e.resolution = EventResolution(status: res.status, variant: res.variant) }
        return e
    }
}

/// The sessions that come first in a list, with their timelines (the HTML
/// report details its first `--max-sessions`): a session is kept while it is
/// among the first `limit` seen so far, so memory holds at most `limit`
/// sessions and timelines whatever the input's size.
public struct FirstTimelines {
    public let limit: Int
    private var first: [(key: SessionQuery.OrderKey, session: SessionTimeline)] = []
    public private(set) var timelines: [SessionID: [(record: Record, duplicate: Bool)]] = [:]

    public init(limit: Int) { self.limit = limit }

    /// The sessions kept, in list order.
    public var sessions: [SessionTimeline] { first.map(\.session) }

    /// Offers a listed session (keyed as `SessionListing.add` keys it) and its records.
    public mutating func offer(_ s: SessionTimeline, key: SessionQuery.OrderKey, records: [(record: Record, duplicate: Bool)]) {
        guard limit > 0 else { return }
        if first.count == limit, let last = first.last, !(key < last.key) { return }
        var lo = 0, hi = first.count
        // After any equal keys, as a stable sort places a later one.
        while lo < hi { let mid = (lo + hi) / 2; if !(key < first[mid].key) { lo = mid + 1 } else { hi = mid } }
        first.insert((key, s), at: lo)
        timelines[s.id] = records.map { (SessionListing.timelineEntry($0.record), $0.duplicate) }
        if first.count > limit, let out = first.popLast() {
            if !first.contains(where: { $0.session.id == out.session.id }) { timelines[out.session.id] = nil }
        }
    }
}
