import Foundation

/// Folds the records of one OpenSSH transcript file into sessions. A file may
/// hold several runs one after another (`ssh -E` appends): a new session starts
/// at a version banner, or at `Reading configuration data` / `Connecting to`
/// once the current session has got past that stage.
public struct OpenSSHSessionBuilder {
    public let file: String
    private var sessions: [OpenSSHSession] = []
    private var cur: Scratch?

    public init(file: String) {
        self.file = file
    }

    /// All sessions of `records` (records of one file, in order).
    public static func sessions(from records: [Record], file: String? = nil) -> [OpenSSHSession] {
        var b = OpenSSHSessionBuilder(file: file ?? records.first?.file ?? "")
        for r in records { b.add(r) }
        return b.finish()
    }

    public mutating func add(_ r: Record) {
        let isOpenSSH = r.kind.rawValue.hasPrefix("openssh.")
        if isOpenSSH, let c = cur, c.startsNewSession(r) {
            close()
        }
        if cur == nil { cur = Scratch(file: file, firstLine: r.line) }
        cur!.add(r, isOpenSSH: isOpenSSH)
    }

    /// The sessions already closed (a later run has begun), handed out once.
    public mutating func takeClosed() -> [OpenSSHSession] {
        let out = sessions
        sessions = []
        return out
    }

    public mutating func finish() -> [OpenSSHSession] {
        close()
        let out = sessions
        sessions = []
        return out
    }

    private mutating func close() {
        guard let c = cur else { return }
        cur = nil
        if c.opensshRecords > 0 { sessions.append(c.finalize()) }
    }
}

/// Working state of one session while its records are folded.
private struct Scratch {
    var s: OpenSSHSession
    var opensshRecords = 0
    /// 0 nothing, 1 banner/config, 2 connecting, 3 connected (banner exchange or later).
    var phase = 0
    var ended = false
    var completed = false

    var kexSent = 0
    var kexReceived = 0
    var client = KexProposal()
    var server = KexProposal()
    var kexLine: (set: Bool, value: String?) = (false, nil)
    var hostkeyLine: (set: Bool, value: String?) = (false, nil)
    var s2c: (cipher: String?, mac: String?, comp: String?)?
    var c2s: (cipher: String?, mac: String?, comp: String?)?
    var strictEvidence = false

    var publickeyPending = false
    var privateKeyPending = false
    var attemptInFlight = false
    var authenticated = false
    var authDenied: String?
    var authExhausted = false

    var connectFailed: String?
    var negotiationFailed: String?
    var negotiationExtra: [(String, JSONValue)] = []
    var hostkeyChanged = false
    var hostkeyChangedMessage: String?
    var hostkeyRefused: String?
    var verificationFailed: String?
    var disconnect: String?
    var opOpen = false

    init(file: String, firstLine: Int) {
        s = OpenSSHSession(file: file, firstLine: firstLine)
    }

    /// Whether `r` begins a new run after this one.
    func startsNewSession(_ r: Record) -> Bool {
        guard opensshRecords > 0 else { return false }
        let event = r.extraValue("event")?.stringValue
        if r.kind == .opensshVersion, event == "banner" { return true }
        if r.kind == .opensshDebug, event == "config" { return phase >= 2 || ended }
        if r.kind == .opensshConnect, event == "connecting" { return phase >= 3 || ended }
        return false
    }

    var round: Int { max(1, kexReceived) }

