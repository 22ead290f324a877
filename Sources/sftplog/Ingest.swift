import ArgumentParser
import Foundation
import Synchronization
import SFTPLogKit
import SFTPLogPostgres

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Store the records of the inputs in the SQLite database (content already stored is skipped).",
        discussion: """
            Exit status: 0 every line parsed; 2 stored, but some lines were kept as `unparsed` \
            records (the first ones are named on stderr with file, line and reason; all are in \
            `SELECT file, line, diagnostic FROM records WHERE kind = 'unparsed'`); 1 an error \
            (other inputs are still stored).
            """)

    @Argument(help: "Log files or directories (read recursively, in time order), or - for standard input (default).")
    var inputs: [String] = []

    @OptionGroup var input: InputOptions

    @OptionGroup var database: DatabaseOption

    @Flag(name: .long, help: "Print the summary as JSON on stdout.")
    var json = false

    @Flag(name: [.short, .long], help: "No progress line and no summary on stderr.")
    var quiet = false

    @Flag(name: [.customShort("f"), .long], help: ArgumentHelp(
        "Keep storing lines as the files grow, across rotation, until interrupted.",
        discussion: "Ctrl-C (or SIGTERM) stores everything read so far, then exits with status 0."))
    var follow = false

    /// Records per transaction (tests use small batches to kill an ingest between and inside them).
    @Option(name: .long, help: .hidden)
    var batchSize: Int?

    func run() throws {
        try reporting {
            let started = Date()
            if case .postgres(let server) = try database.location() { return try ingestPostgres(server, started: started) }
            let path = database.path
            let queue = try LogStore.openForWriting(path, waiting: quiet ? nil : {
                Terminal.warn("\(path): another sftplog is writing this database; waiting for it to finish")
            })
            let catalog = try Catalogs.load()
            let options = try input.readerOptions()
            let ingestor = Ingestor(store: queue, stream: RecordStream(options: options, catalog: catalog))
            ingestor.sessions = try Catalogs.sessionRebuild(zone: options.timeZone)
            if let batchSize { ingestor.batchSize = max(1, batchSize) }
            let unparsed = UnparsedReport()
            if !quiet { ingestor.onUnparsed = { unparsed.add($0) } }
            var summary = IngestSummary()
            var failures = 0
            let files = try input.files(inputs, excluding: LogStore.ownFiles(path))
            if follow {
                let scan = input.newFileScan(inputs, following: files, excluding: LogStore.ownFiles(path))
                (summary, failures) = try followFiles(files, scan: scan, database: path, options: options)
                try conclude(summary, failures: failures, started: started, database: path)
                return
            }
            let progress = !quiet && isatty(2) != 0 ? ProgressLine(files: files) : nil
            if let progress { ingestor.onProgress = { progress.update($0) } }
            // One bad input does not lose the others: report and go on.
            ingestor.ingest(files) { name, outcome in Self.tally(outcome, of: name, database: path, into: &summary, failures: &failures) }
            progress?.clear()
            do { try ingestor.finish() } catch { Terminal.warn(LogStore.explain(error, database: path, during: "building the record indexes")); failures += 1 }
            queue.finishWriting()
            unparsed.summarise()
            try conclude(summary, failures: failures, started: started, database: path)
        }
    }

    /// Into PostgreSQL: read into a staging file, then each source in one transaction.
    func ingestPostgres(_ server: PostgresLocation, started: Date) throws {
        guard !follow else { throw ValidationError("--follow writes into a SQLite database only, for now") }
        let pg = try PostgresStore.openForWriting(server)
        defer { pg.close() }
        let catalog = try Catalogs.load()
        let options = try input.readerOptions()
        let files = try input.files(inputs)
        let unparsed = UnparsedReport()
        let progress = !quiet && isatty(2) != 0 ? ProgressLine(files: files) : nil
        var summary = IngestSummary()
        var failures = 0
        let name = server.redacted
        try PostgresIngest.run(files, into: pg, stream: RecordStream(options: options, catalog: catalog),
                               sessions: try Catalogs.sessionRebuild(zone: options.timeZone), configure: { ingestor in
            if let batchSize { ingestor.batchSize = max(1, batchSize) }
            if !quiet { ingestor.onUnparsed = { unparsed.add($0) } }
            if let progress { ingestor.onProgress = { progress.update($0) } }
        }, each: { file, outcome in Self.tally(outcome, of: file, database: name, into: &summary, failures: &failures) })
        progress?.clear()
        unparsed.summarise()
        try conclude(summary, failures: failures, started: started, database: name)
    }

    /// One input's outcome: its result kept, or its error named, and the others go on.
    static func tally(_ outcome: Result<SourceIngestResult, Error>, of name: String, database: String,
                      into summary: inout IngestSummary, failures: inout Int) {
        switch outcome {
        case .success(let r): summary.sources.append(r)
        case .failure(let error):
            Terminal.warn(LogStore.explain(error, database: database, during: "storing \(name)"))
            failures += 1
        }
    }

    /// The summary, then the documented exit status: 1 an input failed, 2 some lines unparsed.
    func conclude(_ summary: IngestSummary, failures: Int, started: Date, database: String) throws {
        try report(summary, started: started, database: database)
        if failures > 0 { throw ExitCode(1) }
        if summary.unparsed > 0 { throw ExitCode(2) }
    }

    func report(_ summary: IngestSummary, started: Date, database path: String) throws {
        var summary = summary
        summary.seconds = Date().timeIntervalSince(started)
        if json {
            print(IngestReport.json(summary, database: path))
        } else if !quiet {
            FileHandle.standardError.write(Data((TextEscaper.terminalSafe(IngestReport.line(summary, database: path)) + "\n").utf8))
        }
    }

    /// One thread per followed file, each with its own connection and reader;
    /// a rotated file is finished, then its successor at the same path followed.
    func followFiles(_ files: [String], scan: NewFileScan?, database path: String, options: ReaderOptions) throws -> (IngestSummary, Int) {
        let outcome = Mutex((summary: IngestSummary(), failures: 0))
        // One catalogue for every thread: it is immutable once loaded.
        let catalog = try Catalogs.load()
        let terms = SharedTerms()
        // Created (or migrated) once, before the threads open it together.
        try LogStore.openForWriting(path).finishWriting()
        try FollowThreads.run(files, scan: scan, command: "ingest", quiet: quiet, start: { name in
            let queue = try LogStore.openForWriting(path)
            let ingestor = Ingestor(store: queue, stream: RecordStream(options: options, catalog: catalog))
            ingestor.sharedTerms = terms
            ingestor.boundsTerms = true
            ingestor.sessions = try Catalogs.sessionRebuild(zone: options.timeZone)
            ingestor.deferIndexes = false
            return FollowThreads.Follower(step: {
                var control: FollowControl?
                let r = try ingestor.ingest(name, follow: { control = $0 })
                outcome.withLock { $0.summary.sources.append(r) }
                return control?.ended
            }, finish: { queue.finishWriting() })
        }, failed: { name, error in
            Terminal.warn(LogStore.explain(error, database: path, during: "following \(name)"))
            outcome.withLock { $0.failures += 1 }
        })
        return outcome.withLock { ($0.summary, $0.failures) }
    }
}

