import FuzzSupport
import SFTPLogKit
@testable import SFTPLogSFTPPlus
@testable import SFTPLogPipeline

// (c) `structured_fields` CSV: header detection, RFC 4180 quoting across
// physical lines, row-to-variable mapping; then catalogue resolution.
private let catalog = Fuzz.catalog

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buf = UnsafeBufferPointer(start: data, count: size)
    let reader = CSVEventReader(file: "fuzz.csv", options: Fuzz.options())
    let records = Fuzz.read(buf, reader)
    Fuzz.check(records, input: buf)
    // What `ingest` saves to resume the file, restored into a fresh reader.
    if let state = reader.savedState {
        let again = CSVEventReader(file: "fuzz.csv", options: Fuzz.options())
        again.restoreHeader(state)
        Fuzz.check(Fuzz.read(buf, again), input: buf)
    }
    return 0
}