    mutating func add(_ r: Record, isOpenSSH: Bool) {
        s.recordCount += 1
        s.lastLine = r.line + max(0, r.lineCount - 1)
        guard isOpenSSH else { return }
        opensshRecords += 1
        if case .int(let l)? = r.extraValue("level") { s.verbosity = max(s.verbosity, l) }
        let event = r.extraValue("event")?.stringValue
        func str(_ k: String) -> String? {
            if case .string(let v)? = r.extraValue(k) { return v }
            return nil
        }
        func int(_ k: String) -> Int? {
            if case .int(let v)? = r.extraValue(k) { return v }
            return nil
        }
        func dbl(_ k: String) -> Double? {
            switch r.extraValue(k) {
            case .double(let v)?: return v
            case .int(let v)?: return Double(v)
            default: return nil
            }
        }
        func list(_ k: String) -> [String] {
            if case .array(let a)? = r.extraValue(k) { return a.compactMap { $0.stringValue } }
            return []
        }
        let text = r.message ?? ""
        currentText = text

        switch r.kind {
        case .opensshVersion:
            switch event {
            case "banner":
                if s.clientVersion == nil { s.clientVersion = str("client_version") }
                s.clientLibrary = str("library")
                phase = max(phase, 1)
            case "local":
                if let v = str("software") { s.clientVersion = v }
                phase = max(phase, 3)
            case "remote":
                s.serverVersion = str("software")
                s.protocolVersion = str("protocol_version")
                phase = max(phase, 3)
            default: break
            }
        case .opensshCompat:
            if event == "match" { s.compat = str("compat") }
        case .opensshConnect:
            switch event {
            case "connecting":
                s.peer.host = str("host") ?? s.peer.host
                s.peer.address = str("address") ?? s.peer.address
                s.peer.port = int("port") ?? s.peer.port
                phase = max(phase, 2)
            case "established":
                phase = max(phase, 3)
            case "closed":
                completed = true
            default: break
            }
        case .opensshDebug:
            switch event {
            case "config": phase = max(phase, 1)
            case "kexinit_sent": kexSent += 1; phase = max(phase, 3)
            case "kexinit_received": kexReceived += 1; phase = max(phase, 3)
            default: break
            }
        case .opensshKexinit:
            guard event == "proposal", round == 1, let slot = str("slot") else { break }
            let side = str("side")
            if side != "client" && side != "server" { break }
            if slot == "first_kex_follows" || slot == "reserved" {
                let v = int("value")
                if side == "client" {
                    if slot == "reserved" { client.reserved = v } else { client.firstKexFollows = v }
                } else {
                    if slot == "reserved" { server.reserved = v } else { server.firstKexFollows = v }
                }
            } else if side == "client" {
                client[slot] = list("names")
            } else {
                server[slot] = list("names")
            }
        case .opensshNegotiated:
            guard round == 1 else { break }
            let slot = str("slot")
            if slot == "kex", !kexLine.set { kexLine = (true, str("algorithm")) }
            else if slot == "hostkey", !hostkeyLine.set { hostkeyLine = (true, str("algorithm")) }
            else if let dir = str("direction") {
                let v = (cipher: str("cipher"), mac: str("mac"), comp: str("compression"))
                if dir == "s2c", s2c == nil { s2c = v }
                if dir == "c2s", c2s == nil { c2s = v }
            }
        case .opensshStrictKex:
            strictEvidence = true
        case .opensshGEX:
            var g = s.gex ?? GEXInfo()
            switch event {
            case "request":
                if g.requestedMin == nil { g.requestedMin = int("min"); g.requestedPreferred = int("preferred"); g.requestedMax = int("max") }
            case "request_old":
                if g.requestedPreferred == nil { g.requestedPreferred = int("preferred") }
            case "bits_set":
                if g.groupBits == nil { g.groupBits = int("group_bits") }
            default: break
            }
            s.gex = g
        case .opensshHostKey:
            hostKey(event: event, str: str, int: int)
        case .opensshAuth:
            auth(event: event, text: text, str: str, list: list)
        case .opensshChannel:
            switch event {
            case "subsystem": s.channel.subsystem = str("subsystem")
            case "command": s.channel.command = str("command")
            case "exit_status":
                s.channel.remoteExitStatus = int("status")
                completed = true; ended = true
            default: break
            }
        case .opensshSFTP:
            sftp(r, event: event, str: str, list: list)
        case .opensshTransfer:
            switch event {
            case "transferred":
                s.transfer.bytesSent = int("bytes_sent") ?? int("stdin")
                s.transfer.bytesReceived = int("bytes_received") ?? int("stdout")
                s.transfer.seconds = dbl("seconds")
                completed = true; ended = true
            case "rate":
                s.transfer.bytesPerSecondSent = dbl("sent_per_second")
                s.transfer.bytesPerSecondReceived = dbl("received_per_second")
            case "compression":
                if str("direction") == "outgoing" { s.transfer.compressionFactorOutgoing = dbl("factor") }
                else { s.transfer.compressionFactorIncoming = dbl("factor") }
            default: break
            }
        case .opensshError:
            error(event: event, text: text, r: r, str: str)
        default:
            break
        }
    }

