import FuzzSupport
import SFTPLogKit
@testable import SFTPLogOpenSSH
@testable import SFTPLogSessions

// (d) OpenSSH client transcripts: the line classifier state machine, then the
// session builder (KEXINIT proposals, negotiation, auth, transfers) and the
// session timeline / JSON that `sessions` prints.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buf = UnsafeBufferPointer(start: data, count: size)
    let reader = OpenSSHTranscriptReader(file: "fuzz.txt", options: Fuzz.options())
    let records = Fuzz.read(buf, reader, resolve: false)
    Fuzz.check(records, input: buf)
    let runs = OpenSSHSessionBuilder.sessions(from: records, file: "fuzz.txt")
    for run in runs {
        Fuzz.blackHole(run.json())
        Fuzz.blackHole(OpenSSHSessions.timeline(run, file: "fuzz.txt"))
    }
    Fuzz.blackHole(OpenSSHSessions.timelines(records: records, file: "fuzz.txt", sourceID: 1).count)
    return 0
}
