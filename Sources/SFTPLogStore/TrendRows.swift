import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogSessions

extension StoreReader {
    /// What `report --trend` needs of one session: when it started, how it
    /// ended, who and what it was, and its weak findings.
    public struct TrendRow: Sendable {
        /// `start_utc` (nil: a session without a time).
        public var startUTC: String?
        public var file: String
        public var outcome: SessionOutcome
        public var authFailures: Int
        public var clientVersion: String?
        public var peerAddress: String?
        public var bytesUp: Int, bytesDown: Int
        public var terrapinVulnerable: Bool
        /// Findings rated warn, fail or unknown.
        public var weak: [(algorithm: String, category: String, rating: Rating)]

        /// The row of a session that was never stored, as the store would give it.
        public init(_ session: SessionTimeline) {
            let s = SessionStore.storedTimes(session)
            startUTC = SessionQuery.startUTC(s)
            file = s.file
            outcome = s.outcome
            authFailures = s.authFailures
            clientVersion = s.clientVersion
            peerAddress = s.peer?.address
            bytesUp = s.bytesUp; bytesDown = s.bytesDown
            terrapinVulnerable = s.terrapinVulnerable == true
            weak = s.findings.filter { $0.rating.isWeak }.map { ($0.algorithm, $0.category.rawValue, $0.rating) }
        }

        init(startUTC: String?, file: String, outcome: SessionOutcome, authFailures: Int, clientVersion: String?, peerAddress: String?,
             bytesUp: Int, bytesDown: Int, terrapinVulnerable: Bool, weak: [(algorithm: String, category: String, rating: Rating)]) {
            self.startUTC = startUTC; self.file = file; self.outcome = outcome; self.authFailures = authFailures
            self.clientVersion = clientVersion; self.peerAddress = peerAddress; self.bytesUp = bytesUp; self.bytesDown = bytesDown
            self.terrapinVulnerable = terrapinVulnerable; self.weak = weak
        }
    }

    /// Every session `filter` selects, as a `TrendRow`, with its weak findings
    /// as stored (judged when it was ingested).
    public func forEachTrendRow(_ filter: SessionFilter, _ body: (TrendRow) -> Void) throws {
        let (whereSQL, args) = SessionQuery.whereClause(filter)
        let r = try RawRows(db, sql: """
            SELECT start_utc, file, outcome, auth_failures, client_version, peer_address, bytes_up, bytes_down, terrapin_vulnerable,
              (SELECT json_group_array(json_array(f.algorithm, f.category, f.rating)) FROM findings f
               WHERE f.session_id = sessions.id AND f.rating IN ('warn', 'fail', 'unknown')) AS weak
            FROM sessions\(whereSQL)
            """, arguments: args)
        while try r.next() {
            var weak: [(algorithm: String, category: String, rating: Rating)] = []
            if let text = r.text("weak"), case .array(let items)? = JSONValue.parse(Array(text.utf8)) {
                for case .array(let f) in items where f.count == 3 {
                    guard case .string(let a) = f[0], case .string(let c) = f[1], case .string(let rt) = f[2], let rating = Rating(rawValue: rt) else { continue }
                    weak.append((a, c, rating))
                }
            }
            body(TrendRow(startUTC: r.text("start_utc"), file: r.text("file") ?? "",
                          outcome: r.text("outcome").flatMap(SessionOutcome.init(rawValue:)) ?? .incomplete,
                          authFailures: r.int("auth_failures") ?? 0, clientVersion: r.text("client_version"), peerAddress: r.text("peer_address"),
                          bytesUp: r.int("bytes_up") ?? 0, bytesDown: r.int("bytes_down") ?? 0,
                          terrapinVulnerable: r.bool("terrapin_vulnerable") ?? false, weak: weak))
        }
    }
}
