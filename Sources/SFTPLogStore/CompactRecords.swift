import Foundation
import SFTPLogRecords
import SFTPLogCatalog

/// How a record is stored in `record_rows` (migration `v8-compact-records`):
/// what the view `records` can give back exactly is stored once, in a compact
/// form, and the rest as written.
///
/// - The time is UTC microseconds plus a small integer saying how it was
///   written (fraction digits, offset, `Z` or none).
/// - A resolved message is its wording (`record_wordings`) and its field
///   values; the view puts the text and the `fields` object back together.
/// - Kinds, layouts, components and peer addresses are ids of `record_terms`
///   (accounts stay text: a lookup per row made the README's events-per-account
///   query 30% slower); event IDs and
///   session ids integers when they are plain decimal or 12-digit hex.
/// - A message or `extra` object stored as written is an id of `record_terms`
///   when the same text was seen before (migration v10): OpenSSH's debug lines
///   repeat, a few thousand distinct texts in a million lines.
///
/// Every compact form is checked when it is made: the Swift functions here
/// compute what the view's SQL will give, and a value whose rebuild differs by
/// a byte is stored as written instead. Keep the two in step (`viewSQL`).
enum CompactRecords {
    // MARK: Time

    struct Time: Equatable { var us: Int64; var form: Int64 }

    /// Form codes: fraction digits (0…6) + 8 × style + 32 × (offset minutes + 1440).
    enum TimeStyle: Int { case offset = 0, zulu = 1, none = 2 }

    /// The compact time of a timestamp written as `ts`, whose instant renders
    /// as `utc`, when the view's formulas give back exactly those two texts.
    static func time(_ t: LogTimestamp, ts: String, utc: String) -> Time? {
        var ts = ts, utc = utc
        return ts.withUTF8 { ts in utc.withUTF8 { utc in time(t, ts: ts, utc: utc) } }
    }

    /// `time(_:ts:utc:)` of a record's timestamp as the ingest renders it
    /// (`iso`, lent by `LogTimestamp.withISO`, and the UTC rendering of its
    /// instant in `zone`), compared on the stack: making both Strings for
    /// each record cost the parsing thread as much as the check itself.
    static func time(_ t: LogTimestamp, iso: UnsafeBufferPointer<UInt8>, zone: TimeZone) -> Time? {
        let epoch = t.epoch(in: zone)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { b -> Time? in
            guard let n = LogTimestamp.writeUTCISO(epoch, fractionDigits: t.fractionCount, to: b) else {
                return LogTimestamp.withUTCISO(epoch, fractionDigits: t.fractionCount) { utc in time(t, ts: iso, utc: utc) }
            }
            return time(t, ts: iso, utc: UnsafeBufferPointer(rebasing: b[0..<n]))
        }
    }

    private static func time(_ t: LogTimestamp, ts: UnsafeBufferPointer<UInt8>, utc: UnsafeBufferPointer<UInt8>) -> Time? {
        guard let (wall, micros, digits) = wallClock(t) else { return nil }
        let offset: Int, style: TimeStyle
        if t.zulu {
            offset = 0; style = .zulu
        } else if let o = t.offsetSeconds {
            offset = o; style = .offset
        } else {
            // Written without an offset: the one the zone gave, from the UTC rendering.
            guard let u = wallSeconds(utc) else { return nil }
            offset = wall - u; style = .none
        }
        guard offset % 60 == 0, abs(offset) < 86400, wall - offset >= 0, wall >= 0 else { return nil }
        let us = Int64(wall - offset) * 1_000_000 + Int64(micros)
        let form = Int64(digits + 8 * style.rawValue + 32 * (offset / 60 + 1440))
        guard matches(us: us, form: form, ts: ts, utc: utc) else { return nil }
        return Time(us: us, form: form)
    }

    /// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS…` read as UTC.
    private static func wallSeconds(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let (t, _) = TimestampScanner.iso(p) else { return nil }
        return LogTimestamp.daysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second
    }

    /// What the view gives for `ts` and `ts_utc`, compared with the texts.
    private static func matches(us: Int64, form: Int64, ts: UnsafeBufferPointer<UInt8>, utc: UnsafeBufferPointer<UInt8>) -> Bool {
        withRendering(us: us, form: form) { local, u in same(local, ts) && same(u, utc) } ?? false
    }

