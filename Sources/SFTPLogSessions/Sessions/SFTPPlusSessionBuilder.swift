import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH

/// Folds the ordered records of one SFTPPlus source into sessions.
///
/// Server side: a connection is keyed by the peer `address:port` (components
/// change along a connection: service, authentication method, `Process`), opened
/// by `30014` and closed by `30015`/`30050`/`30082`; a reused port after a close
/// is a new session. Events whose account is `Process` with no real peer are
/// server-level. Client side: one session per location connection, keyed by the
/// location name. Records without a peer (short layout) join the only open
/// peerless session, or the one whose user matches; when that is ambiguous they
/// stay unattributed rather than merging two sessions.
public final class SFTPPlusSessionBuilder {
    let rules: SessionRules
    /// The file being read, and its source: a rotated log's next file continues
    /// the sessions still open (`continueInto`).
    public var file: String { currentFile }
    public var sourceID: Int64 { currentSourceID }
    /// Kept private: only this file reads and writes them.
    @exclusivity(unchecked) private var currentFile: String
    @exclusivity(unchecked) private var currentSourceID: Int64
    let zone: TimeZone
    /// A session under construction, boxed so updates never copy it.
    ///
    /// The builder's state and its boxes' are `@exclusivity(unchecked)`: a builder
    /// is used by one thread at a time and no access to them overlaps another (each
    /// is a plain read or a single mutation; the test suite ran with the checks on).
    /// Checking that at run time, on every access for every record, was 8% of
    /// building sessions (callgrind). The compiler's static checks still apply.
    final class Box {
        @exclusivity(unchecked) var s: SessionTimeline
        /// The last file of a rotated log the session went on into, when not its own.
        @exclusivity(unchecked) var lastFile: String?
        /// The records an outcome may rest on: the last login, the failed ones
        /// (the first few), the connection's confirmation, its close, its last event.
        @exclusivity(unchecked) var loginLink: EvidenceLink?
        @exclusivity(unchecked) var failureLinks: [EvidenceLink] = []
        @exclusivity(unchecked) var connectedLink: EvidenceLink?
        @exclusivity(unchecked) var closeLink: EvidenceLink?
        @exclusivity(unchecked) var lastLink: EvidenceLink?

        /// Off when the answer shows no evidence: then no link is kept.
        let keepsLinks: Bool

        /// Links `fact` to the record being folded, once per record.
        func link(_ fact: EvidenceFact, item: Int = 0, _ at: EvidenceLink) {
            guard keepsLinks else { return }
            var l = at
            l.fact = fact; l.item = item
            // A record links a fact once; its links are the last few (a session may have thousands).
            // Read in place: a slice of them copied each link it looked at.
            let seen = s.evidence.withUnsafeBufferPointer { e in
                var k = e.count
                while k > max(0, e.count - 8) {
                    k -= 1
                    if e[k].fact == fact && e[k].item == item && e[k].sameRecord(l) { return true }
                }
                return false
            }
            if !seen { s.evidence.append(l) }
        }

        /// The outcome rests on `links` (replacing what it rested on before).
        func settleOutcome(on links: [EvidenceLink]) {
            s.evidence.removeAll { $0.fact == .outcome }
            for l in links { link(.outcome, l) }
        }
        /// `consuming`: the session is moved in (a copy retained each of its strings).
        init(_ s: consuming SessionTimeline, keepsLinks: Bool) { self.s = s; self.keepsLinks = keepsLinks }

        /// The session as stored: with the file it ended in, when it went on past its own.
        func finished(zone: TimeZone) -> SessionTimeline {
            var out = s
            Box.finish(&out, lastFile: lastFile, zone: zone)
            return out
        }

        /// `finished`, moving the session out of a box that is being let go
        /// (copying it retained every string of it).
        func take(zone: TimeZone) -> SessionTimeline {
            var out = SessionTimeline(source: "", side: "", file: "")
            swap(&out, &s)
            Box.finish(&out, lastFile: lastFile, zone: zone)
            return out
        }

