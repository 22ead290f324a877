import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH

/// OpenSSH client runs as sessions: one per run of the client in a transcript.
public enum OpenSSHSessions {
    public static func timelines(records: [Record], seqs: [Int]? = nil, file: String, sourceID: Int64) -> [SessionTimeline] {
        var b = OpenSSHTimelineBuilder(file: file, sourceID: sourceID)
        for (k, r) in records.enumerated() { b.add(r, seq: seqs?[k] ?? 0) }
        return b.finish()
    }

    public static func timeline(_ run: OpenSSHSession, file: String) -> SessionTimeline {
        var s = SessionTimeline(source: "openssh", side: "client", file: file)
        if let a = run.peer.address ?? run.peer.host { s.peer = Peer(address: a, port: run.peer.port) }
        s.user = run.auth.user
        s.outcome = run.outcome
        s.closed = run.closed
        s.outcomeDetail = run.negotiationFailure?.reason ?? run.disconnectReason ?? run.error
        s.clientVersion = run.clientVersion
        s.serverVersion = run.serverVersion
        s.negotiated = run.negotiated ?? NegotiatedAlgorithms()
        s.strictKex = run.strictKex
        s.authMethodsTried = run.auth.methodsTried
        s.authSucceededMethod = run.auth.succeededMethod
        s.authFailures = run.auth.failures
        s.hostKeyCheck = run.hostKey.check
        s.operations = run.operations.map { o in
            var op = SessionOperation(op: o.op, path: o.path ?? "", ok: o.ok, line: o.line)
            op.bytes = o.bytes; op.local = o.local; op.to = o.to; op.detail = o.error
            return op
        }
        s.eventCount = run.recordCount
        s.firstLine = run.firstLine
        s.lastLine = run.lastLine
        if let p = run.serverProposal {
            for slot in KexProposal.slotNames where !p[slot].isEmpty { s.serverOffer[slot] = p[slot] }
        }
        s.gexBits = run.gex?.groupBits
        s.evidence = run.evidence
        // The run's own facts that have no column, in the order the truth files give them.
        let details: [(String, JSONValue?)] = [
            ("peer", run.peerJSON), ("hostkey", run.hostKeyJSON), ("proposals", run.proposalsJSON), ("gex", run.gexJSON),
            ("transfer", run.transfer.isEmpty ? nil : run.transfer.json()), ("rekey_count", .int(run.rekeyCount)),
            ("command", run.channel.command.map(JSONValue.string)), ("subsystem", run.channel.subsystem.map(JSONValue.string)),
            ("remote_exit_status", run.channel.remoteExitStatus.map(JSONValue.int)),
            ("protocol_version", run.protocolVersion.map(JSONValue.string)), ("compat", run.compat.map(JSONValue.string)),
            ("error", run.error.map(JSONValue.string)), ("negotiation_failure", run.negotiationFailureJSON),
        ]
        for case let (key, v?) in details where v != .null { s.details.append((key, v)) }
        if let t = run.tool { s.details.append(("tool", .string(t))) }
        if let u = run.userSource { s.details.append(("user_source", .string(u))) }
        if !run.negotiatedDerivedSlots.isEmpty {
            // Slots not printed as negotiated but read from what the text shows (both proposals,
            // a name the server offered alone, the host key's type before 7.2).
            s.details.append(("derived", .array(run.negotiatedDerivedSlots.map(JSONValue.string))))
        }
        return s
    }
}

/// Folds one file's records into timelines as they stream in: a run's timeline
/// is ready once the next run begins, and only the places (line, seq) of the
/// open run's records are held. Holding every record until the end took
/// 490 MB for an 18 MB transcript.
public struct OpenSSHTimelineBuilder {
    public let file: String
    public let sourceID: Int64
    private var runs: OpenSSHSessionBuilder
    /// Places of the records not yet given to a closed run, in order.
    private var places: [RecordRef] = []
    /// How many record places are held now (what memory grows with).
    var heldPlaces: Int { places.count }

    public init(file: String, sourceID: Int64) {
        self.file = file
        self.sourceID = sourceID
        runs = OpenSSHSessionBuilder(file: file)
    }

    public mutating func add(_ r: Record, seq: Int) {
        places.append(RecordRef(line: r.line, seq: seq))
        runs.add(r)
    }

    /// Timelines of the runs closed since the last call.
    public mutating func takeClosed() -> [SessionTimeline] { timelines(runs.takeClosed()) }

    /// The run being read, as it stands, and its timeline (without record places).
    public func peek() -> (run: OpenSSHSession, timeline: SessionTimeline)? {
        guard let run = runs.peek() else { return nil }
        var s = OpenSSHSessions.timeline(run, file: file)
        s.sourceID = sourceID
        s.id = SessionIdentity.make(s)
        return (run, s)
    }

    /// Timelines of the remaining runs, at the end of the file.
    public mutating func finish() -> [SessionTimeline] { timelines(runs.finish()) }

    /// A run's records are those whose line lies within its first and last line
    /// (runs follow each other; records before a run belong to none).
    private mutating func timelines(_ closed: [OpenSSHSession]) -> [SessionTimeline] {
        var k = 0
        let out = closed.map { run in
            var s = OpenSSHSessions.timeline(run, file: file)
            s.sourceID = sourceID
            while k < places.count, places[k].line <= run.lastLine {
                if places[k].line >= run.firstLine { s.records.append(places[k]) }
                k += 1
            }
            // The builder saw records, not their places: a line's seq is its place's.
            if s.records.contains(where: { $0.seq != 0 }) {
                var seqs: [Int: Int] = [:]
                for p in s.records where seqs[p.line] == nil { seqs[p.line] = p.seq }
                for e in s.evidence.indices { s.evidence[e].seq = seqs[s.evidence[e].line] ?? 0 }
                s.evidence = EvidenceLink.canonical(s.evidence)
            }
            s.id = SessionIdentity.make(s)
            return s
        }
        places.removeFirst(k)
        return out
    }
}
