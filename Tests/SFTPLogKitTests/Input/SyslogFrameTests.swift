import XCTest
import SFTPLogKit
import SFTPLogTestSupport

final class SyslogFrameTests: XCTestCase {
    /// Frames of `stream` fed in pieces of `step` bytes.
    func frames(_ stream: [UInt8], step: Int, max: Int = 1024) -> [SyslogFrame] {
        var framer = SyslogFramer(maxBytes: max)
        var out: [SyslogFrame] = []
        var i = 0
        while i < stream.count {
            let j = min(stream.count, i + step)
            stream[i..<j].withUnsafeBytes { framer.feed($0) { out.append($0) } }
            i = j
        }
        framer.finish { out.append($0) }
        return out
    }

    func text(_ f: [SyslogFrame]) -> [String] { f.map { String(decoding: $0.bytes, as: UTF8.self) } }

    let m1 = "<30>Mar  2 10:00:00 mft01 sftpplus[1]: 30014 Unknown 10.0.0.1:1 New SSH connection made."
    let m2 = "<30>1 2026-03-02T10:00:01.5Z mft01 sftpplus 1 - - 20021 Unknown 10.0.0.1:1 Failed."

    func testOctetCountingAndLinesMixedInAnySplit() {
        let stream = Array("\(m1.utf8.count) \(m1)\(m2)\n2026-03-02T10:00:02Z 30014 x 10.0.0.2:2 plain line\n\(m2.utf8.count) \(m2)".utf8)
        for step in [1, 2, 3, 7, 64, stream.count] {
            XCTAssertEqual(text(frames(stream, step: step)), [m1, m2, "2026-03-02T10:00:02Z 30014 x 10.0.0.2:2 plain line", m2], "step \(step)")
        }
    }

    func testADigitLineIsNotTakenForACount() {
        let line = "30014 Unknown 10.0.0.1:1 New SSH connection made."
        XCTAssertEqual(text(frames(Array((line + "\n" + line + "\n").utf8), step: 5)), [line, line])
    }

    func testLineEndsInsideACountedMessageBecomeSpaces() {
        let msg = "<30>1 - h a - - - 30014 a\nb\r\nc"
        let f = frames(Array("\(msg.utf8.count) \(msg)".utf8), step: 4)
        XCTAssertEqual(text(f), ["<30>1 - h a - - - 30014 a b  c"])
    }

    func testOversizedMessagesAreCutWithANoteAndTheStreamGoesOn() {
        let long = "<30>" + String(repeating: "x", count: 5000)
        let stream = Array("\(long.utf8.count) \(long)\(m2.utf8.count) \(m2)".utf8)
        // In pieces, and whole in one read (found by FuzzSyslogFrames: the whole frame passed uncut).
        for step in [333, stream.count] {
            let counted = frames(stream, step: step, max: 100)
            XCTAssertEqual(counted.count, 2, "step \(step)")
            XCTAssertEqual(counted[0].bytes.count, 100, "step \(step)")
            XCTAssertTrue(counted[0].note?.contains("5004 bytes cut") == true, counted[0].note ?? "")
            XCTAssertEqual(text([counted[1]]), [m2])
        }
        let lines = frames(Array((long + "\n" + m1 + "\n").utf8), step: 97, max: 100)
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[0].bytes.count, 100)
        XCTAssertNotNil(lines[0].note)
        XCTAssertEqual(text([lines[1]]), [m1])
    }

    func testACountCutShortByTheConnectionSaysSo() {
        let f = frames(Array("500 \(m1)".utf8), step: 10)
        XCTAssertEqual(text(f), [m1])
        XCTAssertTrue(f[0].note?.contains("cut short") == true)
    }

    func testDatagrams() {
        let d = Array((m1 + "\n").utf8)
        XCTAssertEqual(d.withUnsafeBytes { SyslogFrame.datagram($0, maxBytes: 1024) }?.bytes, Array(m1.utf8))
        XCTAssertNil([UInt8]([0x0A, 0x00]).withUnsafeBytes { SyslogFrame.datagram($0, maxBytes: 1024) })
        XCTAssertEqual(d.withUnsafeBytes { SyslogFrame.datagram($0, maxBytes: 20) }?.bytes.count, 20)
    }

    /// Both RFCs' messages read as SFTPPlus events; broken ones are kept as unparsed, never lost.
    func testTheReaderTakesBothRFCsAndKeepsBrokenFrames() throws {
        _ = Harness.catalog
        let lines = [
            m1,
            "<30>1 2026-03-02T10:00:01.5+01:00 mft01 sftpplus 4242 EVT [meta x=\"a\\]b\"][more] \u{FEFF}20137 alice 10.0.0.1:1 Successful authentication for \"alice\" of type \"application\" from groups/roles \"g\", by \"application:a\" using password credentials as \"alice\". ",
            "<30>1 - - - - - - 30014 Unknown 10.0.0.1:3 New SSH connection made.",
            "<30>1 2026-13-02T10:00:01Z h a - - - 30014 x 10.0.0.1:1 bad month",
            "<999>1 nonsense",
            "<30",
        ]
        let records = try Harness.parse(text: lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(records.count, lines.count, "one record per frame")
        XCTAssertEqual(records.map(\.layout), ["syslog", "syslog-5424", "syslog-5424", nil, nil, nil])
        XCTAssertEqual(records[1].eventID, "20137")
        XCTAssertEqual(records[1].account, "alice")
        XCTAssertEqual(records[1].timestamp?.iso, "2026-03-02T10:00:01.5+01:00")
        XCTAssertEqual(records[1].resolution?.status, .resolved)
        let extra = Dictionary(records[1].extra.map { ($0.0, $0.1.stringValue) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(extra["syslog_host"], "mft01")
        XCTAssertEqual(extra["syslog_tag"], "sftpplus")
        XCTAssertEqual(extra["syslog_procid"], "4242")
        XCTAssertEqual(extra["syslog_msgid"], "EVT")
        XCTAssertEqual(extra["syslog_structured_data"], "[meta x=\"a\\]b\"][more]")
        XCTAssertNil(records[2].timestamp, "a nil timestamp stays unknown")
        XCTAssertEqual(records[2].peer?.address, "10.0.0.1")
        for r in records[3...] { XCTAssertEqual(r.kind, .unparsed) }
    }
}
