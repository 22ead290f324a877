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
            let model: ReportModel, details: [ReportModel.SessionDetail]
            if let files = try source.streamedFiles() {
                (model, details, status) = try streamed(files, format: format, filter: filter, catalog: catalog)
            } else {
                (model, details) = try source.database.answering(records: true) { path in
                    if session == nil, format != .html, let summary = try ReportModel.summary(path: path, filter: filter, catalog: catalog) {
                        return (summary, [])
                    }
                    return try source.openDatabase(path).read { db -> (ReportModel, [ReportModel.SessionDetail]) in
                        let m = try ReportModel.build(db, filter: filter, catalog: catalog, sessionID: session, withOperations: format == .html)
                        var details: [ReportModel.SessionDetail] = []
                        if format == .html && m.detail == nil {
                            for s in m.sessions.prefix(maxSessions) { details.append(try ReportModel.sessionDetail(db, s, catalog: catalog)) }
                        }
                        return (m, details)
                    }
                }
            }
            let text: String
            switch format {
            case .text: text = ReportText(colour: output == nil && Terminal.colour, width: Terminal.wrapWidth, fitWidth: Terminal.fitWidth).render(model)
            case .markdown: text = ReportText().markdown(model)
            case .html: text = HTMLReport.render(model, details: details)
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

    func write(_ text: String) throws {
        if let output {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) }
            catch { throw CLIError("\(output): cannot write the report: \(error.localizedDescription)") }
            FileHandle.standardError.write(Data("wrote \(TextEscaper.terminalSafe(output))\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// The report in one streaming pass over `files`, with `ingest`'s exit status for them.
    func streamed(_ files: [String], format: OutputFormat, filter: SessionFilter, catalog: EventCatalog)
        throws -> (ReportModel, [ReportModel.SessionDetail], Int32) {
        if let id = session {
            // One session: its records are kept while the pass reads everything else once.
            var f = filter
            f.sessionID = id
            var listing = SessionListing(filter: f)
            var timelines: [SessionID: [(record: Record, duplicate: Bool)]] = [:]
            let pass = try source.stream(files, keepsRecords: { $0.rawValue.hasPrefix(id) },
                                         onSessionRecords: { timelines[$0] = $1 }) { listing.add($0) }
            let m = try ReportModel.session(id, from: listing.finish(), timelines: timelines, catalog: catalog, sources: pass.reportSources)
            return (m, [], pass.ingestStatus)
        }
        // The text summary shows the first weak sessions only: the rest are counted.
        var collector = ReportCollector(filter: filter, catalog: catalog, weakKept: format == .text ? ReportModel.weakSessionsShown : nil)
        guard format == .html else {
            // Text, Markdown and JSON summaries show no session's evidence.
            let pass = try source.stream(files, evidence: false, onRecord: { collector.add(record: $0) }) { collector.add(session: $0) }
            return (collector.finish(sources: pass.reportSources), [], pass.ingestStatus)
        }
        // HTML: every session is drawn, and the first --max-sessions in full with their records.
        var listing = SessionListing(filter: filter)
        var first = FirstTimelines(limit: maxSessions)
        var closing: (id: SessionID, records: [(record: Record, duplicate: Bool)])?
        let pass = try source.stream(files, onRecord: { collector.add(record: $0) }, keepsRecords: { _ in true },
                                     onSessionRecords: { closing = ($0, $1) }) { s in
            guard let key = listing.add(s) else { return }
            if let c = closing, c.id == s.id { first.offer(s.id, key: key, records: c.records) }
            closing = nil
        }
        let (m, details) = ReportModel.html(sessions: listing.finish(), collector: &collector, timelines: first.timelines,
                                            maxDetails: maxSessions, catalog: catalog, sources: pass.reportSources)
        return (m, details, pass.ingestStatus)
    }
}

enum ReportFormats: OutputChoices {
    static var formats: [OutputFormat] { [.text, .markdown, .html, .json] }
    static var standard: OutputFormat { .text }
}

extension TrendPeriod: ExpressibleByArgument {}
