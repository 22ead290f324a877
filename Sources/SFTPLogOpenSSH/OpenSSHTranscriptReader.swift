import Foundation
import SFTPLogRecords
import SFTPLogCatalog

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
        let m = message(of: text, bytes: b)
        let (c, known) = classify(m, line: line)
        r.kind = c.kind
        if c.kind == .unparsed {
            r.text = text
            r.diagnostic = c.diagnostic ?? "not an OpenSSH client line"
            return r
        }
        r.message = String(m.body)
        r.extra = facts(m, c, known: known)
        return r
    }

    /// A line's message with what surrounds it on screen or in a paste taken off.
    struct LineMessage {
        /// The message as printed (trailing space kept).
        var body: Substring
        /// The message the table and extractors read: no trailing space, CR or inline markup.
        var clean: Substring
        var level: Int?
        /// What the message was behind (`sftp>`, `scp:`, forum markup).
        var via: String?
        /// The message followed a progress meter on the same line.
        var afterProgress = false
        /// `-o LogVerbose`'s function and file:line.
        var source: (function: Substring, at: String)?
    }

    func message(of text: String, bytes b: UnsafeBufferPointer<UInt8>) -> LineMessage {
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
        var level: Int?
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
        return LineMessage(body: body, clean: clean, level: level, via: via, afterProgress: afterProgress, source: source)
    }

    /// Which message of the client printed the line: a message read by data
    /// (`openssh-events.json`) takes its event and values from the table or from the
    /// extractor it names; a line the extractors do not know still gets its kind from
    /// the table, and a debug line nothing knows is unparsed.
    func classify(_ m: LineMessage, line: PhysicalLine) -> (OpenSSHLineClassifier.Result, OpenSSHMessageTable.Entry?) {
        let clean = m.clean, level = m.level, width = line.bytes.count, crlf = line.terminatorLength == 2
        func lookUp() -> (entry: Int, facts: [(String, JSONValue)]?)? {
            guard let messages else { return nil }
            // Some formats end in a space (`first_kex_follows %d `, an empty `languages ctos: %s`).
            return messages.read(message: clean, level: level, releaseMask: releaseMask)
                ?? (m.body.utf8.count != clean.utf8.count ? messages.read(message: PasteLines.withoutInlineMarkup(m.body), level: level, releaseMask: releaseMask) : nil)
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
            classifier.beginDebugLine(clean, level: level, width: width)
            c = byData(found, text: clean) ?? classifier.classify(clean, level: level, crlf: crlf, width: width)
        } else if let level, read == nil, let messages, let t = OpenSSHText.stripFunction(clean),
                  let found = messages.read(message: t, level: level, releaseMask: releaseMask),
                  messages.entries[found.entry].isReadByData {
            // A message behind a function name the release's own format lacks (a
            // patched build's): read by the rest, naming what was in front first.
            classifier.beginDebugLine(t, level: level, width: width)
            if var data = byData(found, text: t) {
                data.extra.insert(("function", .string(String(clean[clean.startIndex..<t.startIndex].dropLast(2)))), at: 0)
                c = data
            } else {
                c = classifier.classify(clean, level: level, crlf: crlf, width: width)
            }
        } else {
            // An unprefixed line is looked up once the reader knows it is no continuation
            // of a multi-line message; a message read by data then needs no extractor's search.
            var looked = false
            c = classifier.classify(clean, level: level, crlf: crlf, width: width) {
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
        if let e = known, c.kind == .unparsed {
            c = OpenSSHLineClassifier.Result(kind: e.kind == .opensshError && e.level != .fatal ? .opensshDebug : e.kind,
                                             extra: [("event", .string(e.level == .fatal ? "fatal" : "message"))])
        } else if messages != nil, let level, known == nil, c.kind == .opensshDebug, c.extra.isEmpty {
            c = OpenSSHLineClassifier.Result(kind: .unparsed, extra: [],
                                             diagnostic: "a debug\(level) line that no OpenSSH client release prints (catalog/openssh-messages.json)")
        }
        return (c, known)
    }

    /// A classified line's facts, in output order.
    func facts(_ m: LineMessage, _ c: OpenSSHLineClassifier.Result, known: OpenSSHMessageTable.Entry?) -> [(String, JSONValue)] {
        var extra: [(String, JSONValue)] = []
        if let level = m.level { extra.append(("level", .int(level))) }
        if let via = m.via { extra.append(("via", .string(via))) }
        if m.afterProgress { extra.append(("after_progress", .bool(true))) }
        if let source = m.source { extra.append(("source", .string(source.at))) }
        extra += c.extra
        if let source = m.source, !extra.contains(where: { $0.0 == "function" }) { extra.append(("function", .string(String(source.function)))) }
        if let e = known {
            extra.append(("message_id", .string(e.id)))
            if let f = e.functions.first, !extra.contains(where: { $0.0 == "function" }) { extra.append(("function", .string(f))) }
        }
        return extra
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
        // `name:argument`: one extractor for the ten proposal lists, say, each naming its slot.
        let parts = name.split(separator: ":", maxSplits: 1)
        let base = String(parts.first ?? ""), argument = parts.count > 1 ? String(parts[1]) : ""
        // Each area answers for its own names (nil: not one of them); see Extractors/.
        if let values = kexValues(base, argument, r) { return values }
        if let values = authValues(base, r) { return values }
        if let values = channelValues(base, r) { return values }
        if let values = transferValues(base, r) { return values }
        if let values = errorValues(base, argument, r) { return values }
        return nil
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
        if let r = hostKeyWarning(s) { return r }
        if let r = connectionFailure(s) { return r }
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

    /// The changed-host-key warning, fingerprints and the unknown-host prompt.
    mutating func hostKeyWarning(_ s: Substring) -> Result? {
        typealias T = OpenSSHText
        func R(_ k: RecordKind, _ e: [(String, JSONValue)]) -> Result { Result(kind: k, extra: e) }
        func str(_ x: Substring) -> JSONValue { .string(String(x)) }
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
        return nil
    }

    /// Lines that end a connection: fatal errors, disconnects, transport failures.
    func connectionFailure(_ s: Substring) -> Result? {
        typealias T = OpenSSHText
        func R(_ k: RecordKind, _ e: [(String, JSONValue)]) -> Result { Result(kind: k, extra: e) }
        func str(_ x: Substring) -> JSONValue { .string(String(x)) }
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
        return nil
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

}
