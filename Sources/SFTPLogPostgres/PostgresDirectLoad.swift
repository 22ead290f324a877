// A new source's records COPYed into PostgreSQL while the pipeline reads them
// (see `DirectSourceLoad`); its other rows come from the staging file at the end.

import Foundation
import GRDB
import PostgresNIO
import Synchronization
import SFTPLogRecords
import SFTPLogStore

/// One record and its place among its line's records.
private typealias Placed = (SFTPLogRecords.Record, Int)

extension PostgresStore {
    /// The advisory lock a direct load holds on its content: a second direct
    /// load of the same content goes through the staging file instead of
    /// waiting for the first, whose commit waits for its own process's parsing
    /// (two processes each waiting for the other's would never wake).
    static let directLockSpace: Int32 = 0x5F1D

    public func beginDirect(name: String, bytes: Int64, contentHash: String, zone: TimeZone,
                            prefixHash: (String, Int64) -> String?) throws -> DirectSourceLoad? {
        if try !link.rows("SELECT 1 FROM sources WHERE content_hash = \(contentHash)").isEmpty { return nil }
        if try storedPrefix(of: name, bytes: bytes, prefixHash: prefixHash, locking: false) != nil { return nil }
        let own = PostgresStore(try PostgresLink.connect(location))
        do {
            try own.link.execute("BEGIN")
            let key = Int32(truncatingIfNeeded: contentHash.utf8.prefix(8).reduce(0) { $0 &* 31 &+ Int($1) })
            guard try own.link.rows("SELECT pg_try_advisory_xact_lock(\(Self.directLockSpace), \(key))").first?.decode(Bool.self) == true,
                  let id = try own.link.rows("""
                      INSERT INTO sources (name, bytes, content_hash, head_hash, head_len) VALUES (\(Self.pgText(name) ?? ""), \(bytes), \(contentHash), '', 0)
                      ON CONFLICT (content_hash) DO NOTHING RETURNING id
                      """).first?.decode(Int64.self) else {
                own.abandon()
                return nil
            }
            return PostgresDirectLoad(own, sourceID: id, zone: zone)
        } catch {
            own.abandon()
            throw error
        }
    }

    fileprivate func abandon() {
        _ = try? link.execute("ROLLBACK")
        close()
    }
}

/// Records handed from the parsing thread to the COPY thread, a few thousand at
/// a time, at most `capacity` batches waiting.
private final class RecordHandoff: Sendable {
    private struct State {
        var batches: [[Placed]] = []
        var closed = false
        var failed = false
    }
    private let state = Mutex(State())
    /// The COPY's outcome (records copied), set once before `done` is signalled.
    let copied = Mutex<Result<Int, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    private let items = DispatchSemaphore(value: 0)
    private let room: DispatchSemaphore
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        room = DispatchSemaphore(value: capacity)
    }

    /// Waits for room; drops the batch once the COPY has failed.
    func put(_ batch: [Placed]) {
        room.wait()
        let taken = state.withLock { s -> Bool in
            guard !s.failed else { return false }
            s.batches.append(batch)
            return true
        }
        if taken { items.signal() } else { room.signal() }
    }

    func close() {
        state.withLock { $0.closed = true }
        items.signal()
    }

    /// The next batch; nil after the last one.
    func take() -> [Placed]? {
        while true {
            items.wait()
            let next = state.withLock { s -> [Placed]?? in
                if !s.batches.isEmpty { return .some(s.batches.removeFirst()) }
                return s.closed ? .some(nil) : nil
            }
            if let next {
                if next != nil { room.signal() } else { items.signal() }  // the close stays seen
                return next
            }
        }
    }

    /// The COPY ended early: producers stop waiting and their batches are dropped.
    func fail() {
        state.withLock { $0.failed = true; $0.batches.removeAll() }
        for _ in 0...capacity { room.signal() }
    }
}

/// One source's direct load: a thread COPYs the records the parsing thread
/// hands over, rendered as the `records` view of the staging file would give
/// them (`testDirectAndStagedLoadsStoreTheSameRows` compares the two).
final class PostgresDirectLoad: DirectSourceLoad {
    private let store: PostgresStore
    private let sourceID: Int64
    private let handoff = RecordHandoff(capacity: 4)
    private var pending: [Placed] = []
    private var finished = false
    static let batch = 2048

