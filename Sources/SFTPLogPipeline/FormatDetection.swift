import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogOpenSSH
import SFTPLogSessions
import SFTPLogStore

/// What kind of log a source holds, decided from its first lines.
public enum SourceFormat: String, Sendable {
    case sftpplusText = "sftpplus"
    case sftpplusCSV = "sftpplus-csv"
    case openssh = "openssh"
}

/// Chooses a reader per source from its first lines (cheap and explainable:
/// `explanation` says why). Until it has decided it buffers lines, then replays
/// them into the chosen reader and forwards everything else.
public final class DetectingReader: LogReader {
    public typealias Factory = (SourceFormat) -> LogReader
    let factory: Factory
    private var buffered: [(bytes: [UInt8], number: Int, offset: Int64, termLen: Int)] = []
    private var bufferedBytes = 0
    private var nonBlankLines = 0
    private var chosen: LogReader?
    public private(set) var format: SourceFormat?
    public private(set) var explanation = ""
    /// The reader for the detected format, once detected.
    public var detected: LogReader? { chosen }
    static let sniffLines = 40
    static let sniffBytes = 64 << 10
    /// Lines (blank ones included) buffered at most before deciding.
    static let maxSniffLines = 4096

    public init(factory: @escaping Factory) { self.factory = factory }

    /// Passed on to the SFTPPlus text reader, once chosen (`RecordStream.run`'s `plain`).
    package var plainEvents: PlainEventTaker? {
        didSet { (chosen as? SFTPPlusTextReader)?.plainEvents = plainEvents }
    }

    public func feed(_ line: PhysicalLine, _ emit: (consuming Record) throws -> Void) rethrows {
        if let r = chosen { try r.feed(line, emit); return }
        var copy = [UInt8]()
        copy.reserveCapacity(line.bytes.count + line.terminatorLength)
        copy.append(contentsOf: line.bytes)
        copy.append(contentsOf: line.terminator)
        buffered.append((copy, line.number, line.offset, line.terminatorLength))
        bufferedBytes += line.bytes.count
        // Hostile input: the non-blank count is kept as lines arrive (it was recounted
        // over every buffered line on each feed: 10^6 empty lines never reached a
        // decision and took O(n²), minutes), and a run of blank lines also ends the
        // sniffing, so nothing is held back without bound.
        if !PhysicalLine.isBlank(line.bytes) { nonBlankLines += 1 }
        if nonBlankLines >= DetectingReader.sniffLines || bufferedBytes >= DetectingReader.sniffBytes
            || buffered.count >= DetectingReader.maxSniffLines { try decide(emit) }
    }

    public func finish(_ emit: (consuming Record) throws -> Void) rethrows {
        if chosen == nil { try decide(emit) }
        try chosen!.finish(emit)
    }

    /// A quiet followed file: decide on what arrived so far rather than keep it back.
    public func idle(_ emit: (consuming Record) throws -> Void) rethrows {
        if chosen == nil { if buffered.isEmpty { return }; try decide(emit) }
        try chosen!.idle(emit)
    }

    private func decide(_ emit: (consuming Record) throws -> Void) rethrows {
        // Detection looks at line starts: a huge line is judged by its first 64 KB
        // (+1, so it is still too long to be a CSV header), not copied whole.
        let lines = buffered.map { Array($0.bytes.prefix(min($0.bytes.count - $0.termLen, CSVEventReader.maxHeaderBytes + 1))) }
        let (f, why) = DetectingReader.detect(lines)
        format = f
        explanation = why
        let r = factory(f)
        chosen = r
        (r as? SFTPPlusTextReader)?.plainEvents = plainEvents
        let replay = buffered
        buffered = []
        for l in replay {
            try l.bytes.withUnsafeBufferPointer { all in
                let pl = PhysicalLine(bytes: UnsafeBufferPointer(rebasing: all[0..<(all.count - l.termLen)]),
                                      number: l.number, offset: l.offset, terminatorLength: l.termLen)
                try r.feed(pl, emit)
            }
        }
    }

    static let opensshMarkers: [[UInt8]] = [
        "debug1: ", "debug2: ", "debug3: ", "OpenSSH_", "Authenticated to ", "ssh: connect to host ",
        "Connection closed", "sftp> ", "Transferred: sent", "Warning: Permanently added", "Unable to negotiate with ",
        "Permission denied (", "@@@@@@@@@@@", "Connecting to ", "Bytes per second:", "Connection to ",
        "Host key verification failed.", "kex_exchange_identification: ", "ssh_exchange_identification: ", "scp: ",
        "Read from socket failed: ", "Read from remote host ", "Received disconnect from ", "lost connection",
        "Couldn't read packet: ", "Executing: program ", "The authenticity of host ",
    ].map { Array($0.utf8) }

    /// Decides the format of a source from its first lines.
    public static func detect(_ lines: [[UInt8]]) -> (SourceFormat, String) {
        var openssh = 0, sftpplus = 0, total = 0
        var firstNonBlank: [UInt8]?
        for l in lines {
            var s = l[...]
            while let c = s.first, c == 0x20 || c == 0x09 { s = s.dropFirst() }
            guard !s.isEmpty else { continue }
            total += 1
            if firstNonBlank == nil { firstNonBlank = l }
            if opensshMarkers.contains(where: { s.starts(with: $0) }) { openssh += 1; continue }
            // A pasted terminal: the command line that ran the client counts for several lines.
            if let text = String(bytes: s, encoding: .utf8), let (_, cmd) = PasteLines.command(text[...]),
               PasteLines.clientTool(cmd) != nil {
                openssh += 3
                continue
            }
            let isEvent: Bool = s.withUnsafeBufferPointer { p in
                let q = (p.count > 2 && p[0] == 0x7C && p[1] == 0x20) ? UnsafeBufferPointer(rebasing: p[2...]) : p
                return SFTPPlusTextReader.startsTextEvent(q) || (q.first == 0x3C) || (q.first == 0x7B)
            }
            if isEvent { sftpplus += 1 }
        }
        if let h = firstNonBlank, h.withUnsafeBufferPointer({ CSVEventReader.header($0) }) != nil {
            return (.sftpplusCSV, "first line is a structured_fields CSV header")
        }
        if openssh > sftpplus {
            return (.openssh, "\(openssh) of the first \(total) lines look like OpenSSH client output, \(sftpplus) like SFTPPlus events")
        }
        return (.sftpplusText, "\(sftpplus) of the first \(total) lines look like SFTPPlus events, \(openssh) like OpenSSH client output")
    }
}
