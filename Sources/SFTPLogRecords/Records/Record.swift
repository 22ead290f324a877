import Foundation

/// What a record is. Strings (not an enum) so readers can add kinds
/// (`openssh.kexinit`, …) without touching a central list.
public struct RecordKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ raw: String) { self.rawValue = raw }
    public var description: String { rawValue }

    public static let sftpplusEvent = RecordKind("sftpplus.event")
    /// A client-shell command line (`> get x`).
    public static let sftpplusPrompt = RecordKind("sftpplus.prompt")
    /// A client-shell attribute listing line (`name: Reports_2018`).
    public static let sftpplusAttribute = RecordKind("sftpplus.attribute")
    /// The client-shell banner (`SFTPPlus (3.31.0) file transfer client shell`).
    public static let sftpplusBanner = RecordKind("sftpplus.banner")
    /// The shell command that started the client shell (`$ ./bin/client-shell.sh …`).
    public static let sftpplusShell = RecordKind("sftpplus.shell")
    /// An HTTP request line before a pasted event-handler body (`POST /events HTTP/1.1`).
    public static let httpRequest = RecordKind("http.request")
    /// A header line of that request (`Content-Type: application/json`).
    public static let httpHeader = RecordKind("http.header")
    public static let unparsed = RecordKind("unparsed")
}

public struct Peer: Equatable, Sendable {
    public var address: String
    public var port: Int?
    public init(address: String, port: Int?) { self.address = address; self.port = port }
}

