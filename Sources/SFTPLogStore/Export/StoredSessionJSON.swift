import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// Sessions' JSON written straight from their stored rows, without building a
/// `SessionTimeline` per session: decoding 63k sessions with their 350k
/// operations and 90k findings into values (a String per column) cost twice
/// what reading the rows did. The bytes are those of `SessionJSON.object` of
/// the loaded session (`SessionReadTests` checks every sample session, with and
/// without timeline); keep the two in step.
struct StoredSessionJSON {
    private typealias C = SessionQuery.SessionColumn
    private let db: Database

    init(_ db: Database) { self.db = db }

    /// Appends the JSON objects of these sessions, in this order, framed as
    /// `framing` with no separator before the first; returns how many.
    func write(rowids: ArraySlice<Int64>, framing: SessionExport.Framing, withTimeline: Bool, withEvidence: Bool = false,
               to out: inout JSONBytes) throws -> Int {
        // Each session's parts before and after its operations and findings, which are
        // read afterwards, a query per table for the whole chunk.
        var parts = JSONBytes(capacity: rowids.count * 1024)
        var slots = [(id: String, head: Range<Int>, tail: Range<Int>)?](repeating: nil, count: rowids.count)
        var place: [Int64: Int] = [:]
        place.reserveCapacity(rowids.count)
        var list = JSONBytes(capacity: rowids.count * 8)
        list.raw("[")
        for (k, rowid) in rowids.enumerated() { if k > 0 { list.raw(",") }; list.int(Int(rowid)); place[rowid] = k }
        list.raw("]")
        // The chunk's rows in one query (they come in rowid order): a query per session
        // cost its statement reset, binding and step on top of the row.
        let r = try RawRows(db, sql: "SELECT \(C.selectList), rowid FROM \(CompactSessions.withRowidSQL) WHERE rowid IN (SELECT value FROM json_each(?))",
                            arguments: [.text(list.text)])
        let rowidColumn = Int32(C.allCases.count)
        while try r.next() {
            guard let k = r.int(at: rowidColumn).flatMap({ place[Int64($0)] }) else { continue }
            var start = parts.bytes.count
            StoredSessionJSON.head(r, to: &parts)
            let head = start..<parts.bytes.count
            start = parts.bytes.count
            StoredSessionJSON.tail(r, to: &parts)
            slots[k] = (r.text(at: C.id.rawValue) ?? "", head, start..<parts.bytes.count)
        }
        let sessions = slots.compactMap { $0 }  // one read transaction: none can vanish
        let ids = sessions.map(\.id)
        guard !ids.isEmpty else { return 0 }
        var index: [String: Int] = [:]
        index.reserveCapacity(ids.count)
        for (k, id) in ids.enumerated() { index[id] = k }
        let operations = try children("session_operations", "op, path, ok, bytes, to_path, local_path, seconds, bytes_per_second, detail, line",
                                      ids: ids, index: index, render: StoredSessionJSON.operation)
        let findings = try children("findings", "algorithm, category, direction, rating, reason, reference",
                                    ids: ids, index: index, render: StoredSessionJSON.finding)
        let evidence = withEvidence ? try EvidenceRows.links(db, ids: ids) : [:]
        for k in ids.indices {
            if framing == .array, k > 0 { out.bytes.append(0x2C) }
            out.bytes.append(contentsOf: parts.bytes[sessions[k].head])
            out.raw(",\"operations\":[")
            if let range = operations.ranges[k] { out.bytes.append(contentsOf: operations.bytes.bytes[range]) }
            out.raw("],\"findings\":[")
            if let range = findings.ranges[k] { out.bytes.append(contentsOf: findings.bytes.bytes[range]) }
            out.raw("]")
            out.bytes.append(contentsOf: parts.bytes[sessions[k].tail])
            if withEvidence {
                out.raw(",\"evidence\":")
                // Sessions stored before the links were kept have none: null, not an empty list.
                out.value(evidence[ids[k]].map { Evidence.json($0, file: "") } ?? .null)
            }
            if withTimeline {
                out.raw(",\"timeline\":")
                SessionJSON.writeTimeline(try SessionQuery.timeline(db, sessionID: ids[k]), to: &out)
            }
            out.raw("}")
            if framing == .lines { out.bytes.append(0x0A) }
        }
        return ids.count
    }

