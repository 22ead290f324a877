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

    /// What `write` prints for the record of a plain event line, written from the
    /// line itself (`parse`'s hot path: no record, no field strings); `bytes` and
    /// `values` hold what `e` places.
    public static func write(_ e: PlainEventLine, checks: borrowing PlainEventLine.Checks, file: String, bytes: UnsafeBufferPointer<UInt8>,
                             values: UnsafeBufferPointer<(Int, Range<Int>)>, to o: JSONOutput) {
        var name = JSONBytes(capacity: file.utf8.count + 2)
        name.string(file)
        name.bytes.withUnsafeBufferPointer { name in
            write(e, fileJSON: name, bytes: bytes, outcome: checks.outcome, timestampNote: checks.timestampNote,
                  values: UnsafeBufferPointer(rebasing: values[e.values]), to: o)
        }
    }

    /// `write` with the file name as a JSON string already, and the line's wording
    /// and matched values given apart (resolved on this thread).
    static func write(_ e: PlainEventLine, fileJSON: UnsafeBufferPointer<UInt8>, bytes: UnsafeBufferPointer<UInt8>,
                      outcome: EventCatalog.MatchOutcome, timestampNote: String?,
                      values: UnsafeBufferPointer<(Int, Range<Int>)>, to o: JSONOutput) {
        o.raw("{\"kind\":\"sftpplus.event\",\"file\":"); o.raw(fileJSON)
        o.raw(",\"line\":"); o.int(e.line)
        o.raw(",\"layout\":"); o.raw(e.layout.json)
        o.raw(",\"ts\":")
        if let iso = e.isoTimestamp {
            o.byte(0x22); o.raw(e.token(iso, in: bytes)); o.byte(0x22)
        } else if let ts = e.timestamp { o.timestamp(ts) } else { o.raw("null") }
        if let note = timestampNote { o.raw(",\"ts_note\":"); o.string(note) }
        // The line is UTF-8 (or it would have made a record): its tokens' bytes are their strings'.
        // The ID is digits and the address bytes `Peer.place` admits (letters, digits, `.:-_%[]`):
        // neither needs escaping.
        o.raw(",\"event_id\":"); o.string(clean: e.token(e.eventID, in: bytes))
        o.raw(",\"component\":")
        if let c = e.component { o.string(utf8: e.token(c, in: bytes)) } else { o.raw("null") }
        o.raw(",\"account\":")
        if let a = e.account { o.string(utf8: e.token(a, in: bytes)) } else { o.raw("null") }
        o.raw(",\"peer\":")
        if let p = e.peer {
            o.raw("{\"address\":"); o.string(clean: e.token(p.address, in: bytes)); o.raw(",\"port\":")
            if let port = p.port { o.int(port) } else { o.raw("null") }
            o.byte(0x7D)
        } else { o.raw("null") }
        let m = e.message(in: bytes)
        o.raw(",\"message\":")
        switch outcome {
        case .resolved(let t):
            // The message from the wording's literals, escaped once at load, and its
            // values, escaped once here for both the message and the fields.
            withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: values.count) { escaped in
                let pieces = t.writeMessage(m, values: values, to: o, escaped: escaped)
                if !pieces { o.string(utf8: m) }
                o.raw(",\"catalog\":"); o.raw(t.catalogJSON)
                o.raw(",\"fields\":{")
                var first = true
                t.fieldKeyBytes.withUnsafeBufferPointer { keys in
                    t.forEachField(values, in: m) { i, k, r, number in
                        if !first { o.byte(0x2C) }
                        first = false
                        o.raw(UnsafeBufferPointer(rebasing: keys[t.fieldKeys[k]]))
                        let token = UnsafeBufferPointer(rebasing: m[r])
                        if let number {
                            // A decimal's own digits, when they are what formatting its double writes.
                            if case .double = number, let k = JSONValue.plainDecimal(token) {
                                o.raw(UnsafeBufferPointer(rebasing: token[k]))
                            } else { o.value(number) }
                        } else if pieces {
                            // Spaces trimmed from the front escape to themselves: skip as many.
                            let e = escaped[i]
                            o.byte(0x22); o.again((e.lowerBound + r.lowerBound - values[i].1.lowerBound)..<e.upperBound); o.byte(0x22)
                        } else { o.string(utf8: token) }
                    }
                }
            }
            o.raw("}}\n")
        case .unresolved, .unknownID:
            o.string(utf8: m)
            o.raw(",\"catalog\":null,\"fields\":")
            var j = JSONBytes(capacity: 256)
            j.object(EventCatalog.genericFields(String(decoding: m, as: UTF8.self)))
            o.raw(j.bytes)
            o.raw("}\n")
        }
    }
}

