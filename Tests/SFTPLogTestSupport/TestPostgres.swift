import Foundation
import XCTest

/// The PostgreSQL server the store tests use: `$SFTPLOG_TEST_PG`, a URL whose
/// user may create databases (`.ci/postgres start` prints one). Without it the
/// tests are skipped with a message, unless `$SFTPLOG_REQUIRE_PG` is set (CI),
/// where a missing server fails them.
public enum TestPostgres {
    public static func adminURL() throws -> String {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["SFTPLOG_TEST_PG"], !url.isEmpty else {
            if env["SFTPLOG_REQUIRE_PG"] != nil { XCTFail("SFTPLOG_REQUIRE_PG is set but SFTPLOG_TEST_PG names no server") }
            throw XCTSkip("SFTPLOG_TEST_PG names no PostgreSQL server: PostgreSQL tests skipped (start one with `.ci/postgres start DIR`)")
        }
        return url
    }

    /// The URL of database `name` on the test server.
    public static func url(of name: String) throws -> String {
        let admin = try adminURL()
        var base = admin
        if let q = base.firstIndex(of: "?") { base = String(base[..<q]) }
        guard let slash = base.range(of: "/", options: .backwards), slash.lowerBound > base.index(base.startIndex, offsetBy: 13) else {
            return base + "/" + name
        }
        return String(base[..<slash.lowerBound]) + "/" + name
    }

    /// A new, empty database; `drop(_:)` removes it.
    public static func freshDatabase(_ label: String) throws -> String {
        let name = "sftplog_test_\(label)_\(UInt32.random(in: 0...UInt32.max))"
        try psql("CREATE DATABASE \(name)")
        return try url(of: name)
    }

    public static func drop(_ url: String) {
        guard let name = url.split(separator: "/").last.map(String.init), name.hasPrefix("sftplog_test_") else { return }
        _ = try? psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs SQL as the administrator (psql from the server's package).
    @discardableResult
    public static func psql(_ sql: String, database: String? = nil) throws -> String {
        let url = try database ?? adminURL()
        let r = try CLI.capture("/usr/bin/env", ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        if r.status != 0 { throw NSError(domain: "psql", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.stderr]) }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
