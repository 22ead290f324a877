import ArgumentParser
import Foundation
import SFTPLogKit

extension OutputFormat: ExpressibleByArgument {}

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run read-only SQL against the database (tables: sources, records, records_fts; see docs/schema.md).")

    @Argument(help: "One SQL statement, e.g. \"SELECT account, count(*) FROM records GROUP BY account\".")
    var sql: String

    @OptionGroup var database: DatabaseOption

    @Option(name: .long, help: "Output format: table, csv, json or ndjson.")
    var format: OutputFormat = .table

    @Flag(name: .long, help: "JSON output (same as --format json).")
    var json = false

    func run() throws {
        try reporting {
            let result = try LogStore.openForReading(database.path).read { try $0.query(sql) }
            FileHandle.standardOutput.write(Data(QueryRunner.render(result, as: json ? .json : format, maxCell: Terminal.maxCell(60)).utf8))
        }
    }
}
