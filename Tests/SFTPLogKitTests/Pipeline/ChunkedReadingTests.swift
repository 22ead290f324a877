import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

/// A file read in pieces on several threads must give exactly the records one
/// thread gives: same lines, wordings, notes, in the same order. Tiny pieces
/// put borders inside multi-line records, documentation blocks, JSON events,
/// client-shell transcripts and e-mail quotes.
final class ChunkedReadingTests: XCTestCase {
    /// Every record of `path` as NDJSON, and how many pieces were read in parallel.
    func records(_ path: String, _ stream: RecordStream) throws -> (json: [UInt8], pieces: Int) {
        let src = try InputSource.open(path)
        defer { src.close() }
        let reader = stream.makeReader(file: path, fileYear: src.modificationYear, format: nil, readerState: nil)
        var out = JSONBytes(capacity: 1 << 16)
        var lastLines = 0
        let pieces = try stream.runInPieces(src, reader: reader, progress: { lines, _ in
            XCTAssertGreaterThanOrEqual(lines, lastLines)
            lastLines = lines
        }) { r in RecordJSON.write(r, to: &out) }
        return (out.bytes, pieces)
    }

    /// The SFTPPlus text logs among the test logs, one after another in one file
    /// (a timestamp-first log first, so the head is detected as SFTPPlus text).
    func concatenatedTextLogs() throws -> (path: String, parts: Int) {
        let catalog = try EventCatalog.shared()
        let plain = RecordStream(options: ReaderOptions(), catalog: catalog)
        var parts: [String] = []
        for f in Paths.everyTestLog() {
            let src = try InputSource.open(f)
            let reader = plain.makeReader(file: f, fileYear: nil, format: nil, readerState: nil)
            try plain.run(src, reader: reader) { _ in }
            src.close()
            if (reader as? DetectingReader)?.format == .sftpplusText { parts.append(f) }
        }
        parts.sort { a, b in a.contains("timestamp-first") && !b.contains("timestamp-first") }
        var all = Data()
        for f in parts {
            var d = try Data(contentsOf: URL(fileURLWithPath: f))
            if d.last != 0x0A { d.append(0x0A) }
            all.append(d)
        }
        let path = Paths.tempDir().appendingPathComponent("all-text.log").path
        try all.write(to: URL(fileURLWithPath: path))
        return (path, parts.count)
    }

    func testPiecesGiveTheRecordsOfOneThread() throws {
        let catalog = try EventCatalog.shared()
        let one = RecordStream(options: ReaderOptions(), catalog: catalog)
        let (all, parts) = try concatenatedTextLogs()
        XCTAssertGreaterThanOrEqual(parts, 20)
        var inputs = Paths.everyTestLog()
        inputs.append(all)
        var readInPieces = 0
        for f in inputs {
            let (expected, none) = try records(f, one)
            XCTAssertEqual(none, 0)
            // Pieces of one byte up to a few hundred per file (borders everywhere), on 2 to 4 workers.
            let size = Int((try FileManager.default.attributesOfItem(atPath: f)[.size] as? NSNumber)?.intValue ?? 0)
            var sizes = [max(1, size / 300), max(1, size / 40), 4096]
            if size <= 8192 { sizes.append(1) }
            for (k, bytes) in sizes.enumerated() {
                var stream = one
                stream.chunking = Chunking(bytes: bytes, workers: 2 + k % 3)
                let (got, pieces) = try records(f, stream)
                if pieces > 0 { readInPieces += 1 }
                XCTAssertTrue(got == expected, "\(f) in pieces of \(bytes) bytes")
            }
        }
        XCTAssertGreaterThanOrEqual(readInPieces, 10)
        let (_, pieces) = try records(all, { var s = one; s.chunking = Chunking(bytes: 500, workers: 2); return s }())
        XCTAssertGreaterThan(pieces, 500)
    }

    /// Sessions and findings from pieces are those of one thread (the streaming
    /// pass uses them), and audit's findings are the same when only the events
    /// it needs are resolved, on every test log and on all the text logs in a row.
    func testAuditFromPiecesIsAlike() throws {
        let catalog = try EventCatalog.shared()
        let policy = try AlgorithmPolicy.bundled()
        let memo = SessionJudge.Memo(SessionJudge(policy: policy))
        let rebuild = SessionRebuild(rules: try SessionRules.bundled(), zone: .current, judge: { memo.judge(&$0) })
        let needs = ResolutionNeeds(rules: rebuild.rules, catalog: catalog, operations: false)
        let (all, _) = try concatenatedTextLogs()
        func answers(_ input: String, _ chunking: Chunking?, needs: ResolutionNeeds? = nil) throws -> (audit: String, sessions: [UInt8]) {
            var stream = RecordStream(options: ReaderOptions(), catalog: catalog)
            stream.chunking = chunking
            stream.needs = needs
            var collector = AuditCollector(filter: SessionFilter(), judge: memo, minRating: .info, policyName: policy.name)
            var listing = SessionListing(filter: SessionFilter())
            try SessionStream(stream: stream, sessions: rebuild).run([input], each: { _, r in
                if case .failure(let e) = r { XCTFail("\(input): \(e)") }
            }) { s in collector.add(s); listing.add(s) }
            var out: [UInt8] = []
            SessionListing.json(listing.finish(), framing: .array) { out += $0 }
            return (collector.finish().json.json, out)
        }
        let expected = try answers(all, nil)
        XCTAssertGreaterThan(expected.sessions.count, 10_000)
        XCTAssertTrue(expected.audit.contains("\"rating\":\"fail\""))
        // Borders inside nearly every record, then inside a few sessions; and pieces with only what audit needs.
        for bytes in [97, 20_000] {
            let got = try answers(all, Chunking(bytes: bytes, workers: 2))
            XCTAssertEqual(got.audit, expected.audit, "pieces of \(bytes) bytes")
            XCTAssertTrue(got.sessions == expected.sessions, "pieces of \(bytes) bytes")
        }
        XCTAssertEqual(try answers(all, Chunking(bytes: 1000, workers: 2), needs: needs).audit, expected.audit)
        var skipped = 0
        for f in Paths.everyTestLog() {
            XCTAssertEqual(try answers(f, nil, needs: needs).audit, try answers(f, nil).audit, f)
            // Evidence the needs leave events out: a file operation is not resolved.
            let src = try InputSource.open(f)
            var stream = RecordStream(options: ReaderOptions(), catalog: catalog)
            stream.needs = needs
            let reader = stream.makeReader(file: f, fileYear: nil, format: nil, readerState: nil)
            try stream.run(src, reader: reader) { r in if r.eventID == "30020", r.resolution == nil { skipped += 1 } }
            src.close()
        }
        XCTAssertGreaterThan(skipped, 0)
    }
}
