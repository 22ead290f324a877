import ArgumentParser
import Foundation
import SFTPLogKit

@main
struct SFTPLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sftplog",
        abstract: "Read SFTPPlus event logs and OpenSSH client debug output: records, sessions, weak-crypto audit, SQL.",
        discussion: """
            Exit status: 0 success; 1 an error (one line on stderr, starting with "sftplog:"); \
            2 from ingest and parse: done, but some lines were kept as unparsed records; \
            64 bad usage. `audit` documents its own codes (0 clean, 1 warnings, 2 failures, 3 error).
            """,
        version: "0.1.0",
        subcommands: [Ingest.self, Parse.self, Sessions.self, Report.self, Audit.self, Query.self, CatalogCommand.self, Migrate.self, Watch.self]
    )
}

/// Input options shared by every command that reads logs.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: "SFTPPlus entry_content format of the input, e.g. '{timestamp.cwa_14051} | {id} | {message}'.")
    var entryFormat: String?

    @Option(name: .long, help: "Year for RFC 3164 syslog timestamps (default: the file's modification year).")
    var year: Int?

    @Option(name: .long, help: "Time zone for timestamps written without an offset (default: the machine's).")
    var timezone: String?

    @Option(name: .long, help: "Only files whose name matches this shell pattern, inside directories (e.g. 'server.log*').")
    var glob: String?

    /// The files to read: directories walked recursively, everything in time
    /// order; in directories, none of `excluding` (the database being written).
    func files(_ inputs: [String], excluding: [String] = []) throws -> [String] {
        try InputExpansion.expand(inputs.isEmpty ? ["-"] : inputs, options: .init(glob: glob, excluding: excluding))
    }

    /// With `--follow`: what finds logs that appear later in the directories among `inputs`.
    func newFileScan(_ inputs: [String], following files: [String], excluding: [String] = []) -> NewFileScan? {
        let directories = inputs.filter(InputExpansion.isDirectory)
        return directories.isEmpty ? nil : NewFileScan(directories: directories, options: .init(glob: glob, excluding: excluding), following: files)
    }

    func readerOptions() throws -> ReaderOptions {
        var o = ReaderOptions()
        if let f = entryFormat {
            do { o.entryFormat = try EntryFormat(f) } catch { throw ValidationError("\(error)") }
        }
        o.year = year
        if let tz = timezone {
            guard let zone = TimeZone(identifier: tz) ?? TimeZone(abbreviation: tz) else {
                throw ValidationError("unknown time zone \(tz.debugDescription)")
            }
            o.timeZone = zone
        }
        return o
    }
}

/// The formats a command can write and the one it writes by default.
protocol OutputChoices: SendableMetatype {
    static var formats: [OutputFormat] { get }
    static var standard: OutputFormat { get }
}

enum ListingFormats: OutputChoices {
    static var formats: [OutputFormat] { [.table, .json, .csv] }
    static var standard: OutputFormat { .table }
}

/// `--json` / `--format F`, declared once for every command; `C` names the
/// formats the command accepts, and `--help` lists only those.
struct OutputOptions<C: OutputChoices>: ParsableArguments {
    @Flag(name: .long, help: "JSON output (same as --format json).") var json = false
    @Option(name: .long, help: ArgumentHelp("Output format: \(OutputOptions.spelled(C.formats)) (default: \(C.standard.rawValue)).", valueName: "format"),
            completion: .list(C.formats.map(\.rawValue)), transform: OutputOptions.parse)
    var format: OutputFormat = C.standard

    var effective: OutputFormat { json ? .json : format }

    private static func spelled(_ f: [OutputFormat]) -> String {
        let names = f.map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
    }

    private static func parse(_ s: String) throws -> OutputFormat {
        guard let f = OutputFormat(rawValue: s), C.formats.contains(f) else {
            throw ValidationError("use \(spelled(C.formats))")
        }
        return f
    }
}

/// RFC 4180 CSV with a header row; cells that a spreadsheet would run as a
/// formula (leading =, +, -, @, tab, CR) are neutralised by TextEscaper.csvCell.
enum CSVRows {
    static func render(header: [String], rows: [[String]]) -> String {
        header.map(TextEscaper.csvCell).joined(separator: ",") + "\r\n" + render(rows: rows)
    }

    /// The rows alone, each ended by CRLF.
    static func render(rows: [[String]]) -> String {
        var out = ""
        for r in rows { out += r.map(TextEscaper.csvCell).joined(separator: ",") + "\r\n" }
        return out
    }
}

/// One-line errors on stderr, `sftplog: ` first, with terminal-unsafe bytes escaped.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    init(_ m: String) { message = m }
    var description: String { message }
}

enum Terminal {
    /// Output width: $COLUMNS when set, else the terminal's; nil into a pipe or a
    /// file, where tables are never cut to fit.
    static var width: Int? {
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 20 { return c }
        var ws = winsize()
        if isatty(1) != 0, ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 20 { return Int(ws.ws_col) }
        return isatty(1) != 0 ? 80 : nil
    }

    /// The width tables fit into (unlimited when `width` is nil).
    static var fitWidth: Int { width ?? Int.max }

    /// The width prose is wrapped at (80 into a pipe or a file).
    static var wrapWidth: Int { width ?? 80 }

    /// The longest cell of a table for a reader's eyes (`n` on a terminal, unlimited otherwise).
    static func maxCell(_ n: Int) -> Int { width == nil ? Int.max : n }

    /// Colour only on a terminal and never with NO_COLOR set.
    static var colour: Bool {
        isatty(1) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// A status line on stderr (no `sftplog:` error prefix).
    static func note(_ message: String, command: String = "watch") {
        FileHandle.standardError.write(Data(("sftplog \(command): " + TextEscaper.terminalSafe(message) + "\n").utf8))
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data(("sftplog: " + TextEscaper.terminalSafe(message) + "\n").utf8))
    }
}

extension ParsableCommand {
    /// Runs `body`, turning library errors into one clear line and `errorStatus`.
    func reporting(errorStatus: Int32 = 1, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as ValidationError {
            throw e
        } catch let e as ExitCode {
            throw e
        } catch {
            Terminal.warn("\(error)")
            throw ExitCode(errorStatus)
        }
    }
}
