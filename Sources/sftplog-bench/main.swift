import Foundation
import SFTPLogKit

// Stage-by-stage throughput of the ingest pipeline on one file, so a change
// can be measured where it acts. Usage: sftplog-bench FILE [stage...]
// Stages: split, read, resolve, sessions, json. Timings are printed, never asserted.

let args = CommandLine.arguments
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("""
        usage: sftplog-bench FILE [split|read|resolve|sessions|json]...
               sftplog-bench openssh-table [--repeat N] [--release R] TRANSCRIPT...

        """.utf8))
    exit(2)
}
if args[1] == "openssh-table" {
    try benchOpenSSHTable(Array(args.dropFirst(2)))
    exit(0)
}
let path = args[1]
let stages = args.count > 2 ? Array(args[2...]) : ["split", "read", "resolve", "sessions", "json"]
let catalog = try EventCatalog.shared()
let rules = try SessionRules.bundled()

func time(_ label: String, _ body: () throws -> Int) rethrows {
    let t0 = Date()
    let n = try body()
    let dt = Date().timeIntervalSince(t0)
    print(String(format: "%-9@ %9d items %7.2f s %10.0f /s", label as NSString, n, dt, Double(n) / dt))
}

for stage in stages {
    let src = try InputSource.open(path)
    defer { src.close() }
    switch stage {
    case "split":
        try time("split") {
            var n = 0
            try LineSplitter().split(fd: src.fd) { _ in n += 1 }
            return n
        }
    case "read", "resolve", "sessions", "json":
        let stream = RecordStream(options: ReaderOptions(), catalog: stage == "read" ? nil : catalog)
        let reader = stream.makeReader(file: path, fileYear: nil, format: nil, readerState: nil)
        let builder = SFTPPlusSessionBuilder(rules: rules, file: path, sourceID: 1, timeZone: .current)
        var bytes = 0
        try time(stage) {
            var n = 0
            try stream.run(src, reader: reader) { r in
                n += 1
                if stage == "sessions" { builder.add(r, seq: 0); if n % 20000 == 0 { _ = builder.takeClosed() } }
                if stage == "json" { var o = JSONBytes(); RecordJSON.write(r, to: &o); bytes += o.bytes.count }
            }
            return n
        }
    default:
        print("unknown stage \(stage)")
    }
}
