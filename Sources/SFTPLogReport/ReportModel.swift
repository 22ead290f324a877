import Foundation
import Synchronization
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// Everything a report shows, computed once from the store; renderers only format.
public struct ReportModel: Sendable {
    public struct Count: Sendable { public var key: String; public var count: Int; public var extra: [String: Int] = [:] }
    public struct BruteForce: Sendable { public var address: String; public var failures: Int; public var users: [String]; public var first: String; public var last: String; public var windowSeconds: Double }
    public struct FailureEvent: Sendable { public var eventID: String; public var meaning: String; public var count: Int; public var example: String }
    public struct TimelineEntry: Sendable {
        public var offset: Double?
        public var ts: LogTimestamp?
        public var line: Int
        public var eventID: String?
        public var kind: String
        public var meaning: String?
        public var message: String
        public var failure: Bool
        public var duplicate: Bool
    }
    public struct SessionDetail: Sendable {
        public var session: SessionTimeline
        public var timeline: [TimelineEntry]
        public var failures: [TimelineEntry]
        /// The records the session's facts came from, a line each (`report --session`).
        public var evidence: [EvidenceLine] = []
    }
    /// One record that facts came from: which facts, where, and its text.
    public struct EvidenceLine: Sendable {
        public var facts: [String]
        /// Nil when it is the session's own file.
        public var file: String?
        public var line: Int
        public var recordID: Int64?
        public var offset: Int64?
        /// The record's bytes as written (nil when the record was not found).
        public var text: String?
    }

    public var generatedAt: String
    /// Every selected session: read for HTML reports and single-session reports;
    /// a text, Markdown or JSON summary is computed in SQL and leaves this empty.
    public var sessions: [SessionTimeline] = []
    public var sessionCount = 0
    /// The first session's start and the last session's end, as the log wrote them,
    /// and the timestamp whose zone labels them.
    public var span: (first: LogTimestamp, last: LogTimestamp, zone: LogTimestamp?)?
    public var sources: [(name: String, records: Int, versions: String?)] = []
    public var recordCount = 0
    public var perUser: [Count] = []
    public var perPeer: [Count] = []
    public var bruteForce: [BruteForce] = []
    public var failedLoginsPerPeer: [Count] = []
    public var bytesPerUser: [Count] = []
    public var busiestHours: [Count] = []
    public var failureEvents: [FailureEvent] = []
    public var weakSessions: [SessionTimeline] = []
    /// Weak sessions counted but not in `weakSessions` (a text summary from files
    /// keeps only the ones it shows).
    public var weakSessionsNotKept = 0
    public var clientSoftware: [Count] = []
    public var detail: SessionDetail?

    /// How many weak sessions the text summary lists.
    public static let weakSessionsShown = 20
    /// Brute-force heuristic: at least `threshold` failed logins from one address within `window` seconds.
    public static let bruteForceThreshold = 5
    public static let bruteForceWindow = 600.0

    /// `withOperations: false` is the summary (text, Markdown, JSON): computed with
    /// SQL over the sessions table, reading whole sessions only for the weak ones and
    /// the failed logins (reading all 63k sessions of a busy day took 2 s). `true`
    /// summarises every session loaded whole: tests hold the SQL to it.
    public static func build(_ db: StoreReader, filter: SessionFilter, catalog: EventCatalog?, sessionID: String? = nil,
                             withOperations: Bool = true) throws -> ReportModel {
        var f = filter
        f.sessionID = sessionID
        var m = try ReportModel.withSources(db)
        if sessionID == nil && !withOperations {
            try m.tallyInStore(db, filter: f)
            try m.addFlagged(db, filter: f, catalog: catalog)
            return m
        }
        m.sessions = try db.sessions(f, withOperations: withOperations || sessionID != nil)
        m.sessionCount = m.sessions.count
        if let id = sessionID {
            guard let s = m.sessions.first else { throw ReportError.noSuchSession(id) }
            if m.sessions.count > 1 { throw ReportError.ambiguousSession(id, m.sessions.map(\.id.rawValue)) }
            var withLinks = s
            withLinks.evidence = try db.evidence([s.id])[s.id] ?? []
            m.detail = try sessionDetail(db, withLinks, catalog: catalog)
            var lines = evidenceLines(withLinks, timeline: try db.timeline(s))
            // The lines as written (the timeline's records carry their message only).
            let raw = try db.rawRecords(lines.compactMap(\.recordID))
            for k in lines.indices { if let id = lines[k].recordID, let b = raw[id] { lines[k].text = String(decoding: b, as: UTF8.self) } }
            m.detail?.evidence = lines
            return m
        }
        m.summarise(catalog: catalog, db: db)
        return m
    }

