import Foundation

/// Reads OpenSSH client debug transcripts (`ssh`/`sftp` -v…-vvv stderr, `ssh -E`
/// files, sftp stdout interleaved). One record per non-blank physical line,
/// `layout = "openssh"`; the kind says what the line is, `extra` holds its facts.
/// Classification is prefix scanning only (no regular expressions).
public final class OpenSSHTranscriptReader: LogReader {
    let file: String
    let options: ReaderOptions
    private var classifier = OpenSSHLineClassifier()
    /// Every message the client code prints (nil when the catalogue has no table).
    private let messages = try? OpenSSHMessageTable.shared()
    /// The client's release, from its version line: the same text can fit an older
    /// and a newer wording (as the table's release bit).
    private var releaseMask: UInt64 = 0
    private var releaseKnown = false

    public init(file: String, options: ReaderOptions) {
        self.file = file
        self.options = options
    }

    public func feed(_ line: PhysicalLine, _ emit: (consuming Record) throws -> Void) rethrows {
        let b = line.bytes
        if PhysicalLine.isBlank(b) {
            classifier.blank()
            return
        }
        try emit(record(line))
    }

    public func finish(_ emit: (consuming Record) throws -> Void) rethrows {}

    /// Classifies one non-blank physical line.
    func record(_ line: PhysicalLine) -> Record {
        let b = line.bytes
        let (text, valid) = UTF8Text.decode(b)
        var r = Record(kind: .unparsed, file: file, line: line.number, raw: Array(b), rawIsUTF8: valid)
        r.offset = line.offset
        r.endOffset = line.endOffset
        r.layout = "openssh"
        var level: Int?
        var body = text[...]
        // A terminal redraws a line after CR (progress meters, prompts): what stays on
        // screen is the last text drawn. scp's meter also runs into the next message.
        if b.contains(0x0D) {
            let segments = body.split(separator: "\r", omittingEmptySubsequences: true)
            body = segments.last { !$0.trimmingSpaces.isEmpty } ?? body
        }
        var afterProgress = false
        if body.utf8.contains(0x25), let eta = OpenSSHText.findLast(body, " ETA"), eta.upperBound != body.endIndex,
           body[eta.upperBound] != " " {
            body = body[eta.upperBound...]
            afterProgress = true
        }
        // A paste may put client output behind sftp's prompt, scp's name or forum
        // markup: `sftp> debug1: …`, `scp: debug1: …`, `[code]debug1: …`.
        var via: String?
        for wrapper in OpenSSHTranscriptReader.wrappers where body.hasBytePrefix(wrapper) {
            let rest = OpenSSHText.after(body, wrapper)!
            // After sftp's prompt, a capital letter is a message, not a command (commands are lower case).
            let message = rest.utf8.first.map { $0 >= 0x41 && $0 <= 0x5A } ?? false
            if OpenSSHText.debugLevel(rest) != nil || (wrapper == "sftp> " && message)
                || ((wrapper.hasPrefix("[") || wrapper.hasPrefix("<")) && !rest.trimmingSpaces.isEmpty) {
                body = rest
                via = wrapper.trimmingCharacters(in: .whitespaces)
            }
            break
        }
        if let (l, rest) = OpenSSHText.debugLevel(body) {
            level = l
            body = rest
        }
        // `-o LogVerbose` names the source of a message in front of it.
        var source: (function: Substring, at: String)?
        if let tag = OpenSSHText.logVerboseTag(body) {
            source = (tag.function, "\(tag.file):\(tag.line)")
            body = tag.rest
        }
        // Values never carry the line end's spaces or CR, nor markup inside the line.
        var clean = PasteLines.withoutInlineMarkup(body).trimmingTrailingSpace
        // The tag replaces the `function: ` that the release's format writes in front.
        if let source, let messages, messages.read(message: clean, level: level, releaseMask: releaseMask) == nil {
            let named = "\(source.function): \(clean)"
            if messages.read(message: named[...], level: level, releaseMask: releaseMask) != nil { clean = named[...] }
        }
        // Which message of the client printed the line: a message read by data
        // (`openssh-events.json`) takes its event and values from the table or from the
        // extractor it names; a line the extractors do not know still gets its kind from
        // the table, and a debug line nothing knows is unparsed.
        func lookUp() -> (entry: Int, facts: [(String, JSONValue)]?)? {
            guard let messages else { return nil }
            // Some formats end in a space (`first_kex_follows %d `, an empty `languages ctos: %s`).
            return messages.read(message: clean, level: level, releaseMask: releaseMask)
                ?? (body.utf8.count != clean.utf8.count ? messages.read(message: PasteLines.withoutInlineMarkup(body), level: level, releaseMask: releaseMask) : nil)
        }
        func byData(_ read: (entry: Int, facts: [(String, JSONValue)]?), text: Substring) -> OpenSSHLineClassifier.Result? {
            guard let entry = messages?.entries[read.entry] else { return nil }
            return classifier.fromTable(entry, facts: read.facts, text: text)
        }
        // Every debug line is a client message: looked up first, so that one read by data
        // skips the extractors' own search.
        var read = level != nil ? lookUp() : nil
        var c: OpenSSHLineClassifier.Result
        if let level, let found = read, messages?.entries[found.entry].isReadByData == true {
            classifier.beginDebugLine(clean, level: level, width: b.count)
            c = byData(found, text: clean) ?? classifier.classify(clean, level: level, crlf: line.terminatorLength == 2, width: b.count)
        } else if let level, read == nil, let messages, let t = OpenSSHText.stripFunction(clean),
                  let found = messages.read(message: t, level: level, releaseMask: releaseMask),
                  messages.entries[found.entry].isReadByData {
            // A message behind a name the release's own format lacks (`LogVerbose`'s
            // `file.c:func():line` tag, a patched build's function): read by the rest,
            // naming what was in front first.
            classifier.beginDebugLine(t, level: level, width: b.count)
            if var data = byData(found, text: t) {
                data.extra.insert(("function", .string(String(clean[clean.startIndex..<t.startIndex].dropLast(2)))), at: 0)
                c = data
            } else {
                c = classifier.classify(clean, level: level, crlf: line.terminatorLength == 2, width: b.count)
            }
        } else {
            // An unprefixed line is looked up once the reader knows it is no continuation
            // of a multi-line message; a message read by data then needs no extractor's search.
            var looked = false
            c = classifier.classify(clean, level: level, crlf: line.terminatorLength == 2, width: b.count) {
                looked = true
                read = lookUp()
                return read.flatMap { r in messages.map { ($0.entries[r.entry], r.facts) } }
            }
            let isClientLine = c.kind.rawValue.hasPrefix("openssh.") && c.kind != .opensshOutput && !c.isContinuation
            if level == nil, !looked, isClientLine || c.kind == .unparsed {
                read = lookUp()
                if let r = read, let data = byData(r, text: clean) { c = data }
            } else if looked, !c.byTable, !isClientLine, c.kind != .unparsed {
                // Program output names no message of the client, even where its text could.
                read = nil
            }
        }
        let known = read.flatMap { messages?.entries[$0.entry] }
        if !releaseKnown, c.kind == .opensshVersion, let messages,
           case .string(let v)? = c.extra.first(where: { $0.0 == "client_version" || $0.0 == "software" })?.1 {
            releaseMask = messages.releaseMask(v)
            releaseKnown = true
        }
        if let m = known, c.kind == .unparsed {
            c = OpenSSHLineClassifier.Result(kind: m.kind == .opensshError && m.level != .fatal ? .opensshDebug : m.kind,
                                             extra: [("event", .string(m.level == .fatal ? "fatal" : "message"))])
        } else if messages != nil, level != nil, known == nil, c.kind == .opensshDebug, c.extra.isEmpty {
            c = OpenSSHLineClassifier.Result(kind: .unparsed, extra: [],
                                             diagnostic: "a debug\(level!) line that no OpenSSH client release prints (catalog/openssh-messages.json)")
        }
        r.kind = c.kind
        if c.kind == .unparsed {
            r.text = text
            r.diagnostic = c.diagnostic ?? "not an OpenSSH client line"
            return r
        }
        r.message = String(body)
        var extra: [(String, JSONValue)] = []
        if let level { extra.append(("level", .int(level))) }
        if let via { extra.append(("via", .string(via))) }
        if afterProgress { extra.append(("after_progress", .bool(true))) }
        if let source { extra.append(("source", .string(source.at))) }
        extra += c.extra
        if let source, !extra.contains(where: { $0.0 == "function" }) { extra.append(("function", .string(String(source.function)))) }
        if let m = known {
            extra.append(("message_id", .string(m.id)))
            if let f = m.functions.first, !extra.contains(where: { $0.0 == "function" }) { extra.append(("function", .string(f))) }
        }
        r.extra = extra
        return r
    }

