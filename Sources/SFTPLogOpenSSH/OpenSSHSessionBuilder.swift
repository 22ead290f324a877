import Foundation
import SFTPLogRecords
import SFTPLogCatalog

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
        let isCommand = r.kind == .pasteCommand && r.fact(.tool)?.stringValue != nil
        if isOpenSSH || isCommand || r.kind == .pasteInterrupt, let c = cur, c.startsNewSession(r) {
            close()
        }
        if cur == nil {
            // Notes, prompts and other text before the first run belong to no run.
            guard isOpenSSH || isCommand else { return }
            cur = Scratch(file: file, firstLine: r.line)
        }
        cur!.add(r, isOpenSSH: isOpenSSH)
    }

    /// The sessions already closed (a later run has begun), handed out once.
    public mutating func takeClosed() -> [OpenSSHSession] {
        let out = sessions
        sessions = []
        return out
    }

    /// The run still being read, as it stands (for watchers that judge a run
    /// while it goes on); nil before the first run.
    public func peek() -> OpenSSHSession? { cur?.finalize() }

    public mutating func finish() -> [OpenSSHSession] {
        close()
        let out = sessions
        sessions = []
        return out
    }

    private mutating func close() {
        guard let c = cur else { return }
        cur = nil
        if c.opensshRecords > 0 || c.command != nil { sessions.append(c.finalize()) }
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
    var disconnectCount = 0
    /// The last operation failed only because the connection was already gone.
    var opLostWithConnection = false
    var opOpen = false

    /// The command line that started the run, when the paste shows it.
    var command: ClientCommand?
    /// The end of the run is in the text.
    var closedSeen = false
    /// Remote output was shown (the run got past authentication).
    var sawOutput = false
    /// Users and peers as each kind of line shows them (the best is chosen at the end).
    var authenticatingUser: String?
    var promptUser: String?
    var deniedUser: String?
    var execUser: String?
    var connectingHost: String?
    var connectingPort: Int?
    var errorHost: String?
    var errorPort: Int?
    var authenticatingHost: String?
    var authenticatingPort: Int?
    /// Hints of the program that ran.
    var sawSCP = false
    var sawSFTP = false
    var sawSSHCommand = false
    /// `Server host key:` type as printed (short names before 6.8).
    var serverHostKeyType: String?
    /// The last thing typed or printed in the session (`exit` before the server closes is a normal end).
    var lastTyped: String?
    /// The publickey attempt rests on an `Offering` the client may still withdraw.
    var publickeyFromOffer = false
    /// The client reached authentication, so the key exchange completed.
    var kexCompleted = false
    /// The last progress meter of an operation: (operation index, percent).
    var lastPercent: (op: Int, percent: Int)?

    /// Where the record being folded is, and the records each fact rests on
    /// (put together at `finalize`, when it is known which facts hold).
    var here = EvidenceLink(.outcome, line: 0)
    var proposalLinks: [String: [EvidenceLink]] = [:]
    var kexLink: EvidenceLink?
    var hostkeyLink: EvidenceLink?
    var directionLinks: [String: EvidenceLink] = [:]
    var serverHostKeyLink: EvidenceLink?
    var gexLink: EvidenceLink?
    var strictLink: EvidenceLink?
    var userLinks: [UserLine: EvidenceLink] = [:]
    /// The first record of each way a run can end (`outcome` picks one).
    var endLinks: [RunEnd: EvidenceLink] = [:]
    var lastOpenSSHLink: EvidenceLink?

    /// The lines a run's user can be read from (`identify` picks one).
    enum UserLine { case authenticating, commandLine, exec, prompt, denied }
    /// The ways a run ends, as its evidence tells them apart.
    enum RunEnd {
        case output, completed, authenticated, authDenied, authExhausted, connectFailed, negotiationFailed
        case hostkeyChanged, hostkeyRefused, verificationFailed, disconnect
    }

    mutating func noteEnd(_ what: RunEnd) { if endLinks[what] == nil { endLinks[what] = here } }

    /// Links operation `k` to the record being folded.
    mutating func linkOperation(_ k: Int) {
        var l = here
        l.fact = .operation; l.item = k
        if !s.evidence.suffix(4).contains(l) { s.evidence.append(l) }
    }

    init(file: String, firstLine: Int) {
        s = OpenSSHSession(file: file, firstLine: firstLine)
    }

    /// Whether `r` begins a new run after this one.
    func startsNewSession(_ r: Record) -> Bool {
        guard opensshRecords > 0 || command != nil else { return false }
        let event = OpenSSHEvent(r)
        // A client command line always starts a run; the lines of the run it starts follow it.
        if r.kind == .pasteCommand { return true }
        let over = ended || closedSeen
        if r.kind == .opensshVersion, event == .banner { return phase >= 1 || over }
        if r.kind == .opensshDebug, event == .config { return phase >= 2 || over }
        if r.kind == .opensshConnect, event == .connecting { return phase >= 3 || over }
        // sftp's own `Connecting to host...` comes before the output of the run it starts.
        if r.kind == .opensshConnect, event == .sftpConnecting { return phase >= 1 || over }
        // A run without debug output shows itself by a result after the last run ended.
        return over && Scratch.isResult(r.kind, event)
    }

    /// Lines that each run prints at most once, near its start or as its result.
    static func isResult(_ kind: RecordKind, _ event: OpenSSHEvent?) -> Bool {
        switch (kind, event) {
        case (.opensshError, .connectFailed), (.opensshError, .resolveFailed), (.opensshError, .negotiationFailed),
             (.opensshError, .bannerExchangeFailed), (.opensshError, .warningBanner), (.opensshError, .hostkeyChangedBanner),
             (.opensshAuth, .denied), (.opensshAuth, .prompt), (.opensshAuth, .authenticated),
             (.opensshHostKey, .added), (.opensshHostKey, .addedIp), (.opensshHostKey, .unknownRefused),
             (.opensshHostKey, .authenticityUnknown), (.opensshHostKey, .changed),
             (.opensshConnect, .sftpConnected), (.opensshConnect, .exec):
            return true
        default:
            return false
        }
    }

    /// Lines after which the client prints nothing more of this run.
    static func endsRun(_ kind: RecordKind, _ event: OpenSSHEvent?) -> Bool {
        switch kind {
        case .opensshError:
            return ![.hostkeyChangedBanner, .warningBanner, .hostkeyChangedFingerprint].contains(event)
        case .opensshAuth: return event == .denied || event == .tooManyFailures
        case .opensshChannel: return event == .exitStatus
        case .opensshTransfer: return event == .transferred
        case .opensshConnect: return event == .closed
        case .pasteInterrupt: return true
        default: return false
        }
    }

    var round: Int { max(1, kexReceived) }

    mutating func add(_ r: Record, isOpenSSH: Bool) {
        here = EvidenceLink(.outcome, record: r)
        s.recordCount += 1
        s.lastLine = r.line + max(0, r.lineCount - 1)
        let event = OpenSSHEvent(r)
        if Scratch.endsRun(r.kind, event) { closedSeen = true }
        if r.kind == .pastePrompt || r.kind == .pasteCommand {
            // Back at the shell the client was started from: the run is over.
            if r.fact(.shell) == .string("local"), r.fact(.tool)?.stringValue == nil { closedSeen = true }
            lastTyped = r.fact(.command)?.stringValue
        } else if r.kind == .opensshOutput {
            lastTyped = r.message
        }
        switch r.kind {
        case .pasteCommand:
            pastedCommand(r)
            return
        case .pasteWrapped:
            wrappedProposal(r)
            return
        case .opensshOutput where r.extraValue("event") == nil:
            sawOutput = true
            noteEnd(.output)
        default:
            break
        }
        guard isOpenSSH else { return }
        lastOpenSSHLink = here
        if r.fact(.via) == .string("scp:") || r.fact(.program) == .string("scp") { sawSCP = true }
        if r.fact(.program) == .string("ssh") { sawSSHCommand = true }
        if r.fact(.afterProgress) == .bool(true) { kexCompleted = true }
        opensshRecords += 1
        if case .int(let l)? = r.fact(.level) { s.verbosity = max(s.verbosity, l) }
        let x = ExtraValues(r)
        let str = x.str, int = x.int, list = x.list
        let text = r.message ?? ""
        currentText = text

        switch r.kind {
        case .opensshVersion:
            version(r, event: event)
        case .opensshCompat:
            if event == .match { s.compat = str(.compat) }
        case .opensshConnect:
            connect(r, event: event)
        case .opensshDebug:
            switch event {
            case .newkeysReceived: kexCompleted = true
            case .config: phase = max(phase, 1)
            case .kexinitSent: kexSent += 1; phase = max(phase, 3)
            case .kexinitReceived: kexReceived += 1; phase = max(phase, 3)
            default: break
            }
        case .opensshKexinit:
            proposal(r, event: event)
        case .opensshNegotiated:
            negotiated(r, event: event)
        case .opensshStrictKex:
            strictEvidence = true
            if strictLink == nil { strictLink = here }
        case .opensshGEX:
            groupExchange(r, event: event)
        case .opensshHostKey:
            hostKey(event: event, str: str, int: int)
        case .opensshAuth:
            // Everything of authentication but its announcement comes after the key exchange.
            if event != .agentSignatureMismatch && event != .authenticating { kexCompleted = true }
            auth(event: event, text: text, str: str, int: int, list: list)
        case .opensshChannel:
            channel(r, event: event)
        case .opensshSFTP:
            sftp(r, event: event, str: str, list: list)
        case .opensshTransfer:
            transfer(r, event: event)
        case .opensshError:
            error(event: event, text: text, r: r, str: str)
        default:
            break
        }
    }

    /// The command line that started the run, when the paste shows it.
    private mutating func pastedCommand(_ r: Record) {
        guard let tool = r.fact(.tool)?.stringValue, command == nil else { return }
        userLinks[.commandLine] = here
        let x = ExtraValues(r)
        let typed = ClientCommand(tool: tool, user: r.fact(.user)?.stringValue, host: r.fact(.host)?.stringValue,
                                  port: x.int(.port), verbosity: x.int(.verbosity) ?? 0)
        command = typed
        // `-v` on the command line shows the level even where the debug lines were cut out.
        s.verbosity = max(s.verbosity, typed.verbosity)
    }

    /// The client's and the server's software versions.
    private mutating func version(_ r: Record, event: OpenSSHEvent?) {
        let x = ExtraValues(r)
        let str = x.str
        switch event {
        case .banner:
            // Before 10.0 the version line is printed only with `-v`.
            s.verbosity = max(s.verbosity, 1)
            if s.clientVersion == nil { s.clientVersion = str(.clientVersion) }
            s.clientLibrary = str(.library)
            phase = max(phase, 1)
        case .local:
            if let v = str(.software) { s.clientVersion = v }
            phase = max(phase, 3)
        case .remote:
            s.serverVersion = str(.software)
            s.protocolVersion = str(.protocolVersion)
            phase = max(phase, 3)
        default: break
        }
    }

    /// Connecting, the connection, and what sftp or scp started on it.
    private mutating func connect(_ r: Record, event: OpenSSHEvent?) {
        let x = ExtraValues(r)
        let str = x.str, int = x.int
        switch event {
        case .connecting:
            if connectingHost == nil { connectingHost = str(.host); connectingPort = int(.port) }
            s.peer.address = str(.address) ?? s.peer.address
            phase = max(phase, 2)
        case .established:
            phase = max(phase, 3)
        case .closed:
            completed = true
            noteEnd(.completed)
        case .sftpConnecting:
            sawSFTP = true
            if connectingHost == nil { connectingHost = str(.host) }
        case .sftpConnected:
            sawSFTP = true
            authenticated = true
            noteEnd(.authenticated)
        case .exec:
            sawSCP = true
            if execUser == nil, str(.user) != nil { userLinks[.exec] = here }
            execUser = execUser ?? str(.user)
            if connectingHost == nil { connectingHost = str(.host) }
        default: break
        }
    }

    /// One slot of the first key exchange's proposals, the client's or the server's.
    private mutating func proposal(_ r: Record, event: OpenSSHEvent?) {
        let x = ExtraValues(r)
        let str = x.str, int = x.int, list = x.list
        guard event == .proposal, round == 1, let slot = str(.slot) else { return }
        let side = str(.side)
        if side != "client" && side != "server" { return }
        if slot == "first_kex_follows" || slot == "reserved" {
            let v = int(.value)
            if side == "client" {
                if slot == "reserved" { client.reserved = v } else { client.firstKexFollows = v }
            } else {
                if slot == "reserved" { server.reserved = v } else { server.firstKexFollows = v }
            }
        } else if side == "client" {
            client[slot] = list(.names)
            proposalLinks["client|" + slot] = [here]
        } else {
            server[slot] = list(.names)
            proposalLinks["server|" + slot] = [here]
        }
    }

    /// An algorithm the first key exchange settled on.
    private mutating func negotiated(_ r: Record, event: OpenSSHEvent?) {
        let x = ExtraValues(r)
        let str = x.str
        guard round == 1 else { return }
        let slot = str(.slot)
        if slot == "kex", !kexLine.set { kexLine = (true, str(.algorithm)); kexLink = here }
        else if slot == "hostkey", !hostkeyLine.set { hostkeyLine = (true, str(.algorithm)); hostkeyLink = here }
        else if let dir = str(.direction) {
            let v = (cipher: str(.cipher), mac: str(.mac), comp: str(.compression))
            if dir == "s2c", s2c == nil { s2c = v; directionLinks["s2c"] = here }
            if dir == "c2s", c2s == nil { c2s = v; directionLinks["c2s"] = here }
        }
    }

    /// The Diffie-Hellman group exchange: the sizes asked for and the group's.
    private mutating func groupExchange(_ r: Record, event: OpenSSHEvent?) {
        let x = ExtraValues(r)
        let int = x.int
        var g = s.gex ?? GEXInfo()
        switch event {
        case .request:
            if g.requestedMin == nil { g.requestedMin = int(.min); g.requestedPreferred = int(.preferred); g.requestedMax = int(.max) }
        case .requestOld:
            if g.requestedPreferred == nil { g.requestedPreferred = int(.preferred) }
        case .bitsSet:
            if g.groupBits == nil, let b = int(.groupBits) { g.groupBits = b; gexLink = here }
        default: break
        }
        s.gex = g
    }

    /// The session channel: subsystem, command, exit status.
    private mutating func channel(_ r: Record, event: OpenSSHEvent?) {
        let x = ExtraValues(r)
        let str = x.str, int = x.int
        switch event {
        case .subsystem:
            s.channel.subsystem = str(.subsystem)
            if s.channel.subsystem == "sftp" { sawSFTP = true }
        case .command:
            s.channel.command = str(.command)
            sawSSHCommand = true
        case .exitStatus:
            s.channel.remoteExitStatus = int(.status)
            completed = true; ended = true
            noteEnd(.completed)
        default: break
        }
    }

    /// Transfer progress and the totals a run prints at its end.
    private mutating func transfer(_ r: Record, event: OpenSSHEvent?) {
        let x = ExtraValues(r)
        let str = x.str, int = x.int, dbl = x.dbl
        if event == .progress {
            kexCompleted = true
            if opOpen, let k = s.operations.indices.last, case .int(let p)? = r.fact(.percent) { lastPercent = (k, p) }
        }
        switch event {
        case .transferred:
            noteEnd(.completed)
            s.transfer.bytesSent = int(.bytesSent) ?? int(.stdin)
            s.transfer.bytesReceived = int(.bytesReceived) ?? int(.stdout)
            s.transfer.seconds = dbl(.seconds)
            completed = true; ended = true
        case .rate:
            s.transfer.bytesPerSecondSent = dbl(.sentPerSecond)
            s.transfer.bytesPerSecondReceived = dbl(.receivedPerSecond)
        case .compression:
            if str(.direction) == "outgoing" { s.transfer.compressionFactorOutgoing = dbl(.factor) }
            else { s.transfer.compressionFactorIncoming = dbl(.factor) }
        default: break
        }
    }

    /// The rest of a proposal list a terminal wrapped onto the next line.
    mutating func wrappedProposal(_ r: Record) {
        guard OpenSSHEvent(r) == .proposal, round == 1, case .string(let slot)? = r.fact(.slot),
              case .array(let a)? = r.fact(.names) else { return }
        var names = a.compactMap { $0.stringValue }
        let side = r.fact(.side)?.stringValue
        guard side == "client" || side == "server" else { return }
        var list = side == "client" ? client[slot] : server[slot]
        if r.fact(.joinsPrevious) == .bool(true), let last = list.popLast(), !names.isEmpty {
            names[0] = last + names[0]
        }
        list += names
        if side == "client" { client[slot] = list } else { server[slot] = list }
        proposalLinks[side! + "|" + slot, default: []].append(here)
    }

    mutating func hostKey(event: OpenSSHEvent?, str: (OpenSSHFact) -> String?, int: (OpenSSHFact) -> Int?) {
        switch event {
        case .serverHostKey:
            if serverHostKeyType == nil { serverHostKeyType = str(.keyType); serverHostKeyLink = here }
            if s.hostKey.fingerprint == nil {
                s.hostKey.type = str(.keyType)
                s.hostKey.fingerprint = str(.fingerprint)
                s.hostKey.fingerprintHash = str(.fingerprintHash)
            }
        case .known:
            if s.hostKey.check == nil || s.hostKey.check == "added" { s.hostKey.check = "known" }
        case .found:
            if s.hostKey.file == nil { s.hostKey.file = str(.file); s.hostKey.line = int(.fileLine) }
        case .added:
            if s.hostKey.check == nil { s.hostKey.check = "added" }
        case .addedIp:
            if s.hostKey.check == nil { s.hostKey.check = "added" }
        case .changed:
            noteEnd(.hostkeyChanged)
            hostkeyChanged = true
            s.hostKey.check = "changed"
            hostkeyChangedMessage = hostkeyChangedMessage ?? currentText
        case .offending:
            noteEnd(.hostkeyChanged)
            hostkeyChanged = true
            s.hostKey.check = "changed"
            s.hostKey.file = str(.file)
            s.hostKey.line = int(.fileLine)
        case .unknownRefused:
            noteEnd(.hostkeyRefused)
            hostkeyRefused = hostkeyRefused ?? currentText
            if s.hostKey.check != "changed" { s.hostKey.check = "unknown-refused" }
        case .fingerprint:
            if s.hostKey.fingerprint == nil { s.hostKey.fingerprint = str(.fingerprint) }
            if s.hostKey.type == nil { s.hostKey.type = str(.keyType) }
        default: break
        }
    }

    /// Text of the record being folded (set in `sftp`/`auth`/`error` callers).
    var currentText: String?

    mutating func auth(event: OpenSSHEvent?, text: String, str: (OpenSSHFact) -> String?, int: (OpenSSHFact) -> Int?, list: (OpenSSHFact) -> [String]) {
        func tried(_ m: String) {
            if m != "none", !s.auth.methodsTried.contains(m) { s.auth.methodsTried.append(m) }
        }
        switch event {
        case .authenticating:
            if authenticatingUser == nil, str(.user) != nil { userLinks[.authenticating] = here }
            authenticatingUser = authenticatingUser ?? str(.user)
            if authenticatingHost == nil { authenticatingHost = str(.host); authenticatingPort = int(.port) }
        case .methods:
            publickeyFromOffer = false
            s.auth.methodsAllowed.append(list(.methods))
            if privateKeyPending { tried("publickey"); privateKeyPending = false }
            if attemptInFlight { s.auth.failures += 1; attemptInFlight = false }
        case .nextMethod:
            let m = str(.method) ?? ""
            privateKeyPending = false
            attemptInFlight = false
            if m == "password" || m == "keyboard-interactive" { tried(m) }
        case .offering:
            if !s.auth.methodsTried.contains("publickey") { publickeyFromOffer = true }
            tried("publickey")
            privateKeyPending = false
            if let k = str(.keyPath) ?? str(.fingerprint) { s.auth.keysOffered.append(k) }
            attemptInFlight = true
        case .tryingPrivateKey:
            // Sent only if the key loads: confirmed by the server's answer that follows.
            privateKeyPending = true
            if let k = str(.keyPath) { s.auth.keysOffered.append(k) }
            attemptInFlight = true
        case .noMutualSignature:
            // The client withdrew the key it was offering: nothing was sent.
            if publickeyFromOffer { s.auth.methodsTried.removeAll { $0 == "publickey" } }
            publickeyFromOffer = false
            attemptInFlight = false
        case .acceptsKey:
            publickeyFromOffer = false
            tried("publickey")
        case .sentPacket:
            if let m = str(.method) { tried(m) }
            privateKeyPending = false
            attemptInFlight = true
        case .notSent:
            privateKeyPending = false
            attemptInFlight = false
        case .succeeded, .authenticated:
            if privateKeyPending { tried("publickey"); privateKeyPending = false }
            if let m = str(.method) { s.auth.succeededMethod = m; tried(m) }
            authenticated = true
            noteEnd(.authenticated)
            attemptInFlight = false
        case .partialSuccess:
            s.auth.partialSuccess = true
            if let m = str(.method) { tried(m) }
        case .denied:
            noteEnd(.authDenied)
            if deniedUser == nil, str(.user) != nil { userLinks[.denied] = here }
            authDenied = authDenied ?? text
            s.auth.failures += attemptInFlight ? 1 : 0
            attemptInFlight = false
            deniedUser = deniedUser ?? str(.user)
            if errorHost == nil { errorHost = str(.host) }
            ended = true
        case .prompt:
            // A password or keyboard-interactive prompt is an attempt of that method.
            if let m = str(.method) {
                tried(m)
                attemptInFlight = true
            }
            if promptUser == nil, str(.user) != nil { userLinks[.prompt] = here }
            promptUser = promptUser ?? str(.user)
        case .tooManyFailures:
            noteEnd(.authDenied)
            authDenied = authDenied ?? text
            ended = true
        case .passwordRetry:
            // Counted already when `Authentications that can continue` followed the attempt.
            if attemptInFlight { s.auth.failures += 1; attemptInFlight = false }
        case .noMoreMethods:
            noteEnd(.authExhausted)
            authExhausted = true
        default: break
        }
    }

    mutating func sftp(_ r: Record, event: OpenSSHEvent?, str: (OpenSSHFact) -> String?, list: (OpenSSHFact) -> [String]) {
        switch event {
        case .command:
            sawSFTP = true
            authenticated = true
            if let op = str(.op), ["exit", "quit", "bye"].contains(op) { closedSeen = true }
            guard let op = str(.op), !op.isEmpty, !["exit", "quit", "bye"].contains(op) else { opOpen = false; return }
            let args = list(.args)
            var i = 0
            while i < args.count, args[i].hasPrefix("-"), args[i].count > 1 { i += 1 }
            let a = Array(args[i...])
            var o = SFTPOperation(op: FileOperation(op), path: nil, ok: true, ignoreErrors: r.fact(.ignoreErrors) == .bool(true),
                                  line: r.line, command: str(.command) ?? "")
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
            linkOperation(s.operations.count - 1)
            opOpen = true
        case .error:
            guard opOpen, !s.operations.isEmpty else { return }
            let k = s.operations.count - 1
            if s.operations[k].ok {
                s.operations[k].ok = false
                s.operations[k].error = str(.error) ?? r.message
                linkOperation(k)
            }
        case .download:
            if opOpen, let k = s.operations.indices.last, s.operations[k].local == nil {
                s.operations[k].local = str(.local)
                linkOperation(k)
            }
        case .upload:
            if opOpen, let k = s.operations.indices.last, s.operations[k].path == nil {
                s.operations[k].path = str(.remote)
                linkOperation(k)
            }
        case .fetching:
            if opOpen, let k = s.operations.indices.last, s.operations[k].local == nil {
                s.operations[k].local = str(.local)
                linkOperation(k)
            }
        default: break
        }
    }

    mutating func error(event: OpenSSHEvent?, text: String, r: Record, str: (OpenSSHFact) -> String?) {
        if errorHost == nil, let h = str(.host) ?? str(.address) {
            errorHost = h
            if case .int(let p)? = r.fact(.port) { errorPort = p }
        }
        if event == .lostConnection { sawSCP = true }
        if event == .connectionClosed && r.fact(.address) == nil { sawSFTP = true }
        switch event {
        case .connectFailed, .resolveFailed:
            noteEnd(.connectFailed)
            connectFailed = connectFailed ?? text
            ended = true
        case .negotiationFailed:
            noteEnd(.negotiationFailed)
            if negotiationFailed == nil {
                negotiationFailed = text
                negotiationExtra = r.extra
            }
            ended = true
        case .hostkeyChangedBanner:
            noteEnd(.hostkeyChanged)
            hostkeyChanged = true
            s.hostKey.check = "changed"
        case .hostkeyChangedFingerprint:
            hostkeyChanged = true
            if s.hostKey.fingerprint == nil { s.hostKey.fingerprint = str(.fingerprint) }
        case .hostkeyVerificationFailed:
            noteEnd(.verificationFailed)
            verificationFailed = verificationFailed ?? text
            ended = true
        case .warningBanner:
            break
        default:
            // connection_closed, connection_reset, disconnect_received, disconnected, closed_by_remote,
            // timeout, transport, killed, fatal
            if event == .closedByRemote, let t = lastTyped?.trimmingCharacters(in: .whitespaces),
               ["exit", "logout", "quit", "bye"].contains(where: { t == $0 || t.hasSuffix(">" + $0) || t.hasSuffix(" " + $0) }) {
                // The server closed after the user ended the session: a normal end.
                noteEnd(.completed)
                completed = true
                ended = true
                return
            }
            // A transfer the connection broke off did not happen, whatever its meter said last;
            // any operation sftp could no longer send or read failed.
            if opOpen, let k = s.operations.indices.last, s.operations[k].ok,
               event == .connectionLost || (Scratch.transferOps.contains(s.operations[k].op) && (lastPercent.map { $0.op == k && $0.percent < 100 } ?? false)) {
                s.operations[k].ok = false
                s.operations[k].error = text
                linkOperation(k)
                opLostWithConnection = disconnect != nil || event != .connectionLost
            }
            // sftp's `Connection closed` after its ssh child ended says nothing new.
            let echo = event == .connectionClosed && r.fact(.address) == nil && ended
            if !echo {
                // Every distinct reason the client gave, in order (`Bad packet length` then the fatal line).
                let said = event == .disconnectReceived ? (str(.text) ?? text) : text
                if disconnect == nil { disconnect = said; noteEnd(.disconnect) }
                else if disconnectCount < 3, !(disconnect!.contains(said)) { disconnect! += " / " + said; disconnectCount += 1 }
            }
            ended = true
        }
    }

    static let transferOps: Set<FileOperation> = [.get, .put, .reget, .reput, .aget, .aput]

    static func choose(_ client: [String], _ server: [String]) -> String? {
        client.first { server.contains($0) }
    }

    /// A value the paste blanked out (`x.x.x.x`, `****`) is not a value.
    static func shown(_ v: String?) -> String? {
        guard let v, !v.isEmpty, !PasteLines.isRedacted(v[...]) else { return nil }
        return v
    }

    /// User, peer and program from the lines that show them, best source first.
    func identify(_ out: inout OpenSSHSession) {
        let users: [(String?, String, UserLine)] = [(authenticatingUser, "authenticating", .authenticating), (command?.user, "command_line", .commandLine),
                                                    (execUser, "command_line", .exec), (promptUser, "prompt", .prompt), (deniedUser, "denied", .denied)]
        if let (u, source, line) = users.first(where: { Scratch.shown($0.0) != nil }) {
            out.auth.user = u
            out.userSource = source
            if let l = userLinks[line] { out.evidence.append(Scratch.linked(.user, l)) }
        }
        let hosts: [(String?, Int?)] = [(connectingHost, connectingPort), (command?.host, command?.port),
                                         (authenticatingHost, authenticatingPort), (errorHost, errorPort)]
        out.peer.host = hosts.lazy.compactMap { Scratch.shown($0.0) }.first
        out.peer.port = hosts.lazy.compactMap { $0.1 }.first
        out.peer.address = Scratch.shown(out.peer.address)
        if let t = command?.tool { out.tool = t }
        else if sawSCP { out.tool = "scp" }
        else if sawSFTP { out.tool = "sftp" }
        else if sawSSHCommand { out.tool = "ssh" }
    }

    /// Before 7.2 there is no `kex: host key algorithm:` line; the key's type
    /// names the algorithm where only one fits (DSA, Ed25519, RSA before rsa-sha2).
    static func hostKeyAlgorithm(keyType: String) -> String? {
        switch keyType {
        case "RSA", "ssh-rsa": return "ssh-rsa"
        case "DSA", "ssh-dss": return "ssh-dss"
        case "ED25519", "ssh-ed25519": return "ssh-ed25519"
        default:
            // Full names from 6.8 on are the algorithm themselves (ecdsa-sha2-nistp256, certificates).
            return keyType.contains("-") ? keyType : nil
        }
    }

    func finalize() -> OpenSSHSession {
        var out = s
        identify(&out)
        out.closed = closedSeen
        out.rekeyCount = max(0, max(kexSent, kexReceived) - 1)
        if !client.isEmpty { out.clientProposal = client }
        if !server.isEmpty { out.serverProposal = server }
        negotiation(&out)
        if let text = negotiationFailed {
            out.negotiationFailure = negotiationFailure(text)
        }
        outcome(&out)
        evidence(&out)
        return out
    }

    static func linked(_ fact: EvidenceFact, _ l: EvidenceLink) -> EvidenceLink {
        var l = l
        l.fact = fact
        return l
    }

    /// The links of the facts the run ended up with (operations' and the
    /// user's are made as they are read).
    func evidence(_ out: inout OpenSSHSession) {
        var links: [EvidenceLink] = []
        func add(_ fact: EvidenceFact, _ l: EvidenceLink?) {
            guard let l else { return }
            let x = Scratch.linked(fact, l)
            if !links.contains(x) { links.append(x) }
        }
        func proposals(_ fact: EvidenceFact, _ slot: String, sides: [String] = ["client", "server"]) {
            for side in sides { for l in proposalLinks[side + "|" + slot] ?? [] { add(fact, l) } }
        }
        if let n = out.negotiated {
            let derived = Set(out.negotiatedDerivedSlots)
            if n.kex != nil {
                if derived.contains("kex") { proposals(.kex, "kex", sides: client.slotsSeen.contains("kex") ? ["client", "server"] : ["server"]) }
                else { add(.kex, kexLink) }
            }
            if n.hostkey != nil {
                if !derived.contains("hostkey") { add(.hostkey, hostkeyLink) }
                else if client.slotsSeen.contains("hostkey") && server.slotsSeen.contains("hostkey") { proposals(.hostkey, "hostkey") }
                else if server.hostKey.count == 1 { proposals(.hostkey, "hostkey", sides: ["server"]) }
                else { add(.hostkey, serverHostKeyLink) }
            }
            for (fact, dir) in [(EvidenceFact.cipherC2S, "c2s"), (.cipherS2C, "s2c"), (.macC2S, "c2s"), (.macS2C, "s2c"),
                                (.compressionC2S, "c2s"), (.compressionS2C, "s2c")] where fact.value(in: n) != nil {
                add(fact, directionLinks[dir])
            }
            if out.gex?.groupBits != nil { add(.gexBits, gexLink) }
            if out.strictKex != nil {
                if strictEvidence { add(.strictKex, strictLink) }
                else { proposals(.strictKex, "kex") }
            }
        }
        if out.serverProposal != nil {
            // The slots whose names the policy judges (not the empty language lists).
            for slot in KexProposal.slotNames where !slot.hasPrefix("languages") && !server[slot].isEmpty {
                proposals(.serverOffer, slot, sides: ["server"])
            }
        }
        let end: [RunEnd]
        switch out.outcome {
        case .connectionRefused: end = [.connectFailed]
        case .negotiationFailed: end = [.negotiationFailed]
        case .hostkeyChanged: end = [.hostkeyChanged, .verificationFailed]
        case .hostkeyUnknown: end = [.hostkeyRefused, .verificationFailed]
        case .authFailed: end = authDenied != nil ? [.authDenied] : [.authExhausted]
        case .sftpCommandFailed: end = []
        case .disconnected: end = [.disconnect]
        case .ok: end = [.authenticated, .output, .completed]
        case .incomplete: end = []
        }
        if let first = end.lazy.compactMap({ endLinks[$0] }).first { add(.outcome, first) }
        if out.outcome == .sftpCommandFailed, let k = out.operations.indices.last {
            for l in out.evidence where l.fact == .operation && l.item == k { add(.outcome, l) }
        }
        if out.outcome == .incomplete { add(.outcome, lastOpenSSHLink) }
        out.evidence = EvidenceLink.canonical(out.evidence + links)
    }

    /// Whether the key exchange completed: `kex:` lines come before the exchange
    /// itself, so only a run that got past it counts.
    var exchanged: Bool { kexCompleted || authenticated || sawOutput || completed }

    /// The algorithms the first key exchange settled on, and whether it was strict.
    func negotiation(_ out: inout OpenSSHSession) {
        let bothKex = client.slotsSeen.contains("kex") && server.slotsSeen.contains("kex")
        if let s2c, let c2s, exchanged {
            var n = NegotiatedAlgorithms()
            if kexLine.set { n.kex = kexLine.value } else if bothKex {
                n.kex = Scratch.choose(client.kexAlgorithms, server.kexAlgorithms)
                out.negotiatedDerivedSlots.append("kex")
            }
            if !kexLine.set && !bothKex && server.kexAlgorithms.count == 1 {
                // The server offered one name: it is what was negotiated.
                n.kex = server.kexAlgorithms[0]
                out.negotiatedDerivedSlots.append("kex")
            }
            if hostkeyLine.set { n.hostkey = hostkeyLine.value }
            else if client.slotsSeen.contains("hostkey") && server.slotsSeen.contains("hostkey") {
                n.hostkey = Scratch.choose(client.hostKey, server.hostKey)
                out.negotiatedDerivedSlots.append("hostkey")
            } else if server.hostKey.count == 1 {
                n.hostkey = server.hostKey[0]
                out.negotiatedDerivedSlots.append("hostkey")
            } else if !kexLine.set, let t = serverHostKeyType, let alg = Scratch.hostKeyAlgorithm(keyType: t) {
                n.hostkey = alg
                out.negotiatedDerivedSlots.append("hostkey")
            }
            n.cipherS2C = s2c.cipher; n.macS2C = s2c.mac; n.compressionS2C = s2c.comp
            n.cipherC2S = c2s.cipher; n.macC2S = c2s.mac; n.compressionC2S = c2s.comp
            if let c = n.cipherS2C, OpenSSHText.isAEAD(c) { n.macS2C = nil }
            if let c = n.cipherC2S, OpenSSHText.isAEAD(c) { n.macC2S = nil }
            out.negotiated = n
        }

        if verificationFailed != nil {
            // The host key was refused inside the key exchange: it never completed.
            out.negotiated = nil
            out.negotiatedDerivedSlots = []
        } else if out.negotiated == nil, negotiationFailed == nil, exchanged {
            // The exchange completed but the text does not show its algorithms.
            out.negotiated = NegotiatedAlgorithms()
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
    }

    /// How the run ended, the first failure in the order the client meets them.
    func outcome(_ out: inout OpenSSHSession) {
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
            out.error = [hostkeyRefused, verificationFailed].compactMap { $0 }.joined(separator: " / ")
            if out.hostKey.check == nil { out.hostKey.check = "unknown-refused" }
        } else if let e = authDenied {
            out.outcome = .authFailed; out.error = e
        } else if authExhausted && !authenticated {
            out.outcome = .authFailed; out.error = "No more authentication methods to try."
        } else if let op = lastOp, !op.ok, !op.ignoreErrors, !opLostWithConnection {
            out.outcome = .sftpCommandFailed; out.error = op.error
        } else if let d = disconnect {
            out.outcome = .disconnected; out.disconnectReason = d; out.error = d
        } else if authenticated || sawOutput || completed {
            // Authenticated and nothing failed after it, whether or not the paste shows the end.
            out.outcome = .ok
        } else {
            out.outcome = .incomplete
        }
    }

    func negotiationFailure(_ text: String) -> NegotiationFailure {
        func v(_ k: OpenSSHFact) -> JSONValue? { negotiationExtra.first { $0.0 == k.rawValue }?.1 }
        func strs(_ k: OpenSSHFact) -> [String]? {
            if case .array(let a)? = v(k) { return a.compactMap { $0.stringValue } }
            return nil
        }
        let reason = v(.reason)?.stringValue ?? text
        let family = v(.slot)?.stringValue
        var slot = family
        var clientOffer = strs(.clientOffer) ?? []
        var serverOffer = strs(.theirOffer) ?? strs(.serverOffer) ?? []
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

/// A record's facts, typed (the builder's steps read them so).
struct ExtraValues {
    let r: Record
    init(_ r: Record) { self.r = r }
    func str(_ k: OpenSSHFact) -> String? {
        if case .string(let v)? = r.fact(k) { return v }
        return nil
    }
    func int(_ k: OpenSSHFact) -> Int? {
        if case .int(let v)? = r.fact(k) { return v }
        return nil
    }
    func dbl(_ k: OpenSSHFact) -> Double? {
        switch r.fact(k) {
        case .double(let v)?: return v
        case .int(let v)?: return Double(v)
        default: return nil
        }
    }
    func list(_ k: OpenSSHFact) -> [String] {
        if case .array(let a)? = r.fact(k) { return a.compactMap { $0.stringValue } }
        return []
    }
}
