import FuzzSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogCatalog
@testable import SFTPLogSFTPPlus

// (b) SFTPPlus JSON events: the whole input is one logical line handed to
// `JSONEvents.records` (JSON parser, `{"events":[...]}` batches, context
// variables), then catalogue resolution and NDJSON rendering.
private let catalog = Fuzz.catalog

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buf = UnsafeBufferPointer(start: data, count: size)
    guard size > 0 else { return 0 }
    let line = PhysicalLine(bytes: buf, number: 1, offset: 0, terminatorLength: 0)
    let pending = PendingLine(line, content: buf)
    guard var records = JSONEvents.records(buf, pending, file: "fuzz.json") else { return 0 }
    let resolver = SourceResolver(catalog: catalog)
    for k in records.indices { resolver.resolve(&records[k]) }
    Fuzz.check(records, input: buf)
    return 0
}