extension Peer {
    /// `address:port` (port after the last colon, so IPv6 works; `[v6]:port` too).
    /// Returns nil when the token cannot be a peer.
    public static func parse(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Peer? {
        let strings = TokenStrings.none
        return parse(p, a, b, strings: strings)
    }

    /// `parse`, the address's string from a reader's `strings`.
    package static func parse(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int, strings: TokenStrings) -> Peer? {
        guard let (address, port) = place(p, a, b) else { return nil }
        return Peer(address: strings.string(p, address.lowerBound, address.upperBound), port: port)
    }

    /// `parse` without making the address's string: where it is in `p`, and the port.
    package static func place(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> (address: Range<Int>, port: Int?)? {
        // Through the base pointer, the bounds checked once: per byte, the checks
        // were most of reading a peer (two tokens a line are tried).
        guard b - a >= 3, a >= 0, b <= p.count, let q = p.baseAddress else { return nil }
        // The port: one to ten digits after the last colon, which is not the first byte.
        var colon = b - 1
        while colon > a, q[colon] &- 0x30 < 10 { colon -= 1 }
        guard colon > a, q[colon] == 0x3A, colon < b - 1, b - colon - 1 <= 10 else { return nil }
        var port = 0
        for k in (colon + 1)..<b { port = port &* 10 &+ Int(q[k] &- 0x30) }
        for k in a..<colon where !isAddressByte(q[k]) { return nil }
        var addrStart = a, addrEnd = colon
        if q[a] == 0x5B && q[colon - 1] == 0x5D { addrStart += 1; addrEnd -= 1 }
        guard addrEnd > addrStart else { return nil }
        return (addrStart..<addrEnd, port <= 65535 ? port : nil)
    }

    /// A byte an address may hold: letters, digits and `.:-_%[]`, looked up in
    /// two bit masks (a dozen comparisons a byte were a tenth of reading a line's peer).
    @inline(__always)
    static func isAddressByte(_ c: UInt8) -> Bool {
        let low: UInt64 = 0x07FF_6020_0000_0000, high: UInt64 = 0x07FF_FFFE_AFFF_FFFE
        // One mask chosen without a branch (digits, dots and letters alternate).
        return c < 128 && ((c & 64 == 0 ? low : high) >> UInt64(c & 63)) & 1 != 0
    }

    /// `address:port` in a whole text.
    public static func parse(text: String) -> Peer? {
        let b = Array(text.utf8)
        return b.withUnsafeBufferPointer { parse($0, 0, $0.count) }
    }
}

/// A catalogue wording as records see it: the Catalog stage's `EventTemplate`,
/// which sits above this stage.
public protocol EventWording: AnyObject, Sendable {
    var template: String { get }
    var groups: [String] { get }
    /// The SFTPPlus versions documented to write it, as text.
    var versions: String? { get }
    /// The `catalog` object of a record's JSON, and its bytes rendered once.
    var catalogObject: JSONValue { get }
    var catalogJSON: [UInt8] { get }
}

/// The catalogue's verdict on an event message (filled by the Catalog stage).
public struct EventResolution: Sendable {
    public enum Status: String, Sendable { case resolved, unresolved, unknownID = "unknown-id" }
    public var status: Status
    public var variant: Int?
    /// The wording that matched; nil when read back from the store, which keeps only
    /// the variant. Held by reference: copying its strings per record was measurable.
    public var wording: (any EventWording)?
    public var fields: [(String, JSONValue)]

    public var template: String? { wording?.template }
    public var groups: [String] { wording?.groups ?? [] }
    public var versions: String? { wording?.versions }

    public init(status: Status, variant: Int? = nil, wording: (any EventWording)? = nil, fields: [(String, JSONValue)] = []) {
        self.status = status; self.variant = variant; self.wording = wording; self.fields = fields
    }
}

/// One logical log line turned into typed facts. Fields a layout lacks stay nil.
public struct Record: Sendable {
    public var kind: RecordKind
    public var file: String
    /// First physical line of the record (1-based).
    public var line: Int
    /// Number of physical lines joined into this record.
    public var lineCount: Int = 1
    /// Byte offsets of the record in its source: [offset, endOffset), the end
    /// including the last line's terminator (where the next record can start).
    public var offset: Int64 = 0
    public var endOffset: Int64 = 0
    public var layout: String?
    public var timestamp: LogTimestamp?
    /// Why the timestamp is not exactly as written (e.g. syslog year assumption).
    public var timestampNote: String?
    public var eventID: String?
    public var component: String?
    public var account: String?
    public var peer: Peer?
    public var message: String?
    /// Text of records that are not events (unparsed lines, prompts, debug lines).
    public var text: String?
    /// Exact bytes of the record's physical lines (inner terminators kept).
    public var raw: [UInt8]
    public var rawIsUTF8: Bool
    /// Layout- or kind-specific facts, in output order.
    public var extra: [(String, JSONValue)] = []
    public var resolution: EventResolution?
    /// For unparsed records: what was wrong.
    public var diagnostic: String?
    /// The session the record belongs to (set by the Sessions stage), and whether it
    /// only repeats an event of that session in another layout.
    public var sessionID: SessionID?
    public var sessionDuplicate = false

    public init(kind: RecordKind, file: String, line: Int, raw: [UInt8], rawIsUTF8: Bool) {
        self.kind = kind; self.file = file; self.line = line; self.raw = raw; self.rawIsUTF8 = rawIsUTF8
    }

    public func extraValue(_ key: String) -> JSONValue? { extra.first(where: { $0.0 == key })?.1 }
}

public enum UTF8Text {
    /// How many bytes at the start are ASCII, scanned eight at a time while they are.
    /// Inlinable, as is `decode`: every reader calls them per line.
    @inlinable @inline(__always)
    public static func asciiPrefixCount(_ p: UnsafeBufferPointer<UInt8>) -> Int {
        var i = 0
        let n = p.count
        if let base = p.baseAddress {
            while i + 8 <= n, UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        }
        while i < n, p[i] < 0x80 { i += 1 }
        return i
    }

    /// Decodes bytes, replacing invalid sequences with U+FFFD; says whether the input was valid.
    @inlinable @inline(__always)
    public static func decode(_ p: UnsafeBufferPointer<UInt8>) -> (String, Bool) {
        if asciiPrefixCount(p) == p.count { return (String(decoding: p, as: UTF8.self), true) }
        if let s = String(validating: p, as: UTF8.self) { return (s, true) }
        return (String(decoding: p, as: UTF8.self), false)
    }

    /// Whether bytes are UTF-8, without making a String when they are ASCII.
    public static func isValid(_ a: [UInt8]) -> Bool {
        a.withUnsafeBufferPointer { isValid($0) }
    }

    public static func isValid(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        let i = asciiPrefixCount(p)
        return i == p.count || String(validating: UnsafeBufferPointer(rebasing: p[i...]), as: UTF8.self) != nil
    }

    public static func decode(_ a: [UInt8]) -> (String, Bool) {
        a.withUnsafeBufferPointer { decode($0) }
    }
}
