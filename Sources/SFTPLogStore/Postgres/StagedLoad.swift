// A store that takes what an ingest staged in a SQLite file, source by source.
// PostgreSQL is one (SFTPLogPostgres); the pipeline sees only this protocol, so
// the engine builds without the network stack.

/// What happened to one staged source.
public enum StagedLoadOutcome: Sendable, Equatable {
    /// Stored as a new source, with this many records.
    case added(sourceID: Int64, records: Int)
    /// A stored source grew: these records were added after its stored lines.
    case grown(sourceID: Int64, records: Int)
    /// The same content was already stored (by an earlier run or another ingester).
    case alreadyStored(sourceID: Int64)
}

public protocol StagedLoadTarget: AnyObject {
    /// Whether a whole source with this content hash is stored already.
    func hasComplete(contentHash: String) throws -> Bool
    /// Moves each staged source in, one transaction each; `prefixHash` hashes an
    /// input's first bytes again, to tell a grown file from a different one.
    func load(staged: LogStore, prefixHash: (String, Int64) -> String?) throws -> [(stagedID: Int64, outcome: StagedLoadOutcome)]
}