    mutating func hostKey(event: String?, str: (String) -> String?, int: (String) -> Int?) {
        switch event {
        case "server_host_key":
            if s.hostKey.fingerprint == nil {
                s.hostKey.type = str("key_type")
                s.hostKey.fingerprint = str("fingerprint")
                s.hostKey.fingerprintHash = str("fingerprint_hash")
            }
        case "known":
            if s.hostKey.check == nil || s.hostKey.check == "added" { s.hostKey.check = "known" }
        case "found":
            if s.hostKey.file == nil { s.hostKey.file = str("file"); s.hostKey.line = int("file_line") }
        case "added":
            if s.hostKey.check == nil { s.hostKey.check = "added" }
        case "added_ip":
            if s.hostKey.check == nil { s.hostKey.check = "added" }
        case "changed":
            hostkeyChanged = true
            s.hostKey.check = "changed"
            hostkeyChangedMessage = hostkeyChangedMessage ?? currentText
        case "offending":
            hostkeyChanged = true
            s.hostKey.check = "changed"
            s.hostKey.file = str("file")
            s.hostKey.line = int("file_line")
        case "unknown_refused":
            hostkeyRefused = hostkeyRefused ?? currentText
            if s.hostKey.check != "changed" { s.hostKey.check = "unknown-refused" }
        case "fingerprint":
            if s.hostKey.fingerprint == nil { s.hostKey.fingerprint = str("fingerprint") }
            if s.hostKey.type == nil { s.hostKey.type = str("key_type") }
        default: break
        }
    }

    /// Text of the record being folded (set in `sftp`/`auth`/`error` callers).
    var currentText: String?

    mutating func auth(event: String?, text: String, str: (String) -> String?, list: (String) -> [String]) {
        func tried(_ m: String) {
            if m != "none", !s.auth.methodsTried.contains(m) { s.auth.methodsTried.append(m) }
        }
        switch event {
        case "authenticating":
            s.auth.user = str("user")
            if s.peer.host == nil { s.peer.host = str("host") }
        case "methods":
            s.auth.methodsAllowed.append(list("methods"))
            if privateKeyPending { tried("publickey"); privateKeyPending = false }
            if attemptInFlight { s.auth.failures += 1; attemptInFlight = false }
        case "next_method":
            let m = str("method") ?? ""
            privateKeyPending = false
            attemptInFlight = false
            if m == "password" || m == "keyboard-interactive" { tried(m) }
        case "offering":
            tried("publickey")
            privateKeyPending = false
            if let k = str("key_path") ?? str("fingerprint") { s.auth.keysOffered.append(k) }
            attemptInFlight = true
        case "trying_private_key":
            // Sent only if the key loads: confirmed by the server's answer that follows.
            privateKeyPending = true
            if let k = str("key_path") { s.auth.keysOffered.append(k) }
            attemptInFlight = true
        case "accepts_key":
            tried("publickey")
        case "sent_packet":
            if let m = str("method") { tried(m) }
            privateKeyPending = false
            attemptInFlight = true
        case "not_sent":
            privateKeyPending = false
            attemptInFlight = false
        case "succeeded", "authenticated":
            if privateKeyPending { tried("publickey"); privateKeyPending = false }
            if let m = str("method") { s.auth.succeededMethod = m; tried(m) }
            authenticated = true
            attemptInFlight = false
        case "partial_success":
            s.auth.partialSuccess = true
            if let m = str("method") { tried(m) }
        case "denied":
            authDenied = authDenied ?? text
            s.auth.failures += attemptInFlight ? 1 : 0
            attemptInFlight = false
            if s.auth.user == nil { s.auth.user = str("user") }
            ended = true
        case "too_many_failures":
            authDenied = authDenied ?? text
            ended = true
        case "password_retry":
            // Counted already when `Authentications that can continue` followed the attempt.
            if attemptInFlight { s.auth.failures += 1; attemptInFlight = false }
        case "no_more_methods":
            authExhausted = true
        default: break
        }
    }

