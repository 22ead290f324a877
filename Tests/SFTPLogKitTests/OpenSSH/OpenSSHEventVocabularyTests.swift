import Foundation
import XCTest
import SFTPLogTestSupport
@testable import SFTPLogRecords
@testable import SFTPLogOpenSSH

/// The session builder reads OpenSSH records through two closed vocabularies,
/// `OpenSSHEvent` and `OpenSSHFact`. A name there that the reader never writes
/// would be a builder step that can never run: every one must be written by the
/// reader on the bundled transcripts, or named by the message table's data.
final class OpenSSHEventVocabularyTests: XCTestCase {
    func testEveryEventAndFactTheBuilderReadsIsWritten() throws {
        var events = Set<String>(), facts = Set<String>()
        let table = try OpenSSHMessageTable.shared()
        for e in table.entries {
            if let ev = e.event { events.insert(ev) }
            for f in e.fields { if let n = f.name { facts.insert(n) } }
            if let c = e.constant { facts.insert(c.0) }
        }
        let folders = [Paths.sample("openssh"), Paths.sample("pastes/openssh")]
        var files = 0
        for dir in folders {
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".log") {
                files += 1
                for r in try OpenSSHFixtures.records(file: dir + "/" + name) {
                    if case .string(let ev)? = r.extraValue("event") { events.insert(ev) }
                    for (k, _) in r.extra { facts.insert(k) }
                }
            }
        }
        XCTAssertGreaterThan(files, 20)
        // OpenSSH 5.0's totals (in the table, in no bundled transcript), with our own numbers.
        for r in try OpenSSHFixtures.records(text: "debug1: Transferred: stdin 12, stdout 3456, stderr 0 bytes in 1.5 seconds\n") {
            for (k, _) in r.extra { facts.insert(k) }
        }
        let unwrittenEvents = OpenSSHEvent.allCases.filter { !events.contains($0.rawValue) }
        XCTAssertEqual(unwrittenEvents, [], "events the builder handles but nothing writes")
        let unwrittenFacts = OpenSSHFact.allCases.filter { !facts.contains($0.rawValue) }
        XCTAssertEqual(unwrittenFacts, [], "facts the builder reads but nothing writes")
    }
}
