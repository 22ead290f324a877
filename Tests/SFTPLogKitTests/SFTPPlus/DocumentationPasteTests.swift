import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogStore

/// SFTPPlus excerpts as documentation, tickets and e-mails show them: indented
/// `| ` line blocks, quoted mail, fields missing before the peer, client-shell
/// transcripts, HTTP event-handler requests with JSON as published.
final class DocumentationPasteTests: XCTestCase {
    private func events(_ recs: [Record]) -> [Record] { recs.filter { $0.kind == .sftpplusEvent } }

    func testLineBlocksAtAnyIndentationWithWrappedLines() throws {
        for indent in ["", "   ", "    ", "\t", "  - "] {
            let pad = indent == "  - " ? "    " : indent
            let text = """
            \(indent)| 30014 2019-03-04 10:11:12 sftp-1 Unknown 192.0.2.5:50100
            \(pad)  New SSH connection made.
            \(pad)| 20137 2019-03-04 10:11:13 auth-uuid Unknown 192.0.2.5:50100
            \(pad)  Account "zoe" of type "application" authenticated as "zoe" by
            \(pad)  application authentication "Application Accounts" using ssh-key.
            \(pad)| 2019-03-04 10:11:14 30015 Connection closed.

            """
            let recs = try Harness.parse(text: text)
            let ev = events(recs)
            XCTAssertEqual(ev.map(\.eventID), ["30014", "20137", "30015"], "indent \(indent.debugDescription)")
            XCTAssertEqual(ev.map(\.line), [1, 3, 6], "indent \(indent.debugDescription)")
            XCTAssertEqual(ev.first?.peer, Peer(address: "192.0.2.5", port: 50100))
            XCTAssertEqual(ev.first?.message, "New SSH connection made.")
            XCTAssertEqual(ev[1].message, "Account \"zoe\" of type \"application\" authenticated as \"zoe\" by application authentication \"Application Accounts\" using ssh-key.")
            XCTAssertEqual(ev[1].resolution?.status, .resolved, "the joined wording resolves")
            XCTAssertEqual(recs.filter { $0.kind == .unparsed }.count, 0, "indent \(indent.debugDescription)")
        }
    }

    func testAWrappedLineThatStartsWithAnEventIDAndTimeIsANewEvent() throws {
        let text = """
            | 20137 2019-03-04 10:11:13 auth-uuid Unknown 192.0.2.5:50100
              Account "zoe" of type "application" authenticated as "zoe" by
              20138 2019-03-04 10:11:13 ldap-uuid Unknown 192.0.2.5:50100 Ignoring
              ldap authentication "LDAP" for "zoe" since it
              is not active.
              2019-03-04 10:11:14 30015 Connection closed.
            | 30014 2019-03-04 10:11:15 sftp-1 Unknown 192.0.2.9:50111 New SSH connection made.
            2019-03-04 10:11:16 30014 New SSH connection made.

        """
        let ev = events(try Harness.parse(text: text))
        XCTAssertEqual(ev.map(\.eventID), ["20137", "20138", "30015", "30014", "30014"])
        XCTAssertEqual(ev.map(\.line), [1, 3, 6, 7, 8])
        XCTAssertEqual(ev[0].message, "Account \"zoe\" of type \"application\" authenticated as \"zoe\" by")
        XCTAssertEqual(ev[1].message, "Ignoring ldap authentication \"LDAP\" for \"zoe\" since it is not active.")
        XCTAssertEqual(ev[1].component, "ldap-uuid")
    }

    func testQuotedMailKeepsItsEvents() throws {
        let text = """
        On Tue, someone wrote:
        > | 30014 2019-03-04 10:11:15 sftp-1 Unknown 192.0.2.8:50103
        >   New SSH connection made.
        >> 2019-03-04 10:11:16 30015 Connection closed.
        > thanks

        """
        let recs = try Harness.parse(text: text)
        let ev = events(recs)
        XCTAssertEqual(ev.map(\.eventID), ["30014", "30015"])
        XCTAssertEqual(ev.first?.message, "New SSH connection made.")
        XCTAssertEqual(ev.first?.peer?.port, 50103)
        XCTAssertEqual(recs.filter { $0.kind == .unparsed }.map(\.line), [1, 5])
    }

