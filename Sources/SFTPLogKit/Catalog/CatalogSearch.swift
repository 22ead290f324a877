import Foundation
import GRDB

/// Full-text search over the catalogue (templates, our descriptions, field and
/// group names) with SQLite FTS5 and BM25 ranking. The index is built in memory
/// per search: a thousand short rows index in milliseconds.
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
        }
        var hits: [Hit] = []
        let query = text.map(CatalogSearch.ftsQuery) ?? ""
        if query.isEmpty {
            for t in candidates { hits.append(hit(t, score: 0)) }
        } else {
            let db = try DatabaseQueue()
            try db.write { db in
                try db.execute(sql: """
                    CREATE VIRTUAL TABLE idx USING fts5(key UNINDEXED, template, description, fields, groups,
                      tokenize = 'porter unicode61')
                    """)
                let stmt = try db.makeStatement(sql: "INSERT INTO idx VALUES (?, ?, ?, ?, ?)")
                for (k, t) in candidates.enumerated() {
                    let desc = [t.description, catalog.events[t.eventID]?.description].compactMap { $0 }.joined(separator: " ")
                    try stmt.execute(arguments: [k, t.template.replacingOccurrences(of: "%(", with: " ").replacingOccurrences(of: ")s", with: " "),
                                                 desc, t.fields.joined(separator: " ").replacingOccurrences(of: "_", with: " "),
                                                 t.groups.joined(separator: " ") + " " + t.eventID])
                }
                // Weights: a word in the wording counts most, then our description.
                let rows = try Row.fetchAll(db, sql: "SELECT key, bm25(idx, 0, 4.0, 2.0, 1.0, 1.0) AS score FROM idx WHERE idx MATCH ? ORDER BY score",
                                            arguments: [query])
                for row in rows {
                    let k: Int = row["key"]
                    hits.append(hit(candidates[k], score: row["score"]))
                }
            }
        }
        // One hit per event: its best wording.
        var seen = Set<String>()
        var out: [Hit] = []
        let ordered = query.isEmpty ? hits.sorted { ($0.eventID.count, $0.eventID, $0.variant) < ($1.eventID.count, $1.eventID, $1.variant) } : hits
        for h in ordered where !seen.contains(h.eventID) {
            seen.insert(h.eventID)
            out.append(h)
        }
        return Array(out.prefix(limit))
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
