import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogOpenSSH
import SFTPLogSessions
import SFTPLogStore

/// Facts derived from a source's records once its ingest completes.
public enum SourceFacts {
    /// What version inference needs: gathered from the records as they stream by,
    /// or read back from the store for a source resumed across runs.
    struct Streamed {
        var resolved = Set<Pair>()
        var banners: [String] = []
        struct Pair: Hashable { var eventID: String; var variant: Int }
        /// The wordings already in `resolved`: one per (ID, variant), and hashing
        /// its identity instead of the ID's text was most of this per record.
        private var wordings = Set<ObjectIdentifier>()

        mutating func add(_ r: Record) {
            if let res = r.resolution, res.status == .resolved, let v = res.variant, let id = r.eventID {
                if let w = res.wording {
                    if wordings.insert(ObjectIdentifier(w)).inserted { resolved.insert(Pair(eventID: id, variant: v)) }
                } else {
                    resolved.insert(Pair(eventID: id, variant: v))
                }
            }
            if r.kind == .sftpplusBanner, let v = r.extra.first(where: { $0.0 == "sftpplus_version" })?.1, case .string(let s) = v {
                banners.append(s)
            }
        }

        /// The same facts read from a source's stored records.
        static func stored(_ store: StoreReader, sourceID: Int64) throws -> Streamed {
            let (resolved, banners) = try store.versionFacts(sourceID: sourceID)
            var facts = Streamed()
            for r in resolved { facts.resolved.insert(Pair(eventID: r.eventID, variant: r.variant)) }
            facts.banners = banners
            return facts
        }
    }

    /// Infers and stores `sources.sftpplus_versions`.
    static func updateVersions(_ store: StoreWriter, sourceID: Int64, catalog: EventCatalog, facts: Streamed) throws -> String? {
        let v = VersionInference.infer(resolved: facts.resolved.map { (eventID: $0.eventID, variant: $0.variant) },
                                       bannerVersions: facts.banners, catalog: catalog)
        try store.setSFTPPlusVersions(v, sourceID: sourceID)
        return v
    }
}
