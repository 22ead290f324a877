import ArgumentParser
import Foundation
import SFTPLogKit

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "A report of all sessions (summary) or of one session (--session ID): text, Markdown, HTML or JSON.")

    @OptionGroup var source: SourceOptions
    @OptionGroup var filters: SessionFilterOptions
    @Option(name: .long, help: "One session's report (an id from `sftplog sessions`, or a unique prefix).") var session: String?
    @OptionGroup var formatting: OutputOptions<ReportFormats>
    @Option(name: .long, help: "Write to this file instead of standard output.") var output: String?
    @Option(name: .long, help: "HTML: most sessions to include in full (the rest are summarised).") var maxSessions: Int = 200
    @Flag(name: .long, help: "Posture over time: sessions, failed logins, weak cryptography, clients, SFTPPlus versions and bytes per period.")
    var trend = false
    @Option(name: .long, help: "With --trend: the period (day, week (ISO 8601, Monday first) or month), in UTC.") var by: TrendPeriod = .week
    @Option(name: .long, help: "With --trend: how many clients and failing peers each period lists.") var top: Int = 5

    func validate() throws {
        if trend && session != nil { throw ValidationError("--trend and --session cannot be used together") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        var status: Int32 = 0
        if trend { return try runTrend() }
        try reporting {
            let format = formatting.effective
            let catalog = try Catalogs.load()
            let filter = try filters.filter()
            let model: ReportModel
            if let files = try source.streamedFiles() {
                let answer: StreamedReport
                (answer, status) = try streamed(files, format: format, filter: filter, catalog: catalog)
                switch answer {
                case .model(let m): model = m
                case .written(let produce): return try write(produce)
                }
            } else if format == .html, session == nil {
                let (m, drawn, details) = try source.database.answering(records: true) { path in
                    try source.openDatabase(path).read { db in try ReportModel.html(db, filter: filter, catalog: catalog, maxDetails: maxSessions) }
                }
                return try write { try HTMLReport.write(m, drawn: drawn, details: details, to: $0) }
            } else {
                // A summary (not HTML), or one session's report.
                model = try source.database.answering(records: true) { path in
                    if session == nil, let summary = try ReportModel.summary(path: path, filter: filter, catalog: catalog) { return summary }
                    return try source.openDatabase(path).read { db in
                        try ReportModel.build(db, filter: filter, catalog: catalog, sessionID: session, withOperations: false)
                    }
                }
            }
            let text: String
            switch format {
            case .text: text = ReportText(colour: output == nil && Terminal.colour, width: Terminal.wrapWidth, fitWidth: Terminal.fitWidth).render(model)
            case .markdown: text = ReportText().markdown(model)
            case .html: text = HTMLReport.render(model, details: [])
            default: text = ReportText.json(model).json + "\n"
            }
            try write(text)
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// `--trend`: from files and pipes in one streaming pass, or from the store.
    func runTrend() throws {
        var status: Int32 = 0
        try reporting {
            let filter = try filters.filter()
            var collector = TrendCollector(by: by, top: top, filter: filter)
            let model: TrendModel
            if let files = try source.streamedFiles() {
                let pass = try source.stream(files, evidence: false) { collector.add(session: $0) }
                model = collector.finish(sources: pass.reportSources)
                status = pass.ingestStatus
            } else {
                model = try source.database.answering(records: false) { path in
                    try source.openDatabase(path).read { db in
                        try db.forEachTrendRow(filter) { collector.add($0) }
                        return collector.finish(sources: try db.sources())
                    }
                }
            }
            let text: String
            switch formatting.effective {
            case .text: text = TrendRender.text(model, width: max(60, Terminal.wrapWidth))
            case .markdown: text = TrendRender.markdown(model)
            case .html: text = TrendRender.html(model)
            default: text = TrendRender.json(model).json + "\n"
            }
            try write(text)
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// Writes what `produce` lends, in pieces, to stdout or `--output` (through a
    /// temporary file beside it, renamed when complete, so a failure leaves no
    /// partial report).
    func write(_ produce: ((UnsafeBufferPointer<UInt8>) -> Void) throws -> Void) throws {
        if let output {
            let dir = (output as NSString).deletingLastPathComponent
            var template = Array(((dir.isEmpty ? "." : dir) + "/.sftplog-report-XXXXXX").utf8CString)
            let fd = mkstemp(&template)
            guard fd >= 0 else { throw CLIError("\(output): cannot write the report: \(String(cString: strerror(errno)))") }
            let temp = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var failure: Int32 = 0
            do {
                try produce { bytes in
                    var off = 0
                    while failure == 0, off < bytes.count {
                        let n = Foundation.write(fd, bytes.baseAddress! + off, bytes.count - off)
                        if n < 0, errno == EINTR { continue }
                        if n <= 0 { failure = errno; break }
                        off += n
                    }
                }
            } catch {
                close(fd); unlink(temp)
                throw error
            }
            // As the atomic write of a whole report leaves it: what the umask allows.
            let mask = umask(0)
            umask(mask)
            fchmod(fd, 0o666 & ~mask)
            if failure == 0, fsync(fd) != 0 { failure = errno }
            close(fd)
            if failure == 0, rename(temp, output) != 0 { failure = errno }
            guard failure == 0 else {
                unlink(temp)
                throw CLIError("\(output): cannot write the report: \(String(cString: strerror(failure)))")
            }
            FileHandle.standardError.write(Data("wrote \(TextEscaper.terminalSafe(output))\n".utf8))
        } else {
            let stdout = RecordOutput()
            var buffer: [UInt8] = []
            try produce { bytes in
                buffer.append(contentsOf: bytes)
                if buffer.count >= 1 << 16 { stdout.write(buffer); buffer.removeAll(keepingCapacity: true) }
            }
            stdout.write(buffer)
        }
    }

    func write(_ text: String) throws {
        if let output {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) }
            catch { throw CLIError("\(output): cannot write the report: \(error.localizedDescription)") }
            FileHandle.standardError.write(Data("wrote \(TextEscaper.terminalSafe(output))\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// What a streaming pass answers: a model to render as from a database, or
    /// (summaries other than text) the report itself, written from what the pass
    /// set aside as sessions closed.
    enum StreamedReport {
        case model(ReportModel)
        case written((_ out: (UnsafeBufferPointer<UInt8>) -> Void) throws -> Void)
    }

    /// The report in one streaming pass over `files`, with `ingest`'s exit status for them.
    func streamed(_ files: [String], format: OutputFormat, filter: SessionFilter, catalog: EventCatalog) throws -> (StreamedReport, Int32) {
        if let id = session {
            // One session: its records are kept while the pass reads everything else once.
            var f = filter
            f.sessionID = id
            var listing = SessionListing(filter: f)
            var timelines: [SessionID: [(record: Record, duplicate: Bool)]] = [:]
            let pass = try source.stream(files, keepsRecords: { $0.rawValue.hasPrefix(id) },
                                         onSessionRecords: { timelines[$0] = $1 }) { listing.add($0) }
            let m = try ReportModel.session(id, from: listing.finish(), timelines: timelines, catalog: catalog, sources: pass.reportSources)
            return (.model(m), pass.ingestStatus)
        }
        switch format {
        case .text:
            // The text summary shows the first weak sessions only: the rest are counted.
            var collector = ReportCollector(filter: filter, catalog: catalog, weakKept: ReportModel.weakSessionsShown)
            let pass = try source.stream(files, evidence: false, onRecord: { collector.add(record: $0) }) { collector.add(session: $0) }
            return (.model(collector.finish(sources: pass.reportSources)), pass.ingestStatus)
        case .json, .markdown:
            // Each weak session's line is made as it closes and set aside until the end.
            let markdown = format == .markdown
            var collector = ReportCollector(filter: filter, catalog: catalog, weakLine: markdown ? { Array(ReportText.markdownWeakRow($0).utf8) } : ReportText.jsonWeakItem)
            let pass = try source.stream(files, evidence: false, onRecord: { collector.add(record: $0) }) { collector.add(session: $0) }
            let m = collector.finish(sources: pass.reportSources)
            return (.written { out in
                let (head, tail): ([UInt8], [UInt8])
                if markdown {
                    let parts = ReportText().markdownParts(m, weakCount: m.weakSessions.count + m.weakSessionsNotKept)
                    (head, tail) = (Array(parts.head.utf8), Array(parts.tail.utf8))
                } else {
                    let parts = ReportText.jsonParts(m)
                    (head, tail) = (parts.head, parts.tail + [0x0A])
                }
                head.withUnsafeBufferPointer(out)
                try collector.writeWeakLines(separator: markdown ? [] : [0x2C], out)
                tail.withUnsafeBufferPointer(out)
            }, pass.ingestStatus)
        default:
            // HTML: every session is drawn as it closes, and the first --max-sessions
            // kept in full with their records.
            var collector = ReportCollector(filter: filter, catalog: catalog, weakKept: 0)
            let drawn = DrawnSessions()
            var first = FirstTimelines(limit: maxSessions)
            var closing: (id: SessionID, records: [(record: Record, duplicate: Bool)])?
            let pass = try source.stream(files, onRecord: { collector.add(record: $0) }, keepsRecords: { _ in true },
                                         onSessionRecords: { closing = ($0, $1) }) { session in
                defer { closing = nil }
                guard filter.matches(session) else { return }
                collector.add(session: session)
                var s = SessionStore.storedForm(session)
                s.records = []
                let key = SessionQuery.OrderKey(s)
                drawn.add(s, listKey: key.orderBytes)
                first.offer(s, key: key, records: closing?.id == s.id ? closing!.records : [])
            }
            let (m, details) = ReportModel.html(collector: &collector, first: first, catalog: catalog, sources: pass.reportSources)
            return (.written { try HTMLReport.write(m, drawn: drawn, details: details, to: $0) }, pass.ingestStatus)
        }
    }
}

enum ReportFormats: OutputChoices {
    static var formats: [OutputFormat] { [.text, .markdown, .html, .json] }
    static var standard: OutputFormat { .text }
}

extension TrendPeriod: ExpressibleByArgument {}
