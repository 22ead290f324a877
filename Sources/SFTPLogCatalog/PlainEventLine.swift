import SFTPLogRecords

/// An SFTPPlus event read from one plain line and resolved without a `Record`:
/// everything `parse` prints of it. Its bytes and its values' ranges are not
/// held but placed: they are in buffers passed along with it (the line being
/// read, or a batch's shared arrays), so it can be moved to another thread
/// without a copy of its own. Its file name goes beside it: a String in every
/// line had both threads retain and release the one name's storage per line.
public struct PlainEventLine: Sendable {
    public var line: Int
    /// Where the line (without its terminator) is in its byte buffer.
    public var bytes: Range<Int>
    public var layout: String
    public var timestamp: LogTimestamp?
    /// What the clock check says of the timestamp (the line itself has no note).
    public var timestampNote: String?
    /// Where the tokens are in the line (the strings of a record are not made).
    public var eventID: Range<Int>
    public var component: Range<Int>?
    public var account: Range<Int>?
    public var peer: (address: Range<Int>, port: Int?)?
    /// Where the message starts in the line; it runs to the end.
    public var messageStart: Int
    public var outcome: EventCatalog.MatchOutcome
    /// Where, for a resolved message, its values' ranges in the message are in their buffer.
    public var values: Range<Int>

    public init(line: Int, bytes: Range<Int>, layout: String, timestamp: LogTimestamp?,
                timestampNote: String?, eventID: Range<Int>, component: Range<Int>?, account: Range<Int>?,
                peer: (address: Range<Int>, port: Int?)?,
                messageStart: Int, outcome: EventCatalog.MatchOutcome, values: Range<Int>) {
        self.line = line; self.bytes = bytes; self.layout = layout; self.timestamp = timestamp
        self.timestampNote = timestampNote; self.eventID = eventID; self.component = component; self.account = account
        self.peer = peer; self.messageStart = messageStart; self.outcome = outcome; self.values = values
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
