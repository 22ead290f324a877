import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogReport

/// The seed article's SFTPPlus 3.30 server and 3.31 client excerpts, copied as the
/// article shows them: `| ` line blocks with wrapped, indented continuations.
final class SeedArticleTests: XCTestCase {
    func testServerExcerptJoinsWrappedLinesAndResolvesEveryMessage() throws {
        let records = try Harness.parse(Paths.sample("sftpplus/seed-server-3.30.log"))
        XCTAssertTrue(records.allSatisfy { $0.kind == .sftpplusEvent }, "\(records.filter { $0.kind != .sftpplusEvent }.map(\.text))")
        XCTAssertEqual(records.count, 18)
        XCTAssertEqual(records.map(\.line).prefix(5), [1, 3, 4, 7, 9])
        let first = records[0]
        XCTAssertEqual(first.layout, "id-first")
        XCTAssertEqual(first.eventID, "30014")
        XCTAssertEqual(first.timestamp?.iso, "2018-02-27T17:28:53")
        XCTAssertEqual(first.component, "sftp-1")
        XCTAssertEqual(first.account, "Unknown")
        XCTAssertEqual(first.peer, Peer(address: "127.0.0.1", port: 58032))
        XCTAssertEqual(first.message, "New SSH connection made.")
        XCTAssertEqual(first.lineCount, 2)
        XCTAssertEqual(records[1].layout, "short")
        XCTAssertNil(records[1].peer)
        let perms = records.first { $0.eventID == "20182" }!
        XCTAssertEqual(perms.message, "Account \"user\" logged in with permissions [[u'allow-full-control'], [u'/main_folder/*', u'allow-full-control'], [u'*.PDF', u'allow-read']]. Files uploaded as: test.txt")
        XCTAssertEqual(perms.account, "user")
        XCTAssertEqual(perms.component, "Process")
        // Every message resolves, the 3.x wordings to their inferred variants.
        for r in records { XCTAssertEqual(r.resolution?.status, .resolved, "line \(r.line): \(r.message ?? "")") }
        let auth = records.first { $0.eventID == "20137" }!
        let inferred = Harness.catalog.events["20137"]!.variants.first { $0.variant == auth.resolution?.variant }!
        XCTAssertTrue(inferred.inferred)
        XCTAssertEqual(inferred.seenIn, ["3.30.0"])
        XCTAssertEqual(stringValue(auth.resolution?.fields.first { $0.0 == "credentials_type" }?.1), "ssh-key")
        XCTAssertEqual(stringValue(auth.resolution?.fields.first { $0.0 == "method_name" }?.1), "Application Accounts")
        let subsystem = records.first { $0.eventID == "30011" }!
        XCTAssertEqual(stringValue(subsystem.resolution?.fields.first { $0.0 == "real_path" }?.1), "/root/home/node/user/")
        // 20138 is the 3.x "Ignoring … authentication" meaning, not 5.x "Failed to synchronize".
        let ignoring = records.first { $0.eventID == "20138" }!
        XCTAssertEqual(ignoring.resolution?.variant, 1)
        XCTAssertTrue(ignoring.resolution?.template?.hasPrefix("Ignoring") ?? false)
    }

    func testClientShellTranscriptKeepsPromptsAndAttributes() throws {
        let records = try Harness.parse(Paths.sample("sftpplus/seed-client-3.31.log"))
        XCTAssertEqual(records.filter { $0.kind == .unparsed }.count, 0)
        XCTAssertEqual(records.first?.kind, .sftpplusShell)
        XCTAssertEqual(records[1].kind, .sftpplusBanner)
        XCTAssertEqual(stringValue(records[1].extraValue("sftpplus_version")), "3.31.0")
        let prompts = records.filter { $0.kind == .sftpplusPrompt }.compactMap { stringValue($0.extraValue("command")) }
        XCTAssertEqual(prompts, ["connect", "gattrs remote_get", "get unknown_file"])
        let attrs = records.filter { $0.kind == .sftpplusAttribute }
        XCTAssertEqual(attrs.compactMap { stringValue($0.extraValue("name")) }, ["name", "path", "size", "modified", "is_file", "is_folder"])
        XCTAssertEqual(stringValue(attrs[3].extraValue("value")), "2018-02-16 16:15:21")
        let lost = records.first { $0.eventID == "30073" }!
        XCTAssertEqual(lost.resolution?.status, .resolved)
        // The article wraps after `key-exchange:`; the value is still the algorithm name.
        XCTAssertEqual(stringValue(lost.resolution?.fields.first { $0.0 == "key_exchange" }?.1), "diffie-hellman-group-exchange-sha256")
        XCTAssertEqual(lost.peer, Peer(address: "localhost", port: 10022))
        let events = records.filter { $0.kind == .sftpplusEvent }
        XCTAssertEqual(events.map(\.eventID!), ["20140", "30072", "30076", "20141", "20156", "30073", "60071", "20145"])
        for r in events { XCTAssertEqual(r.resolution?.status, .resolved, "\(r.eventID!): \(r.message!)") }
    }

    func testInvalidUTF8IsKeptExactly() throws {
        let records = try Harness.parse(Paths.sample("sftpplus/invalid-utf8-5.26.log"))
        let open = records[1]
        XCTAssertFalse(open.rawIsUTF8)
        XCTAssertTrue(open.raw.contains(0xC8))
        XCTAssertTrue(open.message!.contains("\u{FFFD}"))
        let json = RecordJSON.line(open)
        let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let raw = Data(base64Encoded: obj["raw_base64"] as! String)!
        XCTAssertEqual([UInt8](raw), open.raw)
        XCTAssertTrue(records[0].rawIsUTF8)
        XCTAssertNil((try JSONSerialization.jsonObject(with: Data(RecordJSON.line(records[0]).utf8)) as! [String: Any])["raw_base64"])
    }
}
