import ArgumentParser
import Foundation
import SFTPLogKit

struct Parse: ParsableCommand {
    static let configuration = CommandConfiguration(
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
                final class Failures: @unchecked Sendable { var errors: [String] = []; let lock = NSLock() }
                let failures = Failures()
                try FollowThreads.run(files, start: { name in
                    // One catalogue per thread: templates cache lookups as they go.
                    let stream = RecordStream(options: options, catalog: try EventCatalog.bundled())
                    return FollowThreads.Follower(step: { try parse(name, stream: stream, out: out, unparsed: unparsed, follow: true) })
                }, failed: { _, error in failures.lock.withLock { failures.errors.append("\(error)") } })
                for e in failures.errors { Terminal.warn(e) }
                if !failures.errors.isEmpty { throw ExitCode(1) }
            } else {
                let stream = RecordStream(options: options, catalog: try Catalogs.load())
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

/// NDJSON to stdout in whole records; several followed files write through one lock.
final class RecordOutput: @unchecked Sendable {
    private let lock = NSLock()

    func write(_ buffer: inout JSONBytes) {
        guard !buffer.bytes.isEmpty else { return }
        lock.withLock {
            buffer.bytes.withUnsafeBytes { p in
                var off = 0
                while off < p.count {
                    let n = Foundation.write(1, p.baseAddress! + off, p.count - off)
                    if n <= 0 { if errno == EINTR { continue }; return }
                    off += n
                }
            }
        }
        buffer.bytes.removeAll(keepingCapacity: true)
    }
}

/// Names the first unparsed lines of each file on stderr (file, line, reason)
/// and counts the rest, so a hostile or foreign file cannot flood the terminal.
final class UnparsedReport: @unchecked Sendable {
    static let shownPerFile = 5
    private let lock = NSLock()
    private var perFile: [String: Int] = [:]
    private(set) var total = 0

    func add(_ r: Record) {
        lock.withLock {
            total += 1
            let n = perFile[r.file, default: 0] + 1
            perFile[r.file] = n
            if n <= UnparsedReport.shownPerFile {
                Terminal.warn("\(r.file):\(r.line): unparsed: \(r.diagnostic ?? "not a line of a known layout")")
            }
        }
    }

    func add(file: String, count: Int) {
        lock.withLock { total += count; perFile[file, default: 0] += count }
    }

    func summarise() {
        lock.withLock {
            for (file, n) in perFile.sorted(by: { $0.key < $1.key }) where n > UnparsedReport.shownPerFile {
                Terminal.warn("\(file): \(n - UnparsedReport.shownPerFile) more unparsed lines (\(n) in all)")
            }
        }
    }
}
