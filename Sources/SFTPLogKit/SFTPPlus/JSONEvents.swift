import Foundation

/// SFTPPlus JSON events: one object per line, or the HTTP handler's
/// `{"events":[...]}` batches. `timestamp.timestamp` (Unix seconds) is the
/// instant; `cwa_14051` is only its rendering to the second.
enum JSONEvents {
    static func records(_ c: UnsafeBufferPointer<UInt8>, _ p: PendingLine, file: String) -> [Record]? {
        guard let value = JSONValue.parse(Array(c)), case .object = value else { return nil }
        let events: [JSONValue]
        if case .array(let list)? = value["events"] { events = list } else { events = [value] }
        var out: [Record] = []
        for (seq, e) in events.enumerated() {
            guard case .object = e, e["id"] != nil || e["message"] != nil else { return nil }
            var r = p.record(.sftpplusEvent, file: file)
            r.layout = "json"
            if events.count > 1 || value["events"] != nil { r.extra.append(("batch_index", .int(seq))) }
            var vars: [(String, String)] = []
            func add(_ name: String, _ v: JSONValue?) {
                if let v, let s = v.stringValue { vars.append((name, s)) }
            }
            add("id", e["id"])
            add("uuid", e["uuid"])
            add("message", e["message"])
            if case .object? = e["timestamp"] {
                add("timestamp.timestamp", e["timestamp"]?["timestamp"])
                add("timestamp.cwa_14051", e["timestamp"]?["cwa_14051"])
                add("timestamp.iso_8601", e["timestamp"]?["iso_8601"])
            } else {
                add("timestamp.timestamp", e["timestamp"])
            }
            if let a = e["account"] {
                add("account.name", a["name"])
                add("account.uuid", a["uuid"])
                if let peer = a["peer"] {
                    add("account.peer.address", peer["address"])
                    add("account.peer.port", peer["port"])
                    add("account.peer.protocol", peer["protocol"])
                }
            }
            if let comp = e["component"] {
                add("component.uuid", comp["uuid"])
                add("component.name", comp["name"])
                add("component.type", comp["type"])
            }
            if let problem = EventVariables.apply(vars, to: &r) {
                r.kind = .unparsed
                r.diagnostic = "JSON event: \(problem)"
                r.text = UTF8Text.decode(c).0
            }
            if let d = e["data"], case .object = d { r.extra.append(("data", d)) }
            out.append(r)
        }
        return out
    }
}
