import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogOpenSSH
import SFTPLogSessions
import SFTPLogStore

/// Turns one input into records: line splitting, format detection, the chosen
/// reader, then catalogue resolution. Used by `parse` (print) and `ingest` (store).
public struct RecordStream: Sendable {
    public var options: ReaderOptions
    public var catalog: EventCatalog?

    public init(options: ReaderOptions, catalog: EventCatalog? = nil) {
        self.options = options
        self.catalog = catalog
    }

    /// A reader for a known format (resuming) or one that detects it.
    public func makeReader(file: String, fileYear: Int?, format: SourceFormat?, readerState: String?) -> LogReader {
        var opts = options
        opts.fileYear = fileYear
        let factory: DetectingReader.Factory = { f in
            switch f {
            case .sftpplusCSV:
                let r = CSVEventReader(file: file, options: opts)
                if let state = readerState { r.restoreHeader(state) }
                return r
            case .openssh:
                return OpenSSHReaderFactory.make(file: file, options: opts)
            case .sftpplusText:
                return SFTPPlusTextReader(file: file, options: opts)
            }
        }
        if let format { return factory(format) }
        return DetectingReader(factory: factory)
    }

    /// Streams records from `source` starting at `offset`/`line`; `onLine` sees every
    /// physical line first (for hashing), `emit` every record in input order.
    /// `checkStream: false` leaves `source.checkStream()` to a caller that stores what was read first.
    public func run(_ source: InputSource, reader: LogReader, offset: Int64 = 0, line: Int = 1, prefix: [UInt8] = [],
                    checkStream: Bool = true, follow: FollowControl? = nil, onIdle: () throws -> Void = {},
                    onLine: ((PhysicalLine) -> Void)? = nil, emit: (consuming Record) throws -> Void) throws {
        let resolver = catalog.map(SourceResolver.init)
        let clock = TimestampSanity(zone: options.timeZone)
        // Records move from reader to caller (`consuming`): each copy retained a
        // dozen strings and arrays, a tenth of the parsing thread.
        func sink(_ r: consuming Record) throws {
            resolver?.resolve(&r)
            clock.check(&r)
            // Hostile input: a record whose last line has no terminator is where the
            // input stopped (a truncated file, a cut transcript): it is said, so a cut
            // message or algorithm list is not taken for a whole one.
            if !r.raw.isEmpty, r.endOffset == r.offset + Int64(r.raw.count) {
                let note = "no line terminator after this line: the input may have been cut short here"
                if r.kind == .unparsed { r.diagnostic = (r.diagnostic.map { $0 + "; " } ?? "") + note }
                else { r.extra.append(("line_note", .string(note))) }
            }
            try emit(r)
        }
        try LineSplitter().split(fd: source.fd, startOffset: offset, startLine: line, prefix: prefix, follow: follow,
                                 idle: { try reader.idle(sink); try onIdle() }) { l in
            onLine?(l)
            try reader.feed(l, sink)
        }
        try reader.finish(sink)
        // Corrupt compressed input ends the stream early: report it once what came before is out.
        if checkStream { try source.checkStream() }
    }
}

/// A record's place among the records of its line (`seq`), and where the last
/// line's records start: where `ingest` resumes a source, re-reading them.
struct RecordPlaces {
    private var last = (line: -1, seq: 0)
    private(set) var lastLineStart: (offset: Int64, line: Int)?

    mutating func seq(of r: Record) -> Int {
        let seq = r.line == last.line ? last.seq + 1 : 0
        last = (r.line, seq)
        if seq == 0 { lastLineStart = (r.offset, r.line) }
        return seq
    }
}

/// Where OpenSSH transcripts get their reader; replaced when the OpenSSH stage lands.
enum OpenSSHReaderFactory {
    static func make(file: String, options: ReaderOptions) -> LogReader {
        OpenSSHTranscriptReader(file: file, options: options)
    }
}

extension CSVEventReader {
    /// Reader state worth persisting to resume a CSV file mid-way: its header.
    public var savedState: String? { header.map { $0.joined(separator: ",") } }

    func restoreHeader(_ state: String) {
        setHeader(state.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
    }
}

/// Hostile or broken clocks: a timestamp in the future or one that goes back in
/// time is still what the log says, so the record keeps it, with a `ts_note`
/// (appended to any note already there) for the reader to see and query.
final class TimestampSanity {
    /// A stamp more than a day after the run is in the future (a day covers any zone
    /// an offset-less stamp may have been written in).
    let futureLimit = Date().timeIntervalSince1970 + 86_400
    /// Going back more than this from the previous stamp is noted (SFTPPlus writes in order;
    /// threads may swap neighbours by milliseconds).
    static let backwardsSlack = 1.0
    private var last: (epoch: Double, line: Int)?
    /// Offset-less stamps are read in the run's zone (`--timezone`), as everywhere else;
    /// the zone's offset is looked up once per wall-clock hour.
    let zone: TimeZone
    private var zoneHour = Int.min, zoneOffset = 0

    init(zone: TimeZone) { self.zone = zone }

    func check(_ r: inout Record) {
        guard let ts = r.timestamp else { return }
        let wall = ts.wallEpoch
        let epoch: Double
        if let o = ts.offsetSeconds {
            epoch = wall - Double(o)
        } else {
            let hour = Int((wall / 3600).rounded(.down))
            if hour != zoneHour { zoneHour = hour; zoneOffset = Int(wall - ts.epoch(in: zone)) }
            epoch = wall - Double(zoneOffset)
        }
        var notes: [String] = []
        if epoch > futureLimit { notes.append("timestamp is in the future (after the time of this run)") }
        if let last, epoch < last.epoch - TimestampSanity.backwardsSlack {
            notes.append("timestamp goes back \(TimestampSanity.span(last.epoch - epoch)) from line \(last.line)")
        }
        last = (epoch, r.line)
        guard !notes.isEmpty else { return }
        r.timestampNote = ([r.timestampNote].compactMap { $0 } + notes).joined(separator: "; ")
    }

    static func span(_ s: Double) -> String {
        if s < 120 { return String(format: "%.0f s", s) }
        if s < 7200 { return String(format: "%.0f min", s / 60) }
        if s < 172_800 { return String(format: "%.1f h", s / 3600) }
        return String(format: "%.0f days", s / 86400)
    }
}
