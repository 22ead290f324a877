import Foundation
import Synchronization
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogOpenSSH
import SFTPLogSessions
import SFTPLogStore

/// What one ingest run did to one source.
public struct SourceIngestResult: Sendable {
    public var name: String
    public var sourceID: Int64?
    public var records = 0
    public var unparsed = 0
    /// Already stored in full: nothing was added.
    public var alreadyStored = false
    /// Resumed a source stored earlier (grown file, interrupted run).
    public var resumed = false
    public var format: String?
    public var sftpplusVersions: String?
}

public struct IngestSummary: Sendable {
    public var sources: [SourceIngestResult] = []
    public var seconds: Double = 0
    public init() {}
    public var records: Int { sources.reduce(0) { $0 + $1.records } }
    public var unparsed: Int { sources.reduce(0) { $0 + $1.unparsed } }
}

/// Stores sources into the database so that the same content is stored once:
/// a source is recognised by the hash of its bytes whatever its name, a grown
/// source resumes after what is stored, and every batch commits its records
/// together with the source's progress, so a killed run resumes cleanly.
public final class Ingestor {
    public let store: LogStore
    public var stream: RecordStream
    public var batchSize = 8_000
    /// Rebuilds a source's sessions once its records are stored.
    public var sessions: SessionRebuild?
    /// Called for every line kept as `unparsed` (for per-line diagnostics).
    public var onUnparsed: ((Record) -> Void)?
    /// Called for every record as it is read, before it is stored (`watch`'s alerts).
    public var onRecord: ((Record) -> Void)?
    /// Asked at the first record of each new source, on the parsing thread:
    /// where its records go instead of the store (PostgreSQL's direct load).
    public var directLoad: ((_ name: String) -> DirectSourceLoad?)?
    /// Asked before each source is read: whether the sources before it are
    /// settled first (handed over, and loaded into PostgreSQL, before this one
    /// may take its id there with a direct load).
    public var settlesBefore: ((_ name: String) -> Bool)?
    /// Called on the parsing thread after each batch is handed to the writer.
    public var onProgress: ((IngestProgress) -> Void)?
    static let headLength = 4096
    /// A source of at least this many bytes (or a pipe) that is not followed is
    /// read on a thread of its own (`IngestReading`); a small one is not worth
    /// the thread. `SFTPLOG_READ_THREAD_BYTES` overrides it (tests read every
    /// sample both ways).
    public var readThreadBytes: Int64 = ProcessInfo.processInfo.environment["SFTPLOG_READ_THREAD_BYTES"].flatMap(Int64.init) ?? 1 << 20

    public init(store: LogStore, stream: RecordStream) {
        self.store = store
        self.stream = stream
    }

    /// The catalogue table is brought up to date once per run (its fingerprint
    /// costs ~1 ms: per source it dominated ingests of many small transcripts).
    private var catalogTableFresh = false
    func refreshCatalogTable(_ w: StoreWriter, _ catalog: EventCatalog) throws {
        guard !catalogTableFresh else { return }
        try w.refreshCatalog(catalog)
        catalogTableFresh = true
    }

    /// Drop and rebuild the record indexes around a load into an empty database
    /// (off when following: queries run while the load goes on).
    public var deferIndexes = true

    /// Set while following a file.
    private var follow: FollowControl?
    /// While `ingest(_ names:)` runs: the current input's log, whether a later
    /// input is a file of it too, and each log's last load whose open sessions
    /// its next file continues.
    private var family: String?
    private var familyGoesOn = false
    private var carries: [String: SourceLoad] = [:]

