// A store that takes what an ingest staged in a SQLite file, source by source.
// PostgreSQL is one (SFTPLogPostgres); the pipeline sees only this protocol, so
// the engine builds without the network stack.

import Foundation
import SFTPLogRecords

/// What happened to one staged source.
public enum StagedLoadOutcome: Sendable, Equatable {
    /// Stored as a new source, with this many records.
    case added(sourceID: Int64, records: Int)
    /// A stored source grew: these records were added after its stored lines.
    case grown(sourceID: Int64, records: Int)
    /// The same content was already stored (by an earlier run or another ingester).
    case alreadyStored(sourceID: Int64)
}

/// The staging file's sources as a load sees them: every id there (a link to
/// a source not among them is left out), and the ids here of those loaded.
public struct StagedSources: Sendable {
    public var all: Set<Int64>
    public var here: [Int64: Int64]
    public init(all: Set<Int64> = [], here: [Int64: Int64] = [:]) { self.all = all; self.here = here }
}

public protocol StagedLoadTarget: AnyObject {
    /// Whether a whole source with this content hash is stored already.
    func hasComplete(contentHash: String) throws -> Bool
    /// Brings the catalogue table up to the staging file's (when its fingerprint differs).
    func loadCatalog(staged: LogStore) throws
    /// Moves one staged source in, in one transaction; `prefixHash` hashes an
    /// input's first bytes again, to tell a grown file from a different one.
    /// `again`: sessions of staged sources loaded before that changed since (a
    /// rotated log's sessions that went on into this file), by staged source,
    /// copied again in the same transaction.
    func load(staged: LogStore, stagedID: Int64, sources: StagedSources, again: [Int64: [String]],
              prefixHash: (String, Int64) -> String?) throws -> StagedLoadOutcome
    /// Starts storing the input `name` (`bytes` long, its whole content hashing
    /// to `contentHash`) as its records are read; nil when it must go through
    /// the staging file: stored already, a grown copy of a stored source, or
    /// being stored directly by another ingester.
    func beginDirect(name: String, bytes: Int64, contentHash: String, zone: TimeZone,
                     prefixHash: (String, Int64) -> String?) throws -> DirectSourceLoad?
}

/// A new source whose records go into the target as they are read, instead of
/// into the staging file and then out again (the staging of a 1M-line log took
/// as long as its COPY). Its own connection holds a transaction from its first
/// record: `commit` adds the source's row and sessions from the staging file
/// and commits, so the source is still stored whole or not at all.
public protocol DirectSourceLoad: AnyObject {
    /// On the parsing thread, in input order, with the record's session set.
    func add(_ r: SFTPLogRecords.Record, seq: Int)
    /// Ends the records and commits them with the staged source's other rows.
    func commit(staged: LogStore, stagedID: Int64, sources: StagedSources, again: [Int64: [String]]) throws -> StagedLoadOutcome
    /// Rolls back whatever was sent.
    func abandon()
}