    public static func sessionDetail(_ db: StoreReader, _ s: SessionTimeline, catalog: EventCatalog?) throws -> SessionDetail {
        sessionDetail(s, timeline: try db.timeline(s), failureVariants: try db.failureVariants(), catalog: catalog)
    }

    /// The catalogue's wordings in a failure group, as "id#variant" (what the
    /// database's `catalog_variants.groups LIKE '%"failure%'` selects).
    public static func failureVariants(_ catalog: EventCatalog?) -> Set<String> {
        var out = Set<String>()
        for e in catalog?.events.values ?? [:].values {
            for t in e.variants where t.groups.contains(where: { $0.lowercased().hasPrefix("failure") }) { out.insert("\(e.id)#\(t.variant)") }
        }
        return out
    }

    /// A session's detail from its records in log order (`duplicate`: shown by another session too).
    public static func sessionDetail(_ s: SessionTimeline, timeline: [(record: Record, duplicate: Bool)], failureVariants groupsByVariant: Set<String>,
                                     catalog: EventCatalog?) -> SessionDetail {
        var entries: [TimelineEntry] = []
        for (r, dup) in timeline {
            let epoch = r.timestamp?.epoch(in: .current)
            let startEpoch = s.start?.epoch(in: .current)
            let failure = r.eventID.map { groupsByVariant.contains("\($0)#\(r.resolution?.variant ?? 0)") } ?? false
                || r.kind.rawValue == "openssh.error"
            entries.append(TimelineEntry(offset: epoch.flatMap { e in startEpoch.map { e - $0 } }, ts: r.timestamp, line: r.line,
                                         eventID: r.eventID, kind: r.kind.rawValue,
                                         meaning: r.eventID.flatMap { catalog?.meaning($0, variant: r.resolution?.variant) },
                                         message: r.message ?? r.text ?? "", failure: failure, duplicate: dup))
        }
        return SessionDetail(session: s, timeline: entries, failures: entries.filter { $0.failure && !$0.duplicate })
    }

    /// The session's evidence links as lines: a line per record, with every
    /// fact it showed, in the order the facts were first seen.
    public static func evidenceLines(_ s: SessionTimeline, timeline: [(record: Record, duplicate: Bool)]) -> [EvidenceLine] {
        var out: [EvidenceLine] = []
        var at: [String: Int] = [:]
        var records: [String: Record] = [:]
        for (r, _) in timeline { records["\(r.file)|\(r.line)"] = records["\(r.file)|\(r.line)"] ?? r }
        for l in s.evidence {
            let file = l.file ?? s.file
            let key = "\(file)|\(l.line)|\(l.seq)"
            let fact = l.fact == .operation ? "operations[\(l.item)]" : l.fact.rawValue
            if let k = at[key] {
                if !out[k].facts.contains(fact) { out[k].facts.append(fact) }
                continue
            }
            at[key] = out.count
            let r = records["\(file)|\(l.line)"]
            let text = r.map { r in r.raw.isEmpty ? (r.message ?? r.text ?? "") : String(decoding: r.raw, as: UTF8.self) }
            out.append(EvidenceLine(facts: [fact], file: file == s.file ? nil : file, line: l.line, recordID: l.recordID, offset: l.offset, text: text))
        }
        return out
    }

    static func counted(_ c: [String: Int]) -> [Count] {
        c.map { Count(key: $0.key, count: $0.value) }.sorted { ($0.count, $1.key) > ($1.count, $0.key) }
    }

    static func bytesPerUser(_ perUser: [Count]) -> [Count] {
        perUser.filter { ($0.extra["up"] ?? 0) + ($0.extra["down"] ?? 0) > 0 }
            .sorted { ($0.extra["up"] ?? 0) + ($0.extra["down"] ?? 0) > ($1.extra["up"] ?? 0) + ($1.extra["down"] ?? 0) }
    }

