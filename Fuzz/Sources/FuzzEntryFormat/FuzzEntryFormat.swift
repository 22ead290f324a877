import FuzzSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogSFTPPlus

// (f) User-supplied `entry_content` formats (`--entry-format`): compiling the
// format string and matching log lines against it inside the text reader.
// Input: if the first byte is < 0x80, the format string is the bytes before the
// first NUL and the log is the rest; otherwise the first byte picks one of the
// formats below and the rest is the log.
private let catalog = Fuzz.catalog
private let formats: [EntryFormat] = [
    "{timestamp.cwa_14051} | {id} | {account.name} | {account.peer.address}:{account.peer.port} | {message}",
    "{timestamp.iso_8601} {id} {component.uuid} {account.name} {account.peer} {message}",
    "[{timestamp.iso_8601_fractional}] {id}: {message} ({data_json})",
    "{id}{tab}{timestamp.timestamp}{tab}{server.name}{tab}{message}{lf}",
    "{message}|{message}|{id}",
].map { try! EntryFormat($0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let all = UnsafeBufferPointer(start: data, count: size)
    guard size > 0 else { return 0 }
    let format: EntryFormat
    var logStart = 1
    if all[0] < 0x80 {
        let nul = all.firstIndex(of: 0) ?? size
        logStart = min(nul + 1, size)
        guard let f = try? EntryFormat(String(decoding: UnsafeBufferPointer(rebasing: all[0..<nul]), as: UTF8.self)) else {
            return 0
        }
        format = f
    } else {
        format = formats[Int(all[0]) % formats.count]
    }
    let buf = UnsafeBufferPointer(rebasing: all[logStart...])
    let reader = SFTPPlusTextReader(file: "fuzz.log", options: Fuzz.options(entryFormat: format))
    let records = Fuzz.read(buf, reader)
    Fuzz.check(records, input: buf)
    return 0
}