    static let wrappers = ["sftp> ", "scp: ", "[code]", "[quote]", "<pre>", "<code>"]
}

/// The per-line state machine: which KEXINIT block a proposal line belongs to,
/// whether a channel is open (unprefixed lines are then program output), and
/// multi-line messages (host-key-changed fingerprint, channel status dump).
struct OpenSSHLineClassifier {
    struct Result {
        var kind: RecordKind
        var extra: [(String, JSONValue)]
        var diagnostic: String?
        /// Read by the table's data (then it names its message, even as program output).
        var byTable = false
        /// A line continuing the previous message (status dump, GSS minor text): not a message of its own.
        var isContinuation: Bool { extra.contains { $0.0 == "continuation" } }
    }

    /// Side of the proposal being dumped (7.2+ headers).
    var kexSide: String?
    /// ≤7.1 `kex_parse_kexinit:` dumps: list index in the block and block number.
    var oldIndex = 0
    var oldBlock = 0
    /// A session channel is open: unknown unprefixed lines are its output.
    var inChannel = false
    var expectFingerprint = false
    var inStatusDump = false
    var statusDumpLevel: Int?
    /// GSSAPI failures embed the minor status text after a newline.
    var gssContinuation = false
    /// After a client command line: plain lines are the command's output.
    var afterCommand = false
    /// The previous line's proposal list (a terminal may wrap it) and that line's width.
    var lastProposal: (side: String?, slot: String, endsWithComma: Bool)?
    var previousWidth = 0
    /// Inside the randomart box of `VisualHostKey`.
    var inRandomart = false
    /// The shell prompt the last client command was typed at.
    var launchPrompt: String?

    mutating func blank() {
        gssContinuation = false
        inStatusDump = false
        expectFingerprint = false
    }

    static let oldSlots = ["kex", "hostkey", "cipher_c2s", "cipher_s2c", "mac_c2s", "mac_s2c",
                           "compression_c2s", "compression_s2c", "languages_c2s", "languages_s2c"]

    /// What every `debugN:` line does to the state, whoever reads its values.
    mutating func beginDebugLine(_ s: Substring, level: Int, width: Int) {
        lastProposal = nil
        previousWidth = width
        statusDumpLevel = level
        inStatusDump = false
        expectFingerprint = false
        inRandomart = false
        gssContinuation = OpenSSHText.contains(s, "GSS failure")
    }

    /// A message's record from the table: the event and values it names, or what its extractor reads.
    mutating func fromTable(_ entry: OpenSSHMessageTable.Entry, facts: [(String, JSONValue)]?, text: Substring) -> Result? {
        if let facts { return Result(kind: entry.kind, extra: facts, byTable: true) }
        guard let name = entry.extractor, let after = entry.after, let rest = OpenSSHText.after(text, after),
              var facts = extract(name, rest) else { return nil }
        if entry.functionFirst, let f = entry.function { facts.insert(("function", .string(f)), at: 0) }
        return Result(kind: entry.kind, extra: facts, byTable: true)
    }

    /// `table`: which message of the client an unprefixed line is (asked once the line is no continuation).
    mutating func classify(_ s: Substring, level: Int?, crlf: Bool, width: Int,
                           table: () -> (OpenSSHMessageTable.Entry, [(String, JSONValue)]?)? = { nil }) -> Result {
        let wrapFrom = (proposal: lastProposal, width: previousWidth)
        lastProposal = nil
        previousWidth = 0
        if let level {
            beginDebugLine(s, level: level, width: width)
            if OpenSSHText.contains(s, "status: The following connections are open:") {
                inStatusDump = true
            }
            return Result(kind: .opensshDebug, extra: [])
        }
        var r = plainLine(s, crlf: crlf, table: table)
        if r.kind == .unparsed || r.kind == .opensshOutput, let w = wrapped(s, from: wrapFrom) { r = w }
        // Only the client's own long lines can wrap onto the next one.
        if r.kind.rawValue.hasPrefix("openssh."), r.kind != .opensshOutput { previousWidth = width }
        return r
    }

