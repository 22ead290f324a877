import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
import SFTPLogSFTPPlus

/// `parse` prints an event that is one plain line straight from the line
/// (`RecordStream.run`'s `plain`), without making its record. Its NDJSON must be
/// the record's byte for byte, in the same order with the records around it,
/// whether resolved and written at once or resolved later, batch by batch, as
/// `parse`'s render thread does.
final class PlainEventLinesTests: TemporaryDirectoryTestCase {
    struct Output { var records: [UInt8]; var plain: [UInt8]; var batched: [UInt8]; var plainLines: Int }

    func outputs(_ path: String) throws -> Output {
        let stream = RecordStream(options: ReaderOptions(), catalog: try EventCatalog.shared())
        func open() throws -> (InputSource, LogReader) {
            let src = try InputSource.open(path)
            return (src, stream.makeReader(file: path, fileYear: src.modificationYear, format: nil, readerState: nil))
        }
        var records = JSONBytes(capacity: 1 << 16)
        var (src, reader) = try open()
        try stream.run(src, reader: reader) { r in RecordJSON.write(r, to: &records) }
        src.close()

        let direct = JSONOutput(capacity: 64)  // grows as it goes
        var scratch = JSONBytes(capacity: 256)
        var plainLines = 0
        (src, reader) = try open()
        try stream.run(src, reader: reader, plain: { line, checks, file, bytes, values in
            plainLines += 1
            RecordJSON.write(line, checks: checks, file: file, bytes: bytes, values: values, to: direct)
        }) { r in
            RecordJSON.write(r, to: &scratch)
            direct.raw(scratch.bytes)
            scratch.bytes.removeAll()
        }
        src.close()

        // As `parse` does: messages left unresolved while reading, then resolved in
        // order as each batch is written, by a resolver that lives across batches.
        // Small batches, so lines and records cross from one batch to the next.
        var batched: [UInt8] = []
        var batch = NDJSONBatch(capacity: 4)
        let resolver = SourceResolver(catalog: try EventCatalog.shared())
        func handOver() {
            batch.write(resolver: resolver) { o in o.withBytes { batched.append(contentsOf: $0) }; o.removeAll() }
            batch = NDJSONBatch(capacity: 4)
        }
        (src, reader) = try open()
        try stream.run(src, reader: reader, plain: { line, checks, file, bytes, values in
            batch.add(line, checks: checks, file: file, bytes: bytes, values: values)
            if batch.count == 7 { handOver() }
        }, resolving: false) { r in
            batch.add(r)
            if batch.count == 7 { handOver() }
        }
        handOver()
        src.close()
        return Output(records: records.bytes, plain: direct.withBytes { Array($0) }, batched: batched, plainLines: plainLines)
    }

    func testPlainLinesPrintAsTheirRecordsOnEveryLog() throws {
        var inputs = Paths.everyTestLog()
        inputs.append(try Paths.generatedLog(lines: 5000, seed: 3, in: dir))
        var plain = 0, files = 0, bytes = 0
        for f in inputs {
            let o = try outputs(f)
            bytes += o.records.count
            XCTAssertTrue(o.plain == o.records, "\(f): plain lines print otherwise than their records")
            XCTAssertTrue(o.batched == o.records, "\(f): batched plain lines print otherwise than their records")
            plain += o.plainLines
            if o.plainLines > 0 { files += 1 }
        }
        // Most of the generated log and many sample logs go the plain way.
        XCTAssertGreaterThan(plain, 5000)
        XCTAssertGreaterThan(files, 10)
        XCTAssertGreaterThan(bytes, 4 << 20)
    }

    /// A plain line's timestamp is copied from the line only when the line
    /// writes it as `LogTimestamp.iso` would: every other form is rendered, and
    /// every form prints as its record does.
    func testTimestampsInEveryFormPrintAsTheirRecords() throws {
        let copied = ["2025-11-01T00:00:00.100+02:00", "2025-11-01T00:00:01+02:00", "2025-11-01T00:00:02Z",
                      "2025-11-01T00:00:03.123456789-05:30", "2025-11-01T00:00:04.5+00:00", "2025-11-01T00:00:05",
                      "2025-11-01T00:00:06.000001Z", "2025-11-01T00:00:07-00:01"]
        let rendered = ["2025-11-01t00:00:10+02:00", "2025-11-01T00:00:11z", "2025-11-01T00:00:12,250+02:00",
                        "2025-11-01T00:00:13-00:00", "2025-11-01T00:00:14+0200", "2025-11-01T00:00:15+02",
                        "2025-11-01T00:00:16+02:75", "20251101T000017+0200", "20251101T000018Z", "2025-11-01T00:00:19.5-0000"]
        var lines = ""
        for (k, ts) in (copied + rendered).enumerated() {
            let token = Array(ts.utf8)
            let (t, end) = try XCTUnwrap(token.withUnsafeBufferPointer { TimestampScanner.iso($0, at: 0) }, ts)
            XCTAssertEqual(end, token.count, ts)
            let isISO = token.withUnsafeBufferPointer { TextLayouts.isISO($0, t, end) }
            // Copying is right only where the rendering is the token itself.
            XCTAssertEqual(isISO, copied.contains(ts), ts)
            if isISO { XCTAssertEqual(t.iso, ts) } else { XCTAssertNotEqual(t.iso, ts, "\(ts) is rendered as written: worth copying") }
            lines += "\(ts) 30014 sftp-1 Unknown 10.0.0.\(k):22 New SSH connection made.\n"
        }
        let path = dir.appendingPathComponent("timestamps.log").path
        try lines.write(toFile: path, atomically: true, encoding: .utf8)
        let o = try outputs(path)
        XCTAssertEqual(o.plainLines, copied.count + rendered.count)
        XCTAssertTrue(o.plain == o.records, "\(String(decoding: o.plain, as: UTF8.self))\n---\n\(String(decoding: o.records, as: UTF8.self))")
        XCTAssertTrue(o.batched == o.records)
    }

