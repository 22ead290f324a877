import Foundation
import GRDB

/// Runs database write jobs on a thread of their own, in order, each in one
/// transaction, with at most `capacity` jobs waiting: parsing goes on on the
/// caller's core while SQLite writes on the other. The first failure stops the
/// writer and is thrown to the producer at its next `submit` or at `finish`.
final class SerialWriter: @unchecked Sendable {
    typealias Job = (Database) throws -> Void
    private let db: DatabaseQueue
    private let capacity: Int
    private let cond = NSCondition()
    private var jobs: [Job] = []
    private var closed = false
    private var failure: Error?
    private let done = DispatchSemaphore(value: 0)
    /// Seconds spent writing, and seconds the producer waited for room (SFTPLOG_TIMINGS).
    private(set) var busySeconds = 0.0
    private(set) var producerWaitSeconds = 0.0

    init(db: DatabaseQueue, capacity: Int = 2) {
        self.db = db
        self.capacity = capacity
        let t = Thread { [unowned self] in self.loop() }
        t.name = "sftplog-writer"
        t.stackSize = 8 << 20
        t.start()
    }

    /// Jobs already waiting join the open transaction, up to this many or this long:
    /// each commit flushes the FTS index's pending terms as a new segment and pays
    /// the commit itself, so one commit per 8 batches instead of per batch took a
    /// 1M-line load's commits from ~9 s to ~3 s. A job that finds the queue empty
    /// commits at once, so a followed file's lines are not held back.
    static let maxJobsPerTransaction = 8
    static let maxSecondsPerTransaction = 2.0

    /// The next queued job, without waiting.
    private func takeWaitingJob() -> Job? {
        cond.lock()
        defer { cond.unlock() }
        guard !jobs.isEmpty else { return nil }
        cond.broadcast()
        return jobs.removeFirst()
    }

    private func loop() {
        while true {
            cond.lock()
            while jobs.isEmpty && !closed { cond.wait() }
            if jobs.isEmpty { cond.unlock(); break }
            let job = jobs.removeFirst()
            cond.broadcast()
            cond.unlock()
            let t0 = DispatchTime.now().uptimeNanoseconds
            do {
                try db.write { db in
                    try job(db)
                    var ran = 1
                    while ran < SerialWriter.maxJobsPerTransaction,
                          Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 < SerialWriter.maxSecondsPerTransaction,
                          let next = takeWaitingJob() {
                        try next(db)
                        ran += 1
                    }
                }
                busySeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            } catch {
                cond.lock()
                failure = error
                jobs.removeAll()
                closed = true
                cond.broadcast()
                cond.unlock()
                break
            }
        }
        done.signal()
    }

    func submit(_ job: @escaping Job) throws {
        cond.lock()
        defer { cond.unlock() }
        if jobs.count >= capacity {
            let t0 = DispatchTime.now().uptimeNanoseconds
            while jobs.count >= capacity && failure == nil { cond.wait() }
            producerWaitSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        }
        if let f = failure { throw f }
        jobs.append(job)
        cond.broadcast()
    }

    /// Waits until every job ran; throws the writer's failure if there was one.
    func finish() throws {
        cond.lock()
        closed = true
        cond.broadcast()
        cond.unlock()
        done.wait()
        if let f = failure { throw f }
    }
}