    /// The extractors `openssh-events.json` names: the values of a message from the
    /// text after its start; some also move the reader's state (a session channel
    /// opening, a new KEXINIT dump). Nil for a name the reader does not have.
    mutating func extract(_ name: String, _ r: Substring) -> [(String, JSONValue)]? {
        typealias T = OpenSSHText
        func str(_ x: Substring) -> JSONValue { .string(String(x)) }
        // `name:argument`: one extractor for the ten proposal lists, say, each naming its slot.
        let parts = name.split(separator: ":", maxSplits: 1)
        let argument = parts.count > 1 ? String(parts[1]) : ""
        switch parts.first.map(String.init) ?? name {
        case "proposal": return proposal(r, slot: argument).extra
        case "kexinit_header":
            guard r.hasSuffix(" KEXINIT proposal") else { return nil }
            let side = String(r.dropLast(17))
            kexSide = side
            return [("event", .string("header")), ("side", .string(side)), ("local", .bool(argument == "local"))]
        case "negotiated": return negotiated(r)?.extra
        case "config":
            inChannel = false
            return [("event", .string("config")), ("config_file", str(r))]
        case "remote_version":
            var e: [(String, JSONValue)] = [("event", .string("remote"))]
            if let (p, sw) = T.split2(r, ", remote software version ") {
                e.append(("protocol_version", str(p)))
                e.append(("software", str(sw)))
            } else {
                e.append(("protocol_version", str(r)))
            }
            return e
        case "local_version":
            var e: [(String, JSONValue)] = [("event", .string("local")), ("version_string", str(r))]
            if let v = T.after(r, "SSH-"), let (proto, sw) = T.split2(v, "-") {
                e.append(("protocol_version", str(proto)))
                e.append(("software", str(sw)))
            }
            return e
        case "offering": return offering(r)
        case "authenticating": return authenticating(r)
        case "kexinit_received":
            oldIndex = 0; oldBlock = 0; kexSide = nil
            return [("event", .string("kexinit_received"))]
        case "server_host_key": return serverHostKey(r)
        case "accepts_key": return acceptsKey(r)
        case "subsystem":
            inChannel = true
            return [("event", .string("subsystem")), ("subsystem", str(r))]
        case "command":
            inChannel = true
            return [("event", .string("command")), ("command", str(r))]
        case "will_attempt":
            return [("event", .string("will_attempt"))] + keyIdent(r)
        case "interactive":
            inChannel = true
            return [("event", .string("interactive"))]
        case "status_dump":
            guard let (n, rest) = T.split2(r, ": "), let ch = T.int(n),
                  rest.hasBytePrefix("status: The following connections are open:") else { return nil }
            inStatusDump = true
            return [("event", .string("status")), ("channel", .int(ch))]
        case "version": return versionLine(r).extra
        case "compat": return compat(r)
        case "fxp_request": return fxpRequest(r)
        case "kexinit_number": return kexinitNumber(r, slot: argument).extra
        case "old_proposal": return oldProposal(r.hasBytePrefix(" ") ? r.dropFirst() : r).extra
        case "transferred": return transferredLine(r).extra
        case "transfer": return transferOp(r).extra
        // Unprefixed messages: errors and results.
        case "authenticated": return authenticated(r)
        case "peer": return peerFacts(r, event: argument)
        case "timed_out":
            // `Connection to H port P timed out` (and ≤6.8's `… while waiting to read`).
            guard let (who, _) = T.split2(r, " timed out") else { return nil }
            return peerFacts(T.after(who, "to ") ?? who, event: "timeout")
        case "closed":
            // The session's end: nothing after it is remote output.
            guard r.hasSuffix(" closed.") else { return nil }
            inChannel = false; afterCommand = false
            return [("event", .string("closed")), ("host", str(r.dropLast(8)))]
        case "disconnecting":
            // packet_disconnect(): the client hangs up itself (`Disconnecting: Packet corrupt`).
            guard let reason = T.after(r, ": ") ?? T.after(r, " ").flatMap({ T.split2($0, ": ")?.1 }) else { return nil }
            return [("event", .string("disconnecting")), ("reason", str(reason))]
        case "banner_exchange": return [("event", .string("banner_exchange_failed")), ("reason", str(r))]
        case "exec":
            // scp's `-v`: `Executing: program /usr/bin/ssh host H, user U, command sftp`
            var e: [(String, JSONValue)] = [("event", .string("exec")), ("program", .string("scp"))]
            for part in r.split(separator: ",") {
                let p = part.trimmingSpaces
                if let h = T.after(p, "host ") ?? T.split2(p, " host ").map({ $0.1 }) { e.append(("host", str(h))) }
                if let u = T.after(p, "user ") { e.append(("user", str(u))) }
                if let c = T.after(p, "command ") { e.append(("command", str(c))) }
            }
            return e
        case "unable_to_negotiate": return unableToNegotiate(r)
        case "no_matching":
            guard let (what, rest) = T.split2(r, " found") else { return nil }
            var e: [(String, JSONValue)] = [("event", .string("negotiation_failed")), ("reason", .string("no matching \(what) found"))]
            e.append(("slot", .string(OpenSSHLineClassifier.slotFamily("no matching \(what) found") ?? String(what))))
            if let c = T.after(rest, ": client "), let (cl, sv) = T.split2(c, " server ") {
                e.append(("client_offer", .array(T.list(cl).map(JSONValue.string))))
                e.append(("server_offer", .array(T.list(sv).map(JSONValue.string))))
            }
            return e
        case "denied":
            guard let (who, rest) = T.split2(r, "Permission denied (") else { return nil }
            var e: [(String, JSONValue)] = [("event", .string("denied"))]
            e.append(("methods", .array(T.list(T.split2(rest, ")")?.0 ?? rest).map(JSONValue.string))))
            if who.hasSuffix(": "), let (u, h) = T.splitLast2(who.dropLast(2), "@") {
                e.append(("user", str(u)))
                e.append(("host", str(h)))
            }
            return e
        case "file_not_found":
            guard r.hasSuffix("\" not found.") else { return nil }
            return [("event", .string("error")), ("path", str(r.dropLast(12))), ("error", .string("File \"" + r))]
        case "offending":
            var e: [(String, JSONValue)] = [("event", .string("offending"))]
            if let (kt, fl) = T.split2(r, " key in ") ?? T.split2(r, " key for IP in ") {
                if kt != "key" { e.append(("key_type", str(kt))) }
                e += Array(fileLine(fl, event: "offending").dropFirst())
            }
            return e
        case "changed":
            var e: [(String, JSONValue)] = [("event", .string("changed"))]
            if let (pre, rest) = T.split2(r, "ost key for "), let (host, _) = T.split2(rest, " has changed") {
                e.append(("host", str(host)))
                let kt = pre.dropLast()  // "…H" of "Host"/"host"
                if kt.hasSuffix(" ") { e.append(("key_type", str(kt.dropLast()))) }
            }
            return e
        case "authenticity": return [("event", .string("authenticity_unknown")), ("host", str(T.splitLast2(r, "'")?.0 ?? r))]
        default:
            return nil
        }
    }

