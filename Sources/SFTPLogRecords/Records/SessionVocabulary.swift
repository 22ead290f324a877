import Foundation

/// Algorithms a connection negotiated, by direction (c2s = client to server).
/// MACs are nil for AEAD ciphers (logged as `<implicit>`).
public struct NegotiatedAlgorithms: Hashable, Sendable {
    public var kex: String?
    public var hostkey: String?
    public var cipherC2S: String?
    public var cipherS2C: String?
    public var macC2S: String?
    public var macS2C: String?
    public var compressionC2S: String?
    public var compressionS2C: String?

    public init(kex: String? = nil, hostkey: String? = nil, cipherC2S: String? = nil, cipherS2C: String? = nil,
                macC2S: String? = nil, macS2C: String? = nil, compressionC2S: String? = nil, compressionS2C: String? = nil) {
        self.kex = kex; self.hostkey = hostkey; self.cipherC2S = cipherC2S; self.cipherS2C = cipherS2C
        self.macC2S = macC2S; self.macS2C = macS2C; self.compressionC2S = compressionC2S; self.compressionS2C = compressionS2C
    }

    public var isEmpty: Bool { self == NegotiatedAlgorithms() }

    /// Fills what is still unknown from `other` (a later event may log more).
    public mutating func merge(_ other: NegotiatedAlgorithms) {
        kex = kex ?? other.kex; hostkey = hostkey ?? other.hostkey
        cipherC2S = cipherC2S ?? other.cipherC2S; cipherS2C = cipherS2C ?? other.cipherS2C
        macC2S = macC2S ?? other.macC2S; macS2C = macS2C ?? other.macS2C
        compressionC2S = compressionC2S ?? other.compressionC2S; compressionS2C = compressionS2C ?? other.compressionS2C
    }

    public var json: JSONValue {
        func v(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        return .object([("kex", v(kex)), ("hostkey", v(hostkey)), ("cipher_c2s", v(cipherC2S)), ("cipher_s2c", v(cipherS2C)),
                        ("mac_c2s", v(macC2S)), ("mac_s2c", v(macS2C)), ("compression_c2s", v(compressionC2S)),
                        ("compression_s2c", v(compressionS2C))])
    }
}

/// How a session (an SFTPPlus server session or an OpenSSH client run) ended.
/// The raw values are the `outcome` strings of every output and of the store.
public enum SessionOutcome: String, Sendable, CaseIterable {
    case ok
    case authFailed = "auth-failed"
    case negotiationFailed = "negotiation-failed"
    case connectionRefused = "connection-refused"
    case hostkeyChanged = "hostkey-changed"
    case hostkeyUnknown = "hostkey-unknown"
    case sftpCommandFailed = "sftp-command-failed"
    case disconnected
    case incomplete
}

/// A file operation of a session: an SFTP request SFTPPlus logged, or an
/// sftp/scp command a client ran. Open like `RecordKind`: a client may type a
/// command no list names, and it is kept as typed. The raw values are the `op`
/// strings of every output and of `catalog/session-rules.json`.
public struct FileOperation: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ raw: String) { self.rawValue = raw }
    public var description: String { rawValue }

    public static let get = FileOperation("get"), put = FileOperation("put")
    /// sftp's resuming and appending transfers.
    public static let reget = FileOperation("reget"), reput = FileOperation("reput")
    public static let aget = FileOperation("aget"), aput = FileOperation("aput")
    public static let ls = FileOperation("ls"), stat = FileOperation("stat"), setstat = FileOperation("setstat")
    public static let mkdir = FileOperation("mkdir"), rmdir = FileOperation("rmdir"), rm = FileOperation("rm")
    public static let rename = FileOperation("rename"), symlink = FileOperation("symlink"), readlink = FileOperation("readlink")
    public static let open = FileOperation("open")
    /// SFTPPlus's transfer events, which become a get or a put by the file's open mode.
    public static let transfer = FileOperation("transfer")

    /// A file's contents moved: what the `files` counts count.
    public var isFileTransfer: Bool { self == .get || self == .put }
}

/// A session's ID: twelve hex digits of a hash of what identifies the session
/// (source, side, file name, peer, location, first line, start), so the same
/// session has the same ID in every run and database. Empty until known.
public struct SessionID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ raw: String) { self.rawValue = raw }
    public var description: String { rawValue }

    /// Not known yet (the session has had no event).
    public static let none = SessionID("")
    public var isEmpty: Bool { rawValue.isEmpty }

    public static func < (a: SessionID, b: SessionID) -> Bool { a.rawValue < b.rawValue }
}

/// A fact the session builders derive, that evidence links point from. The raw
/// values are the `fact` strings of `evidence` arrays and of the `evidence` view.
public enum EvidenceFact: String, Sendable, CaseIterable {
    // The most frequent first: the stored codes are bits of a mask, and an
    // operation's record (most links) then costs one digit.
    /// One file operation: `item` is its index in `operations`.
    case operation
    case user, outcome
    case kex = "negotiated.kex", hostkey = "negotiated.hostkey"
    case cipherC2S = "negotiated.cipher_c2s", cipherS2C = "negotiated.cipher_s2c"
    case macC2S = "negotiated.mac_c2s", macS2C = "negotiated.mac_s2c"
    case compressionC2S = "negotiated.compression_c2s", compressionS2C = "negotiated.compression_s2c"
    /// The Diffie-Hellman group size of a group exchange.
    case gexBits = "gex_bits"
    /// What shows whether strict KEX was in force (the proposals, or its own line).
    case strictKex = "strict_kex"
    /// The server's proposal (weak names it offers).
    case serverOffer = "server_offer"

