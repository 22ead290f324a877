import Foundation
import SFTPLogRecords

/// Reads SFTPPlus text logs: ID-first, timestamp-first, short, syslog, a
/// configured `entry_content`, JSON event objects, documentation copies
/// (`| ` line blocks, indented continuations) and client-shell transcripts.
/// Layouts are recognised per logical line, so a file may mix them.
public final class SFTPPlusTextReader: LogReader {
    public let file: String
    public let options: ReaderOptions
    /// `@exclusivity(unchecked)` on its state: a reader is fed by one thread, and
    /// no access to it overlaps another; checking that at run time was paid on every line.
    @exclusivity(unchecked) private var pending: PendingLine?
    @exclusivity(unchecked) private var lastTerminator: [UInt8] = []
    /// The strings of the tokens its lines repeat (IDs, components, accounts, addresses).
    private let strings = TokenStrings()
    /// The last line's buffer, for the next line when no record kept it (`keepsRaw` off).
    @exclusivity(unchecked) private var spare: [UInt8] = []
    /// A JSON value spread over several physical lines is being collected.
    @exclusivity(unchecked) private var collectingJSON = false
    @exclusivity(unchecked) private var jsonDepth = 0
    /// Seen a client-shell prompt or banner: `name: value` lines are attribute listings.
    @exclusivity(unchecked) private var inClientShell = false
    /// Column where the pending logical line's content (or its `|`) starts.
    @exclusivity(unchecked) private var pendingIndent = 0
    /// The pending line is indented, quoted or a `| ` item: a copy, not the log itself.
    @exclusivity(unchecked) private var pendingIsCopy = false
    /// The pending line is a client-shell command (`> get x`).
    @exclusivity(unchecked) private var pendingIsCommand = false
    /// The text is a quoted e-mail (`> ` before each line).
    @exclusivity(unchecked) private var quoted = false
    /// After an HTTP request line: `Name: value` lines are its headers until a blank line.
    @exclusivity(unchecked) private var inHTTPHeaders = false
    /// The source starts with a UTF-16 byte-order mark (named in unparsed diagnostics).
    @exclusivity(unchecked) private var utf16: String?
    static let maxJSONBytes = 16 << 20
    /// Takes plain event lines instead of their records (`parse`); nil: every line makes a record.
    @exclusivity(unchecked) package var plainEvents: PlainEventTaker?

    public init(file: String, options: ReaderOptions) {
        self.file = file
        self.options = options
    }

    /// What the reader carries from one event-head line at column 0 to the
    /// lines after it: everything else it knows is reset by such a line, so a
    /// piece of a file that starts with one reads alike from a reader holding
    /// this state (`ChunkedReading`).
    public struct CarriedState: Equatable, Sendable {
        var inClientShell = false, inHTTPHeaders = false, utf16: String?
        public init() {}
    }

    /// After `finish`: the state the next line would be read with.
    public var carried: CarriedState {
        get { var c = CarriedState(); c.inClientShell = inClientShell; c.inHTTPHeaders = inHTTPHeaders; c.utf16 = utf16; return c }
        set { inClientShell = newValue.inClientShell; inHTTPHeaders = newValue.inHTTPHeaders; utf16 = newValue.utf16 }
    }

    /// A line a piece of the file may start at: an ID-first or timestamp-first
    /// event from its first byte (no indent, quote or list marker), after an LF.
    /// Reading one flushes whatever was pending, whatever the reader's state.
    public static func startsPiece(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        startsTextEvent(b)
    }

