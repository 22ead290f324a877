import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogCatalog
@testable import SFTPLogPipeline

/// SFTPLogKit as a library: another package depends on it by version from a
/// git URL (SwiftPM refuses such a dependency when it uses unsafe flags).
final class PackageConsumerTests: TemporaryDirectoryTestCase {
    /// This package's current sources as a git repository tagged 1.0.0.
    func taggedCopy() throws -> URL {
        let repo = dir.appendingPathComponent("sftplog")
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("Tests"), withIntermediateDirectories: true)
        for item in ["Package.swift", "Sources", "Tests/SFTPLogTestSupport"] {
            try FileManager.default.copyItem(at: Paths.repo.appendingPathComponent(item), to: repo.appendingPathComponent(item))
        }
        try Shell.run("""
            cd '\(repo.path)' && git init -q && git add -A && \
            git -c user.name=test -c user.email=test@example.invalid commit -q -m copy && git tag 1.0.0
            """)
        return repo
    }

    func testAPackageDependingOnATaggedVersionBuildsAndReadsASample() throws {
        let repo = try taggedCopy()
        let consumer = dir.appendingPathComponent("consumer")
        try FileManager.default.createDirectory(at: consumer.appendingPathComponent("Sources/consumer"), withIntermediateDirectories: true)
        try """
            // swift-tools-version:6.1
            import PackageDescription
            let package = Package(
                name: "consumer",
                platforms: [.macOS(.v15)],
                dependencies: [.package(url: "\(repo.absoluteString)", from: "1.0.0")],
                targets: [.executableTarget(name: "consumer", dependencies: [.product(name: "SFTPLogKit", package: "sftplog")])]
            )
            """.write(to: consumer.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try """
            import Foundation
            import SFTPLogKit

            // Reads a log through the library and says what it found.
            let path = CommandLine.arguments[1]
            let stream = RecordStream(options: ReaderOptions(timeZone: TimeZone(identifier: "UTC")!), catalog: try EventCatalog.bundled())
            let src = try InputSource.open(path)
            let reader = stream.makeReader(file: path, fileYear: src.modificationYear, format: nil, readerState: nil)
            var records = 0, resolved = 0
            try stream.run(src, reader: reader) { r in
                records += 1
                if r.resolution?.status == .resolved { resolved += 1 }
            }
            print("records \\(records) resolved \\(resolved)")
            """.write(to: consumer.appendingPathComponent("Sources/consumer/main.swift"), atomically: true, encoding: .utf8)

        let build = try CLI.capture("/usr/bin/env", ["swift", "build", "--package-path", consumer.path], environment: nil)
        XCTAssertEqual(build.status, 0, build.stdout + build.stderr)
        let bin = try CLI.capture("/usr/bin/env", ["swift", "build", "--package-path", consumer.path, "--show-bin-path"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let sample = Paths.sample("sftpplus/dev-ts-first-5.26.log")
        // No $SFTPLOG_CATALOG: the catalogue comes from the dependency's resource bundle.
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SFTPLOG_CATALOG")
        let run = try CLI.capture(bin + "/consumer", [sample], environment: env)
        XCTAssertEqual(run.status, 0, run.stderr)

        let expected = try Harness.parse(sample)
        XCTAssertGreaterThan(expected.count, 50)
        let resolved = expected.filter { $0.resolution?.status == .resolved }.count
        XCTAssertGreaterThan(resolved, 0)
        XCTAssertEqual(run.stdout, "records \(expected.count) resolved \(resolved)\n")
    }
}
