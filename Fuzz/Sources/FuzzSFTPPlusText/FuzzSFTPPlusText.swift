import FuzzSupport
import SFTPLogKit
@testable import SFTPLogSFTPPlus
@testable import SFTPLogSessions

// (a) SFTPPlus text reader: ID-first, ts-first, short, syslog, `| ` line blocks,
// indented continuations, multi-line JSON, client-shell lines; then catalogue
// resolution of every event and the SFTPPlus session builder.
private let rules = Fuzz.sessionRules

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buf = UnsafeBufferPointer(start: data, count: size)
    let reader = SFTPPlusTextReader(file: "fuzz.log", options: Fuzz.options())
    let records = Fuzz.read(buf, reader)
    Fuzz.check(records, input: buf)
    let sessions = SFTPPlusSessionBuilder(rules: rules, file: "fuzz.log", sourceID: 1, timeZone: Fuzz.utc)
    for (k, r) in records.enumerated() { _ = sessions.add(r, seq: k) }
    Fuzz.blackHole(sessions.finish().count)
    return 0
}
