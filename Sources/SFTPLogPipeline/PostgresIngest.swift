import Foundation
import SFTPLogRecords
import SFTPLogStore

/// `ingest --db postgres://…`: the inputs are read by the same `Ingestor` as
/// for SQLite, into a staging SQLite file beside nothing else, and each source
/// is moved into PostgreSQL in one transaction (`StagedLoadTarget.load`,
/// which SFTPLogPostgres's `PostgresStore` implements), in input order; a new
/// SFTPPlus log's records go in as they are read (`DirectSourceLoad`).
/// Files already stored in full are recognised by their hash and not read.
public enum PostgresIngest {
    public static func run(_ files: [String], into pg: some StagedLoadTarget, stream: RecordStream, sessions: SessionRebuild,
                           configure: (Ingestor) -> Void,
                           each: (String, Result<SourceIngestResult, Error>) -> Void) throws {
        var toRead: [String] = []
        var wholeHashes: [String: (hash: String, bytes: Int64)] = [:]
        for name in files {
            let whole = wholeHash(name)
            if let whole, try pg.hasComplete(contentHash: whole.hash) {
                var r = SourceIngestResult(name: name)
                r.alreadyStored = true
                each(name, .success(r))
            } else {
                toRead.append(name)
                if let whole { wholeHashes[name] = whole }
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

        let (early, sftpplus) = earlyCandidates(toRead.filter { wholeHashes[$0] != nil })
        var run = LoadOrder(early: early, direct: sftpplus)
        if ProcessInfo.processInfo.environment["SFTPLOG_PG_STAGE_ALL"] != nil { run.direct = [] }
        defer { for load in run.open.values { load.abandon() } }
        let zone = stream.options.timeZone
        // A direct load takes its source's id at its first record: the sources
        // before are loaded first, so that the ids follow the input order. (Only
        // then: the parsing and the staging file's writing take turns meanwhile.)
        ingestor.settlesBefore = { name in !run.deferred && run.failure == nil && run.direct.contains(name) }
        /// Loads (or, for a direct load, commits) one staged source, in input order.
        func load(_ stagedID: Int64, direct: DirectSourceLoad?) throws {
            if !run.catalogLoaded { try pg.loadCatalog(staged: staging); run.catalogLoaded = true }
            let (added, written) = try staging.read { r in
                (try r.sourceIDs(after: run.sources.all.max() ?? 0), try r.sessionsWritten(after: run.sessionsMark))
            }
            run.sources.all.formUnion(added)
            // The sessions of a rotated log's earlier files that went on into this one.
            let again = written.bySource.filter { $0.key != stagedID && run.sources.here[$0.key] != nil }
            if !again.isEmpty {
                Ingestor.timing("staged source \(stagedID) loaded with \(again.values.map(\.count).reduce(0, +)) sessions of \(again.keys.sorted()) again")
            }
            let outcome = try direct?.commit(staged: staging, stagedID: stagedID, sources: run.sources, again: again)
                ?? pg.load(staged: staging, stagedID: stagedID, sources: run.sources, again: again, prefixHash: prefixHash)
            switch outcome {
            case .added(let id, _), .grown(let id, _), .alreadyStored(let id): run.sources.here[stagedID] = id
            }
            run.outcomes[stagedID] = outcome
            run.sessionsMark = written.mark
        }
        /// Loads the staged sources not loaded yet, in order.
        func loadStaged() throws {
            for stagedID in try staging.read({ try $0.sourceIDs() }) where run.outcomes[stagedID] == nil {
                try load(stagedID, direct: nil)
            }
        }
        ingestor.directLoad = { name in
            guard !run.deferred, run.failure == nil, run.direct.contains(name), let whole = wholeHashes[name] else { return nil }
            do {
                // The sources before it first (all settled: `settlesBefore`), for the ids' order.
                try loadStaged()
                guard let load = try pg.beginDirect(name: name, bytes: whole.bytes, contentHash: whole.hash, zone: zone,
                                                    prefixHash: prefixHash) else { return nil }
                run.open[name] = load
                return load
            } catch {
                run.failure = run.failure ?? error
                return nil
            }
        }
        var staged: [(String, SourceIngestResult)] = []
        var failed: [(String, Result<SourceIngestResult, Error>)] = []
        ingestor.ingest(toRead) { name, outcome in
            // One that may be resumed or repeated in the staging file by a later
            // input waits for the end, and every later one with it.
            if !run.early.contains(name) { run.deferred = true }
            if let direct = run.open.removeValue(forKey: name) {
                // Its records are in the database (uncommitted), its other rows
                // staged; what was read of a failed input is stored too.
                let stagedID = (try? outcome.get().sourceID) ?? (try? staging.read { try $0.sourceID(named: name) }) ?? nil
                if run.failure == nil, let stagedID {
                    do { try load(stagedID, direct: direct) } catch { run.failure = error }
                } else {
                    direct.abandon()
                }
            }
            switch outcome {
            case .success(let r): staged.append((name, r))
            case .failure: failed.append((name, outcome))
            }
        }
        if let e = run.failure { throw e }
        for (name, outcome) in failed { each(name, outcome) }
        try ingestor.finish()
        try loadStaged()
        if !run.catalogLoaded { try pg.loadCatalog(staged: staging) }
        for (name, r) in staged {
            var r = r
            let outcome = r.sourceID.flatMap { run.outcomes[$0] }
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

    /// How one run's staged sources reach the database, each in one transaction
    /// and in input order (their ids follow it, as SQLite's do). A new SFTPPlus
    /// log's records go in as they are read (`DirectSourceLoad`), and it is
    /// committed as soon as it is read; the sources before it are loaded when
    /// it begins, the rest at the end.
    private struct LoadOrder {
        /// Inputs whose staged source may be loaded before the end: see `earlyCandidates`.
        let early: Set<String>
        /// Inputs that may be loaded directly: early ones whose head reads as
        /// SFTPPlus (`SFTPLOG_PG_STAGE_ALL` empties it, for tests).
        var direct: Set<String>
        /// Set by the first input that must wait for the end: no direct load after it.
        var deferred = false
        /// Direct loads begun and not yet committed, by input name.
        var open: [String: DirectSourceLoad] = [:]
        var sources = StagedSources()
        /// By staged id.
        var outcomes: [Int64: StagedLoadOutcome] = [:]
        var catalogLoaded = false
        /// The staging file's sessions written up to the last load (`StoreReader.sessionsWritten(after:)`).
        var sessionsMark: Int64 = 0
        /// The first load that failed: the run stops there, committed sources staying.
        var failure: Error?
    }

    /// The inputs whose staged source may be loaded as soon as it is read:
    /// regular files whose head (first `Ingestor.headLength` bytes) neither
    /// begins another input's head nor begins with one. Then none of them
    /// resumes or repeats another in the staging file. (The sessions a rotated
    /// log's next file changes are copied again with it.) Also those of them
    /// whose head does not read as an OpenSSH transcript.
    static func earlyCandidates(_ names: [String]) -> (early: Set<String>, sftpplus: Set<String>) {
        var heads: [(name: String, head: [UInt8])] = []
        for name in names {
            guard let src = try? InputSource.open(name) else { continue }
            defer { src.close() }
            if let h = try? src.readUpTo(Ingestor.headLength), !h.isEmpty { heads.append((name, h)) }
        }
        // Sorted, the heads that begin with a head follow it at once.
        heads.sort { $0.head.lexicographicallyPrecedes($1.head) }
        var related = Set<String>()
        for i in heads.indices {
            var j = i + 1
            while j < heads.count, heads[j].head.starts(with: heads[i].head) {
                related.insert(heads[i].name); related.insert(heads[j].name)
                j += 1
            }
        }
        let early = heads.filter { !related.contains($0.name) }
        let sftpplus = early.filter { h in
            let lines = h.head.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
            return DetectingReader.detect(lines).0 != .openssh
        }
        return (Set(early.map(\.name)), Set(sftpplus.map(\.name)))
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

    /// The content hash `ingest` would give a regular file, and its size; nil for anything else.
    static func wholeHash(_ name: String) -> (hash: String, bytes: Int64)? {
        guard name != "-", let src = try? InputSource.open(name), !src.isStream, let size = src.size else { return nil }
        defer { src.close() }
        guard let (h, _) = try? Ingestor.prefixHash(src, size), h.count == size else { return nil }
        return (h.digest, size)
    }

    /// The hash of an input's first `n` bytes, when it can be read again.
    static func prefixHash(_ name: String, _ n: Int64) -> String? {
        guard name != "-", let src = try? InputSource.open(name), !src.isStream else { return nil }
        defer { src.close() }
        guard let (h, _) = try? Ingestor.prefixHash(src, n), h.count == n else { return nil }
        return h.digest
    }
}
