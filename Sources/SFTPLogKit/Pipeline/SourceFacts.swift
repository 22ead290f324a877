import Foundation
import GRDB

/// Facts derived from a source's records once its ingest completes.
public enum SourceFacts {
    /// What version inference needs: gathered from the records as they stream by,
    /// or read back from the store for a source resumed across runs.
    struct Streamed {
        var resolved = Set<Pair>()
        var banners: [String] = []
        struct Pair: Hashable { var eventID: String; var variant: Int }

        mutating func add(_ r: Record) {
            if let res = r.resolution, res.status == .resolved, let v = res.variant, let id = r.eventID {
                resolved.insert(Pair(eventID: id, variant: v))
            }
            if r.kind == .sftpplusBanner, let v = r.extra.first(where: { $0.0 == "sftpplus_version" })?.1, case .string(let s) = v {
                banners.append(s)
            }
        }

        /// The same facts read from a source's stored records.
        static func stored(_ db: Database, sourceID: Int64) throws -> Streamed {
            var facts = Streamed()
            for row in try Row.fetchAll(db, sql: """
                SELECT DISTINCT event_id, catalog_variant FROM records
                WHERE source_id = ? AND catalog_status = 'resolved' AND catalog_variant IS NOT NULL
                """, arguments: [sourceID]) {
                facts.resolved.insert(Pair(eventID: row["event_id"], variant: row["catalog_variant"]))
            }
            facts.banners = try String.fetchAll(db, sql: """
                SELECT json_extract(extra, '$.sftpplus_version') FROM records
                WHERE source_id = ? AND kind = 'sftpplus.banner' AND extra IS NOT NULL
                """, arguments: [sourceID]).compactMap { $0 }
            return facts
        }
    }

    /// Infers and stores `sources.sftpplus_versions`.
    static func updateVersions(_ db: Database, sourceID: Int64, catalog: EventCatalog, facts: Streamed) throws -> String? {
        let v = VersionInference.infer(resolved: facts.resolved.map { (eventID: $0.eventID, variant: $0.variant) },
                                       bannerVersions: facts.banners, catalog: catalog)
        try db.executeCached(sql: "UPDATE sources SET sftpplus_versions = ? WHERE id = ?", arguments: [v, sourceID])
        return v
    }
}
