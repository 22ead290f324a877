import Foundation

/// The `parse` NDJSON object of a record. Field names and order are the
/// product's interface (users' scripts read them); see README.
public enum RecordJSON {
    public static func object(_ r: Record) -> JSONValue {
        var o: [(String, JSONValue)] = [("kind", .string(r.kind.rawValue)), ("file", .string(r.file)), ("line", .int(r.line))]
        if r.kind == .unparsed {
            o.append(("text", .string(r.text ?? "")))
            if let d = r.diagnostic { o.append(("diagnostic", .string(d))) }
        } else {
            o.append(("layout", r.layout.map(JSONValue.string) ?? .null))
            o.append(("ts", r.timestamp.map { .string($0.iso) } ?? .null))
            if let note = r.timestampNote { o.append(("ts_note", .string(note))) }
            if r.kind == .sftpplusEvent || r.eventID != nil {
                o.append(("event_id", r.eventID.map(JSONValue.string) ?? .null))
                o.append(("component", r.component.map(JSONValue.string) ?? .null))
                o.append(("account", r.account.map(JSONValue.string) ?? .null))
                o.append(("peer", r.peer.map { .object([("address", .string($0.address)), ("port", $0.port.map(JSONValue.int) ?? .null)]) } ?? .null))
                o.append(("message", r.message.map(JSONValue.string) ?? .null))
                o.append(("catalog", catalog(r.resolution)))
                o.append(("fields", .object(r.resolution?.fields ?? [])))
            } else {
                if let m = r.message { o.append(("message", .string(m))) }
                if let t = r.text { o.append(("text", .string(t))) }
            }
            o += r.extra
        }
        if r.lineCount > 1 { o.append(("lines", .int(r.lineCount))) }
        if !r.rawIsUTF8 { o.append(("raw_base64", .string(Data(r.raw).base64EncodedString()))) }
        return .object(o)
    }

    static func catalog(_ res: EventResolution?) -> JSONValue {
        guard let res, res.status == .resolved, let v = res.variant else { return .null }
        return .object([("variant", .int(v)), ("template", .string(res.template ?? "")),
                        ("groups", .array(res.groups.map(JSONValue.string))), ("versions", res.versions.map(JSONValue.string) ?? .null)])
    }

    public static func line(_ r: Record) -> String {
        var s = ""
        object(r).write(to: &s)
        s += "\n"
        return s
    }
}
