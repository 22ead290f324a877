import Foundation

/// One physical line of input: its exact bytes (without the terminator), where it
/// starts, and how it ended. The buffer is only valid inside the callback that
/// receives it; readers copy what they keep.
public struct PhysicalLine {
    public let bytes: UnsafeBufferPointer<UInt8>
    /// 1-based line number in the source.
    public let number: Int
    /// Byte offset of the first byte of the line in the source.
    public let offset: Int64
    /// Length of the terminator (0 at end of input, 1 for LF or CR, 2 for CRLF).
    public let terminatorLength: Int

    package init(bytes: UnsafeBufferPointer<UInt8>, number: Int, offset: Int64, terminatorLength: Int) {
        self.bytes = bytes; self.number = number; self.offset = offset; self.terminatorLength = terminatorLength
    }

    public var endOffset: Int64 { offset + Int64(bytes.count + terminatorLength) }
    public var isEmpty: Bool { bytes.isEmpty }

    /// Only spaces and tabs (or nothing).
    @inline(__always) public static func isBlank(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        for c in b where c != 0x20 && c != 0x09 { return false }
        return true
    }
}

/// Splits a byte stream into physical lines. In text with LF line ends a line
/// ends at LF, and any CRs just before it belong to the line end (CRLF, and the
/// CR CR LF a terminal writes); a CR inside a line is part of it (progress
/// meters and prompts redraw with CR). Text without LF (old Mac exports) is
/// split at CR. The first read that holds a line end decides. Lines longer than
/// `maxLineLength` are cut into pieces of that size so memory stays bounded.
public struct LineSplitter {
    public static let chunkSize = 1 << 20
    /// Text read without an LF before CRs are taken as line ends.
    static let modeWindow = 64 << 10
    public var maxLineLength: Int

    public init(maxLineLength: Int = 64 << 20) {
        self.maxLineLength = maxLineLength
    }