    @inline(__always) private static func same(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// The view's `ts` and `ts_utc` (`timeSQL`), computed in Swift.
    static func render(us: Int64, form: Int64) -> ([UInt8], [UInt8])? {
        withRendering(us: us, form: form) { (Array($0), Array($1)) }
    }

    /// `render`'s two texts, lent to `body` from the stack.
    static func withRendering<R>(us: Int64, form: Int64, _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> R) -> R? {
        guard us >= 0, form >= 0, form % 8 <= 6 else { return nil }
        let digits = Int(form % 8), style = Int((form / 8) % 4), offsetMinutes = Int(form / 32) - 1440
        let secs = Int(us / 1_000_000), fraction = Int(us % 1_000_000)
        // At most `YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM` (32 bytes): civil() refuses years past 9999.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { b -> R? in
            var local = Bytes(b, from: 0), utc = Bytes(b, from: 32)
            func fractionDigits(_ out: inout Bytes) {
                guard digits > 0 else { return }
                out.append(0x2E)
                var scale = 100_000
                for _ in 0..<digits { out.append(UInt8((fraction / scale) % 10) + 0x30); scale /= 10 }
            }
            guard civil(secs + offsetMinutes * 60, &local), civil(secs, &utc) else { return nil }
            fractionDigits(&local)
            switch style {
            case 0:
                let a = abs(offsetMinutes)
                local.append(offsetMinutes < 0 ? 0x2D : 0x2B)
                pad(a / 60, 2, &local); local.append(0x3A); pad(a % 60, 2, &local)
            case 1: local.append(0x5A)
            default: break
            }
            fractionDigits(&utc)
            utc.append(0x5A)
            return body(local.written, utc.written)
        }
    }

