import Foundation
import Synchronization
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogOpenSSH
import SFTPLogSessions
import SFTPLogStore

/// What one input gave a streaming pass (`sessions`, `audit`, `report` on files).
public struct StreamedSource: Sendable {
    public var name: String
    public var records = 0
    public var unparsed = 0
    public var format: String?
    public var sftpplusVersions: String?
    /// Why reading stopped early (compressed data cut short): what was read
    /// before is in the answer, as `ingest` stores it, and the error is reported.
    public var interruption: Error?

    public init(name: String) { self.name = name }
}

/// One streaming pass over log files and pipes: records → sessions, judged,
/// handed to the caller as each closes. Nothing is stored: memory holds the
/// open sessions only. The same readers, session builders and policy as
/// `ingest`, so the sessions are those `ingest` would store.
public final class SessionStream {
    public let stream: RecordStream
    public let sessions: SessionRebuild
    /// Every unparsed record, as `ingest` reports them.
    public var onUnparsed: ((Record) -> Void)?
    public var onProgress: ((IngestProgress) -> Void)?
    /// Every record, in input order (for answers that count records, e.g. failure events).
    public var onRecord: ((Record) -> Void)?
    /// Sessions whose records are kept (`report --session`), each handed to
    /// `onSessionRecords` with them (line order; `duplicate` as `ingest` marks
    /// a record another session shows) just before the session itself.
    public var keepsRecords: ((SessionID) -> Bool)?
    public var onSessionRecords: ((SessionID, [(record: Record, duplicate: Bool)]) -> Void)?
    /// Off when the answer shows no session's evidence (`SessionTimeline.evidence` stays empty).
    public var tracksEvidence = true

    public init(stream: RecordStream, sessions: SessionRebuild) {
        self.stream = stream
        self.sessions = sessions
    }

    /// Reads `names` in order. `session` gets every session as it closes; `each`
    /// every input's outcome (an input that fails is reported and the others go on).
    /// Files of one log (`InputExpansion.logFamily`: its rotations) continue each
    /// other's sessions, as `ingest` stores them.
    public func run(_ names: [String], each: (String, Result<StreamedSource, Error>) -> Void,
                    session: (SessionTimeline) throws -> Void) throws {
        let plan = ContentPlan(names)
        var sourceID: Int64 = 0
        var carries: [String: Carry] = [:]
        var families: [String] = []
        let inputs: [(name: String, chain: [String], shownAs: String)] = zip(names, plan.entries).compactMap { name, entry in
            switch entry {
            case .skip: return nil
            case .asGiven: return (name, [name], name)
            case .read(let i): return (name, plan.sources[i].members, plan.sources[i].name)
            }
        }
        /// The next input's first file, read ahead while this one's sessions are
        /// built (10,000 small transcripts were read one after another).
        var ahead: MemberReading?
        func readAhead(_ k: Int) {
            ahead = k < inputs.count ? MemberReading(stream: stream, path: inputs[k].chain[0], name: inputs[k].shownAs,
                                                     start: .fresh, isLast: inputs[k].chain.count == 1) : nil
        }
        defer { ahead?.abandon() }
        readAhead(0)
        for (k, (name, chain, shownAs)) in inputs.enumerated() {
            let first = ahead!
            readAhead(k + 1)
            sourceID += 1
            let family = shownAs == "-" ? nil : InputExpansion.logFamily(shownAs)
            let carried = family.flatMap { carries.removeValue(forKey: $0) }
            do {
                let (result, carry) = try read(chain, first: first, as: shownAs, sourceID: sourceID, carried: carried,
                                               logGoesOn: family != nil, session: session)
                if let family, let carry {
                    carries[family] = carry
                    families.append(family)
                }
                each(name, .success(result))
            } catch let e as SessionSinkError {
                throw e.underlying
            } catch {
                if let family, let carried { carries[family] = carried }
                each(name, .failure(error))
            }
        }
        // The sessions still open at the end of each log's last file.
        for family in families {
            guard let c = carries.removeValue(forKey: family) else { continue }
            var none: [(record: Record, seq: Int)] = []
            try handOver(c.live.finish(sourceID: 0), kept: &c.kept, runRecords: &none, session: session)
        }
    }