    static func counted(_ keys: [String]) -> [Count] {
        var c: [String: Int] = [:]
        for k in keys { c[k, default: 0] += 1 }
        return counted(c)
    }

    /// A session with failed logins, as the brute-force window reads it.
    struct FailedLogin {
        var epoch: Double, failures: Int, user: String?, start: LogTimestamp?
    }

    /// Brute force: a sliding window over each address's failed logins, each
    /// address's in start order (equal starts in list order).
    static func bruteForce(_ byAddress: [String: [FailedLogin]]) -> [BruteForce] {
        var out: [BruteForce] = []
        for (address, sorted) in byAddress {
            // Sliding window: the densest run of failures within `bruteForceWindow`.
            var best: (failures: Int, start: Int)?
            var lo = 0, n = 0
            for hi in sorted.indices {
                n += max(1, sorted[hi].failures)
                while sorted[hi].epoch - sorted[lo].epoch > ReportModel.bruteForceWindow {
                    n -= max(1, sorted[lo].failures); lo += 1
                }
                if best.map({ n > $0.failures }) ?? true { best = (n, lo) }
            }
            guard let (n, start) = best, n >= ReportModel.bruteForceThreshold else { continue }
            let window = sorted[start...].prefix { $0.epoch - sorted[start].epoch <= ReportModel.bruteForceWindow }
            guard let first = window.first, let last = window.last else { continue }
            out.append(BruteForce(address: address, failures: n, users: Array(Set(window.compactMap(\.user))).sorted(),
                                  first: first.start?.iso ?? "", last: last.start?.iso ?? "",
                                  windowSeconds: last.epoch - first.epoch))
        }
        // Address breaks ties, so the order does not depend on hashing.
        return out.sorted { ($0.failures, $1.address) > ($1.failures, $0.address) }
    }

    static func hourLabel(_ t: LogTimestamp) -> String {
        "\(t.year)-\(String(t.month).leftPadded(2))-\(String(t.day).leftPadded(2)) \(String(t.hour).leftPadded(2)):00"
    }

    static func failureEvents(_ db: StoreReader, catalog: EventCatalog?) -> [FailureEvent] {
        guard let rows = try? db.failureEventCounts(limit: 10) else { return [] }
        return rows.map { FailureEvent(eventID: $0.eventID, meaning: catalog?.meaning($0.eventID, variant: $0.variant) ?? "",
                                       count: $0.count, example: $0.example ?? "") }
    }

    /// The summary (`build` with `withOperations: false`) read on two connections
    /// at once (`SnapshotReaders`): the sessions' counts on one, the failure
    /// events and the weak sessions on the other, each about half of the 1 s a
    /// single connection took for 63k sessions. nil while an ingest is writing
    /// (then `build` reads on one connection).
    public static func summary(path: String, filter: SessionFilter, catalog: EventCatalog?) throws -> ReportModel? {
        let parts = Mutex<(counts: ReportModel?, flagged: ReportModel?)>((nil, nil))
        guard let readers = try LogStore.readInParallel(path: path, count: 2, body: { reader, db in
            if reader == 0 {
                var m = try ReportModel.withSources(db)
                try m.tallyInStore(db, filter: filter)
                parts.withLock { $0.counts = m }
            } else {
                var m = ReportModel(generatedAt: "")
                try m.addFlagged(db, filter: filter, catalog: catalog)
                parts.withLock { $0.flagged = m }
            }
        }) else { return nil }
        try readers.wait()
        guard var m = parts.withLock({ $0.counts }), let flagged = parts.withLock({ $0.flagged }) else { return nil }
        m.failureEvents = flagged.failureEvents
        m.weakSessions = flagged.weakSessions
        return m
    }

    /// The HTML summary from a database: the summary's counts from the sessions
    /// table (as `summary`), every selected session drawn as it is read (without
    /// its operations: a 1M-line log's took 355 MB) and the first `maxDetails`
    /// detailed, read again with their operations.
    public static func html(_ db: StoreReader, filter: SessionFilter, catalog: EventCatalog?, maxDetails: Int) throws
        -> (ReportModel, DrawnSessions, [SessionDetail]) {
        var m = try ReportModel.withSources(db)
        try m.tallyInStore(db, filter: filter)
        m.failureEvents = ReportModel.failureEvents(db, catalog: catalog)
        let drawn = DrawnSessions()
        var first: [SessionTimeline] = []
        for (i, s) in try db.sessions(filter, withOperations: false, withDetails: false).enumerated() {
            drawn.add(s, listed: i)
            if first.count < maxDetails { first.append(s) }
        }
        var whole: [SessionID: SessionTimeline] = [:]
        for s in try db.sessions(ids: first.map(\.id)) { whole[s.id] = s }
        let details = try first.map { try sessionDetail(db, whole[$0.id] ?? $0, catalog: catalog) }
        return (m, drawn, details)
    }