    /// Appends into a part of a stack buffer (32 bytes, more than a rendering needs).
    private struct Bytes {
        let base: UnsafeMutablePointer<UInt8>
        var count = 0
        init(_ b: UnsafeMutableBufferPointer<UInt8>, from: Int) { base = b.baseAddress! + from }
        mutating func append(_ c: UInt8) {
            precondition(count < 32)
            base[count] = c; count += 1
        }
        var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }
    }

    /// `datetime(secs, 'unixepoch')` with a `T`.
    private static func civil(_ secs: Int, _ out: inout Bytes) -> Bool {
        guard secs >= 0 else { return false }
        let (y, m, d) = LogTimestamp.civilFromDays(secs / 86400)
        guard y <= 9999 else { return false }
        let r = secs % 86400
        pad(y, 4, &out)
        out.append(0x2D); pad(m, 2, &out); out.append(0x2D); pad(d, 2, &out); out.append(0x54)
        pad(r / 3600, 2, &out); out.append(0x3A); pad((r % 3600) / 60, 2, &out); out.append(0x3A); pad(r % 60, 2, &out)
        return true
    }

    /// The last `width` (2 or 4) decimal digits of `v` (not negative).
    @inline(__always) private static func pad(_ v: Int, _ width: Int, _ out: inout Bytes) {
        if width == 4 {
            out.append(UInt8(truncatingIfNeeded: v / 1000 % 10) &+ 0x30)
            out.append(UInt8(truncatingIfNeeded: v / 100 % 10) &+ 0x30)
        }
        out.append(UInt8(truncatingIfNeeded: v / 10 % 10) &+ 0x30)
        out.append(UInt8(truncatingIfNeeded: v % 10) &+ 0x30)
    }

    // MARK: Identifiers

    /// An event ID stored as an integer: plain decimal, no leading zero.
    static func eventNumber(_ id: String) -> Int64? {
        let u = id.utf8
        guard (1...18).contains(u.count), u.first != 0x30 || u.count == 1, u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(id)
    }

    /// A session id stored as an integer: 12 lowercase hex digits.
    static func sessionNumber(_ id: String) -> Int64? {
        let u = id.utf8
        guard u.count == 12, u.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return Int64(id, radix: 16)
    }

    /// The stored form of a session id, for queries on `record_rows.session_key`.
    static func sessionKey(_ id: String) -> SQLValue {
        sessionNumber(id).map(SQLValue.int) ?? .text(id)
    }

    // MARK: Messages

    /// The JSON array of a resolved record's field values, in `wording.fieldOrder`,
    /// when the view rebuilds from it exactly `message` and `fieldsJSON` (the
    /// record's `fields` object as written).
    ///
    /// A string value `reference` gives an id for is written as `[id]`: the
    /// view takes its text from `record_terms` (`reference` only gives ids to
    /// values SQLite's JSON writes as `JSONBytes` does).
    static func values(_ wording: EventTemplate, fields: [(String, JSONValue)], fieldsJSON: FieldsJSON, message: String,
                       reference: (String) -> Int64? = { _ in nil }) -> [UInt8]? {
        guard fields.count == wording.fieldOrder.count, !message.isEmpty else { return nil }
        let written: [UInt8]?
        switch fieldsJSON {
        case .written(let w):
            guard fields.isEmpty == (w == nil) else { return nil }
            written = w
        case .rendered:
            written = nil
        }
        var vals = JSONBytes(capacity: 32 + 2 * message.utf8.count)
        vals.bytes.append(0x5B)
        // Where each value's JSON text lies in `vals`, and whether it is a term.
        var spans: [(Range<Int>, term: Bool)] = []
        spans.reserveCapacity(fields.count)
        var escapedTerm = false
        for (k, (name, v)) in fields.enumerated() {
            guard name == wording.fieldOrder[k] else { return nil }
            if k > 0 { vals.bytes.append(0x2C) }
            let start = vals.bytes.count
            var term = false
            switch v {
            case .string(let s):
                // A NUL would end the text SQLite concatenates.
                guard !CompactRecords.containsNUL(s) else { return nil }
                if let id = reference(s) {
                    vals.bytes.append(0x5B); vals.int(Int(id)); vals.bytes.append(0x5D)
                    term = true
                    // `fields` quotes a term as it is, which is its JSON only when it needs no escape.
                    if case .rendered = fieldsJSON, !TermDictionary.needsNoEscape(s.utf8) { escapedTerm = true }
                } else {
                    vals.string(s)
                }
            case .int, .double:
                vals.value(v)
            default:
                return nil
            }
            spans.append((start..<vals.bytes.count, term))
        }
        vals.bytes.append(0x5D)
        if case .rendered = fieldsJSON {
            // The view's object is `JSONBytes.object(fields)` byte for byte when
            // no name needs an escape and every term quoted as is is its JSON
            // (checked after every value has been through `reference`, as below).
            guard !escapedTerm, fields.allSatisfy({ FieldsJSON.isPlainName($0.0) }) else { return nil }
        }
        // The `fields` object the view makes, `{"name":value,…}`, compared as it
        // goes: a value's JSON text in `vals` as is, a term quoted (it needs no escape).
        if let fieldsJSON = written {
            let ok = fieldsJSON.withUnsafeBufferPointer { f -> Bool in
                var m = ExpectedBytes(f)
                m.take(0x7B)
                for (k, (name, v)) in fields.enumerated() where m.ok {
                    guard FieldsJSON.isPlainName(name) else { return false }
                    if k > 0 { m.take(0x2C) }
                    m.take(0x22); m.take(name); m.take(0x22); m.take(0x3A)
                    if spans[k].term, case .string(let s) = v {
                        m.take(0x22); m.take(s); m.take(0x22)
                    } else {
                        m.take(vals.bytes[spans[k].0])
                    }
                }
                m.take(0x7D)
                return m.matchedAll
            }
            guard ok else { return nil }
        }
        // The message: literal pieces and the values' texts (strings unescaped,
        // numbers as in `vals`), in template order, compared as it goes.
        var message = message
        let ok = message.withUTF8 { msg -> Bool in
            var m = ExpectedBytes(msg)
            for (k, piece) in wording.pieces.enumerated() where m.ok {
                switch piece {
                case .literal(let l): m.take(l)
                case .field:
                    let f = wording.pieceFields[k]
                    if case .string(let s) = fields[f].1 { m.take(s) } else { m.take(vals.bytes[spans[f].0]) }
                }
            }
            return m.matchedAll
        }
        guard ok else { return nil }
        return vals.bytes
    }

    static func containsNUL(_ s: String) -> Bool {
        s.utf8.withContiguousStorageIfAvailable { $0.count > 0 && memchr($0.baseAddress!, 0, $0.count) != nil } ?? s.utf8.contains(0)
    }

    /// The `fields` object a resolved record's values must give back.
    enum FieldsJSON {
        /// As stored before (a migration's rows).
        case written([UInt8]?)
        /// `JSONBytes.object` of the fields (the ingest's): not made to be compared.
        case rendered

        /// A name the view writes between quotes as it is, as `JSONBytes` does.
        static func isPlainName(_ name: String) -> Bool {
            name.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }
        }
    }

    /// A record's `extra` as a shape (its keys, a JSON array) and its values (a
    /// JSON array of each value's JSON text), when the view's object of the two
    /// is byte for byte `extraJSON`: keys with nothing to escape, values as
    /// `JSONBytes` writes them, which SQLite's `->` gives back as they are.
    static func extraShape(_ extra: [(String, JSONValue)], extraJSON: [UInt8]?) -> (keys: [UInt8], values: [UInt8])? {
        guard !extra.isEmpty, let extraJSON else { return nil }
        var keys = JSONBytes(capacity: 16 * extra.count), values = JSONBytes(capacity: extraJSON.count)
        keys.bytes.append(0x5B); values.bytes.append(0x5B)
        var object: [UInt8] = [0x7B]
        object.reserveCapacity(extraJSON.count)
        for (k, (name, v)) in extra.enumerated() {
            guard name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) else { return nil }
            if k > 0 { keys.bytes.append(0x2C); values.bytes.append(0x2C); object.append(0x2C) }
            keys.string(name)
            let start = values.bytes.count
            values.value(v)
            object.append(0x22); object += name.utf8; object.append(0x22); object.append(0x3A)
            object += values.bytes[start...]
        }
        keys.bytes.append(0x5D); values.bytes.append(0x5D); object.append(0x7D)
        guard object == extraJSON else { return nil }
        return (keys.bytes, values.bytes)
    }

    // MARK: SQL

    /// The view `records`: the columns and values of the table it replaced. No
    /// table-valued function (`json_each`) in it: FTS5 cannot read its external
    /// content through a view that has one ("SQL logic error" on 'rebuild').
    static var viewSQL: String {
        let ts = "coalesce(r.aux ->> '$.ts', \(timeSQL(local: true)))"
        // A value is a string, a number (its JSON text as is) or `[id]` of a term.
        func value(_ path: String, _ json: Bool) -> String {
            """
            CASE json_type(r.vals, \(path)) WHEN 'text' THEN \(json ? "r.vals -> \(path)" : "r.vals ->> \(path)") \
            WHEN 'array' THEN (SELECT term FROM record_terms WHERE id = r.vals ->> (\(path) || '[0]')) ELSE r.vals -> \(path) END
            """
        }
        let message = """
            coalesce(r.message, (SELECT term FROM record_terms WHERE id = r.message_term_id), CASE WHEN r.vals IS NOT NULL THEN (SELECT group_concat(coalesce(p.literal, \(value("p.path", false))), '') \
            FROM record_wording_pieces p WHERE p.wording_id = r.wording_id) END)
            """
        let eventID = "CAST(r.event_id AS TEXT)"
        // Terms by scalar subqueries, evaluated only for the columns a query uses
        // (SQLite 3.40 keeps a view's LEFT JOINs even when none of their columns is).
        func term(_ column: String) -> String { "(SELECT term FROM record_terms WHERE id = r.\(column))" }
        let component = term("component_id"), layout = term("layout_id"), account = "r.account", peer = term("peer_address_id")
        return """
            CREATE VIEW records AS SELECT
              r.id, r.source_id, r.line, r.seq, r.line_count,
              \(term("kind_id")) AS kind,
              coalesce(r.aux ->> '$.file', (SELECT name FROM sources WHERE id = r.source_id)) AS file,
              \(layout) AS layout,
              \(ts) AS ts,
              coalesce(r.aux ->> '$.utc', \(timeSQL(local: false))) AS ts_utc,
              r.aux ->> '$.note' AS ts_note, \(eventID) AS event_id, \(component) AS component, \(account) AS account, \(peer) AS peer_address, r.peer_port,
              \(message) AS message,
              r.text,
              CASE WHEN r.wording_id > 0 THEN 'resolved' WHEN r.wording_id = 0 THEN 'unresolved' WHEN r.wording_id = -1 THEN 'unknown-id' END AS catalog_status,
              (SELECT variant FROM record_wordings WHERE id = r.wording_id) AS catalog_variant,
              coalesce(r.aux ->> '$.fields', CASE WHEN r.vals IS NOT NULL AND r.vals <> '[]' THEN (SELECT json_group_object(f.name, \(value("f.path", true))) \
            FROM record_wording_fields f WHERE f.wording_id = r.wording_id) END) AS fields,
              CASE WHEN r.extra_shape_id IS NULL THEN coalesce(r.aux ->> '$.extra', \(term("extra_term_id"))) ELSE (SELECT json_group_object(k.name, (r.aux ->> '$.extra') -> k.path) \
            FROM record_extra_keys k WHERE k.shape_id = r.extra_shape_id) END AS extra,
              r.diagnostic, r.raw_bytes,
              coalesce(r.raw_bytes, CASE WHEN r.raw_prefix_id IS NOT NULL THEN CAST(\(term("raw_prefix_id")) || \(message) AS BLOB)
                WHEN \(layout) = 'ts-first' THEN CAST(\(ts) || ' ' || \(eventID) || ' ' || \(component)
                || ' ' || \(account) || ' ' || \(peer) || ':' || r.peer_port || ' ' || \(message) AS BLOB) END) AS raw,
              \(sessionIDSQL("r.session_key")) AS session_id,
              r.session_duplicate
            FROM record_rows r
            """
    }

    /// The session id a stored `session_key` stands for (see `sessionKey`).
    static func sessionIDSQL(_ key: String) -> String {
        "CASE typeof(\(key)) WHEN 'integer' THEN printf('%012x', \(key)) ELSE \(key) END"
    }

    /// `ts` (local: as written) or `ts_utc` from `ts_us` and `ts_form` (see `render`).
    static func timeSQL(local: Bool, us: String = "r.ts_us", form: String = "r.ts_form") -> String {
        let seconds = local ? "\(us) / 1000000 + (\(form) / 32 - 1440) * 60" : "\(us) / 1000000"
        // The fraction's digits from a 7-digit number (cheaper than printf('%06d')).
        let fraction = "CASE \(form) % 8 WHEN 0 THEN '' ELSE '.' || substr(\(us) % 1000000 + 1000000, 2, \(form) % 8) END"
        let suffix = local
            ? """
              CASE \(form) / 8 % 4 WHEN 0 THEN printf('%s%02d:%02d', iif(\(form) / 32 < 1440, '-', '+'), \
              abs(\(form) / 32 - 1440) / 60, abs(\(form) / 32 - 1440) % 60) WHEN 1 THEN 'Z' ELSE '' END
              """
            : "'Z'"
        // datetime() with its space made a `T`: cheaper than strftime's format.
        return "(replace(datetime(\(seconds), 'unixepoch'), ' ', 'T') || \(fraction) || \(suffix))"
    }

    /// The compact form of a time stored only as written (a file operation's):
    /// the instant of its written offset (none: the wall clock read as UTC),
    /// for the local rendering of `timeSQL` alone.
    static func writtenTime(_ t: LogTimestamp, iso ts: UnsafeBufferPointer<UInt8>) -> Time? {
        guard let (wall, micros, digits) = wallClock(t) else { return nil }
        let offset: Int, style: TimeStyle
        if t.zulu { offset = 0; style = .zulu } else if let o = t.offsetSeconds { offset = o; style = .offset } else { offset = 0; style = .none }
        guard offset % 60 == 0, abs(offset) < 86400, wall - offset >= 0 else { return nil }
        let us = Int64(wall - offset) * 1_000_000 + Int64(micros)
        let form = Int64(digits + 8 * style.rawValue + 32 * (offset / 60 + 1440))
        guard withRendering(us: us, form: form, { local, _ in same(local, ts) }) == true else { return nil }
        return Time(us: us, form: form)
    }

    /// Seconds of the wall clock read as UTC, the fraction in microseconds, and its digits.
    private static func wallClock(_ t: LogTimestamp) -> (Int, Int, Int)? {
        let (number, digits) = t.fractionDigits
        guard digits <= 6 else { return nil }
        var micros = Int(number)
        for _ in digits..<6 { micros *= 10 }
        guard (1...9999).contains(t.year), (1...12).contains(t.month), (1...31).contains(t.day) else { return nil }
        return (LogTimestamp.daysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second, micros, digits)
    }
}
