import Foundation
import GRDB

/// `audit` over a database: a judgement depends only on a session's negotiation
/// (algorithms, group size, strict KEX, source) and the server's offer, so each
/// distinct negotiation is judged once from a GROUP BY, and only the sessions
/// whose negotiation is flagged (or whose server offer is known) are read.
/// On 63k sessions with a dozen negotiations that is a fifth of the rows.
public enum AuditLoad {
    /// Above this many flagged negotiations, every session is read instead.
    static let maxNegotiationTerms = 200

    static let negotiationColumns = ["kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s", "mac_s2c",
                                     "compression_c2s", "compression_s2c", "gex_bits", "strict_kex", "source"]

    public static func audit(_ db: Database, filter: SessionFilter, judge: SessionJudge.Memo, minRating: String,
                             policyName: String) throws -> AuditResult {
        var result = AuditResult(minRating: minRating, policyName: policyName)
        let (whereSQL, args) = SessionQuery.whereClause(filter)
        let hasOffer = "id IN (SELECT session_id FROM session_algorithms_offered)"
        let columns = negotiationColumns.joined(separator: ", ")
        let groups = try RawRows(db, sql: "SELECT \(columns), count(*) AS n FROM sessions"
            + (whereSQL.isEmpty ? " WHERE " : whereSQL + " AND ") + "NOT \(hasOffer) GROUP BY \(columns)", arguments: args)
        var flaggedTerms: [String] = []
        var flaggedArgs: [SQLValue] = []
        var unflagged: [(SessionTimeline, Int)] = []
        while try groups.next() {
            var s = SessionTimeline(source: groups.text("source") ?? "", side: "", file: "")
            s.negotiated = NegotiatedAlgorithms(kex: groups.text("kex"), hostkey: groups.text("hostkey"),
                                                cipherC2S: groups.text("cipher_c2s"), cipherS2C: groups.text("cipher_s2c"),
                                                macC2S: groups.text("mac_c2s"), macS2C: groups.text("mac_s2c"),
                                                compressionC2S: groups.text("compression_c2s"), compressionS2C: groups.text("compression_s2c"))
            s.gexBits = groups.int("gex_bits")
            s.strictKex = groups.bool("strict_kex")
            judge.judge(&s)
            if !result.hits(s).isEmpty {
                // `IS` matches NULL to NULL, as GROUP BY grouped them.
                flaggedTerms.append("(" + negotiationColumns.map { "\"\($0)\" IS ?" }.joined(separator: " AND ") + ")")
                flaggedArgs += [SQLValue(s.negotiated.kex), SQLValue(s.negotiated.hostkey), SQLValue(s.negotiated.cipherC2S),
                                SQLValue(s.negotiated.cipherS2C), SQLValue(s.negotiated.macC2S), SQLValue(s.negotiated.macS2C),
                                SQLValue(s.negotiated.compressionC2S), SQLValue(s.negotiated.compressionS2C), SQLValue(s.gexBits),
                                SQLValue(s.strictKex), .text(s.source)]
            } else {
                unflagged.append((s, groups.int("n") ?? 0))
            }
        }
        var sessions: [SessionTimeline]
        if flaggedTerms.count > maxNegotiationTerms {
            sessions = try SessionQuery.load(db, filter: filter, withOperations: false, withFindings: false)
            unflagged = []
        } else {
            var f = filter
            f.extra = ((flaggedTerms + [hasOffer]).joined(separator: " OR "), flaggedArgs)
            sessions = try SessionQuery.load(db, filter: f, withOperations: false, withFindings: false)
        }
        for i in sessions.indices { judge.judge(&sessions[i]) }
        for s in sessions { result.add(s) }
        for (s, n) in unflagged { result.add(s, times: n) }
        result.finish()
        return result
    }
}