        private static func finish(_ out: inout SessionTimeline, lastFile: String?, zone: TimeZone) {
            out.endEpoch = out.end?.epoch(in: zone)
            if let f = lastFile { out.details.append(("continued_into", .string(f))) }
            out.evidence = EvidenceLink.canonical(out.evidence)
            if out.id.isEmpty { out.id = SessionIdentity.make(out) }
        }
    }
    /// Sessions still open (or closed but not yet taken), by serial number.
    @exclusivity(unchecked) private var sessions: [Int: Box] = [:]
    @exclusivity(unchecked) private var nextSerial = 0
    /// Closed sessions ready to be stored, in the order they closed.
    @exclusivity(unchecked) private var done: [Int] = []
    struct PeerKey: Hashable { var address: String; var port: Int }
    @exclusivity(unchecked) private var openServer: [PeerKey: Int] = [:]
    @exclusivity(unchecked) private var openClient: [String: Int] = [:]
    @exclusivity(unchecked) private var openPeerless: [Int] = []
    /// Per session: pending (started, not finished) operations and open files by real path.
    @exclusivity(unchecked) private var pendingOps: [Int: [Int]] = [:]
    @exclusivity(unchecked) private var openFiles: [Int: [String: Int]] = [:]
    @exclusivity(unchecked) private var closed: Set<Int> = []
    /// The last 64 keyed events (a ring), for spotting the same event shown again without its peer.
    @exclusivity(unchecked) private var recent: [(key: DedupKey, session: Int)] = []
    @exclusivity(unchecked) private var recentHead = 0
    @exclusivity(unchecked) public private(set) var unattributed = 0
    /// Client-shell prompts and attribute listings go to the latest client session.
    @exclusivity(unchecked) private var lastClient: Int?

    /// File operations are followed (off for answers that show none, `audit`,
    /// whose records of them are not resolved).
    @exclusivity(unchecked) public var tracksOperations = true
    /// Each session's evidence links are kept (off for answers that show none:
    /// they were a tenth of building the sessions).
    @exclusivity(unchecked) public var tracksEvidence = true
    /// Keep each session's list of record references (needed when records are
    /// already stored and must be marked afterwards; not while streaming).
    let collectRefs: Bool
    /// The session the last added record joined, and whether as a duplicate.
    @exclusivity(unchecked) private var lastAttach: (id: SessionID, duplicate: Bool)?
    @exclusivity(unchecked) private var lastAttachSerial: Int?
    /// Where the record being folded is (its fact filled in by each link).
    @exclusivity(unchecked) private var here = EvidenceLink(.outcome, line: 0)

    public init(rules: SessionRules, file: String, sourceID: Int64, timeZone: TimeZone, collectRefs: Bool = true) {
        self.rules = rules; self.currentFile = file; self.currentSourceID = sourceID; self.zone = timeZone; self.collectRefs = collectRefs
    }

    static func field(_ r: Record, _ name: String?) -> String? {
        guard let name, let v = r.resolution?.fields.first(where: { $0.0 == name })?.1 else { return nil }
        if case .null = v { return nil }
        return v.stringValue
    }

    static func number(_ r: Record, _ name: String?) -> Double? {
        guard let name, let v = r.resolution?.fields.first(where: { $0.0 == name })?.1 else { return nil }
        switch v {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .string(let s): return Double(s)
        default: return nil
        }
    }

    /// Goes on with the next file of the same log (rotated): sessions open at
    /// the end of the one before continue; new ones are this file's.
    public func continueInto(file: String, sourceID: Int64) {
        currentFile = file
        currentSourceID = sourceID
    }

    private func open(_ s: consuming SessionTimeline) -> Int {
        var s = s
        s.sourceID = sourceID
        sessions[nextSerial] = Box(s, keepsLinks: tracksEvidence)
        nextSerial += 1
        return nextSerial - 1
    }

    /// Folds a record in; returns the id of the session it joined (and whether as a duplicate).
    @discardableResult
    public func add(_ r: Record, seq: Int = 0) -> (id: SessionID, duplicate: Bool)? {
        lastAttach = nil
        lastAttachSerial = nil
        fold(r, RecordRef(line: r.line, seq: seq))
        return lastAttach
    }

