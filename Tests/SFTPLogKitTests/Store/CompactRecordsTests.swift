import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogStore

/// `records` is a view over compact rows (migration v8). Whatever the compact
/// form, every column must give back the record exactly as it was read: the
/// raw bytes, the timestamp as written, the message and its typed fields.
final class CompactRecordsTests: XCTestCase {
    static let columns = ["kind", "file", "line", "line_count", "layout", "ts", "ts_utc", "ts_note", "event_id", "component", "account",
                          "peer_address", "peer_port", "message", "text", "catalog_status", "catalog_variant", "fields", "extra",
                          "diagnostic", "raw"]

    /// A record's columns as the `records` table held them before v8 (docs/schema.md).
    func columns(_ r: Record, zone: TimeZone) -> [QueryValue] {
        // Text columns are read as blobs (below): `query` reads text up to a NUL the log carried.
        func text(_ s: String?) -> QueryValue { s.map { .blob(Array($0.utf8)) } ?? .null }
        func int(_ i: Int?) -> QueryValue { i.map { .integer(Int64($0)) } ?? .null }
        func json(_ pairs: [(String, JSONValue)]?) -> QueryValue {
            guard let pairs, !pairs.isEmpty else { return .null }
            var j = JSONBytes()
            j.object(pairs)
            return .blob(j.bytes)
        }
        return [text(r.kind.rawValue), text(r.file), int(r.line), int(r.lineCount), text(r.layout), text(r.timestamp?.iso),
                text(RecordWriter.utc(r.timestamp, zone)), text(r.timestampNote), text(r.eventID), text(r.component), text(r.account),
                text(r.peer?.address), int(r.peer?.port), text(r.message), text(r.text), text(r.resolution?.status.rawValue),
                int(r.resolution?.variant), json(r.resolution?.fields), json(r.extra), text(r.diagnostic), .blob(r.raw)]
    }

    func testTheRecordsViewGivesBackEveryRecordAsRead() throws {
        let catalog = try EventCatalog.shared()
        let stream = RecordStream(options: ReaderOptions(), catalog: catalog)
        let zone = stream.options.timeZone
        let sessions = SessionRebuild(rules: try SessionRules.bundled(), zone: zone, judge: { _ in })
        var compared = 0
        var compact = (messages: 0, times: 0, resolved: 0, wholeTerms: 0)
        for f in Paths.everyTestLog() {
            let src = try InputSource.open(f)
            let reader = stream.makeReader(file: f, fileYear: src.modificationYear, format: nil, readerState: nil)
            var expected: [[QueryValue]] = []
            try stream.run(src, reader: reader) { expected.append(columns($0, zone: zone)) }
            src.close()
            let store = try Workspace.ingest([f], stream: stream, sessions: sessions, warn: { XCTFail($0) })
            let list = Self.columns.map { ["line", "line_count", "peer_port", "catalog_variant", "raw"].contains($0) ? $0 : "CAST(\($0) AS BLOB)" }
            let got = try store.read { try $0.query("SELECT \(list.joined(separator: ", ")) FROM records ORDER BY id") }
            XCTAssertEqual(got.rows.count, expected.count, f)
            for (k, (g, e)) in zip(got.rows, expected).enumerated() {
                for (c, name) in Self.columns.enumerated() where g[c] != e[c] {
                    XCTFail("\(f) record \(k + 1) \(name): stored \(g[c]), read \(e[c])")
                }
            }
            compared += got.rows.count
            let forms = try store.read {
                try $0.query("""
                    SELECT count(*) FILTER (WHERE vals IS NOT NULL), count(ts_us), count(*) FILTER (WHERE wording_id > 0),
                           count(message_term_id) + count(extra_term_id) FROM record_rows
                    """)
            }
            if case .integer(let v) = forms.rows[0][0], case .integer(let t) = forms.rows[0][1], case .integer(let w) = forms.rows[0][2],
               case .integer(let m) = forms.rows[0][3] {
                compact.messages += Int(v); compact.times += Int(t); compact.resolved += Int(w); compact.wholeTerms += Int(m)
            }
        }
        XCTAssertGreaterThan(compared, 5000)
        // The compact forms are really used: most resolved messages and most times are rebuilt.
        XCTAssertGreaterThan(compact.messages * 10, compact.resolved * 9, "\(compact)")
        XCTAssertGreaterThan(compact.times, 700, "\(compact)")
        // OpenSSH's repeated lines: messages and `extra` objects stored once, as terms.
        XCTAssertGreaterThan(compact.wholeTerms, 1000, "\(compact)")
    }

