import Foundation
import GRDB

/// Rebuilds the sessions of one stored source from its records (after an
/// ingest completes or resumes), judges them with the policy, and stores them.
public struct SessionRebuild {
    public var rules: SessionRules
    public var zone: TimeZone
    /// Judges each session (Policy stage); nil leaves findings empty.
    public var judge: ((inout SessionTimeline) -> Void)?

    public init(rules: SessionRules, zone: TimeZone, judge: ((inout SessionTimeline) -> Void)? = nil) {
        self.rules = rules; self.zone = zone; self.judge = judge
    }

    public func rebuild(_ db: Database, sourceID: Int64) throws -> Int {
        guard let row = try Row.fetchOne(db, sql: "SELECT name, format FROM sources WHERE id = ?", arguments: [sourceID]) else { return 0 }
        let file: String = row["name"]
        let format: String? = row["format"]
        var sessions: [SessionTimeline]
        if format == SourceFormat.openssh.rawValue {
            sessions = try opensshSessions(db, sourceID: sourceID, file: file)
        } else {
            let builder = SFTPPlusSessionBuilder(rules: rules, file: file, sourceID: sourceID, timeZone: zone)
            let wanted = rules.eventIDsWithFields
            try StoredRecords.forEach(db, sourceID: sourceID, needsFields: { r, fieldsText in
                guard let id = r.eventID else { return false }
                return wanted.contains(id) || fieldsText.contains("\"location\"") || fieldsText.contains("\"client_version\"")
            }) { r, seq in builder.add(r, seq: seq) }
            sessions = builder.finish()
        }
        if let judge { for i in sessions.indices { judge(&sessions[i]) } }
        try SessionStore.replace(db, sourceID: sourceID, with: sessions, zone: zone)
        try SessionStore.assignRecords(db, sourceID: sourceID, sessions)
        return sessions.count
    }

    func opensshSessions(_ db: Database, sourceID: Int64, file: String) throws -> [SessionTimeline] {
        var b = OpenSSHTimelineBuilder(file: file, sourceID: sourceID)
        try StoredRecords.forEach(db, sourceID: sourceID, needsFields: { _, _ in true }) { r, seq in b.add(r, seq: seq) }
        return b.finish()
    }
}

/// Reads a source's records back from the database, in order.
public enum StoredRecords {
    public static func forEach(_ db: Database, sourceID: Int64, needsFields: (Record, String) -> Bool,
                               _ body: (Record, Int) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT seq, kind, file, line, line_count, layout, ts, event_id, component, account, peer_address, peer_port,
                   message, text, catalog_status, catalog_variant, fields, extra
            FROM records WHERE source_id = ? ORDER BY line, seq
            """, arguments: [sourceID])
        while let row = try cursor.next() {
            var r = Record(kind: RecordKind(row["kind"] as String), file: row["file"], line: row["line"], raw: [], rawIsUTF8: true)
            r.lineCount = row["line_count"]
            r.layout = row["layout"]
            if let ts: String = row["ts"] {
                r.timestamp = Array(ts.utf8).withUnsafeBufferPointer { TimestampScanner.iso($0, at: 0)?.0 }
            }
            r.eventID = row["event_id"]
            r.component = row["component"]
            r.account = row["account"]
            if let a: String = row["peer_address"] { r.peer = Peer(address: a, port: row["peer_port"]) }
            r.message = row["message"]
            r.text = row["text"]
            let fieldsText: String? = row["fields"]
            if let status: String = row["catalog_status"] {
                var res = EventResolution(status: EventResolution.Status(rawValue: status) ?? .unresolved, variant: row["catalog_variant"])
                if let ft = fieldsText, needsFields(r, ft), case .object(let pairs)? = JSONValue.parse(Array(ft.utf8)) {
                    res.fields = pairs
                }
                r.resolution = res
            }
            if let ex: String = row["extra"], needsFields(r, ex), case .object(let pairs)? = JSONValue.parse(Array(ex.utf8)) {
                r.extra = pairs
            }
            try body(r, row["seq"])
        }
    }
}

/// Sessions built while a new source streams in: closed sessions are handed
/// to each batch commit, so memory holds only the open ones.
public final class LiveSessions {
    let rebuild: SessionRebuild
    let file: String
    private var sftpplus: SFTPPlusSessionBuilder?
    /// One of the two is made at the source's first record, by its format.
    private var openssh: OpenSSHTimelineBuilder?

    init(_ rebuild: SessionRebuild, file: String) {
        self.rebuild = rebuild
        self.file = file
    }

    @discardableResult
    public func add(_ r: Record, seq: Int, format: SourceFormat?) -> (id: String, duplicate: Bool)? {
        if openssh == nil && sftpplus == nil {
            if format == .openssh {
                openssh = OpenSSHTimelineBuilder(file: file, sourceID: 0)
            } else {
                sftpplus = SFTPPlusSessionBuilder(rules: rebuild.rules, file: file, sourceID: 0, timeZone: rebuild.zone, collectRefs: false)
            }
        }
        if openssh != nil {
            openssh!.add(r, seq: seq)
            return nil
        }
        return sftpplus!.add(r, seq: seq)
    }

    /// An OpenSSH run is known once the next one begins, after its records were
    /// handed to the writer: its records get their session id when it is stored.
    public var marksRecordsAfterwards: Bool { openssh != nil }

    func judged(_ list: [SessionTimeline], sourceID: Int64) -> [SessionTimeline] {
        var out = list
        for i in out.indices {
            out[i].sourceID = sourceID
            rebuild.judge?(&out[i])
        }
        return out
    }

    public func takeClosed(sourceID: Int64) -> [SessionTimeline] {
        judged(openssh?.takeClosed() ?? sftpplus?.takeClosed() ?? [], sourceID: sourceID)
    }

    public func finish(sourceID: Int64) -> [SessionTimeline] {
        judged(openssh?.finish() ?? sftpplus?.finish() ?? [], sourceID: sourceID)
    }
}

extension SessionRebuild {
    public func live(file: String) -> LiveSessions { LiveSessions(self, file: file) }
}
