import ArgumentParser
import Foundation
import Synchronization
import SFTPLogKit

struct Parse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Print every record of the inputs as NDJSON, in input order.",
        discussion: """
            Exit status: 0 every line parsed; 2 done, but some lines were kept as `unparsed` \
            records (the first ones are named on stderr with file, line and reason); 1 an error.
            """)

    @Argument(help: "Log files or directories (read recursively, in time order), or - for standard input (default).")
    var inputs: [String] = []

    @OptionGroup var input: InputOptions

    @Flag(name: [.customShort("f"), .long], help: "Keep printing records as the files grow, across rotation, until interrupted.")
    var follow = false

    func run() throws {
        try reporting {
            let options = try input.readerOptions()
            let files = try input.files(inputs)
            let out = RecordOutput()
            let unparsed = UnparsedReport()
            if follow {
                let failures = Mutex<[String]>([])
                // One catalogue for every thread: it is immutable once loaded.
                let catalog = try Catalogs.load()
                try FollowThreads.run(files, scan: input.newFileScan(inputs, following: files), command: "parse", start: { name in
                    let stream = RecordStream(options: options, catalog: catalog)
                    return FollowThreads.Follower(step: { try parse(name, stream: stream, out: out, unparsed: unparsed, follow: true) })
                }, failed: { _, error in failures.withLock { $0.append("\(error)") } })
                let errors = failures.withLock { $0 }
                for e in errors { Terminal.warn(e) }
                if !errors.isEmpty { throw ExitCode(1) }
            } else {
                let chunking = Chunking.fromEnvironment()
                // One reading thread resolves nothing (see `parse`): the catalogue is
                // loaded on the render thread meanwhile, off the path to the first line.
                var stream = RecordStream(options: options, catalog: chunking.workers <= 1 ? nil : try Catalogs.load())
                stream.chunking = chunking
                for name in files { _ = try parse(name, stream: stream, out: out, unparsed: unparsed, follow: false) }
            }
            unparsed.summarise()
            if unparsed.total > 0 { throw ExitCode(2) }
        }
    }

    func parse(_ name: String, stream: RecordStream, out: RecordOutput, unparsed: UnparsedReport, follow: Bool) throws -> FollowControl.Ending? {
        let src = try InputSource.open(name)
        defer { src.close() }
        let control = follow && !src.isStream ? FollowControl(path: name, fd: src.fd) : nil
        let reader = stream.makeReader(file: name, fileYear: src.modificationYear, format: nil, readerState: nil)
        if control == nil, (stream.chunking?.workers ?? 1) <= 1 {
            // Plain event lines go straight from the line to the render thread (no
            // record is made for them), the few other records as they come, in one
            // order. This thread reads and parses; the other resolves the messages,
            // in that same order (so each sees the version hint it would have), and
            // writes JSON. It loads the catalogue first (about 30 ms) while this
            // thread reads; should that fail, it writes nothing, and the error is
            // thrown below, as it would have been before the first line.
            let renderer = RenderThread<NDJSONBatch>(name: "sftplog-render", capacity: 4,
                                                     state: { (try? Catalogs.load()).map(SourceResolver.init) },
                                                     render: { resolver, batch in
                                                         guard let resolver else { return }
                                                         batch.write(resolver: resolver, drain: out.write)
                                                     })
            let filling = FillingBatch()
            func handOver() {
                renderer.put(filling.batch)
                filling.batch = NDJSONBatch()
            }
            do {
                // Records read before an error (e.g. corrupt .gz) are still printed.
                defer { renderer.put(filling.batch); renderer.close() }
                try stream.run(src, reader: reader, plain: { line, checks, file, bytes, values in
                    if filling.batch.add(line, checks: checks, file: file, bytes: bytes, values: values) { handOver() }
                }, resolving: false) { r in
                    if r.kind == .unparsed { unparsed.add(r) }
                    if filling.batch.add(r) { handOver() }
                }
            }
            _ = try Catalogs.load()
            return nil
        }
        if control == nil {
            // Records are rendered to NDJSON on a second thread while this one parses
            // (rendering was 40% of `parse`), in batches so the handoff costs little.
            // Rendered batches come back to be freed here: records share strings with the
            // parser's state, and releasing them on the other core made both cores contend
            // for the same reference counts.
            // The render thread's buffer (only it takes the lock, once a batch) and the spent batches.
            let buffer = Mutex(JSONBytes(capacity: 1 << 17))
            let spent = Mutex<[[Record]]>([])
            let renderer = RenderThread<[Record]>(name: "sftplog-render", capacity: 4, render: { records in
                buffer.withLock { buffer in
                    // Read in place: `for r in records` copied (retained) every record.
                    records.withUnsafeBufferPointer { rs in
                        for i in rs.indices {
                            RecordJSON.write(rs[i], to: &buffer)
                            if buffer.bytes.count >= 1 << 16 { out.write(&buffer) }
                        }
                    }
                }
                spent.withLock { $0.append(records) }
            }, finish: { buffer.withLock { out.write(&$0) } })
            var batch: [Record] = []
            batch.reserveCapacity(1024)
            // Batches end at 1,024 records or 4 MiB of lines, so a file of huge lines
            // cannot queue gigabytes.
            var batchBytes = 0
            // Records read before an error (e.g. corrupt .gz) are still printed.
            defer { renderer.put(batch); renderer.close() }
            try stream.runInPieces(src, reader: reader, progress: { _, _ in }) { r in
                if r.kind == .unparsed { unparsed.add(r) }
                batch.append(r)
                batchBytes += r.raw.count
                if batch.count == 1024 || batchBytes >= 4 << 20 {
                    renderer.put(batch)
                    batchBytes = 0
                    batch = []
                    batch.reserveCapacity(1024)
                    spent.withLock { $0.removeAll() }
                }
            }
            return nil
        }
        var buffer = JSONBytes(capacity: 1 << 16)
        defer { out.write(&buffer) }  // records read before an error (e.g. corrupt .gz) are still printed
        try stream.run(src, reader: reader, follow: control, onIdle: { out.write(&buffer) }) { r in
            if r.kind == .unparsed { unparsed.add(r) }
            RecordJSON.write(r, to: &buffer)
            if buffer.bytes.count >= 1 << 16 { out.write(&buffer) }
        }
        return control?.ended
    }
}