    /// Reads `fd` to the end, calling `body` for every physical line.
    /// `startOffset`/`startLine` say where the stream begins in the source
    /// (used when resuming a file that has grown).
    public func split(
        fd: Int32, startOffset: Int64 = 0, startLine: Int = 1, prefix: [UInt8] = [],
        follow: FollowControl? = nil, idle: () throws -> Void = {}, lfEndsLines: Bool = false,
        readSize: Int = LineSplitter.chunkSize,
        _ body: (PhysicalLine) throws -> Void
    ) throws {
        // `readSize`: bytes asked of each read (a small piece of a file needs few).
        let chunkSize = max(4096, min(readSize, LineSplitter.chunkSize))
        // `prefix`: bytes already read from `fd` (e.g. to sniff stdin), split first.
        // Hostile input: the buffer is raw memory grown with realloc. (It was a
        // [UInt8] grown with `append(contentsOf: repeatElement(0, …))`, which
        // debug builds run element by element through unspecialised generics:
        // a 50 MB line took ~40 s there just to grow the buffer.)
        var capacity = max(chunkSize * 2, prefix.count + chunkSize)
        guard var storage = malloc(capacity)?.assumingMemoryBound(to: UInt8.self) else { throw InputError.readFailed(errno: ENOMEM) }
        defer { free(storage) }
        if !prefix.isEmpty { prefix.withUnsafeBufferPointer { _ = memcpy(storage, $0.baseAddress!, $0.count) } }
        var filled = prefix.count  // bytes in buffer
        var lineNumber = startLine
        var offset = startOffset  // source offset of buffer[0]
        var eof = false
        // nil until a read holds a line end; then whether a lone CR ends a line.
        // A piece of a file read from its middle (`lfEndsLines`) has the mode
        // its start was read with: LF.
        var crEndsLines: Bool? = lfEndsLines ? false : nil

        while !eof {
            if capacity - filled < chunkSize {
                let grown = capacity + max(chunkSize, capacity)
                guard let p = realloc(storage, grown) else { throw InputError.readFailed(errno: ENOMEM) }
                storage = p.assumingMemoryBound(to: UInt8.self)
                capacity = grown
            }
            let n: Int = {
                var r: Int
                repeat {
                    r = read(fd, storage + filled, chunkSize)
                } while r < 0 && errno == EINTR
                return r
            }()
            if n < 0 { throw InputError.readFailed(errno: errno) }
            if n == 0 {
                // Following: wait for the file to grow (lines read so far are out already).
                if let follow, try follow.waitForMore(fd: fd, offset: offset + Int64(filled), idle: idle) { continue }
                eof = true
            } else if let follow, follow.shouldStop() {
                eof = true  // interrupted mid-backlog: end after these bytes, the rest is read next time
            }
            filled += n
            if crEndsLines == nil {
                if memchr(storage, 0x0A, filled) != nil { crEndsLines = false }
                else if memchr(storage, 0x0D, filled) != nil {
                    // CRs but no LF yet: an LF may still come (a pipe delivers little at a
                    // time); only a good stretch of text without one is CR-only.
                    if !eof && filled < LineSplitter.modeWindow { continue }
                    crEndsLines = true
                }
            }
            let splitAtCR = crEndsLines ?? true
            var consumed = 0
            do {
                let base = UnsafePointer(storage)
                var pos = 0
                var nextLF = -1
                while pos < filled {
                    if nextLF < pos {
                        if let p = memchr(base + pos, 0x0A, filled - pos) {
                            nextLF = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
                        } else {
                            nextLF = filled
                        }
                    }
                    var end = nextLF
                    var term = nextLF < filled ? 1 : 0
                    if !splitAtCR {
                        while term > 0 && end > pos && base[end - 1] == 0x0D { end -= 1; term += 1 }
                    } else if let p = memchr(base + pos, 0x0D, end - pos) {
                        let cr = base.distance(to: p.assumingMemoryBound(to: UInt8.self))
                        if cr + 1 == nextLF && nextLF < filled {  // a real CRLF (nextLF == filled means "no LF read yet")
                            end = cr; term = 2
                        } else if cr + 1 < filled || eof {
                            end = cr; term = 1
                        } else {
                            // CR is the last byte read: it may be half of a CRLF, wait for more.
                            end = cr; term = 0
                        }
                    }
                    if term == 0 && !eof {
                        // Incomplete line: wait for more bytes unless it is too long.
                        if end - pos < maxLineLength { break }
                        end = pos + maxLineLength
                    }
                    if term == 0 && end == pos { pos = end; break }
                    let len = min(end - pos, maxLineLength)
                    let termLen = len < end - pos ? 0 : term
                    let line = PhysicalLine(
                        bytes: UnsafeBufferPointer(start: base + pos, count: len),
                        number: lineNumber, offset: offset + Int64(pos), terminatorLength: termLen)
                    try body(line)
                    lineNumber += 1
                    pos = pos + len + termLen
                }
                consumed = pos
            }
            if consumed > 0 {
                let rest = filled - consumed
                if rest > 0 { _ = memmove(storage, storage + consumed, rest) }
                filled = rest
                offset += Int64(consumed)
            }
        }
    }
}

public enum InputError: Error, CustomStringConvertible {
    case readFailed(errno: Int32)
    case cannotOpen(path: String, reason: String)
    case isDirectory(path: String)

    public var description: String {
        switch self {
        case .readFailed(let e): return "read failed: \(String(cString: strerror(e)))"
        case .cannotOpen(let path, let reason): return "\(path): \(reason)"
        case .isDirectory(let path): return "\(path): is a directory"
        }
    }
}

extension PhysicalLine {
    /// The terminator bytes that followed the line (they sit right after it in the read buffer).
    public var terminator: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: bytes.baseAddress.map { $0 + bytes.count }, count: terminatorLength)
    }
}

/// Something that turns physical lines into records. One per source; not shared.
public protocol LogReader: AnyObject {
    func feed(_ line: PhysicalLine, _ emit: (consuming Record) throws -> Void) rethrows
    /// End of input: emit whatever is pending.
    func finish(_ emit: (consuming Record) throws -> Void) rethrows
    /// Following a file that has gone quiet: emit what is pending if it is
    /// complete enough (the next line may still continue it, but a follower
    /// should not wait for it).
    func idle(_ emit: (consuming Record) throws -> Void) rethrows
}

extension LogReader {
    public func idle(_ emit: (consuming Record) throws -> Void) rethrows {}
}