    func testAFieldMissingBeforeThePeerIsNull() throws {
        let text = """
        30014 2019-03-04 10:11:14 Unknown 192.0.2.6:50101 New SSH connection made.
        30014 2019-03-04 10:11:14 sftp-2 192.0.2.7:50102 New SSH connection made.
        2025-01-02T03:04:05.678+01:00 30014 alice 192.0.2.8:50103 New SSH connection made.
        30014 2019-03-04 10:11:14 sftp-1 Unknown 192.0.2.9:50104 New SSH connection made.

        """
        let ev = events(try Harness.parse(text: text))
        XCTAssertEqual(ev.count, 4)
        XCTAssertEqual(ev.map(\.component), [nil, "sftp-2", nil, "sftp-1"])
        XCTAssertEqual(ev.map(\.account), ["Unknown", nil, "alice", "Unknown"])
        XCTAssertEqual(ev.map { $0.peer?.port }, [50101, 50102, 50103, 50104])
        XCTAssertTrue(ev.allSatisfy { $0.message == "New SSH connection made." })
    }

    func testClientShellEventLinesAreRecordsOfTheirOwn() throws {
        let text = """
            $ ./bin/client-shell.sh sftp://ops@192.0.2.20:22
            > connect
              20156 2019-03-04 10:11:16 Process 0.0.0.0:0 Successfully started location "up" of type sftp.
            > put report.csv
            60071 2019-03-04 10:11:17 Process Process 0.0.0.0:0 Successfully got attributes for "report.csv" on "up".
            name: report.csv

        """
        let recs = try Harness.parse(text: text)
        XCTAssertEqual(recs.map(\.kind), [.sftpplusShell, .sftpplusPrompt, .sftpplusEvent, .sftpplusPrompt, .sftpplusEvent, .sftpplusAttribute])
        XCTAssertEqual(recs[1].extraValue("command"), .string("connect"))
        XCTAssertEqual(recs[1].lineCount, 1, "the event is not folded into the command")
        XCTAssertEqual(recs[2].eventID, "20156")
        XCTAssertEqual(recs[2].account, "Process")
    }

    func testHTTPRequestWithPrettyJSONAsPublished() throws {
        let text = """
            POST /hooks/sftpplus HTTP/1.1
            Host: hooks.example.com
            Content-Type: application/json

            {
                "events": [
                    {
                        "id": "30014",
                        "message": "New SSH connection made.",
                        // the timestamp as the handler sends it
                        "timestamp": {"timestamp": 1551694276.5},
                    },
                    ...
                    {
                        "id": "30015",
                        "message": "Connection closed.",
                        "timestamp": {"timestamp": 1551694280.25}
                    },
                ]
            }

        """
        let recs = try Harness.parse(text: text)
        XCTAssertEqual(recs.map(\.kind), [.httpRequest, .httpHeader, .httpHeader, .sftpplusEvent, .sftpplusEvent])
        XCTAssertEqual(recs[0].extraValue("method"), .string("POST"))
        XCTAssertEqual(recs[0].extraValue("target"), .string("/hooks/sftpplus"))
        XCTAssertEqual(recs[2].extraValue("name"), .string("Content-Type"))
        XCTAssertEqual(recs[2].extraValue("value"), .string("application/json"))
        let ev = events(recs)
        XCTAssertEqual(ev.map(\.eventID), ["30014", "30015"])
        XCTAssertEqual(ev.map(\.line), [7, 14], "each event on the line its object opens")
        XCTAssertEqual(ev.first?.timestamp?.iso, "2019-03-04T10:11:16.5Z")
        XCTAssertEqual(ev.first?.extraValue("json_repaired"), .array([.string("comment"), .string("elision"), .string("trailing comma")]))
    }

