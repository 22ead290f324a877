import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogSessions
import SFTPLogStore

/// What the lines of a source read so far are: hashed for its identity, its
/// head kept for recognising the content, counted.
struct ReadLines: Sendable {
    var hash: ContentHash
    var headBytes: [UInt8] = []
    var count = 0

    /// Every physical line read.
    mutating func add(_ l: PhysicalLine) {
        let all = UnsafeBufferPointer(start: l.bytes.baseAddress, count: l.bytes.count + l.terminatorLength)
        hash.update(all)
        if headBytes.count < Ingestor.headLength {
            headBytes += all.prefix(Ingestor.headLength - headBytes.count)
        }
        count += 1
    }
}

/// One source being read and stored by `Ingestor.store`.
///
/// The parsing thread hashes its lines, fills the batch and snapshots it with
/// everything the batch commits (`takeBatch`). Each batch's job runs `write`
/// on the writer thread, which alone sets the writer-side fields (`sourceID`,
/// `deletedTail`, `writerSplit`, `sftpplusVersions`) until the source's lane is
/// finished; `outcome` reads them after that.
final class SourceLoad {
    /// What one batch commits: its records, the sessions closed meanwhile and the source's progress.
    struct Batch {
        var records: [RecordWriter.Prepared]
        /// The `record_terms` rows they use.
        var terms: [(Int64, String)]
        var progress: SourceProgress
        var final: Bool
        var closedSessions: [SessionTimeline]
        var preparedSessions: [SessionStore.PreparedSession]
        var markRecordsAfterwards: Bool
        /// Per prepared session, the load of the earlier file of its log where it
        /// began (nil: this one's); its source id is known on the writer thread.
        var origins: [SourceLoad?]
        /// The sessions from this index on are stored as they stand (the log goes on).
        var provisionalFrom: Int
        /// Facts gathered while streaming, for a source read in one run (a resumed one reads them back).
        var streamedFacts: SourceFacts.Streamed?
        var counts: (records: Int, unparsed: Int)
    }

    let name: String
    let resumeFrom: StoredSource?
    let startOffset: Int64, startLine: Int
    let storedFormat: SourceFormat?
    let reader: LogReader
    /// What the reader found, when another thread reads the source
    /// (`IngestReading`, which makes a reader of its own alike): `reader` is then never fed.
    struct ReaderFacts {
        var format: SourceFormat?
        var explanation: String?
        var state: String?
    }
    var readerFacts: ReaderFacts?
    private var readerFormat: SourceFormat? {
        if let f = readerFacts { return f.format }
        return (reader as? DetectingReader)?.format ?? storedFormat
    }
    /// New sources get their sessions while streaming; a resumed one is rebuilt from the store at the end.
    /// Chosen at the first record (`sessions(format:)`): the sessions its log's
    /// file before left open, continued, or new ones.
    private(set) var live: LiveSessions?
    private let liveSessions: SessionRebuild?
    /// The load of the file before in the same log, read in this run, whose open sessions this one may continue.
    private let carried: SourceLoad?
    /// The loads where sessions this one continues began, by file name.
    private var origins: [String: SourceLoad] = [:]
    /// Set by the ingest when this source's log may go on in a later file of the run.
    var keepsSessionsOpen = false
    /// Following a file: sessions idle for `SourceLoad.sessionIdle` seconds of log
    /// time are ended at each batch, so a long follow holds only live ones.
    var endsIdleSessions = false
    static let sessionIdle = 3600.0
    private var latestEpoch = -Double.infinity
    /// Rendered by hand: an ISO8601DateFormatter per source cost ~0.5 ms (10,000 transcripts).
    let now = LogTimestamp.utcISO(Date().timeIntervalSince1970.rounded(.down), fractionDigits: 0)

    // The parsing thread's. Those changed per record are not checked for
    // exclusive access at run time (`@exclusivity(unchecked)`): one thread
    // uses them, and no access to one overlaps another; the checks were three
    // a record.
    /// Where the records go instead of the staging file, if anywhere (`Ingestor.directLoad`).
    var askDirect: ((String) -> DirectSourceLoad?)?
    private(set) var direct: DirectSourceLoad?
    @exclusivity(unchecked) var result: SourceIngestResult
    var linesRead: ReadLines
    @exclusivity(unchecked) var batch: [RecordWriter.Prepared] = []
    /// Records added since the last batch was taken (those of a direct load are not in `batch`).
    @exclusivity(unchecked) var batched = 0
    /// The terms the batch's records use (stored with them).
    @exclusivity(unchecked) var batchTerms = Set<Int64>()
    let terms: TermDictionary
    var places = RecordPlaces()
    /// Where this run's lines begin, for the links of sessions rebuilt from the store.
    var lineOffsets = LineOffsets()
    var nextResume: (offset: Int64, line: Int)
    @exclusivity(unchecked) var lastEmittedEnd: (offset: Int64, line: Int)?
    @exclusivity(unchecked) var streamedFacts = SourceFacts.Streamed()