/// A single self-overwriting status line on stderr: bytes, lines/s, ETA.
final class ProgressLine {
    private let total: Int64
    private var doneBefore: Int64 = 0
    private var lines = 0
    private var linesBefore = 0
    private let started = Date()
    private var lastDraw = Date.distantPast

    init(files: [String]) {
        total = files.reduce(0) { sum, f in
            var st = stat()
            return sum + (f != "-" && stat(f, &st) == 0 ? Int64(st.st_size) : 0)
        }
    }

    func update(_ p: IngestProgress) {
        lines = linesBefore + p.lines
        let done = doneBefore + p.bytesRead
        if p.final { doneBefore += p.totalBytes ?? p.bytesRead; linesBefore = lines }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.25 else { return }
        lastDraw = now
        let secs = max(now.timeIntervalSince(started), 0.001)
        var s = "\(Human.bytes(Int(done)))"
        if total > 0 { s += " of \(Human.bytes(Int(total))) (\(min(100, done * 100 / total))%)" }
        s += ", \(Int(Double(lines) / secs)) lines/s"
        if total > 0, done > 0, done < total {
            let eta = secs * Double(total - done) / Double(done)
            s += ", ETA \(Human.duration(eta))"
        }
        // The name is log-controlled only through the path the user typed; escape anyway.
        let name = TextEscaper.terminalSafe((p.name as NSString).lastPathComponent)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(s) \(name)".utf8))
    }

    func clear() {
        guard lastDraw != .distantPast else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
