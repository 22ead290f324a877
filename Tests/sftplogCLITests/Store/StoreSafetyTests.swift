import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogOpenSSH

/// Issue 8, "Store safety": killed ingests, concurrent ingests with a reader,
/// and databases sftplog must refuse (newer, foreign, corrupt, read-only, full disk).
final class StoreSafetyTests: XCTestCase {
    var dir: URL!

    override func setUp() { dir = Paths.tempDir() }
    override func tearDown() {
        chmod(dir.path, 0o755)
        if let items = try? FileManager.default.subpathsOfDirectory(atPath: dir.path) {
            for i in items { chmod(dir.appendingPathComponent(i).path, 0o755) }
        }
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func write(_ data: Data, _ name: String) -> String {
        let p = path(name)
        _ = FileManager.default.createFile(atPath: p, contents: data)
        return p
    }

    func removeDatabase(_ db: String) {
        for suffix in ["", "-wal", "-shm", "-lock"] { try? FileManager.default.removeItem(atPath: db + suffix) }
    }

    // MARK: - Crash safety

    /// 50 SIGKILLs at seeded random moments of an ingest (small batches, so they
    /// land before, between and inside transactions). After each: the file
    /// passes `integrity_check`, every stored record is a whole line of the
    /// input, and a source's records match its committed resume point. The
    /// next run resumes the killed one (and may be killed in turn); each chain
    /// of runs ends with exactly the rows of an uninterrupted ingest.
    func testKilledIngestsResumeToExactlyTheRowsOfAnUninterruptedRun() throws {
        let big = write(try StoreSafety.generatedLog(copies: 40), "big.log")  // 4,160 lines
        let inputs = [big, Paths.sample("sftpplus/dev-csv-4.16.log")]
        let bigLines = try StoreSafety.lines(big)
        let batch = 250
        let args = ["--batch-size", String(batch), "--quiet"] + inputs
        // The generated log (and most of what is left of it when resumed) is read on a
        // thread of its own (`IngestReading`), the small CSV sample on the ingest's thread.
        let csvBytes = try FileManager.default.attributesOfItem(atPath: inputs[1])[.size] as? Int ?? 0
        setenv("SFTPLOG_READ_THREAD_BYTES", String(csvBytes + 1), 1)
        defer { unsetenv("SFTPLOG_READ_THREAD_BYTES") }

        let refDB = path("reference.db")
        let started = Date()
        let ref = try CLI.run(["ingest", "--db", refDB] + args)
        let fullRun = Date().timeIntervalSince(started)
        XCTAssertEqual(ref.status, 0, ref.stderr)
        let reference = try StoreSafety.snapshot(refDB)
        XCTAssertEqual(reference["records"]?.count, bigLines.count + 79)
        XCTAssertGreaterThan(reference["sessions"]?.count ?? 0, 0)
        try checkFTS(refDB)
        // A run that finds everything stored: start-up (catalogue, hashing) before any write.
        let noopStarted = Date()
        XCTAssertEqual(try CLI.run(["ingest", "--db", refDB] + args).status, 0)
        let startUp = Date().timeIntervalSince(noopStarted)

        let db = path("killed.db")
        var rng = SplitMix64(seed: 0x5EED_0008)
        var killedMid = 0, killedBeforeProgress = 0, completedBeforeKill = 0, chains = 0
        var fresh = true
        var checking = 0.0
        for attempt in 1...50 {
            if fresh { removeDatabase(db); fresh = false; chains += 1 }
            let before = try progress(db)
            let p = try StoreSafety.spawn(["ingest", "--db", db] + args)
            // Anywhere from late start-up to the length of a whole uninterrupted run.
            let delay = Double.random(in: (0.7 * startUp)...max(startUp, fullRun), using: &rng)
            usleep(useconds_t(delay * 1_000_000))
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
            if p.terminationReason == .exit {
                // The run finished first: the chain is complete.
                XCTAssertEqual(p.terminationStatus, 0, "attempt \(attempt): the ingest failed")
                completedBeforeKill += 1
                StoreSafety.assertSame(try StoreSafety.snapshot(db), reference, "attempt \(attempt), chain \(chains)")
                fresh = true
                continue
            }
            XCTAssertEqual(p.terminationStatus, SIGKILL)
            killedMid += 1
            let checkStarted = Date()
            if try progress(db) == before { killedBeforeProgress += 1 }
            try checkAfterKill(db, bigName: big, bigLines: bigLines, batch: batch, attempt: attempt)
            checking += Date().timeIntervalSince(checkStarted)
        }
        if !fresh {
            let r = try CLI.run(["ingest", "--db", db] + args)
            XCTAssertEqual(r.status, 0, r.stderr)
            StoreSafety.assertSame(try StoreSafety.snapshot(db), reference, "last chain \(chains)")
        }
        try checkFTS(db)
        print("StoreSafety: 50 SIGKILLs (uninterrupted run \(String(format: "%.2f", fullRun)) s, start-up \(String(format: "%.2f", startUp)) s): \(killedMid) landed mid-ingest "
              + "(\(killedBeforeProgress) of them before the run's first commit: in start-up or inside its long final transaction), \(completedBeforeKill) after the run had completed; "
              + "\(chains) chains, each resumed to the reference rows; \(String(format: "%.1f", checking)) s in the checks after kills")
        XCTAssertGreaterThan(killedMid, 0)
    }

    /// A bulk load (a new database) writes with a rollback journal. Killed
    /// inside a transaction, it leaves the journal "hot": a read-only
    /// connection cannot roll it back, and the file alone holds half a batch.
    /// sftplog's readers roll it back first, so `sessions --db` answers from
    /// the last commit; the journal is then gone, the file is whole, and the
    /// next ingest completes the rows of an uninterrupted run.
    func testAKilledBulkLoadsJournalIsRolledBackByTheNextReader() throws {
        let big = write(try StoreSafety.generatedLog(copies: 200), "big.log")  // 20,800 lines
        let args = ["--batch-size", "100", "--quiet", big]
        let refDB = path("reference.db")
        XCTAssertEqual(try CLI.run(["ingest", "--db", refDB] + args).status, 0)
        let db = path("killed.db"), journal = db + "-journal"
        var caught = false
        for _ in 1...20 where !caught {
            removeDatabase(db)
            try? FileManager.default.removeItem(atPath: journal)
            let p = try StoreSafety.spawn(["ingest", "--db", db] + args)
            // Kill it while a transaction of the load has written its journal (a new
            // file's first transaction, which makes its schema, has one too).
            func size(_ f: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: f))?[.size] as? Int ?? 0 }
            while p.isRunning {
                if size(db) > 1 << 20, size(journal) > 0 {
                    kill(p.processIdentifier, SIGKILL)
                    break
                }
                usleep(200)
            }
            p.waitUntilExit()
            caught = p.terminationReason == .uncaughtSignal && FileManager.default.fileExists(atPath: journal)
        }
        XCTAssertTrue(caught, "no ingest was killed with its journal written")
        // A read-only connection cannot roll the journal back; sftplog's reader does, and answers.
        let r = try CLI.run(["sessions", "--db", db, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: journal))
        var plain = Configuration()
        plain.readonly = true
        let q = try DatabaseQueue(path: db, configuration: plain)
        XCTAssertEqual(try q.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }, ["ok"])
        // What the committed batches hold: whole batches of whole lines.
        let stored = try q.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM records") } ?? -1
        let resumeLine = try q.read { try Int.fetchOne($0, sql: "SELECT resume_line FROM sources") } ?? 1
        try q.close()
        XCTAssertEqual(stored, resumeLine - 1)
        XCTAssertEqual(stored % 100, 0)
        let done = try CLI.run(["ingest", "--db", db] + args)
        XCTAssertEqual(done.status, 0, done.stderr)
        StoreSafety.assertSame(try StoreSafety.snapshot(db), try StoreSafety.snapshot(refDB), "after the kill")
        // The load over, the database is back in WAL mode.
        let after = try DatabaseQueue(path: db, configuration: plain)
        XCTAssertEqual(try after.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }, "wal")
        try after.close()
    }

    /// What the stored sources have committed (changes with every batch).
    func progress(_ db: String) throws -> String {
        guard FileManager.default.fileExists(atPath: db) else { return "" }
        let q = try StoreSafety.readOnly(db)
        defer { try? q.close() }
        return try q.read { db in
            guard try db.tableExists("sources") else { return "" }
            return try String.fetchAll(db, sql: "SELECT id || ':' || resume_offset || ':' || complete FROM sources ORDER BY id").joined(separator: ",")
        }
    }

    func checkAfterKill(_ path: String, bigName: String, bigLines: [Data], batch: Int, attempt: Int) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let q = try StoreSafety.readOnly(path)
        defer { try? q.close() }
        try q.read { db in
            XCTAssertEqual(try String.fetchAll(db, sql: "PRAGMA integrity_check"), ["ok"], "attempt \(attempt)")
            guard try db.tableExists("sources") else { return }
            for s in try Row.fetchAll(db, sql: "SELECT id, name, complete, resume_line, records FROM sources") {
                let id: Int64 = s["id"], complete: Bool = s["complete"], resumeLine: Int = s["resume_line"]
                let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE source_id = ?", arguments: [id])!
                if complete {
                    XCTAssertEqual(n, s["records"] as Int, "attempt \(attempt): a complete source has all its records")
                } else {
                    // Records and the resume point commit together: nothing stored past it.
                    let beyond = try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE source_id = ? AND line >= ?", arguments: [id, resumeLine])!
                    XCTAssertEqual(beyond, 0, "attempt \(attempt): records past the committed resume line")
                }
                guard (s["name"] as String) == bigName else { continue }
                // One record per line in the generated log: whole batches of whole lines, lines 1...n.
                if !complete {
                    XCTAssertEqual(n, resumeLine - 1, "attempt \(attempt)")
                    XCTAssertEqual(n % batch, 0, "attempt \(attempt): a partial batch is stored")
                }
                let rows = try Row.fetchAll(db, sql: "SELECT line, line_count, raw FROM records WHERE source_id = ? ORDER BY line, seq", arguments: [id])
                for (i, r) in rows.enumerated() {
                    let line: Int = r["line"]
                    guard line == i + 1, r["line_count"] as Int == 1, line <= bigLines.count else {
                        XCTFail("attempt \(attempt): record \(i) is at line \(line)"); break
                    }
                    let raw: Data? = r["raw"]
                    if raw != bigLines[line - 1] { XCTFail("attempt \(attempt): line \(line) stored as \(raw.map { String(decoding: $0, as: UTF8.self) } ?? "NULL")"); break }
                }
            }
            let orphans = try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions WHERE source_id NOT IN (SELECT id FROM sources)")!
            XCTAssertEqual(orphans, 0, "attempt \(attempt)")
        }
    }

    /// The external-content FTS index agrees with `records` (the resumed tail is deleted from both).
    func checkFTS(_ path: String) throws {
        let q = try DatabaseQueue(path: path)
        defer { try? q.close() }
        try q.write { try $0.execute(sql: "INSERT INTO records_fts(records_fts, rank) VALUES('integrity-check', 1)") }
    }

    // MARK: - Concurrency

    /// Two ingests into one new database at once, each of both files (so the
    /// same file is ingested twice at the same time), while `sftplog query`
    /// checks over and over that every source's records are whole batches
    /// matching its committed resume point. Both ingests succeed; nothing is
    /// stored twice.
    func testConcurrentIngestsAndAReader() throws {
        let a = write(try StoreSafety.generatedLog(copies: 20), "a.log")
        let b = write(try StoreSafety.generatedLog(copies: 20, firstDay: 200), "b.log")
        let lines = 20 * 104
        let db = path("shared.db")
        let batch = 200
        let e1 = dir.appendingPathComponent("e1.txt"), e2 = dir.appendingPathComponent("e2.txt")
        let p1 = try StoreSafety.spawn(["ingest", "--db", db, "--batch-size", String(batch), a, b], stderr: e1)
        let p2 = try StoreSafety.spawn(["ingest", "--db", db, "--batch-size", String(batch), b, a], stderr: e2)
        let sql = """
            SELECT s.id, s.complete, s.resume_line, s.records AS stored,
              (SELECT count(*) FROM records r WHERE r.source_id = s.id) AS n,
              (SELECT count(*) FROM records r WHERE r.source_id = s.id AND r.line >= s.resume_line) AS beyond,
              (SELECT count(*) FROM sources o WHERE o.head_len = s.head_len AND o.head_hash = s.head_hash) AS same_head
            FROM sources s
            """
        var answered = 0, refusedBeforeCreation = 0
        repeat {
            let r = try CLI.run(["query", "--db", db, "--format", "json", sql])
            guard r.status == 0 else {
                // Only until the first ingest has created the tables.
                XCTAssertEqual(answered, 0, "the reader failed after the database had answered: \(r.stderr)")
                refusedBeforeCreation += 1
                continue
            }
            answered += 1
            let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
            XCTAssertLessThanOrEqual(rows.count, 2)
            for row in rows {
                let n = row["n"] as! Int
                XCTAssertEqual(row["same_head"] as? Int, 1, "a source stored twice: \(rows)")
                if row["complete"] as? Int == 1 {
                    XCTAssertEqual(n, lines, "\(row)")
                    XCTAssertEqual(row["stored"] as? Int, lines, "\(row)")
                } else {
                    XCTAssertEqual(row["beyond"] as? Int, 0, "records past the committed resume point: \(row)")
                    XCTAssertEqual(n, (row["resume_line"] as! Int) - 1, "\(row)")
                    XCTAssertEqual(n % batch, 0, "the reader saw part of a batch: \(row)")
                }
            }
        } while p1.isRunning || p2.isRunning
        p1.waitUntilExit()
        p2.waitUntilExit()
        let err1 = try String(contentsOf: e1, encoding: .utf8), err2 = try String(contentsOf: e2, encoding: .utf8)
        XCTAssertEqual(p1.terminationStatus, 0, err1)
        XCTAssertEqual(p2.terminationStatus, 0, err2)
        XCTAssertTrue((err1 + err2).contains("waiting for it to finish"), "one ingest waited for the other: \(err1) \(err2)")

        let refDB = path("sequential.db")
        XCTAssertEqual(try CLI.run(["ingest", "--db", refDB, a, b]).status, 0)
        let q = try StoreSafety.readOnly(db), rq = try StoreSafety.readOnly(refDB)
        let counts = "SELECT (SELECT count(*) FROM sources), (SELECT count(*) FROM records), (SELECT count(DISTINCT source_id || ':' || line) FROM records), (SELECT count(*) FROM sessions), (SELECT sum(complete) FROM sources)"
        let got = try q.read { try Row.fetchOne($0, sql: counts)! }, want = try rq.read { try Row.fetchOne($0, sql: counts)! }
        XCTAssertEqual(got, want)
        XCTAssertEqual(got[0] as Int, 2)
        XCTAssertEqual(got[1] as Int, 2 * lines)
        XCTAssertEqual(try q.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }, ["ok"])
        print("StoreSafety: concurrent ingests: reader answered \(answered) times (\(refusedBeforeCreation) refusals before the tables existed)")
    }

    // MARK: - Databases sftplog must refuse

    /// Asserts a one-line `sftplog:` error naming the file and saying `phrase`, a non-zero exit, and the bytes unchanged.
    func assertRefused(_ args: [String], file db: String, _ phrase: String, line: UInt = #line) throws {
        let before = StoreSafety.bytes(db)
        let r = try CLI.run(args)
        XCTAssertEqual(r.status, 1, r.stderr, line: line)
        let lines = r.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line: \(r.stderr)", line: line)
        XCTAssertTrue(r.stderr.hasPrefix("sftplog: "), r.stderr, line: line)
        XCTAssertTrue(r.stderr.contains((db as NSString).lastPathComponent), r.stderr, line: line)
        XCTAssertTrue(r.stderr.contains(phrase), "expected \(phrase.debugDescription): \(r.stderr)", line: line)
        XCTAssertEqual(StoreSafety.bytes(db), before, "\(db) was changed", line: line)
    }

    func testNewerForeignAndCorruptDatabasesAreRefusedUntouched() throws {
        let sample = Paths.sample("sftpplus/dev-id-first-4.0.log")
        let good = path("good.db")
        XCTAssertEqual(try CLI.run(["ingest", "--db", good, "--quiet", write(try StoreSafety.generatedLog(copies: 10), "g.log")]).status, 0)
        func copy(_ name: String) throws -> String {
            let p = path(name)
            try FileManager.default.copyItem(atPath: good, toPath: p)
            return p
        }
        func ingest(_ db: String) -> [String] { ["ingest", "--db", db, sample] }
        func query(_ db: String) -> [String] { ["query", "--db", db, "SELECT count(*) FROM records"] }

        // Written by a newer sftplog (IngestTests checks the message; here: untouched, one line).
        let newer = try copy("newer.db")
        try DatabaseQueue(path: newer).write { try $0.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES('v99-from-the-future')") }
        try assertRefused(ingest(newer), file: newer, "newer sftplog")
        try assertRefused(query(newer), file: newer, "newer sftplog")

        // Another application's databases: its own GRDB migrations, or only its application_id.
        let app = path("app.db")
        try DatabaseQueue(path: app).write { db in
            try db.execute(sql: "CREATE TABLE grdb_migrations(identifier TEXT NOT NULL PRIMARY KEY); INSERT INTO grdb_migrations VALUES('v1-users'); CREATE TABLE users(name)")
        }
        try assertRefused(ingest(app), file: app, "not an sftplog database")
        try assertRefused(query(app), file: app, "not an sftplog database")
        let marked = path("marked.db")
        try DatabaseQueue(path: marked).write { try $0.execute(sql: "PRAGMA application_id = 1234") }
        try assertRefused(ingest(marked), file: marked, "not an sftplog database")

        // Not SQLite: random bytes.
        var rng = SplitMix64(seed: 8)
        let random = write(Data((0..<65_536).map { _ in UInt8.random(in: 0...255, using: &rng) }), "random.db")
        try assertRefused(ingest(random), file: random, "not an SQLite database")
        try assertRefused(query(random), file: random, "not an SQLite database")

        // A real database with garbage over its schema page (after the 100-byte header)…
        let schemaHit = try copy("schema-garbage.db")
        try overwrite(schemaHit, at: 100, count: 3_000, rng: &rng)
        try assertRefused(ingest(schemaHit), file: schemaHit, "corrupt")
        try assertRefused(query(schemaHit), file: schemaHit, "corrupt")

        // …and over pages in the middle that an ingest of a new source never reads:
        // without the check before writing, rows were added to the damaged file.
        let middleHit = try copy("page-garbage.db")
        let size = (try FileManager.default.attributesOfItem(atPath: middleHit)[.size] as! Int)
        XCTAssertGreaterThan(size, 40 * 4096)
        try overwrite(middleHit, at: (size / 2) / 4096 * 4096, count: 3 * 4096, rng: &rng)
        try assertRefused(ingest(middleHit), file: middleHit, "corrupt")
    }

    func overwrite(_ path: String, at offset: Int, count: Int, rng: inout SplitMix64) throws {
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try h.seek(toOffset: UInt64(offset))
        try h.write(contentsOf: Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        try h.close()
    }

    /// A read-only database file, and databases in a read-only directory (run as
    /// `nobody` through setpriv when the tests run as root, which ignores modes).
    func testReadOnlyDirectoryAndFile() throws {
        let user = StoreSafety.unprivileged
        guard user.available else { throw XCTSkip("running as root without setpriv: file modes cannot be tested") }
        let sample = Paths.sample("sftpplus/dev-id-first-4.0.log")
        let q = StoreSafety.quote
        let bin = q(CLI.binary)
        func run(_ args: String) throws -> CLI.Result { try StoreSafety.sh("\(user.prefix)\(bin) \(args)") }
        func refused(_ r: CLI.Result, _ db: String, _ phrase: String, line: UInt = #line) {
            XCTAssertEqual(r.status, 1, r.stderr, line: line)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr, line: line)
            XCTAssertTrue(r.stderr.hasPrefix("sftplog: ") && r.stderr.contains(db) && r.stderr.contains(phrase), r.stderr, line: line)
        }
        chmod(dir.path, 0o755)
        let store = dir.appendingPathComponent("evidence")
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
        let db = store.appendingPathComponent("s.db").path
        XCTAssertEqual(try CLI.run(["ingest", "--db", db, "--quiet", Paths.sample("sftpplus/dev-ts-first-5.26.log")]).status, 0)

        // A read-only directory: no new database, no writing into an existing one; reading works.
        chmod(db, 0o666)  // the file itself writable: only the directory is read-only
        try? FileManager.default.removeItem(atPath: db + "-lock")
        chmod(store.path, 0o555)
        let before = StoreSafety.bytes(db)
        refused(try run("ingest --db \(q(store.path + "/new.db")) \(q(sample))"), "new.db", "Permission denied")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.path + "/new.db"))
        refused(try run("ingest --db \(q(db)) \(q(sample))"), "s.db", "Permission denied")
        XCTAssertEqual(StoreSafety.bytes(db), before)
        let read = try run("query --db \(q(db)) --format csv 'SELECT count(*) AS n FROM records'")
        XCTAssertEqual(read.status, 0, read.stderr)
        XCTAssertEqual(read.stdout, "n\r\n104\r\n")

        // A read-only file in a writable directory.
        chmod(store.path, 0o777)
        chmod(db, 0o444)
        refused(try run("ingest --db \(q(db)) \(q(sample))"), "s.db", "read-only")
        XCTAssertEqual(StoreSafety.bytes(db), before)
        XCTAssertEqual(try run("query --db \(q(db)) 'SELECT 1'").status, 0)
    }

    /// A full disk, simulated with `ulimit -f`: SIGXFSZ no longer kills the
    /// ingest; the write fails, the error says so, the failed batch leaves
    /// nothing behind, and after space is freed the next run completes.
    func testFileSizeLimitFailsCleanlyAndTheNextRunCompletes() throws {
        // Big enough that its batches outgrow the limit in the WAL (30 copies fitted once records were compact).
        let log = write(try StoreSafety.generatedLog(copies: 120), "big.log")
        let db = path("full.db")
        XCTAssertEqual(try CLI.run(["ingest", "--db", db, "--quiet", Paths.sample("sftpplus/dev-ts-first-5.26.log")]).status, 0)
        let before = StoreSafety.bytes(db)
        let q = StoreSafety.quote, bin = q(CLI.binary)
        // Room for a few KiB more than the database (in the 512-byte blocks of POSIX sh).
        let blocks = (before!.count + 16 * 1024) / 512
        let r = try StoreSafety.sh("ulimit -f \(blocks); exec \(bin) ingest --db \(q(db)) --quiet \(q(log))")
        XCTAssertEqual(r.status, 1, "exit status \(r.status) (153 is death by SIGXFSZ): \(r.stderr)")
        let errors = StoreSafety.errorLines(r.stderr)
        XCTAssertEqual(errors.count, 1, r.stderr)
        XCTAssertTrue(errors.first?.contains("cannot write the database") == true && errors.first?.contains("full.db") == true, r.stderr)
        XCTAssertEqual(StoreSafety.bytes(db), before, "the database file is untouched")
        let check = try StoreSafety.readOnly(db)
        XCTAssertEqual(try check.read { try String.fetchAll($0, sql: "PRAGMA integrity_check") }, ["ok"])
        XCTAssertEqual(try check.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM records") }, 104)
        try check.close()

        // A limit reached after some batches committed: those stay, the rest comes with the next run.
        let partial = path("partial.db")
        let big = try StoreSafety.sh("ulimit -f 2048; exec \(bin) ingest --db \(q(partial)) --quiet --batch-size 200 \(q(log))")
        XCTAssertEqual(big.status, 1, big.stderr)
        // The batch that failed, then (on a first load) the deferred indexes that could not be built either.
        XCTAssertTrue(big.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix("sftplog: ") && $0.contains("cannot write the database") }, big.stderr)
        let again = try CLI.run(["ingest", "--db", partial, "--quiet", log])
        XCTAssertEqual(again.status, 0, again.stderr)
        let refDB = path("reference.db")
        XCTAssertEqual(try CLI.run(["ingest", "--db", refDB, "--quiet", log]).status, 0)
        StoreSafety.assertSame(try StoreSafety.snapshot(partial), try StoreSafety.snapshot(refDB), "resumed after a full disk")
    }
}
