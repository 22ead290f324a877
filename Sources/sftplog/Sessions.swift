import ArgumentParser
import Foundation
import SFTPLogKit

extension SessionOutcome: ExpressibleByArgument {}

/// Filters shared by `sessions`, `report` and `audit`.
struct SessionFilterOptions: ParsableArguments {
    @Option(name: .long, help: "Only sessions of this user (the account, or the username tried).") var user: String?
    @Option(name: .long, help: "Only sessions from this peer address (or address:port).") var peer: String?
    @Option(name: .long, help: "Only sessions starting at or after T (ISO date/time, or 90m, 24h, 7d back from now).") var since: String?
    @Option(name: .long, help: "Only sessions starting before T (same forms as --since).") var until: String?
    @Option(name: .long, help: "Only sessions with this outcome.") var outcome: SessionOutcome?
    @Flag(name: .long, help: "Only sessions with weak (warn/fail/unknown) cryptography or Terrapin exposure.") var weak = false

    func filter(zone: TimeZone = .current) throws -> SessionFilter {
        var f = SessionFilter()
        f.user = user; f.peer = peer; f.outcome = outcome; f.weakOnly = weak
        if let s = since {
            guard let v = TimeBound.parse(s, zone: zone) else { throw ValidationError("--since: \(s.debugDescription) is not a date, time or span like 7d") }
            f.since = v
        }
        if let u = until {
            guard let v = TimeBound.parse(u, zone: zone) else { throw ValidationError("--until: \(u.debugDescription) is not a date, time or span like 7d") }
            f.until = v
        }
        return f
    }
}

struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List reconstructed sessions: who connected, how, what they did, what went wrong.",
        discussion: """
            From files or standard input: one streaming pass, nothing stored; exit status as `ingest`'s \
            (2 some lines unparsed, 1 an input could not be read). From a database: --db, $SFTPLOG_DB or ./sftplog.db.
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var filters: SessionFilterOptions
    @OptionGroup var output: OutputOptions<SessionFormats>
    @Flag(name: .long, help: "With --json: include each session's timeline of records.") var timeline = false
    @Flag(name: .long, help: "With --json: include each session's evidence, the file, line, record id and byte offset each fact came from.")
    var evidence = false

    func run() throws {
        var status: Int32 = 0
        try reporting {
            let f = try filters.filter()
            let fmt = output.effective
            let stdout = RecordOutput()
            if let files = try source.streamedFiles() {
                // --timeline keeps what each selected session's records show, until the session closes.
                let withTimeline = timeline && (fmt == .json || fmt == .ndjson)
                var timelines: [SessionID: [(record: Record, duplicate: Bool)]] = [:]
                let withEvidence = evidence && (fmt == .json || fmt == .ndjson)
                // Each session's JSON (with its timeline, whose records come just before
                // it), CSV row or table row made as it closes and set aside until the list
                // is in order: memory holds keys, not sessions (the table's columns are
                // measured as the rows come).
                let framing: SessionExport.Framing = fmt == .json ? .array : .lines
                var layout = TextTable.Layout(SessionTable.columns), tableRows = 0
                let piece: (SessionTimeline) -> [UInt8]
                switch fmt {
                case .json, .ndjson:
                    piece = { s in
                        SessionListing.jsonPiece(s, framing: framing, evidence: withEvidence,
                                                 timeline: withTimeline ? timelines.removeValue(forKey: s.id) ?? [] : nil)
                    }
                case .csv: piece = { Array(Self.csvRow($0).utf8) }
                default:
                    // The table's rows: their cells (which hold no control character once
                    // escaped) apart by US; the columns measured as they come.
                    piece = { s in
                        let cells = SessionTable.row(s)
                        tableRows += 1
                        layout.measure(cells)
                        var bytes: [UInt8] = []
                        for (i, c) in cells.enumerated() { if i > 0 { bytes.append(0x1F) }; bytes += c.utf8 }
                        return bytes
                    }
                }
                var listing = SessionListing(filter: f, render: piece)
                let pass = try source.stream(files, evidence: withEvidence, keepsRecords: withTimeline ? { _ in true } : nil,
                                             onSessionRecords: { id, list in
                    timelines[id] = list.map { (SessionListing.timelineEntry($0.record), $0.duplicate) }
                }) { listing.add($0) }
                if fmt != .json, fmt != .ndjson, fmt != .csv {
                    if tableRows == 0 {
                        stdout.write(Array("no sessions match\n".utf8))
                    } else {
                        layout.fit(width: Terminal.fitWidth)
                        stdout.write(Array(layout.header().utf8))
                        var out: [UInt8] = []
                        _ = try listing.forEachRendered { row in
                            let cells = row.split(separator: 0x1F, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
                            out += layout.line(cells).utf8
                            out.append(0x0A)
                            if out.count >= 1 << 16 { stdout.write(out); out.removeAll(keepingCapacity: true) }
                        }
                        stdout.write(out)
                    }
                    status = pass.ingestStatus
                    return
                }
                if fmt == .csv { stdout.write(Array(Self.csvHeader.utf8)) }
                if fmt == .json { stdout.write([0x5B]) }
                _ = try listing.writeRendered(separator: fmt == .json ? [0x2C] : []) { stdout.write($0) }
                if fmt == .json { stdout.write(Array("]\n".utf8)) }
                status = pass.ingestStatus
                return
            }
            try source.database.answering(records: timeline && (fmt == .json || fmt == .ndjson)) { path in
                switch fmt {
                case .json, .ndjson:
                    // Streamed a chunk of sessions at a time: 60k sessions as one string took 800 MB.
                    try SessionExport.write(path: path, filter: f, framing: fmt == .json ? .array : .lines, withTimeline: timeline,
                                            withEvidence: evidence) { stdout.write($0) }
                default:
                    let sessions = try LogStore.openForReading(path).read { try $0.sessions(f) }
                    FileHandle.standardOutput.write(Data(render(sessions, fmt).utf8))
                }
            }
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The table or CSV of `sessions`.
    func render(_ sessions: [SessionTimeline], _ fmt: OutputFormat) -> String {
        guard fmt == .csv else {
            return sessions.isEmpty ? "no sessions match\n" : SessionTable.render(sessions, width: Terminal.fitWidth)
        }
        var rows = Self.csvHeader
        for s in sessions { rows += Self.csvRow(s) }
        return rows
    }

    static let csvHeader = "id,source,side,start,duration,user,peer_address,peer_port,client_version,server_version,outcome,files,bytes_up,bytes_down,weak_findings,terrapin_vulnerable,closed\r\n"

    /// One session's CSV row, its line end included.
    static func csvRow(_ s: SessionTimeline) -> String {
        let cells: [String] = [s.id.rawValue, s.source, s.side, s.start?.iso ?? "", s.duration.map { String($0) } ?? "", s.user ?? "",
                               s.peer?.address ?? "", s.peer?.port.map(String.init) ?? "", s.clientVersion ?? "", s.serverVersion ?? "",
                               s.outcome.rawValue, String(s.operations.filter { $0.op.isFileTransfer }.count),
                               String(s.bytesUp), String(s.bytesDown),
                               String(s.findings.filter { $0.rating.isWeak }.count),
                               s.terrapinVulnerable.map { $0 ? "true" : "false" } ?? "",
                               s.closed.map { $0 ? "true" : "false" } ?? ""]
        return cells.map(TextEscaper.csvCell).joined(separator: ",") + "\r\n"
    }
}

enum SessionFormats: OutputChoices {
    static var formats: [OutputFormat] { [.table, .json, .ndjson, .csv] }
    static var standard: OutputFormat { .table }
}