    public func feed(_ line: PhysicalLine, _ emit: (consuming Record) throws -> Void) rethrows {
        let whole = line.bytes
        if line.offset == 0, whole.count >= 2, (whole[0] == 0xFF && whole[1] == 0xFE) || (whole[0] == 0xFE && whole[1] == 0xFF) {
            utf16 = whole[0] == 0xFF ? "FF FE" : "FE FF"
        }
        // Reassigned only when it changes: an array per line was measurable.
        defer { if !lastTerminator.elementsEqual(line.terminator) { lastTerminator = Array(line.terminator) } }
        let b = unquoted(whole)
        if collectingJSON, pending != nil, SFTPPlusTextReader.startsTextEvent(b) {
            // Hostile input: a JSON event cut short (truncated file, crashed writer)
            // used to swallow every following line up to 16 MB into one unparsed
            // record. No line inside a JSON value can be an ID-first or
            // timestamp-first event, so such a line ends the collection.
            collectingJSON = false
            try flush(emit)
        }
        if collectingJSON, pending != nil {
            // Pretty-printed JSON has no blank lines: one ends a value cut short
            // (a published example with its end elided), so it cannot swallow the rest.
            if PhysicalLine.isBlank(b) {
                collectingJSON = false
                try flush(emit)
                return
            }
            pending!.append(line, previousTerminator: lastTerminator, content: b, separator: [0x0A])
            jsonDepth += SFTPPlusTextReader.depthChange(b)
            if jsonDepth <= 0 || pending!.content.count > SFTPPlusTextReader.maxJSONBytes {
                collectingJSON = false
                try flush(emit)
            }
            return
        }
        if PhysicalLine.isBlank(b) {
            try flush(emit)
            inHTTPHeaders = false
            return
        }
        // Documentation copies are indented (directives, Markdown lists): a line
        // continues the pending one only when indented further than it, is no
        // `| ` item of its own, and does not itself begin with an event's ID and time.
        var i = 0, column = 0
        while i < b.count && (b[i] == 0x20 || b[i] == 0x09) {
            column = b[i] == 0x09 ? (column / 8 + 1) * 8 : column + 1
            i += 1
        }
        // A Markdown list item around a copied line: `- | 30014 …`, `1. 2025-… 30014 …`.
        if let after = SFTPPlusTextReader.listMarkerEnd(b, at: i) {
            column += after - i
            i = after
        }
        let isBar = SFTPPlusTextReader.isLineBlockItem(UnsafeBufferPointer(rebasing: b[i...]))
        if pending != nil, !pendingIsCommand, !isBar, column > pendingIndent,
           !SFTPPlusTextReader.startsEventHead(UnsafeBufferPointer(rebasing: b[i...])) {
            // A wrap is one space, whatever spaces the copy left at the line's end.
            while let last = pending!.content.last, last == 0x20 || last == 0x09 { pending!.content.removeLast() }
            pending!.append(line, previousTerminator: lastTerminator,
                            content: UnsafeBufferPointer(rebasing: b[i...]), separator: [0x20])
            return
        }
        // An event head where a continuation could be keeps the block's indent, so
        // the lines wrapped under it still continue it.
        let blockIndent = pending != nil && !isBar && column > pendingIndent ? pendingIndent : column
        try flush(emit)
        // reStructuredText line block: "| text" (also "|" alone for an empty line).
        let start = isBar ? min(i + 2, b.count) : i
        pending = PendingLine(line, content: UnsafeBufferPointer(rebasing: b[start...]), buffer: &spare)
        pendingIndent = blockIndent
        pendingIsCopy = start > 0 || quoted
        // A client-shell command is one line: what follows it is output, records of
        // their own (a shell command line, `$ …`, may wrap).
        pendingIsCommand = start < b.count && b[start] == 0x3E && (start + 1 == b.count || b[start + 1] == 0x20)
        if start < b.count, b[start] == 0x7B {
            let d = SFTPPlusTextReader.depthChange(UnsafeBufferPointer(rebasing: b[start...]))
            if d > 0 { collectingJSON = true; jsonDepth = d }
        }
    }

    /// The line without e-mail quote markers (`> `, `>> `) once a quoted copy of a
    /// log is recognised: a marker before a `| ` item or an event head starts one.
    /// A client-shell command (`> connect`) is not a quote.
    private func unquoted(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard let first = b.first, first == 0x3E else {
            quoted = false
            return b
        }
        var i = 0
        while i < b.count && b[i] == 0x3E {
            i += 1
            if i < b.count && b[i] == 0x20 { i += 1 }
        }
        let rest = UnsafeBufferPointer(rebasing: b[i...])
        if !quoted {
            var k = 0
            while k < rest.count && (rest[k] == 0x20 || rest[k] == 0x09) { k += 1 }
            guard SFTPPlusTextReader.startsCopiedLine(UnsafeBufferPointer(rebasing: rest[k...])) else { return b }
            quoted = true
        }
        return rest
    }

    /// End of a list marker (`- `, `* `, `+ `, `12. `) at `i` that stands before a
    /// `| ` item or an event head; nil for anything else.
    static func listMarkerEnd(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        guard i < b.count else { return nil }
        var j = i
        if b[j] == 0x2D || b[j] == 0x2A || b[j] == 0x2B {
            j += 1
        } else {
            while j < b.count && TextLayouts.isDigit(b[j]) { j += 1 }
            guard j > i, j - i <= 3, j < b.count, b[j] == 0x2E else { return nil }
            j += 1
        }
        guard j < b.count, b[j] == 0x20 else { return nil }
        while j < b.count && b[j] == 0x20 { j += 1 }
        return startsCopiedLine(UnsafeBufferPointer(rebasing: b[j...])) ? j : nil
    }

