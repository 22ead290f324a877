import Foundation
import Synchronization
import GRDB

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
        /// New field-value and whole terms stop here (the ones handed out stay):
        /// see `TermDictionary.boundForFollowing`.
        fileprivate var valueTermsLeft = Int.max

        /// The id of a term that is always stored as one.
        package mutating func id(_ term: String) -> Int64 {
            if let id = ids[term] { return id }
            let id = next
            next += 1
            ids[term] = id; terms[id] = term
            return id
        }

        /// The id of a field value to store once, when it is worth it: seen
        /// before, a few bytes long, and written the same by SQLite's JSON
        /// functions and by `JSONBytes` (nothing to escape).
        package mutating func reference(_ value: String) -> Int64? {
            if let id = ids[value] { return id }
            let u = value.utf8
            guard valueTermsLeft > 0, u.count >= 4, TermDictionary.needsNoEscape(u), seenAgain(value) else { return nil }
            valueTermsLeft -= 1
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
            guard valueTermsLeft > 0, n >= 8, n <= 16384, wholeTerms < TermDictionary.wholeLimit, wholeBytes + n <= TermDictionary.wholeBytesLimit,
                  seenAgain(value) else { return nil }
            valueTermsLeft -= 1
            wholeTerms += 1
            wholeBytes += n
            return id(value)
        }
    }

    /// No control character, `"`, `\`, DEL, U+2028 or U+2029.
    static func needsNoEscape(_ u: String.UTF8View) -> Bool {
        var prev1: UInt8 = 0, prev2: UInt8 = 0
        for c in u {
            if c < 0x20 || c == 0x22 || c == 0x5C || c == 0x7F { return false }
            if prev2 == 0xE2, prev1 == 0x80, c == 0xA8 || c == 0xA9 { return false }
            prev2 = prev1; prev1 = c
        }
        return true
    }

    /// A follow (`ingest --follow`, `watch`) may run for months over ever-new
    /// values (peers, paths): held for the run, every one seen twice became a
    /// term, and memory grew with the log (1.5M terms, 220 MB, in 8 minutes of
    /// 10,000 lines/s). Past this many new terms a value is stored as it is.
    /// An ingest that ends is unbounded, as it was.
    static let followingValueTerms = 200_000

    package func boundForFollowing() {
        state.withLock { $0.valueTermsLeft = min($0.valueTermsLeft, TermDictionary.followingValueTerms) }
    }

    /// The text of each id (for the writer to store the terms a batch uses).
    package func terms(_ ids: Set<Int64>) -> [(Int64, String)] {
        state.withLock { s in ids.sorted().compactMap { id in s.terms[id].map { (id, $0) } } }
    }
}
