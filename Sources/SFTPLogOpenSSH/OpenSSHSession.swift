import Foundation
import SFTPLogRecords
import SFTPLogCatalog

/// One side's KEXINIT proposal: the name lists per slot, in offer order.
public struct KexProposal: Equatable, Sendable {
    public var kex: [String] = []
    public var hostKey: [String] = []
    public var cipherC2S: [String] = []
    public var cipherS2C: [String] = []
    public var macC2S: [String] = []
    public var macS2C: [String] = []
    public var compressionC2S: [String] = []
    public var compressionS2C: [String] = []
    public var languagesC2S: [String] = []
    public var languagesS2C: [String] = []
    public var firstKexFollows: Int?
    public var reserved: Int?
    /// Slots whose list line was seen (a proposal cut off mid-dump has fewer).
    public var slotsSeen: Set<String> = []

    public init() {}

    /// `ext-info-c` / `ext-info-s` in the KEX list.
    public var extInfo: Bool { kex.contains("ext-info-c") || kex.contains("ext-info-s") }
    /// `kex-strict-c-v00@openssh.com` / `kex-strict-s-v00@openssh.com` in the KEX list.
    public var strictKex: Bool {
        kex.contains("kex-strict-c-v00@openssh.com") || kex.contains("kex-strict-s-v00@openssh.com")
    }
    public var isEmpty: Bool { slotsSeen.isEmpty }

    /// KEX names without the pseudo-algorithm markers (never negotiated).
    public var kexAlgorithms: [String] { kex.filter { !KexProposal.isMarker($0) } }

    static func isMarker(_ n: String) -> Bool {
        n == "ext-info-c" || n == "ext-info-s" || n.hasPrefix("kex-strict-") || n.hasPrefix("kex-ext-info")
    }

    public static let slotNames = ["kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s", "mac_s2c",
                                   "compression_c2s", "compression_s2c", "languages_c2s", "languages_s2c"]

    public subscript(slot: String) -> [String] {
        get {
            switch slot {
            case "kex": return kex
            case "hostkey": return hostKey
            case "cipher_c2s": return cipherC2S
            case "cipher_s2c": return cipherS2C
            case "mac_c2s": return macC2S
            case "mac_s2c": return macS2C
            case "compression_c2s": return compressionC2S
            case "compression_s2c": return compressionS2C
            case "languages_c2s": return languagesC2S
            case "languages_s2c": return languagesS2C
            default: return []
            }
        }
        set {
            switch slot {
            case "kex": kex = newValue
            case "hostkey": hostKey = newValue
            case "cipher_c2s": cipherC2S = newValue
            case "cipher_s2c": cipherS2C = newValue
            case "mac_c2s": macC2S = newValue
            case "mac_s2c": macS2C = newValue
            case "compression_c2s": compressionC2S = newValue
            case "compression_s2c": compressionS2C = newValue
            case "languages_c2s": languagesC2S = newValue
            case "languages_s2c": languagesS2C = newValue
            default: return
            }
            slotsSeen.insert(slot)
        }
    }

    public func json() -> JSONValue {
        var o: [(String, JSONValue)] = KexProposal.slotNames.map { ($0, .array(self[$0].map(JSONValue.string))) }
        o.append(("ext_info", .bool(extInfo)))
        o.append(("strict_kex", .bool(strictKex)))
        return .object(o)
    }
}

public struct OpenSSHPeer: Equatable, Sendable {
    public var host: String?
    public var address: String?
    public var port: Int?
    public init(host: String? = nil, address: String? = nil, port: Int? = nil) {
        self.host = host; self.address = address; self.port = port
    }
}

/// Diffie-Hellman group exchange facts.
public struct GEXInfo: Equatable, Sendable {
    public var requestedMin: Int?
    public var requestedPreferred: Int?
    public var requestedMax: Int?
    /// Modulus size of the group the server sent (`bits set: x/N` → N).
    public var groupBits: Int?
    public init() {}
}

public struct HostKeyInfo: Equatable, Sendable {
    /// Key type as printed by `Server host key:` (`ssh-ed25519`, `RSA`, …).
    public var type: String?
    /// `SHA256:…`, `MD5:…`, or bare MD5 hex (5.7–6.7).
    public var fingerprint: String?
    public var fingerprintHash: String?
    /// known | added | changed | unknown-refused
    public var check: String?
    /// known_hosts file and line where the key was found (or the offending line).
    public var file: String?
    public var line: Int?
    public init() {}
}

public struct AuthInfo: Equatable, Sendable {
    public var user: String?
    /// `Authentications that can continue:` lists, in order.
    public var methodsAllowed: [[String]] = []
    /// Methods the client actually tried, in order, without `none`.
    public var methodsTried: [String] = []
    /// Keys offered (path or fingerprint as printed).
    public var keysOffered: [String] = []
    public var succeededMethod: String?
    /// Failed attempts seen (methods list re-sent after a try, password retries, final denial).
    public var failures: Int = 0
    public var partialSuccess: Bool = false
    public init() {}
}

