import Foundation
import SFTPLogRecords

/// What a text layout found in one logical line.
/// Tokens are kept as where they are in the line: their strings are made only
/// for a record (`SFTPPlusTextReader.event`), not for a plain line `parse`
/// writes straight from its bytes.
package struct TextEventFields {
    package var layout: TextLayout
    package var timestamp: LogTimestamp?
    /// Where the timestamp is in the line when it is written as `LogTimestamp.iso`
    /// writes it (so `parse` copies it instead of rendering it again).
    package var isoTimestamp: Range<Int>? = nil
    package var timestampNote: String?
    package var eventID: Range<Int>
    package var component: Range<Int>?
    package var account: Range<Int>?
    package var peer: (address: Range<Int>, port: Int?)?
    package var messageStart: Int
    package var extra: [(String, JSONValue)] = []
}

/// Takes an event that is one plain line (ID-first or timestamp-first, nothing
/// joined, quoted or noted, UTF-8, ended by a terminator) instead of its record:
/// `parse` writes such lines straight out. Returns false to have the record made.
/// Called in input order with the records, on the reader's thread.
package protocol PlainEventTaker: AnyObject {
    func take(_ line: UnsafeBufferPointer<UInt8>, number: Int, fields: inout TextEventFields, file: String) -> Bool
}

extension TextEventFields {
    /// Nothing found yet.
    init() { self.init(layout: .tsFirst, eventID: 0..<0, messageStart: 0) }
}

