import ArgumentParser
import Foundation
import SFTPLogKit

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring a database written by an older sftplog up to date, in place (the next ingest does it too).")

    @OptionGroup var database: DatabaseOption

    func run() throws {
        try reporting {
            let applied = try LogStore.migrate(database.path)
            let what = applied.isEmpty ? "already up to date" : "applied " + applied.joined(separator: ", ")
            FileHandle.standardError.write(Data("\(TextEscaper.terminalSafe(database.path)): \(what)\n".utf8))
        }
    }
}