    /// A source read to its end whose batches may still be queued or being
    /// written while `ingest(_:each:)` reads the next ones. Each file waited for
    /// its own writer before the next was read: with many small files (10,000
    /// OpenSSH transcripts) the parsing and the writing took turns instead of
    /// sharing the two cores. `lane` is nil for an outcome known at once (an
    /// error, a source already stored), kept here to be handed over in order.
    private struct Unsettled {
        let name: String
        let head: [UInt8]
        let lane: SerialWriter.Lane?
        let complete: () throws -> SourceIngestResult
    }
    /// In input order.
    private var unsettled: [Unsettled] = []
    /// The writer every source of one `ingest` call queues its batches on.
    private var writer: SerialWriter?
    private func sharedWriter() -> SerialWriter {
        if let w = writer { return w }
        // Two full batches may wait (many small sources' jobs merge into one transaction).
        let w = SerialWriter(store: store, capacity: 2 * max(1, batchSize))
        writer = w
        // Each writer of a following run (one per `ingest` call: a rotation, a
        // spool file) tells the dictionary what it commits, or nothing is let go.
        if boundsTerms, let terms { w.reportCommits(to: terms) }
        return w
    }
    /// Waits for every queued batch and ends the writer thread.
    private func closeWriter() {
        settleAll()
        writer?.close()
        writer = nil
    }
    /// Where `ingest(_:each:)` hands each source's outcome, in input order.
    private var deliver: ((String, Result<SourceIngestResult, Error>) -> Void)?
    /// The name the current source was asked for by.
    private var currentName = ""
    /// A read connection for source lookups made while earlier sources' batches
    /// are still being written (the writing connection is busy until then).
    private var lookupReader: LogStore?
    /// Every `head_len` stored sources have (a superset: each commit adds its
    /// own). Read once per run: `SELECT DISTINCT head_len` for every input
    /// scanned all sources, 0.75 ms per input at 10,000 sources. No other
    /// process adds sources meanwhile: it waits for the writer lock.
    private var storedHeadLengths: Set<Int>?

    /// Hands over the outcomes of the first `count` unsettled sources, in
    /// order, waiting for their last batches.
    func settle(first count: Int) {
        for _ in 0..<min(count, unsettled.count) {
            let u = unsettled.removeFirst()
            let outcome = Result { try u.complete() }
            deliver?(u.name, outcome)
        }
    }

    func settleAll() { settle(first: unsettled.count) }

    /// Hands over the outcomes of the sources at the front whose batches are all
    /// written, without waiting (progress and per-source messages keep up).
    func settleWritten() {
        var n = 0
        while n < unsettled.count, unsettled[n].lane.map({ writer?.isSettled($0) ?? true }) ?? true { n += 1 }
        settle(first: n)
    }

    /// Ingests `names` in order, reading each source while the batches of the
    /// ones before are still queued on the shared writer; `each` gets every
    /// source's result or error, in input order. One failing source does not
    /// stop the others.
    public func ingest(_ names: [String], each: @escaping (String, Result<SourceIngestResult, Error>) -> Void) {
        deliver = each
        defer {
            closeWriter()
            deliver = nil
            lookupReader?.close()
            lookupReader = nil
        }
        // How many files of each log (its rotations) are still to come: one whose
        // log goes on keeps its open sessions for the next (`SourceLoad.continues`).
        var later: [String: Int] = [:]
        for name in names where name != "-" { later[InputExpansion.logFamily(name), default: 0] += 1 }
        defer { carries = [:]; family = nil }
        for name in names {
            family = name == "-" ? nil : InputExpansion.logFamily(name)
            if let f = family {
                later[f, default: 1] -= 1
                familyGoesOn = later[f, default: 0] > 0
            }
            // Outcomes known at once wait their turn behind sources still being written.
            do {
                if let done = try begin(name, follow: nil) {
                    unsettled.append(Unsettled(name: name, head: [], lane: nil) { done })
                }
            } catch {
                unsettled.append(Unsettled(name: name, head: [], lane: nil) { throw error })
            }
            settleWritten()
        }
    }

    /// nil until the first source: whether this run bulk-loads an empty database.
    private var bulkLoad: Bool?
    /// The ids of `record_terms` this run hands out (loaded once, under the writer lock).
    private var terms: TermDictionary?

    /// Before the first source: an empty records table is loaded without its
    /// secondary indexes (built once in `finish`).
    /// Set when several ingestors write one database at once (followers of
    /// several files): term ids come from one dictionary, or two terms would get one id.
    public var sharedTerms: SharedTerms?
    /// Following for a long time: only some terms stay in memory (`TermDictionary.following`).
    public var boundsTerms = false

    func prepare() throws {
        if terms == nil {
            let load = { [store, boundsTerms] in
                boundsTerms ? try store.followingTermDictionary() : try store.read { try $0.termDictionary() }
            }
            terms = try sharedTerms?.dictionary(load) ?? load()
            if boundsTerms, let terms { writer?.reportCommits(to: terms) }
        }
        guard bulkLoad == nil else { return }
        guard deferIndexes else { bulkLoad = false; return }
        bulkLoad = try store.write { try $0.dropIndexesIfEmpty() }
        if bulkLoad == true { bulkJournal = store.beginBulkJournal() }
    }

