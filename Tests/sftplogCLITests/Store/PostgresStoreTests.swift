import Foundation
import XCTest
import SFTPLogTestSupport

/// `--db postgres://…`, against the real server `$SFTPLOG_TEST_PG` names
/// (`.ci/run` starts one; without it these tests are skipped).
final class PostgresStoreTests: TemporaryDirectoryTestCase {
    private var databases: [String] = []

    override func tearDown() {
        for d in databases { TestPostgres.drop(d) }
        super.tearDown()
    }

    private func database(_ label: String) throws -> String {
        let url = try TestPostgres.freshDatabase(label)
        databases.append(url)
        return url
    }

    private func sqlite(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// The documented tables, in key order, with sources named rather than
    /// numbered (PostgreSQL's ids skip numbers a rolled-back transaction took).
    static let dumps: [String] = [
        """
        SELECT s.name, r.line, r.seq, r.line_count, r.kind, r.file, r.layout, r.ts, r.ts_utc, r.ts_note, r.event_id, r.component,
          r.account, r.peer_address, r.peer_port, r.message, r.text, r.catalog_status, r.catalog_variant, r.fields, r.extra,
          r.diagnostic, r.raw, r.session_id, r.session_duplicate
        FROM records r JOIN sources s ON s.id = r.source_id ORDER BY s.name, r.line, r.seq
        """,
        """
        SELECT name, format, format_explanation, reader_state, bytes, content_hash, head_hash, head_len, resume_offset, resume_line,
          complete, lines, records, unparsed, sftpplus_versions FROM sources ORDER BY name
        """,
        """
        SELECT s.name, x.id, x.source, x.side, x.file, x.peer_address, x.peer_port, x."user", x.component, x.location, x.start, x."end",
          x.start_utc, x.end_utc, x.duration, x.outcome, x.outcome_detail, x.client_version, x.server_version, x.kex, x.hostkey,
          x.cipher_c2s, x.cipher_s2c, x.mac_c2s, x.mac_s2c, x.compression_c2s, x.compression_s2c, x.strict_kex, x.auth_methods_tried,
          x.auth_succeeded_method, x.auth_failures, x.host_key_check, x.terrapin_vulnerable, x.terrapin_explanation, x.gex_bits,
          x.event_count, x.files, x.bytes_up, x.bytes_down, x.first_line, x.last_line, x.details, x.closed
        FROM sessions x JOIN sources s ON s.id = x.source_id ORDER BY x.id
        """,
        "SELECT * FROM session_operations ORDER BY session_id, position",
        "SELECT * FROM findings ORDER BY session_id, position",
        "SELECT * FROM session_algorithms_offered ORDER BY session_id, side, slot, position",
        "SELECT * FROM catalog_variants ORDER BY event_id, variant",
    ]

    /// PostgreSQL text holds no NUL: sftplog writes U+10FFFE `0` for it, and
    /// U+10FFFE twice for itself (docs/schema.md); as JSON, the SQLite store's NUL is `\u0000`.
    static func undoNULEscape(_ s: String) -> String {
        s.replacingOccurrences(of: "\u{10FFFE}0", with: "\\u0000").replacingOccurrences(of: "\u{10FFFE}\u{10FFFE}", with: "\u{10FFFE}")
    }

    private func dump(_ db: String) throws -> [String] {
        try Self.dumps.map { sql in
            let r = try CLI.run(["query", "--db", db, "--format", "ndjson", sql])
            XCTAssertEqual(r.status, 0, "\(sql): \(r.stderr)")
            return db.hasPrefix("postgres") ? Self.undoNULEscape(r.stdout) : r.stdout
        }
    }

    private func assertSameRows(_ a: String, _ b: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for (i, (x, y)) in zip(try dump(a), try dump(b)).enumerated() {
            XCTAssertFalse(x.isEmpty && i < 3, "\(label): nothing in table \(i)", file: file, line: line)
            XCTAssertTrue(x == y, "\(label): \(Self.dumps[i].prefix(60))… differs", file: file, line: line)
        }
    }

    @discardableResult
    private func ingest(_ db: String, _ files: [String], env: [String: String] = [:]) throws -> CLI.Result {
        let r = try CLI.run(["ingest", "--quiet", "--db", db] + files, env: env)
        XCTAssertTrue([0, 2].contains(r.status), r.stderr)
        return r
    }

    // MARK: the same store on both engines

    /// Every sample and test log, ingested into SQLite and into PostgreSQL: the
    /// same documented rows, and the same answers from every answering command.
    func testEveryTestLogGivesTheSameRowsAndAnswersAsSQLite() throws {
        let pg = try database("parity")
        let lite = sqlite("parity.db")
        let files = Paths.everyTestLog()
        let a = try ingest(pg, files), b = try ingest(lite, files)
        XCTAssertEqual(a.status, b.status)
        try assertSameRows(pg, lite, "every test log")
        let answers: [[String]] = [
            ["sessions", "--json"], ["sessions", "--json", "--timeline"], ["sessions", "--format", "csv"], ["sessions", "--json", "--evidence"],
            ["audit", "--json", "--min-rating", "info"], ["audit", "--json", "--min-rating", "fail"],
            ["report", "--format", "json"], ["report"], ["report", "--format", "html", "--max-sessions", "20"],
            ["catalog", "stats", "--json"],
        ]
        for args in answers {
            let x = try CLI.run(args + ["--db", pg]), y = try CLI.run(args + ["--db", lite])
            XCTAssertEqual(x.status, y.status, "\(args): \(x.stderr)")
            XCTAssertFalse(x.stdout.isEmpty, "\(args)")
            XCTAssertTrue(StreamingAnswerTests.undated(x.stdout) == StreamingAnswerTests.undated(y.stdout), "\(args) differs between the stores")
        }
        // The `evidence` view of both: the same links, each naming a record on its line.
        let sql = "SELECT count(*) AS links, count(record_id) AS with_record, count(DISTINCT session_id) AS sessions FROM evidence"
        let x = try CLI.run(["query", "--format", "csv", "--db", pg, sql]), y = try CLI.run(["query", "--format", "csv", "--db", lite, sql])
        XCTAssertEqual(x.stdout, y.stdout, x.stderr + y.stderr)
        let counts = y.stdout.split(whereSeparator: \.isNewline).last?.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        XCTAssertGreaterThan(counts?[0] ?? 0, 1000, y.stdout)
        XCTAssertEqual(counts?[0], counts?[1], "links without their record: \(y.stdout)")
        // A filter and one session's report, too.
        let id = try XCTUnwrap(CLI.jsonLines(try CLI.run(["sessions", "--format", "ndjson", "--db", lite]).stdout).last?["id"] as? String)
        for args in [["report", "--session", id, "--format", "json"], ["sessions", "--json", "--outcome", "auth-failed"]] {
            let x = try CLI.run(args + ["--db", pg]), y = try CLI.run(args + ["--db", lite])
            XCTAssertEqual(StreamingAnswerTests.undated(x.stdout), StreamingAnswerTests.undated(y.stdout), "\(args)")
        }
    }

    /// A new source's records go straight into PostgreSQL as they are read
    /// (`DirectSourceLoad`); the staging file alone (`SFTPLOG_PG_STAGE_ALL`)
    /// must store the same rows, evidence links included. Left out: logs that
    /// begin as another one does (a cut copy, a CSV header alone), which are
    /// staged, and so is every input after them.
    func testDirectAndStagedLoadsStoreTheSameRows() throws {
        let direct = try database("direct"), staged = try database("staged")
        let all = Paths.everyTestLog()
        let heads = try all.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)).readData(ofLength: 4096) }
        let files = all.indices.filter { i in
            !all.indices.contains { j in j != i && (heads[j].starts(with: heads[i]) || heads[i].starts(with: heads[j])) }
        }.map { all[$0] }
        XCTAssertGreaterThan(files.count, 100)
        let a = try ingest(direct, files, env: ["SFTPLOG_TIMINGS": "1"])
        let b = try ingest(staged, files, env: ["SFTPLOG_TIMINGS": "1", "SFTPLOG_PG_STAGE_ALL": "1"])
        XCTAssertEqual(a.status, b.status)
        let directLoads = a.stderr.components(separatedBy: "copied directly").count - 1
        XCTAssertGreaterThanOrEqual(directLoads, 20, a.stderr)
        XCTAssertFalse(b.stderr.contains("copied directly"), b.stderr)
        try assertSameRows(direct, staged, "direct vs staged")
        let links = """
            SELECT s.name, l.session_id, l.position, l.fact, l.item, l.line, l.seq, l.byte_offset
            FROM evidence_links l JOIN sources s ON s.id = l.source_id ORDER BY l.session_id, l.position
            """
        let x = try CLI.run(["query", "--db", direct, "--format", "csv", links]), y = try CLI.run(["query", "--db", staged, "--format", "csv", links])
        XCTAssertGreaterThan(x.stdout.count, 10_000, x.stderr)
        XCTAssertTrue(x.stdout == y.stdout, "evidence links differ")

        // A rotated log: each file loaded directly as it is read, and the sessions
        // that go on into the next file copied again with it. Both ways load
        // each file when it is read, so SQLite's rows are the reference here.
        let rotated = dir.appendingPathComponent("rotated")
        try FileManager.default.createDirectory(at: rotated, withIntermediateDirectories: true)
        let lines = try String(contentsOfFile: Paths.generatedLog(lines: 3000, seed: 7, in: dir), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        let parts = ["server.log.2": lines[0..<1000], "server.log.1": lines[1000..<2000], "server.log": lines[2000...]]
        for (name, part) in parts {
            try (part.joined(separator: "\n") + (name == "server.log" ? "" : "\n")).write(to: rotated.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let month = try database("month"), monthStaged = try database("month_staged"), lite = sqlite("month.db")
        let c = try ingest(month, [rotated.path], env: ["SFTPLOG_TIMINGS": "1"])
        XCTAssertEqual(c.stderr.components(separatedBy: "copied directly").count - 1, 3, c.stderr)
        try ingest(monthStaged, [rotated.path], env: ["SFTPLOG_PG_STAGE_ALL": "1"])
        try ingest(lite, [rotated.path])
        let spanning = "SELECT count(*) FROM (SELECT session_id FROM records WHERE session_id IS NOT NULL GROUP BY session_id HAVING count(DISTINCT source_id) > 1) s"
        XCTAssertGreaterThan(Int(try TestPostgres.psql(spanning, database: month)) ?? 0, 5, "sessions across the files")
        try assertSameRows(month, lite, "a rotated log, direct vs SQLite")
        try assertSameRows(monthStaged, lite, "a rotated log, staged vs SQLite")
        let sessions = try CLI.run(["sessions", "--json", "--evidence", "--db", month]), reference = try CLI.run(["sessions", "--json", "--evidence", "--db", lite])
        XCTAssertTrue(StreamingAnswerTests.undated(sessions.stdout) == StreamingAnswerTests.undated(reference.stdout),
                      "the rotated log's sessions and their evidence differ from SQLite's")
    }

    // MARK: ingest's promises

    func testContentIsStoredOnceAndAGrownFileAddsItsNewLines() throws {
        let pg = try database("grow"), whole = try database("whole")
        let log = try String(contentsOfFile: Paths.sample("sftpplus/dev-ts-first-5.26.log"), encoding: .utf8)
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false)
        let path = dir.appendingPathComponent("server.log").path
        // Cut in the middle of a line: the stored last record is read again when the file grows.
        let cut = lines[..<(lines.count / 2)].joined(separator: "\n") + "\n" + lines[lines.count / 2].prefix(20)
        try cut.write(toFile: path, atomically: true, encoding: .utf8)
        try ingest(pg, [path])
        let before = try TestPostgres.psql("SELECT count(*) || ' ' || max(id) FROM records", database: pg)
        let again = try ingest(pg, [path])
        XCTAssertTrue(again.stderr.isEmpty || !again.stderr.contains("error"), again.stderr)
        XCTAssertEqual(try TestPostgres.psql("SELECT count(*) || ' ' || max(id) FROM records", database: pg), before, "a second ingest added rows")
        let json = try CLI.run(["ingest", "--json", "--db", pg, path])
        XCTAssertTrue(json.stdout.contains("\"already_stored\":true") || json.stdout.contains("already"), json.stdout)

        try log.write(toFile: path, atomically: true, encoding: .utf8)
        let firstIDs = try TestPostgres.psql("SELECT min(id) FROM records", database: pg)
        try ingest(pg, [path])
        XCTAssertEqual(try TestPostgres.psql("SELECT count(*) FROM sources", database: pg), "1")
        XCTAssertEqual(try TestPostgres.psql("SELECT min(id) FROM records", database: pg), firstIDs, "the stored lines were written again")
        try ingest(whole, [path])
        try assertSameRows(pg, whole, "grown in two runs vs read once")
    }

    /// Two copies of a log that differ in their last line are two sources
    /// with the same sessions: the later source's rows replace them whole, as
    /// SQLite replaces them.
    func testASessionAnotherSourceHoldsIsReplacedAsInSQLite() throws {
        let pg = try database("shared")
        let sq = sqlite("shared.db")
        let log = try String(contentsOfFile: Paths.sample("sftpplus/dev-ts-first-5.26.log"), encoding: .utf8)
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        for d in [a, b] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        try log.write(toFile: a + "/server.log", atomically: true, encoding: .utf8)
        try (String(log.dropLast(2)) + "X\n").write(toFile: b + "/server.log", atomically: true, encoding: .utf8)
        for db in [pg, sq] {
            try ingest(db, [a + "/server.log"])
            try ingest(db, [b + "/server.log"])
        }
        XCTAssertEqual(try TestPostgres.psql("SELECT count(*) FROM sources", database: pg), "2")
        func held(by copy: String) throws -> String {
            try TestPostgres.psql("SELECT count(*) FROM sessions s JOIN sources o ON o.id = s.source_id WHERE o.name LIKE '%/\(copy)/server.log'", database: pg)
        }
        XCTAssertEqual(try held(by: "a"), "0", "every session of the first copy is one the second replaced")
        XCTAssertNotEqual(try held(by: "b"), "0")
        XCTAssertEqual(try TestPostgres.psql("SELECT count(*) FROM evidence_links l JOIN sessions s ON s.id = l.session_id WHERE l.source_id <> s.source_id", database: pg), "0")
        try assertSameRows(pg, sq, "sessions held by another source")
    }

    /// Four ingesters at once, over overlapping inputs, store what one ingest
    /// of their union stores: each content once, with no lock between them.
    func testFourConcurrentIngestsStoreTheirUnionOnce() throws {
        let pg = try database("concurrent"), union = try database("union")
        let files = ["openssh/sftp-kex-gex-sha256.log", "openssh/ssh-vvv-default-command.log", "sftpplus/dev-csv-4.16.log",
                     "sftpplus/dev-id-first-4.0.log", "sftpplus/dev-ts-first-5.26.log", "sftpplus/seed-server-3.30.log",
                     "openssh/sftp-v1-put-ls.log", "sftpplus/invalid-utf8-5.26.log"].map(Paths.sample)
        let slices = (0..<4).map { i in (0..<4).map { files[(i * 2 + $0) % files.count] } }
        let results = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4)
        defer { results.deallocate() }
        nonisolated(unsafe) let out = results
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            out[i] = (try? CLI.run(["ingest", "--quiet", "--db", pg] + slices[i]).status) ?? -1
        }
        for i in 0..<4 { XCTAssertTrue([0, 2].contains(results[i]), "ingester \(i) exited \(results[i])") }
        try ingest(union, files)
        try assertSameRows(pg, union, "four concurrent ingests vs their union")
    }

    /// The connection cut while sources are being stored, then the process
    /// killed: what was committed stays consistent, and the next run completes it.
    func testAnInterruptedIngestIsCompletedByTheNextRun() throws {
        let pg = try database("cut"), clean = try database("clean")
        // Enough sources that the first commit comes well before the last.
        let files = try (1...12).map { try Paths.generatedLog(lines: 1000, seed: $0, in: dir) }
        // Staging files go here: one a killed run leaves is removed by the next.
        let tmp = dir.appendingPathComponent("tmp")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let staging = { try FileManager.default.contentsOfDirectory(atPath: tmp.path).filter { $0.hasPrefix("sftplog-staging-") } }
        for interruption in ["terminate the server connection", "SIGKILL"] {
            try TestPostgres.psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public", database: pg)
            let app = "sftplog_cut_\(UInt32.random(in: 0...UInt32.max))"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CLI.binary)
            p.arguments = ["ingest", "--quiet", "--db", pg + "?application_name=\(app)"] + files
            p.environment = CLI.environment(["TMPDIR": tmp.path])
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            // Wait for the first source to be committed, then interrupt.
            var stored = 0
            let deadline = Date().addingTimeInterval(120)
            while p.isRunning && stored == 0 && Date() < deadline {
                stored = Int((try? TestPostgres.psql("SELECT count(*) FROM sources", database: pg)) ?? "0") ?? 0
                if stored == 0 { usleep(20_000) }
            }
            if interruption == "SIGKILL" {
                kill(p.processIdentifier, SIGKILL)
            } else {
                try TestPostgres.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '\(app)'")
            }
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            let partial = Int(try TestPostgres.psql("SELECT count(*) FROM sources", database: pg)) ?? 0
            XCTAssertLessThan(partial, files.count, "\(interruption): the ingest ended before it was interrupted")
            if interruption != "SIGKILL" {
                XCTAssertEqual(p.terminationStatus, 1, "\(interruption): \(message)")
                XCTAssertTrue(message.contains("postgres://") && (message.contains("terminat") || message.contains("closed the connection")), message)
                XCTAssertEqual(message.split(separator: "\n").filter { $0.hasPrefix("sftplog:") }.count >= 1, true, message)
            }
            // Every stored source is whole.
            XCTAssertEqual(try TestPostgres.psql("SELECT count(*) FROM sources s WHERE records <> (SELECT count(*) FROM records r WHERE r.source_id = s.id)",
                                                 database: pg), "0", interruption)
            if interruption == "SIGKILL" { XCTAssertFalse(try staging().isEmpty, "the killed run left no staging file to clean") }
            try ingest(pg, files, env: ["TMPDIR": tmp.path])
            XCTAssertEqual(try staging(), [], interruption)
            if interruption == "terminate the server connection" { try ingest(clean, files) }
            try assertSameRows(pg, clean, "\(interruption), then completed")
        }
    }

    // MARK: query, migrate, faults

    func testQueryIsReadOnlyAndTimedOut() throws {
        let pg = try database("query")
        try ingest(pg, [Paths.sample("sftpplus/dev-id-first-4.0.log")])
        let ok = try CLI.run(["query", "--db", pg, "--format", "csv", "SELECT account, count(*) AS n FROM records WHERE account IS NOT NULL GROUP BY account ORDER BY n DESC, account"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.hasPrefix("account,n\r\n"), ok.stdout)
        let count = try TestPostgres.psql("SELECT count(*) FROM records", database: pg)
        for write in ["DELETE FROM records", "UPDATE sessions SET \"user\" = 'x'", "CREATE TABLE t (a int)", "SELECT 1; DELETE FROM records",
                      "WITH d AS (DELETE FROM records RETURNING 1) SELECT count(*) FROM d"] {
            let r = try CLI.run(["query", "--db", pg, write])
            XCTAssertEqual(r.status, 1, write)
            XCTAssertTrue(r.stderr.hasPrefix("sftplog: "), r.stderr)
        }
        XCTAssertEqual(try TestPostgres.psql("SELECT count(*) FROM records", database: pg), count)
        let slow = try CLI.run(["query", "--db", pg, "SELECT pg_sleep(5)"], env: ["SFTPLOG_QUERY_TIMEOUT": "1"])
        XCTAssertEqual(slow.status, 1)
        XCTAssertTrue(slow.stderr.contains("statement timeout"), slow.stderr)
    }

    func testMigrateIsVersionedAndLeavesOtherDatabasesAlone() throws {
        let pg = try database("migrate")
        let first = try CLI.run(["migrate", "--db", pg])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("applied pg1-documented-tables"), first.stderr)
        XCTAssertTrue(try CLI.run(["migrate", "--db", pg]).stderr.contains("already up to date"))
        XCTAssertEqual(try TestPostgres.psql("SELECT string_agg(id, ',' ORDER BY id) FROM sftplog_migrations", database: pg),
                       "pg1-documented-tables,pg2-evidence")
        // A migration this build does not know: written by a newer sftplog.
        try TestPostgres.psql("INSERT INTO sftplog_migrations (id) VALUES ('pg99-future')", database: pg)
        let newer = try CLI.run(["sessions", "--db", pg])
        XCTAssertEqual(newer.status, 1)
        XCTAssertTrue(newer.stderr.contains("newer sftplog"), newer.stderr)
        // Somebody else's `records` table is not ours to change.
        let foreign = try database("foreign")
        try TestPostgres.psql("CREATE TABLE records (id int)", database: foreign)
        let refused = try CLI.run(["ingest", "--db", foreign, Paths.sample("sftpplus/seed-server-3.30.log")])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("did not create"), refused.stderr)
        // An empty database has nothing to answer from yet.
        let empty = try database("empty")
        let none = try CLI.run(["audit", "--db", empty])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("ingest"), none.stderr)
    }

    func testConnectionFaultsAreOneClearLineWithoutSecrets() throws {
        let admin = try TestPostgres.adminURL()
        // A port nothing listens on.
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        let port = Int(UInt16(bigEndian: addr.sin_port))
        close(s)
        for cmd in [["ingest", Paths.sample("sftpplus/seed-server-3.30.log")], ["sessions"], ["audit"], ["report"], ["query", "SELECT 1"], ["migrate"], ["catalog", "stats"]] {
            let down = try CLI.run(cmd + ["--db", "postgres://someone:Very-Secret-1@127.0.0.1:\(port)/x"])
            XCTAssertNotEqual(down.status, 0, "\(cmd)")
            XCTAssertTrue(down.stderr.contains("127.0.0.1:\(port)") && down.stderr.contains("refused"), "\(cmd): \(down.stderr)")
            XCTAssertFalse(down.stderr.contains("Very-Secret-1"), down.stderr)
            XCTAssertEqual(down.stderr.split(separator: "\n").count, 1, "\(cmd): \(down.stderr)")
        }
        // The right server, a wrong password: from the URL, and from $PGPASSWORD.
        let wrongPassword = admin.replacingOccurrences(of: #"://([^:@/]+):[^@/]*@"#, with: "://$1:Not-It-42@", options: .regularExpression)
        let noPassword = admin.replacingOccurrences(of: #"://([^:@/]+):[^@/]*@"#, with: "://$1@", options: .regularExpression)
        for (url, env) in [(wrongPassword, [String: String]()), (noPassword, ["PGPASSWORD": "Not-It-42", "HOME": dir.path])] {
            let r = try CLI.run(["query", "--db", url, "SELECT 1"], env: env)
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains("password authentication failed"), r.stderr)
            XCTAssertFalse(r.stderr.contains("Not-It-42"), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        // The password from ~/.pgpass works, and $SFTPLOG_DB selects PostgreSQL too.
        let password = try XCTUnwrap(admin.firstMatch(of: #/://[^:@/]+:([^@/]*)@/#).map { String($0.1) })
        let hostPort = try XCTUnwrap(admin.firstMatch(of: #/@([^:/]+):([0-9]+)\//#))
        let pgpass = dir.appendingPathComponent(".pgpass").path
        try "\(hostPort.1):\(hostPort.2):*:*:\(password)\n".write(toFile: pgpass, atomically: true, encoding: .utf8)
        chmod(pgpass, 0o600)
        let migrated = try database("pgpass")
        XCTAssertEqual(try CLI.run(["migrate", "--db", migrated]).status, 0)
        let viaFile = try CLI.run(["query", "SELECT 41 + 1 AS answer", "--format", "csv"],
                                  env: ["HOME": dir.path, "SFTPLOG_DB": migrated.replacingOccurrences(of: #"://([^:@/]+):[^@/]*@"#, with: "://$1@", options: .regularExpression)])
        XCTAssertEqual(viaFile.status, 0, viaFile.stderr)
        XCTAssertEqual(viaFile.stdout, "answer\r\n42\r\n")
    }
}
