import Foundation

/// OpenSSH client runs as sessions: one per run of the client in a transcript.
public enum OpenSSHSessions {
    public static func timelines(records: [Record], seqs: [Int]? = nil, file: String, sourceID: Int64, zone: TimeZone) -> [SessionTimeline] {
        let runs = OpenSSHSessionBuilder.sessions(from: records, file: file)
        return runs.map { run in
            var s = timeline(run, file: file)
            s.sourceID = sourceID
            for (k, r) in records.enumerated() where r.line >= run.firstLine && r.line <= run.lastLine {
                s.records.append(RecordRef(line: r.line, seq: seqs?[k] ?? 0))
            }
            s.id = SessionIdentity.make(s)
            return s
        }
    }

    public static func timeline(_ run: OpenSSHSession, file: String) -> SessionTimeline {
        var s = SessionTimeline(source: "openssh", side: "client", file: file)
        if let a = run.peer.address ?? run.peer.host { s.peer = Peer(address: a, port: run.peer.port) }
        s.user = run.auth.user
        s.outcome = run.outcome.rawValue
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
        let full = run.json()
        for key in ["peer", "hostkey", "proposals", "gex", "transfer", "rekey_count", "command", "subsystem", "remote_exit_status",
                    "protocol_version", "compat", "error", "negotiation_failure"] {
            if let v = full[key], v != .null { s.details.append((key, v)) }
        }
        if !run.negotiatedDerivedSlots.isEmpty {
            s.details.append(("negotiated_from_proposals", .array(run.negotiatedDerivedSlots.map(JSONValue.string))))
        }
        return s
    }
}
