import Foundation
import Synchronization
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore
import SFTPLogPipeline
import SFTPLogAlerts

/// What `watch` reads and where it keeps it.
public struct WatchPlan: Sendable {
    /// Log files to follow (directories already expanded); `-` reads standard input to its end.
    public var files: [String] = []
    /// The directories named: logs that appear in them later are followed too.
    public var directories: [String] = []
    /// Which files inside directories are read (`--glob`).
    public var expansion = InputExpansion.Options()
    /// Seconds between looks for new files in `directories`.
    public var scanInterval = 1.0
    public var syslog: [SyslogEndpoint] = []
    /// The SQLite database to store into; nil: nothing is stored.
    public var database: String?
    /// Where received syslog is spooled (default: beside the database, or a temporary folder).
    public var spoolDirectory: String?
    public var maxMessage = 64 * 1024
    public var spoolMaxBytes: Int64 = 256 << 20
    public var reader = ReaderOptions()
    /// How often a followed file is checked for growth.
    public var pollInterval = 0.05
    public init() {}
}

/// What a watch did, for its closing line.
public struct WatchSummary: Sendable {
    public var records = 0
    public var unparsed = 0
    public var alerts = 0
    public var received = 0
    public var failures = 0
}

/// Runs a watch: follows the files and the spools of the syslog listeners,
/// storing what it reads when there is a database, and hands every record to
/// one alert engine. Ends when SIGINT/SIGTERM arrives (after the listeners
/// stop and the followers have read everything received), or when its only
/// input, standard input, ends.
public final class Watcher: Sendable {
    let plan: WatchPlan
    let catalog: EventCatalog
    /// Each storing thread's own (its judge memo is not shared).
    let sessions: @Sendable () throws -> SessionRebuild
    let engine: Mutex<AlertEngine>
    let delivery: AlertDelivery
    let warn: @Sendable (String) -> Void
    /// Status lines (a new file followed), not problems.
    let note: @Sendable (String) -> Void
    private final class Tally: Sendable {
        let state = Mutex(WatchSummary())
        func withLock<T>(_ body: (inout WatchSummary) -> T) -> T { state.withLock { body(&$0) } }
    }
    private let tally: Tally
    /// Listening sockets are bound in `init`, so a bad address fails before anything runs.
    public let listeners: [SyslogListener]
    private let temporarySpool: String?
    private let terms = SharedTerms()