    // The writer thread's, inside this source's jobs.
    var sourceID: Int64?
    var deletedTail = false
    var sftpplusVersions: String?
    /// Seconds writing records, sessions and whole jobs (SFTPLOG_TIMINGS).
    var writerSplit = (records: 0.0, sessions: 0.0, job: 0.0)

    /// Batches the writer has stored, freed on the parsing thread that
    /// allocated them (`takeBatch`): freed on the writer's thread, each free
    /// took the parsing thread's malloc arena lock, and the two threads spent
    /// about 5% of their time waking each other over it.
    private let spentLock = NSLock()
    private var spent: [Batch] = []

    /// A batch in flight to the writer, taken back once it is stored.
    final class Handoff {
        fileprivate var batch: Batch?
        init(_ b: Batch) { batch = b }
    }

    /// On the writer thread: stores the batch (`write`), then hands it back.
    func write(_ h: Handoff, to w: StoreWriter, ingestor: Ingestor) throws {
        guard let b = h.batch else { return }
        h.batch = nil
        defer {
            spentLock.lock()
            spent.append(b)
            spentLock.unlock()
        }
        try write(b, to: w, ingestor: ingestor)
    }

    /// Positions `src` where reading starts: after what is stored for a resumed source.
    init(_ src: InputSource, name: String, resumeFrom: (StoredSource, ContentHash)?, stream: RecordStream,
         sessions: SessionRebuild?, carried: SourceLoad? = nil, batchSize: Int, terms: TermDictionary) throws {
        self.name = name
        self.terms = terms
        self.carried = resumeFrom == nil ? carried : nil
        self.resumeFrom = resumeFrom?.0
        result = SourceIngestResult(name: name)
        linesRead = ReadLines(hash: resumeFrom?.1 ?? ContentHash())
        sourceID = resumeFrom?.0.id
        startOffset = resumeFrom?.0.resumeOffset ?? 0
        startLine = resumeFrom?.0.resumeLine ?? 1
        nextResume = (startOffset, startLine)
        storedFormat = resumeFrom?.0.format.flatMap(SourceFormat.init(rawValue:))
        if resumeFrom != nil {
            result.resumed = true
            // The head is already stored; recompute its hash from the file's start.
            try src.seek(to: 0)
            linesRead.headBytes = try src.readUpTo(Ingestor.headLength)
            try src.seek(to: startOffset)
        }
        batch.reserveCapacity(batchSize)
        reader = stream.makeReader(file: name, fileYear: src.modificationYear, format: storedFormat,
                                   readerState: resumeFrom?.0.readerState)
        liveSessions = resumeFrom == nil ? sessions : nil
    }

    /// The sessions this source's records go to, once its format is known.
    private func sessions(format: SourceFormat?) -> LiveSessions? {
        if let live { return live }
        guard let liveSessions else { return nil }
        if let c = carried, let l = c.live, l.continueInto(file: name, sourceID: 0, format: format) {
            live = l
            origins = c.origins
            origins[c.name] = c
        } else {
            // The file before's open sessions were stored as they stood at its end.
            live = liveSessions.live(file: name)
        }
        return live
    }

    /// Whether the next file of this source's log may continue its sessions.
    var continues: Bool { live?.continues ?? false }

    var format: String? { readerFormat?.rawValue }

    func line(_ l: PhysicalLine) { linesRead.add(l) }

    /// Whether the ingest commits before a record (at `seq` among its line's),
    /// `sinceCommit` records after the last commit: at a line's first record, so
    /// the records of a line (a JSON batch) stay together, once a batch's worth came.
    /// `IngestReading` decides by it too, so both commit at the same places.
    static func commitsBefore(seq: Int, sinceCommit: Int, batchSize: Int) -> Bool {
        seq == 0 && sinceCommit >= batchSize
    }

    /// The format the reading thread read the next records in.
    func read(format: SourceFormat?) {
        if readerFacts == nil { readerFacts = ReaderFacts() }
        readerFacts?.format = format
    }

    /// What the reading thread read up to a commit or the end.
    func apply(_ t: IngestReading.Tally) {
        linesRead = t.lines
        readerFacts = ReaderFacts(format: t.format, explanation: t.formatExplanation, state: t.readerState)
    }

