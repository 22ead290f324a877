import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// `sessions --json` / `--format ndjson`: every matching session as JSON,
/// rendered straight from the rows (`StoredSessionJSON`) a chunk of 1,000
/// sessions at a time, so memory stays bounded by a few chunks (63k sessions
/// loaded at once took 280 MB).
public enum SessionExport {
    public enum Framing: Sendable { case array, lines }

    /// Sessions rendered by one reader: their JSON objects, framed, with no separator before the first.
    struct Chunk {
        var bytes: [UInt8]
        var sessions: Int
    }

    /// Chunk `k` of `order`.
    static func chunk(_ k: Int, of order: [Int64], size: Int, writer: StoredSessionJSON, framing: Framing, withTimeline: Bool) throws -> Chunk {
        var j = JSONBytes(capacity: size * 2048)
        let n = try writer.write(rowids: order[k * size..<min((k + 1) * size, order.count)], framing: framing, withTimeline: withTimeline, to: &j)
        return Chunk(bytes: j.bytes, sessions: n)
    }

    /// Joins chunks into the output: an array's brackets, and commas between non-empty chunks.
    struct Framer {
        let framing: Framing
        let sink: ([UInt8]) -> Void
        private(set) var count = 0

        init(_ framing: Framing, sink: @escaping ([UInt8]) -> Void) {
            self.framing = framing
            self.sink = sink
            if framing == .array { sink([0x5B]) }
        }

        mutating func add(_ chunk: Chunk) {
            guard chunk.sessions > 0 else { return }
            if framing == .array, count > 0 { sink([0x2C]) }
            sink(chunk.bytes)
            count += chunk.sessions
        }

        /// The number of sessions written.
        func end() -> Int {
            if framing == .array { sink(Array("]\n".utf8)) }
            return count
        }
    }

    /// Reads the database at `path` on `readers` connections at once
    /// (`SnapshotReaders`), each rendering every `readers`-th chunk, while this
    /// thread writes the chunks to `sink` in order: reading the rows and
    /// rendering them each took about half of a single thread's 2 s for 63k
    /// sessions, and neither split off alone got under 1 s. While an ingest is
    /// writing, a single connection reads instead. Returns the number of sessions.
    /// `readers`: one per core, up to four (three measured no faster than two on two cores).
    @discardableResult
    public static func write(path: String, filter: SessionFilter, framing: Framing, withTimeline: Bool,
                             readers: Int = min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 4),
                             chunkSize: Int = 1000, to sink: @escaping @Sendable ([UInt8]) -> Void) throws -> Int {
        let handoff = ChunkHandoff(capacity: 2 * readers, disagreement: StoreError.changedWhileReading(path: path))
        let started = readers > 1 ? try SnapshotReaders.start(path: path, count: readers, body: { w, reader in
            let db = reader.db
            do {
                let order = try SessionQuery.orderedRowids(db, filter: filter)
                let chunks = (order.count + chunkSize - 1) / chunkSize
                handoff.setTotal(chunks)
                let writer = StoredSessionJSON(db)
                for k in stride(from: w, to: chunks, by: readers) {
                    let c = try chunk(k, of: order, size: chunkSize, writer: writer, framing: framing, withTimeline: withTimeline)
                    guard handoff.put(k, c) else { return }
                }
            } catch {
                handoff.fail(error)
                throw error
            }
        }) : nil
        guard let started else {
            return try LogStore.openQueueForReading(path).read {
                try write($0, filter: filter, framing: framing, withTimeline: withTimeline, chunkSize: chunkSize, to: sink)
            }
        }
        defer {
            handoff.fail(CancellationError())  // a reader still waiting to hand over stops (no-op once all is taken)
            try? started.wait()
        }
        var framer = Framer(framing, sink: sink)
        while let c = try handoff.take() { framer.add(c) }
        return framer.end()
    }

    /// The same on one connection, read on this thread while another writes the output.
    @discardableResult
    static func write(_ db: Database, filter: SessionFilter, framing: Framing, withTimeline: Bool, chunkSize: Int = 1000,
                             to sink: @escaping @Sendable ([UInt8]) -> Void) throws -> Int {
        let output = RenderThread<[UInt8]>(name: "sftplog-output", capacity: 4, render: sink)
        defer { output.close() }
        let order = try SessionQuery.orderedRowids(db, filter: filter)
        let writer = StoredSessionJSON(db)
        var framer = Framer(framing, sink: output.put)
        for k in 0..<(order.count + chunkSize - 1) / chunkSize {
            framer.add(try chunk(k, of: order, size: chunkSize, writer: writer, framing: framing, withTimeline: withTimeline))
        }
        return framer.end()
    }
}

/// Chunks handed from reader threads to the writing thread, which takes them
/// in index order; a reader more than `capacity` chunks ahead waits.
// @unchecked: every field is read and written under `cond` (readers wait for
// room, the writer for the next chunk in order; Mutex has no waiting).
final class ChunkHandoff: @unchecked Sendable {
    private let cond = NSCondition()
    private var ready: [Int: SessionExport.Chunk] = [:]
    private var next = 0
    private var total: Int?
    private var failure: Error?
    private let capacity: Int
    private let disagreement: Error

    init(capacity: Int, disagreement: Error) {
        self.capacity = capacity
        self.disagreement = disagreement
    }

    /// Every reader says how many chunks there are; on one snapshot they agree.
    func setTotal(_ n: Int) {
        cond.lock(); defer { cond.unlock() }
        if let t = total, t != n, failure == nil { failure = disagreement }
        total = n
        cond.broadcast()
    }

    /// False once the export failed or ended: the reader stops.
    func put(_ index: Int, _ chunk: SessionExport.Chunk) -> Bool {
        cond.lock(); defer { cond.unlock() }
        while index >= next + capacity && failure == nil { cond.wait() }
        guard failure == nil else { return false }
        ready[index] = chunk
        cond.broadcast()
        return true
    }

    func fail(_ error: Error) {
        cond.lock(); defer { cond.unlock() }
        if failure == nil { failure = error }
        cond.broadcast()
    }

    /// The next chunk in order, nil after the last; throws a reader's failure.
    func take() throws -> SessionExport.Chunk? {
        cond.lock(); defer { cond.unlock() }
        while true {
            if let f = failure { throw f }
            if let c = ready.removeValue(forKey: next) {
                next += 1
                cond.broadcast()
                return c
            }
            if let t = total, next >= t { return nil }
            cond.wait()
        }
    }
}
