import ArgumentParser
import Foundation
import SFTPLogKit
import SFTPLogPostgres

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring a database written by an older sftplog up to date, in place (the next ingest does it too).")

    @OptionGroup var database: DatabaseOption

    func run() throws {
        try reporting {
            let location = try database.location()
            let applied: [String]
            switch location {
            case .sqlite(let path): applied = try LogStore.migrate(path)
            case .postgres(let server): applied = try PostgresStore.migrate(server)
            }
            let what = applied.isEmpty ? "already up to date" : "applied " + applied.joined(separator: ", ")
            FileHandle.standardError.write(Data("\(TextEscaper.terminalSafe(location.displayName)): \(what)\n".utf8))
        }
    }
}