    mutating func sftp(_ r: Record, event: String?, str: (String) -> String?, list: (String) -> [String]) {
        switch event {
        case "command":
            guard let op = str("op"), !op.isEmpty, !["exit", "quit", "bye"].contains(op) else { opOpen = false; return }
            let args = list("args")
            var i = 0
            while i < args.count, args[i].hasPrefix("-"), args[i].count > 1 { i += 1 }
            let a = Array(args[i...])
            var o = SFTPOperation(op: op, path: nil, ok: true, ignoreErrors: r.extraValue("ignore_errors") == .bool(true),
                                  line: r.line, command: str("command") ?? "")
            switch op {
            case "get", "reget", "aget":
                o.path = a.first
                o.local = a.count > 1 ? a[1] : nil
            case "put", "reput", "aput":
                o.local = a.first
                if a.count > 1 { o.path = a[1] } else if let l = a.first { o.path = String(l.split(separator: "/").last ?? Substring(l)) }
            case "rename", "ln", "symlink":
                o.path = a.first
                o.to = a.count > 1 ? a[1] : nil
            case "chmod", "chown", "chgrp":
                o.path = a.count > 1 ? a[1] : nil
            default:
                o.path = a.first
            }
            s.operations.append(o)
            opOpen = true
        case "error":
            guard opOpen, !s.operations.isEmpty else { return }
            let k = s.operations.count - 1
            if s.operations[k].ok {
                s.operations[k].ok = false
                s.operations[k].error = str("error") ?? r.message
            }
        case "download":
            if opOpen, let k = s.operations.indices.last, s.operations[k].local == nil {
                s.operations[k].local = str("local")
            }
        case "upload":
            if opOpen, let k = s.operations.indices.last, s.operations[k].path == nil {
                s.operations[k].path = str("remote")
            }
        case "fetching":
            if opOpen, let k = s.operations.indices.last, s.operations[k].local == nil {
                s.operations[k].local = str("local")
            }
        default: break
        }
    }

    mutating func error(event: String?, text: String, r: Record, str: (String) -> String?) {
        switch event {
        case "connect_failed", "resolve_failed":
            connectFailed = connectFailed ?? text
            ended = true
        case "negotiation_failed":
            if negotiationFailed == nil {
                negotiationFailed = text
                negotiationExtra = r.extra
            }
            ended = true
        case "hostkey_changed_banner":
            hostkeyChanged = true
            s.hostKey.check = "changed"
        case "hostkey_changed_fingerprint":
            hostkeyChanged = true
            if s.hostKey.fingerprint == nil { s.hostKey.fingerprint = str("fingerprint") }
        case "hostkey_verification_failed":
            verificationFailed = verificationFailed ?? text
            ended = true
        case "warning_banner":
            break
        default:
            // connection_closed, connection_reset, disconnect_received, disconnected, closed_by_remote,
            // timeout, transport, killed, fatal
            if disconnect == nil {
                if event == "disconnect_received", let t = str("text") { disconnect = t } else { disconnect = text }
            }
            ended = true
        }
    }

    static func choose(_ client: [String], _ server: [String]) -> String? {
        client.first { server.contains($0) }
    }