    /// An error thrown by the caller's session handler, which ends the pass.
    struct SessionSinkError: Error { let underlying: Error }

    /// A log's sessions still open after one of its files, with the records
    /// kept of them, for its next file.
    final class Carry {
        let live: LiveSessions
        var kept: [SessionID: [(record: Record, duplicate: Bool)]]
        init(live: LiveSessions, kept: [SessionID: [(record: Record, duplicate: Bool)]]) { self.live = live; self.kept = kept }
    }

    /// Hands sessions to `session`, each after its kept records (if kept):
    /// SFTPPlus records know their session as they are added; an OpenSSH run's
    /// are those of its lines, known when it closes.
    private func handOver(_ closed: [SessionTimeline], kept: inout [SessionID: [(record: Record, duplicate: Bool)]],
                          runRecords: inout [(record: Record, seq: Int)], session: (SessionTimeline) throws -> Void) throws {
        // By index: iterating copied each session (retaining its strings).
        for k in closed.indices {
            if let keep = keepsRecords, keep(closed[k].id) {
                let s = closed[k]
                var list = kept.removeValue(forKey: s.id) ?? []
                let places = Set(s.records.map { SIMD2($0.line, $0.seq) })
                list += runRecords.filter { places.contains(SIMD2($0.record.line, $0.seq)) }.map { ($0.record, false) }
                onSessionRecords?(s.id, list)
            }
            do { try session(closed[k]) } catch { throw SessionSinkError(underlying: error) }
        }
        if keepsRecords != nil, let last = closed.map(\.lastLine).max() { runRecords.removeAll { $0.record.line <= last } }
    }

    /// Reads the files of `chain` as one source named `name`: each after the
    /// first continues the one before from where `ingest` would resume it (the
    /// start of its last line's records, with the format and CSV header known),
    /// and those records of the one before are read again from it.
    /// `carried`: the sessions its log's file before left open. Returns what
    /// its own next file is to continue (nil: its sessions all ended here, as
    /// they do when `logGoesOn` is false: standard input has no next file).
    ///
    /// Each file is parsed and resolved on a thread of its own (`MemberReading`)
    /// while this one builds the sessions from its records, in order.
    private func read(_ chain: [String], first: MemberReading, as name: String, sourceID: Int64, carried: Carry?,
                      logGoesOn: Bool, session: (SessionTimeline) throws -> Void) throws -> (StreamedSource, Carry?) {
        var result = StreamedSource(name: name)
        var live: LiveSessions?
        var facts = SourceFacts.Streamed()
        var format: SourceFormat?
        var keptRecords = carried?.kept ?? [:]
        var runRecords: [(record: Record, seq: Int)] = []
        /// The sessions this file's records go to: the log's open ones, or new.
        func sessions(_ f: SourceFormat?) throws -> LiveSessions {
            if let live { return live }
            let chosen: LiveSessions
            if let c = carried, c.live.continueInto(file: name, sourceID: sourceID, format: f) {
                chosen = c.live
            } else {
                if let c = carried { try handOver(c.live.finish(sourceID: 0), kept: &keptRecords, runRecords: &runRecords, session: session) }
                chosen = self.sessions.live(file: name, sourceID: sourceID)
                chosen.tracksOperations = stream.needs?.operations ?? true
                chosen.tracksEvidence = tracksEvidence
            }
            live = chosen
            return chosen
        }
        func accept(_ r: borrowing Record, seq: Int) throws {
            let live = try sessions(format)
            let joined = live.add(r, seq: seq, format: format)
            if let keep = keepsRecords {
                if let j = joined {
                    if keep(j.id) { keptRecords[j.id, default: []].append((copy r, j.duplicate)) }
                } else if live.marksRecordsAfterwards {
                    runRecords.append((copy r, seq))
                }
            }
            facts.add(r)
            result.records += 1
            if r.kind == .unparsed { result.unparsed += 1; onUnparsed?(r) }
            onRecord?(r)
            if seq == 0, result.records % 8_000 == 0 {
                try handOver(live.takeClosed(sourceID: sourceID), kept: &keptRecords, runRecords: &runRecords, session: session)
            }
        }
        var start = MemberReading.Start.fresh
        for (k, path) in chain.enumerated() {
            let member = k == 0 ? first : MemberReading(stream: stream, path: path, name: name, start: start, isLast: k == chain.count - 1)
            var failure: Error?
            var ending: MemberReading.Ending
            taking: while true {
                let piece = member.queue.take()
                // Consumed, so the batch is the only reference to its records (moved out below).
                switch consume piece {
                case .records(var list, let detected, let progress):
                    if format == nil { format = detected }
                    guard failure == nil else { continue }  // draining after an error here
                    do {
                        // Each record is moved out of the batch and back after use: a
                        // copy retained every string of every record (a tenth of this thread).
                        let seqs = list.seqs
                        try list.records.withUnsafeMutableBufferPointer { records in
                            guard let base = records.baseAddress else { return }
                            for i in records.indices {
                                let r = (base + i).move()
                                defer { (base + i).initialize(to: r) }
                                try accept(r, seq: seqs[i])
                            }
                        }
                        member.giveBack(list)
                    } catch {
                        failure = error
                        member.cancel()
                    }
                    if let progress { onProgress?(progress) }
                case .end(let e):
                    ending = e
                    break taking
                }
            }
            if let failure { throw failure }
            if let error = ending.error { throw error }
            onProgress?(ending.progress)
            format = format ?? ending.start.format
            start = ending.start
            result.interruption = ending.interruption
        }
        result.format = format?.rawValue
        if let catalog = stream.catalog {
            result.sftpplusVersions = VersionInference.infer(resolved: facts.resolved.map { (eventID: $0.eventID, variant: $0.variant) },
                                                              bannerVersions: facts.banners, catalog: catalog)
        }
        // No record: the log's sessions wait for its next file.
        guard let live else { return (result, carried) }
        if live.continues, logGoesOn {
            try handOver(live.takeClosed(sourceID: sourceID), kept: &keptRecords, runRecords: &runRecords, session: session)
            return (result, Carry(live: live, kept: keptRecords))
        }
        try handOver(live.finish(sourceID: sourceID), kept: &keptRecords, runRecords: &runRecords, session: session)
        return (result, nil)
    }
}