    /// At ingest the `fields` object is not rendered to be compared
    /// (`FieldsJSON.rendered`): that must choose exactly what comparing with
    /// `JSONBytes.object` of the same fields chooses, for the values of every
    /// resolved record of the test logs, and for the same wordings filled
    /// with values that need escaping, as plain values and as terms.
    func testRenderedFieldsChooseAsComparingTheObjectDoes() throws {
        let stream = RecordStream(options: ReaderOptions(), catalog: try EventCatalog.shared())
        let hostile = ["a\"quoted\" value", "back\\slash", "line\nbreak", "sep\u{2028}arator", "tab\there", "plain-value", "é-accent"]
        var counts = (same: 0, stored: 0, refusedTerm: 0)
        for f in Paths.everyTestLog() {
            let src = try InputSource.open(f)
            let reader = stream.makeReader(file: f, fileYear: src.modificationYear, format: nil, readerState: nil)
            try stream.run(src, reader: reader) { r in
                guard let res = r.resolution, res.status == .resolved, let w = res.wording as? EventTemplate, let m = r.message else { return }
                var variants = [(res.fields, m)]
                // The same wording with other string values, and the message they make.
                if res.fields.contains(where: { if case .string = $0.1 { return true }; return false }) {
                    var k = 0
                    let fields = res.fields.map { (name, v) -> (String, JSONValue) in
                        guard case .string = v else { return (name, v) }
                        k += 1
                        return (name, .string(hostile[k % hostile.count]))
                    }
                    var message: [UInt8] = []
                    for (i, piece) in w.pieces.enumerated() {
                        switch piece {
                        case .literal(let l): message += l
                        case .field:
                            switch fields[w.pieceFields[i]].1 {
                            case .string(let s): message += Array(s.utf8)
                            case let v: var j = JSONBytes(); j.value(v); message += j.bytes
                            }
                        }
                    }
                    variants.append((fields, String(decoding: message, as: UTF8.self)))
                }
                for (fields, message) in variants {
                    var object = JSONBytes()
                    object.object(fields)
                    let written: [UInt8]? = fields.isEmpty ? nil : object.bytes
                    // No terms, and every value of four bytes or more a term (as the
                    // dictionary's `ids` can hold texts that need escaping).
                    for reference in [{ (_: String) -> Int64? in nil }, { (s: String) -> Int64? in s.utf8.count >= 4 ? Int64(s.utf8.count) : nil }] {
                        let a = CompactRecords.values(w, fields: fields, fieldsJSON: .rendered, message: message, reference: reference)
                        let b = CompactRecords.values(w, fields: fields, fieldsJSON: .written(written), message: message, reference: reference)
                        XCTAssertEqual(a, b, "\(f) line \(r.line): \(fields)")
                        counts.same += 1
                        if a != nil { counts.stored += 1 }
                        if a == nil, fields.contains(where: { if case .string(let s) = $0.1 { return s.contains("\"") }; return false }) {
                            counts.refusedTerm += 1
                        }
                    }
                }
            }
            src.close()
        }
        // Both choices were really exercised.
        XCTAssertGreaterThan(counts.stored, 1000, "\(counts)")
        XCTAssertGreaterThan(counts.refusedTerm, 10, "\(counts)")
        XCTAssertGreaterThan(counts.same, counts.stored, "\(counts)")
    }