public struct ChannelInfo: Equatable, Sendable {
    public var subsystem: String?
    public var command: String?
    public var remoteExitStatus: Int?
    public init() {}
}

public struct SFTPOperation: Equatable, Sendable {
    public var op: FileOperation
    /// Remote path as typed in the batch (relative to the remote home when relative).
    public var path: String?
    public var ok: Bool
    public var local: String?
    public var to: String?
    public var bytes: Int?
    /// The command had a `-` prefix (errors do not abort a batch).
    public var ignoreErrors: Bool = false
    public var error: String?
    /// Line of the `sftp>` echo.
    public var line: Int
    public var command: String

    public init(op: FileOperation, path: String?, ok: Bool, local: String? = nil, to: String? = nil, bytes: Int? = nil,
                ignoreErrors: Bool = false, error: String? = nil, line: Int, command: String) {
        self.op = op; self.path = path; self.ok = ok; self.local = local; self.to = to; self.bytes = bytes
        self.ignoreErrors = ignoreErrors; self.error = error; self.line = line; self.command = command
    }

    public func json() -> JSONValue {
        var o: [(String, JSONValue)] = [("op", .string(op.rawValue)), ("path", path.map(JSONValue.string) ?? .null), ("ok", .bool(ok))]
        if let local { o.append(("local", .string(local))) }
        if let to { o.append(("to", .string(to))) }
        if let bytes { o.append(("bytes", .int(bytes))) }
        if ignoreErrors { o.append(("ignore_errors", .bool(true))) }
        if let error { o.append(("error", .string(error))) }
        return .object(o)
    }
}

public struct TransferStats: Equatable, Sendable {
    public var bytesSent: Int?
    public var bytesReceived: Int?
    public var seconds: Double?
    public var bytesPerSecondSent: Double?
    public var bytesPerSecondReceived: Double?
    /// `compress outgoing/incoming: … factor F`.
    public var compressionFactorOutgoing: Double?
    public var compressionFactorIncoming: Double?
    public init() {}
    public var isEmpty: Bool { self == TransferStats() }

    public func json() -> JSONValue {
        func i(_ v: Int?) -> JSONValue { v.map(JSONValue.int) ?? .null }
        func d(_ v: Double?) -> JSONValue { v.map(JSONValue.double) ?? .null }
        var o: [(String, JSONValue)] = [("bytes_sent", i(bytesSent)), ("bytes_received", i(bytesReceived)), ("seconds", d(seconds)),
                                        ("bytes_per_second_sent", d(bytesPerSecondSent)),
                                        ("bytes_per_second_received", d(bytesPerSecondReceived))]
        if compressionFactorOutgoing != nil || compressionFactorIncoming != nil {
            o.append(("compression_factor_outgoing", d(compressionFactorOutgoing)))
            o.append(("compression_factor_incoming", d(compressionFactorIncoming)))
        }
        return .object(o)
    }
}


/// Why algorithm negotiation failed.
public struct NegotiationFailure: Equatable, Sendable {
    /// Failing slot (`cipher_s2c`, `kex`, …) or family (`cipher`) when the proposals are not visible.
    public var slot: String?
    public var reason: String
    public var clientOffer: [String]
    public var serverOffer: [String]
    public init(slot: String?, reason: String, clientOffer: [String], serverOffer: [String]) {
        self.slot = slot; self.reason = reason; self.clientOffer = clientOffer; self.serverOffer = serverOffer
    }
}

/// One `ssh`/`sftp` run folded from its transcript records.
public struct OpenSSHSession: Equatable, Sendable {
    public var file: String
    public var firstLine: Int
    public var lastLine: Int
    /// `OpenSSH_9.2p1 Debian-2+deb12u10` (from `Local version string`, else the banner line).
    public var clientVersion: String?
    /// The banner line's library part (`OpenSSL 3.0.19 27 Jan 2026`).
    public var clientLibrary: String?
    /// Peer software version without `SSH-2.0-`.
    public var serverVersion: String?
    public var protocolVersion: String?
    /// `compat 0x…` flags the client applied to the server (`compat_banner: match:`).
    public var compat: String?
    public var peer: OpenSSHPeer = OpenSSHPeer()
    public var user: String? { get { auth.user } set { auth.user = newValue } }
    public var clientProposal: KexProposal?
    public var serverProposal: KexProposal?
    /// Nil when the key exchange did not complete. `hostkey` is the signature
    /// algorithm (`kex: host key algorithm:`), not the `Server host key:` type.
    public var negotiated: NegotiatedAlgorithms?
    /// Slots of `negotiated` computed from the two proposals (RFC 4253 §7.1)
    /// because the transcript has no `kex: algorithm:` lines (≤7.1).
    public var negotiatedDerivedSlots: [String] = []
    public var rekeyCount: Int = 0
    public var strictKex: Bool?
    public var gex: GEXInfo?
    public var hostKey: HostKeyInfo = HostKeyInfo()
    public var auth: AuthInfo = AuthInfo()
    public var channel: ChannelInfo = ChannelInfo()
    public var operations: [SFTPOperation] = []
    public var transfer: TransferStats = TransferStats()
    public var outcome: SessionOutcome = .incomplete
    public var negotiationFailure: NegotiationFailure?
    /// Reason given for a disconnect (outcome `disconnected`).
    public var disconnectReason: String?
    /// The main error message, as printed.
    public var error: String?
    /// Highest debug level seen (0 = no `debugN:` lines).
    public var verbosity: Int = 0
    /// The program that ran (`ssh`, `sftp`, `scp`) when the text shows it.
    public var tool: String?
    /// Where `auth.user` was read: `authenticating`, `command_line`, `prompt` or `denied`.
    public var userSource: String?
    /// The end of the run is in the text (not cut off before it).
    public var closed: Bool = false
    public var recordCount: Int = 0
    /// The records each derived fact came from (`EvidenceFact`).
    public var evidence: [EvidenceLink] = []

