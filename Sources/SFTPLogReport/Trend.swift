import Foundation
import SFTPLogRecords
import SFTPLogSessions
import SFTPLogStore

/// The length of one row of `report --trend`.
public enum TrendPeriod: String, CaseIterable, Sendable {
    case day, week, month

    /// The period holding a UTC day (`YYYY-MM-DD`): its label and its first day.
    /// Weeks are ISO 8601 weeks (Monday first; `2026-W49`).
    func period(ofDay day: Substring) -> (label: String, first: String)? {
        guard day.count == 10, let y = Int(day.prefix(4)), let m = Int(day.dropFirst(5).prefix(2)), let d = Int(day.suffix(2)),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        switch self {
        case .day: return (String(day), String(day))
        case .month: return (String(day.prefix(7)), String(day.prefix(7)) + "-01")
        case .week:
            let days = TrendPeriod.daysFromCivil(y, m, d)
            let weekday = ((days % 7) + 7 + 3) % 7  // 0 = Monday (1970-01-01 was a Thursday)
            let monday = days - weekday
            // The ISO year is the year of the week's Thursday.
            let (ty, _, _) = TrendPeriod.civil(fromDays: monday + 3)
            let week = (monday + 3 - TrendPeriod.daysFromCivil(ty, 1, 1)) / 7 + 1
            let (my, mm, md) = TrendPeriod.civil(fromDays: monday)
            return ("\(ty)-W\(week < 10 ? "0" : "")\(week)", TrendPeriod.dayText(my, mm, md))
        }
    }

    /// The first day of the period after the one starting on `first`.
    func next(after first: String) -> String {
        let y = Int(first.prefix(4))!, m = Int(first.dropFirst(5).prefix(2))!, d = Int(first.suffix(2))!
        switch self {
        case .day: let (a, b, c) = TrendPeriod.civil(fromDays: TrendPeriod.daysFromCivil(y, m, d) + 1); return TrendPeriod.dayText(a, b, c)
        case .week: let (a, b, c) = TrendPeriod.civil(fromDays: TrendPeriod.daysFromCivil(y, m, d) + 7); return TrendPeriod.dayText(a, b, c)
        case .month: return m == 12 ? TrendPeriod.dayText(y + 1, 1, 1) : TrendPeriod.dayText(y, m + 1, 1)
        }
    }

    static func dayText(_ y: Int, _ m: Int, _ d: Int) -> String {
        let p = { (n: Int, w: Int) in String(repeating: "0", count: max(0, w - String(n).count)) + String(n) }
        return "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))"
    }

    static func daysFromCivil(_ y: Int, _ m: Int, _ d: Int) -> Int { LogTimestamp.daysFromCivil(y, m, d) }
    static func civil(fromDays z: Int) -> (Int, Int, Int) { LogTimestamp.civilFromDays(z) }
}

/// `report --trend`: sessions counted per day, week or month, and what
/// changed between the last two periods.
public struct TrendModel: Sendable {
    public var by: TrendPeriod
    public var generatedAt: String
    public var sources: [(name: String, records: Int, versions: String?)] = []
    public var periods: [Period] = []
    /// Sessions without a start time (in no period).
    public var undated = 0
    public var changes: Changes?

    public struct Count: Sendable, Equatable {
        public var key: String
        public var count: Int
    }

    public struct WeakAlgorithm: Sendable, Equatable {
        public var algorithm: String, category: String, rating: Rating
        public var sessions: Int
    }

    public struct Period: Sendable {
        public var label: String
        /// Its first day (UTC).
        public var first: String
        public var sessions = 0
        /// Failed authentications (a session that ended auth-failed counts at least one).
        public var failedLogins = 0
        public var authFailedSessions = 0
        /// Sessions whose worst finding is rated fail; warn (or unknown) and nothing worse.
        public var cryptoFail = 0, cryptoWarn = 0
        public var terrapin = 0
        public var weakAlgorithms: [WeakAlgorithm] = []
        /// The most common clients, then "other".
        public var clients: [Count] = []
        public var sftpplusVersions: [String] = []
        public var bytesUp = 0, bytesDown = 0
        public var failingPeers: [Count] = []
        /// Every client and failing peer of the period (for `changes`), not shown.
        var allClients: Set<String> = []
        var allFailingPeers: Set<String> = []

        func share(_ n: Int) -> Double { sessions == 0 ? 0 : Double(n) / Double(sessions) }
    }

    /// What the last period with sessions has that the one before it with sessions had not.
    public struct Changes: Sendable {
        public var from: String, to: String
        public var newWeakAlgorithms: [String]
        public var newClients: [String]
        public var newFailingPeers: [String]
    }
}

/// Counts `TrendRow`s (from a database or a streaming pass, in any order) into a `TrendModel`.
public struct TrendCollector {
    public let by: TrendPeriod
    public let top: Int
    let filter: SessionFilter
    private var periods: [String: Tally] = [:]
    /// The period of each UTC day met so far.
    private var periodOfDay: [Substring: (label: String, first: String)] = [:]
    private var undated = 0

    private struct Tally {
        var label: String
        var sessions = 0, failedLogins = 0, authFailed = 0, cryptoFail = 0, cryptoWarn = 0, terrapin = 0
        var bytesUp = 0, bytesDown = 0
        var weak: [String: (category: String, rating: Rating, sessions: Int)] = [:]
        var clients: [String: Int] = [:]
        var failingPeers: [String: Int] = [:]
        var files: Set<String> = []
    }

    public init(by: TrendPeriod, top: Int = 5, filter: SessionFilter = SessionFilter()) {
        self.by = by
        self.top = max(1, top)
        self.filter = filter
    }