    /// A term id another writer gave to another text fails the batch instead of
    /// making rows read the wrong term; the same text under its own id is fine.
    /// A timestamp-first line's raw bytes are rebuilt from its columns only
    /// when the port is written as the view writes it back: "022" or "00" must
    /// come back as written, so those lines keep their bytes.
    func testTimestampFirstRawKeepsThePortAsWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sftplog-ports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ports = ["22", "022", "0", "00", "65535", "7", "0007"]
        let lines = ports.enumerated().map { k, p in
            "2026-03-0\(k + 1)T10:00:00.000+01:00 30014 sftp-1 Unknown 198.51.100.\(k + 1):\(p) New SSH connection made."
        }
        let f = dir.appendingPathComponent("ports.log").path
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: f))
        let stream = RecordStream(options: ReaderOptions(), catalog: try EventCatalog.shared())
        let sessions = SessionRebuild(rules: try SessionRules.bundled(), zone: stream.options.timeZone, judge: { _ in })
        let store = try Workspace.ingest([f], stream: stream, sessions: sessions, warn: { XCTFail($0) })
        let got = try store.read { try $0.query("SELECT raw, raw_bytes IS NULL, peer_port FROM records ORDER BY line") }
        XCTAssertEqual(got.rows.count, ports.count)
        for (row, (line, port)) in zip(got.rows, zip(lines, ports)) {
            XCTAssertEqual(row[0], .blob(Array(line.utf8)), line)
            XCTAssertEqual(row[2], .integer(Int64(port)!), line)
            XCTAssertEqual(row[1], .integer(String(Int(port)!) == port ? 1 : 0), "rebuilt only when the port is written plainly: \(line)")
        }
    }

    func testATermIdHoldingAnotherTextFailsTheBatch() throws {
        let store = try LogStore.inMemory()
        try store.write { w in
            let terms = try w.reader.termDictionary()
            let mine = terms.withTerms { $0.id("sftpplus.event") }
            try RecordWriter(w.db).storeTerms(terms.terms([mine]))
            try RecordWriter(w.db).storeTerms(terms.terms([mine]))  // stored already: fine
            let next = terms.withTerms { $0.id("unparsed") }
            try w.db.execute(sql: "INSERT INTO record_terms(id, term) VALUES (?, 'written by someone else')", arguments: [next])
            XCTAssertThrowsError(try RecordWriter(w.db).storeTerms(terms.terms([next]))) { e in
                XCTAssertTrue("\(e)".contains("another term"), "\(e)")
            }
        }
    }

    /// The Swift prediction of the view's time columns agrees with SQLite's
    /// `strftime` on times all over the range: offsets both ways, every
    /// fraction length, `Z`, none, and the days around month and year ends.
    func testTimeFormsRenderAsSQLiteDoes() throws {
        let store = try LogStore.inMemory()
        var cases: [(us: Int64, form: Int64)] = []
        let instants: [Int64] = [0, 59_999_999, 86_399_999_999, 951_782_400_123_456, 1_709_251_199_999_999, 1_762_041_600_000_000,
                                 4_102_444_799_000_001, 253_402_300_799_999_999]
        for us in instants {
            for digits in [0, 1, 3, 6] {
                for style in 0...2 {
                    for minutes in [-720, -210, 0, 60, 345, 840] where style != 1 || minutes == 0 {
                        cases.append((us, Int64(digits + 8 * style + 32 * (minutes + 1440))))
                    }
                }
            }
        }
        for c in cases {
            let sql = "SELECT \(CompactRecords.timeSQL(local: true)), \(CompactRecords.timeSQL(local: false)) FROM (SELECT \(c.us) AS ts_us, \(c.form) AS ts_form) r"
            let row = try store.read { try $0.query(sql) }.rows[0]
            let predicted = CompactRecords.render(us: c.us, form: c.form)
            guard let (local, utc) = predicted else {
                // Out of range for the compact form (year 10000 in some zone): never stored so.
                continue
            }
            XCTAssertEqual(row[0], .text(String(decoding: local, as: UTF8.self)), "\(c)")
            XCTAssertEqual(row[1], .text(String(decoding: utc, as: UTF8.self)), "\(c)")
        }
    }
}
