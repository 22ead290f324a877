import Foundation
import Synchronization
import GRDB
import SFTPLogRecords

/// The ids of `record_terms` for one writing run: kinds, layouts, components,
/// and the field values worth storing once (a value seen a second time).
/// Handed out on the parsing threads, so a record is made compact before it
/// reaches the writer; the writer stores the terms a batch uses in the same
/// transaction as its rows (`StoreWriter.writeRecords`), so a rolled-back
/// batch never leaves a row pointing at a term that is not there.
package final class TermDictionary: Sendable {
    private let state: Mutex<Terms>
    static let seenLimit = 100_000

    /// The terms a database holds.
    package init(_ db: Database) throws {
        var s = Terms()
        for row in try Row.fetchAll(db, sql: "SELECT id, term FROM record_terms") {
            let id: Int64 = row[0], term: String = row[1]
            s.ids[term] = id; s.terms[id] = term
            s.next = max(s.next, id + 1)
        }
        state = Mutex(s)
    }

    private init(_ s: consuming Terms) { state = Mutex(s) }

    /// For a run that follows its inputs (`ingest --follow`, `watch`): it may
    /// last for months over ever-new values (peers, paths, components of
    /// spoofed syslog), and an ingest keeps every term it hands out, so here
    /// only some stay in memory. Nothing is loaded at the start; a term not in
    /// memory is looked up in `record_terms` on a read connection of its own
    /// (the writer's is busy with its transactions), and only terms the writer
    /// has committed (`committed(_:)`) are let go: a term handed out but not yet
    /// stored is always found in memory, so one term never gets two ids.
    package static func following(_ store: LogStore, keeping limit: Int? = nil) throws -> TermDictionary {
        let queue = try DatabaseQueue(path: store.path, configuration: LogStore.configuration(readOnly: true))
        var s = Terms()
        // $SFTPLOG_FOLLOW_TERMS: a smaller bound, to test and measure letting go.
        s.keeping = limit ?? ProcessInfo.processInfo.environment["SFTPLOG_FOLLOW_TERMS"].flatMap(Int.init).map { max(16, $0) }
            ?? TermDictionary.followingTerms
        s.next = try queue.read { try Int64.fetchOne($0, sql: "SELECT coalesce(max(id), 0) + 1 FROM record_terms") } ?? 1
        s.stored = StoredLookup(queue)
        return TermDictionary(s)
    }

    /// At most this many terms, and bytes of them, are kept in memory by a
    /// dictionary made by `following` (about 15 MiB); past them, the committed ones are let go.
    static let followingTerms = 50_000
    static let followingBytes = 8 << 20

    /// The ids the writer has committed with their terms: these may be let go.
    package func committed(_ ids: [Int64]) {
        state.withLock { s in
            guard s.stored != nil else { return }
            for id in ids { s.pending.remove(id) }
        }
    }

    /// How many terms are in memory (for tests).
    package var count: Int { state.withLock { $0.ids.count } }

    /// At most this many terms, and bytes, come from `whole` (a message, an
    /// `extra` object, a session's texts): they are held in memory for the run,
    /// and a log of ever-new texts must not grow it without bound.
    static let wholeLimit = 200_000
    static let wholeBytesLimit = 32 << 20

    /// Looks up and adds terms for one record, under one lock.
    package func withTerms<T>(_ body: (inout Terms) -> T) -> T {
        state.withLock { body(&$0) }
    }

    package struct Terms {
        fileprivate var ids: [String: Int64] = [:]
        fileprivate var terms: [Int64: String] = [:]
        fileprivate var next: Int64 = 1
        /// Values seen once (a value becomes a term when seen again), bounded.
        fileprivate var seen: Set<String> = []
        fileprivate var wholeTerms = 0
        fileprivate var wholeBytes = 0
        /// Set for a run that follows its inputs (`TermDictionary.following`):
        /// `record_terms`, for the terms not in memory.
        fileprivate var stored: StoredLookup?
        /// With `stored`: ids handed out that the writer has not committed yet (kept in memory).
        fileprivate var pending: Set<Int64> = []
        fileprivate var bytes = 0
        fileprivate var keeping = TermDictionary.followingTerms
        /// When to let go next: twice what was kept at the last time, so that
        /// many pending terms cannot make every new one scan them all.
        fileprivate var letGoAt = (terms: 0, bytes: 0)

        /// The last term of each of a record's columns that repeat from record
        /// to record (kind, layout, component) and its id: comparing with it is
        /// cheaper than hashing the term. Ids never change, so a kept one stays right.
        fileprivate var recent: (Recent, Recent, Recent) = (Recent(), Recent(), Recent())
        struct Recent {
            var term = ""
            var id: Int64 = 0
        }
        package enum Column { case kind, layout, component }

        /// `id(term)`, for a column whose term is most often the last one's.
        package mutating func id(_ term: String, column: Column) -> Int64 {
            let last: Recent
            switch column {
            case .kind: last = recent.0
            case .layout: last = recent.1
            case .component: last = recent.2
            }
            if last.id != 0, last.term == term { return last.id }
            let id = id(term)
            switch column {
            case .kind: recent.0 = Recent(term: term, id: id)
            case .layout: recent.1 = Recent(term: term, id: id)
            case .component: recent.2 = Recent(term: term, id: id)
            }
            return id
        }

        /// The id of a term that is always stored as one.
        package mutating func id(_ term: String) -> Int64 {
            if let id = ids[term] { return id }
            if let stored {
                if let id = stored.id(of: term) {
                    keep(term, id)
                    return id
                }
                pending.insert(next)
            }
            let id = next
            next += 1
            keep(term, id)
            return id
        }

        private mutating func keep(_ term: String, _ id: Int64) {
            ids[term] = id; terms[id] = term
            guard stored != nil else { return }
            bytes += term.utf8.count
            if ids.count > max(keeping, letGoAt.terms) || bytes > max(TermDictionary.followingBytes, letGoAt.bytes) { letGo() }
        }

        /// Forgets every committed term (they are looked up again when met).
        private mutating func letGo() {
            ids = ids.filter { pending.contains($0.value) }
            terms = terms.filter { pending.contains($0.key) }
            bytes = terms.values.reduce(0) { $0 + $1.utf8.count }
            letGoAt = (2 * ids.count, 2 * bytes)
            // The caps on whole terms bound memory for a run that keeps them all.
            wholeTerms = 0
            wholeBytes = 0
        }

        /// The id of a field value to store once, when it is worth it: seen
        /// before, a few bytes long, and written the same by SQLite's JSON
        /// functions and by `JSONBytes` (nothing to escape).
        package mutating func reference(_ value: String) -> Int64? {
            if let id = ids[value] { return id }
            let u = value.utf8
            guard u.count >= 4, TermDictionary.needsNoEscape(u), seenAgain(value) else { return nil }
            return id(value)
        }

        /// Whether `value` was seen before (then forgotten: it becomes a term); else remembered.
        private mutating func seenAgain(_ value: String) -> Bool {
            if seen.insert(value).inserted {
                if seen.count > TermDictionary.seenLimit { seen = [value] }
                return false
            }
            seen.remove(value)
            return true
        }

        /// The id of a whole column value (a message, an `extra` object, an
        /// OpenSSH session's proposals) to store once: seen before, and not too
        /// long to keep in memory. The view gives the term's text as it is, so
        /// any text will do.
        package mutating func whole(_ value: String) -> Int64? {
            if let id = ids[value] { return id }
            let n = value.utf8.count
            guard n >= 8, n <= 16384, wholeTerms < TermDictionary.wholeLimit, wholeBytes + n <= TermDictionary.wholeBytesLimit,
                  seenAgain(value) else { return nil }
            wholeTerms += 1
            wholeBytes += n
            return id(value)
        }
    }

    /// No control character, `"`, `\`, DEL, U+2028 or U+2029: `JSONBytes` writes the text as it is.
    static func needsNoEscape(_ u: String.UTF8View) -> Bool {
        var s = String(u)
        return s.withUTF8(JSONBytes.needsNoEscape)
    }

    /// The text of each id (for the writer to store the terms a batch uses).
    /// An id a following dictionary let go is committed already, and left out.
    package func terms(_ ids: Set<Int64>) -> [(Int64, String)] {
        state.withLock { s in ids.sorted().compactMap { id in s.terms[id].map { (id, $0) } } }
    }
}

/// `record_terms` by term, on a read-only connection of its own: WAL lets it
/// read while the writer's transaction is open, and it sees what was committed.
final class StoredLookup: Sendable {
    private let queue: DatabaseQueue
    init(_ queue: DatabaseQueue) { self.queue = queue }

    /// nil when the term is not stored (or cannot be read: the term is then
    /// given a new id, and a batch storing it fails on `UNIQUE(term)` rather
    /// than any row reading a wrong term).
    func id(of term: String) -> Int64? {
        try? queue.read { try Int64.fetchOne($0.cachedStatement(sql: "SELECT id FROM record_terms WHERE term = ?"), arguments: [term]) }
    }
}
