import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogOpenSSH
import SFTPLogSessions
import SFTPLogStore

public enum IngestReport {
    public static func line(_ s: IngestSummary, database: String) -> String {
        let skipped = s.sources.filter(\.alreadyStored).count
        var text = "ingested \(s.records) records (\(s.unparsed) unparsed) from \(s.sources.count) source\(s.sources.count == 1 ? "" : "s")"
        if skipped > 0 { text += ", \(skipped) already stored" }
        text += " into \(database) in " + String(format: "%.2f", s.seconds) + " s"
        let versions = s.sources.compactMap(\.sftpplusVersions)
        if !versions.isEmpty { text += "; SFTPPlus versions: " + versions.joined(separator: ", ") }
        return text
    }

    public static func json(_ s: IngestSummary, database: String) -> String {
        JSONValue.object([
            ("database", .string(database)),
            ("records", .int(s.records)),
            ("unparsed", .int(s.unparsed)),
            ("sources", .int(s.sources.count)),
            ("seconds", .double((s.seconds * 1000).rounded() / 1000)),
            ("inputs", .array(s.sources.map { r in
                .object([("name", .string(r.name)), ("source_id", r.sourceID.map { .int(Int($0)) } ?? .null),
                         ("format", r.format.map(JSONValue.string) ?? .null),
                         ("records", .int(r.records)), ("unparsed", .int(r.unparsed)),
                         ("already_stored", .bool(r.alreadyStored)), ("resumed", .bool(r.resumed)),
                         ("sftpplus_versions", r.sftpplusVersions.map(JSONValue.string) ?? .null)])
            })),
        ]).json
    }
}
