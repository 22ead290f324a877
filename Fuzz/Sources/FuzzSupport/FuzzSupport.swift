import Foundation
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogCatalog
@testable import SFTPLogOpenSSH
@testable import SFTPLogSessions
@testable import SFTPLogStore
@testable import SFTPLogReport

/// Shared pieces of the fuzz harnesses: fixed reader options, the catalogue,
/// an in-memory line splitter with the same line-end rules as `LineSplitter`,
/// and a sink that pushes every record through the `parse` JSON writer.
public enum Fuzz {
    public static let utc = TimeZone(identifier: "UTC")!

    /// Deterministic options: a fixed syslog year (no `Date()`), UTC.
    public static func options(entryFormat: EntryFormat? = nil) -> ReaderOptions {
        ReaderOptions(entryFormat: entryFormat, year: 2024, fileYear: 2024, timeZone: utc)
    }

    /// Repository root, from this file's path (Fuzz/Sources/FuzzSupport/FuzzSupport.swift).
    public static let repoRoot: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The catalogue from `$SFTPLOG_CATALOG` (default: the repository's `catalog/`), loaded once.
    public static let catalog: EventCatalog = {
        if (ProcessInfo.processInfo.environment["SFTPLOG_CATALOG"] ?? "").isEmpty {
            setenv("SFTPLOG_CATALOG", repoRoot + "/catalog", 1)
        }
        do { return try EventCatalog.bundled() } catch {
            fatalError("fuzz harness: cannot load the event catalogue: \(error) (set SFTPLOG_CATALOG)")
        }
    }()

    public static let sessionRules: SessionRules = {
        _ = catalog  // sets SFTPLOG_CATALOG
        do { return try SessionRules.bundled() } catch { fatalError("fuzz harness: cannot load session rules: \(error)") }
    }()

    /// Splits `buf` into physical lines like `LineSplitter` does for a whole file read
    /// at once: LF, CRLF and lone CR end a line; the last line may have no terminator.
    /// The terminator bytes stay right after each line in the buffer (readers rely on it).
    public static func lines(_ buf: UnsafeBufferPointer<UInt8>, _ body: (PhysicalLine) -> Void) {
        var pos = 0, number = 1
        let n = buf.count
        while pos < n {
            var end = pos
            while end < n && buf[end] != 0x0A && buf[end] != 0x0D { end += 1 }
            var term = 0
            if end < n { term = (buf[end] == 0x0D && end + 1 < n && buf[end + 1] == 0x0A) ? 2 : 1 }
            body(PhysicalLine(bytes: UnsafeBufferPointer(rebasing: buf[pos..<end]), number: number,
                              offset: Int64(pos), terminatorLength: term))
            number += 1
            pos = end + term
        }
    }

    /// Feeds a whole buffer to a reader and returns its records (resolved when `resolve`).
    public static func read(_ buf: UnsafeBufferPointer<UInt8>, _ reader: LogReader, resolve: Bool = true) -> [Record] {
        var out: [Record] = []
        let resolver = resolve ? SourceResolver(catalog: catalog) : nil
        let sink: (Record) -> Void = { rec in
            var r = rec
            resolver?.resolve(&r)
            out.append(r)
        }
        lines(buf) { reader.feed($0, sink) }
        reader.finish(sink)
        return out
    }

    /// What every harness does with its records: the invariants a reader promises
    /// plus the NDJSON rendering `sftplog parse` prints.
    public static func check(_ records: [Record], input: UnsafeBufferPointer<UInt8>) {
        var bytes = 0
        for r in records {
            precondition(r.line >= 1, "record with line \(r.line)")
            precondition(r.offset >= 0 && r.offset <= r.endOffset && r.endOffset <= Int64(input.count),
                         "record offsets \(r.offset)..<\(r.endOffset) outside input of \(input.count) bytes")
            bytes &+= RecordJSON.line(r).utf8.count
        }
        blackHole(bytes)
    }

    @inline(never) public static func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }
}