/// The fixed text layouts SFTPPlus writes, recognised by byte scanning.
package enum TextLayouts {
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// End of the space-delimited token starting at `i`.
    @inline(__always) static func tokenEnd(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var j = i
        while j < p.count && p[j] != 0x20 { j += 1 }
        return j
    }

    static func string(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> String {
        UTF8Text.decode(UnsafeBufferPointer(rebasing: p[a..<b])).0
    }

    /// A peer whose written port is above 65535 keeps `port: nil` (it cannot be a
    /// TCP port); this note says what was written, so the value is not silently lost.
    static func notePeer(_ pr: (address: Range<Int>, port: Int?), _ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int, into f: inout TextEventFields) {
        guard pr.port == nil else { return }
        var k = b - 1
        while k > a && p[k] != 0x3A { k -= 1 }
        f.extra.append(("peer_note", .string("port \(string(p, k + 1, b)) is out of range (0–65535); not taken as a port")))
    }

    static func eventID(_ p: UnsafeBufferPointer<UInt8>, _ a: Int) -> Int? {
        var j = a
        while j < p.count && isDigit(p[j]) { j += 1 }
        guard j > a, j < p.count ? p[j] == 0x20 : true else { return nil }
        return j
    }

    /// After the event ID: `component account address:port message`, or (short forms)
    /// `address:port message`, or just `message`.
    static func tail(_ p: UnsafeBufferPointer<UInt8>, at i: Int, into f: inout TextEventFields, allowBare: Bool) -> Bool {
        if i >= p.count { f.messageStart = p.count; return allowBare }
        let e1 = tokenEnd(p, i)
        if let pr = Peer.place(p, i, e1) {
            f.peer = pr
            notePeer(pr, p, i, e1, into: &f)
            f.messageStart = min(e1 + 1, p.count)
            return true
        }
        if e1 < p.count {
            let s2 = e1 + 1, e2 = tokenEnd(p, s2)
            if e2 < p.count {
                let s3 = e2 + 1, e3 = tokenEnd(p, s3)
                if let pr = Peer.place(p, s3, e3), e2 > s2, e1 > i {
                    f.component = i..<e1
                    f.account = s2..<e2
                    f.peer = pr
                    notePeer(pr, p, s3, e3, into: &f)
                    f.messageStart = min(e3 + 1, p.count)
                    return true
                }
            }
            // Copies in documentation and tickets sometimes lack one of the two.
            if e1 > i, let pr = Peer.place(p, s2, e2) {
                if looksLikeComponent(p, i, e1) { f.component = i..<e1 } else { f.account = i..<e1 }
                f.peer = pr
                notePeer(pr, p, s2, e2, into: &f)
                f.messageStart = min(e2 + 1, p.count)
                return true
            }
        }
        guard allowBare else { return false }
        f.messageStart = i
        return true
    }

    /// A lone token before the peer is a component when it has a component's
    /// shape (a service with a number, `sftp-1`; a UUID; `…uuid…`); else an
    /// account (`Unknown`, a user name), the usual case in pasted excerpts.
    static func looksLikeComponent(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Bool {
        let t = string(p, a, b).lowercased()
        if t.contains("uuid") || t == "local-manager" || t == "manager" { return true }
        var hex = 0, dashes = 0
        for c in t.utf8 { if c == 0x2D { dashes += 1 } else if isDigit(c) || (c >= 0x61 && c <= 0x66) { hex += 1 } }
        if dashes == 4 && hex == t.utf8.count - 4 && t.utf8.count == 36 { return true }
        guard let dash = t.lastIndex(of: "-") else { return false }
        let service = t[..<dash], number = t[t.index(after: dash)...]
        return !number.isEmpty && number.allSatisfy(\.isNumber)
            && ["sftp", "ftp", "ftps", "http", "https", "ssh", "scp", "as2", "webdav", "smtp"].contains(String(service))
    }

    /// Whether `p[0..<end]`, which `TimestampScanner.iso` read as `ts`, is what
    /// `ts.iso` writes: the extended form with `T`, `.` before a fraction, and `Z`
    /// or an offset `±HH:MM` with minutes below 60 (and not `-00:00`).
    package static func isISO(_ p: UnsafeBufferPointer<UInt8>, _ ts: LogTimestamp, _ end: Int) -> Bool {
        guard end >= 19, p[4] == 0x2D, p[10] == 0x54 else { return false }
        var i = 19
        if ts.fractionCount > 0 {
            guard p[i] == 0x2E else { return false }
            i += 1 + ts.fractionCount
        }
        if ts.zulu { return end == i + 1 && p[i] == 0x5A }
        guard let o = ts.offsetSeconds else { return end == i }
        return end == i + 6 && p[i + 3] == 0x3A && p[i + 4] <= 0x35 && (o != 0 || p[i] == 0x2B)
    }

    /// ID-first (3.x): `id YYYY-MM-DD HH:MM:SS [component account] address:port message`.
    package static func idFirst(_ p: UnsafeBufferPointer<UInt8>) -> TextEventFields? {
        var f = TextEventFields()
        return idFirst(p, into: &f) ? f : nil
    }

    /// `idFirst` into `f` (an optional's copy and destruction per line were measurable).
    package static func idFirst(_ p: UnsafeBufferPointer<UInt8>, into f: inout TextEventFields) -> Bool {
        guard let idEnd = eventID(p, 0), idEnd < p.count,
              let (ts, after) = TimestampScanner.iso(p, at: idEnd + 1) else { return false }
        guard after == p.count || p[after] == 0x20 else { return false }
        f = TextEventFields(layout: .idFirst, timestamp: ts, eventID: 0..<idEnd, messageStart: p.count)
        return tail(p, at: after + 1, into: &f, allowBare: false)
    }

    /// Timestamp-first (4.x+): `ts id component account address:port message`,
    /// or the short form `ts id message`.
    package static func tsFirst(_ p: UnsafeBufferPointer<UInt8>) -> TextEventFields? {
        var f = TextEventFields()
        return tsFirst(p, into: &f) ? f : nil
    }

    /// `tsFirst` into `f`.
    package static func tsFirst(_ p: UnsafeBufferPointer<UInt8>, into f: inout TextEventFields) -> Bool {
        guard let (ts, after) = TimestampScanner.iso(p, at: 0), after < p.count, p[after] == 0x20,
              let idEnd = eventID(p, after + 1) else { return false }
        f = TextEventFields(layout: .tsFirst, timestamp: ts, isoTimestamp: isISO(p, ts, after) ? 0..<after : nil,
                            eventID: (after + 1)..<idEnd, messageStart: p.count)
        guard tail(p, at: idEnd + 1, into: &f, allowBare: true) else { return false }
        if f.peer == nil { f.layout = .short }
        return true
    }

    /// RFC 3164: `<PRI>Mmm dd HH:MM:SS [host] proc[pid]: id [account] address:port message`.
    static func syslog(_ p: UnsafeBufferPointer<UInt8>, year: Int, yearNote: String) -> TextEventFields? {
        guard p.count > 4, p[0] == 0x3C else { return nil }
        var i = 1
        var pri = 0
        while i < p.count && i < 5 && isDigit(p[i]) { pri = pri * 10 + Int(p[i] - 0x30); i += 1 }
        guard i > 1, i < p.count, p[i] == 0x3E else { return nil }
        i += 1
        guard let (ts, after) = TimestampScanner.bsd(p, at: i, year: year), after < p.count, p[after] == 0x20 else { return nil }
        var extra: [(String, JSONValue)] = [("syslog_priority", .int(pri))]
        // host (optional) then process tag ending with ':'
        var s = after + 1
        var e = tokenEnd(p, s)
        if e > s && p[e - 1] != 0x3A {
            extra.append(("syslog_host", .string(string(p, s, e))))
            guard e < p.count else { return nil }
            s = e + 1; e = tokenEnd(p, s)
        }
        guard e > s, p[e - 1] == 0x3A, e < p.count else { return nil }
        extra.append(("syslog_tag", .string(string(p, s, e - 1))))
        return syslogEvent(p, at: e + 1, layout: .syslog, timestamp: ts, timestampNote: yearNote, extra: extra)
    }

    /// After a syslog header: `id [account] address:port message`, what
    /// SFTPPlus's syslog handler writes as the message.
    static func syslogEvent(_ p: UnsafeBufferPointer<UInt8>, at idStart: Int, layout: TextLayout, timestamp: LogTimestamp?,
                            timestampNote: String?, extra: [(String, JSONValue)]) -> TextEventFields? {
        guard let idEnd = eventID(p, idStart) else { return nil }
        var f = TextEventFields(layout: layout, timestamp: timestamp, timestampNote: timestampNote,
                                eventID: idStart..<idEnd, messageStart: p.count, extra: extra)
        let i2 = idEnd + 1
        if i2 < p.count {
            let e1 = tokenEnd(p, i2)
            if e1 < p.count {
                let s2 = e1 + 1, e2 = tokenEnd(p, s2)
                if let pr = Peer.place(p, s2, e2), e1 > i2 {
                    f.account = i2..<e1
                    f.peer = pr
                    notePeer(pr, p, s2, e2, into: &f)
                    f.messageStart = min(e2 + 1, p.count)
                    return f
                }
            }
        }
        guard tail(p, at: i2, into: &f, allowBare: true) else { return nil }
        return f
    }

    /// RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [BOM]message`, the
    /// message as in RFC 3164. A `-` (nil value) header field is left out.
    static func syslog5424(_ p: UnsafeBufferPointer<UInt8>) -> TextEventFields? {
        guard p.count > 4, p[0] == 0x3C else { return nil }
        var i = 1
        var pri = 0
        while i < p.count && i < 5 && isDigit(p[i]) { pri = pri * 10 + Int(p[i] - 0x30); i += 1 }
        guard i > 1, pri <= 191, i + 2 < p.count, p[i] == 0x3E, p[i + 1] == 0x31, p[i + 2] == 0x20 else { return nil }
        i += 3
        var ts: LogTimestamp?
        if i < p.count && p[i] == 0x2D {
            i += 1
        } else {
            guard let (t, after) = TimestampScanner.iso(p, at: i) else { return nil }
            ts = t; i = after
        }
        var extra: [(String, JSONValue)] = [("syslog_priority", .int(pri))]
        for name in ["syslog_host", "syslog_tag", "syslog_procid", "syslog_msgid"] {
            guard i < p.count, p[i] == 0x20 else { return nil }
            let e = tokenEnd(p, i + 1)
            guard e > i + 1 else { return nil }
            if !(e == i + 2 && p[i + 1] == 0x2D) { extra.append((name, .string(string(p, i + 1, e)))) }
            i = e
        }
        guard i < p.count, p[i] == 0x20 else { return nil }
        i += 1
        // Structured data: `-`, or `[id param="value" ...]` elements, `\]` escaped inside values.
        let sdStart = i
        if i < p.count && p[i] == 0x2D {
            i += 1
        } else {
            guard i < p.count, p[i] == 0x5B else { return nil }
            while i < p.count && p[i] == 0x5B {
                var inValue = false, escaped = false
                i += 1
                while i < p.count {
                    let c = p[i]
                    if escaped { escaped = false } else if inValue && c == 0x5C { escaped = true }
                    else if c == 0x22 { inValue.toggle() } else if c == 0x5D && !inValue { break }
                    i += 1
                }
                guard i < p.count else { return nil }
                i += 1
            }
            extra.append(("syslog_structured_data", .string(string(p, sdStart, i))))
        }
        guard i < p.count, p[i] == 0x20 else { return nil }
        i += 1
        if i + 2 < p.count, p[i] == 0xEF, p[i + 1] == 0xBB, p[i + 2] == 0xBF { i += 3 }
        return syslogEvent(p, at: i, layout: .syslog5424, timestamp: ts, timestampNote: nil, extra: extra)
    }
}
