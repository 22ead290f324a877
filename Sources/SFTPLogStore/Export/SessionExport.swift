import Foundation
import Synchronization
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
    static func chunk(_ k: Int, of order: [Int64], size: Int, writer: StoredSessionJSON, framing: Framing, withTimeline: Bool,
                      withEvidence: Bool) throws -> Chunk {
        var j = JSONBytes(capacity: size * 2048)
        let n = try writer.write(rowids: order[k * size..<min((k + 1) * size, order.count)], framing: framing, withTimeline: withTimeline,
                                withEvidence: withEvidence, to: &j)
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
    public static func write(path: String, filter: SessionFilter, framing: Framing, withTimeline: Bool, withEvidence: Bool = false,
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
                    let c = try chunk(k, of: order, size: chunkSize, writer: writer, framing: framing, withTimeline: withTimeline,
                                          withEvidence: withEvidence)
                    guard handoff.put(k, c) else { return }
                }
            } catch {
                handoff.fail(error)
                throw error
            }
        }) : nil
        guard let started else {
            return try LogStore.openQueueForReading(path).read {
                try write($0, filter: filter, framing: framing, withTimeline: withTimeline, withEvidence: withEvidence, chunkSize: chunkSize, to: sink)
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
    static func write(_ db: Database, filter: SessionFilter, framing: Framing, withTimeline: Bool, withEvidence: Bool = false, chunkSize: Int = 1000,
                             to sink: @escaping @Sendable ([UInt8]) -> Void) throws -> Int {
        let output = RenderThread<[UInt8]>(name: "sftplog-output", capacity: 4, render: sink)
        defer { output.close() }
        let order = try SessionQuery.orderedRowids(db, filter: filter)
        let writer = StoredSessionJSON(db)
        var framer = Framer(framing, sink: output.put)
        for k in 0..<(order.count + chunkSize - 1) / chunkSize {
            framer.add(try chunk(k, of: order, size: chunkSize, writer: writer, framing: framing, withTimeline: withTimeline,
                                          withEvidence: withEvidence))
        }
        return framer.end()
    }
}

/// Chunks handed from reader threads to the writing thread, which takes them
/// in index order; a reader more than `capacity` chunks ahead waits.
///
/// The state is a `Mutex`'s; `wakeups` only puts threads to sleep until the
/// state changes (Mutex has no waiting). A waiter checks the state while
/// holding `wakeups`' lock and a changer broadcasts under it, so no change is
/// missed between the check and the wait.
final class ChunkHandoff: Sendable {
    private struct State {
        var ready: [Int: SessionExport.Chunk] = [:]
        var next = 0
        var total: Int?
        var failure: (any Error)?
    }
    private let state = Mutex(State())
    private let wakeups = NSCondition()
    private let capacity: Int
    private let disagreement: any Error

    init(capacity: Int, disagreement: any Error) {
        self.capacity = capacity
        self.disagreement = disagreement
    }

    /// Changes the state, then wakes every waiting thread.
    private func change(_ body: (inout State) -> Void) {
        state.withLock { s in body(&s) }
        wakeAll()
    }

    private func wakeAll() {
        wakeups.lock()
        wakeups.broadcast()
        wakeups.unlock()
    }

    /// Waits until `ready` says the state is ready, then returns what `take` makes of it.
    private func wait<T: Sendable>(until ready: (inout State) -> T?) -> T {
        wakeups.lock()
        defer { wakeups.unlock() }
        while true {
            if let v = state.withLock({ s in ready(&s) }) { return v }
            wakeups.wait()
        }
    }

    /// Every reader says how many chunks there are; on one snapshot they agree.
    func setTotal(_ n: Int) {
        change { s in
            if let t = s.total, t != n, s.failure == nil { s.failure = disagreement }
            s.total = n
        }
    }

    /// False once the export failed or ended: the reader stops.
    func put(_ index: Int, _ chunk: SessionExport.Chunk) -> Bool {
        let room = wait { s -> Bool? in s.failure != nil ? false : index < s.next + capacity ? true : nil }
        guard room else { return false }
        var stored = false
        change { s in
            guard s.failure == nil else { return }
            s.ready[index] = chunk
            stored = true
        }
        return stored
    }

    func fail(_ error: any Error) {
        change { s in if s.failure == nil { s.failure = error } }
    }

    /// The next chunk in order, nil after the last; throws a reader's failure.
    func take() throws -> SessionExport.Chunk? {
        enum Taken: Sendable { case chunk(SessionExport.Chunk), end, failed(any Error) }
        let taken = wait { s -> Taken? in
            if let f = s.failure { return .failed(f) }
            if let c = s.ready.removeValue(forKey: s.next) {
                s.next += 1
                return .chunk(c)
            }
            if let t = s.total, s.next >= t { return .end }
            return nil
        }
        switch taken {
        case .chunk(let c):
            // Room for a reader waiting to put.
            wakeAll()
            return c
        case .end: return nil
        case .failed(let e): throw e
        }
    }
}