    /// The record's place among the records of its line.
    func seq(of r: Record) -> Int { places.seq(of: r) }

    /// Adds a record to the batch (and to its session while streaming). The
    /// record is borrowed: the session it joins goes to `prepare` beside it
    /// (copying each record to set it retained and released every field).
    func add(_ r: Record, seq: Int, zone: TimeZone, onUnparsed: ((Record) -> Void)?) {
        let format = readerFormat
        if let ask = askDirect {
            // Asked once, at the first record, when its sessions give each record
            // its id as it is added (a transcript's are known only afterwards).
            askDirect = nil
            if resumeFrom == nil, liveSessions != nil, format != .openssh { direct = ask(name) }
        }
        var session = RecordWriter.SessionJoin(r)
        if let joined = sessions(format: format)?.add(r, seq: seq, format: format) {
            session = RecordWriter.SessionJoin(id: joined.id, duplicate: joined.duplicate)
        }
        /// The record as it is stored, with its session.
        func joined() -> Record {
            var c = r
            c.sessionID = session.id
            c.sessionDuplicate = session.duplicate
            return c
        }
        lastEmittedEnd = (r.endOffset, r.line + r.lineCount)
        if liveSessions == nil, r.endOffset > r.offset { lineOffsets.note(line: r.line, offset: r.offset) }
        if endsIdleSessions, let t = r.timestamp { latestEpoch = max(latestEpoch, t.epoch(in: zone)) }
        streamedFacts.add(r)
        batched += 1
        if let direct {
            direct.add(joined(), seq: seq)
        } else {
            batch.append(RecordWriter.prepare(r, seq: seq, session: session, zone: zone, terms: terms, used: &batchTerms))
        }
        result.records += 1
        if r.kind == .unparsed { result.unparsed += 1; onUnparsed?(joined()) }
    }

    /// Takes the batch and snapshots what it commits; nil for a followed file
    /// that stayed empty (an empty source would match any file's head).
    func takeBatch(final: Bool, batchSize: Int) -> Batch? {
        spentLock.lock()
        let done = spent
        spent = []
        spentLock.unlock()
        _ = consume done
        let (hash, headBytes, lines) = (linesRead.hash, linesRead.headBytes, linesRead.count)
        if sourceID == nil && hash.count == 0 { return nil }
        let explanation = readerFacts.map { $0.explanation } ?? (reader as? DetectingReader)?.explanation
        let state = readerFacts.map { $0.state } ?? (reader as? CSVEventReader)?.savedState ?? resumeFrom?.readerState
        var head = ContentHash()
        head.update(headBytes)
        // At the end, the last record is re-read on the next run (it may grow).
        let resume = final ? (places.lastLineStart ?? (hash.count, startLine + lines)) : nextResume
        let progress = SourceProgress(name: name, format: format, formatExplanation: explanation, readerState: state,
                                      bytes: hash.count, contentHash: hash.digest, headHash: head.digest, headLength: headBytes.count,
                                      resumeOffset: resume.0, resumeLine: resume.1, complete: final, lastLine: startLine + lines - 1,
                                      ingestedAt: now)
        var records = batch
        batch = []
        batched = 0
        // Room for the next batch only if there is one: a finished load can wait a
        // while for its writes, and 10,000 transcripts each holding room for 8,000
        // prepared records was 120 MB of the peak.
        if !final && direct == nil { batch.reserveCapacity(batchSize) }
        var closed: [SessionTimeline] = []
        var provisionalFrom = Int.max
        if let live {
            if !final {
                if endsIdleSessions { live.endIdle(before: latestEpoch - SourceLoad.sessionIdle) }
                closed = live.takeClosed(sourceID: 0)
            } else if keepsSessionsOpen, live.continues {
                // The log's next file may continue the sessions still open: they
                // are stored as they stand, and again when they end.
                closed = live.takeClosed(sourceID: 0)
                provisionalFrom = closed.count
                closed += live.snapshot(sourceID: 0)
            } else {
                closed = live.finish(sourceID: 0)
            }
        }
        // An OpenSSH run's records get its session here when they are in this
        // batch (written once); those in earlier batches are marked afterwards.
        var marks = closed
        if live?.marksRecordsAfterwards == true { marks = SourceLoad.join(&records, to: closed) }
        // The sessions' repeated texts are terms too, stored with the batch.
        let prepared = SessionStore.prepare(closed, terms: terms, used: &batchTerms)
        let usedTerms = terms.terms(batchTerms)
        batchTerms.removeAll(keepingCapacity: true)
        return Batch(records: records, terms: usedTerms, progress: progress, final: final, closedSessions: marks,
                     preparedSessions: prepared, markRecordsAfterwards: live?.marksRecordsAfterwards ?? false,
                     origins: closed.map { $0.file == name ? nil : origins[$0.file] }, provisionalFrom: provisionalFrom,
                     streamedFacts: final && resumeFrom == nil ? streamedFacts : nil, counts: (result.records, result.unparsed))
    }

