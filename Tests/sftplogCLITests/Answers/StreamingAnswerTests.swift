import Foundation
import XCTest
import SFTPLogTestSupport

/// `sessions`, `audit` and `report` on files answer in one streaming pass, with
/// nothing stored: each answer must equal `ingest` of the same files followed
/// by the same command on the database. (Each input alone is compared through
/// the library, in `SessionStreamTests`.)
final class StreamingAnswerTests: XCTestCase {
    /// The answers compared, each as arguments before the input or `--db`: on
    /// every input alone, and more on all of them at once.
    static let answers: [[String]] = [
        ["audit", "--json", "--min-rating", "info"],
        ["sessions", "--json"],
        ["report", "--format", "json"],
    ]
    static let moreAnswers: [[String]] = [
        ["report"],
        ["report", "--format", "markdown"],
        ["catalog", "stats", "--json"],
        ["catalog", "stats", "--format", "csv"],
        ["audit", "--json", "--min-rating", "fail"],
        ["sessions", "--format", "csv"],
        ["sessions", "--format", "ndjson"],
        ["sessions", "--json", "--timeline"],
    ]

    /// The moment a report was made is no part of its answer.
    static func undated(_ s: String) -> String {
        s.replacingOccurrences(of: #""generated_at":"[^"]*""#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #"Generated [0-9T:Z-]+\."#, with: "", options: .regularExpression)
    }

    func assertSameAnswers(_ files: [String], in dir: URL, label: String, answers: [[String]] = answers) throws {
        let db = dir.appendingPathComponent("answers.db").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        let ingest = try CLI.run(["ingest", "--quiet", "--db", db] + files)
        XCTAssertTrue([0, 2].contains(ingest.status), "\(label): \(ingest.stderr)")
        for args in answers {
            let stored = try CLI.run(args + ["--db", db])
            let streamed = try CLI.run(args + ["--quiet"] + files)
            XCTAssertEqual(Self.undated(streamed.stdout), Self.undated(stored.stdout), "\(args) on \(label)")
            if args[0] == "audit" { XCTAssertEqual(streamed.status, stored.status, "\(args) on \(label): exit status") }
            if args[0] == "sessions" || args[0] == "report" { XCTAssertEqual(streamed.status, ingest.status, "\(args) on \(label): exit status as ingest's") }
        }
    }

    func testAllInputsTogetherAnswerAsTheirIngest() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try assertSameAnswers(Paths.everyTestLog(), in: dir, label: "every input at once", answers: Self.answers + Self.moreAnswers)
    }

