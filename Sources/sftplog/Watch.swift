import ArgumentParser
import Foundation
import SFTPLogKit
import SFTPLogWatch

struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow logs and receive syslog; raise alerts as the lines arrive (and store them, as ingest does).",
        discussion: """
            Rules are data: catalog/alert-rules.json, changed or extended by --rules files. \
            Received syslog (RFC 3164 or 5424; UDP, or TCP with octet-counted or newline framing) is \
            spooled to a file beside the database (--spool) and read like a log. \
            Exit status: 0 after SIGINT or SIGTERM, once everything received is read, stored and its \
            alerts delivered; 1 an error.
            """)

    @Argument(help: "Log files or directories to follow (across rotation; logs new in a directory are followed too), or - for standard input (read to its end).")
    var inputs: [String] = []

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: ArgumentHelp("Receive syslog on udp://ADDRESS:PORT or tcp://ADDRESS:PORT; repeatable.",
                                            discussion: "The address defaults to 127.0.0.1; 0.0.0.0 listens on every interface.",
                                            valueName: "url"))
    var syslog: [String] = []

    @OptionGroup var database: DatabaseOption

    @Flag(name: .long, help: "Store nothing; only raise alerts.")
    var noStore = false

    @Option(name: .long, help: "Alert rules file over the bundled ones (JSON or YAML, same shape as catalog/alert-rules.json); repeatable.")
    var rules: [String] = []

    @Option(name: .long, help: "Policy override file for the weak-crypto rules (as audit --policy); repeatable.")
    var policy: [String] = []

    @Option(name: .long, help: ArgumentHelp("Where alerts go: stdout, ndjson, syslog://HOST:PORT (RFC 5424 over UDP), http://… or https://… (POST of the JSON); repeatable.",
                                            valueName: "target"))
    var alert: [String] = []

    @Option(name: .long, help: "Folder for the received syslog (default: DATABASE.syslog beside the database; with --no-store a temporary one).")
    var spool: String?

    @Option(name: .long, help: "Longest syslog message kept, in bytes; longer ones are cut, with a note.")
    var maxMessage = 64 * 1024

    @Option(name: .long, help: "PEM certificates to trust for https webhooks, besides the system's (an internal CA).")
    var alertCa: String?

    @Option(name: .long, help: "Tries per alert for a webhook or syslog target before it is given up (and said on stderr).")
    var alertRetries = 5

    /// First pause between tries, doubling each time (tests shorten it).
    @Option(name: .long, help: .hidden)
    var alertBackoff = 0.5

    @Flag(name: .long, help: "Print the effective alert rules as JSON and exit.")
    var printRules = false

    @Flag(name: [.short, .long], help: "No listening line and no summary on stderr.")
    var quiet = false

    func run() throws {
        try reporting {
            let effective = try AlertRules.bundled(overrides: rules)
            if printRules { print(effective.json.json); return }
            let endpoints = try syslog.map(SyslogEndpoint.init(parsing:))
            let targets = try (alert.isEmpty ? ["stdout"] : alert).map(AlertTarget.init(parsing:))
            guard (16...16 << 20).contains(maxMessage) else { throw ValidationError("--max-message is from 16 bytes to 16 MiB") }
            var plan = WatchPlan()
            if !noStore {
                guard case .sqlite = try database.location() else {
                    throw CLIError("watch stores into a SQLite database; give --no-store to watch a PostgreSQL fleet's logs without storing")
                }
                plan.database = database.path
            }
            // Its own files are not logs, when they sit in a directory it watches.
            var own = plan.database.map(LogStore.ownFiles) ?? []
            if let spool = spool ?? plan.database.map({ $0 + ".syslog" }) { own.append(spool) }
            plan.files = inputs.isEmpty && endpoints.isEmpty ? ["-"] : (inputs.isEmpty ? [] : try input.files(inputs, excluding: own))
            plan.directories = inputs.filter(InputExpansion.isDirectory)
            plan.expansion = .init(glob: input.glob, excluding: own)
            plan.syslog = endpoints
            plan.reader = try input.readerOptions()
            plan.spoolDirectory = spool
            plan.maxMessage = maxMessage
            let zone = plan.reader.timeZone
            var history = AlertHistory()
            if let db = plan.database, FileManager.default.fileExists(atPath: db) {
                try LogStore.openForReading(db).read { r in
                    try r.forEachSessionHistory { h in
                        history.learn(user: h.authenticated && h.side == "server" ? h.user : nil, clientVersion: h.clientVersion,
                                      loginEpoch: h.startEpoch, zone: zone,
                                      host: h.host.map { AlertHistory.server(host: $0, port: h.hostPort) }, hostKeyType: h.hostKeyType,
                                      fingerprint: h.hostKeyFingerprint)
                    }
                }
            }
            let algorithmPolicy = try AlgorithmPolicy.bundled(overrides: policy)
            let memo = SessionJudge.Memo(SessionJudge(policy: algorithmPolicy))
            let engine = AlertEngine(rules: effective, sessionRules: try SessionRules.bundled(), zone: zone, history: history) { memo.judge(&$0) }
            let delivery = try AlertDelivery(targets: targets, retries: max(1, alertRetries), firstBackoff: max(0, alertBackoff),
                                             trustedCA: alertCa) { Terminal.warn($0) }
            let catalog = try Catalogs.load()
            let watcher = try Watcher(plan: plan, catalog: catalog, sessions: { try Catalogs.sessionRebuild(zone: zone, policy: algorithmPolicy) },
                                      engine: engine, delivery: delivery, warn: { Terminal.warn($0) },
                                      note: { m in if !quiet { Terminal.note(m) } })
            if !quiet {
                var what = inputs.isEmpty && endpoints.isEmpty ? ["-"] : inputs
                what += watcher.listeners.map { "\($0.endpoint.transport.rawValue)://\($0.endpoint.address):\($0.boundPort)" }
                let store = plan.database.map { "storing into \($0)" } ?? "storing nothing"
                Terminal.note("watching \(what.joined(separator: ", ")); \(store); \(effective.enabled.count) rules; alerts to "
                              + targets.map(\.description).joined(separator: ", "))
            }
            let s = watcher.run()
            if !quiet {
                var line = "watched \(s.records) records (\(s.unparsed) unparsed)"
                if !endpoints.isEmpty { line += ", \(s.received) syslog messages received" }
                line += ", \(s.alerts) alert\(s.alerts == 1 ? "" : "s")"
                Terminal.note(line)
            }
            if s.failures > 0 { throw ExitCode(1) }
        }
    }
}
