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
    /// Large regular files are read in pieces on several cores by `runInPieces` (nil: one thread).
    public var chunking: Chunking?
    /// The events an answer needs resolved against the catalogue (nil: every one).
    /// The others keep their layout's fields and no wording (`audit`).
    public var needs: ResolutionNeeds?

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
    /// `plain`, when given, takes the events that are one plain SFTPPlus text line
    /// instead of `emit` taking their records (`parse` prints them straight from
    /// the line); the two see the input's records in one order. `plain` gets the
    /// line's checks, its file name, its bytes and the matched values' ranges,
    /// which the event places itself in.
    /// `resolving: false` leaves the messages of records and plain lines alike
    /// unresolved, for the caller to resolve in the same order with a
    /// `SourceResolver` of its own (`parse` does it on its render thread).
    public typealias PlainLines = (PlainEventLine, borrowing PlainEventLine.Checks, String, UnsafeBufferPointer<UInt8>,
                                   UnsafeBufferPointer<(Int, Range<Int>)>) -> Void

    public func run(_ source: InputSource, reader: LogReader, offset: Int64 = 0, line: Int = 1, prefix: [UInt8] = [],
                    checkStream: Bool = true, follow: FollowControl? = nil, onIdle: () throws -> Void = {},
                    onLine: (PhysicalLine) -> Void = { _ in }, plain: PlainLines? = nil, resolving: Bool = true,
                    emit: (consuming Record) throws -> Void) throws {
        try run(fd: source.fd, reader: reader, offset: offset, line: line, prefix: prefix, follow: follow, onIdle: onIdle,
                onLine: onLine, plain: plain, resolving: resolving, emit: emit)
        // Corrupt compressed input ends the stream early: report it once what came before is out.
        if checkStream { try source.checkStream() }
    }

    /// `run` on a descriptor alone (another thread's source, `IngestReading`).
    func run(fd: Int32, reader: LogReader, offset: Int64, line: Int, prefix: [UInt8], follow: FollowControl? = nil,
             onIdle: () throws -> Void = {}, onLine: (PhysicalLine) -> Void, plain: PlainLines? = nil, resolving: Bool = true,
             emit: (consuming Record) throws -> Void) throws {
        let completion = RecordCompletion(self, resolving: resolving)
        // Records move from reader to caller (`consuming`): each copy retained a
        // dozen strings and arrays, a tenth of the parsing thread.
        func sink(_ r: consuming Record) throws {
            completion.complete(&r)
            try emit(r)
        }
        func read() throws {
            try LineSplitter().split(fd: fd, startOffset: offset, startLine: line, prefix: prefix, follow: follow,
                                     idle: { try reader.idle(sink); try onIdle() }) { l in
                onLine(l)
                try reader.feed(l, sink)
            }
            try reader.finish(sink)
        }
        // Plain lines skip the record only where nothing else (an answer's `needs`)
        // decides how a record is completed, and where they are resolved: here
        // with the catalogue, or by the caller (which may still be loading it).
        guard let plain, catalog != nil || !resolving, needs == nil else { return try read() }
        try withoutActuallyEscaping(plain) { plain in
            let taker = PlainEventLines(resolver: completion.resolver, clock: completion.clock, take: plain)
            func install(_ t: PlainEventTaker?) {
                if let d = reader as? DetectingReader { d.plainEvents = t } else { (reader as? SFTPPlusTextReader)?.plainEvents = t }
            }
            install(taker)
            // The closure must not outlive this call.
            defer { install(nil) }
            try read()
        }
    }
}

/// `RecordStream.run`'s taker of plain lines: each is clock-checked, and resolved
/// unless the caller resolves later, as its record would have been (with the same
/// resolver and clock, in order), then lent to the caller.
final class PlainEventLines: PlainEventTaker {
    /// Nil: the caller resolves (`resolving: false`); the line says `unresolved` until then.
    let resolver: SourceResolver?
    let clock: TimestampSanity
    let plain: RecordStream.PlainLines

    init(resolver: SourceResolver?, clock: TimestampSanity, take: @escaping RecordStream.PlainLines) {
        self.resolver = resolver; self.clock = clock; self.plain = take
    }

    func take(_ line: UnsafeBufferPointer<UInt8>, number: Int, fields f: inout TextEventFields, file: String) -> Bool {
        // A `let`: a variable captured by `give` was checked for exclusive access at run time.
        let checks = PlainEventLine.Checks(
            outcome: resolver?.resolve(eventID: UnsafeBufferPointer(rebasing: line[f.eventID]),
                                       message: UnsafeBufferPointer(rebasing: line[f.messageStart...])) ?? .unresolved,
            timestampNote: f.timestamp.flatMap { clock.note($0, line: number) })
        func give(_ values: UnsafeBufferPointer<(Int, Range<Int>)>) {
            plain(PlainEventLine(line: number, bytes: 0..<line.count, layout: f.layout, timestamp: f.timestamp,
                                 isoTimestamp: f.isoTimestamp, eventID: f.eventID, component: f.component, account: f.account,
                                 peer: f.peer, messageStart: f.messageStart, values: 0..<values.count),
                  checks, file, line, values)
        }
        if let resolver { resolver.matchedValues.withUnsafeBufferPointer(give) } else { give(UnsafeBufferPointer(start: nil, count: 0)) }
        return true
    }
}

