import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH

/// One file operation of a session (`get`, `put`, `ls`, `mkdir`, `rename`, `rm`, …).
public struct SessionOperation: Equatable, Sendable {
    public var op: FileOperation
    public var path: String
    /// nil when the log never said how it ended.
    public var ok: Bool?
    public var bytes: Int?
    public var to: String?
    public var local: String?
    public var seconds: Double?
    public var bytesPerSecond: Double?
    public var detail: String?
    public var line: Int
    public var ts: LogTimestamp?

    public init(op: FileOperation, path: String, ok: Bool? = nil, line: Int, ts: LogTimestamp? = nil) {
        self.op = op; self.path = path; self.ok = ok; self.line = line; self.ts = ts
    }

    public var json: JSONValue {
        var o: [(String, JSONValue)] = [("op", .string(op.rawValue)), ("path", .string(path)), ("ok", ok.map(JSONValue.bool) ?? .null),
                                         ("bytes", bytes.map(JSONValue.int) ?? .null)]
        if let to { o.append(("to", .string(to))) }
        if let local { o.append(("local", .string(local))) }
        if let seconds { o.append(("seconds", .double(seconds))) }
        if let bytesPerSecond { o.append(("bytes_per_second", .double(bytesPerSecond))) }
        if let detail { o.append(("detail", .string(detail))) }
        o.append(("line", .int(line)))
        return .object(o)
    }
}

/// Where a record is in its source: `records(source_id, line, seq)` is unique.
public struct RecordRef: Equatable, Sendable {
    public var line: Int
    public var seq: Int
    public var duplicate: Bool
    /// The source the line is in (a session continued across a rotation has
    /// records in several); 0 when it is the session's own.
    public var sourceID: Int64
    public init(line: Int, seq: Int, duplicate: Bool = false, sourceID: Int64 = 0) {
        self.line = line; self.seq = seq; self.duplicate = duplicate; self.sourceID = sourceID
    }
}

/// A policy's verdict on an algorithm. The raw values are the `rating`
/// strings of every output, the store and the policy files.
public enum Rating: String, Sendable, CaseIterable {
    case ok, info, warn, fail
    /// A name the policy does not list: counted like `warn`, never silently ok.
    case unknown

    /// Severity: ok 0, info 1, warn and unknown 2, fail 3.
    public var level: Int {
        switch self {
        case .ok: return 0
        case .info: return 1
        case .warn, .unknown: return 2
        case .fail: return 3
        }
    }

    /// warn, fail or unknown: what `--weak` selects and the weak counts count.
    public var isWeak: Bool { level >= 2 }
}

/// What a finding is about: one of the negotiated algorithm kinds, the
/// Diffie-Hellman group size of a group exchange, or Terrapin exposure. The raw
/// values are the `category` strings of every output and the policy files.
public enum AlgorithmCategory: String, Sendable, CaseIterable {
    case kex, hostkey, cipher, mac, compression
    case gexSize = "gex-size"
    case terrapin

    /// The kinds a connection negotiates by name (the policy rates each name).
    public static let negotiated: [AlgorithmCategory] = [.kex, .hostkey, .cipher, .mac, .compression]
}

/// A weak-algorithm finding (filled by the Policy stage).
public struct Finding: Equatable, Sendable {
    public var algorithm: String
    public var category: AlgorithmCategory
    public var direction: String?
    public var rating: Rating
    public var reason: String
    public var reference: String

    public init(algorithm: String, category: AlgorithmCategory, direction: String?, rating: Rating, reason: String, reference: String) {
        self.algorithm = algorithm; self.category = category; self.direction = direction
        self.rating = rating; self.reason = reason; self.reference = reference
    }

    public var json: JSONValue {
        .object([("algorithm", .string(algorithm)), ("category", .string(category.rawValue)),
                 ("direction", direction.map(JSONValue.string) ?? .null), ("rating", .string(rating.rawValue)),
                 ("reason", .string(reason)), ("reference", .string(reference))])
    }
}

/// One reconstructed session: an SFTPPlus connection (server side), a location
/// connection (client side), or one OpenSSH client run.
public struct SessionTimeline: Sendable {
    public var id: SessionID = .none
    public var source: String
    public var side: String
    public var file: String
    public var sourceID: Int64 = 0
    public var peer: Peer?
    public var user: String?
    public var component: String?
    public var location: String?
    public var start: LogTimestamp?
    public var end: LogTimestamp?
    public var startEpoch: Double?
    public var endEpoch: Double?
    public var outcome: SessionOutcome = .incomplete
    public var outcomeDetail: String?
    /// The end of the session is in the log (a close event, the client's last lines).
    /// Nil for sessions stored before this was recorded.
    public var closed: Bool? = false
    public var clientVersion: String?
    public var serverVersion: String?
    public var negotiated = NegotiatedAlgorithms()
    public var strictKex: Bool?
    public var authMethodsTried: [String] = []
    public var authSucceededMethod: String?
    public var authFailures = 0
    public var hostKeyCheck: String?
    public var operations: [SessionOperation] = []
    public var findings: [Finding] = []
    public var terrapinVulnerable: Bool?
    public var terrapinExplanation: String?
    public var eventCount = 0
    public var firstLine = 0
    public var lastLine = 0
    /// The timeline's records, in order, by their place in the source (duplicates:
    /// the same event shown again in another layout).
    public var records: [RecordRef] = []
    /// Server's offer, when the log shows it (OpenSSH debug2): weak names it still offers.
    public var serverOffer: [String: [String]] = [:]
    /// DH group exchange size the server sent, when logged.
    public var gexBits: Int?
    /// Other facts worth keeping (proposals, transfer totals, errors), as JSON.
    public var details: [(String, JSONValue)] = []
    /// The records each derived fact came from (negotiated algorithms, user,
    /// outcome, operations, group size, strict KEX, the server's offer).
    public var evidence: [EvidenceLink] = []

    public init(source: String, side: String, file: String) {
        self.source = source; self.side = side; self.file = file
    }

    public var duration: Double? {
        guard let s = startEpoch, let e = endEpoch else { return nil }
        return max(0, e - s)
    }

    /// The stored `bytes_up`/`bytes_down`, when the session was read without its operations.
    public var storedTransferTotals: (up: Int, down: Int)?

    /// Where the session is in its log: `file lines first–last`, or, when it
    /// went on into a rotated log's next file, each end's file and line.
    /// `escape` renders a file name for the output.
    public func place(_ escape: (String) -> String) -> String {
        guard let last = details.first(where: { $0.0 == "continued_into" })?.1.stringValue, last != file else {
            return "\(escape(file)) lines \(firstLine)–\(lastLine)"
        }
        return "\(escape(file)) line \(firstLine) to \(escape(last)) line \(lastLine)"
    }

    public var bytesUp: Int { storedTransferTotals?.up ?? transferred(.put) }
    public var bytesDown: Int { storedTransferTotals?.down ?? transferred(.get) }

    /// The bytes of the operations of one kind, summed in place (filtering copied
    /// the operations, and their strings, into two arrays first).
    private func transferred(_ kind: FileOperation) -> Int {
        operations.withUnsafeBufferPointer { ops in
            var total = 0
            for k in ops.indices where ops[k].op == kind { total += ops[k].bytes ?? 0 }
            return total
        }
    }
}