/// The batch `parse`'s reading thread fills. The closures that fill it escape
/// (`RecordStream.run`'s `plain` is stored), and a variable they captured was
/// checked for exclusive access at run time on every line; one thread fills it,
/// and no access overlaps another, hence `@exclusivity(unchecked)`.
private final class FillingBatch {
    @exclusivity(unchecked) var batch = NDJSONBatch()
}

/// Bytes to stdout in whole pieces (NDJSON records, session chunks); several followed files write through one lock.
final class RecordOutput: Sendable {
    private let lock = Mutex(())

    func write(_ buffer: inout JSONBytes) {
        guard !buffer.bytes.isEmpty else { return }
        write(buffer.bytes)
        buffer.bytes.removeAll(keepingCapacity: true)
    }

    func write(_ buffer: JSONOutput) {
        guard buffer.count > 0 else { return }
        buffer.withBytes { write($0) }
        buffer.removeAll()
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write($0) }
    }

    func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        lock.withLock { _ in
            var off = 0
            while off < bytes.count {
                let n = Foundation.write(1, base + off, bytes.count - off)
                if n <= 0 { if errno == EINTR { continue }; return }
                off += n
            }
        }
    }
}

/// Names the first unparsed lines of each file on stderr (file, line, reason)
/// and counts the rest, so a hostile or foreign file cannot flood the terminal.
final class UnparsedReport: Sendable {
    static let shownPerFile = 5
    private let counts = Mutex((total: 0, perFile: [String: Int]()))
    var total: Int { counts.withLock { $0.total } }

    func add(_ r: Record) {
        counts.withLock { c in
            c.total += 1
            let n = c.perFile[r.file, default: 0] + 1
            c.perFile[r.file] = n
            if n <= UnparsedReport.shownPerFile {
                Terminal.warn("\(r.file):\(r.line): unparsed: \(r.diagnostic ?? "not a line of a known layout")")
            }
        }
    }

    func add(file: String, count: Int) {
        counts.withLock { $0.total += count; $0.perFile[file, default: 0] += count }
    }

    func summarise() {
        counts.withLock { c in
            for (file, n) in c.perFile.sorted(by: { $0.key < $1.key }) where n > UnparsedReport.shownPerFile {
                Terminal.warn("\(file): \(n - UnparsedReport.shownPerFile) more unparsed lines (\(n) in all)")
            }
        }
    }
}
