import Foundation

/// One syslog message as received, ready to be read as a log line.
public struct SyslogFrame: Equatable, Sendable {
    /// The message, without its framing: line ends inside it turned into
    /// spaces, so that one message is one line (and one record).
    public var bytes: [UInt8]
    /// Why the frame is not the whole message (cut at the size limit).
    public var note: String?
    public init(bytes: [UInt8], note: String? = nil) { self.bytes = bytes; self.note = note }

    /// A UDP datagram is one message (RFC 5426); a trailing line end or NUL is dropped.
    public static func datagram(_ p: UnsafeRawBufferPointer, maxBytes: Int) -> SyslogFrame? {
        var end = p.count
        while end > 0, p[end - 1] == 0x0A || p[end - 1] == 0x0D || p[end - 1] == 0x00 { end -= 1 }
        guard end > 0 else { return nil }
        let kept = min(end, maxBytes)
        return SyslogFrame(bytes: SyslogFramer.flat(p[0..<kept]), note: kept < end ? SyslogFramer.cutNote(end, maxBytes) : nil)
    }
}

/// Splits a syslog TCP stream into messages (RFC 6587): octet counting
/// (`LEN SP <PRI>…`) or a line ended by LF (or NUL), decided frame by frame,
/// as senders differ. A count is only taken as one when a `<` follows it:
/// a line may start with digits too.
///
/// Memory stays within `maxBytes` (plus one read) per connection: a longer
/// message is cut to its first `maxBytes` bytes, with a note, and the rest
/// skipped.
public struct SyslogFramer {
    public let maxBytes: Int
    private var pending: [UInt8] = []
    /// Bytes of an oversized octet-counted frame still to skip.
    private var skipping = 0
    /// Skipping to the next LF (an oversized line was cut).
    private var skippingLine = false

    public init(maxBytes: Int = 64 * 1024) { self.maxBytes = max(16, maxBytes) }

    static func cutNote(_ length: Int, _ maxBytes: Int) -> String {
        "syslog message of \(length) bytes cut to its first \(maxBytes) (the limit is --max-message)"
    }

    /// Feeds received bytes; `emit` gets each complete message.
    public mutating func feed(_ data: UnsafeRawBufferPointer, _ emit: (SyslogFrame) -> Void) {
        var d = 0
        if skipping > 0 {
            d = min(skipping, data.count)
            skipping -= d
        }
        if skippingLine {
            while d < data.count && data[d] != 0x0A && data[d] != 0x00 { d += 1 }
            guard d < data.count else { return }
            skippingLine = false
            d += 1
        }
        pending.append(contentsOf: data[d...])
        var i = 0
        defer { pending.removeFirst(i) }
        while i < pending.count {
            let c = pending[i]
            if c == 0x0A || c == 0x0D || c == 0x00 || c == 0x20 { i += 1; continue }
            if c >= 0x31 && c <= 0x39 {
                let (n, j) = SyslogFramer.digits(pending, from: i)
                if j + 1 >= pending.count && j - i < 10 { return }  // the header or its next byte is still to come
                if j - i < 10, pending[j] == 0x20, pending[j + 1] == 0x3C {
                    let body = j + 1
                    if pending.count - body >= n {
                        // Whole in what was read, yet maybe longer than the limit: cut all the same.
                        emitCounted(pending, body, body + min(n, maxBytes), length: n, emit)
                        i = body + n
                        continue
                    }
                    guard n > maxBytes, pending.count - body >= maxBytes else { return }
                    emitCounted(pending, body, body + maxBytes, length: n, emit)
                    skipping = n - (pending.count - body)
                    i = pending.count
                    return
                }
            }
            // A line, up to LF or NUL.
            var j = i
            while j < pending.count && pending[j] != 0x0A && pending[j] != 0x00 && j - i < maxBytes { j += 1 }
            if j - i >= maxBytes {
                emit(SyslogFrame(bytes: SyslogFramer.flat(pending[i..<(i + maxBytes)]),
                                 note: "syslog line longer than \(maxBytes) bytes cut (the limit is --max-message)"))
                var k = i + maxBytes
                while k < pending.count && pending[k] != 0x0A && pending[k] != 0x00 { k += 1 }
                if k < pending.count { i = k + 1; continue }
                skippingLine = true
                i = pending.count
                return
            }
            guard j < pending.count else { return }  // the line's end is still to come
            emitLine(pending[i..<j], emit)
            i = j + 1
        }
    }

    /// At the end of the connection: what is left is a last message, said to be cut when it is.
    public mutating func finish(_ emit: (SyslogFrame) -> Void) {
        defer { pending = []; skipping = 0; skippingLine = false }
        guard !skippingLine, skipping == 0 else { return }
        var i = 0
        while i < pending.count, [0x0A, 0x0D, 0x00, 0x20].contains(pending[i]) { i += 1 }
        guard i < pending.count else { return }
        let (n, j) = SyslogFramer.digits(pending, from: i)
        if j > i, j + 1 < pending.count, pending[j] == 0x20, pending[j + 1] == 0x3C, n > pending.count - j - 1 {
            emit(SyslogFrame(bytes: SyslogFramer.flat(pending[(j + 1)...]),
                             note: "syslog message cut short: \(pending.count - j - 1) of its \(n) bytes arrived"))
            return
        }
        emitLine(pending[i...], emit)
    }

    /// The number written at `i` (at most 10 digits) and where its digits end.
    static func digits(_ p: [UInt8], from i: Int) -> (n: Int, end: Int) {
        var j = i, n = 0
        while j < p.count, j - i < 10, p[j] >= 0x30 && p[j] <= 0x39 { n = n * 10 + Int(p[j] - 0x30); j += 1 }
        return (n, j)
    }

    private func emitLine(_ line: ArraySlice<UInt8>, _ emit: (SyslogFrame) -> Void) {
        var l = line
        while let last = l.last, last == 0x0D || last == 0x20 { l.removeLast() }
        if !l.isEmpty { emit(SyslogFrame(bytes: SyslogFramer.flat(l))) }
    }

    private func emitCounted(_ p: [UInt8], _ a: Int, _ b: Int, length: Int, _ emit: (SyslogFrame) -> Void) {
        var l = p[a..<b]
        while let last = l.last, last == 0x0A || last == 0x0D || last == 0x00 { l.removeLast() }
        if !l.isEmpty { emit(SyslogFrame(bytes: SyslogFramer.flat(l), note: length > maxBytes ? SyslogFramer.cutNote(length, maxBytes) : nil)) }
    }

    /// The bytes with CR and LF turned into spaces: one message, one line.
    static func flat<C: Collection<UInt8>>(_ b: C) -> [UInt8] {
        var out = Array(b)
        for k in out.indices where out[k] == 0x0A || out[k] == 0x0D { out[k] = 0x20 }
        return out
    }
}
