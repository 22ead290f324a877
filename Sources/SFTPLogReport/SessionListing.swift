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

    public init(filter: SessionFilter) { self.filter = filter }

    public mutating func add(_ session: SessionTimeline) {
        guard filter.matches(session) else { return }
        var s = SessionStore.storedForm(session)
        s.records = []
        kept.append((SessionQuery.OrderKey(s), s))
    }

    /// The selected sessions in the database's order.
    public mutating func finish() -> [SessionTimeline] {
        kept.sort { $0.key < $1.key }
        defer { kept = [] }
        return kept.map(\.session)
    }

    /// `sessions --json` (`.array`) or `--format ndjson` (`.lines`), as `SessionExport` frames it;
    /// with `timelines`, each session's `timeline` (`--timeline`).
    public static func json(_ sessions: [SessionTimeline], framing: SessionExport.Framing,
                            timelines: [SessionID: [(record: Record, duplicate: Bool)]]? = nil, to sink: ([UInt8]) -> Void) {
        var j = JSONBytes(capacity: 1 << 16)
        if framing == .array { j.raw("[") }
        for (k, s) in sessions.enumerated() {
            if framing == .array, k > 0 { j.raw(",") }
            j.value(SessionJSON.object(s, timeline: timelines.map { $0[s.id] ?? [] }))
            if framing == .lines { j.raw("\n") }
            if j.bytes.count > 1 << 20 { sink(j.bytes); j.bytes.removeAll(keepingCapacity: true) }
        }
        if framing == .array { j.raw("]\n") }
        sink(j.bytes)
    }
}

extension SessionListing {
    /// What a `--timeline` entry shows of a record, kept instead of the whole record.
    public static func timelineEntry(_ r: Record) -> Record {
        var e = Record(kind: r.kind, file: r.file, line: r.line, raw: [], rawIsUTF8: true)
        e.timestamp = r.timestamp
        e.eventID = r.eventID
        e.message = r.message ?? r.text
        return e
    }
}