    /// Renders the rows of a child table for these sessions (comma-separated per
    /// session, in position order). Reading the chunk's stretch of the table in
    /// stored order instead of through the session index measured no faster.
    private func children(_ table: String, _ columns: String, ids: [String], index: [String: Int],
                          render: (RawRows, inout JSONBytes) -> Void) throws -> (bytes: JSONBytes, ranges: [Range<Int>?]) {
        // session_id first: `render` reads the columns after it.
        let r = try SessionQuery.childRows(db, "SELECT session_id, \(columns) FROM \(table)", ids: ids)
        var out = JSONBytes(capacity: 1 << 16)
        var ranges = [Range<Int>?](repeating: nil, count: index.count)
        var current: [UInt8] = [], currentIndex: Int?, start = 0
        func close() { if let i = currentIndex { ranges[i] = start..<out.bytes.count } }
        while try r.next() {
            let same = r.withBytes(at: 0) { p in p.count == current.count && (p.isEmpty || memcmp(p.baseAddress!, current, p.count) == 0) }
            if same != true {
                close()
                current = r.bytes(at: 0) ?? []
                currentIndex = index[String(decoding: current, as: UTF8.self)]
                start = out.bytes.count
            } else if currentIndex != nil {
                out.bytes.append(0x2C)
            }
            if currentIndex != nil { render(r, &out) }
        }
        close()
        return (out, ranges)
    }

    // MARK: columns

    @inline(__always) private static func text(_ r: RawRows, _ i: Int32, _ j: inout JSONBytes) {
        if r.withBytes(at: i, { p -> Void in j.string(stored: p) }) == nil { j.raw("\"\"") }
    }

    @inline(__always) private static func optionalText(_ r: RawRows, _ i: Int32, _ j: inout JSONBytes) {
        if r.withBytes(at: i, { p -> Void in j.string(stored: p) }) == nil { j.raw("null") }
    }

    @inline(__always) private static func optionalInt(_ r: RawRows, _ i: Int32, _ j: inout JSONBytes) {
        if let v = r.int(at: i) { j.int(v) } else { j.raw("null") }
    }

    @inline(__always) private static func optionalBool(_ r: RawRows, _ i: Int32, _ j: inout JSONBytes) {
        if let v = r.bool(at: i) { j.raw(v ? "true" : "false") } else { j.raw("null") }
    }

    private static func timestamp(_ r: RawRows, _ i: Int32) -> LogTimestamp? {
        r.withBytes(at: i) { TimestampScanner.iso($0, at: 0)?.0 } ?? nil
    }

    // MARK: objects (the field order of `SessionJSON.object`)
    // Each key is written with its punctuation as one literal (`,"key":`): appending
    // separator, quotes, name and colon one by one was a tenth of the export.

