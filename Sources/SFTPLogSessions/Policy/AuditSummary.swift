import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH

/// Ratings ordered by severity; `unknown` counts like `warn` (never silently ok).
public enum RatingOrder {
    public static func level(_ rating: String) -> Int {
        switch rating {
        case "fail": return 3
        case "warn", "unknown": return 2
        case "info": return 1
        default: return 0
        }
    }
}

/// What `audit` reports: sessions with findings at or above a rating, and a
/// summary by algorithm.
public struct AuditResult: Sendable {
    public struct AlgorithmLine: Sendable {
        public var algorithm: String
        public var category: String
        public var rating: String
        public var reason: String
        public var sessions: Int
        public var peers: Int
    }

    public var minRating: String
    public var policyName: String
    public var sessionsTotal = 0
    public var flagged: [SessionTimeline] = []
    public var byAlgorithm: [AlgorithmLine] = []
    public var terrapinVulnerable = 0
    public var terrapinUnknown = 0

    /// 0 no finding at or above the minimum, 1 warnings (or unknown names) only, 2 any failure.
    public var exitCode: Int32 {
        let worst = flagged.flatMap(\.findings).map { RatingOrder.level($0.rating) }.max() ?? 0
        if worst >= 3 { return 2 }
        if worst >= RatingOrder.level(minRating) && worst >= 2 { return 1 }
        return 0
    }

    public init(sessions: [SessionTimeline], minRating: String, policyName: String) {
        self.init(minRating: minRating, policyName: policyName)
        for s in sessions { add(s) }
        finish()
    }

    package init(minRating: String, policyName: String) {
        self.minRating = minRating
        self.policyName = policyName
    }

    /// Per-algorithm tallies while sessions are added (`finish` turns them into `byAlgorithm`).
    private var lines: [String: (AlgorithmLine, Set<String>)] = [:]

    /// Counts a judged session; `times` > 1 stands for that many sessions with the
    /// same verdict, which must then have no finding at or above the minimum.
    package mutating func add(_ s: SessionTimeline, times: Int = 1) {
        sessionsTotal += times
        if s.terrapinVulnerable == true { terrapinVulnerable += times }
        if s.terrapinVulnerable == nil && s.findings.contains(where: { $0.category == "terrapin" }) { terrapinUnknown += times }
        let hits = self.hits(s)
        guard !hits.isEmpty else { return }
        precondition(times == 1, "flagged sessions are added one by one")
        var kept = s
        kept.findings = hits
        flagged.append(kept)
        for f in hits {
            let key = f.category + "|" + f.algorithm + "|" + f.rating
            // Mutated in place: reading the entry out and storing it back copied its peer set every time.
            lines[key, default: (AlgorithmLine(algorithm: f.algorithm, category: f.category, rating: f.rating, reason: f.reason, sessions: 0, peers: 0), [])].0.sessions += 1
            lines[key]!.1.insert(s.peer?.address ?? "-")
        }
    }

    package mutating func finish() {
        byAlgorithm = lines.values.map { var l = $0.0; l.peers = $0.1.count; return l }
            .sorted { (RatingOrder.level($0.rating), $0.sessions, $1.algorithm) > (RatingOrder.level($1.rating), $1.sessions, $0.algorithm) }
        lines = [:]
    }

    /// A judged session's findings at or above the minimum rating (flagged when any).
    package func hits(_ s: SessionTimeline) -> [Finding] {
        let minLevel = RatingOrder.level(minRating)
        return s.findings.filter { RatingOrder.level($0.rating) >= minLevel }
    }

    public var json: JSONValue {
        .object([
            ("sessions", .array(flagged.map { s in
                .object([("id", .string(s.id)), ("source", .string(s.source)),
                         ("peer", s.peer.map { .object([("address", .string($0.address)), ("port", $0.port.map(JSONValue.int) ?? .null)]) } ?? .null),
                         ("user", s.user.map(JSONValue.string) ?? .null), ("start", s.start.map { .string($0.iso) } ?? .null),
                         ("findings", .array(s.findings.map(\.json))),
                         ("terrapin_vulnerable", s.terrapinVulnerable.map(JSONValue.bool) ?? .null)])
            })),
            ("summary", .object([
                ("policy", .string(policyName)), ("min_rating", .string(minRating)),
                ("sessions_total", .int(sessionsTotal)), ("sessions_flagged", .int(flagged.count)),
                ("terrapin_vulnerable", .int(terrapinVulnerable)), ("terrapin_undetermined", .int(terrapinUnknown)),
                ("by_algorithm", .array(byAlgorithm.map { l in
                    .object([("algorithm", .string(l.algorithm)), ("category", .string(l.category)), ("rating", .string(l.rating)),
                             ("sessions", .int(l.sessions)), ("peers", .int(l.peers)), ("reason", .string(l.reason))])
                })),
                ("exit_code", .int(Int(exitCode))),
            ])),
        ])
    }
}
