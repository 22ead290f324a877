import Foundation
import SFTPLogRecords

/// SFTPPlus JSON events: one object per line, or the HTTP handler's
/// `{"events":[...]}` batches. `timestamp.timestamp` (Unix seconds) is the
/// instant; `cwa_14051` is only its rendering to the second.
enum JSONEvents {
    static func records(_ c: UnsafeBufferPointer<UInt8>, _ p: PendingLine, file: String) -> [Record]? {
        var text = Array(c)
        var repairs: [String] = []
        var parsed = JSONValue.parse(text)
        if parsed == nil, let fixed = JSONRepair.repaired(c) {
            parsed = JSONValue.parse(fixed.bytes)
            if parsed != nil { text = fixed.bytes; repairs = fixed.repairs }
        }
        guard let value = parsed, case .object = value else { return nil }
        let events: [JSONValue]
        if case .array(let list)? = value["events"] { events = list } else { events = [value] }
        // A pretty-printed batch spans lines: each event is placed on the line its object opens.
        let starts = p.lineCount > 1 && value["events"] != nil ? JSONRepair.elementLines(text) : []
        var out: [Record] = []
        for (seq, e) in events.enumerated() {
            guard case .object = e, e["id"] != nil || e["message"] != nil else { return nil }
            var r = p.record(.sftpplusEvent, file: file)
            r.layout = "json"
            if seq < starts.count {
                r.line = p.line + starts[seq]
                // Where that line begins, as for any record (evidence links give it).
                if let o = p.offset(ofLine: starts[seq]) { r.offset = o }
            }
            if events.count > 1 || value["events"] != nil { r.extra.append(("batch_index", .int(seq))) }
            if !repairs.isEmpty { r.extra.append(("json_repaired", .array(repairs.map(JSONValue.string)))) }
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

/// Published examples of event JSON are not always valid JSON: comments,
/// trailing commas, an elided `...`. Each is blanked out with spaces, so
/// offsets and line numbers stay those of the text as written.
enum JSONRepair {
    static func repaired(_ c: UnsafeBufferPointer<UInt8>) -> (bytes: [UInt8], repairs: [String])? {
        var b = Array(c)
        var repairs: [String] = []
        func note(_ r: String) { if !repairs.contains(r) { repairs.append(r) } }
        func blank(_ a: Int, _ z: Int) { for k in a..<z where b[k] != 0x0A { b[k] = 0x20 } }
        var i = 0
        var inString = false, escaped = false
        while i < b.count {
            let ch = b[i]
            if inString {
                if escaped { escaped = false } else if ch == 0x5C { escaped = true } else if ch == 0x22 { inString = false }
                i += 1
                continue
            }
            if ch == 0x22 { inString = true; i += 1; continue }
            if ch == 0x23 || (ch == 0x2F && i + 1 < b.count && b[i + 1] == 0x2F) {
                var z = i
                while z < b.count && b[z] != 0x0A { z += 1 }
                blank(i, z); note("comment"); i = z
                continue
            }
            if ch == 0x2F && i + 1 < b.count && b[i + 1] == 0x2A {
                var z = i + 2
                while z + 1 < b.count && !(b[z] == 0x2A && b[z + 1] == 0x2F) { z += 1 }
                z = min(z + 2, b.count)
                blank(i, z); note("comment"); i = z
                continue
            }
            let dots = ch == 0x2E && i + 2 < b.count && b[i + 1] == 0x2E && b[i + 2] == 0x2E
            let ellipsis = ch == 0xE2 && i + 2 < b.count && b[i + 1] == 0x80 && b[i + 2] == 0xA6
            if dots || ellipsis {
                var z = i
                while z < b.count && (b[z] == 0x2E || (b[z] == 0xE2 && z + 2 < b.count && b[z + 1] == 0x80 && b[z + 2] == 0xA6)) {
                    z += b[z] == 0x2E ? 1 : 3
                }
                blank(i, z)
                // The elided element's comma goes with it.
                var k = z
                while k < b.count && (b[k] == 0x20 || b[k] == 0x0A || b[k] == 0x0D || b[k] == 0x09) { k += 1 }
                if k < b.count && b[k] == 0x2C { b[k] = 0x20 }
                note("elision"); i = z
                continue
            }
            i += 1
        }
        // Trailing commas (also those an elision or comment left behind).
        inString = false; escaped = false
        var lastComma = -1
        for k in 0..<b.count {
            let ch = b[k]
            if inString {
                if escaped { escaped = false } else if ch == 0x5C { escaped = true } else if ch == 0x22 { inString = false }
                continue
            }
            switch ch {
            case 0x22: inString = true; lastComma = -1
            case 0x2C: lastComma = k
            case 0x7D, 0x5D:
                if lastComma >= 0 { b[lastComma] = 0x20; note("trailing comma") }
                lastComma = -1
            case 0x20, 0x0A, 0x0D, 0x09: break
            default: lastComma = -1
            }
        }
        return repairs.isEmpty ? nil : (b, repairs)
    }

    /// For `{"events": [ {...}, {...} ]}`: the line (0-based, within the text) on
    /// which each element of the events array opens.
    static func elementLines(_ b: [UInt8]) -> [Int] {
        var out: [Int] = []
        var depth = 0, line = 0
        var inString = false, escaped = false
        for ch in b {
            if ch == 0x0A { line += 1 }
            if inString {
                if escaped { escaped = false } else if ch == 0x5C { escaped = true } else if ch == 0x22 { inString = false }
                continue
            }
            switch ch {
            case 0x22: inString = true
            case 0x7B, 0x5B:
                if depth == 2 { out.append(line) }
                depth += 1
            case 0x7D, 0x5D: depth -= 1
            default: break
            }
        }
        return out
    }

    /// The line (0-based) where JSON text stops parsing, from the parser's own
    /// account of the byte it stopped at; nil when it does not say.
    static func failureLine(_ b: [UInt8]) -> Int? {
        guard let at = JSONValue.failureOffset(b) else { return nil }
        return b.prefix(min(at, b.count)).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}