    /// A line a terminal wrapped: the rest of a proposal list (no spaces in it), or
    /// the tail of a long debug line that reads as nothing else.
    mutating func wrapped(_ s: Substring, from: (proposal: (side: String?, slot: String, endsWithComma: Bool)?, width: Int)) -> Result? {
        if let p = from.proposal, !s.contains(" "), !s.isEmpty {
            lastProposal = p
            // A wrap inside a name continues it; one after a comma starts the next.
            let joins = !p.endsWithComma && !s.hasBytePrefix(",")
            lastProposal?.endsWithComma = s.hasSuffix(",")
            return Result(kind: .pasteWrapped, extra: [
                ("event", .string("proposal")), ("side", p.side.map(JSONValue.string) ?? .null), ("slot", .string(p.slot)),
                ("names", .array(OpenSSHText.list(s).map(JSONValue.string))), ("joins_previous", .bool(joins)),
            ])
        }
        if from.width >= 79, !inChannel, !afterCommand {
            return Result(kind: .pasteWrapped, extra: [])
        }
        return nil
    }

    // MARK: unprefixed lines

    mutating func plainLine(_ s: Substring, crlf: Bool, table: () -> (OpenSSHMessageTable.Entry, [(String, JSONValue)]?)?) -> Result {
        typealias T = OpenSSHText
        func R(_ k: RecordKind, _ e: [(String, JSONValue)]) -> Result { Result(kind: k, extra: e) }
        func str(_ x: Substring) -> JSONValue { .string(String(x)) }
        let wasDump = inStatusDump
        let wantFingerprint = expectFingerprint
        let wasGSS = gssContinuation
        gssContinuation = false
        inStatusDump = false
        expectFingerprint = false

        if wasDump, s.hasBytePrefix(" ") {
            inStatusDump = true
            var e: [(String, JSONValue)] = []
            if let l = statusDumpLevel { e.append(("level", .int(l))) }
            e.append(("continuation", .bool(true)))
            return R(.opensshDebug, e)
        }
        if wantFingerprint, s.hasBytePrefix("SHA256:") || s.hasBytePrefix("MD5:") || (s.count >= 47 && s.dropFirst(2).first == ":") {
            let fp = s.hasSuffix(".") ? s.dropLast() : s
            return R(.opensshError, [("event", .string("hostkey_changed_fingerprint")), ("fingerprint", str(fp))])
        }
        let wasRandomart = inRandomart
        inRandomart = false
        if s.hasBytePrefix("OpenSSH_") { return versionLine(s) }
        if s.hasBytePrefix("sftp>") {
            return R(.opensshSFTP, sftpCommand(s.dropFirst(5)))
        }
        // VisualHostKey: `Host key fingerprint is …` and the randomart box after it.
        if let r = T.after(s, "Host key fingerprint is ") {
            inRandomart = true
            return R(.opensshHostKey, [("event", .string("fingerprint")), ("fingerprint", str(r))])
        }
        if s.hasBytePrefix("+-") && s.hasSuffix("+") {
            // The top border names the key (`+---[ED25519 256]---+`), the bottom one the hash.
            inRandomart = !(T.contains(s, "SHA256]") || T.contains(s, "MD5]"))
            return R(.opensshHostKey, [("event", .string("randomart"))])
        }
        if wasRandomart, s.hasBytePrefix("|"), s.hasSuffix("|") {
            inRandomart = true
            return R(.opensshHostKey, [("event", .string("randomart"))])
        }
        if let (entry, facts) = table(), entry.isReadByData, let r = fromTable(entry, facts: facts, text: s) { return r }
        if s.hasBytePrefix("@") {
            if T.contains(s, "REMOTE HOST IDENTIFICATION HAS CHANGED") {
                return R(.opensshError, [("event", .string("hostkey_changed_banner"))])
            }
            return R(.opensshError, [("event", .string("warning_banner"))])
        }
        if s == "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!" || s.hasBytePrefix("Someone could be eavesdropping on you right now")
            || s == "It is also possible that a host key has just been changed." || s == "Please contact your system administrator." {
            return R(.opensshError, [("event", .string("hostkey_changed_banner"))])
        }
        if let r = T.after(s, "The fingerprint for the "), let (kt, _) = T.split2(r, " key sent by the remote host is") {
            expectFingerprint = true
            var e: [(String, JSONValue)] = [("event", .string("hostkey_changed_banner")), ("key_type", str(kt))]
            // 10.x may print the fingerprint on the same line after "is".
            if let (_, fp) = T.split2(r, " key sent by the remote host is"), !fp.trimmingSpaces.isEmpty {
                let f = fp.trimmingSpaces
                e.append(("fingerprint", str(f.hasSuffix(".") ? f.dropLast() : f)))
                expectFingerprint = false
            }
            return R(.opensshError, e)
        }
        if s.hasBytePrefix("  remove with:") || s.hasBytePrefix("  ssh-keygen -f ") || s.hasSuffix("to avoid man-in-the-middle attacks.") {
            return R(.opensshHostKey, [("event", .string("changed_hint"))])
        }
        if let (kt, fp) = T.split2(s, " key fingerprint is"), !kt.contains(" ") {
            var f = fp.hasBytePrefix(":") ? fp.dropFirst() : fp
            f = f.trimmingSpaces
            if f.hasSuffix(".") { f = f.dropLast() }
            return R(.opensshHostKey, [("event", .string("fingerprint")), ("key_type", str(kt)), ("fingerprint", str(f))])
        }
        if s.hasBytePrefix("Are you sure you want to continue connecting") || s.hasBytePrefix("This key is not known by any other names")
            || s.hasBytePrefix("Please type 'yes'") {
            return R(.opensshHostKey, [("event", .string("prompt"))])
        }
        if s.hasBytePrefix("ssh: ") || s.hasBytePrefix("ssh_askpass: ") { return R(.opensshError, [("event", .string("fatal"))]) }
        if s == "Connection closed" || s == "Connection closed." { return R(.opensshError, [("event", .string("connection_closed"))]) }
        // `Connection to <ip> port <port>: <error>` (a transport failure); anything else is another program's.
        if let r = T.after(s, "Connection to "), let (who, error) = T.split2(r, ": "), T.contains(who, " port ") {
            var e = peerFacts(who, event: "transport")
            e.append(("error", str(error)))
            return R(.opensshError, e)
        }
        if s.hasBytePrefix("Connection timed out") { return R(.opensshError, [("event", .string("timeout"))]) }
        if s == "no hostkey alg" {
            return R(.opensshError, [("event", .string("negotiation_failed")), ("reason", str(s)), ("slot", .string("hostkey"))])
        }
        if s == "Connection reset by peer" { return R(.opensshError, [("event", .string("connection_reset"))]) }
        if let p = scpProgress(s) { return R(.opensshTransfer, p) }
        if let r = T.after(s, "Received disconnect from ") {
            var e = disconnect(r)
            if T.contains(s, "Too many authentication failures") {
                e[0] = ("event", .string("too_many_failures"))
                return R(.opensshAuth, e)
            }
            return R(.opensshError, e)
        }
        if T.contains(s, "Too many authentication failures") { return R(.opensshAuth, [("event", .string("too_many_failures"))]) }
        if s.hasBytePrefix("Bad server host key")
            || s.hasBytePrefix("Bad owner or permissions") || s.hasBytePrefix("strict KEX violation") || s.hasBytePrefix("DH_GEX group out of range")
            || s.hasBytePrefix("invalid public DH value") || s.hasBytePrefix("Server host key ") {
            return R(.opensshError, [("event", .string("fatal"))])
        }
        if T.contains(s, "no mutual signature supported") { return R(.opensshAuth, [("event", .string("no_mutual_signature"))]) }
        if let t = OpenSSHText.stripFunction(s), t.hasBytePrefix("Connection to ") {
            return R(.opensshError, [("event", .string("transport")), ("error", str(T.splitLast2(t, ": ")?.1 ?? t))])
        }
        // `client_loop: ssh_packet_write_poll: Connection to … port …: Broken pipe`,
        // `banner exchange: Connection to … port …: invalid format`: a transport failure behind two tags.
        if let at = T.find(s, ": Connection to "), let (who, error) = T.split2(s[at.upperBound...], ": "), T.contains(who, " port ") {
            var e = peerFacts(who, event: "transport")
            e.append(("error", str(error)))
            return R(.opensshError, e)
        }
        if OpenSSHLineClassifier.isSFTPError(s) {
            return R(.opensshSFTP, [("event", .string("error")), ("error", .string(String(s)))])
        }
        if s.hasBytePrefix("Warning: ") || s.hasBytePrefix("** ") {
            return R(.opensshOutput, [("event", .string("warning"))])
        }
        if let p = passwordPrompt(s) { return R(.opensshAuth, p) }
        if s.hasBytePrefix("Enter passphrase for ") || s.hasBytePrefix("Load key \"") {
            return R(.opensshAuth, [("event", .string("prompt"))])
        }
        if wasGSS {
            gssContinuation = true
            var e: [(String, JSONValue)] = []
            if let l = statusDumpLevel { e.append(("level", .int(l))) }
            e.append(("continuation", .bool(true)))
            return R(.opensshDebug, e)
        }
        if let p = pasteLine(s) { return p }
        if inChannel || afterCommand {
            return R(.opensshOutput, [])
        }
        return Result(kind: .unparsed, extra: [], diagnostic: "not an OpenSSH client line (outside a session channel)")
    }

