import Foundation
import XCTest
import SFTPLogTestSupport

/// `make dist`: one file to copy to a server.
final class DistTests: TemporaryDirectoryTestCase {
    /// The binary `make dist` made: `$SFTPLOG_DIST_BINARY` (CI builds it first),
    /// else built here into its own scratch directory.
    func distBinary() throws -> String {
        if let b = ProcessInfo.processInfo.environment["SFTPLOG_DIST_BINARY"], !b.isEmpty { return b }
        let out = dir.appendingPathComponent("dist")
        let r = try CLI.capture("/usr/bin/env", ["make", "-C", Paths.repo.path, "dist", "DIST=\(out.path)"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return out.appendingPathComponent("sftplog").path
    }

    func testDistBinaryNeedsNoSwiftLibraryAndCarriesItsCatalogue() throws {
        // Alone in an empty directory: no resource bundle or share/ beside it.
        let alone = dir.appendingPathComponent("server/bin")
        try FileManager.default.createDirectory(at: alone, withIntermediateDirectories: true)
        let binary = alone.appendingPathComponent("sftplog").path
        try FileManager.default.copyItem(atPath: try distBinary(), toPath: binary)

        let ldd = try CLI.capture("/usr/bin/env", ["ldd", binary])
        XCTAssertEqual(ldd.status, 0, ldd.stderr)
        XCTAssertTrue(ldd.stdout.contains("libc.so"), ldd.stdout)
        let swiftLibraries = ldd.stdout.split(separator: "\n").filter {
            let l = $0.lowercased()
            return l.contains("swift") || l.contains("foundation") || l.contains("libdispatch") || l.contains("blocksruntime")
                || l.contains("xctest") || l.contains("libicu")
        }
        XCTAssertEqual(swiftLibraries, [], ldd.stdout)

        // HOME unset, no $SFTPLOG_CATALOG, run from an empty directory.
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        var env = ProcessInfo.processInfo.environment
        for k in ["HOME", "SFTPLOG_CATALOG", "SFTPLOG_DB", "SFTPLOG_DATA"] { env.removeValue(forKey: k) }
        env["PATH"] = "/usr/bin:/bin"

        let show = try CLI.capture(binary, ["catalog", "show", "30014", "--json"], environment: env, cwd: empty)
        XCTAssertEqual(show.status, 0, show.stderr)
        let reference = try CLI.run(["catalog", "show", "30014", "--json"])
        XCTAssertEqual(show.stdout, reference.stdout)
        XCTAssertTrue(show.stdout.contains("\"30014\""), show.stdout)

        let sample = Paths.sample("openssh/sftp-cbc-aes128-hmac-sha1.log")
        let audit = try CLI.capture(binary, ["audit", "--json", sample], environment: env, cwd: empty)
        let referenceAudit = try CLI.run(["audit", "--json", sample])
        XCTAssertEqual(audit.status, referenceAudit.status, audit.stderr)
        XCTAssertEqual(audit.stdout, referenceAudit.stdout)
        XCTAssertTrue(audit.stdout.contains("\"rating\""), audit.stdout)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty.path), [], "it wrote into the working directory")
    }
}