    /// The stored code (`evidence_rows.fact`): the position in `allCases`, which only grows at
    /// the end. A switch, not a table: links are sorted by it (a dictionary hashed every comparison).
    public var code: Int {
        switch self {
        case .operation: return 0
        case .user: return 1
        case .outcome: return 2
        case .kex: return 3
        case .hostkey: return 4
        case .cipherC2S: return 5
        case .cipherS2C: return 6
        case .macC2S: return 7
        case .macS2C: return 8
        case .compressionC2S: return 9
        case .compressionS2C: return 10
        case .gexBits: return 11
        case .strictKex: return 12
        case .serverOffer: return 13
        }
    }
    public init?(code: Int) {
        guard EvidenceFact.ordered.indices.contains(code) else { return nil }
        self = EvidenceFact.ordered[code]
    }
    // Made once: `allCases` builds its array at every call.
    private static let ordered = allCases

    /// The negotiated slots, in `NegotiatedAlgorithms`' order.
    public static let negotiated: [EvidenceFact] = [.kex, .hostkey, .cipherC2S, .cipherS2C, .macC2S, .macS2C, .compressionC2S, .compressionS2C]

    /// The negotiated value this fact names, when it is a slot.
    public func value(in n: NegotiatedAlgorithms) -> String? {
        switch self {
        case .kex: return n.kex
        case .hostkey: return n.hostkey
        case .cipherC2S: return n.cipherC2S
        case .cipherS2C: return n.cipherS2C
        case .macC2S: return n.macC2S
        case .macS2C: return n.macS2C
        case .compressionC2S: return n.compressionC2S
        case .compressionS2C: return n.compressionS2C
        default: return nil
        }
    }
}

/// Where a derived fact was seen: one record, by its place in its source.
public struct EvidenceLink: Hashable, Sendable {
    public var fact: EvidenceFact
    /// The operation's index for `.operation`; 0 otherwise.
    public var item: Int
    public var line: Int
    public var seq: Int
    /// The source the record is in; 0 when it is the session's own.
    public var sourceID: Int64
    /// Its file when that is not the session's own (a rotated log's next file).
    public var file: String?
    /// The record's first byte in its source (decompressed), when known.
    public var offset: Int64?
    /// The record's row id, when it was read from a store.
    public var recordID: Int64?

    public init(_ fact: EvidenceFact, item: Int = 0, line: Int, seq: Int = 0, sourceID: Int64 = 0, file: String? = nil, offset: Int64? = nil) {
        self.fact = fact; self.item = item; self.line = line; self.seq = seq; self.sourceID = sourceID; self.file = file; self.offset = offset
    }

    /// A link to `r` (its offset when the reader gave one).
    public init(_ fact: EvidenceFact, item: Int = 0, record r: borrowing Record, seq: Int = 0, sourceID: Int64 = 0, file: String? = nil) {
        self.init(fact, item: item, line: r.line, seq: seq, sourceID: sourceID, file: file, offset: r.endOffset > r.offset ? r.offset : nil)
    }

    /// The same record (facts aside).
    public func sameRecord(_ o: EvidenceLink) -> Bool { line == o.line && seq == o.seq && sourceID == o.sourceID && file == o.file }

    /// Links in the order every output and the store give them: by record (the
    /// session's own file first, then the others as they came), then by fact and item.
    public static func canonical(_ links: [EvidenceLink]) -> [EvidenceLink] {
        // Links to the session's own file (nearly every session's), mostly made in
        // record order already: kept as they are when they are in order.
        if links.allSatisfy({ $0.file == nil && $0.sourceID == 0 }) {
            let inOrder = links.indices.dropFirst().allSatisfy { i in
                let a = links[i - 1], b = links[i]
                return (a.line, a.seq, a.fact.code, a.item) <= (b.line, b.seq, b.fact.code, b.item)
            }
            if inOrder { return links }
            // One file: no ranking of names (a dictionary by string for every link).
            return links.indices.sorted { i, j in
                let a = links[i], b = links[j]
                return (a.line, a.seq, a.fact.code, a.item, i) < (b.line, b.seq, b.fact.code, b.item, j)
            }.map { links[$0] }
        }
        // Each link's file ranked once, before sorting.
        var rank: [String: Int] = [:]
        let keys = links.enumerated().map { k, l -> (file: Int, line: Int, seq: Int, code: Int, item: Int, k: Int) in
            let name = l.file ?? (l.sourceID == 0 ? "" : "#\(l.sourceID)")
            if rank[name] == nil { rank[name] = name.isEmpty ? -1 : rank.count }
            return (rank[name]!, l.line, l.seq, l.fact.code, l.item, k)
        }
        return keys.sorted { $0 < $1 }.map { links[$0.k] }
    }
}