    /// A reStructuredText line-block item: `| text`, or `|` alone for an empty line.
    static func isLineBlockItem(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        p.first == 0x7C && (p.count == 1 || p[1] == 0x20)
    }

    /// What a copied log line starts with: a `| ` item or an event head.
    static func startsCopiedLine(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        isLineBlockItem(p) || startsEventHead(p)
    }

    /// The line begins like an event, whatever follows: an ID then a date and
    /// time (ID-first), or a date and time then an ID (timestamp-first, short).
    static func startsEventHead(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let c = p.first, TextLayouts.isDigit(c) else { return false }
        if let idEnd = TextLayouts.eventID(p, 0), idEnd < p.count, TimestampScanner.iso(p, at: idEnd + 1) != nil { return true }
        if let (_, after) = TimestampScanner.iso(p, at: 0), after < p.count, p[after] == 0x20,
           TextLayouts.eventID(p, after + 1) != nil { return true }
        return false
    }

    public func finish(_ emit: (consuming Record) throws -> Void) rethrows {
        collectingJSON = false
        try flush(emit)
    }

    /// A half-read JSON object waits; a plain line is complete once the file is quiet.
    public func idle(_ emit: (consuming Record) throws -> Void) rethrows {
        if !collectingJSON { try flush(emit) }
    }

    /// A line that is a text-layout event on its own (ID-first or timestamp-first).
    package static func startsTextEvent(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let c = b.first, TextLayouts.isDigit(c) else { return false }
        return TextLayouts.idFirst(b) != nil || TextLayouts.tsFirst(b) != nil
    }