/// Options every reader understands.
public struct ReaderOptions: Sendable {
    public var entryFormat: EntryFormat?
    /// Year for syslog timestamps (RFC 3164 has none).
    public var year: Int?
    /// Fallback year when `year` is nil: the file's modification year.
    public var fileYear: Int?
    public var timeZone: TimeZone
    /// Event records keep their line's bytes (`Record.raw`). Off for answers that
    /// never show them: a line's buffer is then reused for the next line instead
    /// of being allocated and freed with each record. Unparsed records, and a last
    /// line without a terminator (noted as such), keep theirs either way.
    public var keepsRaw = true

    public init(entryFormat: EntryFormat? = nil, year: Int? = nil, fileYear: Int? = nil, timeZone: TimeZone = .current) {
        self.entryFormat = entryFormat; self.year = year; self.fileYear = fileYear; self.timeZone = timeZone
    }
}

/// A logical line being assembled from physical lines (line blocks, indented continuations).
package struct PendingLine {
    package var content: [UInt8]
    package var raw: [UInt8]
    package var line: Int
    package var lineCount: Int
    package var offset: Int64
    package var endOffset: Int64
    /// For each physical line after the first: where it starts in `raw` and the
    /// length of the terminator before it.
    var joins: [(start: Int, terminator: Int)] = []

    package init(_ l: PhysicalLine, content: UnsafeBufferPointer<UInt8>) {
        var none: [UInt8] = []
        self.init(l, content: content, buffer: &none)
    }

    /// `init`, its bytes in `buffer`'s storage when no record holds it any more
    /// (`buffer` is left empty).
    package init(_ l: PhysicalLine, content: UnsafeBufferPointer<UInt8>, buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(contentsOf: l.bytes)
        self.raw = buffer
        buffer = []
        // Usually the whole line: share one buffer (a copy per line was measurable).
        self.content = content.count == l.bytes.count ? raw : Array(content)
        self.line = l.number
        self.lineCount = 1
        self.offset = l.offset
        self.endOffset = l.endOffset
    }

    package mutating func append(_ l: PhysicalLine, previousTerminator: [UInt8], content: UnsafeBufferPointer<UInt8>, separator: [UInt8]) {
        self.content.append(contentsOf: separator)
        self.content.append(contentsOf: content)
        raw.append(contentsOf: previousTerminator)
        joins.append((raw.count, previousTerminator.count))
        raw.append(contentsOf: l.bytes)
        lineCount += 1
        endOffset = l.endOffset
    }

    /// One record per physical line of the logical line (terminators dropped),
    /// for text that turned out not to belong together.
    package func physicalRecords(_ kind: RecordKind, file: String) -> [Record] {
        var out: [Record] = []
        let starts = [0] + joins.map(\.start)
        for (k, start) in starts.enumerated() {
            let end = k + 1 < starts.count ? starts[k + 1] - joins[k].terminator : raw.count
            let bytes = Array(raw[start..<end])
            guard !bytes.withUnsafeBufferPointer(PhysicalLine.isBlank) else { continue }
            var r = Record(kind: kind, file: file, line: line + k, raw: bytes, rawIsUTF8: UTF8Text.isValid(bytes))
            r.offset = offset + Int64(start)
            r.endOffset = k + 1 < starts.count ? offset + Int64(starts[k + 1]) : endOffset
            out.append(r)
        }
        return out
    }

    /// Where physical line `k` (0 the first) of this logical line begins in the source.
    package func offset(ofLine k: Int) -> Int64? {
        if k == 0 { return offset }
        guard k > 0, k - 1 < joins.count else { return nil }
        return offset + Int64(joins[k - 1].start)
    }

    /// The line's bytes, kept when `withRaw` or when its last line has no terminator
    /// (`RecordStream.noteMissingTerminator` reads that from them).
    package func record(_ kind: RecordKind, file: String, withRaw: Bool = true) -> Record {
        let keep = withRaw || endOffset == offset + Int64(raw.count)
        let valid = keep ? UTF8Text.isValid(raw) : true
        var r = Record(kind: kind, file: file, line: line, raw: keep ? raw : [], rawIsUTF8: valid)
        r.lineCount = lineCount
        r.offset = offset
        r.endOffset = endOffset
        return r
    }

    /// `record` of an event, its facts filled in by `fill` (built in place:
    /// a record filled by the caller was copied on its way out, every string retained).
    package func record(_ kind: RecordKind, file: String, withRaw: Bool = true, _ fill: (inout Record) -> Void) -> Record {
        var r = record(kind, file: file, withRaw: withRaw)
        fill(&r)
        return r
    }
}