    /// An empty model, made now.
    static func madeNow() -> ReportModel { ReportModel(generatedAt: LogTimestamp.utcISO(Date().timeIntervalSince1970, fractionDigits: 0)) }

    /// A model with the sources and the number of records.
    static func withSources(_ db: StoreReader) throws -> ReportModel {
        var m = ReportModel.madeNow()
        m.sources = try db.sources()
        m.recordCount = try db.recordCount()
        return m
    }

    /// The summary from loaded sessions (HTML reports, which draw every session).
    mutating func summarise(catalog: EventCatalog?, db: StoreReader) {
        summarise(failureEvents: ReportModel.failureEvents(db, catalog: catalog))
    }

    mutating func summarise(failureEvents: [FailureEvent]) {
        var tally = SummaryTally()
        for s in sessions { tally.add(StoreReader.SessionSummaryRow(s)) }
        tally.fill(&self)
        self.failureEvents = failureEvents
        weakSessions = sessions.filter(SessionFilter.isWeak)
    }

    /// The counts of `summarise`, computed over the sessions table's columns.
    mutating func tallyInStore(_ db: StoreReader, filter: SessionFilter) throws {
        // One pass over the few columns the summary counts; each further scan of a
        // 63k-session table cost a tenth of a second in page reads.
        var tally = SummaryTally()
        try db.forEachSessionSummary(filter) { tally.add($0) }
        tally.fill(&self)
    }

    /// The rest of the summary: the failure events, and the weak sessions read whole.
    mutating func addFlagged(_ db: StoreReader, filter: SessionFilter, catalog: EventCatalog?) throws {
        failureEvents = ReportModel.failureEvents(db, catalog: catalog)
        var weakFilter = filter
        weakFilter.weakOnly = true
        weakSessions = try db.sessions(weakFilter, withOperations: false, withDetails: false)
    }
}

/// The per-session counts a summary shows, fed one session at a time (from loaded
/// sessions or from the sessions table's columns), in list order.
struct SummaryTally {
    /// Where a row is in the list: rows added in order (`add(_:)`) count up;
    /// rows added as their sessions close carry their key, and their arrival
    /// breaks ties (a stable sort's order). What the summary takes from the
    /// first row in list order is kept by the least place seen, so it needs
    /// no row but the ones it keeps.
    struct Place: Comparable {
        let key: SessionQuery.OrderKey?
        let n: Int
        init(key: SessionQuery.OrderKey?, n: Int) { self.key = key; self.n = n }
        static func < (a: Place, b: Place) -> Bool {
            if let x = a.key, let y = b.key, x < y || y < x { return x < y }
            return a.n < b.n
        }
        static func == (a: Place, b: Place) -> Bool { !(a < b) && !(b < a) }
    }
    private var count = 0
    /// The span's ends and the zone label, as `ReportModel.span` picks them from rows in list order.
    private var first: (epoch: Double, place: Place, start: LogTimestamp)?
    private var last: (epoch: Double, place: Place, start: LogTimestamp, end: LogTimestamp?)?
    private var zone: (place: Place, start: LogTimestamp)?
    /// Hours keyed by their numbers, each labelled by its first session in list order.
    private var hourCounts: [Int: (label: LogTimestamp, place: Place, count: Int)] = [:]
    private var clients: [String: Int] = [:]
    /// Sessions, failed logins and bytes per user, and sessions and failed logins per
    /// peer, as numbers until `fill` (a nested dictionary per session was a tenth of
    /// `report`), one lookup per session each.
    private var users: [String: Tally] = [:], peers: [String: Tally] = [:]
    struct Tally {
        var sessions = 0, failed = 0, up = 0, down = 0
        mutating func add(failed f: Int, up u: Int = 0, down d: Int = 0) { sessions += 1; failed += f; up += u; down += d }
    }
    /// Sessions with failed logins per peer address; those with a start, as the
    /// brute-force window reads them, with their places.
    private var failedPerPeer: [String: Int] = [:]
    private var failedTimed: [String: [(place: Place, login: ReportModel.FailedLogin)]] = [:]

