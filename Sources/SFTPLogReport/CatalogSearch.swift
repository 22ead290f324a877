import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// Full-text search over the catalogue (templates, our descriptions, field and
/// group names), ranked by BM25 (`TextSearch`).
public struct CatalogSearch {
    public struct Hit: Sendable {
        public var eventID: String
        public var area: String?
        public var description: String?
        public var variant: Int
        public var template: String
        public var groups: [String]
        public var versions: String?
        public var score: Double
    }

    let catalog: EventCatalog

    public init(catalog: EventCatalog) { self.catalog = catalog }

    /// Events matching `text` (all words, stems and prefixes), optionally only those
    /// with a wording in `group` and writable by SFTPPlus `version`. One hit per
    /// event (its best wording), best first; without text, ordered by ID.
    public func search(_ text: String?, group: String? = nil, version: String? = nil, limit: Int = 50) throws -> [Hit] {
        let wanted = try version.map { v -> SFTPPlusVersion in
            guard let parsed = SFTPPlusVersion(v) else { throw CatalogError.malformed(v, "not a version number like 3.30.0") }
            return parsed
        }
        let candidates: [EventTemplate] = catalog.events.values.flatMap(\.variants).filter { t in
            if let g = group, !t.groups.contains(g.lowercased()) { return false }
            if let v = wanted {
                guard let range = VersionInference.writableRange(t, in: catalog), range.contains(v) else { return false }
            }
            return true
        }.sorted { CatalogSearch.byID(($0.eventID, $0.variant), ($1.eventID, $1.variant)) }
        var hits: [Hit] = []
        let query = text.map(CatalogSearch.ftsQuery) ?? ""
        if query.isEmpty {
            for t in candidates { hits.append(hit(t, score: 0)) }
        } else {
            let documents = candidates.map { t -> TextSearch.Document in
                let desc = [t.description, catalog.events[t.eventID]?.description].compactMap { $0 }.joined(separator: " ")
                return TextSearch.Document([t.template.replacingOccurrences(of: "%(", with: " ").replacingOccurrences(of: ")s", with: " "),
                                            desc, t.fields.joined(separator: " ").replacingOccurrences(of: "_", with: " "),
                                            t.groups.joined(separator: " ") + " " + t.eventID])
            }
            // Weights: a word in the wording counts most, then our description.
            for (k, score) in try TextSearch.rank(documents, columnWeights: [4.0, 2.0, 1.0, 1.0], query: query) {
                hits.append(hit(candidates[k], score: score))
            }
        }
        // One hit per event: its best wording.
        var seen = Set<String>()
        var out: [Hit] = []
        let ordered = query.isEmpty ? hits.sorted { CatalogSearch.byID(($0.eventID, $0.variant), ($1.eventID, $1.variant)) } : hits
        for h in ordered where !seen.contains(h.eventID) {
            seen.insert(h.eventID)
            out.append(h)
        }
        return Array(out.prefix(limit))
    }

    /// Event IDs in numeric order (shorter first), then wordings: the order of equal scores too.
    static func byID(_ a: (eventID: String, variant: Int), _ b: (eventID: String, variant: Int)) -> Bool {
        (a.eventID.count, a.eventID, a.variant) < (b.eventID.count, b.eventID, b.variant)
    }

    func hit(_ t: EventTemplate, score: Double) -> Hit {
        Hit(eventID: t.eventID, area: catalog.events[t.eventID]?.area,
            description: t.description ?? catalog.events[t.eventID]?.description, variant: t.variant,
            template: t.template, groups: t.groups, versions: t.versions, score: score)
    }

    /// User text to an FTS5 query: words ANDed, each as a prefix; quotes and
    /// operators in the text are not FTS syntax (so any input is safe).
    static func ftsQuery(_ text: String) -> String {
        let words = text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) })
        return words.map { "\"\($0)\"*" }.joined(separator: " ")
    }
}
