import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH

/// What `audit` reports: sessions with findings at or above a rating, and a
/// summary by algorithm.
public struct AuditResult: Sendable {
    public struct AlgorithmLine: Sendable {
        public var algorithm: String
        public var category: AlgorithmCategory
        public var rating: Rating
        public var reason: String
        public var sessions: Int
        public var peers: Int
    }

    public var minRating: Rating
    public var policyName: String
    public var sessionsTotal = 0
    public var flagged: [SessionTimeline] = []
    public var byAlgorithm: [AlgorithmLine] = []
    public var terrapinVulnerable = 0
    public var terrapinUnknown = 0

    /// Flagged sessions not in `flagged` (an answer wrote them as they came): how
    /// many, and the worst rating level among their hits.
    public private(set) var unlistedCount = 0
    private var unlistedWorst = 0

    /// Every flagged session, listed or not.
    public var flaggedCount: Int { flagged.count + unlistedCount }

    /// 0 no finding at or above the minimum, 1 warnings (or unknown names) only, 2 any failure.
    public var exitCode: Int32 {
        let worst = max(flagged.flatMap(\.findings).map { $0.rating.level }.max() ?? 0, unlistedWorst)
        if worst >= 3 { return 2 }
        if worst >= minRating.level && worst >= 2 { return 1 }
        return 0
    }

    public init(sessions: [SessionTimeline], minRating: Rating, policyName: String) {
        self.init(minRating: minRating, policyName: policyName)
        for s in sessions { add(s) }
        finish()
    }

    package init(minRating: Rating, policyName: String) {
        self.minRating = minRating
        self.policyName = policyName
    }

    /// A line of the summary: an algorithm judged in one category with one rating.
    package struct LineKey: Hashable, Sendable {
        var category: AlgorithmCategory
        var algorithm: String
        var rating: Rating
        init(_ f: Finding) { (category, algorithm, rating) = (f.category, f.algorithm, f.rating) }
    }

    /// Per-algorithm tallies while sessions are added (`finish` turns them into `byAlgorithm`).
    private var lines: [LineKey: (AlgorithmLine, Set<String>)] = [:]

    /// Counts a judged session; `times` > 1 stands for that many sessions with the
    /// same verdict, which must then have no finding at or above the minimum.
    package mutating func add(_ s: SessionTimeline, times: Int = 1) {
        count(s, times: times)
        let hits = self.hits(s)
        guard !hits.isEmpty else { return }
        precondition(times == 1, "flagged sessions are added one by one")
        var kept = s
        kept.findings = hits
        flagged.append(kept)
        tally(hits, peer: s.peer?.address, claims: { _ in false })
    }

    /// The session totals alone (a flagged session is listed and tallied apart).
    package mutating func count(_ s: SessionTimeline, times: Int = 1) {
        sessionsTotal += times
        if s.terrapinVulnerable == true { terrapinVulnerable += times }
        if s.terrapinVulnerable == nil && s.findings.contains(where: { $0.category == .terrapin }) { terrapinUnknown += times }
    }

    /// Tallies a flagged session's hits by algorithm. A line's reason is that of its
    /// first session in list order; a pass that tallies sessions as they close says,
    /// by `claims` (asked once per line the session hits), whether this session
    /// comes before every session tallied on that line so far.
    package mutating func tally(_ hits: [Finding], peer: String?, claims: (LineKey) -> Bool) {
        for (i, f) in hits.enumerated() {
            let key = LineKey(f)
            // The session's first hit on a line decides (and gives the reason).
            if !hits[..<i].contains(where: { LineKey($0) == key }) {
                let claimed = claims(key)
                if lines[key] == nil {
                    lines[key] = (AlgorithmLine(algorithm: f.algorithm, category: f.category, rating: f.rating, reason: f.reason, sessions: 0, peers: 0), [])
                } else if claimed {
                    lines[key]!.0.reason = f.reason
                }
            }
            // Mutated in place: reading the entry out and storing it back copied its peer set every time.
            lines[key]!.0.sessions += 1
            lines[key]!.1.insert(peer ?? "-")
        }
    }

    /// Counts a flagged session, tallied by `tally`, that is not listed: its hits.
    package mutating func unlisted(_ hits: [Finding]) {
        unlistedCount += 1
        unlistedWorst = max(unlistedWorst, hits.map(\.rating.level).max() ?? 0)
    }

    /// Lists flagged sessions already in order, tallied by `tally` (`findings` their hits).
    package mutating func list(_ sessions: [SessionTimeline]) { flagged += sessions }

    package mutating func finish() {
        byAlgorithm = lines.values.map { var l = $0.0; l.peers = $0.1.count; return l }
            .sorted { ($0.rating.level, $0.sessions, $1.algorithm) > ($1.rating.level, $1.sessions, $0.algorithm) }
        lines = [:]
    }

    /// A judged session's findings at or above the minimum rating (flagged when any).
    package func hits(_ s: SessionTimeline) -> [Finding] {
        let minLevel = minRating.level
        return s.findings.filter { $0.rating.level >= minLevel }
    }

    public var json: JSONValue {
        .object([("sessions", .array(flagged.map(AuditResult.sessionJSON))), ("summary", summaryJSON)])
    }

    /// A listed session's object in `json` (`findings` its hits).
    public static func sessionJSON(_ s: SessionTimeline) -> JSONValue {
        .object([("id", .string(s.id.rawValue)), ("source", .string(s.source)),
                 ("peer", s.peer.map { .object([("address", .string($0.address)), ("port", $0.port.map(JSONValue.int) ?? .null)]) } ?? .null),
                 ("user", s.user.map(JSONValue.string) ?? .null), ("start", s.start.map { .string($0.iso) } ?? .null),
                 ("findings", .array(s.findings.map { f in
                     // Each finding with the records it rests on.
                     guard case .object(var o) = f.json else { return f.json }
                     o.append(("evidence", Evidence.json(Evidence.links(of: f, in: s), file: s.file)))
                     return .object(o)
                 })),
                 ("terrapin_vulnerable", s.terrapinVulnerable.map(JSONValue.bool) ?? .null)])
    }

    /// The `summary` object of `json`.
    public var summaryJSON: JSONValue {
        .object([
            ("policy", .string(policyName)), ("min_rating", .string(minRating.rawValue)),
            ("sessions_total", .int(sessionsTotal)), ("sessions_flagged", .int(flaggedCount)),
            ("terrapin_vulnerable", .int(terrapinVulnerable)), ("terrapin_undetermined", .int(terrapinUnknown)),
            ("by_algorithm", .array(byAlgorithm.map { l in
                .object([("algorithm", .string(l.algorithm)), ("category", .string(l.category.rawValue)), ("rating", .string(l.rating.rawValue)),
                         ("sessions", .int(l.sessions)), ("peers", .int(l.peers)), ("reason", .string(l.reason))])
            })),
            ("exit_code", .int(Int(exitCode))),
        ])
    }
}