    /// Net `{`/`[` depth of a JSON fragment, ignoring brackets inside strings.
    static func depthChange(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        var d = 0
        var inString = false, escaped = false
        for c in b {
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
            } else if c == 0x22 { inString = true }
            else if c == 0x7B || c == 0x5B { d += 1 }
            else if c == 0x7D || c == 0x5D { d -= 1 }
        }
        return d
    }

    private func flush(_ emit: (consuming Record) throws -> Void) rethrows {
        // Moved out, not copied: a copy retained and released its buffers per line.
        guard var p = pending.take() else { return }
        // A copy (indented, quoted, a line block or wrapped) may carry spaces its
        // editor added at the end; a log line is kept as written (a wording can
        // end in a space when its last field is empty).
        if pendingIsCopy || p.lineCount > 1 {
            while let last = p.content.last, last == 0x20 || last == 0x09 { p.content.removeLast() }
        }
        let taken = try p.content.withUnsafeBufferPointer { try parse($0, p, emit) }
        // A line taken as it stands made no record: its buffer serves the next line.
        if !options.keepsRaw || taken { spare = p.raw }
    }

    private func syslogYear() -> (Int, String) {
        if let y = options.year { return (y, "year \(y) from --year (RFC 3164 timestamps have none)") }
        if let y = options.fileYear { return (y, "year \(y) from the file's modification time (RFC 3164 timestamps have none)") }
        let y = Calendar(identifier: .gregorian).component(.year, from: Date())
        return (y, "year \(y) is the current year (RFC 3164 timestamps have none; use --year)")
    }

    /// Emits the record(s) of one logical line (a JSON array holds several); records go
    /// straight to `emit`, since an array per line was measurable. True when
    /// `plainEvents` took the line instead.
    @discardableResult
    func parse(_ c: UnsafeBufferPointer<UInt8>, _ p: PendingLine, _ emit: (consuming Record) throws -> Void) rethrows -> Bool {
        if let fmt = options.entryFormat, let values = fmt.match(c) {
            var r = p.record(.sftpplusEvent, file: file)
            r.layout = "entry-format"
            if let problem = EventVariables.apply(values, to: &r) {
                try emit(unparsed(c, p, "does not fit --entry-format: \(problem)")); return false
            }
            if r.eventID == nil && r.message == nil {
                try emit(unparsed(c, p, "matched --entry-format but carries neither id nor message")); return false
            }
            try emit(r); return false
        }
        guard let first = c.first else { return false }
        var f = TextEventFields()
        var found = false
        if TextLayouts.isDigit(first) {
            found = TextLayouts.idFirst(c, into: &f) || TextLayouts.tsFirst(c, into: &f)
        } else if first == 0x3C {
            if let g = TextLayouts.syslog5424(c) {
                f = g
                found = true
            } else {
                let (year, note) = syslogYear()
                if let g = TextLayouts.syslog(c, year: year, yearNote: note) { f = g; found = true }
            }
        } else if first == 0x7B {
            if let records = JSONEvents.records(c, p, file: file) { for r in records { try emit(r) }; return false }
            // Name the cause: nesting beyond the parser's limit is refused, not "incomplete".
            let depth = JSONValue.nestingDepth(c)
            if depth > JSONValue.defaultMaxDepth {
                try emit(unparsed(c, p, "JSON nested \(depth) levels deep (more than \(JSONValue.defaultMaxDepth) are refused)")); return false
            }
            guard p.lineCount > 1 else { try emit(unparsed(c, p, "not a complete SFTPPlus JSON event")); return false }
            // Pretty-printed JSON that cannot be read: one unparsed record per line, each naming where it breaks.
            let text = JSONRepair.repaired(c)?.bytes ?? Array(c)
            var why = "part of JSON that is not a complete SFTPPlus JSON event"
            if let k = JSONRepair.failureLine(text) { why += " (it stops parsing at line \(p.line + k))" }
            for r in p.physicalRecords(.unparsed, file: file) {
                var u = r
                u.text = UTF8Text.decode(u.raw).0
                u.diagnostic = why
                try emit(u)
            }
            return false
        } else if let r = httpLine(c, p) ?? clientShell(c, p) {
            try emit(r); return false
        }
        guard found else {
            var why = options.entryFormat != nil
                ? "fits neither --entry-format nor a known SFTPPlus layout" : "fits no known SFTPPlus layout"
            // Say what is wrong when it can be named: a timestamp-shaped prefix with
            // impossible fields (month 13, hour 25, year 0), or a UTF-16 file.
            if let problem = TimestampScanner.outOfRange(c, at: TextLayouts.isDigit(first) ? 0 : -1)
                ?? TimestampScanner.outOfRange(c, at: TextLayouts.eventID(c, 0).map { $0 + 1 } ?? -1) {
                why += ": " + problem
            }
            if let bom = utf16 { why += ": the file is UTF-16 (byte-order mark \(bom) at its start); sftplog reads UTF-8, convert it first (iconv -f UTF-16 -t UTF-8)" }
            try emit(unparsed(c, p, why)); return false
        }
        if let taker = plainEvents, TextLayouts.isDigit(first), p.lineCount == 1, !pendingIsCopy, f.extra.isEmpty,
           f.timestampNote == nil, p.endOffset > p.offset + Int64(p.raw.count), UTF8Text.isValid(c),
           taker.take(c, number: p.line, fields: &f, file: file) {
            return true
        }
        try emit(event(c, p, &f))
        return false
    }

    /// The record of an event line, its facts moved out of `f` (copying them
    /// was a twentieth of the parsing thread, the timestamp most of it).
    private func event(_ c: UnsafeBufferPointer<UInt8>, _ p: PendingLine, _ f: inout TextEventFields) -> Record {
        p.record(.sftpplusEvent, file: file, withRaw: options.keepsRaw) { r in
            r.layout = f.layout.rawValue
            swap(&r.timestamp, &f.timestamp)
            swap(&r.timestampNote, &f.timestampNote)
            r.eventID = strings.string(c, f.eventID.lowerBound, f.eventID.upperBound)
            r.component = f.component.map { strings.string(c, $0.lowerBound, $0.upperBound) }
            r.account = f.account.map { strings.string(c, $0.lowerBound, $0.upperBound) }
            r.peer = f.peer.map { Peer(address: strings.string(c, $0.address.lowerBound, $0.address.upperBound), port: $0.port) }
            r.message = strings.string(c, f.messageStart, c.count)
            swap(&r.extra, &f.extra)
        }
    }

    private func unparsed(_ c: UnsafeBufferPointer<UInt8>, _ p: PendingLine, _ why: String) -> Record {
        var r = p.record(.unparsed, file: file)
        r.text = UTF8Text.decode(c).0
        r.diagnostic = why
        return r
    }

    /// An HTTP request line (`POST /events HTTP/1.1`) and the headers after it, as
    /// the documentation prints an event handler's request before its JSON body.
    private func httpLine(_ c: UnsafeBufferPointer<UInt8>, _ p: PendingLine) -> Record? {
        if inHTTPHeaders {
            var i = 0
            while i < c.count, TextLayouts.isDigit(c[i]) || (c[i] | 0x20 >= 0x61 && c[i] | 0x20 <= 0x7A) || c[i] == 0x2D { i += 1 }
            if i > 0, i < c.count, c[i] == 0x3A, i + 1 == c.count || c[i + 1] == 0x20 {
                var r = p.record(.httpHeader, file: file)
                r.layout = "http"
                r.text = UTF8Text.decode(c).0
                var v = i + 1
                while v < c.count && c[v] == 0x20 { v += 1 }
                r.extra = [("name", .string(TextLayouts.string(c, 0, i))), ("value", .string(TextLayouts.string(c, v, c.count)))]
                return r
            }
            inHTTPHeaders = false
        }
        // METHOD target[ HTTP/x.y] (examples often leave the version out)
        var m = 0
        while m < c.count, c[m] >= 0x41 && c[m] <= 0x5A { m += 1 }
        guard m >= 3, m < c.count, c[m] == 0x20,
              SFTPPlusTextReader.httpMethods.contains(TextLayouts.string(c, 0, m)) else { return nil }
        let targetEnd = TextLayouts.tokenEnd(c, m + 1)
        guard targetEnd > m + 1, c[m + 1] == 0x2F || EntryFormat.hasPrefix(c, at: m + 1, SFTPPlusTextReader.httpSchemePrefix) else { return nil }
        var version: JSONValue = .null
        if targetEnd < c.count {
            guard targetEnd + 6 < c.count, EntryFormat.hasPrefix(c, at: targetEnd + 1, SFTPPlusTextReader.httpVersionPrefix),
                  TextLayouts.tokenEnd(c, targetEnd + 1) == c.count else { return nil }
            version = .string(TextLayouts.string(c, targetEnd + 6, c.count))
        }
        inHTTPHeaders = true
        var r = p.record(.httpRequest, file: file)
        r.layout = "http"
        r.text = UTF8Text.decode(c).0
        r.extra = [("method", .string(TextLayouts.string(c, 0, m))), ("target", .string(TextLayouts.string(c, m + 1, targetEnd))),
                   ("version", version)]
        return r
    }

    static let httpVersionPrefix = Array("HTTP/".utf8)
    static let httpSchemePrefix = Array("http".utf8)
    static let httpMethods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    static let bannerPrefix = Array("SFTPPlus (".utf8)
    static let bannerSuffix = Array(") file transfer client shell".utf8)

    /// Client-shell transcript lines: `$ command`, the banner, `> command`, `name: value`.
    private func clientShell(_ c: UnsafeBufferPointer<UInt8>, _ p: PendingLine) -> Record? {
        // Decoded only when a client-shell form matched (not for every line that fits no layout).
        var text: String { UTF8Text.decode(c).0 }
        if c[0] == 0x3E && (c.count == 1 || c[1] == 0x20) {
            inClientShell = true
            var r = p.record(.sftpplusPrompt, file: file)
            r.layout = "client-shell"
            r.text = text
            let cmd = String(text.dropFirst(c.count > 1 ? 2 : 1))
            r.extra = [("command", .string(cmd))]
            return r
        }
        if c[0] == 0x24 && c.count > 1 && c[1] == 0x20 {
            inClientShell = true
            var r = p.record(.sftpplusShell, file: file)
            r.layout = "client-shell"
            r.text = text
            r.extra = [("command", .string(String(text.dropFirst(2))))]
            return r
        }
        if EntryFormat.hasPrefix(c, at: 0, SFTPPlusTextReader.bannerPrefix),
           c.count > SFTPPlusTextReader.bannerPrefix.count + SFTPPlusTextReader.bannerSuffix.count,
           EntryFormat.hasPrefix(c, at: c.count - SFTPPlusTextReader.bannerSuffix.count, SFTPPlusTextReader.bannerSuffix) {
            inClientShell = true
            var r = p.record(.sftpplusBanner, file: file)
            r.layout = "client-shell"
            r.text = text
            let version = TextLayouts.string(c, SFTPPlusTextReader.bannerPrefix.count, c.count - SFTPPlusTextReader.bannerSuffix.count)
            r.extra = [("sftpplus_version", .string(version))]
            return r
        }
        if inClientShell {
            var i = 0
            while i < c.count, (c[i] >= 0x61 && c[i] <= 0x7A) || c[i] == 0x5F { i += 1 }
            if i > 0, i + 1 < c.count, c[i] == 0x3A, c[i + 1] == 0x20 {
                var r = p.record(.sftpplusAttribute, file: file)
                r.layout = "client-shell"
                r.text = text
                r.extra = [("name", .string(TextLayouts.string(c, 0, i))),
                           ("value", .string(TextLayouts.string(c, i + 2, c.count)))]
                return r
            }
        }
        return nil
    }
}
