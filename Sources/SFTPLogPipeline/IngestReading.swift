import Foundation
import Synchronization
import SFTPLogRecords
import SFTPLogSFTPPlus

/// One source of an ingest read on a thread of its own: its lines split,
/// hashed, parsed and resolved there, while the ingest's thread adds the
/// records to sessions and prepares their rows, and the writer stores them.
/// With those two on one thread, it was the ingest's limit (7.0 s of CPU on the
/// 1M-line log against the writer's 5.5 s) while neither core was full.
///
/// The reading thread decides where the ingest commits, as `Ingestor.store`
/// does reading on its own thread (at the first record of a line once a
/// batch's worth of records came), and hands over the source's progress as it
/// stood there: the ingest stores the same progress either way.
final class IngestReading: Sendable {
    /// The lines read so far, and what the reader found (format, CSV header).
    struct Tally: Sendable {
        var lines: ReadLines
        var format: SourceFormat?
        var formatExplanation: String?
        var readerState: String?
    }

    enum Item: Sendable {
        /// Records in input order, and the format their reader read them in.
        case records(MemberReading.RecordBatch, format: SourceFormat?)
        /// The ingest commits here, before the next record, resuming at `resume`.
        case commit(Tally, resume: ResumePoint)
        /// The source is read (or reading failed: the records before are in the items before).
        case end(Tally, failure: (any Error)?)
    }

    struct ResumePoint: Sendable {
        var offset: Int64
        var line: Int
    }

    /// Where the reading starts, and what `SourceLoad` made its reader with.
    struct Start: Sendable {
        var name: String
        var fileYear: Int?
        var format: SourceFormat?
        var readerState: String?
        var offset: Int64
        var line: Int
        var prefix: [UInt8]
        /// A resumed source's, from its start.
        var linesRead: ReadLines
        var batchSize: Int
    }

    let queue = BoundedQueue<Item>(capacity: 4)
    private let cancelled = Atomic<Bool>(false)
    /// Batches the ingest is done with, freed by this thread, which allocated
    /// their records (freeing them on another thread contends for its malloc arena).
    private let spent = Mutex<[MemberReading.RecordBatch]>([])
    static let handOver = 1_024

    /// Reads `fd` (positioned at `start.offset`), which the caller keeps open
    /// and leaves alone until it has taken `.end`.
    init(fd: Int32, stream: RecordStream, start: Start) {
        let t = Thread { [self] in
            let (tally, failure) = read(fd, stream: stream, start: start)
            queue.put(.end(tally, failure: failure))
        }
        t.name = "sftplog-read"
        t.stackSize = 8 << 20
        t.start()
    }

    func giveBack(_ batch: consuming MemberReading.RecordBatch) {
        let b = batch
        Spin.withLock(spent) { $0.append(b) }
    }

    /// The ingest stopped early: ends the reading and takes what it still hands over.
    func abandon() {
        cancelled.store(true, ordering: .releasing)
        while true { if case .end = queue.take() { return } }
    }

    /// What reading a source keeps from line to line; only this thread touches
    /// it, one access at a time (captured variables were checked at run time).
    private final class Reading {
        @exclusivity(unchecked) var tally: Tally
        @exclusivity(unchecked) var places = RecordPlaces()
        @exclusivity(unchecked) var sinceCommit = 0
        @exclusivity(unchecked) var batch = MemberReading.RecordBatch(capacity: IngestReading.handOver)
        init(_ t: Tally) { tally = t }
    }

    private func read(_ fd: Int32, stream: RecordStream, start: Start) -> (Tally, (any Error)?) {
        let reader = stream.makeReader(file: start.name, fileYear: start.fileYear, format: start.format, readerState: start.readerState)
        let detecting = reader as? DetectingReader
        let r = Reading(Tally(lines: start.linesRead))
        func facts() {
            r.tally.format = detecting?.format ?? start.format
            r.tally.formatExplanation = detecting?.explanation
            r.tally.readerState = (reader as? CSVEventReader)?.savedState ?? start.readerState
        }
        func send() {
            guard !r.batch.isEmpty else { return }
            let out = r.batch
            r.batch = MemberReading.RecordBatch(capacity: IngestReading.handOver)
            queue.put(.records(out, format: detecting?.format ?? start.format))
            let done = Spin.withLock(spent) { list in defer { list = [] }; return list }
            _ = consume done
        }
        do {
            try stream.run(fd: fd, reader: reader, offset: start.offset, line: start.line, prefix: start.prefix,
                           onLine: { r.tally.lines.add($0) }, emit: { (record: consuming Record) in
                if cancelled.load(ordering: .acquiring) { throw CancellationError() }
                let seq = r.places.seq(of: record)
                if SourceLoad.commitsBefore(seq: seq, sinceCommit: r.sinceCommit, batchSize: start.batchSize) {
                    send()
                    facts()
                    queue.put(.commit(r.tally, resume: ResumePoint(offset: record.offset, line: record.line)))
                    r.sinceCommit = 0
                }
                r.batch.append(record, seq: seq)
                r.sinceCommit += 1
                if r.batch.count >= IngestReading.handOver { send() }
            })
            send()
            facts()
            return (r.tally, nil)
        } catch {
            send()
            facts()
            return (r.tally, error)
        }
    }
}
