import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// The report's summary (text, Markdown, JSON) over the records and sessions
/// of a streaming pass: the same model `ReportModel.build` makes from a
/// database holding them. It tallies each selected session as it comes (what
/// the summary takes from the first session in list order kept by its key),
/// keeps the weak sessions without their operations (for text, only the ones
/// it shows; for JSON and Markdown, only their lines, set aside) and a count per
/// failure wording.
public struct ReportCollector {
    public let filter: SessionFilter
    let catalog: EventCatalog?
    /// The catalogue's wordings in a failure group (as the database's `groups LIKE '%"failure%'` selects them).
    private let failureWordings: Set<Wording>
    /// The summary's counts, made as sessions come (each placed by its key: what
    /// the summary takes from the first session in list order is kept by place).
    private var tally = SummaryTally()
    /// The last file name's bytes, shared by the keys of its sessions.
    private var lastFile: [UInt8] = []
    private var weak: [(key: SessionQuery.OrderKey, session: SessionTimeline)] = []
    private var failures: [Wording: (count: Int, example: [UInt8]?)] = [:]
    private var records = 0
    /// Whether each wording seen is a failure one, by its identity: hashing the
    /// ID's text for every record was a few percent of the pass.
    private var failureByWording: [ObjectIdentifier: Bool] = [:]

    struct Wording: Hashable, Comparable {
        var eventID: String, variant: Int
        /// The database's GROUP BY order: the ID's text byte by byte, then the variant.
        static func < (a: Wording, b: Wording) -> Bool {
            a.eventID != b.eventID ? a.eventID.utf8.lexicographicallyPrecedes(b.eventID.utf8) : a.variant < b.variant
        }
    }

    /// Keeps only the first `weakKept` weak sessions in list order (the text
    /// summary shows that many), so memory does not grow with the log.
    let weakKept: Int?
    private var weakNotKept = 0
    /// With `weakLine`: each weak session's line in the summary, made as it comes
    /// and set aside with its key (`writeWeakLines` writes them in list order).
    private let weakLines: (line: (SessionTimeline) -> [UInt8], spill: OrderedSpill)?

    /// `weakKept`: how many weak sessions to keep (the rest only counted); or
    /// `weakLine`: what each writes in the summary, the sessions not kept.
    public init(filter: SessionFilter, catalog: EventCatalog?, weakKept: Int? = nil, weakLine: ((SessionTimeline) -> [UInt8])? = nil,
                spillBound: Int = 4 << 20, keyBound: Int = 1 << 14) {
        self.filter = filter
        self.catalog = catalog
        self.weakKept = weakKept
        weakLines = weakLine.map { ($0, OrderedSpill(bound: spillBound, keyBound: keyBound)) }
        failureWordings = Set(ReportModel.failureVariants(catalog).compactMap { key -> Wording? in
            guard let hash = key.lastIndex(of: "#"), let v = Int(key[key.index(after: hash)...]) else { return nil }
            return Wording(eventID: String(key[..<hash]), variant: v)
        })
    }

    /// Every record of the pass, in input order.
    public mutating func add(record r: Record) {
        records += 1
        guard let id = r.eventID, let v = r.resolution?.variant else { return }
        let w = Wording(eventID: id, variant: v)
        let failure: Bool
        if let t = r.resolution?.wording {
            let key = ObjectIdentifier(t)
            if let known = failureByWording[key] {
                failure = known
            } else {
                failure = failureWordings.contains(w)
                failureByWording[key] = failure
            }
        } else {
            failure = failureWordings.contains(w)
        }
        guard failure else { return }
        // The example is the least message as SQLite's min() orders text: byte by byte.
        let message = r.message.map { Array($0.utf8) }
        var f = failures[w] ?? (0, nil)
        f.count += 1
        if let m = message, f.example.map({ m.lexicographicallyPrecedes($0) }) ?? true { f.example = m }
        failures[w] = f
    }