    /// Sets the session of `records` (in line order) that `sessions` name;
    /// returns the sessions with only the records that are not there (or could
    /// not take it), for the writer to mark afterwards. Later sessions win, as
    /// their UPDATEs would.
    static func join(_ records: inout [RecordWriter.Prepared], to sessions: [SessionTimeline]) -> [SessionTimeline] {
        guard let first = records.first?.place.line else { return sessions }
        var out = sessions
        for k in out.indices {
            var rest: [RecordRef] = []
            for ref in out[k].records {
                guard ref.sourceID == 0, ref.line >= first else { rest.append(ref); continue }
                // The first record at or after the ref's place.
                var lo = 0, hi = records.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    let p = records[mid].place
                    if p.line < ref.line || (p.line == ref.line && p.seq < ref.seq) { lo = mid + 1 } else { hi = mid }
                }
                if lo < records.count, records[lo].place == (ref.line, ref.seq),
                   records[lo].join(session: out[k].id, duplicate: ref.duplicate) { continue }
                rest.append(ref)
            }
            out[k].records = rest
        }
        return out
    }

    /// On the writer thread: stores one batch, and after the last one the
    /// source's counts, SFTPPlus versions and (for a resumed source) sessions.
    func write(_ b: Batch, to w: StoreWriter, ingestor: Ingestor) throws {
        let jobStart = DispatchTime.now().uptimeNanoseconds
        defer { writerSplit.job += Double(DispatchTime.now().uptimeNanoseconds - jobStart) / 1e9 }
        let id: Int64
        if let known = sourceID {
            id = known
            if !deletedTail { try w.deleteRecords(sourceID: id, fromLine: startLine) }
        } else {
            id = try w.addSource(b.progress)
            sourceID = id
        }
        deletedTail = true
        let t0 = DispatchTime.now().uptimeNanoseconds
        try w.writeRecords(b.records, terms: b.terms, sourceID: id)
        let t1 = DispatchTime.now().uptimeNanoseconds
        var prepared = b.preparedSessions
        for (i, origin) in b.origins.enumerated() {
            if let o = origin?.sourceID { prepared[i].began(inSource: o) }
        }
        try w.addSessions(prepared, sourceID: id, provisionalFrom: b.provisionalFrom)
        writerSplit.records += Double(t1 - t0) / 1e9
        writerSplit.sessions += Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e9
        if b.markRecordsAfterwards { try w.assignRecords(sourceID: id, to: b.closedSessions) }
        try w.updateSource(id: id, b.progress)
        guard b.final else { return }
        // A source read in one run has its counts and facts from the stream,
        // which spares scans of all its rows; a resumed one reads them back.
        if b.streamedFacts != nil {
            try w.setRecordCounts(sourceID: id, records: b.counts.records, unparsed: b.counts.unparsed)
        } else {
            try w.recountRecords(sourceID: id)
        }
        if let catalog = ingestor.stream.catalog {
            try ingestor.refreshCatalogTable(w, catalog)
            let facts = try b.streamedFacts ?? SourceFacts.Streamed.stored(w.reader, sourceID: id)
            sftpplusVersions = try SourceFacts.updateVersions(w, sourceID: id, catalog: catalog, facts: facts)
        }
        if let sessions = ingestor.sessions, live == nil { _ = try sessions.rebuild(w, sourceID: id, offsets: lineOffsets) }
    }

    /// The source's result, once its lane is finished.
    var outcome: SourceIngestResult {
        var r = result
        r.sourceID = sourceID
        r.format = format
        r.sftpplusVersions = sftpplusVersions
        return r
    }

    /// Where the writer's time for this source went (SFTLOG_TIMINGS), once its lane is finished.
    func timings(_ lane: SerialWriter.Lane) -> String {
        String(format: "%@: writer busy %.3f s (records %.3f s, sessions %.3f s, rest of the batches %.3f s, commits %.3f s), parser waited %.3f s",
               name as NSString, lane.busySeconds, writerSplit.records, writerSplit.sessions,
               writerSplit.job - writerSplit.records - writerSplit.sessions, lane.busySeconds - writerSplit.job,
               lane.producerWaitSeconds)
    }
}
