import Foundation

/// Reads SFTPPlus text logs: ID-first, timestamp-first, short, syslog, a
/// configured `entry_content`, JSON event objects, documentation copies
/// (`| ` line blocks, indented continuations) and client-shell transcripts.
/// Layouts are recognised per logical line, so a file may mix them.
public final class SFTPPlusTextReader: LogReader {
    let file: String
    let options: ReaderOptions
    private var pending: PendingLine?
    private var lastTerminator: [UInt8] = []
    /// A JSON value spread over several physical lines is being collected.
    private var collectingJSON = false
    private var jsonDepth = 0
    /// Seen a client-shell prompt or banner: `name: value` lines are attribute listings.
    private var inClientShell = false
    /// The source starts with a UTF-16 byte-order mark (named in unparsed diagnostics).
    private var utf16: String?
    static let maxJSONBytes = 16 << 20

    public init(file: String, options: ReaderOptions) {
        self.file = file
        self.options = options
    }

    public func feed(_ line: PhysicalLine, _ emit: (consuming Record) throws -> Void) rethrows {
        let b = line.bytes
        if line.offset == 0, b.count >= 2, (b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF) {
            utf16 = b[0] == 0xFF ? "FF FE" : "FE FF"
        }
        // Reassigned only when it changes: an array per line was measurable.
        defer { if !lastTerminator.elementsEqual(line.terminator) { lastTerminator = Array(line.terminator) } }
        if collectingJSON, pending != nil, SFTPPlusTextReader.startsTextEvent(b) {
            // Hostile input: a JSON event cut short (truncated file, crashed writer)
            // used to swallow every following line up to 16 MB into one unparsed
            // record. No line inside a JSON value can be an ID-first or
            // timestamp-first event, so such a line ends the collection.
            collectingJSON = false
            try flush(emit)
        }
        if collectingJSON, pending != nil {
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
            return
        }
        if (b[0] == 0x20 || b[0] == 0x09), pending != nil {
            var i = 0
            while i < b.count && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
            // A wrapped `| ` block may also re-indent its own bar; keep text only.
            pending!.append(line, previousTerminator: lastTerminator,
                            content: UnsafeBufferPointer(rebasing: b[i...]), separator: [0x20])
            return
        }
        try flush(emit)
        var start = 0
        // reStructuredText line block: "| text" (also "|" alone for an empty line).
        if b[0] == 0x7C && (b.count == 1 || b[1] == 0x20) { start = min(2, b.count) }
        pending = PendingLine(line, content: UnsafeBufferPointer(rebasing: b[start...]))
        if start < b.count, b[start] == 0x7B {
            let d = SFTPPlusTextReader.depthChange(UnsafeBufferPointer(rebasing: b[start...]))
            if d > 0 { collectingJSON = true; jsonDepth = d }
        }
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
    static func startsTextEvent(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
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
        guard let p = pending else { return }
        pending = nil
        try p.content.withUnsafeBufferPointer { try parse($0, p, emit) }
    }

    private func syslogYear() -> (Int, String) {
        if let y = options.year { return (y, "year \(y) from --year (RFC 3164 timestamps have none)") }
        if let y = options.fileYear { return (y, "year \(y) from the file's modification time (RFC 3164 timestamps have none)") }
        let y = Calendar(identifier: .gregorian).component(.year, from: Date())
        return (y, "year \(y) is the current year (RFC 3164 timestamps have none; use --year)")
    }

    /// Emits the record(s) of one logical line (a JSON array holds several); records go
    /// straight to `emit`, since an array per line was measurable.
    func parse(_ c: UnsafeBufferPointer<UInt8>, _ p: PendingLine, _ emit: (consuming Record) throws -> Void) rethrows {
        if let fmt = options.entryFormat, let values = fmt.match(c) {
            var r = p.record(.sftpplusEvent, file: file)
            r.layout = "entry-format"
            if let problem = EventVariables.apply(values, to: &r) {
                try emit(unparsed(c, p, "does not fit --entry-format: \(problem)")); return
            }
            if r.eventID == nil && r.message == nil {
                try emit(unparsed(c, p, "matched --entry-format but carries neither id nor message")); return
            }
            try emit(r); return
        }
        guard let first = c.first else { return }
        var fields: TextEventFields?
        if TextLayouts.isDigit(first) {
            fields = TextLayouts.idFirst(c) ?? TextLayouts.tsFirst(c)
        } else if first == 0x3C {
            let (year, note) = syslogYear()
            fields = TextLayouts.syslog(c, year: year, yearNote: note)
        } else if first == 0x7B {
            if let records = JSONEvents.records(c, p, file: file) { for r in records { try emit(r) }; return }
            // Name the cause: nesting beyond the parser's limit is refused, not "incomplete".
            let depth = JSONValue.nestingDepth(c)
            try emit(unparsed(c, p, depth > JSONValue.defaultMaxDepth
                ? "JSON nested \(depth) levels deep (more than \(JSONValue.defaultMaxDepth) are refused)"
                : "not a complete SFTPPlus JSON event")); return
        } else if let r = clientShell(c, p) {
            try emit(r); return
        }
        guard let f = fields else {
            var why = options.entryFormat != nil
                ? "fits neither --entry-format nor a known SFTPPlus layout" : "fits no known SFTPPlus layout"
            // Say what is wrong when it can be named: a timestamp-shaped prefix with
            // impossible fields (month 13, hour 25, year 0), or a UTF-16 file.
            if let problem = TimestampScanner.outOfRange(c, at: TextLayouts.isDigit(first) ? 0 : -1)
                ?? TimestampScanner.outOfRange(c, at: TextLayouts.eventID(c, 0).map { $0 + 1 } ?? -1) {
                why += ": " + problem
            }
            if let bom = utf16 { why += ": the file is UTF-16 (byte-order mark \(bom) at its start); sftplog reads UTF-8, convert it first (iconv -f UTF-16 -t UTF-8)" }
            try emit(unparsed(c, p, why)); return
        }
        var r = p.record(.sftpplusEvent, file: file)
        r.layout = f.layout
        r.timestamp = f.timestamp
        r.timestampNote = f.timestampNote
        r.eventID = f.eventID
        r.component = f.component
        r.account = f.account
        r.peer = f.peer
        r.message = TextLayouts.string(c, f.messageStart, c.count)
        r.extra = f.extra
        try emit(r)
    }

    private func unparsed(_ c: UnsafeBufferPointer<UInt8>, _ p: PendingLine, _ why: String) -> Record {
        var r = p.record(.unparsed, file: file)
        r.text = UTF8Text.decode(c).0
        r.diagnostic = why
        return r
    }

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
