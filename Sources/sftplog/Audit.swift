import ArgumentParser
import Foundation
import SFTPLogKit
import SFTPLogPostgres

/// `--db`, declared once for every command that reads or writes a database.
struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: "Database: a SQLite file, or postgres://user@host:port/dbname (default: $SFTPLOG_DB, else ./sftplog.db).") var db: String?

    /// The database file: `--db`, else `$SFTPLOG_DB`, else `./sftplog.db`.
    var path: String { LogStore.defaultPath(db) }

    /// The SQLite file or PostgreSQL server that `path` names.
    func location() throws -> StoreLocation { try StoreLocation.parse(path) }

    /// Runs `body` on a SQLite file that answers as the store does: the file
    /// itself, or for PostgreSQL a local snapshot of its tables (records only
    /// with `records`), removed afterwards.
    func answering<T>(records: Bool, _ body: (String) throws -> T) throws -> T {
        guard case .postgres(let server) = try location() else { return try body(path) }
        let store = try PostgresStore.openForReading(server)
        defer { store.close() }
        let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        PostgresIngest.removeAbandoned(in: dir, prefix: "sftplog-snapshot-")
        let file = "\(dir)/sftplog-snapshot-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).db"
        defer { for suffix in ["", "-wal", "-shm", "-journal"] { unlink(file + suffix) } }
        try store.snapshot(into: file, records: records)
        return try body(file)
    }

    /// Whether the user named one (`--db` or `$SFTPLOG_DB`).
    var isNamed: Bool { db != nil || !(ProcessInfo.processInfo.environment["SFTPLOG_DB"] ?? "").isEmpty }
}

/// Where the answering commands read: files, directories and pipes in one
/// streaming pass, or a database.
struct SourceOptions: ParsableArguments {
    @Argument(help: "Log files or directories to read in one streaming pass (nothing is stored); - for standard input. Without files, --db is read.")
    var inputs: [String] = []
    @OptionGroup var database: DatabaseOption
    @OptionGroup var input: InputOptions
    @Flag(name: [.short, .long], help: "No progress line and no unparsed lines on stderr.") var quiet = false

    /// No files, no database named, none in the working directory, and standard
    /// input is not a terminal: `cat server.log | sftplog report` just works.
    var readsPipedInput: Bool {
        inputs.isEmpty && isatty(0) == 0 && database.db == nil && ProcessInfo.processInfo.environment["SFTPLOG_DB"] == nil
            && !FileManager.default.fileExists(atPath: "./sftplog.db")
    }

    /// The inputs of a streaming pass (directories walked), or nil when the answer comes from a database.
    func streamedFiles() throws -> [String]? {
        if readsPipedInput { return ["-"] }
        return inputs.isEmpty ? nil : try input.files(inputs)
    }

    /// The database, when the answer comes from one (`streamedFiles` is nil).
    func openDatabase(_ path: String) throws -> LogStore { try LogStore.openForReading(path) }

    /// What a streaming pass read.
    struct Pass {
        var sources: [StreamedSource] = []
        var failures = 0
        var unparsed: Int { sources.reduce(0) { $0 + $1.unparsed } }
        var records: Int { sources.reduce(0) { $0 + $1.records } }
        /// The sources as a report lists them.
        var reportSources: [(name: String, records: Int, versions: String?)] { sources.map { ($0.name, $0.records, $0.sftpplusVersions) } }

        /// `ingest`'s exit status for the same inputs: 1 an input failed, 2 some lines unparsed.
        var ingestStatus: Int32 { failures > 0 ? 1 : unparsed > 0 ? 2 : 0 }
    }

    /// One streaming pass over `files`, with ingest's progress line and unparsed-line
    /// report on stderr; an input that fails is named and the others are read.
    /// `needsAllEvents: false`: the answer reads only sessions' connection,
    /// authentication and algorithms (`audit`), so the other events are not resolved.
    /// `evidence: false`: the answer shows no session's evidence links, so none are kept.
    func stream(_ files: [String], policy: AlgorithmPolicy? = nil, needsAllEvents: Bool = true, evidence: Bool = true,
                onRecord: ((Record) -> Void)? = nil,
                keepsRecords: ((SessionID) -> Bool)? = nil,
                onSessionRecords: ((SessionID, [(record: Record, duplicate: Bool)]) -> Void)? = nil,
                session: (SessionTimeline) throws -> Void) throws -> Pass {
        var options = try input.readerOptions()
        // Only kept records (`report --session`, HTML, `--timeline`) show a line as written.
        options.keepsRaw = keepsRecords != nil
        let catalog = try Catalogs.load()
        let sessions = try Catalogs.sessionRebuild(zone: options.timeZone, policy: policy)
        var records = RecordStream(options: options, catalog: catalog)
        records.chunking = Chunking.fromEnvironment()
        if !needsAllEvents { records.needs = ResolutionNeeds(rules: sessions.rules, catalog: catalog, operations: false) }
        let pass = SessionStream(stream: records, sessions: sessions)
        pass.onRecord = onRecord
        pass.tracksEvidence = evidence
        pass.keepsRecords = keepsRecords
        pass.onSessionRecords = onSessionRecords
        let unparsed = UnparsedReport()
        if !quiet { pass.onUnparsed = { unparsed.add($0) } }
        let progress = !quiet && isatty(2) != 0 ? ProgressLine(files: files) : nil
        if let progress { pass.onProgress = { progress.update($0) } }
        var result = Pass()
        try pass.run(files, each: { name, outcome in
            switch outcome {
            case .success(let r):
                result.sources.append(r)
                if let error = r.interruption {
                    progress?.clear()
                    Terminal.warn("\(error)")
                    result.failures += 1
                }
            case .failure(let error):
                progress?.clear()
                Terminal.warn("\(error)")
                result.failures += 1
            }
        }, session: session)
        progress?.clear()
        unparsed.summarise()
        return result
    }
}

