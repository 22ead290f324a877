// Reading a staged source's records back, for a load into another store
// (PostgreSQL): the knowledge of the compact tables stays here, beside the
// writer whose checks it relies on.

import Foundation
import GRDB
import SFTPLogRecords

/// A staged source's records with the columns of the `records` view, in
/// order. `raw`, `message` and `fields` are put together here, from the parts
/// `record_rows` keeps, the way the view makes them: the view's subqueries
/// per record were most of reading them back, and it rebuilt each message
/// twice. This relies on the check the writer makes on every row
/// (`CompactRecords.values`): the view gives back what was written.
package final class StagedRecords {
    package let rows: RawRows
    private let rebuild: RawRebuild
    private let texts: RecordTexts
    /// The current record's message, made once for `message` and `raw`.
    package private(set) var message: [UInt8]?

    /// `columns`: the `records` view's columns to read (`raw`, `message` and
    /// `fields` are always made, whether named or not).
    package init(_ db: Database, sourceID: Int64, columns: [String]) throws {
        let made: Set<String> = ["raw", "message", "fields"]
        // `raw` of the timestamp-first layout is made from these.
        let read = columns.filter { !made.contains($0) } + RawRebuild.partColumns.filter { !columns.contains($0) }
        let selected = read.map { "v.\"\($0)\"" }.joined(separator: ", ")
        // In id order along the table's own key, between the source's first and
        // last id: found through the (source, line) index, the rows had to be
        // sorted, all of them, before the first came out.
        let span = try Row.fetchOne(db, sql: "SELECT min(id), max(id) FROM record_rows r WHERE \(RecordLineMap.rowsOf("r", source: "?1"))", arguments: [sourceID])
        let first: Int64 = span?[0] ?? 0, last: Int64 = span?[1] ?? -1
        rows = try RawRows(db, sql: """
            SELECT \(selected), v.raw_bytes, (SELECT term FROM record_terms WHERE id = r.raw_prefix_id) AS raw_prefix,
              r.message AS stored_message, (SELECT term FROM record_terms WHERE id = r.message_term_id) AS message_term,
              r.vals, r.wording_id, r.aux ->> '$.fields' AS stored_fields
            FROM records v JOIN record_rows r ON r.id = v.id WHERE v.id BETWEEN ? AND ? AND +v.source_id = ? ORDER BY v.id
            """, arguments: [.int(first), .int(last), .int(sourceID)])
        rebuild = RawRebuild(rows)
        texts = try RecordTexts(db, rows)
    }

    /// Moves to the next record; false after the last.
    package func next() throws -> Bool {
        guard try rows.next() else { return false }
        message = texts.message(rows)
        return true
    }

    package var raw: [UInt8]? { rebuild.raw(rows, message: message) }
    package var fields: [UInt8]? { texts.fields(rows) }

    /// `raw` as the `records` view makes it: the stored bytes, else the stored
    /// prefix and the message, else (the timestamp-first layout) the line's
    /// parts joined as the log wrote them; NULL when a part is.
    private struct RawRebuild {
        let stored, prefix, layout: Int32
        /// ts, event id, component, account, address, port: what comes before the message.
        let parts: [Int32]
        static let tsFirst = Array("ts-first".utf8)
        static let partColumns = ["layout", "ts", "event_id", "component", "account", "peer_address", "peer_port"]

        init(_ rows: RawRows) {
            stored = rows.position("raw_bytes"); prefix = rows.position("raw_prefix")
            layout = rows.position("layout")
            parts = RawRebuild.partColumns.dropFirst().map(rows.position)
        }

        /// `message`: the record's message as `RecordTexts` made it.
        func raw(_ rows: RawRows, message: [UInt8]?) -> [UInt8]? {
            if let b = rows.bytes(at: stored) { return b }
            if let p = rows.bytes(at: prefix) { return message.map { p + $0 } }
            guard rows.bytes(at: layout) == RawRebuild.tsFirst, let message else { return nil }
            var out: [UInt8] = []
            for (k, i) in parts.enumerated() {
                guard let b = rows.bytes(at: i) else { return nil }
                if k > 0 { out.append(k == 5 ? 0x3A : 0x20) }  // `address:port`, spaces elsewhere
                out += b
            }
            out.append(0x20)
            return out + message
        }
    }

    /// A staged record's `message` and `fields` as the `records` view makes
    /// them (its subqueries per record were most of reading them back): the
    /// stored message, its term, or the wording's pieces with the values in
    /// `vals`; the stored fields, or `{"name":value,…}` of the wording's fields.
    /// Values are as the writer checked the view gives them back
    /// (`CompactRecords.values`): a string's text, a number's JSON as written,
    /// `[id]` a term's text (quoted in `fields`, needing no escape).
    private struct RecordTexts {
        enum Piece { case literal([UInt8]), value(Int) }
        var pieces: [Int64: [Piece?]] = [:]
        var fields: [Int64: [(name: [UInt8], value: Int?)]] = [:]
        var terms: [Int64: [UInt8]] = [:]
        let storedMessage, messageTerm, vals, wording, storedFields: Int32

        init(_ db: Database, _ rows: RawRows) throws {
            storedMessage = rows.position("stored_message"); messageTerm = rows.position("message_term")
            vals = rows.position("vals"); wording = rows.position("wording_id"); storedFields = rows.position("stored_fields")
            let p = try RawRows(db, sql: "SELECT wording_id, literal, path FROM record_wording_pieces ORDER BY wording_id, position")
            while try p.next() {
                let piece: Piece? = if let l = p.bytes(at: 1) { .literal(l) } else { p.bytes(at: 2).flatMap(RecordTexts.index).map(Piece.value) }
                pieces[Int64(p.int(at: 0) ?? 0), default: []].append(piece)
            }
            let f = try RawRows(db, sql: "SELECT wording_id, name, path FROM record_wording_fields ORDER BY wording_id, position")
            while try f.next() {
                fields[Int64(f.int(at: 0) ?? 0), default: []].append((f.bytes(at: 1) ?? [], f.bytes(at: 2).flatMap(RecordTexts.index)))
            }
            let t = try RawRows(db, sql: "SELECT id, term FROM record_terms")
            while try t.next() { if let id = t.int(at: 0), let term = t.bytes(at: 1) { terms[Int64(id)] = term } }
        }

        /// N of a path `$[N]`.
        static func index(_ path: [UInt8]) -> Int? {
            guard path.count > 3, path.starts(with: [0x24, 0x5B]), path.last == 0x5D else { return nil }
            return Int(String(decoding: path[2..<(path.count - 1)], as: UTF8.self))
        }

        /// Each element's JSON text in a JSON array as written (no spaces, as the writer writes it).
        static func elements(_ v: [UInt8]) -> [ArraySlice<UInt8>] {
            guard v.first == 0x5B, v.last == 0x5D else { return [] }
            var out: [ArraySlice<UInt8>] = []
            var i = 1, start = 1, depth = 0, inString = false
            while i < v.count - 1 {
                let c = v[i]
                if inString {
                    if c == 0x5C { i += 1 } else if c == 0x22 { inString = false }
                } else if c == 0x22 { inString = true
                } else if c == 0x5B || c == 0x7B { depth += 1
                } else if c == 0x5D || c == 0x7D { depth -= 1
                } else if c == 0x2C, depth == 0 { out.append(v[start..<i]); start = i + 1 }
                i += 1
            }
            if v.count > 2 { out.append(v[start..<(v.count - 1)]) }
            return out
        }

        /// An element as text (`->>` for strings, a term for `[id]`, its JSON otherwise); nil as SQL's NULL.
        func text(_ e: ArraySlice<UInt8>) -> [UInt8]? {
            switch e.first {
            case 0x22?:
                guard e.contains(0x5C) else { return Array(e.dropFirst().dropLast()) }
                if case .string(let s)? = JSONValue.parse(Array(e)) { return Array(s.utf8) }
                return nil
            case 0x5B?: return termID(e).flatMap { terms[$0] }
            default: return Array(e)
            }
        }

        func termID(_ e: ArraySlice<UInt8>) -> Int64? { Int64(String(decoding: e.dropFirst().dropLast(), as: UTF8.self)) }

        func message(_ rows: RawRows) -> [UInt8]? {
            if let m = rows.bytes(at: storedMessage) ?? rows.bytes(at: messageTerm) { return m }
            guard let v = rows.bytes(at: vals), let w = rows.int(at: wording), let list = pieces[Int64(w)] else { return nil }
            let values = RecordTexts.elements(v)
            // group_concat: NULL pieces are left out; none at all is NULL.
            var out: [UInt8] = [], any = false
            for piece in list {
                switch piece {
                case .literal(let l)?: out += l; any = true
                case .value(let k)?: if k < values.count, let t = text(values[k]) { out += t; any = true }
                case nil: break
                }
            }
            return any ? out : nil
        }

        func fields(_ rows: RawRows) -> [UInt8]? {
            if let f = rows.bytes(at: storedFields) { return f }
            guard let v = rows.bytes(at: vals), v != [0x5B, 0x5D] else { return nil }
            let values = RecordTexts.elements(v)
            var out: [UInt8] = [0x7B]
            for (k, field) in (rows.int(at: wording).flatMap { fields[Int64($0)] } ?? []).enumerated() {
                if k > 0 { out.append(0x2C) }
                out.append(0x22); out += field.name; out += [0x22, 0x3A]
                guard let i = field.value, i < values.count else { out += Array("null".utf8); continue }
                let e = values[i]
                if e.first == 0x5B {
                    // A term: quoted (the writer gives ids only to texts needing no escape).
                    if let t = termID(e).flatMap({ terms[$0] }) { out.append(0x22); out += t; out.append(0x22) } else { out += Array("null".utf8) }
                } else {
                    out += e
                }
            }
            out.append(0x7D)
            return out
        }
    }
}
