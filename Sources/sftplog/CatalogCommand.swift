import ArgumentParser
import Foundation
import SFTPLogKit

struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "The SFTPPlus event-ID catalogue: every documented wording of every ID, offline.",
        subcommands: [Show.self, Search.self, Import.self, Stats.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Every wording of an event ID: versions, groups, fields, meaning.")
        @Argument(help: "Event ID, e.g. 30011.") var id: String
        @Flag(name: .long, help: "JSON output.") var json = false

        func run() throws {
            try reporting {
                let catalog = try Catalogs.load()
                guard let e = catalog.events[id] else {
                    throw CLIError("event ID \(id) is not in the catalogue (\(catalog.events.count) IDs known); try `sftplog catalog search`")
                }
                if json {
                    print(CatalogRender.json(e, catalog: catalog).json)
                } else {
                    print(CatalogRender.text(e, catalog: catalog), terminator: "")
                }
            }
        }
    }

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "search", abstract: "Full-text search over wordings, meanings, fields and groups, best first.")
        @Argument(help: "Words to look for (all must match; stems and prefixes count).") var text: [String] = []
        @Option(name: .long, help: "Only events with a wording in this group (e.g. failure-high).") var group: String?
        @Option(name: .long, help: "Only events this SFTPPlus version can write (e.g. 3.30.0).") var version: String?
        @Option(name: .long, help: "At most this many results.") var limit: Int = 50
        @OptionGroup var output: OutputOptions<ListingFormats>

        func validate() throws {
            if text.isEmpty && group == nil && version == nil { throw ValidationError("give words to search for, --group or --version") }
        }

        func run() throws {
            try reporting {
                let catalog = try Catalogs.load()
                let hits = try CatalogSearch(catalog: catalog).search(text.isEmpty ? nil : text.joined(separator: " "),
                                                                       group: group, version: version, limit: limit)
                switch output.effective {
                case .json:
                    print(JSONValue.array(hits.map(CatalogRender.json)).json)
                    return
                case .csv:
                    print(CSVRows.render(header: ["id", "area", "meaning", "wording"],
                                         rows: hits.map { [$0.eventID, $0.area ?? "", $0.description ?? "", $0.template] }), terminator: "")
                    return
                default: break
                }
                if hits.isEmpty { print("no events match"); return }
                let rows = hits.map { h in
                    [h.eventID, h.area ?? "", TextEscaper.terminalSafe(h.description ?? h.template)]
                }
                print(TextTable.render([.init("id"), .init("area"), .init("meaning")], rows, style: .ruled, maxCell: Terminal.maxCell(100)), terminator: "")
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Add the wordings of an SFTPPlus events reference (.rst) to your local catalogue.",
            discussion: "Imported wordings are kept in $SFTPLOG_DATA/imported-events.json (default ~/.local/share/sftplog) and used by every later command.")
        @Argument(help: "An events reference page in reStructuredText (events.rst, events-ssh.rst, …).") var file: String
        @Option(name: .long, help: "The SFTPPlus version the page documents (e.g. 5.27.0).") var version: String?

        func run() throws {
            try reporting {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("\(file): cannot read") }
                let entries = EventsReferenceImporter.parse(String(decoding: data, as: UTF8.self))
                if entries.isEmpty { throw CLIError("\(file): no events found (expected ID headings underlined with ^ and :Message: fields)") }
                let catalog = try Catalogs.load()
                let added = try ImportedCatalog.save(adding: EventsReferenceImporter.templates(entries, version: version, catalog: catalog), to: catalog)
                FileHandle.standardError.write(Data("read \(entries.count) events from \(TextEscaper.terminalSafe(file)); \(added) new wordings added to \(ImportedCatalog.path)\n".utf8))
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats",
            abstract: "How the records of a database resolved against the catalogue, and what the OpenSSH message table holds.",
            discussion: """
                With FILE, DIR or -: the records of those inputs, read in one streaming pass (nothing stored). \
                Without them, --db, $SFTPLOG_DB or ./sftplog.db; without any of these, only the OpenSSH message table is described.
                """)
        @Argument(help: "Log files or directories to read (nothing is stored); - for standard input.") var inputs: [String] = []
        @OptionGroup var database: DatabaseOption
        @OptionGroup var input: InputOptions
        @Flag(name: [.short, .long], help: "No progress line and no unparsed lines on stderr.") var quiet = false
        @OptionGroup var output: OutputOptions<ListingFormats>

        func run() throws {
            var status: Int32 = 0
            try reporting {
                if !inputs.isEmpty {
                    var source = SourceOptions()
                    (source.inputs, source.input, source.quiet) = (inputs, input, quiet)
                    var tally = CatalogTally()
                    let pass = try source.stream(try input.files(inputs), evidence: false, onRecord: { tally.add($0) }) { _ in }
                    let table = try? OpenSSHMessageTable.shared()
                    render(tally.stats, table, table?.coverage(of: tally.opensshMessages))
                    status = pass.ingestStatus
                    return
                }
                let path = database.path
                // Nothing named and nothing at the default place: the table alone.
                let named = database.isNamed
                guard named || FileManager.default.fileExists(atPath: path) || PostgresLocation.isURL(path) else {
                    render(nil, try OpenSSHMessageTable.shared(), nil)
                    return
                }
                let (s, messages) = try database.answering(records: true) { path in
                    try LogStore.openForReading(path).read { (try $0.catalogStats(), try $0.opensshMessages()) }
                }
                // A catalogue without the OpenSSH table (an older install) still gives the SFTPPlus part.
                let table: OpenSSHMessageTable?
                do { table = try OpenSSHMessageTable.shared() } catch {
                    FileHandle.standardError.write(Data("sftplog: \(TextEscaper.terminalSafe("\(error)")); no OpenSSH section\n".utf8))
                    table = nil
                }
                render(s, table, table?.coverage(of: messages))
            }
            if status != 0 { throw ExitCode(status) }
        }

        private func render(_ s: CatalogTable.Stats?, _ table: OpenSSHMessageTable?, _ coverage: OpenSSHMessageTable.Coverage?) {
            let unmatchedWords = Array((coverage?.unmatchedByFirstWord ?? []).prefix(20))
            switch output.effective {
            case .csv:
                var rows: [[String]] = []
                if let s {
                    rows += [["resolved", "", String(s.resolved)], ["unresolved", "", String(s.unresolved)], ["unknown_id", "", String(s.unknown)]]
                        + s.unresolvedByID.map { ["unresolved", $0.0, String($0.1)] } + s.unknownIDs.map { ["unknown_id", $0.0, String($0.1)] }
                }
                // The OpenSSH rows follow, in the same columns (the level, kind or first word in the second).
                if let t = table?.summary {
                    rows += t.byLevel.map { ["openssh_level", $0.0.rawValue, String($0.1)] } + t.byKind.map { ["openssh_kind", $0.0, String($0.1)] }
                }
                if let coverage {
                    rows += [["openssh_matched", "", String(coverage.matched)], ["openssh_unmatched", "", String(coverage.unmatched)]]
                        + unmatchedWords.map { ["openssh_unmatched", $0.word, String($0.records)] }
                }
                print(CSVRows.render(header: ["status", "event_id", "records"], rows: rows), terminator: "")
            case .json:
                var fields: [(String, JSONValue)] = []
                if let s {
                    fields = [
                        ("resolved", .int(s.resolved)), ("unresolved", .int(s.unresolved)), ("unknown_id", .int(s.unknown)),
                        ("unresolved_by_id", .object(s.unresolvedByID.map { ($0.0, .int($0.1)) })),
                        ("unknown_ids", .object(s.unknownIDs.map { ($0.0, .int($0.1)) })),
                    ]
                }
                if let t = table?.summary {
                    var openssh: [(String, JSONValue)] = [
                        ("formats", .int(t.entries)), ("compiled", .int(t.compiled)), ("without_literal", .int(t.withoutLiteral)),
                        ("releases", .object([("first", t.releases.first.map(JSONValue.string) ?? .null),
                                              ("last", t.releases.last.map(JSONValue.string) ?? .null), ("count", .int(t.releases.count))])),
                        ("by_level", .object(t.byLevel.map { ($0.0.rawValue, .int($0.1)) })),
                        ("by_kind", .object(t.byKind.map { ($0.0, .int($0.1)) })),
                        ("read_by_data", .object([("fields", .int(t.readByFields)), ("extractor", .int(t.readByExtractor)),
                                                  ("extractors", .int(t.extractors))])),
                    ]
                    if let coverage {
                        openssh.append(("records", .object([
                            ("total", .int(coverage.records)), ("matched", .int(coverage.matched)), ("unmatched", .int(coverage.unmatched)),
                            ("unmatched_by_first_word", .object(unmatchedWords.map { ($0.word, .int($0.records)) })),
                        ])))
                    }
                    fields.append(("openssh", .object(openssh)))
                }
                print(JSONValue.object(fields).json)
            default:
                if let s { printSFTPPlus(s) }
                guard let t = table?.summary else { return }
                if s != nil { print() }
                let span = t.releases.isEmpty ? "" : " from \(t.releases.count) releases (\(t.releases.first!)–\(t.releases.last!))"
                print("OpenSSH message table: \(t.entries) formats\(span); \(t.compiled) compiled, \(t.withoutLiteral) without literal text (never matched)")
                print("by level: " + t.byLevel.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", "))
                print("by kind: " + t.byKind.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
                print("read by data (catalog/openssh-events.json): \(t.readByFields + t.readByExtractor) formats, "
                    + "\(t.readByFields) by their values' names, \(t.readByExtractor) by \(t.extractors) extractors")
                guard let coverage else { return }
                let share = coverage.records == 0 ? "" : String(format: " (%.1f%%)", Double(coverage.matched) * 100 / Double(coverage.records))
                print("\nOpenSSH records: \(coverage.records); matching a format \(coverage.matched)\(share), matching none \(coverage.unmatched)")
                if !unmatchedWords.isEmpty {
                    print("\nmatching none, by first word (top 20):")
                    print(TextTable.render([.init("first word"), .init("records", right: true)],
                                           unmatchedWords.map { [TextEscaper.terminalSafe($0.word), String($0.records)] },
                                           style: .ruled, maxCell: Terminal.maxCell(60)), terminator: "")
                }
            }
        }

        private func printSFTPPlus(_ s: CatalogTable.Stats) {
            let total = s.resolved + s.unresolved + s.unknown
            print("SFTPPlus events: \(total); resolved \(s.resolved), unresolved \(s.unresolved), unknown ID \(s.unknown)")
            if !s.unresolvedByID.isEmpty {
                print("\nunresolved (no documented wording fits):")
                print(TextTable.render([.init("id"), .init("records", right: true)], s.unresolvedByID.map { [TextEscaper.terminalSafe($0.0), String($0.1)] }, style: .ruled, maxCell: Terminal.maxCell(60)), terminator: "")
            }
            if !s.unknownIDs.isEmpty {
                print("\nunknown IDs (not in the catalogue):")
                print(TextTable.render([.init("id"), .init("records", right: true)], s.unknownIDs.map { [TextEscaper.terminalSafe($0.0), String($0.1)] }, style: .ruled, maxCell: Terminal.maxCell(60)), terminator: "")
            }
        }
    }
}
