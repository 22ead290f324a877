import Foundation
import XCTest

/// Runs the built `sftplog` binary, as a user would.
public enum CLI {
    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutBytes: Data
        public init(status: Int32, stdout: String, stderr: String, stdoutBytes: Data) {
            self.status = status; self.stdout = stdout; self.stderr = stderr; self.stdoutBytes = stdoutBytes
        }
    }

    public static var binary: String {
        // A helper building into its own scratch path points the tests at its binary.
        if let b = ProcessInfo.processInfo.environment["SFTPLOG_TEST_BINARY"] { return b }
        // The CLI tests depend on the executable, which SwiftPM builds beside the test bundle.
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sftplog").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        let candidates = [".build/debug/sftplog", ".build/x86_64-unknown-linux-gnu/debug/sftplog"].map { Paths.repo.appendingPathComponent($0).path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The environment every spawned `sftplog` gets: the repo's catalogue, no
    /// default database from the developer's shell, then `extra`.
    public static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["SFTPLOG_CATALOG"] = Paths.repo.appendingPathComponent("catalog").path
        e.removeValue(forKey: "SFTPLOG_DB")
        for (k, v) in extra { e[k] = v }
        return e
    }

    @discardableResult
    public static func run(_ args: [String], stdin: Data? = nil, env: [String: String] = [:], cwd: URL? = nil) throws -> Result {
        try capture(binary, args, stdin: stdin, environment: environment(["COLUMNS": "80"].merging(env) { $1 }), cwd: cwd)
    }

    /// Runs any program to its end with both outputs captured (nil environment: inherited).
    public static func capture(_ executable: String, _ args: [String], stdin: Data? = nil, environment: [String: String]? = nil,
                        cwd: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        if let environment { p.environment = environment }
        if let cwd { p.currentDirectoryURL = cwd }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let inPipe = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try p.run()
        if let stdin {
            DispatchQueue.global().async {
                inPipe.fileHandleForWriting.write(stdin)
                try? inPipe.fileHandleForWriting.close()
            }
        }
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let outData = outBox.data
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), stdoutBytes: outData)
    }

    public static func jsonLines(_ s: String) -> [[String: Any]] {
        s.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}