    public mutating func add(session: SessionTimeline) {
        guard filter.matches(session) else { return }
        let s = SessionStore.storedTimes(session)
        var key = SessionQuery.OrderKey(s)
        key.shareFile(&lastFile)
        tally.add(StoreReader.SessionSummaryRow(s), key: key)
        var weakFilter = filter
        weakFilter.weakOnly = true
        if weakFilter.matches(s) {
            if let weakLines {
                weakLines.spill.append(key: key.orderBytes, weakLines.line(s))
                weakNotKept += 1
                return
            }
            var kept = s
            kept.operations = []
            kept.records = []
            kept.details = []
            weak.append((key, kept))
            if let limit = weakKept, weak.count >= 2 * limit + 64 { keepFirstWeak(limit) }
        }
    }

    /// After `finish`, with `weakLine`: the weak sessions' lines in list order,
    /// `separator` between them, lent to `write`.
    public func writeWeakLines(separator: [UInt8], _ write: (UnsafeBufferPointer<UInt8>) -> Void) throws {
        try weakLines?.spill.read(separator: separator, write)
    }

    /// The first `limit` weak sessions in list order; the rest only counted.
    /// Stable, as `finish`'s sort: equal keys stay in the order they closed.
    private mutating func keepFirstWeak(_ limit: Int) {
        let order = weak.indices.sorted { weak[$0].key < weak[$1].key }
        guard order.count > limit else { return }
        weakNotKept += order.count - limit
        weak = order.prefix(limit).map { weak[$0] }
    }

    /// The summary, with the sources in the order they were read.
    public mutating func finish(sources: [(name: String, records: Int, versions: String?)]) -> ReportModel {
        var m = ReportModel.madeNow()
        m.sources = sources
        m.recordCount = records
        tally.fill(&m)
        tally = SummaryTally()
        // ORDER BY n DESC over groups made in (event_id, variant) order; the sort is stable.
        let counted = failures.sorted { $0.key < $1.key }.enumerated()
            .sorted { ($0.element.value.count, $1.offset) > ($1.element.value.count, $0.offset) }
            .prefix(10).map(\.element)
        m.failureEvents = counted.map { w, f in
            ReportModel.FailureEvent(eventID: w.eventID, meaning: catalog?.meaning(w.eventID, variant: w.variant) ?? "",
                                     count: f.count, example: f.example.map { String(decoding: $0, as: UTF8.self) } ?? "")
        }
        if let limit = weakKept { keepFirstWeak(limit) }
        m.weakSessions = weak.indices.sorted { weak[$0].key < weak[$1].key }.map { weak[$0].session }
        m.weakSessionsNotKept = weakNotKept
        weak = []
        return m
    }
}

extension ReportModel {
    /// `report --session ID` over a streaming pass: the sessions it found with
    /// that prefix (one, else an error as on a database) and the records kept for them.
    public static func session(_ id: String, from found: [SessionTimeline], timelines: [SessionID: [(record: Record, duplicate: Bool)]],
                               catalog: EventCatalog?, sources: [(name: String, records: Int, versions: String?)]) throws -> ReportModel {
        guard let s = found.first else { throw ReportError.noSuchSession(id) }
        if found.count > 1 { throw ReportError.ambiguousSession(id, found.map(\.id.rawValue)) }
        var m = ReportModel.madeNow()
        m.sources = sources
        m.recordCount = sources.reduce(0) { $0 + $1.records }
        m.sessions = found
        m.sessionCount = 1
        m.detail = sessionDetail(s, timeline: timelines[s.id] ?? [], failureVariants: failureVariants(catalog), catalog: catalog)
        m.detail?.evidence = evidenceLines(s, timeline: timelines[s.id] ?? [])
        return m
    }
}

extension ReportModel {
    /// The HTML summary over a streaming pass: the counts of `collector` (which
    /// saw the records and sessions) and the detail of the sessions `first` kept
    /// (the first `--max-sessions` in list order) from their records.
    public static func html(collector: inout ReportCollector, first: FirstTimelines, catalog: EventCatalog?,
                            sources: [(name: String, records: Int, versions: String?)]) -> (ReportModel, [SessionDetail]) {
        let m = collector.finish(sources: sources)
        let failures = failureVariants(catalog)
        let details = first.sessions.map { s in
            sessionDetail(s, timeline: first.timelines[s.id] ?? [], failureVariants: failures, catalog: catalog)
        }
        return (m, details)
    }
}
