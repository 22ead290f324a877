import Foundation
import GRDB
import XCTest
import SFTPLogTestSupport
import SFTPLogStore

/// Helpers for the store-safety tests: background `sftplog` processes that
/// can be killed, generated inputs, and table snapshots to compare databases.
enum StoreSafety {
    /// Starts `sftplog args` without waiting (output to /dev/null unless `stderr` is given).
    static func spawn(_ args: [String], stderr: URL? = nil) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = args
        p.environment = CLI.environment()
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        if let stderr {
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            p.standardError = try FileHandle(forWritingTo: stderr)
        } else {
            p.standardError = FileHandle.nullDevice
        }
        try p.run()
        return p
    }

    /// Runs a shell command line (for `ulimit`, `setpriv`), with the CLI's environment.
    static func sh(_ script: String) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        p.environment = CLI.environment()
        let out = Pipe(), err = Pipe()
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = out
        p.standardError = err
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box()
        let g = DispatchGroup()
        g.enter()
        DispatchQueue.global().async { box.data = out.fileHandleForReading.readDataToEndOfFile(); g.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        g.wait()
        p.waitUntilExit()
        // A signal shows as 128+n, as a shell would say.
        let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return CLI.Result(status: status, stdout: String(decoding: box.data, as: UTF8.self),
                          stderr: String(decoding: errData, as: UTF8.self), stdoutBytes: box.data)
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// A ts-first SFTPPlus log of `copies` × 104 distinct lines: the
    /// dev-ts-first-5.26 sample repeated, each copy moved to another day
    /// (`firstDay` days after 2025-01-01), so every line and session differs.
    static func generatedLog(copies: Int, firstDay: Int = 0) throws -> Data {
        let sample = try String(contentsOfFile: Paths.sample("sftpplus/dev-ts-first-5.26.log"), encoding: .utf8)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let start = cal.date(from: DateComponents(year: 2025, month: 1, day: 1))!
        var out = ""
        out.reserveCapacity(sample.utf8.count * copies)
        for k in 0..<copies {
            let d = cal.dateComponents([.year, .month, .day], from: cal.date(byAdding: .day, value: firstDay + k, to: start)!)
            let day = String(format: "%04d-%02d-%02dT", d.year!, d.month!, d.day!)
            out += sample.replacingOccurrences(of: "2025-11-21T", with: day)
        }
        return Data(out.utf8)
    }

    /// The lines of a file as bytes (LF-terminated, terminator dropped).
    static func lines(_ path: String) throws -> [Data] {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        var out = d.split(separator: 0x0A, omittingEmptySubsequences: false).map { Data($0) }
        if out.last?.isEmpty == true { out.removeLast() }
        return out
    }

    /// The database as sftplog's readers see it: a journal a killed bulk load
    /// left is rolled back first (`LogStore.rollBackInterruptedLoad`), which a
    /// read-only connection cannot do.
    static func readOnly(_ path: String) throws -> DatabaseQueue {
        LogStore.rollBackInterruptedLoad(path)
        var c = Configuration()
        c.readonly = true
        c.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: c)
    }

    /// Every stored row that an ingest decides, as text, by table: ids that
    /// depend on the order of inserts and deletes and the ingest times are left out.
    static func snapshot(_ path: String) throws -> [String: [String]] {
        let q = try readOnly(path)
        defer { try? q.close() }
        return try q.read { db in
            let tables: [(String, String, Set<String>)] = [
                ("sources", "id", ["id", "first_ingested_at", "last_ingested_at"]),
                ("records", "source_id, line, seq", ["id"]),
                ("sessions", "id", []),
                ("session_operations", "session_id, position", []),
                ("findings", "session_id, position", []),
                ("session_algorithms_offered", "session_id, side, slot, position", []),
            ]
            var out: [String: [String]] = [:]
            // `records` is a view since migration v8.
            for (table, order, skip) in tables where try db.tableExists(table) || db.viewExists(table) {
                out[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)").map { row in
                    row.columnNames.enumerated().filter { !skip.contains($0.element) }
                        .map { "\($0.element)=\(render(row[$0.offset] as DatabaseValue))" }.joined(separator: "|")
                }
            }
            return out
        }
    }

    static func render(_ v: DatabaseValue) -> String {
        switch v.storage {
        case .null: return "NULL"
        case .int64(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s.debugDescription
        case .blob(let b): return "x'" + b.map { String(format: "%02x", $0) }.joined() + "'"
        }
    }

    /// Fails with the first difference between two snapshots.
    static func assertSame(_ a: [String: [String]], _ b: [String: [String]], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(a.keys), Set(b.keys), what, file: file, line: line)
        for (table, rows) in a.sorted(by: { $0.key < $1.key }) {
            let other = b[table] ?? []
            guard rows != other else { continue }
            let i = (0..<min(rows.count, other.count)).first { rows[$0] != other[$0] } ?? min(rows.count, other.count)
            XCTFail("\(what): table \(table) differs (\(rows.count) vs \(other.count) rows); first difference at row \(i):\n"
                    + "  \(i < rows.count ? rows[i] : "(none)")\n  \(i < other.count ? other[i] : "(none)")", file: file, line: line)
        }
    }


    static func bytes(_ path: String) -> Data? { try? Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Lines of stderr that are sftplog's own messages.
    static func errorLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.hasPrefix("sftplog: ") }
    }

    /// Whether this process can run the binary as an unprivileged user (root ignores file modes).
    static var unprivileged: (prefix: String, available: Bool) {
        if geteuid() != 0 { return ("", true) }
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else { return ("", false) }
        return ("\(setpriv) --reuid=65534 --regid=65534 --clear-groups ", true)
    }
}