/// What every record gets after its reader, in input order: its wording (when
/// the answer needs it), the clock check, a note on a missing line end.
final class RecordCompletion {
    let resolver: SourceResolver?
    let clock: TimestampSanity
    let needs: ResolutionNeeds?

    init(_ stream: RecordStream, resolving: Bool = true) {
        resolver = resolving ? stream.catalog.map(SourceResolver.init) : nil
        clock = TimestampSanity(zone: stream.options.timeZone)
        needs = stream.needs
    }

    func complete(_ r: inout Record) {
        if needs?.skips(r) != true { resolver?.resolve(&r) }
        clock.check(&r)
        RecordStream.noteMissingTerminator(&r)
    }

    /// `complete` for a record read apart from those before it (`PieceReading`):
    /// all but what depends on them. True when the version hint they give could
    /// have chosen another wording; `completeInOrder` finishes it.
    func completeAlone(_ r: inout Record) -> Bool {
        let hintSensitive = needs?.skips(r) != true && resolver?.resolveAlone(&r) == true
        RecordStream.noteMissingTerminator(&r)
        return hintSensitive
    }

    /// The rest of `complete` for a record `completeAlone` took, in input order.
    func completeInOrder(_ r: inout Record, hintSensitive: Bool) {
        resolver?.replay(&r, hintSensitive: hintSensitive)
        clock.check(&r)
    }
}

/// Which events an answer needs resolved: the catalogue's wording match is
/// most of a record's cost, and `audit` reads only the events that carry a
/// connection, its authentication and its algorithms.
public struct ResolutionNeeds: Sendable {
    /// Per ID the catalogue knows: whether the answer needs it resolved.
    let wanted: EventIDTable<Bool>
    /// File operations are resolved (answers that show them or their outcomes).
    public let operations: Bool

    /// Events the session builder reads fields of (without file operations
    /// unless `operations`), every event a wording of which carries a field any
    /// event may give a session (versions, key exchange, a location), and every
    /// ID the catalogue does not know (their fields are guessed from the text).
    public init(rules: SessionRules, catalog: EventCatalog, operations: Bool) {
        var ids = rules.eventIDsWithFields
        if !operations { ids.subtract(rules.operations.keys.filter { !rules.role($0).anyButOperation }) }
        let sessionFields: Set<String> = Set(["client_version", "server_version", "key_exchange", "location"]).union(rules.locationFields)
        for (id, e) in catalog.events where e.variants.contains(where: { !sessionFields.isDisjoint(with: $0.fields) }) {
            ids.insert(id)
        }
        wanted = EventIDTable(Dictionary(uniqueKeysWithValues: catalog.events.keys.map { ($0, ids.contains($0)) }))
        self.operations = operations
    }

    func skips(_ r: borrowing Record) -> Bool {
        guard r.kind == .sftpplusEvent, let id = r.eventID else { return false }
        // Known to the catalogue and not wanted.
        return wanted[id] == false
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
    /// `@exclusivity(unchecked)`: a clock checks one stream's records, on one thread,
    /// and no access overlaps another; checking that at run time was paid per record.
    @exclusivity(unchecked) private var last: (epoch: Double, line: Int)?
    /// Offset-less stamps are read in the run's zone (`--timezone`), as everywhere else;
    /// the zone's offset is looked up once per wall-clock hour.
    let zone: TimeZone
    @exclusivity(unchecked) private var zoneHour = Int.min
    @exclusivity(unchecked) private var zoneOffset = 0
    /// The last stamp's date and its day number: most stamps share their neighbours' date.
    @exclusivity(unchecked) private var lastDate = (year: Int.min, month: 0, day: 0, days: 0)

    init(zone: TimeZone) { self.zone = zone }

    func check(_ r: inout Record) {
        guard let ts = r.timestamp, let note = note(ts, line: r.line) else { return }
        r.timestampNote = r.timestampNote.map { $0 + "; " + note } ?? note
    }

    /// What `check` says of the timestamp of the record at `line`, in input order (nil: nothing).
    func note(_ ts: LogTimestamp, line: Int) -> String? {
        if ts.year != lastDate.year || ts.month != lastDate.month || ts.day != lastDate.day {
            lastDate = (ts.year, ts.month, ts.day, LogTimestamp.daysFromCivil(ts.year, ts.month, ts.day))
        }
        let wall = ts.wallEpoch(days: lastDate.days)
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
        last = (epoch, line)
        return notes.isEmpty ? nil : notes.joined(separator: "; ")
    }

    static func span(_ s: Double) -> String {
        if s < 120 { return String(format: "%.0f s", s) }
        if s < 7200 { return String(format: "%.0f min", s / 60) }
        if s < 172_800 { return String(format: "%.1f h", s / 3600) }
        return String(format: "%.0f days", s / 86400)
    }
}