    private func fold(_ r: Record, _ rowID: RecordRef) {
        if tracksEvidence { here = EvidenceLink(.outcome, record: r, seq: rowID.seq, sourceID: sourceID) }
        switch r.kind {
        case .sftpplusEvent: break
        case .sftpplusPrompt, .sftpplusAttribute:
            if let c = lastClient, let box = sessions[c] { attach(c, box, r, rowID: rowID, counts: false) }
            return
        default: return
        }
        guard let id = r.eventID else { return }
        // Looked up once per record (a dictionary by string).
        let role = rules.role(id)
        if isClientEvent(r, role) { client(r, id, role, rowID); return }
        if let peer = r.peer, let port = peer.port, !(peer.address == "0.0.0.0" && port == 0) {
            if r.account == "Process" && r.component == "Process" { return }  // server-level
            server(r, id, role, key: PeerKey(address: peer.address, port: port), rowID: rowID)
            return
        }
        if r.peer != nil || r.account == "Process" { return }  // 0.0.0.0:0 or Process: server-level
        peerless(r, id, role, rowID)
    }

    func isClientEvent(_ r: Record, _ id: String) -> Bool { isClientEvent(r, rules.role(id)) }

    private func isClientEvent(_ r: Record, _ role: SessionRules.Role) -> Bool {
        if role.client { return true }
        return r.resolution?.fields.contains(where: { $0.0.utf8.count == 8 && $0.0 == "location" }) ?? false
    }

    // MARK: server side

    private func server(_ r: Record, _ id: String, _ role: SessionRules.Role, key: PeerKey, rowID: RecordRef) {
        var idx = openServer[key]
        if role.serverOpen, let i = idx {
            // A new connection on a key still open: the earlier one ended unlogged.
            finishOpen(i); openServer[key] = nil; idx = nil
        }
        if idx == nil {
            var s = SessionTimeline(source: "sftpplus", side: "server", file: file)
            s.peer = r.peer
            s.component = r.component
            if !role.serverOpen { s.details.append(("started_before_log", .bool(true))) }
            idx = open(s)
            openServer[key] = idx
        }
        guard let i = idx, let box = sessions[i] else { return }
        attach(i, box, r, rowID: rowID, counts: true)
        remember(r, i)
        apply(i, box, r, id, role, serverSide: true)
        if role.serverClose {
            closeSession(i, box, r, id)
            openServer[key] = nil
        }
    }

    // MARK: client side

    private func client(_ r: Record, _ id: String, _ role: SessionRules.Role, _ rowID: RecordRef) {
        let name = rules.locationFields.lazy.compactMap { SFTPPlusSessionBuilder.field(r, $0) }.first ?? r.component ?? "?"
        var idx = openClient[name]
        if rules.clientOpen.contains(id), let i = idx, let box = sessions[i], box.s.eventCount > 0, !rules.clientConnected.contains(id) || closed.contains(i) {
            finishOpen(i); openClient[name] = nil; idx = nil
        }
        if idx == nil {
            var s = SessionTimeline(source: "sftpplus", side: "client", file: file)
            s.location = name
            s.component = r.component
            idx = open(s)
            openClient[name] = idx
        }
        guard let i = idx, let box = sessions[i] else { return }
        if box.s.peer == nil, let p = r.peer, p.port != 0 { box.s.peer = p }
        if let a = r.account, a != "Process", a != "Unknown", box.s.user == nil { box.s.user = a; box.link(.user, linkHere(box)) }
        attach(i, box, r, rowID: rowID, counts: true)
        lastClient = i
        apply(i, box, r, id, role, serverSide: false)
        if rules.clientConnected.contains(id), box.s.outcome == .incomplete {
            box.s.outcome = .ok
            let at = linkHere(box)
            box.connectedLink = at
            box.settleOutcome(on: [at])
        }
        if rules.clientClose.contains(id) {
            closeSession(i, box, r, id)
            openClient[name] = nil
        }
    }

    // MARK: records without a peer

