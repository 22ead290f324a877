import ArgumentParser
import Foundation
import SFTPLogKit

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store the records of the inputs in the SQLite database (content already stored is skipped).")

    @Argument(help: "Log files, or - for standard input (default).")
    var inputs: [String] = []

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Database path (default: $SFTPLOG_DB, else ./sftplog.db).")
    var db: String?

    @Flag(name: .long, help: "Print the summary as JSON on stdout.")
    var json = false

    func run() throws {
        try reporting {
            let started = Date()
            let path = LogStore.defaultPath(db)
            let queue = try LogStore.openForWriting(path)
            let catalog = try Catalogs.load()
            let options = try input.readerOptions()
            let ingestor = Ingestor(db: queue, stream: RecordStream(options: options, catalog: catalog))
            ingestor.sessions = try Catalogs.sessionRebuild(zone: options.timeZone)
            var summary = IngestSummary()
            var failures = 0
            for name in inputs.isEmpty ? ["-"] : inputs {
                do {
                    summary.sources.append(try ingestor.ingest(name))
                } catch {
                    // One bad input does not lose the others: report and go on.
                    Terminal.warn("\(error)")
                    failures += 1
                }
            }
            do { try ingestor.finish() } catch { Terminal.warn("\(error)"); failures += 1 }
            summary.seconds = Date().timeIntervalSince(started)
            if json {
                print(IngestReport.json(summary, database: path))
            } else {
                FileHandle.standardError.write(Data((TextEscaper.terminalSafe(IngestReport.line(summary, database: path)) + "\n").utf8))
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }
}