    /// Lines the plain way must leave to records, or must escape: bytes that are
    /// not UTF-8, control characters, quotes and U+2028 in messages, a clock that
    /// goes back, a peer's port out of range, an unknown ID, a wording that does
    /// not fit, a last line without its terminator.
    func testHostileLinesPrintAsTheirRecords() throws {
        var bytes: [UInt8] = []
        func line(_ s: String) { bytes.append(contentsOf: Array(s.utf8)); bytes.append(0x0A) }
        line("2025-11-01T00:00:00.100+02:00 30014 sftp-1 Unknown 10.0.0.1:22 New SSH connection made.")
        line("2025-11-01T00:00:01.000+02:00 20156 sftp-1 bob 10.0.0.1:22 Failed to open \"/in/\u{1B}[31mx\" for reading.")
        bytes.append(contentsOf: Array("2025-11-01T00:00:02.000+02:00 20156 sftp-1 bob 10.0.0.1:22 Bytes \u{FF} here".utf8))
        bytes.append(contentsOf: [0xFF, 0xFE, 0x0A])
        line("2025-11-01T00:00:03.000+02:00 99999 sftp-1 bob 10.0.0.1:22 An ID no catalogue has, with \"quotes\" and \\ back\tslash")
        line("2025-11-01T00:00:04.000+02:00 30014 sftp-1 bob 10.0.0.1:99999 A port out of range.")
        line("2025-10-01T00:00:00+02:00 30014 sftp-1 bob 10.0.0.1:22 A clock gone back a month.")
        line("2025-11-01T00:00:05.5Z 30014 x y 10.0.0.1:22 Line\u{2028}separator.")
        line("30014 2025-11-01 00:00:06 sftp-1 bob 10.0.0.1:22 New SSH connection made.")
        line("2025-11-01T00:00:07+02:00 30014 ")
        line("2099-01-01T00:00:00+00:00 30014 sftp-1 bob 10.0.0.1:22 From the future.")
        line("2025-11-01T00:00:09+02:00 40035 sftp-1 jos\u{E9} 10.0.0.1:22 Failed to open file for reading at \"/in/caf\u{E9} \u{2603}\". Details: no \"such\" file")
        line("2025-11-01T00:00:10+02:00 10095 sftp-1 bob 10.0.0.1:22 Failed to open file \"/\u{7}bell\" for reading at offset 007. Gone")
        bytes.append(contentsOf: Array("2025-11-01T00:00:08+02:00 30014 sftp-1 bob 10.0.0.1:22 Cut short".utf8))
        let path = dir.appendingPathComponent("hostile-plain.log").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let o = try outputs(path)
        XCTAssertTrue(o.plain == o.records, "\(String(decoding: o.plain, as: UTF8.self))\n---\n\(String(decoding: o.records, as: UTF8.self))")
        XCTAssertTrue(o.batched == o.records)
        // All but the line that is not UTF-8, the port out of range (its record
        // carries a note) and the last line, which has no terminator.
        XCTAssertEqual(o.plainLines, 10)
        let text = String(decoding: o.plain, as: UTF8.self)
        XCTAssertTrue(text.contains("\\u001b[31mx"), text)
        XCTAssertTrue(text.contains("\\u2028"), text)
        XCTAssertTrue(text.contains("timestamp goes back"), text)
        XCTAssertTrue(text.contains("raw_base64"), text)
        // Non-ASCII values in a resolved wording's fields; a number written with zeros.
        XCTAssertTrue(text.contains("\"path\":\"/in/caf\u{E9} \u{2603}\""), text)
        XCTAssertTrue(text.contains("\"offset\":7"), text)
    }
}
