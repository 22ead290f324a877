import Foundation
import GRDB

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
        let started = readers > 1 ? try SnapshotReaders.start(path: path, count: readers, body: { w, db in
            do {
                let order = try SessionQuery.orderedRowids(db, filter: filter)
                let chunks = (order.count + chunkSize - 1) / chunkSize
                handoff.setTotal(chunks)
                let writer = StoredSessionJSON(db)
                for k in stride(from: w, to: chunks, by: readers) {
                    var j = JSONBytes(capacity: chunkSize * 2048)
                    let n = try writer.write(rowids: order[k * chunkSize..<min((k + 1) * chunkSize, order.count)],
                                             framing: framing, withTimeline: withTimeline, afterOthers: false, to: &j)
                    guard handoff.put(k, Chunk(bytes: j.bytes, sessions: n)) else { return }
                }
            } catch {
                handoff.fail(error)
                throw error
            }
        }) : nil
        guard let started else {
            return try LogStore.openForReading(path).read {
                try write($0, filter: filter, framing: framing, withTimeline: withTimeline, chunkSize: chunkSize, to: sink)
            }
        }
        defer {
            handoff.fail(CancellationError())  // a reader still waiting to hand over stops (no-op once all is taken)
            try? started.wait()
        }
        var count = 0
        if framing == .array { sink([0x5B]) }
        while let chunk = try handoff.take() {
            guard chunk.sessions > 0 else { continue }
            if framing == .array, count > 0 { sink([0x2C]) }
            sink(chunk.bytes)
            count += chunk.sessions
        }
        if framing == .array { sink(Array("]\n".utf8)) }
        return count
    }

    /// The same on one connection, read on this thread while another writes the output.
    @discardableResult
    public static func write(_ db: Database, filter: SessionFilter, framing: Framing, withTimeline: Bool, chunkSize: Int = 1000,
                             to sink: @escaping @Sendable ([UInt8]) -> Void) throws -> Int {
        let output = RenderThread<[UInt8]>(name: "sftplog-output", capacity: 4, render: sink)
        defer { output.close() }
        let order = try SessionQuery.orderedRowids(db, filter: filter)
        let writer = StoredSessionJSON(db)
        var j = JSONBytes(capacity: 1 << 17)
        if framing == .array { j.bytes.append(0x5B) }
        var count = 0
        for start in stride(from: 0, to: order.count, by: chunkSize) {
            count += try writer.write(rowids: order[start..<min(start + chunkSize, order.count)], framing: framing,
                                      withTimeline: withTimeline, afterOthers: count > 0, to: &j)
            if j.bytes.count >= 1 << 16 { output.put(j.bytes); j = JSONBytes(capacity: 1 << 17) }
        }
        if framing == .array { j.raw("]\n") }
        if !j.bytes.isEmpty { output.put(j.bytes) }
        return count
    }
}

/// Chunks handed from reader threads to the writing thread, which takes them
/// in index order; a reader more than `capacity` chunks ahead waits.
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