    private func peerless(_ r: Record, _ id: String, _ role: SessionRules.Role, _ rowID: RecordRef) {
        // The same event shown again in another layout (documentation copies do this).
        let k = dedupKey(r)
        if let hit = recent.first(where: { $0.key == k }), let box = sessions[hit.session] {
            attach(hit.session, box, r, rowID: rowID, counts: false)
            return
        }
        var candidates = openPeerless.filter { !closed.contains($0) && sessions[$0] != nil }
        if rules.serverOpen.contains(id) {
            var s = SessionTimeline(source: "sftpplus", side: "server", file: file)
            s.details.append(("grouped_without_peer", .bool(true)))
            let i = open(s)
            openPeerless.append(i)
            candidates = [i]
        } else if candidates.count > 1, let a = r.account, a != "Unknown" {
            let byUser = candidates.filter { sessions[$0]?.s.user == a }
            if byUser.count == 1 { candidates = byUser }
        }
        guard candidates.count == 1 else {
            unattributed += 1
            for c in candidates { markAmbiguous(c) }
            return
        }
        let i = candidates[0]
        guard let box = sessions[i] else { return }
        attach(i, box, r, rowID: rowID, counts: true)
        apply(i, box, r, id, role, serverSide: true)
        if rules.serverClose.contains(id) { closeSession(i, box, r, id) }
    }

    private func markAmbiguous(_ i: Int) {
        guard let box = sessions[i] else { return }
        if !box.s.details.contains(where: { $0.0 == "ambiguous" }) {
            box.s.details.append(("ambiguous", .string("events without a peer could not be told apart between concurrent sessions")))
        }
    }

    /// The same event rendered in two layouts: same ID, same second, same message.
    struct DedupKey: Equatable {
        var id: String, second: Int, message: String
    }

    private func dedupKey(_ r: Record) -> DedupKey {
        let t = r.timestamp
        let second = t.map { (($0.year * 13 + $0.month) * 32 + $0.day) * 86400 + $0.hour * 3600 + $0.minute * 60 + $0.second } ?? -1
        return DedupKey(id: r.eventID ?? "", second: second, message: r.message ?? "")
    }

    private func remember(_ r: Record, _ i: Int) {
        if recent.count < 64 { recent.append((dedupKey(r), i)) } else { recent[recentHead] = (dedupKey(r), i) }
        recentHead = (recentHead + 1) % 64
    }

    // MARK: shared

    private func attach(_ i: Int, _ box: Box, _ r: Record, rowID: RecordRef, counts: Bool) {
        if collectRefs { box.s.records.append(RecordRef(line: rowID.line, seq: rowID.seq, duplicate: !counts, sourceID: sourceID)) }
        if counts && box.s.eventCount == 0 {
            box.s.start = r.timestamp
            box.s.startEpoch = r.timestamp?.epoch(in: zone)
            box.s.firstLine = r.line
            // Everything the id depends on is known at the first event.
            box.s.id = SessionIdentity.make(box.s)
        }
        if !box.s.id.isEmpty { lastAttach = (box.s.id, !counts); lastAttachSerial = i }
        guard counts else { return }
        if box.s.file != file { box.lastFile = file }
        if tracksEvidence { box.lastLink = linkHere(box) }
        box.s.eventCount += 1
        // Its epoch once, when the session is taken (`Box.finished`).
        if let ts = r.timestamp { box.s.end = ts }
        box.s.lastLine = r.line
    }

    /// The record being folded, as a link from `box`'s session (its file named
    /// when it is not the session's own).
    private func linkHere(_ box: Box) -> EvidenceLink {
        var l = here
        if box.s.file != file { l.file = file } else if box.s.sourceID == sourceID { l.sourceID = 0 }
        return l
    }

