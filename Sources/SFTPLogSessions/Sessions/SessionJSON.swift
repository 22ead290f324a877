import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH

/// The `sessions --json` object. Field names are the product's interface.
public enum SessionJSON {
    public static func object(_ s: SessionTimeline, timeline: [(record: Record, duplicate: Bool)]? = nil, evidence: Bool = false) -> JSONValue {
        func str(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        var o: [(String, JSONValue)] = [
            ("id", .string(s.id.rawValue)), ("source", .string(s.source)), ("side", .string(s.side)), ("file", .string(s.file)),
            ("peer", s.peer.map { .object([("address", .string($0.address)), ("port", $0.port.map(JSONValue.int) ?? .null)]) } ?? .null),
            ("user", str(s.user)), ("start", str(s.start?.iso)), ("end", str(s.end?.iso)),
            ("duration", s.duration.map { .double(($0 * 1000).rounded() / 1000) } ?? .null),
            ("outcome", .string(s.outcome.rawValue)), ("outcome_detail", str(s.outcomeDetail)),
            ("closed", s.closed.map(JSONValue.bool) ?? .null),
            ("client_version", str(s.clientVersion)), ("server_version", str(s.serverVersion)),
            ("negotiated", s.negotiated.json), ("strict_kex", s.strictKex.map(JSONValue.bool) ?? .null),
            ("auth", .object([("methods_tried", .array(s.authMethodsTried.map(JSONValue.string))),
                              ("succeeded_method", str(s.authSucceededMethod)), ("failures", .int(s.authFailures))])),
            ("host_key_check", str(s.hostKeyCheck)),
            ("operations", .array(s.operations.map(\.json))),
            ("findings", .array(s.findings.map(\.json))),
            ("terrapin_vulnerable", s.terrapinVulnerable.map(JSONValue.bool) ?? .null),
            ("event_count", .int(s.eventCount)),
            ("location", str(s.location)), ("component", str(s.component)),
            ("lines", .object([("first", .int(s.firstLine)), ("last", .int(s.lastLine))])),
            ("details", .object(s.details)),
        ]
        if let t = s.terrapinExplanation { o.append(("terrapin_explanation", .string(t))) }
        if evidence { o.append(("evidence", Evidence.json(s.evidence, file: s.file))) }
        if let timeline {
            o.append(("timeline", .array(timeline.map { item in
                let r = item.record
                var e: [(String, JSONValue)] = [("line", .int(r.line)), ("ts", str(r.timestamp?.iso)), ("kind", .string(r.kind.rawValue))]
                if let id = r.eventID { e.append(("event_id", .string(id))) }
                e.append(("message", str(r.message ?? r.text)))
                if item.duplicate { e.append(("duplicate", .bool(true))) }
                return .object(e)
            })))
        }
        return .object(o)
    }
}

extension SessionJSON {
    /// The `timeline` array's bytes, as `object` makes it.
    package static func writeTimeline(_ timeline: [(record: Record, duplicate: Bool)], to j: inout JSONBytes) {
        func key(_ k: StaticString) { j.raw(","); j.key(k) }
        j.raw("[")
        for (k, item) in timeline.enumerated() {
            if k > 0 { j.raw(",") }
            let r = item.record
            j.raw("{"); j.key("line"); j.int(r.line); key("ts")
            if let ts = r.timestamp { j.string(ts.iso) } else { j.raw("null") }
            key("kind"); j.string(r.kind.rawValue)
            if let id = r.eventID { key("event_id"); j.string(id) }
            key("message")
            if let m = r.message ?? r.text { j.string(m) } else { j.raw("null") }
            if item.duplicate { key("duplicate"); j.raw("true") }
            j.raw("}")
        }
        j.raw("]")
    }
}