    /// A session of a streaming pass (the filter applies here; a database applies it in SQL).
    public mutating func add(session: SessionTimeline) {
        guard filter.matches(session) else { return }
        add(StoreReader.TrendRow(session))
    }

    public mutating func add(_ r: StoreReader.TrendRow) {
        guard let start = r.startUTC, let p = period(start.utf8.count >= 10 ? start.prefix(10) : "") else { undated += 1; return }
        var t = periods[p.first] ?? Tally(label: p.label)
        t.sessions += 1
        let failed = max(r.authFailures, r.outcome == .authFailed ? 1 : 0)
        t.failedLogins += failed
        if r.outcome == .authFailed { t.authFailed += 1 }
        let worst = r.weak.map(\.rating.level).max() ?? 0
        if worst >= 3 { t.cryptoFail += 1 } else if worst == 2 { t.cryptoWarn += 1 }
        if r.terrapinVulnerable { t.terrapin += 1 }
        t.bytesUp += r.bytesUp
        t.bytesDown += r.bytesDown
        // One count per session and algorithm, with the worst rating it was given.
        var seen: Set<String> = []
        for w in r.weak {
            seen.insert(w.algorithm)
            var e = t.weak[w.algorithm] ?? (w.category, w.rating, 0)
            if w.rating.level > e.rating.level { e.rating = w.rating; e.category = w.category }
            t.weak[w.algorithm] = e
        }
        for a in seen { t.weak[a]!.sessions += 1 }
        t.clients[r.clientVersion ?? "(unknown)", default: 0] += 1
        if failed > 0 { t.failingPeers[r.peerAddress ?? "(unknown)", default: 0] += failed }
        t.files.insert(r.file)
        periods[p.first] = t
    }

    private mutating func period(_ day: Substring) -> (label: String, first: String)? {
        if let p = periodOfDay[day] { return p }
        guard let p = by.period(ofDay: day) else { return nil }
        periodOfDay[day] = p
        return p
    }

    /// Spans of more periods than this list only the periods with sessions.
    static let filledSpan = 400

    /// The model; `versions` gives each source file's SFTPPlus versions.
    public func finish(sources: [(name: String, records: Int, versions: String?)]) -> TrendModel {
        var m = TrendModel(by: by, generatedAt: LogTimestamp.utcISO(Date().timeIntervalSince1970, fractionDigits: 0))
        m.sources = sources
        m.undated = undated
        let versionsOf = Dictionary(sources.map { ($0.name, $0.versions) }, uniquingKeysWith: { a, _ in a })
        var firsts = periods.keys.sorted()
        // Empty periods between the first and the last are shown too (a gap is news).
        if let a = firsts.first, let z = firsts.last {
            var all: [String] = [], d = a
            while d <= z && all.count <= TrendCollector.filledSpan { all.append(d); d = by.next(after: d) }
            if all.count <= TrendCollector.filledSpan { firsts = all }
        }
        func ranked(_ counts: [String: Int]) -> [TrendModel.Count] {
            counts.map { TrendModel.Count(key: $0.key, count: $0.value) }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        }
        for first in firsts {
            let label = periods[first]?.label ?? by.period(ofDay: Substring(first))!.label
            var p = TrendModel.Period(label: label, first: first)
            guard let t = periods[first] else { m.periods.append(p); continue }
            p.sessions = t.sessions; p.failedLogins = t.failedLogins; p.authFailedSessions = t.authFailed
            p.cryptoFail = t.cryptoFail; p.cryptoWarn = t.cryptoWarn; p.terrapin = t.terrapin
            p.bytesUp = t.bytesUp; p.bytesDown = t.bytesDown
            p.weakAlgorithms = t.weak.map { TrendModel.WeakAlgorithm(algorithm: $0.key, category: $0.value.category, rating: $0.value.rating, sessions: $0.value.sessions) }
                .sorted { $0.sessions != $1.sessions ? $0.sessions > $1.sessions : $0.algorithm.utf8.lexicographicallyPrecedes($1.algorithm.utf8) }
            let clients = ranked(t.clients)
            p.clients = Array(clients.prefix(top))
            let rest = clients.dropFirst(top).reduce(0) { $0 + $1.count }
            if rest > 0 { p.clients.append(TrendModel.Count(key: "other", count: rest)) }
            p.failingPeers = Array(ranked(t.failingPeers).prefix(top))
            p.allClients = Set(t.clients.keys)
            p.allFailingPeers = Set(t.failingPeers.keys)
            var versions: Set<String> = []
            for f in t.files {
                for v in (versionsOf[f] ?? nil)?.split(separator: ",") ?? [] {
                    let v = v.trimmingCharacters(in: .whitespaces)
                    if !v.isEmpty { versions.insert(v) }
                }
            }
            p.sftpplusVersions = versions.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
            m.periods.append(p)
        }
        // The last period with sessions against the one before it with sessions (an empty one has nothing to compare).
        let held = m.periods.filter { $0.sessions > 0 }
        if held.count >= 2 {
            let a = held[held.count - 2], b = held[held.count - 1]
            let sortBytes = { (s: Set<String>) in s.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
            m.changes = TrendModel.Changes(
                from: a.label, to: b.label,
                newWeakAlgorithms: sortBytes(Set(b.weakAlgorithms.map(\.algorithm)).subtracting(a.weakAlgorithms.map(\.algorithm))),
                newClients: sortBytes(b.allClients.subtracting(a.allClients)),
                newFailingPeers: sortBytes(b.allFailingPeers.subtracting(a.allFailingPeers)))
        }
        return m
    }
}