    private func apply(_ i: Int, _ box: Box, _ r: Record, _ id: String, _ role: SessionRules.Role, serverSide: Bool) {
        let userBefore = box.s.user
        defer { if box.s.user != userBefore, box.s.user != nil { box.s.evidence.removeAll { $0.fact == .user }; box.link(.user, linkHere(box)) } }
        let f = { (name: String) in SFTPPlusSessionBuilder.field(r, name) }
        if serverSide, let a = r.account, a != "Unknown", a != "Process", !a.isEmpty, box.s.authSucceededMethod != nil || box.s.user == nil {
            if box.s.authFailures == 0 || box.s.authSucceededMethod != nil { box.s.user = a }
        }
        // One pass over the fields for the names any event may carry.
        var sawKex = false
        for (name, value) in r.resolution?.fields ?? [] {
            // Lengths first: most names have neither, and comparing each name with
            // these three strings cost more than the rest of the loop.
            let length = name.utf8.count
            guard length == 12 || length == 14 else { continue }
            switch name {
            case "client_version" where serverSide: box.s.clientVersion = value.stringValue
            case "server_version" where !serverSide: box.s.serverVersion = value.stringValue
            case "key_exchange": sawKex = true
            default: break
            }
        }
        if sawKex || (serverSide ? role.serverNegotiation : role.clientNegotiation) {
            let n = negotiated(r, serverSide: serverSide)
            if tracksEvidence {
                let at = linkHere(box)
                for fact in EvidenceFact.negotiated where fact.value(in: box.s.negotiated) == nil && fact.value(in: n) != nil { box.link(fact, at) }
            }
            box.s.negotiated.merge(n)
        }
        guard role.any else { return }
        if role.authSuccess {
            box.loginLink = linkHere(box)
            box.s.user = f("username") ?? f("account_name") ?? r.account
            let m = method(f("credentials_type"))
            box.s.authSucceededMethod = m
            if let m { box.s.authMethodsTried.append(m) }
        } else if role.authFailure {
            if box.failureLinks.count < 16 { box.failureLinks.append(linkHere(box)) }
            box.s.authFailures += 1
            if box.s.authSucceededMethod == nil { box.s.user = f("username") ?? f("name") ?? box.s.user }
            if let m = method(f("credentials_type")) { box.s.authMethodsTried.append(m) }
        }
        if tracksOperations, let rule = role.operation { operation(i, box, r, rule) }
    }

    /// SFTPPlus's credential names, in SSH's vocabulary (as OpenSSH reports them).
    func method(_ credentials: String?) -> String? {
        guard let c = credentials?.lowercased() else { return nil }
        switch c {
        case "ssh-key", "ssh_key", "publickey", "key": return "publickey"
        case "password": return "password"
        default: return c
        }
    }

