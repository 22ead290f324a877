import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// Runs database write jobs on a thread of their own, in order, with at most
/// `capacity` records' worth of jobs waiting: parsing goes on on the caller's
/// core while SQLite writes on the other. One writer serves every source of a
/// run, so the next source's batches queue behind the previous source's last
/// ones instead of waiting for them (a thread and a drained queue per source
/// left one core idle at every file boundary). Each source writes through its
/// own `Lane`. Waiting jobs share a transaction, each job in a savepoint of its
/// own: a failing job rolls back only itself and stops only its own lane (its
/// later jobs are dropped, its error thrown to its producer at the next
/// `submit` or at `finish(_:)`); the other sources' jobs commit.
// @unchecked: the SQLite boundary. Jobs are closures over a `StoreWriter` (GRDB's `Database`), run
// on the writer's thread and connection only; every other field is read and
// written under `cond` (an NSCondition: producers wait for room, the writer for jobs).
package final class SerialWriter: @unchecked Sendable {
    package typealias Job = (StoreWriter) throws -> Void

    /// One source's jobs in the shared queue.
    // @unchecked: a lane's counters are changed only under the writer's `cond`.
    package final class Lane: @unchecked Sendable {
        fileprivate var pending = 0
        fileprivate var failure: Error?
        /// Seconds spent writing this lane's jobs (its share of the commits
        /// included), and seconds its producer waited for room (SFTPLOG_TIMINGS).
        package private(set) var busySeconds = 0.0
        package private(set) var producerWaitSeconds = 0.0
        package init() {}
        fileprivate func addBusy(_ s: Double) { busySeconds += s }
        fileprivate func addWait(_ s: Double) { producerWaitSeconds += s }
    }

    private struct Queued {
        let lane: Lane
        let weight: Int
        let job: Job
    }

    private let db: DatabaseQueue
    private let capacity: Int
    private let cond = NSCondition()
    private var jobs: [Queued] = []
    private var queuedWeight = 0
    private var closed = false
    private let done = DispatchSemaphore(value: 0)
    /// Only on the writer's thread.
    private let storedTerms = StoredTerms()
    private let sessionSpans = SessionSpans()
    private let indexesMessages: Bool
    /// A following run's dictionary, told which term ids each commit stored (under `cond`).
    private var followingTerms: TermDictionary?

    /// `capacity`: records (job weights) that may wait; a job heavier than
    /// that waits for an empty queue.
    package init(store: LogStore, capacity: Int) {
        self.db = store.queue
        indexesMessages = store.indexesMessages
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

    /// Tells `terms` (made by `TermDictionary.following`) of the term ids each
    /// commit stores, so that it may let them go.
    package func reportCommits(to terms: TermDictionary) {
        cond.lock()
        followingTerms = terms
        cond.unlock()
    }

    /// A following run's writer also forgets the ids it knows to be stored past
    /// this many (storing one again costs an INSERT that does nothing).
    static let followingStoredTerms = 100_000

    /// The next queued job, without waiting.
    private func takeWaitingJob() -> Queued? {
        cond.lock()
        defer { cond.unlock() }
        guard !jobs.isEmpty else { return nil }
        let q = jobs.removeFirst()
        queuedWeight -= q.weight
        cond.broadcast()
        return q
    }

    /// Under `cond`: the lane stops; its queued jobs are dropped.
    private func fail(_ lane: Lane, _ error: Error) {
        guard lane.failure == nil else { return }
        lane.failure = error
        let dropped = jobs.filter { $0.lane === lane }
        jobs.removeAll { $0.lane === lane }
        queuedWeight -= dropped.reduce(0) { $0 + $1.weight }
        lane.pending -= dropped.count
    }

    private func loop() {
        while true {
            cond.lock()
            while jobs.isEmpty && !closed { cond.wait() }
            if jobs.isEmpty { cond.unlock(); break }
            let first = jobs.removeFirst()
            queuedWeight -= first.weight
            cond.broadcast()
            cond.unlock()
            let t0 = DispatchTime.now().uptimeNanoseconds
            // The jobs run in this transaction, and each one's own seconds.
            var ran: [(lane: Lane, seconds: Double)] = []
            let outcome = Result {
                try db.write { db in
                    var next: Queued? = first
                    while let q = next {
                        let j0 = DispatchTime.now().uptimeNanoseconds
                        defer { ran.append((q.lane, Double(DispatchTime.now().uptimeNanoseconds - j0) / 1e9)) }
                        do {
                            if q.lane.failure == nil {
                                try db.inSavepoint { try q.job(StoreWriter(db: db, storedTerms: storedTerms, sessionSpans: sessionSpans, indexesMessages: indexesMessages)); return .commit }
                            }
                        } catch {
                            storedTerms.forget()
                            // Some errors (disk full, I/O) roll the whole transaction back: then every job in it failed.
                            if !db.isInsideTransaction { throw error }
                            cond.lock()
                            fail(q.lane, error)
                            cond.unlock()
                        }
                        next = nil
                        if ran.count < SerialWriter.maxJobsPerTransaction,
                           Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 < SerialWriter.maxSecondsPerTransaction {
                            next = takeWaitingJob()
                        }
                    }
                }
            }
            if ran.isEmpty { ran.append((first.lane, 0)) }  // failed before its job ran (BEGIN)
            if case .failure = outcome { storedTerms.forget() }
            cond.lock()
            let following = followingTerms
            cond.unlock()
            let committedTerms = storedTerms.takeOpen()
            if let following {
                following.committed(committedTerms)
                if storedTerms.ids.count > SerialWriter.followingStoredTerms { storedTerms.forget() }
            }
            // The commit's seconds are shared by the jobs it wrote.
            let total = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            let commitShare = max(0, total - ran.reduce(0) { $0 + $1.seconds }) / Double(ran.count)
            cond.lock()
            for r in ran {
                r.lane.addBusy(r.seconds + commitShare)
                if case .failure(let error) = outcome { fail(r.lane, error) }
                r.lane.pending -= 1
            }
            cond.broadcast()
            cond.unlock()
        }
        done.signal()
    }

    /// Queues `job` (about `weight` records) for `lane`, waiting for room.
    package func submit(on lane: Lane, weight: Int, _ job: @escaping Job) throws {
        cond.lock()
        defer { cond.unlock() }
        func full() -> Bool { !jobs.isEmpty && queuedWeight + weight > capacity }
        if full() && lane.failure == nil {
            let t0 = DispatchTime.now().uptimeNanoseconds
            while full() && lane.failure == nil { cond.wait() }
            lane.addWait(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        if let f = lane.failure { throw f }
        precondition(!closed, "submit after close")
        jobs.append(Queued(lane: lane, weight: weight, job: job))
        queuedWeight += weight
        lane.pending += 1
        cond.broadcast()
    }

    /// Whether every job of `lane` ran (without waiting).
    package func isSettled(_ lane: Lane) -> Bool {
        cond.lock()
        defer { cond.unlock() }
        return lane.pending == 0
    }

    /// Waits until every job of `lane` ran; throws the lane's failure if there was one.
    package func finish(_ lane: Lane) throws {
        cond.lock()
        while lane.pending > 0 { cond.wait() }
        let f = lane.failure
        cond.unlock()
        if let f { throw f }
    }

    /// Lets the queued jobs run, then ends the thread.
    package func close() {
        cond.lock()
        closed = true
        cond.broadcast()
        cond.unlock()
        done.wait()
    }
}