/// One file of a streaming pass parsed and resolved on a thread of its own,
/// its records handed over in batches, in order, at most a few batches ahead.
final class MemberReading: Sendable {
    /// Where and how reading starts: from the top, or where `ingest` would resume.
    struct Start: Sendable {
        var format: SourceFormat?, readerState: String?
        var offset: Int64, line: Int
        static let fresh = Start(format: nil, readerState: nil, offset: 0, line: 1)
    }

    struct Ending: Sendable {
        /// Where the next file of the chain resumes, with what this one's reader knew.
        var start: Start
        var progress: IngestProgress
        var error: Error?
        /// The last file's compressed data cut short: what came before was read.
        var interruption: Error?
    }

    enum Piece: Sendable {
        case records(RecordBatch, format: SourceFormat?, progress: IngestProgress?)
        case end(Ending)
    }

    let queue = BoundedQueue<Piece>(capacity: 4)
    /// Read for every record: an atomic load, not a lock.
    private let cancelled = Atomic<Bool>(false)
    /// Batches the consumer is done with, freed by the thread that allocated
    /// their records: freeing them elsewhere contends for its malloc arena's lock.
    private let spent = Mutex<[RecordBatch]>([])

    /// Records in input order, each with its place among its line's (`seq`).
    struct RecordBatch: Sendable {
        var records: [Record] = []
        var seqs: [Int] = []
        var count: Int { records.count }
        var isEmpty: Bool { records.isEmpty }

        init(capacity: Int = 0) {
            records.reserveCapacity(capacity)
            seqs.reserveCapacity(capacity)
        }

        mutating func append(_ r: consuming Record, seq: Int) {
            records.append(r)
            seqs.append(seq)
        }

        static func += (a: inout RecordBatch, b: RecordBatch) {
            a.records += b.records
            a.seqs += b.seqs
        }
    }