    init(_ store: PostgresStore, sourceID: Int64, zone: TimeZone) {
        self.store = store
        self.sourceID = sourceID
        pending.reserveCapacity(Self.batch)
        let handoff = handoff
        let columns = ["source_id"] + PostgresStore.recordColumns.map(\.0)
        let thread = Thread {
            var text = CopyText()
            var count = 0
            let outcome = Result<Int, any Error> {
                try store.link.copy(into: "records", columns: columns) { send in
                    while let batch = handoff.take() {
                        for (r, seq) in batch {
                            PostgresDirectLoad.render(r, seq: seq, sourceID: sourceID, zone: zone, into: &text)
                            count += 1
                            if text.count >= 1 << 20 { try send(text.take()) }
                        }
                    }
                    if text.count > 0 { try send(text.take()) }
                }
                return count
            }
            if case .failure = outcome { handoff.fail() }
            handoff.copied.withLock { $0 = outcome }
            handoff.done.signal()
        }
        thread.name = "sftplog-pg-records"
        thread.start()
    }

    func add(_ r: SFTPLogRecords.Record, seq: Int) {
        pending.append((r, seq))
        if pending.count >= Self.batch {
            handoff.put(pending)
            pending = []
            pending.reserveCapacity(Self.batch)
        }
    }

    /// Sends what is left and waits for the COPY to end.
    private func finishRecords() throws -> Int {
        if !finished {
            finished = true
            if !pending.isEmpty { handoff.put(pending) }
            pending = []
            handoff.close()
            handoff.done.wait()
        }
        return try handoff.copied.withLock { $0! }.get()
    }

    func commit(staged: LogStore, stagedID: Int64, sources: StagedSources, again: [Int64: [String]]) throws -> StagedLoadOutcome {
        do {
            let t0 = Date()
            let records = try finishRecords()
            PostgresStore.timing("records of \(records) copied directly, waited for at the end", since: t0)
            try staged.queue.read { db in
                guard let s = try Row.fetchOne(db, sql: "SELECT * FROM sources WHERE id = ?", arguments: [stagedID]) else {
                    throw StoreError.server(location: store.location.redacted, reason: "staged source \(stagedID) is missing")
                }
                try store.updateSource(s, id: sourceID, keeping: ["name"])
                var sources = sources
                sources.here[stagedID] = sourceID
                // Another ingester's copy of one of these sessions, committed while
                // this one waited for it: replaced once it is there, as in `load`.
                try store.link.execute("SAVEPOINT sessions")
                func replace() throws {
                    try store.replaceSessions(db, stagedID: stagedID, sourceID: sourceID, sources: sources)
                    try store.replaceSessions(db, again: again, sources: sources)
                }
                do {
                    try replace()
                } catch is PostgresLink.Conflict {
                    try store.link.execute("ROLLBACK TO SAVEPOINT sessions")
                    try replace()
                }
            }
            try store.link.execute("COMMIT")
            store.close()
            return .added(sourceID: sourceID, records: records)
        } catch {
            abandon()
            throw error
        }
    }

    func abandon() {
        if !finished {
            finished = true
            handoff.fail()
            handoff.close()
            handoff.done.wait()
        }
        store.abandon()
    }

    /// A record as a row of `PostgresStore.recordColumns`, after its source id.
    static func render(_ r: SFTPLogRecords.Record, seq: Int, sourceID: Int64, zone: TimeZone, into t: inout CopyText) {
        t.int(sourceID); t.int(r.line); t.int(seq); t.int(r.lineCount)
        t.text(r.kind.rawValue); t.text(r.file); t.text(r.layout)
        t.text(r.timestamp?.iso); t.text(RecordWriter.utc(r.timestamp, zone)); t.text(r.timestampNote)
        t.text(r.eventID); t.text(r.component); t.text(r.account); t.text(r.peer?.address); t.int(r.peer?.port)
        t.text(r.message); t.text(r.text)
        let resolved = r.resolution?.status == .resolved
        t.text(r.resolution?.status.rawValue); t.int(resolved ? r.resolution?.variant : nil)
        t.text(made: RecordWriter.fieldsJSON(r)); t.text(made: RecordWriter.extraJSON(r))
        t.text(r.diagnostic); t.bytea(r.raw)
        t.text(r.sessionID?.rawValue); t.int(r.sessionDuplicate ? 1 : 0)
        t.endRow()
    }
}
