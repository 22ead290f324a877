import Foundation
import GRDB

/// Where report/audit read from: named log files ingested into a temporary
/// in-memory database first, or an existing database opened read-only.
public enum Workspace {
    public static func inMemory() throws -> DatabaseQueue {
        let q = try DatabaseQueue()
        try Schema.migrator.migrate(q)
        try q.write { try $0.execute(sql: "PRAGMA application_id = \(Schema.applicationID)") }
        return q
    }

    /// Ingests `inputs` into a fresh in-memory database; failures are reported through `warn` and skipped.
    public static func ingest(_ inputs: [String], stream: RecordStream, sessions: SessionRebuild, warn: (String) -> Void) throws -> DatabaseQueue {
        let q = try inMemory()
        let ingestor = Ingestor(db: q, stream: stream)
        ingestor.sessions = sessions
        withoutActuallyEscaping(warn) { warn in
            ingestor.ingest(inputs) { _, outcome in
                if case .failure(let error) = outcome { warn("\(error)") }
            }
        }
        try ingestor.finish()
        return q
    }
}
