import Foundation
import Synchronization
import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// Read transactions on several connections to one database file, each on a
/// thread of its own, that all see the same commit: a command can split its
/// reading across both cores and still answer from one state of the database.
///
/// SQLite (as built here, without SQLITE_ENABLE_SNAPSHOT) cannot hand a
/// snapshot from one connection to another, so the readers begin their
/// transactions while holding writers off (`WriterLock.holdOffWriters`, a shared
/// `flock` on the writer lock file) and let them go once every reader has read.
/// While an ingest is writing, `start` starts nothing: callers read on one connection.
public final class SnapshotReaders: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let count: Int
    private let failure = Mutex<(any Error)?>(nil)

    private init(count: Int) { self.count = count }

    /// Runs `body(index, db)` for every index below `count`, each on its own
    /// connection and thread inside a read transaction; returns once all have
    /// begun (call `wait` for their end). nil, starting nothing, when writers
    /// cannot be held off (one at work, or no lock file).
    static func start(path: String, count: Int, body: @escaping @Sendable (Int, StoreReader) throws -> Void) throws -> SnapshotReaders? {
        guard let hold = WriterLock.holdOffWriters(databasePath: path) else { return nil }
        defer { WriterLock.release(hold) }
        let queues = try (0..<count).map { _ in try LogStore.openQueueForReading(path) }
        let readers = SnapshotReaders(count: count)
        let begun = DispatchSemaphore(value: 0)
        for (index, queue) in queues.enumerated() {
            let t = Thread {
                var signalled = false
                defer {
                    if !signalled { begun.signal() }
                    readers.finished.signal()
                }
                do {
                    try queue.read { db in
                        // The first read fixes the transaction's snapshot.
                        _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master")
                        begun.signal()
                        signalled = true
                        try body(index, StoreReader(db: db))
                    }
                } catch {
                    readers.fail(error)
                }
            }
            t.name = "sftplog-reader-\(index)"
            t.stackSize = 8 << 20
            t.start()
        }
        for _ in queues { begun.wait() }
        return readers
    }

    private func fail(_ error: Error) {
        failure.withLock { if $0 == nil { $0 = error } }
    }

    /// Waits until every reader has ended; throws the first failure.
    public func wait() throws {
        for _ in 0..<count { finished.wait() }
        if let f = failure.withLock({ $0 }) { throw f }
    }
}