    public init(plan: WatchPlan, catalog: EventCatalog, sessions: @escaping @Sendable () throws -> SessionRebuild, engine: sending AlertEngine,
                delivery: AlertDelivery, warn: @escaping @Sendable (String) -> Void, note: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.plan = plan; self.catalog = catalog; self.sessions = sessions; self.delivery = delivery; self.warn = warn; self.note = note
        let tally = Tally()
        self.tally = tally
        engine.deliver = { a in tally.withLock { $0.alerts += 1 }; delivery.send(a) }
        self.engine = Mutex(engine)
        var dir = plan.spoolDirectory
        var temporary: String?
        if dir == nil, !plan.syslog.isEmpty {
            if let db = plan.database {
                dir = db + ".syslog"
            } else {
                var template = Array(((ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/sftplog-watch-XXXXXX").utf8CString)
                guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
                    throw InputError.cannotOpen(path: "TMPDIR", reason: "cannot create a temporary folder for the syslog spool")
                }
                dir = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                temporary = dir
            }
        }
        temporarySpool = temporary
        // Created (or migrated) once, before the followers' threads open it together.
        if let db = plan.database { try LogStore.openForWriting(db).finishWriting() }
        if let dir, !plan.syslog.isEmpty {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var ls: [SyslogListener] = []
        for e in plan.syslog {
            // Nothing is stored: an old spool would only raise old alerts again.
            ls.append(try SyslogListener(e, spoolDirectory: dir!, spoolMaxBytes: plan.spoolMaxBytes, fresh: plan.database == nil,
                                         maxMessage: plan.maxMessage, warn: warn))
        }
        listeners = ls
    }

    public var summary: WatchSummary { tally.withLock { $0 } }

    private func record(_ r: Record) {
        engine.withLock { $0.add(r) }
        tally.withLock { t in
            t.records += 1
            if r.kind == .unparsed { t.unparsed += 1 }
        }
    }

    /// Runs until interrupted (or standard input, the only input, ends).
    public func run() -> WatchSummary {
        FollowControl.installDrainingSignalHandlers()
        for l in listeners { l.start() }
        let group = DispatchGroup()
        let followed = plan.files.filter { $0 != "-" } + listeners.map(\.spool.path)
        func start(_ name: String) {
            group.enter()
            let t = Thread { [self] in
                defer { group.leave() }
                follow(name)
            }
            t.stackSize = 8 << 20
            t.start()
        }
        for name in followed { start(name) }
        var expansion = plan.expansion
        // What the listeners receive is read from their spools already.
        for l in listeners { expansion.excluding.add((l.spool.path as NSString).deletingLastPathComponent) }
        var scan = plan.directories.isEmpty ? nil : NewFileScan(directories: plan.directories, options: expansion, following: plan.files)
        var lastScan = Date()
        let stdinDone = Atomic<Bool>(false)
        if plan.files.contains("-") {
            group.enter()
            let t = Thread { [self] in
                defer { stdinDone.store(true, ordering: .relaxed); group.leave() }
                readStandardInput()
            }
            t.stackSize = 8 << 20
            t.start()
        }
        let onlyStdin = followed.isEmpty && plan.directories.isEmpty
        while !FollowControl.interruptRequested {
            if onlyStdin && stdinDone.load(ordering: .relaxed) { break }
            if scan != nil, Date().timeIntervalSince(lastScan) >= plan.scanInterval {
                lastScan = Date()
                for name in scan!.newFiles() {
                    note("following \(name), new in its directory")
                    start(name)
                }
            }
            usleep(50_000)
        }
        // Everything received is in the spools once the listeners have stopped; then followers read to the end.
        for l in listeners { l.stopAndWait(); l.spool.close() }
        FollowControl.requestDrain()
        if plan.files.contains("-") && !stdinDone.load(ordering: .relaxed) {
            // Standard input may never end: it is not waited for.
            _ = group.wait(timeout: .now() + 5)
        } else {
            group.wait()
        }
        engine.withLock { $0.finishAll() }
        delivery.close()
        if let t = temporarySpool { try? FileManager.default.removeItem(atPath: t) }
        var s = summary
        s.received = listeners.reduce(0) { $0 + $1.spool.lines }
        return s
    }

    /// A connection and an ingestor of this thread's own, whose records also go to the engine.
    private func storing(_ db: String) throws -> (LogStore, Ingestor) {
        let store = try LogStore.openForWriting(db)
        let ingestor = Ingestor(store: store, stream: RecordStream(options: plan.reader, catalog: catalog))
        ingestor.sessions = try sessions()
        ingestor.sharedTerms = terms
        ingestor.boundsTerms = true
        ingestor.deferIndexes = false
        ingestor.onRecord = { [self] in record($0) }
        return (store, ingestor)
    }

    /// Follows one file until the watch drains, across rotations.
    private func follow(_ name: String) {
        do {
            if let db = plan.database {
                let (store, ingestor) = try storing(db)
                defer { store.finishWriting() }
                try loop(name) {
                    var control: FollowControl?
                    _ = try ingestor.ingest(name, follow: { c in c.pollInterval = self.plan.pollInterval; c.idleAfter = 0.2; control = c })
                    return control?.ended
                }
            } else {
                let stream = RecordStream(options: plan.reader, catalog: catalog)
                try loop(name) {
                    let src = try InputSource.open(name)
                    defer { src.close() }
                    let control = FollowControl(path: name, fd: src.fd)
                    control.pollInterval = plan.pollInterval
                    control.idleAfter = 0.2
                    let reader = stream.makeReader(file: name, fileYear: src.modificationYear, format: nil, readerState: nil)
                    try stream.run(src, reader: reader, follow: control) { r in record(r) }
                    return control.ended
                }
            }
        } catch {
            warn("\(name): \(error)")
            tally.withLock { $0.failures += 1 }
        }
        engine.withLock { $0.finish(file: name) }
    }

    private func loop(_ name: String, _ step: () throws -> FollowControl.Ending?) throws {
        while !FollowControl.drainRequested {
            // Between a rotation's rename and the new file's creation the path is missing.
            guard FileManager.default.fileExists(atPath: name) else { usleep(100_000); continue }
            let ended = try step()
            guard ended == .rotated else { break }
            engine.withLock { $0.finish(file: name) }
            // `server.log.1` now names the piece that was `server.log`, read already.
            if !NewFileScan.isLiveName(name) { break }
        }
    }

    private func readStandardInput() {
        do {
            if let db = plan.database {
                let (store, ingestor) = try storing(db)
                defer { store.finishWriting() }
                _ = try ingestor.ingest("-")
            } else {
                let stream = RecordStream(options: plan.reader, catalog: catalog)
                let src = try InputSource.open("-")
                defer { src.close() }
                let reader = stream.makeReader(file: "-", fileYear: nil, format: nil, readerState: nil)
                try stream.run(src, reader: reader) { r in record(r) }
            }
        } catch {
            warn("-: \(error)")
            tally.withLock { $0.failures += 1 }
        }
        engine.withLock { $0.finish(file: "-") }
    }
}
