import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

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
        if needsRawBase64(r) { o.append(("raw_base64", .string(Data(r.raw).base64EncodedString()))) }
        return .object(o)
    }

    /// The exact bytes are printed when the output would not otherwise hold them:
    /// bytes that are not UTF-8, and unparsed records whose `text` is not the
    /// input verbatim (joined continuation lines, a `| ` block bar removed), so
    /// every unparsed line can be recovered byte for byte from NDJSON.
    static func needsRawBase64(_ r: Record) -> Bool {
        if !r.rawIsUTF8 { return true }
        guard r.kind == .unparsed else { return false }
        var text = r.text ?? ""
        return text.withUTF8 { t in
            r.raw.withUnsafeBufferPointer { raw in
                t.count != raw.count || (t.count > 0 && memcmp(t.baseAddress!, raw.baseAddress!, t.count) != 0)
            }
        }
    }

    static func catalog(_ res: EventResolution?) -> JSONValue {
        guard let res, res.status == .resolved, let v = res.variant else { return .null }
        if let t = res.wording { return t.catalogObject }
        return .object([("variant", .int(v)), ("template", .string(res.template ?? "")),
                        ("groups", .array(res.groups.map(JSONValue.string))), ("versions", res.versions.map(JSONValue.string) ?? .null)])
    }

    public static func line(_ r: Record) -> String {
        var out = JSONBytes()
        write(r, to: &out)
        return out.text
    }

    /// The same object as `object(_:)`, written straight into bytes (the `parse` hot path).
    public static func write(_ r: Record, to o: inout JSONBytes) {
        o.raw("{\"kind\":"); o.string(r.kind.rawValue)
        o.raw(",\"file\":"); o.string(r.file)
        o.raw(",\"line\":"); o.int(r.line)
        func opt(_ k: StaticString, _ v: String?) {
            o.bytes.append(0x2C); o.key(k)
            if let v { o.string(v) } else { o.raw("null") }
        }
        if r.kind == .unparsed {
            o.raw(",\"text\":"); o.string(r.text ?? "")
            if let d = r.diagnostic { o.raw(",\"diagnostic\":"); o.string(d) }
        } else {
            opt("layout", r.layout)
            opt("ts", r.timestamp?.iso)
            if let note = r.timestampNote { opt("ts_note", note) }
            if r.kind == .sftpplusEvent || r.eventID != nil {
                opt("event_id", r.eventID)
                opt("component", r.component)
                opt("account", r.account)
                o.raw(",\"peer\":")
                if let p = r.peer {
                    o.raw("{\"address\":"); o.string(p.address); o.raw(",\"port\":")
                    if let port = p.port { o.int(port) } else { o.raw("null") }
                    o.bytes.append(0x7D)
                } else { o.raw("null") }
                opt("message", r.message)
                o.raw(",\"catalog\":")
                if let res = r.resolution, res.status == .resolved, let t = res.wording { o.bytes.append(contentsOf: t.catalogJSON) }
                else { o.value(catalog(r.resolution)) }
                o.raw(",\"fields\":"); o.object(r.resolution?.fields ?? [])
            } else {
                if let m = r.message { opt("message", m) }
                if let t = r.text { opt("text", t) }
            }
            for (k, v) in r.extra { o.bytes.append(0x2C); o.string(k); o.bytes.append(0x3A); o.value(v) }
        }
        if r.lineCount > 1 { o.raw(",\"lines\":"); o.int(r.lineCount) }
        if needsRawBase64(r) { opt("raw_base64", Data(r.raw).base64EncodedString()) }
        o.raw("}\n")
    }
}
