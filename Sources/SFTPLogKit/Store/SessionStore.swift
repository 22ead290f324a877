import Foundation
import GRDB

/// Writes and reads reconstructed sessions. A source's sessions are replaced
/// as a whole when the source changes (grown file), so ids stay stable.
public enum SessionStore {
    public static func replace(_ db: Database, sourceID: Int64, with sessions: [SessionTimeline], zone: TimeZone) throws {
        try deleteAll(db, sourceID: sourceID)
        try insert(db, sourceID: sourceID, sessions)
    }

    public static func deleteAll(_ db: Database, sourceID: Int64) throws {
        for table in ["session_records", "session_operations", "findings", "session_algorithms_offered"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE session_id IN (SELECT id FROM sessions WHERE source_id = ?)", arguments: [sourceID])
        }
        try db.execute(sql: "DELETE FROM sessions WHERE source_id = ?", arguments: [sourceID])
    }

    /// Adds sessions (closed ones are stored with each ingest batch).
    public static func insert(_ db: Database, sourceID: Int64, _ sessions: [SessionTimeline]) throws {
        guard !sessions.isEmpty else { return }
        let insert = try db.makeStatement(sql: """
            INSERT OR REPLACE INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """)
        let rec = try db.makeStatement(sql: "INSERT OR REPLACE INTO session_records VALUES (?,?,?,?,?)")
        let ops = try db.makeStatement(sql: "INSERT OR REPLACE INTO session_operations VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")
        let fnd = try db.makeStatement(sql: "INSERT OR REPLACE INTO findings VALUES (?,?,?,?,?,?,?,?)")
        let offered = try db.makeStatement(sql: "INSERT OR REPLACE INTO session_algorithms_offered VALUES (?,?,?,?,?)")
        for s in sessions {
            let n = s.negotiated
            let utc = { (e: Double?, ts: LogTimestamp?) in e.map { LogTimestamp.utcISO($0, fractionDigits: ts?.fraction.count ?? 0) } }
            let values: [DatabaseValueConvertible?] = [
                s.id, sourceID, s.source, s.side, s.file, s.peer?.address, s.peer?.port, s.user, s.component, s.location,
                s.start?.iso, s.end?.iso, utc(s.startEpoch, s.start), utc(s.endEpoch, s.end), s.duration, s.outcome, s.outcomeDetail,
                s.clientVersion, s.serverVersion, n.kex, n.hostkey, n.cipherC2S, n.cipherS2C, n.macC2S, n.macS2C,
                n.compressionC2S, n.compressionS2C, s.strictKex, JSONValue.array(s.authMethodsTried.map(JSONValue.string)).json,
                s.authSucceededMethod, s.authFailures, s.hostKeyCheck, s.terrapinVulnerable, s.terrapinExplanation, s.gexBits, s.eventCount,
                s.operations.filter { ["get", "put"].contains($0.op) }.count, s.bytesUp, s.bytesDown, s.firstLine, s.lastLine,
                s.details.isEmpty ? nil : JSONValue.object(s.details).json,
            ]
            try insert.execute(arguments: StatementArguments(values))
            for (k, r) in s.records.enumerated() { try rec.execute(arguments: [s.id, k, r.line, r.seq, r.duplicate]) }
            for (k, o) in s.operations.enumerated() {
                try ops.execute(arguments: [s.id, k, o.op, o.path, o.ok, o.bytes, o.seconds, o.bytesPerSecond, o.to, o.local, o.detail, o.line, o.ts?.iso])
            }
            for (k, f) in s.findings.enumerated() {
                try fnd.execute(arguments: [s.id, k, f.algorithm, f.category, f.direction, f.rating, f.reason, f.reference])
            }
            for (slot, names) in s.serverOffer {
                for (k, a) in names.enumerated() { try offered.execute(arguments: [s.id, "server", slot, k, a]) }
            }
        }
    }
}