    func giveBack(_ batch: consuming RecordBatch) {
        let b = batch
        Spin.withLock(spent) { $0.append(b) }
    }
    static let batchSize = 1_024

    func cancel() { cancelled.store(true, ordering: .releasing) }

    /// Not to be taken (the pass ended early): stops it and lets its thread end.
    func abandon() {
        cancel()
        while case .records = queue.take() {}
    }

    init(stream: RecordStream, path: String, name: String, start: Start, isLast: Bool) {
        let t = Thread { [self] in
            queue.put(.end(read(stream: stream, path: path, name: name, start: start, isLast: isLast)))
        }
        t.name = "sftplog-parse"
        t.stackSize = 8 << 20
        t.start()
    }

    /// What reading a file keeps from line to line. A class whose state is
    /// `@exclusivity(unchecked)`: as variables captured by the closures below,
    /// each access was checked at run time, twice or more per line; only this
    /// thread touches them, one access at a time.
    private final class Reading {
        @exclusivity(unchecked) var places = RecordPlaces()
        @exclusivity(unchecked) var bytes: Int64, lines = 0, sawLine = false
        @exclusivity(unchecked) var batch = RecordBatch(capacity: MemberReading.batchSize)
        /// The records of the line being read, held while a later file reads them again.
        @exclusivity(unchecked) var held = RecordBatch()
        init(bytes: Int64) { self.bytes = bytes }
    }

    private func read(stream: RecordStream, path: String, name: String, start: Start, isLast: Bool) -> Ending {
        var ending = Ending(start: start, progress: IngestProgress(name: name, bytesRead: 0, totalBytes: nil, lines: 0, final: true))
        do {
            let src = try InputSource.open(path)
            defer { src.close() }
            let display = src.isStdin ? "-" : name
            ending.progress.name = display
            ending.progress.totalBytes = src.size
            if !src.isStream, src.size == 0 { throw IngestError.emptyInput(name: display) }
            let reader = stream.makeReader(file: display, fileYear: src.modificationYear, format: start.format, readerState: start.readerState)
            let detecting = reader as? DetectingReader
            let r = Reading(bytes: start.offset)
            func send(progress: Bool) {
                let p = progress ? IngestProgress(name: display, bytesRead: r.bytes, totalBytes: src.size, lines: r.lines, final: false) : nil
                // Handed over as the only reference: the taker moves its records out in place.
                let out = r.batch
                r.batch = RecordBatch(capacity: MemberReading.batchSize)
                queue.put(.records(out, format: detecting?.format ?? start.format, progress: p))
                let done = Spin.withLock(spent) { list in defer { list = [] }; return list }
                _ = consume done
            }
            if start.offset > 0 { try src.seek(to: start.offset) }
            try stream.runInPieces(src, reader: reader, offset: start.offset, line: start.line, checkStream: false, progress: { n, end in
                r.sawLine = true
                r.lines = n
                r.bytes = end
            }, emit: { (record: consuming Record) in
                if cancelled.load(ordering: .acquiring) { throw CancellationError() }
                let seq = r.places.seq(of: record)
                if isLast {
                    r.batch.append(record, seq: seq)
                } else {
                    if seq == 0 {
                        r.batch += r.held
                        r.held = RecordBatch()
                    }
                    r.held.append(record, seq: seq)
                }
                if r.batch.count >= MemberReading.batchSize { send(progress: true) }
            })
            if !r.batch.isEmpty { send(progress: false) }
            if !r.sawLine, src.isStream {
                try src.checkStream()
                throw IngestError.emptyInput(name: display)
            }
            ending.progress.bytesRead = r.bytes
            ending.progress.lines = r.lines
            let state = (reader as? CSVEventReader)?.savedState ?? start.readerState
            let resume = r.places.lastLineStart ?? (r.bytes, start.line + r.lines)
            ending.start = Start(format: detecting?.format ?? start.format, readerState: state, offset: resume.offset, line: resume.line)
            // Corrupt compressed data: what came before is answered, then it is said.
            if isLast { do { try src.checkStream() } catch { ending.interruption = error } }
        } catch {
            ending.error = error
        }
        return ending
    }
}