    func testJSONTooBrokenToReadNamesTheLine() throws {
        let text = """
        {
          "events": [
            {"id": "30014", "message": "New SSH connection made." "timestamp": 5}
          ]
        }
        2019-03-04 10:11:16 30015 Connection closed.

        """
        let recs = try Harness.parse(text: text)
        // One unparsed record per line, each with its own bytes, all naming where the JSON breaks.
        XCTAssertEqual(recs.map(\.kind), [.unparsed, .unparsed, .unparsed, .unparsed, .unparsed, .sftpplusEvent])
        XCTAssertEqual(recs.map(\.line), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(recs[2].text, "    {\"id\": \"30014\", \"message\": \"New SSH connection made.\" \"timestamp\": 5}")
        for r in recs.dropLast() { XCTAssertTrue(r.diagnostic?.contains("line 3") ?? false, r.diagnostic ?? "") }
        // A value cut short at a blank line does not swallow what follows.
        let cut = try Harness.parse(text: "{\n  \"events\": [\n    {\"id\": \"30014\",\n\n2019-03-04 10:11:16 30015 Connection closed.\n")
        XCTAssertEqual(cut.map(\.kind), [.unparsed, .unparsed, .unparsed, .sftpplusEvent])
        XCTAssertEqual(cut.last?.line, 5)
    }

    func testOtherProgramsTextStaysUnparsed() throws {
        let text = """
        Connected to ftp.example.net.
        220 (vsFTPd 3.0.3)
        230 Login successful.
        ftp> put report.csv
        200 PORT command successful. Consider using PASV.
        226 Transfer complete.
        Traceback (most recent call last):
          File "/opt/x/run.py", line 3, in <module>
        30014 2019-03-04 10:11:14 sftp-1 Unknown 192.0.2.6:50101 New SSH connection made.

        """
        let recs = try Harness.parse(text: text)
        XCTAssertEqual(events(recs).map(\.eventID), ["30014"])
        XCTAssertEqual(events(recs).first?.line, 9)
        XCTAssertEqual(recs.filter { $0.kind == .unparsed }.map(\.line), [1, 2, 3, 4, 5, 6, 7])
    }

    /// Every excerpt in samples/pastes/sftpplus against its hand-checked truth.
    func testEveryDocumentationExcerptMatchesItsTruth() throws {
        let dir = Paths.sample("pastes/sftpplus")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".truth.json") }.map { String($0.dropLast(".truth.json".count)) }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 12, "documentation-shaped excerpts")
        var found = 0, expected = 0
        for name in names {
            let truth = try Harness.json("\(dir)/\(name).truth.json")
            let recs = try Harness.parse("\(dir)/\(name).txt", options: try Harness.options(from: truth))
            let ev = events(recs)
            let want = truth["events"] as? [[String: Any]] ?? []
            expected += want.count
            XCTAssertEqual(ev.count, want.count, "\(name): events \(ev.map { "\($0.line):\($0.eventID ?? "")" })")
            for (r, t) in zip(ev, want) {
                let ctx = "\(name) line \(r.line)"
                XCTAssertEqual(r.line, t["line"] as? Int, ctx)
                XCTAssertEqual(r.eventID, t["event_id"] as? String, ctx)
                XCTAssertTrue(sameInstantText(r.timestamp?.iso, t["ts"] as? String, ignoreOffset: false),
                              "\(ctx): ts \(r.timestamp?.iso ?? "nil") vs \(t["ts"] ?? "nil")")
                XCTAssertEqual(r.component, t["component"] as? String, "\(ctx): component")
                XCTAssertEqual(r.account, t["account"] as? String, "\(ctx): account")
                XCTAssertEqual(r.peer?.address, t["peer_address"] as? String, "\(ctx): peer")
                XCTAssertEqual(r.peer?.port, t["peer_port"] as? Int, "\(ctx): port")
                if let m = t["message"] as? String { XCTAssertEqual(r.message, m, "\(ctx): message") }
                if r.line == t["line"] as? Int, r.eventID == t["event_id"] as? String { found += 1 }
            }
            for o in truth["other_records"] as? [[String: Any]] ?? [] {
                XCTAssertTrue(recs.contains { $0.line == o["line"] as? Int && $0.kind.rawValue == o["kind"] as? String },
                              "\(name): \(o["kind"] ?? "") at line \(o["line"] ?? "")")
            }
            let unparsed = recs.filter { $0.kind == .unparsed }.map(\.line)
            XCTAssertEqual(unparsed, truth["unparsed_lines"] as? [Int] ?? [], "\(name): unparsed lines")
        }
        print("documentation excerpts: \(found) of \(expected) events found with their line and ID in \(names.count) files")
    }
}
