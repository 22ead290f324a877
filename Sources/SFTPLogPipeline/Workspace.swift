import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogOpenSSH
import SFTPLogSessions
import SFTPLogStore

/// Where report/audit read from: named log files ingested into a temporary
/// in-memory database first, or an existing database opened read-only.
public enum Workspace {
    /// Ingests `inputs` into a fresh in-memory database; failures are reported through `warn` and skipped.
    public static func ingest(_ inputs: [String], stream: RecordStream, sessions: SessionRebuild, warn: (String) -> Void) throws -> LogStore {
        let store = try LogStore.inMemory()
        let ingestor = Ingestor(store: store, stream: stream)
        ingestor.sessions = sessions
        withoutActuallyEscaping(warn) { warn in
            ingestor.ingest(inputs) { _, outcome in
                if case .failure(let error) = outcome { warn("\(error)") }
            }
        }
        try ingestor.finish()
        return store
    }
}
