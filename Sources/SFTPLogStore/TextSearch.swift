import Foundation
import GRDB
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// Ranked full-text search over a few thousand short documents, in an
/// in-memory SQLite FTS5 table built per search (a thousand rows index in
/// milliseconds): `catalog search` over the catalogue's wordings.
public enum TextSearch {
    /// One document: its columns' text, and each column's BM25 weight.
    public struct Document: Sendable {
        public var columns: [String]
        public init(_ columns: [String]) { self.columns = columns }
    }

    /// The indexes of the documents matching `query` (an FTS5 query), best
    /// first (equal scores in document order), with their BM25 scores (lower
    /// is better). Words are stemmed (porter).
    public static func rank(_ documents: [Document], columnWeights: [Double], query: String) throws -> [(index: Int, score: Double)] {
        let names = columnWeights.indices.map { "c\($0)" }
        let db = try DatabaseQueue()
        return try db.write { db in
            try db.execute(sql: "CREATE VIRTUAL TABLE idx USING fts5(key UNINDEXED, \(names.joined(separator: ", ")), tokenize = 'porter unicode61')")
            let stmt = try db.makeStatement(sql: "INSERT INTO idx VALUES (?\(String(repeating: ", ?", count: names.count)))")
            for (k, d) in documents.enumerated() {
                var args: [(any DatabaseValueConvertible)?] = [k]
                for i in names.indices { args.append(i < d.columns.count ? d.columns[i] : "") }
                try stmt.execute(arguments: StatementArguments(args))
            }
            let weights = (["0"] + columnWeights.map { String($0) }).joined(separator: ", ")
            return try Row.fetchAll(db, sql: "SELECT key, bm25(idx, \(weights)) AS score FROM idx WHERE idx MATCH ? ORDER BY score, key",
                                    arguments: [query]).map { (index: $0["key"], score: $0["score"]) }
        }
    }
}