    /// A row, the next in list order.
    mutating func add(_ r: StoreReader.SessionSummaryRow) { add(r, at: Place(key: nil, n: count)) }

    /// A row in any order, placed by its session's key (equal keys: in the order added).
    mutating func add(_ r: StoreReader.SessionSummaryRow, key: SessionQuery.OrderKey) { add(r, at: Place(key: key, n: count)) }

    private mutating func add(_ r: StoreReader.SessionSummaryRow, at p: Place) {
        count += 1
        if let start = r.start {
            if zone.map({ p < $0.place }) ?? true { zone = (p, start) }
            if let se = r.startEpoch {
                if first.map({ se < $0.epoch || (se == $0.epoch && p < $0.place) }) ?? true { first = (se, p, start) }
                let ee = r.endEpoch ?? se
                if last.map({ ee > $0.epoch || (ee == $0.epoch && p < $0.place) }) ?? true { last = (ee, p, start, r.end) }
            }
            let hour = ((start.year * 100 + start.month) * 100 + start.day) * 100 + start.hour
            if var h = hourCounts[hour] {
                h.count += 1
                if p < h.place { (h.label, h.place) = (start, p) }
                hourCounts[hour] = h
            } else {
                hourCounts[hour] = (start, p, 1)
            }
        }
        if let c = r.clientVersion { clients[c, default: 0] += 1 }
        let u = r.user ?? "(none)", pa = r.peerAddress ?? "(none)", failedLogin = r.outcome == .authFailed ? 1 : 0
        users[u, default: Tally()].add(failed: failedLogin, up: r.bytesUp, down: r.bytesDown)
        peers[pa, default: Tally()].add(failed: failedLogin)
        if failedLogin == 1 || r.authFailures > 0 {
            failedPerPeer[pa, default: 0] += 1
            if let se = r.startEpoch {
                failedTimed[pa, default: []].append((p, ReportModel.FailedLogin(epoch: se, failures: r.authFailures, user: r.user, start: r.start)))
            }
        }
    }

    func fill(_ m: inout ReportModel) {
        m.sessionCount = count
        if let first, let last { m.span = (first.start, last.end ?? last.start, zone?.start) } else { m.span = nil }
        var hours: [String: Int] = [:]
        for h in hourCounts.values { hours[ReportModel.hourLabel(h.label), default: 0] += h.count }
        m.busiestHours = ReportModel.counted(hours)
        m.clientSoftware = ReportModel.counted(clients)
        m.perUser = ReportModel.counted(users.mapValues(\.sessions))
        for i in m.perUser.indices {
            if let x = users[m.perUser[i].key] { m.perUser[i].extra = ["failed": x.failed, "up": x.up, "down": x.down] }
        }
        m.bytesPerUser = ReportModel.bytesPerUser(m.perUser)
        m.perPeer = ReportModel.counted(peers.mapValues(\.sessions))
        for i in m.perPeer.indices { m.perPeer[i].extra = ["failed": peers[m.perPeer[i].key]?.failed ?? 0] }
        m.failedLoginsPerPeer = ReportModel.counted(failedPerPeer)
        // Each address's in start order, equal starts in list order (as a stable
        // sort of the database's list by start leaves them; equal places keep the order added).
        m.bruteForce = ReportModel.bruteForce(failedTimed.mapValues { list in
            list.indices.sorted { i, j in
                let (a, b) = (list[i], list[j])
                if a.login.epoch != b.login.epoch { return a.login.epoch < b.login.epoch }
                return a.place < b.place || (!(b.place < a.place) && i < j)
            }.map { list[$0].login }
        })
    }
}

public enum ReportError: Error, CustomStringConvertible {
    case noSuchSession(String)
    case ambiguousSession(String, [String])
    public var description: String {
        switch self {
        case .noSuchSession(let id): return "no session \(id) (see `sftplog sessions`)"
        case .ambiguousSession(let id, let ids): return "session prefix \(id) matches \(ids.count) sessions: \(ids.prefix(5).joined(separator: ", "))"
        }
    }
}
