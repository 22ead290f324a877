import Foundation
import GRDB

/// Copies the WAL into the database file on a connection and a thread of its
/// own while a bulk load writes: with SQLite's automatic checkpoints the writer
/// thread stopped after a commit to copy up to 256 MiB and sync it, while the
/// parsing core sat idle waiting for the writer.
///
/// The checkpoints are PASSIVE: they copy what is committed, never wait for the
/// writer or readers, and never block them. One that fails (busy, I/O) is left
/// to the next one or to the checkpoint when the run ends; what is committed is
/// safe in the WAL either way.
final class WALCheckpointer: @unchecked Sendable {
    private let queue: DatabaseQueue
    private let cond = NSCondition()
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    /// Checkpoints that ran (read after `stop`, for SFTPLOG_TIMINGS).
    private(set) var count = 0
    /// Seconds between checkpoints: often enough that each copies little and the
    /// WAL stays short (SFTPLOG_CHECKPOINT_INTERVAL overrides it, for measuring and tests).
    static let interval = ProcessInfo.processInfo.environment["SFTPLOG_CHECKPOINT_INTERVAL"].flatMap(Double.init) ?? 0.5

    init(path: String) throws {
        queue = try DatabaseQueue(path: path, configuration: LogStore.configuration(readOnly: false))
        let t = Thread { [unowned self] in self.loop() }
        t.name = "sftplog-checkpoint"
        t.start()
    }

    private func loop() {
        defer { done.signal() }
        while true {
            cond.lock()
            if !stopping { _ = cond.wait(until: Date().addingTimeInterval(WALCheckpointer.interval)) }
            let stop = stopping
            cond.unlock()
            // The last one runs once the load is written, so the index build that
            // follows starts the WAL afresh instead of appending to a long one.
            if (try? queue.writeWithoutTransaction({ try $0.checkpoint(.passive) })) != nil { count += 1 }
            if stop { return }
        }
    }

    /// Ends the thread after a last checkpoint and closes its connection.
    func stop() {
        cond.lock()
        stopping = true
        cond.signal()
        cond.unlock()
        done.wait()
        try? queue.close()
    }
}