    /// `Protected using …`: for a server `in` is client→server; for a client location the reverse.
    func negotiated(_ r: Record, serverSide: Bool) -> NegotiatedAlgorithms {
        // One pass over the fields, each name's first value kept (as `field` finds it):
        // looking each name up scanned and copied them eight times.
        var kx, hk, ic, oc, im, om, iz, oz: JSONValue?
        for (name, value) in r.resolution?.fields ?? [] {
            // Each name below is told by its length and first byte, then compared once:
            // comparing every field name with the eight in turn was most of this.
            let u = name.utf8
            switch (u.count, u.first) {
            case (12, UInt8(ascii: "k")): if kx == nil, name == "key_exchange" { kx = value }
            case (8, UInt8(ascii: "h")): if hk == nil, name == "host_key" { hk = value }
            case (9, UInt8(ascii: "i")): if ic == nil, name == "in_cipher" { ic = value }
            case (10, UInt8(ascii: "o")): if oc == nil, name == "out_cipher" { oc = value }
            case (7, UInt8(ascii: "i")): if im == nil, name == "in_hmac" { im = value }
            case (8, UInt8(ascii: "o")): if om == nil, name == "out_hmac" { om = value }
            case (14, UInt8(ascii: "i")): if iz == nil, name == "in_compression" { iz = value }
            case (15, UInt8(ascii: "o")): if oz == nil, name == "out_compression" { oz = value }
            default: break
            }
        }
        let f = { (value: JSONValue?) -> String? in
            guard var v = value?.stringValue else { return nil }
            // Bytes, not Characters: reading `first`/`last` as Characters cost more than the rest.
            if v.utf8.first == 0x20 || v.utf8.last == 0x20 { v = String(v.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }
            return v.isEmpty ? nil : v
        }
        let mac = { (value: JSONValue?) -> String? in
            guard let v = f(value), v != "<implicit>" else { return nil }
            return v
        }
        var n = NegotiatedAlgorithms(kex: f(kx), hostkey: f(hk))
        let inC = f(ic), outC = f(oc), inM = mac(im), outM = mac(om)
        let inZ = f(iz), outZ = f(oz)
        if serverSide {
            n.cipherC2S = inC; n.cipherS2C = outC; n.macC2S = inM; n.macS2C = outM; n.compressionC2S = inZ; n.compressionS2C = outZ
        } else {
            n.cipherC2S = outC; n.cipherS2C = inC; n.macC2S = outM; n.macS2C = inM; n.compressionC2S = outZ; n.compressionS2C = inZ
        }
        // A MAC logged as <implicit> is known to be none: keep it nil but do not let a later event fill it.
        return n
    }

    private func operation(_ i: Int, _ box: Box, _ r: Record, _ rule: SessionRules.OperationRule) {
        let f = { (name: String?) in SFTPPlusSessionBuilder.field(r, name) }
        // Every operation this record started or finished.
        let count = box.s.operations.count
        var touched: Int?
        defer {
            if tracksEvidence {
                let at = linkHere(box)
                if let k = touched { box.link(.operation, item: k, at) }
                for k in count..<box.s.operations.count where k != touched { box.link(.operation, item: k, at) }
            }
        }
        switch rule.phase {
        case "start":
            var op = SessionOperation(op: rule.op, path: f(rule.path) ?? "", line: r.line, ts: r.timestamp)
            op.to = f(rule.to)
            box.s.operations.append(op)
            pendingOps[i, default: []].append(box.s.operations.count - 1)
        case "ok", "fail":
            let path = f(rule.path) ?? ""
            let ok = rule.phase == "ok"
            if let k = pendingOps[i]?.lastIndex(where: { box.s.operations[$0].op == rule.op && box.s.operations[$0].path == path }) {
                let opIndex = pendingOps[i, default: []].remove(at: k)
                touched = opIndex
                box.s.operations[opIndex].ok = ok
                if !ok { box.s.operations[opIndex].detail = f("details") }
            } else {
                var op = SessionOperation(op: rule.op, path: path, ok: ok, line: r.line, ts: r.timestamp)
                op.to = f(rule.to)
                if !ok { op.detail = f("details") }
                box.s.operations.append(op)
            }
        case "open", "open-fail":
            let mode = (f(rule.mode) ?? "").lowercased()
            let opName = rules.openModes[mode] ?? (mode.contains("write") || mode.contains("append") ? "put" : "get")
            var op = SessionOperation(op: FileOperation(opName), path: f(rule.path) ?? f(rule.realPath) ?? "", line: r.line, ts: r.timestamp)
            if rule.phase == "open-fail" {
                op.ok = false
                op.detail = f("details")
                box.s.operations.append(op)
            } else {
                box.s.operations.append(op)
                if let real = f(rule.realPath) { openFiles[i, default: [:]][real] = box.s.operations.count - 1 }
            }
        case "close-ok", "close-fail":
            let real = f(rule.realPath) ?? ""
            let ok = rule.phase == "close-ok"
            let opIndex: Int
            if let k = openFiles[i]?[real] {
                opIndex = k
                touched = k
                openFiles[i]?[real] = nil
            } else {
                box.s.operations.append(SessionOperation(op: rule.op == .transfer ? .get : rule.op, path: real, line: r.line, ts: r.timestamp))
                opIndex = box.s.operations.count - 1
            }
            var op = box.s.operations[opIndex]
            op.ok = ok
            if rule.op == .transfer {
                let mode = (f(rule.mode) ?? "").lowercased()
                let writing = mode.contains("write") || mode.contains("append") || op.op == .put
                op.bytes = (SFTPPlusSessionBuilder.number(r, writing ? rule.bytesWritten : rule.bytesRead)).flatMap { Int(exactly: $0.rounded(.towardZero)) }
            } else if let b = SFTPPlusSessionBuilder.number(r, rule.bytes) {
                op.bytes = Int(exactly: b.rounded(.towardZero))  // nil for NaN, ±inf, beyond Int (e.g. "Read 7e57 bytes")
            }
            op.seconds = SFTPPlusSessionBuilder.number(r, rule.duration)
            op.bytesPerSecond = SFTPPlusSessionBuilder.number(r, rule.speed)
            if !ok { op.detail = f("details") ?? op.detail }
            box.s.operations[opIndex] = op
        default:
            break
        }
    }

    private func closeSession(_ i: Int, _ box: Box, _ r: Record, _ id: String) {
        closed.insert(i)
        done.append(i)
        box.s.details.append(("closed_by", .string(id)))
        box.closeLink = linkHere(box)
        let details = SFTPPlusSessionBuilder.field(r, "details")
        if let d = details { box.s.details.append(("close_details", .string(d))) }
        settle(box, closedBy: id, details: details)
    }

    private func finishOpen(_ i: Int) {
        if !closed.contains(i) { settle(i, closedBy: nil, details: nil); done.append(i) }
        closed.insert(i)
    }

    /// The session's outcome from what its events showed.
    private func settle(_ i: Int, closedBy: String?, details: String?) {
        guard let box = sessions[i] else { return }
        settle(box, closedBy: closedBy, details: details)
    }

    private func settle(_ box: Box, closedBy: String?, details: String?) {
        // In place: a copy of the session (and writing it back) retained and released its every string.
        box.s.closed = closedBy != nil
        let close = closedBy != nil ? box.closeLink : nil
        var on: [EvidenceLink?]
        if box.s.side == "client" {
            if box.s.outcome == .incomplete, closedBy != nil { box.s.outcome = .disconnected }
            on = box.s.outcome == .ok ? [box.connectedLink] : [close ?? box.lastLink]
        } else if box.s.authFailures > 0 && box.s.authSucceededMethod == nil {
            box.s.outcome = .authFailed
            on = box.failureLinks
        } else if closedBy == "30051" {
            box.s.outcome = .connectionRefused
            box.s.outcomeDetail = "too many concurrent connections"
            on = [close]
        } else if closedBy == nil {
            box.s.outcome = .incomplete
            on = [box.lastLink]
        } else if box.s.authSucceededMethod != nil || box.s.user != nil || !box.s.operations.isEmpty {
            box.s.outcome = .ok
            on = [box.loginLink ?? close]
        } else {
            box.s.outcome = .disconnected
            box.s.outcomeDetail = details
            on = [close]
        }
        box.settleOutcome(on: on.compactMap { $0 })
    }

    private func release(_ i: Int) -> SessionTimeline? {
        guard let box = sessions.removeValue(forKey: i) else { return nil }
        pendingOps[i] = nil
        openFiles[i] = nil
        closed.remove(i)
        return box.take(zone: zone)
    }

    /// Sessions that have closed since the last call, ready to store; memory
    /// then holds only the open ones. Keeps the most recent few so a duplicate
    /// rendering of a closing event can still join its session.
    public func takeClosed(keepingLast keep: Int = 64) -> [SessionTimeline] {
        guard done.count > keep else { return [] }
        let ready = done.prefix(done.count - keep)
        done.removeFirst(ready.count)
        let readySet = Set(ready)
        recent.removeAll { readySet.contains($0.session) }
        recentHead = recent.count % 64
        openPeerless.removeAll { readySet.contains($0) }
        if let c = lastClient, readySet.contains(c) { lastClient = nil }
        return ready.compactMap(release)
    }

    /// Ends the fold: sessions still open end `incomplete` (the log stops first).
    public func finish() -> [SessionTimeline] {
        for (i, box) in sessions.sorted(by: { $0.key < $1.key }) where !closed.contains(i) { end(i, box) }
        done = []
        return sessions.keys.sorted().compactMap(release)
    }

    /// Every session held, as `finish` would end it, while the fold goes on:
    /// what a store keeps of a log's last file in case its next never comes.
    public func snapshot() -> [SessionTimeline] {
        sessions.sorted(by: { $0.key < $1.key }).map { (i, box) in
            let kept = box.s
            if !closed.contains(i) { end(i, box) }
            let s = box.finished(zone: zone)
            box.s = kept
            return s
        }
    }

    /// Ends, as the log stopping would (`incomplete`), the open sessions whose
    /// last event is before `cutoff` (seconds since 1970): a watch that runs
    /// for months must not hold forever the sessions whose close never came
    /// (a lost datagram, a crashed server). `takeClosed` then hands them out.
    public func endIdle(before cutoff: Double) {
        var ended = false
        // In the order they opened, as `finish` ends them.
        for (i, box) in sessions.sorted(by: { $0.key < $1.key }) where !closed.contains(i) {
            guard let last = box.s.end?.epoch(in: zone) ?? box.s.startEpoch, last < cutoff else { continue }
            finishOpen(i)
            ended = true
        }
        guard ended else { return }
        openServer = openServer.filter { !closed.contains($0.value) }
        openClient = openClient.filter { !closed.contains($0.value) }
        openPeerless.removeAll { closed.contains($0) }
        if let c = lastClient, closed.contains(c) { lastClient = nil }
    }

    /// The session the last added record joined, as it stands (for watchers
    /// that judge a session while it goes on); nil when it joined none.
    public func peekLastJoined() -> SessionTimeline? {
        guard let i = lastAttachSerial, let box = sessions[i] else { return nil }
        return box.finished(zone: zone)
    }

    /// A session still open when the log stops.
    private func end(_ i: Int, _ box: Box) {
        if box.s.side == "client" {
            if box.s.outcome == .incomplete && box.s.eventCount > 0 && !box.s.operations.isEmpty {
                box.s.outcome = .ok
                box.settleOutcome(on: box.s.evidence.first { $0.fact == .operation }.map { [$0] } ?? [])
            } else if box.s.outcome == .incomplete {
                box.settleOutcome(on: box.lastLink.map { [$0] } ?? [])
            }
        } else {
            settle(i, closedBy: nil, details: nil)
            if box.s.authFailures > 0 && box.s.authSucceededMethod == nil { box.s.outcome = .authFailed; box.settleOutcome(on: box.failureLinks) }
        }
    }
}

/// Session ids stable across re-ingest: derived from what the session is (its
/// source kind, side, peer or location, first line and start), not from row ids.
public enum SessionIdentity {
    public static func make(_ s: SessionTimeline) -> SessionID {
        // source|side|file name|address:port|location|first line|start, as bytes in one
        // buffer: appending the pieces to a String cost more than hashing them.
        var key: [UInt8] = []
        key.reserveCapacity(160)
        let bar = UInt8(ascii: "|")
        key += s.source.utf8; key.append(bar); key += s.side.utf8; key.append(bar); key += baseName(s.file).utf8; key.append(bar)
        if let p = s.peer { key += p.address.utf8; key.append(UInt8(ascii: ":")); key += String(p.port ?? -1).utf8 }
        key.append(bar); key += (s.location ?? "").utf8; key.append(bar); key += String(s.firstLine).utf8; key.append(bar)
        if let start = s.start { key += start.iso.utf8 }
        var h = ContentHash()
        key.withUnsafeBufferPointer { h.update($0) }
        return SessionID(String(h.digest.prefix(12)))
    }

    /// The path's last non-empty component (the whole path when it has none), as
    /// `split(separator: "/").last` gives it, without splitting every component.
    static func baseName(_ path: String) -> String {
        // ASCII paths (nearly all) by bytes: walking characters cost 5,000
        // instructions a session. Others by characters, where a slash followed by a
        // combining mark is not a separator.
        if let name = path.utf8.withContiguousStorageIfAvailable({ u -> String? in
            guard u.allSatisfy({ $0 < 0x80 }) else { return nil }
            var end = u.count
            while end > 0, u[end - 1] == 0x2F { end -= 1 }
            guard end > 0 else { return path }
            var start = end
            while start > 0, u[start - 1] != 0x2F { start -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: u[start..<end]), as: UTF8.self)
        }), let name {
            return name
        }
        var end = path.endIndex
        while end > path.startIndex, path[path.index(before: end)] == "/" { end = path.index(before: end) }
        guard end > path.startIndex else { return path }
        let start = path[..<end].lastIndex(of: "/").map(path.index(after:)) ?? path.startIndex
        return String(path[start..<end])
    }
}
