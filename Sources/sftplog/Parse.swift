import ArgumentParser
import Foundation
import SFTPLogKit

struct Parse: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every record of the inputs as NDJSON, in input order.")

    @Argument(help: "Log files, or - for standard input (default).")
    var inputs: [String] = []

    @OptionGroup var input: InputOptions

    func run() throws {
        try reporting {
            let stream = RecordStream(options: try input.readerOptions(), catalog: try Catalogs.load())
            var out = JSONBytes(capacity: 1 << 18)
            func flush() {
                out.bytes.withUnsafeBytes { p in
                    var off = 0
                    while off < p.count {
                        let n = Foundation.write(1, p.baseAddress! + off, p.count - off)
                        if n <= 0 { if errno == EINTR { continue }; return }
                        off += n
                    }
                }
                out.bytes.removeAll(keepingCapacity: true)
            }
            for name in inputs.isEmpty ? ["-"] : inputs {
                let src = try InputSource.open(name)
                defer { src.close() }
                let reader = stream.makeReader(file: name, fileYear: src.modificationYear, format: nil, readerState: nil)
                try stream.run(src, reader: reader) { r in
                    RecordJSON.write(r, to: &out)
                    if out.bytes.count >= 1 << 18 { flush() }
                }
            }
            flush()
        }
    }
}