/// Plain lines and records on their way to be written as NDJSON on another
/// thread, in input order: each plain line's bytes and matched ranges copied
/// into two shared arrays, so a line costs no allocation of its own.
public struct NDJSONBatch: Sendable {
    private var bytes: [UInt8] = []
    private var values: [(Int, Range<Int>)] = []
    private var plains: [PlainEventLine] = []
    /// The plain lines' checks that are not the default, each with its line's index.
    private var checks: [(at: Int, checks: PlainEventLine.Checks)] = []
    /// The plain lines' file names, each with the number of plain lines before it.
    private var files: [(at: Int, name: String)] = []
    /// The other records, each with the number of plain lines before it.
    private var records: [(at: Int, record: Record)] = []
    private let capacity: Int

    /// Full at `capacity` entries or 4 MiB of input, so that a file of huge
    /// lines cannot queue gigabytes.
    public init(capacity: Int = 1024) {
        self.capacity = capacity
        plains.reserveCapacity(capacity)
        bytes.reserveCapacity(capacity * 256)
        values.reserveCapacity(capacity * 4)
    }

    public var count: Int { plains.count + records.count }
    /// The input bytes it holds (a plain line's, a record's raw line).
    private var inputBytes = 0

    /// Whether it is full (see `init`): the adds say so, so that a caller asks
    /// nothing of it per line (a call for `count` copied the batch each time).
    private var isFull: Bool { count >= capacity || inputBytes >= 4 << 20 }

    @discardableResult
    public mutating func add(_ e: PlainEventLine, checks c: borrowing PlainEventLine.Checks, file: String,
                             bytes line: UnsafeBufferPointer<UInt8>, values matched: UnsafeBufferPointer<(Int, Range<Int>)>) -> Bool {
        var e = e
        if files.isEmpty || files[files.count - 1].name != file { files.append((plains.count, file)) }
        if !c.isDefault { checks.append((plains.count, copy c)) }
        let b = bytes.count, v = values.count
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: line[e.bytes]))
        values.append(contentsOf: UnsafeBufferPointer(rebasing: matched[e.values]))
        inputBytes += e.bytes.count
        e.bytes = b..<bytes.count
        e.values = v..<values.count
        plains.append(e)
        return isFull
    }

    @discardableResult
    public mutating func add(_ r: consuming Record) -> Bool {
        inputBytes += r.raw.count
        records.append((plains.count, r))
        return isFull
    }

    /// Writes every entry, as `RecordJSON.write` would have one by one, and lends
    /// the bytes to `drain` in pieces of about 128 kB, the last one included.
    /// With a `resolver`, every entry's message is resolved first, in order
    /// (they were read with `RecordStream.run`'s `resolving: false`).
    public func write(resolver: SourceResolver? = nil, drain: (JSONOutput) -> Void) {
        let o = JSONOutput(capacity: 1 << 18)
        defer { drain(o) }
        var scratch = JSONBytes(capacity: 1 << 12)
        var next = 0
        // Each file's name is escaped once, not per line.
        var nextFile = 0, file = JSONBytes(capacity: 256)
        var nextChecks = 0
        bytes.withUnsafeBufferPointer { bytes in
            values.withUnsafeBufferPointer { values in
                plains.withUnsafeBufferPointer { plains in
                    for k in plains.indices {
                        writeRecords(before: k, from: &next, resolver: resolver, scratch: &scratch, to: o)
                        if nextFile < files.count, files[nextFile].at == k {
                            file.bytes.removeAll(keepingCapacity: true)
                            file.string(files[nextFile].name)
                            nextFile += 1
                        }
                        var c = PlainEventLine.Checks()
                        if nextChecks < checks.count, checks[nextChecks].at == k {
                            c = checks[nextChecks].checks
                            nextChecks += 1
                        }
                        let e = plains[k]
                        file.bytes.withUnsafeBufferPointer { name in
                            if let resolver {
                                let outcome = resolver.resolve(eventID: e.token(e.eventID, in: bytes), message: e.message(in: bytes))
                                resolver.matchedValues.withUnsafeBufferPointer { matched in
                                    RecordJSON.write(e, fileJSON: name, bytes: bytes, outcome: outcome, timestampNote: c.timestampNote,
                                                     values: matched, to: o)
                                }
                            } else {
                                RecordJSON.write(e, fileJSON: name, bytes: bytes, outcome: c.outcome, timestampNote: c.timestampNote,
                                                 values: UnsafeBufferPointer(rebasing: values[e.values]), to: o)
                            }
                        }
                        if o.count >= 1 << 17 { drain(o) }
                    }
                }
            }
        }
        writeRecords(before: Int.max, from: &next, resolver: resolver, scratch: &scratch, to: o)
    }

    /// The records from `next` that come before plain line `k`. A method, not a
    /// local function: the variables such a function captured were checked for
    /// exclusive access at run time on every line.
    private func writeRecords(before k: Int, from next: inout Int, resolver: SourceResolver?, scratch: inout JSONBytes, to o: JSONOutput) {
        while next < records.count, records[next].at <= k {
            if let resolver {
                var r = records[next].record
                resolver.resolve(&r)
                RecordJSON.write(r, to: &scratch)
            } else {
                RecordJSON.write(records[next].record, to: &scratch)
            }
            o.raw(scratch.bytes)
            scratch.bytes.removeAll(keepingCapacity: true)
            next += 1
        }
    }
}