    func finalize() -> OpenSSHSession {
        var out = s
        out.rekeyCount = max(0, max(kexSent, kexReceived) - 1)
        if !client.isEmpty { out.clientProposal = client }
        if !server.isEmpty { out.serverProposal = server }
        let bothKex = client.slotsSeen.contains("kex") && server.slotsSeen.contains("kex")

        if let s2c, let c2s {
            var n = NegotiatedAlgorithms()
            if kexLine.set { n.kex = kexLine.value } else if bothKex {
                n.kex = Scratch.choose(client.kexAlgorithms, server.kexAlgorithms)
                out.negotiatedDerivedSlots.append("kex")
            }
            if hostkeyLine.set { n.hostkey = hostkeyLine.value }
            else if client.slotsSeen.contains("hostkey") && server.slotsSeen.contains("hostkey") {
                n.hostkey = Scratch.choose(client.hostKey, server.hostKey)
                out.negotiatedDerivedSlots.append("hostkey")
            }
            n.cipherS2C = s2c.cipher; n.macS2C = s2c.mac; n.compressionS2C = s2c.comp
            n.cipherC2S = c2s.cipher; n.macC2S = c2s.mac; n.compressionC2S = c2s.comp
            if let c = n.cipherS2C, OpenSSHText.isAEAD(c) { n.macS2C = nil }
            if let c = n.cipherC2S, OpenSSHText.isAEAD(c) { n.macC2S = nil }
            out.negotiated = n
        }

        // Strict KEX: only meaningful for a completed negotiation.
        if out.negotiated != nil {
            if strictEvidence {
                out.strictKex = true
            } else if bothKex {
                out.strictKex = client.kex.contains("kex-strict-c-v00@openssh.com") && server.kex.contains("kex-strict-s-v00@openssh.com")
            } else if s.verbosity >= 2 {
                out.strictKex = false
            } else {
                out.strictKex = nil
            }
        }

        if let text = negotiationFailed {
            out.negotiationFailure = negotiationFailure(text)
        }

        let lastOp = out.operations.last
        if let e = connectFailed {
            out.outcome = .connectionRefused; out.error = e
        } else if let e = negotiationFailed {
            out.outcome = .negotiationFailed; out.error = e
        } else if hostkeyChanged {
            out.outcome = .hostkeyChanged
            out.error = hostkeyChangedMessage ?? verificationFailed ?? "REMOTE HOST IDENTIFICATION HAS CHANGED"
        } else if hostkeyRefused != nil || verificationFailed != nil {
            out.outcome = .hostkeyUnknown
            out.error = hostkeyRefused ?? verificationFailed
            if out.hostKey.check == nil { out.hostKey.check = "unknown-refused" }
        } else if let e = authDenied {
            out.outcome = .authFailed; out.error = e
        } else if authExhausted && !authenticated {
            out.outcome = .authFailed; out.error = "No more authentication methods to try."
        } else if let op = lastOp, !op.ok, !op.ignoreErrors {
            out.outcome = .sftpCommandFailed; out.error = op.error
        } else if let d = disconnect {
            out.outcome = .disconnected; out.disconnectReason = d; out.error = d
        } else if completed {
            out.outcome = .ok
        } else {
            out.outcome = .incomplete
        }
        return out
    }

    func negotiationFailure(_ text: String) -> NegotiationFailure {
        func v(_ k: String) -> JSONValue? { negotiationExtra.first { $0.0 == k }?.1 }
        func strs(_ k: String) -> [String]? {
            if case .array(let a)? = v(k) { return a.compactMap { $0.stringValue } }
            return nil
        }
        let reason = v("reason")?.stringValue ?? text
        let family = v("slot")?.stringValue
        var slot = family
        var clientOffer = strs("client_offer") ?? []
        var serverOffer = strs("their_offer") ?? strs("server_offer") ?? []
        if let f = family {
            let candidates: [String]
            switch f {
            case "kex", "hostkey": candidates = [f]
            default: candidates = [f + "_s2c", f + "_c2s"]
            }
            // The client checks server->client first; the first slot without a common name failed.
            let visible = candidates.filter { client.slotsSeen.contains($0) && server.slotsSeen.contains($0) }
            if !visible.isEmpty {
                let failing = visible.first { c in
                    let cl = c == "kex" ? client.kexAlgorithms : client[c]
                    let sv = c == "kex" ? server.kexAlgorithms : server[c]
                    return Scratch.choose(cl, sv) == nil
                } ?? visible[0]
                slot = failing
                if clientOffer.isEmpty { clientOffer = client[failing] }
                if serverOffer.isEmpty { serverOffer = server[failing] }
            } else if clientOffer.isEmpty, let c = candidates.first(where: { client.slotsSeen.contains($0) }) {
                clientOffer = client[c]
            }
        }
        return NegotiationFailure(slot: slot, reason: reason, clientOffer: clientOffer, serverOffer: serverOffer)
    }
}
