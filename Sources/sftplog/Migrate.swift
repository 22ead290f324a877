import ArgumentParser
import Foundation
import SFTPLogKit
import SFTPLogPostgres

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring a database written by an older sftplog up to date, in place (the next ingest does it too).")

    @OptionGroup var database: DatabaseOption
    @Option(name: .long, help: "With --rebuild-sessions: the time zone the logs were ingested with, for stamps without an offset (default: the machine's).")
    var timezone: String?
    @Flag(name: .long, help: "Then rebuild every source's sessions from its stored records, with today's rules and policy (SQLite): sessions stored before v15 get their evidence links.")
    var rebuildSessions = false

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
            guard rebuildSessions else { return }
            guard case .sqlite(let path) = location else {
                throw ValidationError("--rebuild-sessions works on a SQLite store; a PostgreSQL store gets its sessions again from an ingest into a new database")
            }
            var zone = TimeZone.current
            if let tz = timezone {
                guard let z = TimeZone(identifier: tz) ?? TimeZone(abbreviation: tz) else { throw ValidationError("unknown time zone \(tz.debugDescription)") }
                zone = z
            }
            let rebuild = try Catalogs.sessionRebuild(zone: zone)
            let store = try LogStore.openForWriting(path)
            var sessions = 0
            for id in try store.read({ try $0.sourceIDs() }) {
                sessions += try store.write { try rebuild.rebuild($0, sourceID: id) }
            }
            FileHandle.standardError.write(Data("\(TextEscaper.terminalSafe(location.displayName)): rebuilt \(sessions) sessions\n".utf8))
        }
    }
}
