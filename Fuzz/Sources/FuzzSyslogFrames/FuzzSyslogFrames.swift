import FuzzSupport
import SFTPLogKit
@testable import SFTPLogSFTPPlus

// (g) What `watch` does with received syslog: byte 0 picks UDP (odd: the rest is
// cut into datagrams) or TCP (even: the rest is one stream, fed to SyslogFramer
// in reads of 1–64 bytes, octet-counted and newline frames alike); byte 1 the
// message size limit. Each frame must fit the limit and be one line; the frames
// are then read as a spool is (RFC 3164 and RFC 5424 layouts, unparsed records
// for the rest) and go through the alert engine with the bundled rules.
private let rules = try! AlertRules.bundled()
private let judge = SessionJudge.Memo(SessionJudge(policy: try! AlgorithmPolicy.bundled()))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let mode = data[0], limit = 16 + Int(data[1]) * 16
    let body = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let step = 1 + Int(mode >> 2) % 64
    var frames: [SyslogFrame] = []
    var i = 0
    if mode & 1 == 1 {
        while i < body.count {
            let j = min(body.count, i + step)
            if let f = SyslogFrame.datagram(UnsafeRawBufferPointer(rebasing: body[i..<j]), maxBytes: limit) { frames.append(f) }
            i = j
        }
    } else {
        var framer = SyslogFramer(maxBytes: limit)
        while i < body.count {
            let j = min(body.count, i + step)
            framer.feed(UnsafeRawBufferPointer(rebasing: body[i..<j])) { frames.append($0) }
            i = j
        }
        framer.finish { frames.append($0) }
    }
    var spool: [UInt8] = []
    for f in frames {
        precondition(f.bytes.count <= limit, "frame of \(f.bytes.count) bytes over the limit \(limit)")
        precondition(!f.bytes.contains(0x0A) && !f.bytes.contains(0x0D), "a frame holds a line end")
        precondition(!f.bytes.isEmpty, "empty frame")
        spool += f.bytes
        spool.append(0x0A)
    }
    spool.withUnsafeBufferPointer { buf in
        let records = Fuzz.read(buf, SFTPPlusTextReader(file: "spool.log", options: Fuzz.options()))
        Fuzz.check(records, input: buf)
        let engine = AlertEngine(rules: rules, sessionRules: Fuzz.sessionRules, zone: Fuzz.utc) { judge.judge(&$0) }
        var alerts = 0
        engine.deliver = { a in alerts += 1; Fuzz.blackHole(a.json.json) }
        for r in records { engine.add(r) }
        engine.finishAll()
        Fuzz.blackHole(alerts)
    }
    return 0
}
