import Foundation
import SFTPLogRecords

/// Reads `structured_fields` CSV: a header row of context-variable names, then
/// RFC 4180 rows (quoted fields may hold commas, doubled quotes and newlines).
public final class CSVEventReader: LogReader {
    let file: String
    let options: ReaderOptions
    package private(set) var header: [String]?
    private var pending: PendingLine?
    private var lastTerminator: [UInt8] = []
    private var quoteOpen = false
    static let maxRecordBytes = 4 << 20
    package static let maxHeaderBytes = 64 << 10

    public init(file: String, options: ReaderOptions) {
        self.file = file
        self.options = options
    }

    /// A header row: every name a known context variable, and `id` or `message` among them.
    package func setHeader(_ names: [String]) { header = names }

    public static func header(_ b: UnsafeBufferPointer<UInt8>) -> [String]? {
        // A header names a few dozen variables at most: a longer line (a 50 MB
        // hostile line reaches here from format detection) is not split into cells.
        guard b.count <= maxHeaderBytes else { return nil }
        guard let cells = split(b), cells.count >= 2 else { return nil }
        let names = cells.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard names.allSatisfy(EntryFormat.isKnownVariable), names.contains("id") || names.contains("message") else { return nil }
        return names
    }

    public func feed(_ line: PhysicalLine, _ emit: (consuming Record) throws -> Void) rethrows {
        // Reassigned only when it changes: an array per line was measurable.
        defer { if !lastTerminator.elementsEqual(line.terminator) { lastTerminator = Array(line.terminator) } }
        let b = line.bytes
        if pending != nil, quoteOpen, startsRow(b) {
            // Hostile input: a stray quote used to swallow every following row (up to
            // 4 MB) into one unparsed record. A line that is a whole row on its own
            // (balanced quotes, the header's field count, a numeric `id`) starts anew.
            quoteOpen = false
            try flush(emit, forcedProblem: "quoted field not closed before the next row (line \(line.number))")
        }
        if pending != nil {
            // Inside a quoted field: the newline is part of the value.
            pending!.append(line, previousTerminator: lastTerminator, content: b, separator: lastTerminator)
        } else {
            if PhysicalLine.isBlank(b) { return }
            pending = PendingLine(line, content: b)
        }
        if CSVEventReader.quoteCount(b) % 2 == 1 { quoteOpen.toggle() }
        if !quoteOpen {
            try flush(emit)
        } else if pending!.content.count > CSVEventReader.maxRecordBytes {
            quoteOpen = false
            try flush(emit, forcedProblem: "quoted field never closes (over \(CSVEventReader.maxRecordBytes) bytes)")
        }
    }

    public func finish(_ emit: (consuming Record) throws -> Void) rethrows {
        if pending != nil {
            try flush(emit, forcedProblem: quoteOpen ? "quoted field not closed before end of input" : nil)
        }
        quoteOpen = false
    }

    /// A complete row for the current header, with a numeric `id` (or, without an
    /// `id` column, a `timestamp.*` cell that parses).
    private func startsRow(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let header, b.count <= CSVEventReader.maxRecordBytes, CSVEventReader.quoteCount(b) % 2 == 0,
              let cells = CSVEventReader.split(b), cells.count == header.count else { return false }
        for (name, value) in zip(header, cells) {
            if name == "id" { return !value.isEmpty && value.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        }
        for (name, value) in zip(header, cells) where name.hasPrefix("timestamp.") && name != "timestamp.timestamp" {
            return Array(value.utf8).withUnsafeBufferPointer { TimestampScanner.iso($0, at: 0) } != nil
        }
        return false
    }

    static func quoteCount(_ b: UnsafeBufferPointer<UInt8>) -> Int {
        var n = 0
        for c in b where c == 0x22 { n += 1 }
        return n
    }

    private func flush(_ emit: (consuming Record) throws -> Void, forcedProblem: String? = nil) rethrows {
        guard let p = pending else { return }
        pending = nil
        let cells = p.content.withUnsafeBufferPointer { CSVEventReader.split($0) }
        if header == nil, forcedProblem == nil, let h = p.content.withUnsafeBufferPointer({ CSVEventReader.header($0) }) {
            header = h
            return
        }
        var r = p.record(.sftpplusEvent, file: file)
        r.layout = "csv"
        var problem = forcedProblem
        if problem == nil {
            if let header, let cells {
                if cells.count != header.count {
                    problem = "CSV row has \(cells.count) fields, the header names \(header.count)"
                } else if let pr = EventVariables.apply(Array(zip(header, cells)), to: &r) {
                    problem = pr
                }
            } else if header == nil {
                problem = "CSV row before any header row"
            } else {
                problem = "malformed CSV quoting"
            }
        }
        if let problem {
            r = p.record(.unparsed, file: file)
            r.text = UTF8Text.decode(p.content).0
            r.diagnostic = problem
        }
        try emit(r)
    }

    /// RFC 4180 split of one record; nil when quoting is malformed.
    static func split(_ b: UnsafeBufferPointer<UInt8>) -> [String]? {
        var cells: [String] = []
        var cell: [UInt8] = []
        var i = 0
        var inQuotes = false
        var wasQuoted = false
        while i < b.count {
            let c = b[i]
            if inQuotes {
                if c == 0x22 {
                    if i + 1 < b.count && b[i + 1] == 0x22 { cell.append(0x22); i += 2; continue }
                    inQuotes = false
                } else {
                    cell.append(c)
                }
            } else if c == 0x22 {
                guard cell.isEmpty && !wasQuoted else { return nil }
                inQuotes = true; wasQuoted = true
            } else if c == 0x2C {
                cells.append(UTF8Text.decode(cell).0); cell = []; wasQuoted = false
            } else {
                if wasQuoted { return nil }
                cell.append(c)
            }
            i += 1
        }
        if inQuotes { return nil }
        cells.append(UTF8Text.decode(cell).0)
        return cells
    }
}