    /// Whether this bulk load writes with a rollback journal (`LogStore.beginBulkJournal`).
    private var bulkJournal = false

    /// Ends a run: builds the indexes a bulk load skipped. Call it even after errors.
    public func finish() throws {
        closeWriter()
        if bulkJournal {
            store.endBulkJournal()
            bulkJournal = false
        }
        guard bulkLoad == true else { return }
        let t0 = Date()
        try store.write { try $0.createIndexes() }
        Ingestor.timing("record and session indexes built in \(String(format: "%.2f", Date().timeIntervalSince(t0))) s")
        bulkLoad = false
    }

    /// Where an ingest spends its time, on stderr when SFTPLOG_TIMINGS is set (for the benchmark).
    static func timing(_ line: @autoclosure () -> String) {
        guard getenv("SFTPLOG_TIMINGS") != nil else { return }
        FileHandle.standardError.write(Data(("timing: " + line() + "\n").utf8))
    }

    /// Hash of the first `n` bytes of the file (reads from the start).
    static func prefixHash(_ src: InputSource, _ n: Int64, snapshotAt: Int64? = nil) throws -> (ContentHash, ContentHash?) {
        try src.seek(to: 0)
        var h = ContentHash()
        var snap: ContentHash? = snapshotAt == 0 ? h : nil
        var remaining = n
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while remaining > 0 {
            var want = Int(min(Int64(buf.count), remaining))
            if let s = snapshotAt, snap == nil, h.count < s { want = Int(min(Int64(want), s - h.count)) }
            let got = buf.withUnsafeMutableBytes { read(src.fd, $0.baseAddress!, want) }
            if got < 0 { if errno == EINTR { continue }; throw InputError.readFailed(errno: errno) }
            if got == 0 { break }
            buf.withUnsafeBufferPointer { h.update(UnsafeBufferPointer(rebasing: $0[0..<got])) }
            remaining -= Int64(got)
            if let s = snapshotAt, snap == nil, h.count == s { snap = h }
        }
        return (h, snap)
    }

    /// Where to look sources up for an input with this head: the writing
    /// connection, unless earlier sources' batches are still being written on it.
    private func lookupConnection(head: [UInt8]) -> LogStore {
        settleWritten()
        guard !unsettled.isEmpty else { return store }
        // A source still being written is not in the table yet: an input it
        // could be a prefix of (the same file again, a grown copy) waits for it.
        if let last = unsettled.lastIndex(where: { $0.lane != nil && $0.head.count <= head.count && head.starts(with: $0.head) }) {
            settle(first: last + 1)
        }
        if unsettled.isEmpty { return store }
        if lookupReader == nil { lookupReader = store.readerAlongside() }
        if let reader = lookupReader { return reader }
        settleAll()
        return store
    }

    /// The current source's result, once its last batch is written (nil when
    /// `begin` already gave it); the sources before it are handed over first.
    private func completeCurrent() throws -> SourceIngestResult? {
        guard let u = unsettled.last, u.lane != nil else { return nil }
        settle(first: unsettled.count - 1)
        unsettled.removeLast()
        return try u.complete()
    }

    /// Sources whose stored bytes could be a prefix of this input (by head hash).
    func candidates(head: [UInt8]) throws -> [StoredSource] {
        return try lookupConnection(head: head).read { db in
            let known = try self.storedHeadLengths ?? db.sourceHeadLengths()
            self.storedHeadLengths = known
            let lens = known.filter { $0 <= head.count }.sorted()
            var out: [StoredSource] = []
            for len in lens {
                var h = ContentHash()
                h.update(Array(head[0..<len]))
                out += try db.sources(headLength: len, headHash: h.digest)
            }
            return out.sorted { $0.bytes > $1.bytes }
        }
    }

    /// `follow`: keep reading as the file grows, until it is rotated away or the
    /// user interrupts (see `FollowControl`); `control.ended` says which.
    public func ingest(_ name: String, follow: ((FollowControl) -> Void)? = nil) throws -> SourceIngestResult {
        closeWriter()
        defer { closeWriter() }
        return try begin(name, follow: follow) ?? completeCurrent()!
    }