    public init(file: String, firstLine: Int) {
        self.file = file
        self.firstLine = firstLine
        self.lastLine = firstLine
    }

    /// The session in the truth-file shape (field names as in shared/samples/openssh).
    public func json() -> JSONValue {
        func s(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        func i(_ v: Int?) -> JSONValue { v.map(JSONValue.int) ?? .null }
        var o: [(String, JSONValue)] = [
            ("file", .string(file)), ("first_line", .int(firstLine)), ("last_line", .int(lastLine)),
            ("client_version", s(clientVersion)), ("server_version", s(serverVersion)),
            ("protocol_version", s(protocolVersion)), ("compat", s(compat)),
            ("peer", peerJSON),
            ("negotiated", negotiated?.json ?? .null),
            ("strict_kex", strictKex.map(JSONValue.bool) ?? .null),
            ("hostkey_fingerprint", s(hostKey.fingerprint)),
            ("hostkey", hostKeyJSON),
            ("auth", .object([
                ("user", s(auth.user)), ("methods_tried", .array(auth.methodsTried.map(JSONValue.string))),
                ("succeeded_method", s(auth.succeededMethod)),
                ("methods_allowed", .array(auth.methodsAllowed.map { .array($0.map(JSONValue.string)) })),
                ("keys_offered", .array(auth.keysOffered.map(JSONValue.string))),
                ("failures", .int(auth.failures)), ("partial_success", .bool(auth.partialSuccess)),
            ])),
            ("host_key_check", s(hostKey.check)),
            ("outcome", .string(outcome.rawValue)),
            ("error", s(error)),
            ("command", s(channel.command)),
            ("subsystem", s(channel.subsystem)),
            ("remote_exit_status", i(channel.remoteExitStatus)),
            ("sftp_ops", .array(operations.map { $0.json() })),
            ("rekey_count", .int(rekeyCount)),
            ("proposals", proposalsJSON),
            ("gex", gexJSON),
            ("transfer", transfer.isEmpty ? .null : transfer.json()),
        ]
        if let f = negotiationFailureJSON { o.append(("negotiation_failure", f)) }
        if let r = disconnectReason { o.append(("disconnect_reason", .string(r))) }
        o.append(("verbosity", .int(verbosity)))
        o.append(("record_count", .int(recordCount)))
        return .object(o)
    }

    // Parts of `json()` that session timelines carry as details too.

    public var peerJSON: JSONValue {
        .object([("host", peer.host.map(JSONValue.string) ?? .null), ("port", peer.port.map(JSONValue.int) ?? .null),
                 ("address", peer.address.map(JSONValue.string) ?? .null)])
    }

    public var hostKeyJSON: JSONValue {
        func s(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        return .object([("type", s(hostKey.type)), ("fingerprint", s(hostKey.fingerprint)),
                        ("fingerprint_hash", s(hostKey.fingerprintHash)), ("check", s(hostKey.check)),
                        ("file", s(hostKey.file)), ("line", hostKey.line.map(JSONValue.int) ?? .null)])
    }

    public var proposalsJSON: JSONValue {
        .object([("client", clientProposal?.json() ?? .null), ("server", serverProposal?.json() ?? .null)])
    }

    public var gexJSON: JSONValue {
        func i(_ v: Int?) -> JSONValue { v.map(JSONValue.int) ?? .null }
        return gex.map { g in .object([("min", i(g.requestedMin)), ("preferred", i(g.requestedPreferred)),
                                       ("max", i(g.requestedMax)), ("group_bits", i(g.groupBits))]) } ?? .null
    }

    public var negotiationFailureJSON: JSONValue? {
        negotiationFailure.map { f in
            .object([("slot", f.slot.map(JSONValue.string) ?? .null), ("reason", .string(f.reason)),
                     ("client_offer", .array(f.clientOffer.map(JSONValue.string))),
                     ("server_offer", .array(f.serverOffer.map(JSONValue.string)))])
        }
    }
}
