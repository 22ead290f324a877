import FuzzSupport
import Foundation
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogStore
@testable import SFTPLogPipeline

// (e) The whole `parse` path: the real `LineSplitter` reading a file descriptor,
// format detection (`DetectingReader` buffering and replay), the chosen reader
// and catalogue resolution, via `RecordStream.run`.
// The input after the first byte is written to a SOCK_SEQPACKET socket in
// 1…64 messages (the first byte says how many); each `read()` returns exactly one
// message, so the splitter sees short reads at fuzzer-chosen places (CR at the
// end of a read, lines spanning reads) deterministically.
private let catalog = Fuzz.catalog

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let pieces = Int(data[0] & 0x3F) + 1
    let body = UnsafeBufferPointer(start: data + 1, count: size - 1)
    var fds: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &fds) == 0 else { fatalError("socketpair: \(errno)") }
    var big: Int32 = 4 << 20
    setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &big, socklen_t(MemoryLayout<Int32>.size))
    setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &big, socklen_t(MemoryLayout<Int32>.size))
    let step = max(1, (body.count + pieces - 1) / pieces)
    var at = 0
    while at < body.count {
        let n = min(step, body.count - at)
        guard write(fds[1], body.baseAddress! + at, n) == n else { fatalError("socket write: \(errno)") }
        at += n
    }
    close(fds[1])
    defer { close(fds[0]) }
    let source = InputSource(name: "fuzz-input", fd: fds[0], isStdin: true, size: nil, modificationYear: 2024)
    let stream = RecordStream(options: Fuzz.options(), catalog: catalog)
    let reader = stream.makeReader(file: "fuzz-input", fileYear: 2024, format: nil, readerState: nil)
    var records: [Record] = []
    var lines = 0
    do {
        try stream.run(source, reader: reader, onLine: { _ in lines += 1 }) { records.append($0) }
    } catch {
        fatalError("RecordStream.run threw on an in-memory socket: \(error)")
    }
    Fuzz.check(records, input: body)
    return 0
}
