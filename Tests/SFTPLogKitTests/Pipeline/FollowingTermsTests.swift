import Foundation
import GRDB
import XCTest
import SFTPLogKit
import SFTPLogTestSupport
@testable import SFTPLogStore
@testable import SFTPLogPipeline

/// A following run calls the ingestor once per file (each rotation, each
/// syslog spool file), and each call has a writer of its own: every one of them
/// must tell the dictionary what it committed, or terms pile up after the first.
final class FollowingTermsTests: TemporaryDirectoryTestCase {
    func testEveryWriterOfAFollowingRunLetsTermsGo() throws {
        setenv("SFTPLOG_FOLLOW_TERMS", "64", 1)
        defer { unsetenv("SFTPLOG_FOLLOW_TERMS") }
        let store = try LogStore.openForWriting(dir.appendingPathComponent("f.db").path)
        let shared = SharedTerms()
        let ingestor = Ingestor(store: store, stream: RecordStream(options: ReaderOptions(timeZone: TimeZone(identifier: "UTC")!),
                                                                    catalog: try EventCatalog.shared()))
        ingestor.sharedTerms = shared
        ingestor.boundsTerms = true
        var most = 0
        for k in 0..<4 {
            // 1,000 connections from addresses never seen before.
            let path = dir.appendingPathComponent("server.log.\(k)").path
            let lines = (0..<1000).map { i in
                let n = k * 1000 + i
                return "2026-12-0\(k + 1)T10:\(String(format: "%02d:%02d", i / 60, i % 60)).000Z 30014 sftp-1 Unknown 2001:db8::\(String(n, radix: 16)):\(20000 + i) New SSH connection made.\n"
            }
            try lines.joined().write(toFile: path, atomically: true, encoding: .utf8)
            let r = try ingestor.ingest(path)
            XCTAssertEqual(r.records, 1000)
            let terms = try shared.dictionary { throw CocoaError(.featureUnsupported) }
            most = max(most, terms.count)
        }
        try ingestor.finish()
        // 64 kept, plus a file's 1,000 addresses (one batch) until its commit;
        // not the 4,000 of all four files.
        XCTAssertLessThan(most, 2000, "terms held after a writer ended")
        let stored = try store.queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM record_terms WHERE term LIKE '2001:db8::%'") }
        XCTAssertEqual(stored, 4000)
    }
}