    /// Content already read is not read again, and a file that continues an
    /// earlier one (grown, or a longer copy) continues its sessions, as `ingest`
    /// stores them.
    func testRepeatedAndGrownContentAnswersAsItsIngest() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let full = try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-ts-first-5.26.log")))
        let lines = full.split(separator: 0x0A, omittingEmptySubsequences: false)
        let half = Data(lines.prefix(lines.count / 2).joined(separator: [0x0A]) + [0x0A])
        func write(_ name: String, _ d: Data) throws -> String {
            let p = dir.appendingPathComponent(name).path
            try d.write(to: URL(fileURLWithPath: p))
            return p
        }
        let a = try write("a.log", half), copy = try write("copy-of-a.log", half), grown = try write("a-grown.log", full)
        let other = Paths.sample("sftpplus/dev-csv-4.16.log")
        for files in [[a, copy], [a, grown], [a, copy, grown, other, a], [grown, a]] {
            try assertSameAnswers(files, in: dir, label: files.map { ($0 as NSString).lastPathComponent }.joined(separator: " "),
                                  answers: Self.answers + Self.moreAnswers)
        }
        // The half is read once: as many sessions as from the half alone.
        let once = try CLI.run(["sessions", "--format", "csv", "--quiet", a])
        let twice = try CLI.run(["sessions", "--format", "csv", "--quiet", a, copy])
        XCTAssertEqual(once.stdout, twice.stdout)
        XCTAssertGreaterThan(once.stdout.components(separatedBy: "\r\n").count, 3)
    }

    /// Filters select in memory as SQL selects in the database.
    func testFiltersSelectAsInTheDatabase() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = Paths.everyTestLog().filter { $0.hasPrefix(Paths.samples.path) }
        let db = dir.appendingPathComponent("f.db").path
        XCTAssertTrue([0, 2].contains(try CLI.run(["ingest", "--quiet", "--db", db] + files).status))
        let all = try CLI.run(["sessions", "--json", "--db", db])
        let sessions = try XCTUnwrap(try JSONSerialization.jsonObject(with: all.stdoutBytes) as? [[String: Any]])
        // Values that occur in the samples, so each filter selects some sessions and leaves others.
        let user = try XCTUnwrap(sessions.compactMap { $0["user"] as? String }.first)
        let peer = try XCTUnwrap(sessions.compactMap { ($0["peer"] as? [String: Any])?["address"] as? String }.first)
        let start = try XCTUnwrap(sessions.compactMap { $0["start"] as? String }.sorted().dropFirst(sessions.count / 3).first)
        for filter in [["--user", user], ["--peer", peer], ["--outcome", "auth-failed"], ["--weak"], ["--since", String(start.prefix(16))],
                       ["--until", String(start.prefix(16))], ["--outcome", "ok", "--weak"]] {
            let stored = try CLI.run(["sessions", "--json", "--db", db] + filter)
            let streamed = try CLI.run(["sessions", "--json", "--quiet"] + filter + files)
            XCTAssertEqual(streamed.stdout, stored.stdout, "\(filter)")
            let n = (try? JSONSerialization.jsonObject(with: stored.stdoutBytes) as? [Any])?.count ?? -1
            XCTAssertTrue(n > 0 && n < sessions.count, "\(filter) selects \(n) of \(sessions.count)")
            let audit = try CLI.run(["audit", "--json", "--min-rating", "info", "--db", db] + filter)
            XCTAssertEqual(try CLI.run(["audit", "--json", "--min-rating", "info", "--quiet"] + filter + files).stdout, audit.stdout, "audit \(filter)")
        }
    }

    /// `report --session` on files keeps that session's records while the pass
    /// reads the rest once: the same report, and the same refusals, as on a database.
    func testOneSessionReportAnswersAsItsIngest() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var compared = 0
        for f in [Paths.sample("sftpplus/dev-ts-first-5.26.log"), Paths.sample("openssh/sftp-vvv-default-ls-get.log"),
                  Paths.sample("sftpplus/dev-csv-4.16.log")] {
            let db = dir.appendingPathComponent("\(compared).db").path
            XCTAssertEqual(try CLI.run(["ingest", "--quiet", "--db", db, f]).status, 0)
            let ids = try CLI.run(["sessions", "--format", "csv", "--db", db]).stdout.components(separatedBy: "\r\n").dropFirst()
                .compactMap { $0.split(separator: ",").first.map(String.init) }.prefix(4)
            for id in ids {
                for format in ["json", "text"] {
                    let stored = try CLI.run(["report", "--session", id, "--format", format, "--db", db])
                    let streamed = try CLI.run(["report", "--session", id, "--format", format, "--quiet", f])
                    XCTAssertEqual(Self.undated(streamed.stdout), Self.undated(stored.stdout), "\(f) \(id) \(format)")
                    XCTAssertEqual(streamed.status, stored.status)
                    compared += 1
                }
            }
            for prefix in ["zzz", ""] {
                let stored = try CLI.run(["report", "--session", prefix, "--db", db])
                let streamed = try CLI.run(["report", "--session", prefix, "--quiet", f])
                XCTAssertEqual(streamed.stderr, stored.stderr, "--session \(prefix.debugDescription)")
                XCTAssertEqual(streamed.status, stored.status)
            }
        }
        XCTAssertGreaterThan(compared, 10)
    }
}
