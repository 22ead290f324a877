import Foundation

/// The `sessions --json` object. Field names are the product's interface.
public enum SessionJSON {
    public static func object(_ s: SessionTimeline, timeline: [(record: Record, duplicate: Bool)]? = nil) -> JSONValue {
        func str(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        var o: [(String, JSONValue)] = [
            ("id", .string(s.id)), ("source", .string(s.source)), ("side", .string(s.side)), ("file", .string(s.file)),
            ("peer", s.peer.map { .object([("address", .string($0.address)), ("port", $0.port.map(JSONValue.int) ?? .null)]) } ?? .null),
            ("user", str(s.user)), ("start", str(s.start?.iso)), ("end", str(s.end?.iso)),
            ("duration", s.duration.map { .double(($0 * 1000).rounded() / 1000) } ?? .null),
            ("outcome", .string(s.outcome)), ("outcome_detail", str(s.outcomeDetail)),
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
    /// The same bytes as `JSONBytes.value(object(s))`, written without building
    /// the value tree first: building and freeing the tree was a third of
    /// `sessions --json` on 63k sessions. A test holds the two together.
    public static func write(_ s: SessionTimeline, timeline: [(record: Record, duplicate: Bool)]? = nil, to j: inout JSONBytes) {
        func str(_ v: String?) { if let v { j.string(v) } else { j.raw("null") } }
        func int(_ v: Int?) { if let v { j.int(v) } else { j.raw("null") } }
        func bool(_ v: Bool?) { if let v { j.raw(v ? "true" : "false") } else { j.raw("null") } }
        func key(_ k: StaticString) { j.raw(","); j.key(k) }
        j.raw("{"); j.key("id"); j.string(s.id)
        key("source"); j.string(s.source); key("side"); j.string(s.side); key("file"); j.string(s.file)
        key("peer")
        if let p = s.peer { j.raw("{"); j.key("address"); j.string(p.address); key("port"); int(p.port); j.raw("}") } else { j.raw("null") }
        key("user"); str(s.user); key("start"); str(s.start?.iso); key("end"); str(s.end?.iso)
        key("duration")
        if let d = s.duration { j.value(.double((d * 1000).rounded() / 1000)) } else { j.raw("null") }
        key("outcome"); j.string(s.outcome); key("outcome_detail"); str(s.outcomeDetail)
        key("client_version"); str(s.clientVersion); key("server_version"); str(s.serverVersion)
        let n = s.negotiated
        key("negotiated"); j.raw("{"); j.key("kex"); str(n.kex); key("hostkey"); str(n.hostkey)
        key("cipher_c2s"); str(n.cipherC2S); key("cipher_s2c"); str(n.cipherS2C); key("mac_c2s"); str(n.macC2S); key("mac_s2c"); str(n.macS2C)
        key("compression_c2s"); str(n.compressionC2S); key("compression_s2c"); str(n.compressionS2C); j.raw("}")
        key("strict_kex"); bool(s.strictKex)
        key("auth"); j.raw("{"); j.key("methods_tried"); j.raw("[")
        for (k, m) in s.authMethodsTried.enumerated() { if k > 0 { j.raw(",") }; j.string(m) }
        j.raw("]"); key("succeeded_method"); str(s.authSucceededMethod); key("failures"); j.int(s.authFailures); j.raw("}")
        key("host_key_check"); str(s.hostKeyCheck)
        key("operations"); j.raw("[")
        for (k, op) in s.operations.enumerated() {
            if k > 0 { j.raw(",") }
            j.raw("{"); j.key("op"); j.string(op.op); key("path"); j.string(op.path); key("ok"); bool(op.ok); key("bytes"); int(op.bytes)
            if let to = op.to { key("to"); j.string(to) }
            if let l = op.local { key("local"); j.string(l) }
            if let x = op.seconds { key("seconds"); j.value(.double(x)) }
            if let x = op.bytesPerSecond { key("bytes_per_second"); j.value(.double(x)) }
            if let d = op.detail { key("detail"); j.string(d) }
            key("line"); j.int(op.line); j.raw("}")
        }
        j.raw("]"); key("findings"); j.raw("[")
        for (k, f) in s.findings.enumerated() {
            if k > 0 { j.raw(",") }
            j.raw("{"); j.key("algorithm"); j.string(f.algorithm); key("category"); j.string(f.category); key("direction"); str(f.direction)
            key("rating"); j.string(f.rating); key("reason"); j.string(f.reason); key("reference"); j.string(f.reference); j.raw("}")
        }
        j.raw("]"); key("terrapin_vulnerable"); bool(s.terrapinVulnerable)
        key("event_count"); j.int(s.eventCount); key("location"); str(s.location); key("component"); str(s.component)
        key("lines"); j.raw("{"); j.key("first"); j.int(s.firstLine); key("last"); j.int(s.lastLine); j.raw("}")
        key("details"); j.object(s.details)
        if let t = s.terrapinExplanation { key("terrapin_explanation"); j.string(t) }
        if let timeline {
            key("timeline"); j.raw("[")
            for (k, item) in timeline.enumerated() {
                if k > 0 { j.raw(",") }
                let r = item.record
                j.raw("{"); j.key("line"); j.int(r.line); key("ts"); str(r.timestamp?.iso); key("kind"); j.string(r.kind.rawValue)
                if let id = r.eventID { key("event_id"); j.string(id) }
                key("message"); str(r.message ?? r.text)
                if item.duplicate { key("duplicate"); j.raw("true") }
                j.raw("}")
            }
            j.raw("]")
        }
        j.raw("}")
    }
}