    /// Reads and stores one source; nil when its last batch is still being
    /// written (`unsettled`), else its result.
    func begin(_ name: String, follow: ((FollowControl) -> Void)?) throws -> SourceIngestResult? {
        currentName = name
        try prepare()
        let src = try InputSource.open(name)
        defer { src.close() }
        if let follow, !src.isStream {
            let control = FollowControl(path: name, fd: src.fd)
            follow(control)
            self.follow = control
        }
        defer { self.follow = nil }
        if src.isStream {
            let head = try src.readUpTo(Ingestor.headLength)
            if head.isEmpty { try src.checkStream(); throw IngestError.emptyInput(name: displayName(src)) }
            if try candidates(head: head).isEmpty {
                try store(src, resumeFrom: nil, prefix: head)
                return nil
            }
            // Possibly seen before: spool to a file so the prefix can be verified and skipped.
            let (tmpPath, spooled) = try Ingestor.spool(src, head: head)
            defer { unlink(tmpPath) }
            defer { spooled.close() }
            // Stored first, then the stream's own error (if any) is this source's outcome.
            let result = try ingestSeekable(spooled, displayName: displayName(src)) ?? completeCurrent()
            try src.checkStream()  // corrupt compressed data: what came before is stored, then say so
            return result
        }
        if src.size == 0 && follow == nil { throw IngestError.emptyInput(name: name) }
        return try ingestSeekable(src, displayName: name)
    }

    func displayName(_ src: InputSource) -> String { src.isStdin ? "-" : src.name }

    func ingestSeekable(_ src: InputSource, displayName: String) throws -> SourceIngestResult? {
        let size = src.size ?? Int64.max
        let head = try src.readUpTo(Ingestor.headLength)
        if head.isEmpty && follow == nil { throw IngestError.emptyInput(name: displayName) }
        for c in try candidates(head: head) where c.bytes <= size && !head.isEmpty {
            let (full, snap) = try Ingestor.prefixHash(src, c.bytes, snapshotAt: c.resumeOffset)
            guard full.count == c.bytes, full.digest == c.contentHash, let atResume = snap else { continue }
            if c.complete && c.bytes == size && follow == nil {
                var r = SourceIngestResult(name: displayName)
                r.sourceID = c.id
                r.alreadyStored = true
                r.format = c.format
                return r
            }
            try src.seek(to: c.resumeOffset)
            try store(src, resumeFrom: (c, atResume), prefix: [], displayName: displayName)
            return nil
        }
        try src.seek(to: 0)
        try store(src, resumeFrom: nil, prefix: [], displayName: displayName)
        return nil
    }

