import ArgumentParser
import Foundation
import SFTPLogKit
import SFTPLogPostgres

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run read-only SQL against the database (tables: sources, records, records_fts; see docs/schema.md).")

    @Argument(help: "One SQL statement, e.g. \"SELECT account, count(*) FROM records GROUP BY account\".")
    var sql: String

    @OptionGroup var database: DatabaseOption

    @OptionGroup var output: OutputOptions<QueryFormats>

    func run() throws {
        try reporting {
            let result: QueryResult
            switch try database.location() {
            case .sqlite(let path):
                result = try LogStore.openForReading(path).read { try $0.query(sql) }
            case .postgres(let server):
                let store = try PostgresStore.openForReading(server)
                defer { store.close() }
                result = try store.query(sql)
            }
            FileHandle.standardOutput.write(Data(try QueryRunner.render(result, as: output.effective, maxCell: Terminal.maxCell(60)).utf8))
        }
    }
}

enum QueryFormats: OutputChoices {
    static var formats: [OutputFormat] { [.table, .csv, .json, .ndjson] }
    static var standard: OutputFormat { .table }
}