/// The ratings `--min-rating` takes (`info` too, to list every finding).
enum MinimumRating: String, ExpressibleByArgument, CaseIterable {
    case info, warn, fail
    var rating: Rating {
        switch self {
        case .info: return .info
        case .warn: return .warn
        case .fail: return .fail
        }
    }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Judge every session's negotiated cryptography: weak algorithms, DH group sizes, Terrapin.",
        discussion: """
            Exit status: 0 no finding at or above --min-rating; 1 warnings (or algorithms the policy does not know) only; \
            2 at least one failure; 3 an error.
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var filters: SessionFilterOptions
    @Option(name: .long, help: "Policy override file (JSON or YAML, same shape as catalog/ssh-policy.json); repeatable.") var policy: [String] = []
    @Option(name: .long, help: "Lowest rating to report (info lists every finding).") var minRating: MinimumRating = .warn
    @Flag(name: .long, help: "Print the effective policy as JSON and exit.") var printPolicy = false
    @OptionGroup var output: OutputOptions<ListingFormats>

    static let csvHeader = ["session", "start", "peer", "user", "category", "algorithm", "direction", "rating", "reason"]

    /// One row per weak algorithm of a flagged session (its findings are those at or above --min-rating).
    static func csvRows(_ s: SessionTimeline) -> [[String]] {
        s.findings.map { f in
            [s.id.rawValue, s.start?.iso ?? "", s.peer?.address ?? "", s.user ?? "", f.category.rawValue, f.algorithm, f.direction ?? "",
             f.rating.rawValue, f.reason]
        }
    }

    func run() throws {
        var inputFailed = false
        try reporting(errorStatus: 3) {
            let effective = try AlgorithmPolicy.bundled(overrides: policy)
            if printPolicy {
                print(try effective.printable())
                return
            }
            let judge = SessionJudge.Memo(SessionJudge(policy: effective))
            // Judged here with the effective policy (a --policy file changes verdicts of stored sessions too).
            let filter = try filters.filter()
            let result: AuditResult
            var streamed: AuditCollector?
            if let files = try source.streamedFiles() {
                let textOut = output.effective != .json && output.effective != .csv
                // Each flagged session's text, JSON object or CSV rows made as it closes and
                // set aside until the list is in order: memory holds keys, not sessions.
                let render: ((SessionTimeline) -> [UInt8])? = switch output.effective {
                case .json: { var j = JSONBytes(capacity: 2048); j.value(AuditResult.sessionJSON($0)); return j.bytes }
                case .csv: { Array(CSVRows.render(rows: Self.csvRows($0)).utf8) }
                default: nil
                }
                var collector = AuditCollector(filter: filter, judge: judge, minRating: minRating.rating, policyName: effective.name,
                                               textWidth: textOut ? Terminal.wrapWidth : nil, render: render)
                // Outcomes depend on file operations; nothing else audit shows does.
                // Only JSON names each finding's lines.
                let pass = try source.stream(files, policy: effective, needsAllEvents: filter.outcome != nil,
                                             evidence: output.effective == .json) { collector.add($0) }
                result = collector.finish()
                streamed = collector
                if pass.failures > 0 { inputFailed = true }
            } else {
                result = try source.database.answering(records: false) { path in
                    try source.openDatabase(path).read {
                        try AuditLoad.audit($0, filter: filter, judge: judge, minRating: minRating.rating, policyName: effective.name)
                    }
                }
            }
            let out = RecordOutput()
            switch output.effective {
            case .json:
                if streamed != nil {
                    // The object `result.json` makes, its sessions written as they are read back.
                    out.write(Array("{\"sessions\":[".utf8))
                    try streamed!.writeRendered(separator: [0x2C]) { out.write($0) }
                    var summary = JSONBytes(capacity: 4096)
                    summary.raw("],\"summary\":"); summary.value(result.summaryJSON); summary.raw("}\n")
                    out.write(summary.bytes)
                } else {
                    print(result.json.json)
                }
            case .csv:
                out.write(Array(CSVRows.render(header: Self.csvHeader, rows: []).utf8))
                if try streamed?.writeRendered({ out.write($0) }) != true {
                    out.write(Array(CSVRows.render(rows: result.flagged.flatMap(Self.csvRows)).utf8))
                }
            default:
                // Written as it is read back: the flagged sessions' text is not held whole.
                if try streamed?.writeText({ out.write($0) }) != true {
                    print(result.text(width: Terminal.wrapWidth), terminator: "")
                }
            }
            // An input that could not be read is an error (3) once the rest is answered.
            if inputFailed { throw ExitCode(3) }
            if result.exitCode != 0 { throw ExitCode(result.exitCode) }
        }
    }
}