    static func spool(_ src: InputSource, head: [UInt8]) throws -> (String, InputSource) {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(dir)/sftplog-stdin-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw InputError.cannotOpen(path: dir, reason: "cannot create a temporary file") }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        func writeAll(_ p: UnsafeRawBufferPointer) throws {
            var off = 0
            while off < p.count {
                let n = write(fd, p.baseAddress! + off, p.count - off)
                if n < 0 { if errno == EINTR { continue }; throw InputError.readFailed(errno: errno) }
                off += n
            }
        }
        try head.withUnsafeBytes { try writeAll($0) }
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buf.withUnsafeMutableBytes { read(src.fd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw InputError.readFailed(errno: errno) }
            if n == 0 { break }
            try buf.withUnsafeBytes { try writeAll(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        _ = Foundation.close(fd)
        return (path, try InputSource.open(path))
    }

    /// Parses from the current position and queues its batches on the shared
    /// writer; its outcome joins `unsettled`.
    func store(_ src: InputSource, resumeFrom: (StoredSource, ContentHash)?, prefix: [UInt8], displayName: String? = nil) throws {
        let name = displayName ?? self.displayName(src)
        let log = follow == nil ? family : nil
        let carried = log.flatMap { carries.removeValue(forKey: $0) }
        guard let terms else { preconditionFailure("prepare() loads the terms before any source") }
        if settlesBefore?(name) == true { settleAll() }
        let load = try SourceLoad(src, name: name, resumeFrom: resumeFrom, stream: stream, sessions: sessions, carried: carried,
                                  batchSize: batchSize, terms: terms)
        load.keepsSessionsOpen = log != nil && familyGoesOn
        load.endsIdleSessions = follow != nil
        load.askDirect = follow == nil ? directLoad : nil
        let writer = sharedWriter()
        let lane = SerialWriter.Lane()
        var writerFinished = false
        defer { if !writerFinished { try? writer.finish(lane) } }

        /// Snapshots what this batch commits and hands it to the writer thread.
        func commit(final: Bool) throws {
            // A direct load's records are not in the batch, but the sessions they closed are.
            let weight = max(1, load.batched)
            guard let b = load.takeBatch(final: final, batchSize: batchSize) else { return }
            storedHeadLengths?.insert(b.progress.headLength)
            onProgress?(IngestProgress(name: name, bytesRead: b.progress.bytes, totalBytes: src.size, lines: load.linesRead.count, final: final))
            let handoff = SourceLoad.Handoff(b)
            try writer.submit(on: lane, weight: weight) { w in try load.write(handoff, to: w, ingestor: self) }
        }

        let zone = stream.options.timeZone
        if follow == nil, (src.size ?? .max) - load.startOffset >= readThreadBytes {
            let start = IngestReading.Start(name: name, fileYear: src.modificationYear, format: load.storedFormat,
                                            readerState: load.resumeFrom?.readerState, offset: load.startOffset, line: load.startLine,
                                            prefix: prefix, linesRead: load.linesRead, batchSize: batchSize)
            // `src` is left to the reading thread until `.end` is taken (by `abandon` if this one stops early).
            let reading = IngestReading(fd: src.fd, stream: stream, start: start)
            var ended = false
            defer { if !ended { reading.abandon() } }
            reading: while true {
                switch reading.queue.take() {
                case .records(let batch, let format):
                    load.read(format: format)
                    // Borrowed in place, not copied out (a retain and a release of
                    // every field) or moved: the batch goes back whole to be freed
                    // where it was made.
                    batch.records.withUnsafeBufferPointer { records in
                        for i in records.indices {
                            let seq = load.seq(of: records[i])
                            if let onRecord { onRecord(records[i]) }
                            load.add(records[i], seq: seq, zone: zone, onUnparsed: onUnparsed)
                        }
                    }
                    reading.giveBack(batch)
                case .commit(let tally, let resume):
                    load.apply(tally)
                    load.nextResume = (resume.offset, resume.line)
                    try commit(final: false)
                case .end(let tally, let failure):
                    ended = true
                    load.apply(tally)
                    if let failure { throw failure }
                    break reading
                }
            }
        } else {
        try stream.run(src, reader: load.reader, offset: load.startOffset, line: load.startLine, prefix: prefix, checkStream: false,
                       follow: follow, onIdle: {
            // A followed file went quiet: store what is read so far (the reader flushed it).
            guard load.batched > 0, let end = load.lastEmittedEnd else { return }
            load.nextResume = end
            try commit(final: false)
        }, onLine: load.line, emit: { r in
            let seq = load.seq(of: r)
            if SourceLoad.commitsBefore(seq: seq, sinceCommit: load.batched, batchSize: batchSize) {
                load.nextResume = (r.offset, r.line)
                try commit(final: false)
            }
            if let onRecord { onRecord(r) }
            load.add(r, seq: seq, zone: zone, onUnparsed: onUnparsed)
        })
        }
        try commit(final: true)
        if let log, load.keepsSessionsOpen, load.continues { carries[log] = load }
        writerFinished = true
        // Corrupt compressed data: what came before is stored, then it is said.
        let streamCheck = Result { try src.checkStream() }
        unsettled.append(Unsettled(name: currentName, head: load.linesRead.headBytes, lane: lane) {
            try writer.finish(lane)
            Ingestor.timing(load.timings(lane))
            try streamCheck.get()
            return load.outcome
        })
    }
}

/// One term dictionary for the ingestors that write one database together.
public final class SharedTerms: Sendable {
    private let terms = Mutex<TermDictionary?>(nil)
    public init() {}

    /// The dictionary, loaded by the first ingestor that asks (under its writer lock).
    func dictionary(_ load: () throws -> TermDictionary) throws -> TermDictionary {
        try terms.withLock { t in
            if let t { return t }
            let d = try load()
            t = d
            return d
        }
    }
}

/// Where an ingest is, for progress lines.
public struct IngestProgress: Sendable {
    public var name: String
    /// Bytes of the source read so far (from its start, including resumed ones).
    public var bytesRead: Int64
    /// nil for pipes.
    public var totalBytes: Int64?
    /// Lines read in this run.
    public var lines: Int
    public var final: Bool
}

public enum IngestError: Error, CustomStringConvertible {
    case emptyInput(name: String)
    public var description: String {
        switch self {
        case .emptyInput(let n): return "\(n): empty input, nothing to ingest"
        }
    }
}
