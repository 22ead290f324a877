import Foundation
import XCTest

/// Where the repository's samples and fixtures are, and scratch directories.
public enum Paths {
    public static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    public static let samples = repo.appendingPathComponent("samples")
    public static let fixtures = repo.appendingPathComponent("Tests/SFTPLogKitTests/Fixtures")
    public static func sample(_ rel: String) -> String { samples.appendingPathComponent(rel).path }
    public static func fixture(_ rel: String) -> String { fixtures.appendingPathComponent(rel).path }

    /// Every bundled sample and hostile or OpenSSH test log (not the fuzz regressions), sorted.
    public static func everyTestLog() -> [String] {
        var out: [String] = []
        for root in [samples.path, fixture("hostile"), fixture("openssh")] {
            guard let e = FileManager.default.enumerator(atPath: root) else { continue }
            for case let rel as String in e where rel.hasSuffix(".log") && !rel.contains("fuzz-regressions") {
                out.append(root + "/" + rel)
            }
        }
        return out.sorted()
    }

    public static func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("sftplog-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    /// A busy server's log from the benchmark's seeded generator (many sessions share a negotiation).
    public static func generatedLog(lines: Int, seed: Int, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("busy-\(lines)-\(seed).log").path
        let gen = try CLI.capture("/usr/bin/env", ["python3", repo.appendingPathComponent("Benchmarks/generate.py").path,
                                                   "--lines", String(lines), "--seed", String(seed)])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        try gen.stdoutBytes.write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// A test case with a scratch directory of its own, removed afterwards.
open class TemporaryDirectoryTestCase: XCTestCase {
    public var dir: URL!
    open override func setUp() { dir = Paths.tempDir() }
    open override func tearDown() { try? FileManager.default.removeItem(at: dir) }
}

/// Shell commands a test needs (compressing fixtures, say), which must succeed.
public enum Shell {
    public static func run(_ script: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CLI.capture("/bin/sh", ["-c", script])
        XCTAssertEqual(r.status, 0, "\(script): \(r.stderr)", file: file, line: line)
    }

    /// Compresses `input` into `output` with `tool` (gzip, bzip2 or xz).
    public static func compress(_ input: String, with tool: String, to output: String) throws {
        try run("\(tool) -c '\(input)' > '\(output)'")
    }
}

/// The OpenSSH transcripts: the corpus with truth files in `samples/openssh`,
/// and the few only the tests use in the fixtures.
public enum OpenSSHFixtures {
    public static let dir = Paths.fixtures.appendingPathComponent("openssh")
    public static let samples = Paths.samples.appendingPathComponent("openssh")

    public static func path(_ name: String) -> String {
        let sample = samples.appendingPathComponent(name).path
        return FileManager.default.fileExists(atPath: sample) ? sample : dir.appendingPathComponent(name).path
    }

    /// Pasted excerpts of transcripts, each with a truth file.
    public static let pastes = Paths.sample("pastes/openssh")

    /// The shared corpus cases (`<case>.log` with a `<case>.truth.json`).
    public static func truthCases() -> [String] { cases(in: samples.path) }

    /// The pasted excerpts' cases.
    public static func pasteCases() -> [String] { cases(in: pastes) }

    static func cases(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".truth.json") }.map { String($0.dropLast(".truth.json".count)) }.sorted()
    }

    /// Every bundled real transcript, one after another in one file in `dir` (as `ssh -E` appends).
    public static func concatenatedTranscripts(in dir: URL) throws -> (path: String, runs: Int) {
        let names = truthCases()
        XCTAssertGreaterThan(names.count, 10)
        var bytes: [UInt8] = []
        for n in names {
            var t = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(n + ".log"))))
            if t.last != 0x0A { t.append(0x0A) }
            bytes += t
        }
        let path = dir.appendingPathComponent("appended.log").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, names.count)
    }
}

/// The real 5.26 sample split into rotated files.
public enum RotatedSample {
    /// Three rotated files in `dir` whose names sort the wrong way round (`.2`
    /// is the oldest), one in a subdirectory, plus noise; returns the log
    /// directory and the sample's lines.
    public static func make(in dir: URL) throws -> (URL, [Data]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-ts-first-5.26.log")))
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map { Data($0) + Data([0x0A]) }
        let logs = dir.appendingPathComponent("var/log/sftpplus")
        try FileManager.default.createDirectory(at: logs.appendingPathComponent("old"), withIntermediateDirectories: true)
        func write(_ name: String, _ range: Range<Int>) throws {
            try lines[range].reduce(Data(), +).write(to: logs.appendingPathComponent(name))
        }
        try write("server.log.2", 0..<30)
        try write("old/server.log.2025-11-21-08-20-00", 30..<60)
        try write("server.log.1", 60..<80)
        try write("server.log", 80..<104)
        try Data("not a log\n".utf8).write(to: logs.appendingPathComponent("README.txt"))
        try Data("hidden\n".utf8).write(to: logs.appendingPathComponent(".server.log.swp"))
        return (logs, lines)
    }
}

/// Unparsed lines named on stderr per file (the CLI's UnparsedReport.shownPerFile).
public enum UnparsedLimit { public static let shown = 5 }
