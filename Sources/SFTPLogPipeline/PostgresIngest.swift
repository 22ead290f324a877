import Foundation
import SFTPLogRecords
import SFTPLogStore

/// `ingest --db postgres://…`: the inputs are read by the same `Ingestor` as
/// for SQLite, into a staging SQLite file beside nothing else, and each source
/// is then moved into PostgreSQL in one transaction (`StagedLoadTarget.load`,
/// which SFTPLogPostgres's `PostgresStore` implements).
/// Files already stored in full are recognised by their hash and not read.
public enum PostgresIngest {
    public static func run(_ files: [String], into pg: some StagedLoadTarget, stream: RecordStream, sessions: SessionRebuild,
                           configure: (Ingestor) -> Void,
                           each: (String, Result<SourceIngestResult, Error>) -> Void) throws {
        var toRead: [String] = []
        for name in files {
            if let hash = wholeHash(name), try pg.hasComplete(contentHash: hash) {
                var r = SourceIngestResult(name: name)
                r.alreadyStored = true
                each(name, .success(r))
            } else {
                toRead.append(name)
            }
        }
        guard !toRead.isEmpty else { return }
        let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        removeAbandoned(in: dir, prefix: "sftplog-staging-")
        let path = "\(dir)/sftplog-staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).db"
        defer { for suffix in ["", "-wal", "-shm", "-lock"] { unlink(path + suffix) } }
        let staging = try LogStore.openForStaging(path)
        defer { staging.close() }
        let ingestor = Ingestor(store: staging, stream: stream)
        ingestor.sessions = sessions
        configure(ingestor)
        var staged: [(String, SourceIngestResult)] = []
        var failed: [(String, Result<SourceIngestResult, Error>)] = []
        ingestor.ingest(toRead) { name, outcome in
            switch outcome {
            case .success(let r): staged.append((name, r))
            case .failure: failed.append((name, outcome))
            }
        }
        for (name, outcome) in failed { each(name, outcome) }
        try ingestor.finish()
        let loaded = try pg.load(staged: staging, prefixHash: prefixHash)
        let byStagedID = Dictionary(loaded.map { ($0.stagedID, $0.outcome) }, uniquingKeysWith: { a, _ in a })
        for (name, r) in staged {
            var r = r
            let outcome = r.sourceID.flatMap { byStagedID[$0] }
            if r.alreadyStored {
                // The same content twice in this run: stored once, under the first name.
                switch outcome {
                case .added(let id, _)?, .grown(let id, _)?, .alreadyStored(let id)?: r.sourceID = id
                case nil: break
                }
                each(name, .success(r))
                continue
            }
            switch outcome {
            case .added(let id, let n)?: r.sourceID = id; r.records = n
            case .grown(let id, let n)?: r.sourceID = id; r.records = n; r.resumed = true
            case .alreadyStored(let id)?: r.sourceID = id; r.records = 0; r.unparsed = 0; r.alreadyStored = true
            case nil: break
            }
            each(name, .success(r))
        }
    }

    /// Staging files of runs that were killed (their process is gone): removed.
    public static func removeAbandoned(in dir: String, prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = name.dropFirst(prefix.count).split(separator: "-").first.flatMap({ Int32($0) }), pid > 0,
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            unlink("\(dir)/\(name)")
        }
    }

    /// The content hash `ingest` would give a regular file, nil for anything else.
    static func wholeHash(_ name: String) -> String? {
        guard name != "-", let src = try? InputSource.open(name), !src.isStream, let size = src.size else { return nil }
        defer { src.close() }
        guard let (h, _) = try? Ingestor.prefixHash(src, size), h.count == size else { return nil }
        return h.digest
    }

    /// The hash of an input's first `n` bytes, when it can be read again.
    static func prefixHash(_ name: String, _ n: Int64) -> String? {
        guard name != "-", let src = try? InputSource.open(name), !src.isStream else { return nil }
        defer { src.close() }
        guard let (h, _) = try? Ingestor.prefixHash(src, n), h.count == n else { return nil }
        return h.digest
    }
}
