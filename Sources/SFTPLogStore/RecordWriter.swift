import Foundation
import GRDB
import GRDBSQLite
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// The ingest hot path: one prepared INSERT reused for every record, values
/// bound straight onto the SQLite statement (GRDB owns the connection and
/// transaction; binding through its argument arrays measured 2× slower here).
/// Rows go into `record_rows` in the compact form `CompactRecords` makes; the
/// FTS5 index gets each message from the same bytes, never by a trigger (the
/// table no longer holds most messages to copy them from).
package final class RecordWriter {
    private let insert: Statement
    private let insertFTS: Statement
    private let db: Database
    /// Ids of `record_wordings` and `record_extra_shapes` this writer has looked up.
    private var wordings: [ObjectIdentifier: Int64] = [:]
    private var shapes: [String: Int64] = [:]
    /// The name of the source being written, and its id (`file` is stored only when a record's differs).
    private var sourceName: (id: Int64, name: [UInt8])?

    static let columns = ["source_id", "line", "seq", "line_count", "kind_id", "layout_id", "ts_us", "ts_form", "event_id", "component_id",
                          "account", "peer_address_id", "peer_port", "wording_id", "vals", "message", "text", "diagnostic", "raw_bytes",
                          "session_key", "session_duplicate", "id", "raw_prefix_id", "extra_shape_id", "message_term_id", "extra_term_id", "aux"]

    /// Whether rows' messages go into `records_fts` as they are written (a
    /// migration rebuilds the index once instead).
    private let indexesMessages: Bool

    /// Whether the database has `record_line_map` (a migration before v16 writes without it).
    private let mapsLines: Bool
    private let insertPlace: Statement?
    /// The last record written for the source being written (`RecordLineMap`).
    var place: LinePlace?

    init(_ db: Database, indexesMessages: Bool = true) throws {
        self.db = db
        self.indexesMessages = indexesMessages
        mapsLines = try db.tableExists("record_line_map")
        insertPlace = mapsLines ? try db.cachedStatement(sql: "INSERT INTO record_line_map(source_id, line, seq, id) VALUES (?, ?, ?, ?)") : nil
        let cols = RecordWriter.columns
        insert = try db.cachedStatement(sql: "INSERT INTO record_rows(\(cols.joined(separator: ","))) VALUES(\(Array(repeating: "?", count: cols.count).joined(separator: ",")))")
        insertFTS = try db.cachedStatement(sql: "INSERT INTO records_fts(rowid, message) VALUES(?, ?)")
    }

    /// A record with every column value rendered on the parsing thread, so the
    /// writer thread only binds. Text and blob values sit back to back in one
    /// buffer bound in place (SQLITE_STATIC): binding each String as a transient
    /// copy cost SQLite a malloc and memcpy per column and the writer a String
    /// release per column.
    package struct Prepared: Sendable {
        var line: Int
        var seq: Int
        var lineCount: Int
        var peerPort: Int?
        var time: CompactRecords.Time?
        var eventNumber: Int64?
        var sessionNumber: Int64?
        /// Ids in `record_terms` (see `TermDictionary`).
        var kindID: Int64
        var layoutID: Int64?
        var componentID: Int64?
        var peerAddressID: Int64?
        /// Set when the raw line is this term followed by the message (an OpenSSH
        /// `debug2: ` line): the view rebuilds it instead of storing the bytes.
        var rawPrefixID: Int64?
        /// 1 resolved (`wording_id` is then the wording's), 0 unresolved, -1 unknown ID, nil none.
        var status: Int64?
        var variant: Int?
        var wording: EventTemplate?
        /// Whether `message` is stored as written (else the view rebuilds it from `vals`).
        var storesMessage: Bool
        /// Set when the message, or the `extra` object, is stored as this term instead.
        var messageTermID: Int64?
        var extraTermID: Int64?
        var sessionDuplicate: Bool
        /// A header of `(offset, length)` Int32 pairs, one per `Slot` (length -1:
        /// NULL), then the values.
        var arena: [UInt8]
        /// The row id to write it under (a migration keeps the old ids), nil for the next.
        var id: Int64?
    }

    /// The session a record belongs to, and whether it is a duplicate there.
    package struct SessionJoin {
        package var id: SessionID?
        package var duplicate: Bool
        package init(id: SessionID?, duplicate: Bool) { self.id = id; self.duplicate = duplicate }
        /// The one the record carries.
        package init(_ r: SFTPLogRecords.Record) { id = r.sessionID; duplicate = r.sessionDuplicate }
    }

    /// The text and blob values in `Prepared.arena`.
    enum Slot: Int, CaseIterable {
        case file, tsText, tsUTCText, tsNote, eventID, account, vals, message, text, fields,
             extra, diagnostic, rawBytes, session, extraKeys
    }

    /// Whether `raw` is exactly what the view's `raw` expression rebuilds for
    /// this layout from the values about to be bound (`ts`: the record's `ts` column).
    static func rebuildsRaw(_ r: Record, ts: UnsafeBufferPointer<UInt8>) -> Bool {
        guard r.layout == "ts-first", r.rawIsUTF8, r.lineCount == 1, let id = r.eventID, let comp = r.component,
              let account = r.account, let peer = r.peer, let port = peer.port, let message = r.message else { return false }
        return r.raw.withUnsafeBufferPointer { raw -> Bool in
            var m = ExpectedBytes(raw)
            m.take(ts); m.take(0x20); m.take(id); m.take(0x20); m.take(comp); m.take(0x20); m.take(account); m.take(0x20)
            m.take(peer.address); m.take(0x3A); m.take(decimal: port); m.take(0x20); m.take(message)
            return m.matchedAll
        }
    }

    /// `session`: the session the record joined as it was added, which the
    /// record itself does not carry (it is borrowed, not copied to be changed).
    package static func prepare(_ r: SFTPLogRecords.Record, seq: Int, session: SessionJoin? = nil, zone: TimeZone,
                                terms: TermDictionary, used: inout Set<Int64>) -> Prepared {
        // The ISO text, rendered once, for both checks.
        let (time, raw) = r.timestamp.map { t in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { b -> (CompactRecords.Time?, Bool) in
                func checks(_ iso: UnsafeBufferPointer<UInt8>) -> (CompactRecords.Time?, Bool) {
                    (CompactRecords.time(t, iso: iso, zone: zone), rebuildsRaw(r, ts: iso))
                }
                guard let n = t.writeISO(to: b) else { return t.withISO(checks) }
                return checks(UnsafeBufferPointer(rebasing: b[0..<n]))
            }
        } ?? (nil, false)
        // The texts of the time only where its compact form cannot give them back.
        let ts = time == nil ? r.timestamp?.iso : nil
        return prepare(r, seq: seq, session: session ?? SessionJoin(r), time: time, ts: ts, utc: time == nil ? utc(r.timestamp, zone) : nil,
                       fields: .rendered, extra: extraJSON(r), rawBytes: raw ? nil : r.raw, terms: terms, used: &used)
    }

    /// The `fields` and `extra` columns' JSON as the `records` view gives them (nil: NULL).
    package static func fieldsJSON(_ r: SFTPLogRecords.Record) -> [UInt8]? {
        guard let f = r.resolution?.fields, !f.isEmpty else { return nil }
        var j = JSONBytes(capacity: 256)
        j.object(f)
        return j.bytes
    }

    package static func extraJSON(_ r: SFTPLogRecords.Record) -> [UInt8]? {
        guard !r.extra.isEmpty else { return nil }
        var j = JSONBytes(capacity: 128)
        j.object(r.extra)
        return j.bytes
    }

    /// `prepare` with the text columns as the table before migration v8 held
    /// them: `fields` and `extra` JSON, and the raw bytes when stored.
    static func prepare(_ r: SFTPLogRecords.Record, seq: Int, ts: String?, utc: String?, fields: [UInt8]?, extra: [UInt8]?,
                        rawBytes: [UInt8]?, id: Int64? = nil, terms: TermDictionary, used: inout Set<Int64>) -> Prepared {
        var time: CompactRecords.Time?
        if let t = r.timestamp, let ts, let utc { time = CompactRecords.time(t, ts: ts, utc: utc) }
        return prepare(r, seq: seq, session: SessionJoin(r), time: time, ts: ts, utc: utc, fields: .written(fields), extra: extra,
                       rawBytes: rawBytes, id: id, terms: terms, used: &used)
    }

    /// `ts` and `utc` are stored only when `time` is nil.
    private static func prepare(_ r: SFTPLogRecords.Record, seq: Int, session: SessionJoin, time: CompactRecords.Time?, ts: String?, utc: String?,
                                fields: CompactRecords.FieldsJSON, extra: [UInt8]?, rawBytes: [UInt8]?, id: Int64? = nil,
                                terms: TermDictionary, used: inout Set<Int64>) -> Prepared {
        let res = r.resolution
        var vals: [UInt8]?
        var status: Int64?
        // A raw line that is a short prefix and the message (OpenSSH's `debugN: `).
        var rawBytes = rawBytes
        var rawPrefix: String?
        if let raw = rawBytes, r.rawIsUTF8, r.lineCount == 1, let m = r.message {
            var m = m
            rawPrefix = m.withUTF8 { msg -> String? in
                let n = raw.count - msg.count
                guard (0...16).contains(n), !msg.isEmpty, raw[n...].elementsEqual(msg), !raw[..<n].contains(0) else { return nil }
                return String(validating: raw[..<n], as: UTF8.self)
            }
        }
        var rawPrefixID: Int64?
        var messageTermID: Int64?, extraTermID: Int64?
        let (kindID, layoutID, componentID, peerAddressID) = terms.withTerms { t -> (Int64, Int64?, Int64?, Int64?) in
            if let rawPrefix {
                rawPrefixID = t.id(rawPrefix)
                used.insert(rawPrefixID!)
            }
            if let res {
                switch res.status {
                case .resolved:
                    status = 1
                    if let w = res.wording as? EventTemplate, let m = r.message {
                        vals = CompactRecords.values(w, fields: res.fields, fieldsJSON: fields, message: m) { value in
                            let id = t.reference(value)
                            if let id { used.insert(id) }
                            return id
                        }
                    }
                case .unresolved: status = 0
                case .unknownID: status = -1
                }
            }
            if vals == nil, let m = r.message, let id = t.whole(m) {
                messageTermID = id
                used.insert(id)
            }
            if let extra, let text = String(validating: extra, as: UTF8.self), let id = t.whole(text) {
                extraTermID = id
                used.insert(id)
            }
            let ids = (t.id(r.kind.rawValue, column: .kind), r.layout.map { t.id($0, column: .layout) },
                       r.component.map { t.id($0, column: .component) }, r.peer.map { t.id($0.address) })
            used.insert(ids.0)
            if let l = ids.1 { used.insert(l) }
            if let c = ids.2 { used.insert(c) }
            if let pa = ids.3 { used.insert(pa) }
            return ids
        }
        let eventNumber = r.eventID.flatMap(CompactRecords.eventNumber)
        let sessionNumber = session.id.flatMap { CompactRecords.sessionNumber($0.rawValue) }
        let header = Slot.allCases.count * 8
        var a = [UInt8](repeating: 0, count: header)
        if rawPrefixID != nil { rawBytes = nil }
        // The fields' JSON is stored only when their values are not.
        var fieldsJSON: [UInt8]?
        if vals == nil {
            switch fields {
            case .written(let w): fieldsJSON = w
            case .rendered: fieldsJSON = RecordWriter.fieldsJSON(r)
            }
        }
        a.reserveCapacity(header + 160 + (r.message?.utf8.count ?? 0) + (vals?.count ?? fieldsJSON?.count ?? 0) + (rawBytes?.count ?? 0))
        func span(_ slot: Slot, _ offset: Int, _ length: Int) {
            a.withUnsafeMutableBytes {
                $0.storeBytes(of: Int32(offset), toByteOffset: slot.rawValue * 8, as: Int32.self)
                $0.storeBytes(of: Int32(length), toByteOffset: slot.rawValue * 8 + 4, as: Int32.self)
            }
        }
        func put(_ slot: Slot, _ v: String?) {
            guard var v else { span(slot, 0, -1); return }
            let start = a.count
            v.withUTF8 { a.append(contentsOf: $0) }
            span(slot, start, a.count - start)
        }
        func put(_ slot: Slot, bytes v: [UInt8]?) {
            guard let v else { span(slot, 0, -1); return }
            let start = a.count
            a.append(contentsOf: v)
            span(slot, start, v.count)
        }
        put(.file, r.file)
        put(.tsText, time == nil ? ts : nil); put(.tsUTCText, time == nil ? utc : nil); put(.tsNote, r.timestampNote)
        put(.eventID, eventNumber == nil ? r.eventID : nil); put(.account, r.account)
        put(.vals, bytes: vals); put(.message, r.message); put(.text, r.text)
        // `extra` as its values when its keys make a shape (`record_extra_shapes`).
        if extraTermID != nil {
            put(.extra, nil); put(.extraKeys, nil)
        } else if let (keys, values) = CompactRecords.extraShape(r.extra, extraJSON: extra) {
            put(.extra, bytes: values); put(.extraKeys, bytes: keys)
        } else {
            put(.extra, bytes: extra); put(.extraKeys, nil)
        }
        put(.fields, bytes: fieldsJSON); put(.diagnostic, r.diagnostic)
        put(.rawBytes, bytes: rawBytes); put(.session, sessionNumber == nil ? session.id?.rawValue : nil)
        return Prepared(line: r.line, seq: seq, lineCount: r.lineCount, peerPort: r.peer?.port, time: time, eventNumber: eventNumber,
                        sessionNumber: sessionNumber, kindID: kindID, layoutID: layoutID, componentID: componentID,
                        peerAddressID: peerAddressID, rawPrefixID: rawPrefixID, status: status, variant: res?.variant,
                        wording: res?.status == .resolved ? res?.wording as? EventTemplate : nil,
                        storesMessage: vals == nil, messageTermID: messageTermID, extraTermID: extraTermID, sessionDuplicate: session.duplicate, arena: a, id: id)
    }

    /// UTC rendering of the record's instant (zone-less stamps read in `zone`).
    package static func utc(_ ts: LogTimestamp?, _ zone: TimeZone) -> String? {
        guard let ts else { return nil }
        return LogTimestamp.utcISO(ts.epoch(in: zone), fractionDigits: ts.fractionCount)
    }

    @inline(__always) private func bind(_ s: SQLiteStatement, _ i: Int32, _ v: Int?) {
        if let v { sqlite3_bind_int64(s, i, Int64(v)) } else { sqlite3_bind_null(s, i) }
    }

    @inline(__always) private func bind(_ s: SQLiteStatement, _ i: Int32, _ v: Int64?) {
        if let v { sqlite3_bind_int64(s, i, v) } else { sqlite3_bind_null(s, i) }
    }

    /// The id of an `extra` shape (its keys as a JSON array), added with its keys when new.
    private func extraShapeID(_ keys: String) throws -> Int64 {
        if let id = shapes[keys] { return id }
        let id: Int64
        if let known = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM record_extra_shapes WHERE keys = ?"), arguments: [keys]) {
            id = known
        } else {
            try db.executeCached(sql: "INSERT INTO record_extra_shapes(keys) VALUES(?)", arguments: [keys])
            id = db.lastInsertedRowID
            guard case .array(let names)? = JSONValue.parse(Array(keys.utf8)) else { throw DatabaseError(message: "bad extra shape \(keys)") }
            for (k, name) in names.enumerated() {
                try db.executeCached(sql: "INSERT INTO record_extra_keys(shape_id, position, name, path) VALUES(?,?,?,?)",
                                     arguments: [id, k, name.textValue ?? "", "$[\(k)]"])
            }
        }
        shapes[keys] = id
        return id
    }

    /// The id of a wording in `record_wordings`, added (with its pieces) when new.
    private func wordingID(eventID: String, variant: Int?, wording: EventTemplate?) throws -> Int64 {
        if let w = wording, let id = wordings[ObjectIdentifier(w)] { return id }
        let template = wording?.template ?? ""
        let find = try db.cachedStatement(sql: "SELECT id FROM record_wordings WHERE event_id = ? AND variant IS ? AND template = ?")
        var id = try Int64.fetchOne(find, arguments: [eventID, variant, template])
        if id == nil {
            try db.executeCached(sql: "INSERT INTO record_wordings(event_id, variant, template) VALUES(?,?,?)",
                                 arguments: [eventID, variant, template])
            let new = db.lastInsertedRowID
            if let w = wording {
                for (k, name) in w.fieldOrder.enumerated() {
                    try db.executeCached(sql: "INSERT INTO record_wording_fields(wording_id, position, name, path) VALUES(?,?,?,?)",
                                         arguments: [new, k, name, "$[\(k)]"])
                }
                for (k, piece) in w.pieces.enumerated() {
                    let literal: String?, path: String?
                    switch piece {
                    case .literal(let l): literal = String(decoding: l, as: UTF8.self); path = nil
                    case .field: literal = nil; path = "$[\(w.pieceFields[k])]"
                    }
                    try db.executeCached(sql: "INSERT INTO record_wording_pieces(wording_id, position, literal, path) VALUES(?,?,?,?)",
                                         arguments: [new, k, literal, path])
                }
            }
            id = new
        }
        if let w = wording { wordings[ObjectIdentifier(w)] = id! }
        return id!
    }

    func write(_ p: Prepared, sourceID: Int64, db: Database, spans: SessionSpans? = nil) throws {
        if sourceName?.id != sourceID {
            let name = try String.fetchOne(db, sql: "SELECT name FROM sources WHERE id = ?", arguments: [sourceID]) ?? ""
            sourceName = (sourceID, Array(name.utf8))
        }
        if mapsLines {
            if place?.source != sourceID { place = try LinePlace.last(db, source: sourceID) }
            if let last = place, (p.line, p.seq) <= (last.line, last.seq) {
                throw DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: """
                    a record of \(String(decoding: sourceName?.name ?? [], as: UTF8.self)) at line \(p.line) (\(p.seq)) came after \
                    line \(last.line) (\(last.seq)): records are stored in the order of their lines
                    """)
            }
        }
        let s = insert.sqliteStatement
        sqlite3_reset(s)
        sqlite3_bind_int64(s, 1, sourceID)
        sqlite3_bind_int64(s, 2, Int64(p.line))
        sqlite3_bind_int64(s, 3, Int64(p.seq))
        sqlite3_bind_int64(s, 4, Int64(p.lineCount))
        bind(s, 7, p.time?.us)
        bind(s, 8, p.time?.form)
        bind(s, 13, p.peerPort)
        sqlite3_bind_int64(s, 21, p.sessionDuplicate ? 1 : 0)
        bind(s, 22, p.id)
        bind(s, 23, p.rawPrefixID)
        try p.arena.withUnsafeBytes { a in
            let base = a.baseAddress!
            func value(_ slot: Slot) -> UnsafeRawBufferPointer? {
                let length = Int(a.load(fromByteOffset: slot.rawValue * 8 + 4, as: Int32.self))
                guard length >= 0 else { return nil }
                let offset = Int(a.load(fromByteOffset: slot.rawValue * 8, as: Int32.self))
                return UnsafeRawBufferPointer(start: base + offset, count: length)
            }
            // Static bindings: SQLite reads them only while stepping, which happens inside this closure.
            func text(_ i: Int32, _ v: UnsafeRawBufferPointer?) { bindText(s, i, v) }
            sqlite3_bind_int64(s, 5, p.kindID)
            bind(s, 6, p.layoutID)
            bind(s, 10, p.componentID)
            if let n = p.eventNumber { sqlite3_bind_int64(s, 9, n) } else { text(9, value(.eventID)) }
            text(11, value(.account)); bind(s, 12, p.peerAddressID)
            if p.status == 1 {
                let eventID = value(.eventID).map { String(decoding: $0, as: UTF8.self) } ?? p.eventNumber.map { String($0) } ?? ""
                sqlite3_bind_int64(s, 14, try wordingID(eventID: eventID, variant: p.variant, wording: p.wording))
            } else {
                bind(s, 14, p.status)
            }
            text(15, value(.vals))
            let message = value(.message)
            text(16, p.storesMessage && p.messageTermID == nil ? message : nil)
            bind(s, 25, p.messageTermID)
            bind(s, 26, p.extraTermID)
            text(17, value(.text)); text(18, value(.diagnostic))
            if let keys = value(.extraKeys) {
                sqlite3_bind_int64(s, 24, try extraShapeID(String(decoding: keys, as: UTF8.self)))
            } else {
                sqlite3_bind_null(s, 24)
            }
            if let raw = value(.rawBytes) {
                sqlite3_bind_blob(s, 19, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(raw.count), nil)
            } else {
                sqlite3_bind_null(s, 19)
            }
            if let n = p.sessionNumber { sqlite3_bind_int64(s, 20, n) } else { text(20, value(.session)) }
            var file = value(.file)
            if let f = file, let known = sourceName?.name, known.count == f.count,
               known.withUnsafeBytes({ f.count == 0 || memcmp($0.baseAddress!, f.baseAddress!, f.count) == 0 }) {
                file = nil
            }
            // The values most records do not have, in one JSON object (`aux`): a
            // column each cost every row a byte of its header.
            let rare: [(StaticString, UnsafeRawBufferPointer?)] = [("ts", value(.tsText)), ("utc", value(.tsUTCText)), ("note", value(.tsNote)),
                                                                  ("fields", value(.fields)), ("extra", value(.extra)), ("file", file)]
            var aux: JSONBytes?
            for (key, v) in rare {
                guard let v else { continue }
                // SQLite's `->>` would end the text at an escaped NUL.
                if v.contains(0) { throw DatabaseError(message: "a record's \(key) holds a NUL character, which its column cannot keep") }
                if aux == nil { aux = JSONBytes(capacity: 64 + v.count); aux!.raw("{") } else { aux!.raw(",") }
                aux!.key(key)
                aux!.string(stored: v.assumingMemoryBound(to: UInt8.self))
            }
            aux?.raw("}")
            let auxBytes = aux?.bytes ?? []
            try auxBytes.withUnsafeBytes { auxBuffer in
                text(27, aux == nil ? nil : auxBuffer)
            let rc = sqlite3_step(s)
            guard rc == SQLITE_DONE else { throw db.stepError(rc) }
            let id = sqlite3_last_insert_rowid(db.sqliteConnection)
            if mapsLines { try mapPlace(sourceID, line: p.line, seq: p.seq, id: id) }
            if let spans {
                if let n = p.sessionNumber {
                    spans.note(number: n, id: id)
                } else if let t = value(.session) {
                    spans.note(text: String(decoding: t, as: UTF8.self), id: id)
                }
            }
            // The message index, bound from the same bytes.
            if indexesMessages, let message {
                let f = insertFTS.sqliteStatement
                sqlite3_reset(f)
                sqlite3_bind_int64(f, 1, id)
                bindText(f, 2, message)
                let rc = sqlite3_step(f)
                guard rc == SQLITE_DONE else { throw db.stepError(rc) }
            }
            }
        }
    }

    /// Adds a `record_line_map` entry where the record's `id - line` is not its predecessor's.
    private func mapPlace(_ source: Int64, line: Int, seq: Int, id: Int64) throws {
        let offset = id - Int64(line)
        defer { place = LinePlace(source: source, line: line, seq: seq, offset: offset) }
        guard place?.offset != offset, let m = insertPlace?.sqliteStatement else { return }
        sqlite3_reset(m)
        sqlite3_bind_int64(m, 1, source); sqlite3_bind_int64(m, 2, Int64(line)); sqlite3_bind_int64(m, 3, Int64(seq)); sqlite3_bind_int64(m, 4, id)
        let rc = sqlite3_step(m)
        guard rc == SQLITE_DONE else { throw db.stepError(rc) }
    }

    /// Stores the terms rows use (most are stored already). The same text under
    /// another id, or another text under the same id, fails the batch:
    /// `TermDictionary` loads the stored terms under the writer lock, so either
    /// would mean another writer, and rows must never read a wrong term.
    func storeTerms(_ terms: [(Int64, String)], known: StoredTerms? = nil) throws {
        try RecordWriter.storeTerms(db, terms, known: known)
    }

    /// `storeTerms` without a writer (a migration, before `record_rows` has its final columns).
    static func storeTerms(_ db: Database, _ terms: [(Int64, String)], known: StoredTerms? = nil) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO record_terms(id, term) VALUES(?, ?) ON CONFLICT(id) DO NOTHING")
        let same = try db.cachedStatement(sql: "SELECT term = ? FROM record_terms WHERE id = ?")
        for (id, term) in terms {
            if let known {
                if !known.ids.insert(id).inserted { continue }
                known.open.append(id)
            }
            try insert.run([.int(id), .text(term)], db)
            // Stored already: it must be this term, or rows would read another one.
            if db.changesCount == 0, try Bool.fetchOne(same, arguments: [term, id]) != true {
                throw DatabaseError(message: "record_terms id \(id) holds another term than this run gave it (another writer?)")
            }
        }
    }

    /// Binds bytes as text in place (SQLITE_STATIC: valid until the statement steps), NULL for nil.
    @inline(__always) private func bindText(_ s: SQLiteStatement, _ i: Int32, _ v: UnsafeRawBufferPointer?) {
        guard let v else { sqlite3_bind_null(s, i); return }
        sqlite3_bind_text(s, i, v.baseAddress.map { $0.assumingMemoryBound(to: CChar.self) } ?? UnsafePointer<CChar>(bitPattern: 1),
                          Int32(v.count), nil)
    }

    /// Removes a source's records from `line` on (the tail re-read on resume),
    /// keeping the external-content FTS index consistent.
    static func deleteTail(_ db: Database, sourceID: Int64, fromLine line: Int, indexesMessages: Bool) throws {
        if indexesMessages {
            try db.execute(sql: """
                INSERT INTO records_fts(records_fts, rowid, message)
                  SELECT 'delete', id, message FROM records WHERE \(RecordLineMap.rowsOn("records", source: "?1", from: "?2")) AND message IS NOT NULL
                """, arguments: [sourceID, line])
        }
        let rows = RecordLineMap.rowsOn("record_rows", source: "?1", from: "?2")
        try db.execute(sql: "DELETE FROM record_rows WHERE \(rows)", arguments: [sourceID, line])
        if try db.tableExists("record_line_map") {
            try db.execute(sql: "DELETE FROM record_line_map WHERE source_id = ? AND line >= ?", arguments: [sourceID, line])
        }
    }
}

extension RecordWriter.Prepared {
    /// The record's line and its place among the line's records.
    package var place: (line: Int, seq: Int) { (line, seq) }

    /// Gives the record the session it belongs to, known only once its run
    /// ended (an OpenSSH transcript's), so that it is written once with it.
    /// False when the id is not stored as a number or the record has a session
    /// in its text slot: then the writer marks it afterwards.
    package mutating func join(session id: SessionID, duplicate: Bool) -> Bool {
        guard let n = CompactRecords.sessionNumber(id.rawValue) else { return false }
        let slot = RecordWriter.Slot.session.rawValue * 8 + 4
        guard arena.withUnsafeBytes({ $0.load(fromByteOffset: slot, as: Int32.self) }) < 0 else { return false }
        sessionNumber = n
        sessionDuplicate = duplicate
        return true
    }
}
