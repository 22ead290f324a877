import SFTPLogRecords

/// An SFTPPlus event read from one plain line and resolved without a `Record`:
/// everything `parse` prints of it. Its bytes and its values' ranges are not
/// held but placed: they are in buffers passed along with it (the line being
/// read, or a batch's shared arrays), so it can be moved to another thread
/// without a copy of its own. Its file name and its `Checks` go beside it.
/// Every stored property is a plain value (no reference, no String), so a copy
/// is a copy of bytes: the two threads copy each line a few times, and a copy
/// that retained its strings and its wording cost more than the rest of it.
public struct PlainEventLine: Sendable {
    public var line: Int
    /// Where the line (without its terminator) is in its byte buffer.
    public var bytes: Range<Int>
    public var layout: TextLayout
    public var timestamp: LogTimestamp?
    /// Where the timestamp is in the line when it reads as `LogTimestamp.iso` writes it.
    public var isoTimestamp: Range<Int>?
    /// Where the tokens are in the line (the strings of a record are not made).
    public var eventID: Range<Int>
    public var component: Range<Int>?
    public var account: Range<Int>?
    public var peer: (address: Range<Int>, port: Int?)?
    /// Where the message starts in the line; it runs to the end.
    public var messageStart: Int
    /// Where, for a resolved message, its values' ranges in the message are in their buffer.
    public var values: Range<Int>

    public init(line: Int, bytes: Range<Int>, layout: TextLayout, timestamp: LogTimestamp?, isoTimestamp: Range<Int>?,
                eventID: Range<Int>, component: Range<Int>?, account: Range<Int>?,
                peer: (address: Range<Int>, port: Int?)?, messageStart: Int, values: Range<Int>) {
        self.line = line; self.bytes = bytes; self.layout = layout; self.timestamp = timestamp
        self.isoTimestamp = isoTimestamp; self.eventID = eventID; self.component = component; self.account = account
        self.peer = peer; self.messageStart = messageStart; self.values = values
    }

    /// What the stream's in-order checks said of a line: the catalogue's match
    /// (`unresolved` when the caller resolves later) and the clock's note.
    /// Nearly every line has the defaults, so batches keep only the others.
    public struct Checks: Sendable {
        public var outcome: EventCatalog.MatchOutcome
        public var timestampNote: String?

        public init(outcome: EventCatalog.MatchOutcome = .unresolved, timestampNote: String? = nil) {
            self.outcome = outcome; self.timestampNote = timestampNote
        }

        /// Nothing a batch need keep: unresolved, no note.
        public var isDefault: Bool {
            guard timestampNote == nil, case .unresolved = outcome else { return false }
            return true
        }
    }

    /// Bytes `r` of the line, in the buffer that holds it.
    public func token(_ r: Range<Int>, in buffer: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: buffer[(bytes.lowerBound + r.lowerBound)..<(bytes.lowerBound + r.upperBound)])
    }

    /// The message, in the buffer that holds the line.
    public func message(in buffer: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: buffer[(bytes.lowerBound + messageStart)..<bytes.upperBound])
    }
}