    /// The version line begins a run: nothing after it is an earlier run's remote output.
    mutating func versionLine(_ s: Substring) -> Result {
        inChannel = false
        afterCommand = false
        return Result(kind: .opensshVersion, extra: banner(s))
    }

    /// `Transferred:` is the client's last line: nothing after it is remote output.
    mutating func transferredLine(_ r: Substring) -> Result {
        inChannel = false
        afterCommand = false
        return Result(kind: .opensshTransfer, extra: transferred(r))
    }

    /// `user@host's password:` (password), `(user@host) Password:` and a bare
    /// `Password:` (keyboard-interactive, the server's own prompt text).
    func passwordPrompt(_ s: Substring) -> [(String, JSONValue)]? {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("prompt"))]
        func who(_ uh: Substring) {
            if let (u, h) = T.splitLast2(uh, "@") {
                e.append(("user", .string(String(u))))
                e.append(("host", .string(String(h))))
            }
        }
        if s.hasSuffix("'s password:"), let (uh, _) = T.splitLast2(s, "'s password:") {
            e.append(("method", .string("password")))
            who(uh)
            return e
        }
        if s.hasBytePrefix("("), let (uh, rest) = T.split2(s.dropFirst(), ") "), rest.hasSuffix(":"), uh.contains("@"), !uh.contains(" ") {
            e.append(("method", .string("keyboard-interactive")))
            e.append(("prompt", .string(String(rest))))
            who(uh)
            return e
        }
        if s == "Password:" || s == "password:" || (s.hasBytePrefix("Password for ") && s.hasSuffix(":")) {
            e.append(("method", .string("keyboard-interactive")))
            if let uh = T.after(s, "Password for ") { who(uh.dropLast()) }
            return e
        }
        return nil
    }

    /// The progress meter of scp and sftp: `name   100% 3016    20.5MB/s   00:00`.
    func scpProgress(_ s: Substring) -> [(String, JSONValue)]? {
        let words = s.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count >= 5, let pct = words.firstIndex(where: { $0.hasSuffix("%") && Int($0.dropLast()) != nil }), pct >= 1,
              pct + 3 < words.count || (pct + 3 == words.count) else { return nil }
        let eta = words[words.count - 1]
        guard eta.contains(":") || eta == "ETA" else { return nil }
        return [("event", .string("progress")), ("file", .string(words[..<pct].joined(separator: " "))),
                ("percent", .int(Int(words[pct].dropLast())!))]
    }

    /// Text around the client's output: prompts and command lines, notes, elisions, markup, `^C`.
    mutating func pasteLine(_ s: Substring) -> Result? {
        func R(_ k: RecordKind, _ e: [(String, JSONValue)]) -> Result { Result(kind: k, extra: e) }
        if s == "^C" || s.hasSuffix(" ^C") { return R(.pasteInterrupt, []) }
        if PasteLines.isMarkup(s) { return R(.pasteMarkup, []) }
        if PasteLines.isPromptHeader(s) {
            return R(.pastePrompt, [("prompt", .string(String(s))), ("shell", .string("local"))])
        }
        if let (prompt, command) = PasteLines.command(s) {
            // The prompt the client was started from marks its end; another prompt
            // while a session is open is the remote shell's.
            let remote = (inChannel || afterCommand) && launchPrompt != nil && String(prompt) != launchPrompt
            let shell: JSONValue = .string(remote ? "remote" : "local")
            let c = command.isEmpty ? ClientCommand() : PasteLines.parse(command)
            if !remote || c.tool != nil {
                inChannel = false
                // A client run without -v prints little of its own: what follows is the remote side's.
                afterCommand = c.tool != nil && c.verbosity == 0
            }
            if c.tool != nil { launchPrompt = String(prompt) }
            if command.isEmpty {
                return R(.pastePrompt, [("prompt", .string(String(prompt))), ("shell", shell)])
            }
            var e: [(String, JSONValue)] = [("prompt", .string(String(prompt))), ("command", .string(String(command))), ("shell", shell)]
            e.append(("tool", c.tool.map(JSONValue.string) ?? .null))
            if c.tool != nil {
                e.append(("verbosity", .int(c.verbosity)))
                e.append(("user", c.user.map(JSONValue.string) ?? .null))
                e.append(("host", c.host.map(JSONValue.string) ?? .null))
                e.append(("port", c.port.map(JSONValue.int) ?? .null))
            }
            return R(.pasteCommand, e)
        }
        if PasteLines.isAnnotation(s) { return R(.pasteAnnotation, []) }
        if PasteLines.isElision(s) { return R(.pasteElision, []) }
        return nil
    }

    /// Error messages sftp prints for a failed command (stderr, no prefix).
    static func isSFTPError(_ s: Substring) -> Bool {
        let prefixes = ["Couldn't ", "Can't ", "Cannot ", "stat remote: ", "remote open(", "dest open ", "remote open ", "remote mkdir ", "remote rename ",
                        "remote delete ", "remote rmdir ", "remote setstat ", "remote fsetstat ", "remote readdir(",
                        "remote symlink ", "remote link ", "remote copy ", "remote statvfs", "remote read ", "remote write ",
                        "open local ", "read local ", "write local ", "download \"", "upload \"", "Invalid command",
                        "Multiple source paths", "Unknown command", "Failed to ", "Error ", "Unable to ", "Destination is not ",
                        "Download of file ", "Upload of file ", "Operation not permitted", "Server does not support",
                        "Unable to canonicalize"]
        for p in prefixes where s.hasBytePrefix(p) { return true }
        return false
    }

    // MARK: helpers

    func banner(_ s: Substring) -> [(String, JSONValue)] {
        var e: [(String, JSONValue)] = [("event", .string("banner"))]
        if let (v, lib) = OpenSSHText.split2(s, ", ") {
            e.append(("client_version", .string(String(v))))
            e.append(("library", .string(String(lib))))
        } else {
            e.append(("client_version", .string(String(s))))
        }
        return e
    }

    func compat(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("match"))]
        if let (sw, rest) = T.split2(r, " pat ") {
            e.append(("software", .string(String(sw))))
            if let (pat, flags) = T.split2(rest, " compat ") {
                e.append(("pattern", .string(String(pat))))
                e.append(("compat", .string(String(flags))))
            } else {
                e.append(("pattern", .string(String(rest))))
            }
        } else {
            e.append(("software", .string(String(r))))
        }
        return e
    }

    func authenticating(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("authenticating"))]
        if let (hp, u) = T.split2(r, " as '") {
            if let (h, p) = T.splitLast2(hp, ":") {
                e.append(("host", .string(String(h))))
                e.append(("port", T.int(p).map(JSONValue.int) ?? .string(String(p))))
            } else {
                e.append(("host", .string(String(hp))))
            }
            let user = u.hasSuffix("'") ? u.dropLast() : u
            e.append(("user", .string(String(user))))
        }
        return e
    }

    func authenticated(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("authenticated"))]
        guard let (host, rest) = T.split2(r, " (") else {
            e.append(("host", .string(String(r.hasSuffix(".") ? r.dropLast() : r))))
            return e
        }
        e.append(("host", .string(String(host))))
        if let (inner, tail) = T.split2(rest, ")") {
            if inner.hasBytePrefix("["), let (a, p) = T.splitLast2(inner.dropFirst(), "]:") {
                e.append(("address", .string(String(a))))
                e.append(("port", T.int(p).map(JSONValue.int) ?? .string(String(p))))
            } else if inner == "via proxy" {
                e.append(("via_proxy", .bool(true)))
            }
            if let m = T.after(tail, " using \"") {
                e.append(("method", .string(String(T.split2(m, "\"")?.0 ?? m))))
            }
        }
        return e
    }

    /// `<path> <TYPE> <fp>[ flags]` (7.9+), `<TYPE> <fp> <path>` (7.6–7.8) or `<path>`.
    func keyIdent(_ r: Substring) -> [(String, JSONValue)] {
        let toks = r.split(separator: " ").map(String.init)
        if let i = toks.firstIndex(where: { $0.hasPrefix("SHA256:") || $0.hasPrefix("MD5:") }), i >= 1 {
            var e: [(String, JSONValue)] = []
            if i == 1 {
                e.append(("key_type", .string(toks[0])))
                e.append(("fingerprint", .string(toks[1])))
                if toks.count > 2 { e.append(("key_path", .string(toks[2...].joined(separator: " ")))) }
            } else {
                e.append(("key_path", .string(toks[0..<(i - 1)].joined(separator: " "))))
                e.append(("key_type", .string(toks[i - 1])))
                e.append(("fingerprint", .string(toks[i])))
                if toks.count > i + 1 { e.append(("flags", .array(toks[(i + 1)...].map(JSONValue.string)))) }
            }
            return e
        }
        return [("key_path", .string(String(r)))]
    }

    func offering(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("offering"))]
        if let k = T.after(r, "public key: ") {
            e += keyIdent(k)
        } else if let (kt, path) = T.split2(r, " public key: ") {
            e.append(("key_type", .string(String(kt))))
            e.append(("key_path", .string(String(path))))
        } else {
            e.append(("key_path", .string(String(r))))
        }
        return e
    }

    func acceptsKey(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("accepts_key"))]
        if let p = T.after(r, "pkalg ") {
            let (alg, blen) = T.split2(p, " blen ") ?? (p, "")
            e.append(("pkalg", .string(String(alg))))
            if let n = T.int(blen) { e.append(("blen", .int(n))) }
        } else {
            e += keyIdent(r)
        }
        return e
    }

    func serverHostKey(_ r: Substring) -> [(String, JSONValue)] {
        var e: [(String, JSONValue)] = [("event", .string("server_host_key"))]
        let toks = r.split(separator: " ", omittingEmptySubsequences: true)
        if toks.count >= 2 {
            e.append(("key_type", .string(String(toks[0]))))
            let fp = String(toks[1])
            e.append(("fingerprint", .string(fp)))
            let hash: String = fp.hasPrefix("SHA256:") ? "SHA256" : (fp.hasPrefix("MD5:") || fp.contains(":") ? "MD5" : "unknown")
            e.append(("fingerprint_hash", .string(hash)))
        } else if let t = toks.first {
            e.append(("key_type", .string(String(t))))
        }
        return e
    }

    func fileLine(_ r: Substring, event: String) -> [(String, JSONValue)] {
        var e: [(String, JSONValue)] = [("event", .string(event))]
        if let (f, l) = OpenSSHText.splitLast2(r, ":"), let n = OpenSSHText.int(l) {
            e.append(("file", .string(String(f))))
            e.append(("file_line", .int(n)))
        } else {
            e.append(("file", .string(String(r))))
        }
        return e
    }

    /// A proposal list (7.2+), `rest` being the text after its label's colon.
    mutating func proposal(_ rest: Substring, slot: String) -> Result {
        lastProposal = (kexSide, slot, rest.hasSuffix(","))
        var e: [(String, JSONValue)] = [("event", .string("proposal"))]
        e.append(("side", kexSide.map(JSONValue.string) ?? .null))
        e.append(("slot", .string(slot)))
        e.append(("names", .array(OpenSSHText.list(rest).map(JSONValue.string))))
        return Result(kind: .opensshKexinit, extra: e)
    }

    mutating func kexinitNumber(_ r: Substring, slot: String) -> Result {
        // 7.1 prints these two without the `kex_parse_kexinit:` prefix after an unlabeled dump.
        if kexSide == nil && (oldIndex > 0 || oldBlock > 0) { return oldNumber(r, slot: slot) }
        var e: [(String, JSONValue)] = [("event", .string("proposal"))]
        e.append(("side", kexSide.map(JSONValue.string) ?? .null))
        e.append(("slot", .string(slot)))
        e.append(("value", OpenSSHText.int(r).map(JSONValue.int) ?? .null))
        return Result(kind: .opensshKexinit, extra: e)
    }

    /// ≤7.1: ten unlabeled lists per side, client block first.
    mutating func oldProposal(_ r: Substring) -> Result {
        if let n = OpenSSHText.after(r, "first_kex_follows ") {
            return oldNumber(n, slot: "first_kex_follows")
        }
        if let n = OpenSSHText.after(r, "reserved ") {
            return oldNumber(n, slot: "reserved")
        }
        if oldIndex >= 10 { oldIndex = 0; oldBlock += 1 }
        let slot = OpenSSHLineClassifier.oldSlots[oldIndex]
        let side = oldBlock % 2 == 0 ? "client" : "server"
        oldIndex += 1
        kexSide = nil
        lastProposal = (side, slot, r.hasSuffix(","))
        return Result(kind: .opensshKexinit, extra: [
            ("event", .string("proposal")), ("side", .string(side)), ("slot", .string(slot)),
            ("names", .array(OpenSSHText.list(r).map(JSONValue.string))), ("format", .string("kex_parse_kexinit")),
        ])
    }

    mutating func oldNumber(_ n: Substring, slot: String) -> Result {
        let side = oldBlock % 2 == 0 ? "client" : "server"
        if slot == "reserved" { oldIndex = 10 }
        return Result(kind: .opensshKexinit, extra: [
            ("event", .string("proposal")), ("side", .string(side)), ("slot", .string(slot)),
            ("value", OpenSSHText.int(n).map(JSONValue.int) ?? .null), ("format", .string("kex_parse_kexinit")),
        ])
    }

    func negotiated(_ r: Substring) -> Result? {
        typealias T = OpenSSHText
        func alg(_ x: Substring) -> JSONValue { x == "(no match)" ? .null : .string(String(x)) }
        if let a = T.after(r, "algorithm: ") {
            return Result(kind: .opensshNegotiated, extra: [("slot", .string("kex")), ("algorithm", alg(a))])
        }
        if let a = T.after(r, "host key algorithm: ") {
            return Result(kind: .opensshNegotiated, extra: [("slot", .string("hostkey")), ("algorithm", alg(a))])
        }
        var dir: String?
        var rest = r
        if let x = T.after(r, "server->client ") { dir = "s2c"; rest = x }
        else if let x = T.after(r, "client->server ") { dir = "c2s"; rest = x }
        guard let dir else { return nil }
        var cipher: Substring?, mac: Substring?, comp: Substring?
        var format = "labelled"
        if let c = T.after(rest, "cipher: ") {
            if let (cv, m) = T.split2(c, " MAC: ") {
                cipher = cv
                if let (mv, z) = T.split2(m, " compression: ") { mac = mv; comp = z } else { mac = m }
            } else { cipher = c }
        } else {
            format = "legacy"
            let toks = rest.split(separator: " ", omittingEmptySubsequences: true)
            if toks.count >= 1 { cipher = toks[0] }
            if toks.count >= 2 { mac = toks[1] }
            if toks.count >= 3 { comp = toks[2] }
        }
        var e: [(String, JSONValue)] = [("slot", .string("cipher_mac_compression")), ("direction", .string(dir))]
        e.append(("cipher", cipher.map { .string(String($0)) } ?? .null))
        let implicit = mac == "<implicit>"
        e.append(("mac", implicit ? .null : (mac.map { .string(String($0)) } ?? .null)))
        if implicit { e.append(("mac_implicit", .bool(true))) }
        e.append(("compression", comp.map { .string(String($0)) } ?? .null))
        e.append(("format", .string(format)))
        return Result(kind: .opensshNegotiated, extra: e)
    }

    static func slotFamily(_ reason: String) -> String? {
        if reason.contains("key exchange") { return "kex" }
        if reason.contains("host key") { return "hostkey" }
        if reason.contains("cipher") { return "cipher" }
        if reason.contains("MAC") || reason.contains("mac") { return "mac" }
        if reason.contains("compression") || reason.contains("comp") { return "compression" }
        return nil
    }

    func unableToNegotiate(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("negotiation_failed"))]
        guard let w = T.after(r, "with ") else {
            // "Unable to negotiate a key exchange method"
            e.append(("reason", .string(String(r))))
            e.append(("slot", .string("kex")))
            return e
        }
        if let (who, rest) = T.split2(w, ": ") {
            if let (a, p) = T.split2(who, " port ") {
                e.append(("address", .string(String(a))))
                e.append(("port", T.int(p).map(JSONValue.int) ?? .string(String(p))))
            } else {
                e.append(("address", .string(String(who))))
            }
            let (reason, offer) = T.split2(rest, ". Their offer: ")
                ?? (rest.hasSuffix(". Their offer:") ? (rest.dropLast(14), "") : (rest, ""))
            e.append(("reason", .string(String(reason))))
            if let f = OpenSSHLineClassifier.slotFamily(String(reason)) { e.append(("slot", .string(f))) }
            e.append(("their_offer", .array(T.list(offer).map(JSONValue.string))))
        }
        return e
    }

    func disconnect(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("disconnect_received"))]
        // 7.2+: "<ip> port <port>:<code>: <text>"; ≤7.1: "<ip>: <code>: <text>"
        if let (who, rest) = T.split2(r, " port ") {
            e.append(("address", .string(String(who))))
            if let (p, tail) = T.split2(rest, ":") {
                e.append(("port", T.int(p).map(JSONValue.int) ?? .string(String(p))))
                if let (code, text) = T.split2(tail, ": ") {
                    e.append(("code", T.int(code).map(JSONValue.int) ?? .string(String(code))))
                    e.append(("text", .string(String(text))))
                } else {
                    e.append(("text", .string(String(tail.trimmingSpaces))))
                }
            }
        } else if let (who, tail) = T.split2(r, ": ") {
            e.append(("address", .string(String(who))))
            if let (code, text) = T.split2(tail, ": "), let c = T.int(code) {
                e.append(("code", .int(c)))
                e.append(("text", .string(String(text))))
            } else {
                e.append(("text", .string(String(tail))))
            }
        }
        return e
    }

    func peerFacts(_ r: Substring, event: String) -> [(String, JSONValue)] {
        var e: [(String, JSONValue)] = [("event", .string(event))]
        if let (a, p) = OpenSSHText.split2(r, " port ") {
            e.append(("address", .string(String(a))))
            e.append(("port", OpenSSHText.int(p).map(JSONValue.int) ?? .string(String(p))))
        } else {
            e.append(("address", .string(String(r))))
        }
        return e
    }

    func transferred(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("transferred"))]
        // "sent N, received M bytes, in S seconds"
        if let s = T.after(r, "sent "), let (sent, rest) = T.split2(s, ", received ") {
            e.append(("bytes_sent", T.int(sent).map(JSONValue.int) ?? .null))
            if let (recv, tail) = T.split2(rest, " bytes") {
                e.append(("bytes_received", T.int(recv).map(JSONValue.int) ?? .null))
                if let (secs, _) = T.after(tail, ", in ").flatMap({ T.split2($0, " second") }) {
                    e.append(("seconds", T.double(secs).map(JSONValue.double) ?? .null))
                }
            }
        } else if let s = T.after(r, "stdin ") {
            // ≤5.0: "stdin N, stdout N, stderr N bytes in S seconds"
            let parts = s.split(separator: ",")
            if parts.count == 3 {
                e.append(("stdin", T.int(parts[0]).map(JSONValue.int) ?? .null))
                if let o = T.after(parts[1].trimmingSpaces, "stdout ") { e.append(("stdout", T.int(o).map(JSONValue.int) ?? .null)) }
                if let x = T.after(parts[2].trimmingSpaces, "stderr "), let (n, tail) = T.split2(x, " bytes") {
                    e.append(("stderr", T.int(n).map(JSONValue.int) ?? .null))
                    if let (secs, _) = T.after(tail, " in ").flatMap({ T.split2($0, " second") }) {
                        e.append(("seconds", T.double(secs).map(JSONValue.double) ?? .null))
                    }
                }
            }
        }
        return e
    }

    func rate(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("rate"))]
        if let s = T.after(r, "sent "), let (a, b) = T.split2(s, ", received ") {
            e.append(("sent_per_second", T.double(a).map(JSONValue.double) ?? .null))
            e.append(("received_per_second", T.double(b).map(JSONValue.double) ?? .null))
        }
        return e
    }

    func compression(_ r: Substring, _ dir: String) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("compression")), ("direction", .string(dir))]
        // "raw data N, compressed M, factor F"
        for part in r.split(separator: ",") {
            let p = part.trimmingSpaces
            if let v = T.after(p, "raw data ") { e.append(("raw_bytes", T.int(v).map(JSONValue.int) ?? .null)) }
            if let v = T.after(p, "compressed ") { e.append(("compressed_bytes", T.int(v).map(JSONValue.int) ?? .null)) }
            if let v = T.after(p, "factor ") { e.append(("factor", T.double(v).map(JSONValue.double) ?? .null)) }
        }
        return e
    }

    func fxpRequest(_ r: Substring) -> [(String, JSONValue)] {
        let type = r.prefix(while: { $0 != " " && $0 != "(" })
        var e: [(String, JSONValue)] = [("event", .string("request")), ("type", .string(String(type)))]
        if let (p, rest) = OpenSSHText.firstQuoted(r) {
            e.append(("path", .string(p)))
            if let (to, _) = OpenSSHText.firstQuoted(rest) { e.append(("to", .string(to))) }
        }
        return e
    }

    func fxpReply(_ s: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        if let r = T.after(s, "SSH2_FXP_STATUS ") ?? T.after(s, "SSH_FXP_STATUS "), let code = T.int(r) {
            return [("event", .string("status")), ("code", .int(code))]
        }
        if let r = T.after(s, "SSH2_FXP_REALPATH ") ?? T.after(s, "SSH_FXP_REALPATH "), let (p, abs) = T.split2(r, " -> ") {
            let resolved = T.split2(abs, " size ")?.0 ?? abs
            return [("event", .string("realpath")), ("path", .string(String(p))), ("resolved", .string(String(resolved)))]
        }
        return [("event", .string("message"))]
    }

    func transferOp(_ r: Substring) -> Result {
        typealias T = OpenSSHText
        // download [dir ]remote "<r>" to local "<l>" / upload [local dir|local] "<l>" to remote "<r>"
        let isDownload = r.hasBytePrefix("download")
        var e: [(String, JSONValue)] = [("event", .string(isDownload ? "download" : "upload"))]
        if let (a, rest) = T.firstQuoted(r), let (b, _) = T.firstQuoted(rest) {
            if isDownload {
                e.append(("remote", .string(a))); e.append(("local", .string(b)))
            } else {
                e.append(("local", .string(a))); e.append(("remote", .string(b)))
            }
        }
        if T.contains(r, " dir ") { e.append(("directory", .bool(true))) }
        return Result(kind: .opensshSFTP, extra: e)
    }

    func sftpCommand(_ r: Substring) -> [(String, JSONValue)] {
        var cmd = r
        if cmd.hasBytePrefix(" ") { cmd = cmd.dropFirst() }
        var e: [(String, JSONValue)] = [("event", .string("command")), ("command", .string(String(cmd)))]
        var w = OpenSSHText.words(cmd)
        var ignore = false
        if var first = w.first {
            if first.hasPrefix("-") && first.count > 1 { ignore = true; first.removeFirst() }
            if first.hasPrefix("@") && first.count > 1 { first.removeFirst() }
            w[0] = first
            e.append(("op", .string(first)))
            e.append(("args", .array(w.dropFirst().map(JSONValue.string))))
        }
        e.append(("ignore_errors", .bool(ignore)))
        return e
    }
}