    private static func head(_ r: RawRows, to j: inout JSONBytes) {
        func opt(_ key: StaticString, _ c: C) { j.raw(key); optionalText(r, c.rawValue, &j) }
        j.raw(#"{"id":"#); text(r, C.id.rawValue, &j)
        j.raw(#","source":"#); text(r, C.source.rawValue, &j)
        j.raw(#","side":"#); text(r, C.side.rawValue, &j)
        j.raw(#","file":"#); text(r, C.file.rawValue, &j)
        if r.withBytes(at: C.peer_address.rawValue, { p -> Void in j.raw(#","peer":{"address":"#); j.string(stored: p) }) != nil {
            j.raw(#","port":"#); optionalInt(r, C.peer_port.rawValue, &j); j.raw("}")
        } else {
            j.raw(#","peer":null"#)
        }
        opt(#","user":"#, .user)
        let start = timestamp(r, C.start.rawValue), end = timestamp(r, C.end.rawValue)
        j.raw(#","start":"#); if let start { j.string(start.iso) } else { j.raw("null") }
        j.raw(#","end":"#); if let end { j.string(end.iso) } else { j.raw("null") }
        j.raw(#","duration":"#)
        if let s = timestamp(r, C.start_utc.rawValue)?.epoch(in: SessionQuery.utcZone),
           let e = timestamp(r, C.end_utc.rawValue)?.epoch(in: SessionQuery.utcZone) {
            j.value(.double((max(0, e - s) * 1000).rounded() / 1000))
        } else {
            j.raw("null")
        }
        j.raw(#","outcome":"#); text(r, C.outcome.rawValue, &j); opt(#","outcome_detail":"#, .outcome_detail)
        j.raw(#","closed":"#); optionalBool(r, C.closed.rawValue, &j)
        opt(#","client_version":"#, .client_version); opt(#","server_version":"#, .server_version)
        opt(#","negotiated":{"kex":"#, .kex)
        opt(#","hostkey":"#, .hostkey); opt(#","cipher_c2s":"#, .cipher_c2s); opt(#","cipher_s2c":"#, .cipher_s2c)
        opt(#","mac_c2s":"#, .mac_c2s); opt(#","mac_s2c":"#, .mac_s2c)
        opt(#","compression_c2s":"#, .compression_c2s); opt(#","compression_s2c":"#, .compression_s2c); j.raw("}")
        j.raw(#","strict_kex":"#); optionalBool(r, C.strict_kex.rawValue, &j)
        j.raw(#","auth":{"methods_tried":["#)
        if r.withBytes(at: C.auth_methods_tried.rawValue, { PlainStoredJSON.stringArrayItems($0, to: &j) }) != true,
           let m = r.bytes(at: C.auth_methods_tried.rawValue), case .array(let a)? = JSONValue.parse(m) {
            for (k, s) in a.compactMap(\.stringValue).enumerated() { if k > 0 { j.raw(",") }; j.string(s) }
        }
        j.raw("]"); opt(#","succeeded_method":"#, .auth_succeeded_method)
        j.raw(#","failures":"#); j.int(r.int(at: C.auth_failures.rawValue) ?? 0); j.raw("}")
        opt(#","host_key_check":"#, .host_key_check)
    }

    private static func tail(_ r: RawRows, to j: inout JSONBytes) {
        j.raw(#","terrapin_vulnerable":"#); optionalBool(r, C.terrapin_vulnerable.rawValue, &j)
        j.raw(#","event_count":"#); j.int(r.int(at: C.event_count.rawValue) ?? 0)
        j.raw(#","location":"#); optionalText(r, C.location.rawValue, &j)
        j.raw(#","component":"#); optionalText(r, C.component.rawValue, &j)
        j.raw(#","lines":{"first":"#); j.int(r.int(at: C.first_line.rawValue) ?? 0)
        j.raw(#","last":"#); j.int(r.int(at: C.last_line.rawValue) ?? 0); j.raw("}")
        j.raw(#","details":"#)
        if r.withBytes(at: C.details.rawValue, { PlainStoredJSON.object($0, to: &j) }) != true {
            if let d = r.bytes(at: C.details.rawValue), case .object(let pairs)? = JSONValue.parse(d) { j.object(pairs) } else { j.object([]) }
        }
        _ = r.withBytes(at: C.terrapin_explanation.rawValue) { p -> Void in j.raw(#","terrapin_explanation":"#); j.string(stored: p) }
    }

    /// Columns: session_id, op, path, ok, bytes, to_path, local_path, seconds, bytes_per_second, detail, line.
    private static func operation(_ r: RawRows, to j: inout JSONBytes) {
        j.raw(#"{"op":"#); text(r, 1, &j); j.raw(#","path":"#); text(r, 2, &j)
        j.raw(#","ok":"#); optionalBool(r, 3, &j); j.raw(#","bytes":"#); optionalInt(r, 4, &j)
        _ = r.withBytes(at: 5) { p -> Void in j.raw(#","to":"#); j.string(stored: p) }
        _ = r.withBytes(at: 6) { p -> Void in j.raw(#","local":"#); j.string(stored: p) }
        if let x = r.double(at: 7) { j.raw(#","seconds":"#); j.value(.double(x)) }
        if let x = r.double(at: 8) { j.raw(#","bytes_per_second":"#); j.value(.double(x)) }
        _ = r.withBytes(at: 9) { p -> Void in j.raw(#","detail":"#); j.string(stored: p) }
        j.raw(#","line":"#); j.int(r.int(at: 10) ?? 0); j.raw("}")
    }

    /// Columns: session_id, algorithm, category, direction, rating, reason, reference.
    private static func finding(_ r: RawRows, to j: inout JSONBytes) {
        j.raw(#"{"algorithm":"#); text(r, 1, &j); j.raw(#","category":"#); text(r, 2, &j)
        j.raw(#","direction":"#); optionalText(r, 3, &j); j.raw(#","rating":"#); text(r, 4, &j)
        j.raw(#","reason":"#); text(r, 5, &j); j.raw(#","reference":"#); text(r, 6, &j); j.raw("}")
    }
}

/// Stored JSON columns written back the way `JSONBytes` writes their parsed
/// value (object keys sorted, a repeated key's last value kept), by copying
/// the bytes when every token is plain: strings of printable ASCII without
/// escapes, integers as `JSONValue` writes them, `true`, `false`, `null`.
/// Parsing each session's details and methods into values was a twentieth of
/// `sessions --json`. False (nothing written): not plain, parse it instead.
enum PlainStoredJSON {
    /// A flat object of plain values.
    static func object(_ p: UnsafeBufferPointer<UInt8>, to j: inout JSONBytes) -> Bool {
        let n = p.count
        guard n >= 2, p[0] == 0x7B, p[n - 1] == 0x7D else { return false }
        var pairs: [(key: Range<Int>, value: Range<Int>)] = []
        var i = 1
        if n > 2 {
            while true {
                guard let k = string(p, &i), i < n, p[i] == 0x3A else { return false }
                i += 1
                guard let v = value(p, &i), i < n else { return false }
                let key = k.lowerBound + 1..<k.upperBound - 1
                if let at = pairs.firstIndex(where: { same(p, $0.key, key) }) { pairs[at].value = v } else { pairs.append((key, v)) }
                if p[i] == 0x2C { i += 1; continue }
                guard p[i] == 0x7D, i == n - 1 else { return false }
                break
            }
        }
        // Keys are unique by now; byte order is String order for ASCII.
        let order = pairs.indices.sorted {
            UnsafeBufferPointer(rebasing: p[pairs[$0].key]).lexicographicallyPrecedes(UnsafeBufferPointer(rebasing: p[pairs[$1].key]))
        }
        j.bytes.append(0x7B)
        for (k, at) in order.enumerated() {
            if k > 0 { j.bytes.append(0x2C) }
            let key = pairs[at].key
            j.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[key.lowerBound - 1..<key.upperBound + 1]))
            j.bytes.append(0x3A)
            j.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[pairs[at].value]))
        }
        j.bytes.append(0x7D)
        return true
    }

    /// The items of an array of plain strings, without its brackets.
    static func stringArrayItems(_ p: UnsafeBufferPointer<UInt8>, to j: inout JSONBytes) -> Bool {
        let n = p.count
        guard n >= 2, p[0] == 0x5B, p[n - 1] == 0x5D else { return false }
        var i = 1
        if n > 2 {
            while true {
                guard string(p, &i) != nil, i < n else { return false }
                if p[i] == 0x2C { i += 1; continue }
                guard p[i] == 0x5D, i == n - 1 else { return false }
                break
            }
        }
        j.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[1..<n - 1]))
        return true
    }

    private static func same(_ p: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        a.count == b.count && UnsafeBufferPointer(rebasing: p[a]).elementsEqual(UnsafeBufferPointer(rebasing: p[b]))
    }

    /// A plain string at `i`, quotes included.
    private static func string(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Range<Int>? {
        guard i < p.count, p[i] == 0x22 else { return nil }
        let start = i
        i += 1
        while i < p.count, p[i] != 0x22 {
            guard p[i] >= 0x20, p[i] <= 0x7E, p[i] != 0x5C else { return nil }
            i += 1
        }
        guard i < p.count else { return nil }
        i += 1
        return start..<i
    }

    /// A plain value at `i`: a plain string, an integer written as `JSONValue`
    /// writes it (no leading zero, no "-0", at most 15 digits), or a literal.
    private static func value(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Range<Int>? {
        guard i < p.count else { return nil }
        let start = i
        func literal(_ s: StaticString) -> Range<Int>? {
            let m = s.utf8CodeUnitCount
            guard i + m <= p.count else { return nil }
            for k in 0..<m where p[i + k] != s.utf8Start[k] { return nil }
            i += m
            return start..<i
        }
        switch p[i] {
        case 0x22: return string(p, &i)
        case 0x74: return literal("true")
        case 0x66: return literal("false")
        case 0x6E: return literal("null")
        default:
            if p[i] == 0x2D { i += 1 }
            let digits = i
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39 { i += 1 }
            let count = i - digits
            guard count > 0, count <= 15, !(p[digits] == 0x30 && (count > 1 || digits > start)) else { return nil }
            return start..<i
        }
    }
}
