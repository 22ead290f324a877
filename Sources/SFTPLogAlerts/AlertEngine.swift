import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH
import SFTPLogSessions

/// Turns records, as they are read, into alerts. It builds the sessions of
/// each input itself (the same builders and policy as `ingest`) and judges a
/// session as soon as a record gives it a fact a rule looks at, not when it
/// ends: an alert comes with the line that made it, not at the next close.
///
/// Memory is bounded: counting windows drop what fell out of them, and the
/// per-key and per-session memories are swept by age and capped.
public final class AlertEngine {
    public let rules: AlertRules
    let sessionRules: SessionRules
    let judge: (inout SessionTimeline) -> Void
    let zone: TimeZone
    public private(set) var history: AlertHistory
    /// Where alerts go, in the order they fire.
    public var deliver: (Alert) -> Void = { _ in }
    /// Seconds since 1970 for records without a timestamp.
    public var clock: () -> Double = { Date().timeIntervalSince1970 }

    private let byKind: [AlertKind: [AlertRule]]
    /// Events whose record can change a session fact some rule looks at.
    private let sftpplusTriggers: Set<String>
    private static let opensshTriggers: Set<RecordKind> = [.opensshHostKey, .opensshError, .opensshAuth, .opensshNegotiated, .opensshStrictKex]

    /// One input's session builders.
    private final class Feed {
        let sftpplus: SFTPPlusSessionBuilder
        var openssh: OpenSSHTimelineBuilder
        /// The latest time its lines gave (idle sessions are judged by their own log's clock).
        var latest = -Double.infinity
        init(_ file: String, rules: SessionRules, zone: TimeZone) {
            sftpplus = SFTPPlusSessionBuilder(rules: rules, file: file, sourceID: 0, timeZone: zone, collectRefs: false)
            openssh = OpenSSHTimelineBuilder(file: file, sourceID: 0)
        }
    }
    private var feeds: [String: Feed] = [:]

    private struct Failure { var t: Double; var user: String?; var address: String; var evidence: Evidence }
    private var failuresByAddress: [String: [Failure]] = [:]
    private var failuresByUser: [String: [Failure]] = [:]
    /// The longest window and the most failures per key the login-failure rules need.
    private let failureWindow: Double
    private let failureCap: Int
    /// Rule id and key → when it last fired (one alert per rule and key within its window).
    private var lastFired: [String: Double] = [:]
    /// Rule id and session (and item) already alerted on.
    private var alerted = RecentKeys(cap: 100_000)
    static let keysCap = 200_000
    private var sinceSweep = 0
    private var latest = 0.0
    /// Per-session facts learned into `history` once.
    private var learned = RecentKeys(cap: 100_000)

    public init(rules: AlertRules, sessionRules: SessionRules, zone: TimeZone, history: AlertHistory = AlertHistory(),
                judge: @escaping (inout SessionTimeline) -> Void) {
        self.rules = rules; self.sessionRules = sessionRules; self.zone = zone; self.history = history; self.judge = judge
        byKind = Dictionary(grouping: rules.enabled, by: \.kind)
        let counting = rules.enabled.filter { [.failedLogins, .usernamesFromAddress, .addressesForUsername].contains($0.kind) }
        failureWindow = counting.map(\.window).max() ?? 0
        // A flood from one key keeps the newest: enough to count any threshold a rule sets.
        failureCap = max(64, counting.map { $0.threshold * 2 }.max() ?? 0)
        var t = sessionRules.serverNegotiation.union(sessionRules.authSuccess).union(sessionRules.serverClose)
            .union(sessionRules.clientNegotiation).union(sessionRules.clientClose).union(sessionRules.clientConnected)
        for (id, op) in sessionRules.operations where op.bytes != nil || op.bytesRead != nil || op.bytesWritten != nil { t.insert(id) }
        sftpplusTriggers = t
    }

    func rules(_ k: AlertKind) -> [AlertRule] { byKind[k] ?? [] }

    // MARK: Records

    public func add(_ r: Record) {
        let t = r.timestamp.map { $0.epoch(in: zone) } ?? clock()
        latest = max(latest, t)
        let feed = feeds[r.file] ?? {
            let f = Feed(r.file, rules: sessionRules, zone: zone)
            feeds[r.file] = f
            return f
        }()
        if r.timestamp != nil { feed.latest = max(feed.latest, t) }
        if r.kind == .sftpplusEvent {
            unknownEvent(r, t)
            if let id = r.eventID {
                if sessionRules.authFailure.contains(id) { loginFailure(r, t) }
                if rules.hostKeyMismatchEvents.contains(id) { hostKeyMismatch(r, t) }
            }
            let joined = feed.sftpplus.add(r)
            if joined != nil, let id = r.eventID, sftpplusTriggers.contains(id), let s = feed.sftpplus.peekLastJoined() {
                session(s, at: r, t, final: false)
            }
            // Sessions that ended are judged already; dropping them keeps memory to the open ones.
            _ = feed.sftpplus.takeClosed()
        } else if !r.kind.rawValue.hasPrefix("sftpplus.") {
            feed.openssh.add(r, seq: 0)
            for s in feed.openssh.takeClosed() { session(s, at: r, t, final: true) }
            if AlertEngine.opensshTriggers.contains(r.kind), let (_, s) = feed.openssh.peek() { session(s, at: r, t, final: false) }
        }
        sinceSweep += 1
        if sinceSweep >= 10_000 { sweep() }
    }

    /// An input ended (rotated away, or read to its end): its open sessions end with it.
    public func finish(file: String) {
        guard let feed = feeds.removeValue(forKey: file) else { return }
        for s in feed.openssh.finish() { session(s, at: nil, latest, final: true) }
        _ = feed.sftpplus.finish()
    }

    public func finishAll() { for f in Array(feeds.keys) { finish(file: f) } }

    // MARK: Rules on single records

    private func unknownEvent(_ r: Record, _ t: Double) {
        guard let res = r.resolution, res.status != .resolved, let id = r.eventID else { return }
        for rule in rules(.unknownEvent) {
            let what = res.status == .unknownID
                ? "event \(id) is not in the catalogue (a newer SFTPPlus, or not an SFTPPlus event)"
                : "event \(id) has a wording none of the catalogue's templates match (a newer SFTPPlus?)"
            fire(rule, key: "\(id)|\(res.status.rawValue)", t, r, peer: r.peer?.address, user: account(r), message: what)
        }
    }

    private func account(_ r: Record) -> String? {
        for name in ["username", "name", "account_name"] {
            if let v = r.resolution?.fields.first(where: { $0.0 == name })?.1.stringValue, !v.isEmpty { return v }
        }
        guard let a = r.account, !a.isEmpty, a != "Unknown", a != "Process" else { return nil }
        return a
    }

    private func loginFailure(_ r: Record, _ t: Double) {
        // The ID alone is reused for other meanings: its wording must have matched.
        guard r.resolution?.status == .resolved, let address = r.peer?.address else { return }
        let user = account(r)
        let f = Failure(t: t, user: user, address: address, evidence: Evidence(file: r.file, line: r.line))
        func push(_ list: inout [Failure]) {
            list.append(f)
            var k = 0
            while k < list.count, list[k].t < t - failureWindow { k += 1 }
            k = max(k, list.count - failureCap)
            if k > 0 { list.removeFirst(k) }
        }
        push(&failuresByAddress[address, default: []])
        if let user { push(&failuresByUser[user, default: []]) }
        let fromAddress = failuresByAddress[address] ?? []
        for rule in rules(.failedLogins) {
            let inWindow = fromAddress.filter { $0.t >= t - rule.window }
            guard inWindow.count >= rule.threshold else { continue }
            fire(rule, key: address, t, r, peer: address, user: user, evidence: inWindow.map(\.evidence),
                 message: "\(inWindow.count) failed logins from \(address) within \(AlertEngine.span(rule.window))")
        }
        for rule in rules(.usernamesFromAddress) {
            let names = Set(fromAddress.filter { $0.t >= t - rule.window }.compactMap(\.user))
            guard names.count >= rule.threshold else { continue }
            fire(rule, key: address, t, r, peer: address, user: nil,
                 evidence: fromAddress.filter { $0.t >= t - rule.window }.map(\.evidence),
                 message: "\(address) failed to log in as \(names.count) different usernames within \(AlertEngine.span(rule.window)): "
                    + AlertEngine.list(names.sorted()))
        }
        guard let user else { return }
        let forUser = failuresByUser[user] ?? []
        for rule in rules(.addressesForUsername) {
            let addresses = Set(forUser.filter { $0.t >= t - rule.window }.map(\.address))
            guard addresses.count >= rule.threshold else { continue }
            fire(rule, key: user, t, r, peer: nil, user: user, evidence: forUser.filter { $0.t >= t - rule.window }.map(\.evidence),
                 message: "logins as \(user) failed from \(addresses.count) different addresses within \(AlertEngine.span(rule.window)): "
                    + AlertEngine.list(addresses.sorted()))
        }
    }

    /// SFTPPlus as a client: the server it connected to is not the one configured.
    private func hostKeyMismatch(_ r: Record, _ t: Double) {
        guard r.resolution?.status == .resolved else { return }
        func field(_ n: String) -> String? { r.resolution?.fields.first(where: { $0.0 == n })?.1.stringValue }
        let location = field("name") ?? r.peer?.address ?? "?"
        let actual = field("actual_fingerprint") ?? "?"
        for rule in rules(.hostKeyChanged) {
            fire(rule, key: "\(location)|\(actual)", t, r, peer: r.peer?.address, user: nil,
                 message: "server of location \(location) sent host key \(actual), not the configured \(field("expected_fingerprint") ?? "?")")
        }
    }

    // MARK: Rules on sessions

    private func session(_ raw: SessionTimeline, at r: Record?, _ t: Double, final: Bool) {
        var s = raw
        judge(&s)
        let evidence = r.map { Evidence(file: $0.file, line: $0.line) } ?? Evidence(file: s.file, line: s.lastLine)
        let peer = s.peer?.address
        let sid = s.id.isEmpty ? nil : s.id.rawValue
        let openssh = s.source == "openssh"
        // An OpenSSH run says whether strict KEX was agreed only before authentication: judge it then.
        let kexSettled = !openssh || final || r?.kind == .opensshAuth
        let when = r?.timestamp.map { $0.epoch(in: zone) } ?? t

        if kexSettled {
            for rule in rules(.weakCrypto) {
                let weak = s.findings.filter { $0.category != .terrapin && $0.rating.level >= rule.minRating.level && $0.rating != .info }
                guard !weak.isEmpty, let sid, once(rule, sid) else { continue }
                let names = weak.map { "\($0.algorithm) (\($0.category.rawValue), \($0.rating.rawValue))" }
                let key = "\(peer ?? "?")|" + weak.map(\.algorithm).sorted().joined(separator: ",")
                fire(rule, key: key, when, evidence, peer: peer, user: s.user, session: sid,
                     message: "\(peer.map { "connection with \($0)" } ?? "a connection") negotiated weak cryptography: " + AlertEngine.list(names))
            }
            if s.terrapinVulnerable == true {
                for rule in rules(.terrapin) {
                    guard let sid, once(rule, sid) else { continue }
                    fire(rule, key: peer ?? "?", when, evidence, peer: peer, user: s.user, session: sid,
                         message: "\(peer.map { "connection with \($0)" } ?? "a connection") is exposed to Terrapin: "
                            + (s.terrapinExplanation ?? "a vulnerable cipher mode without strict key exchange"))
                }
            }
        }
        if openssh { hostKey(s, when, evidence, sid) }
        if s.side == "server", s.authSucceededMethod != nil, let user = s.user, let sid {
            if let version = s.clientVersion { newClient(user: user, version: version, sid: sid, when, evidence, peer) }
            if let start = s.startEpoch, learnOnce("login|\(sid)") {
                unusualHour(user: user, epoch: start, sid: sid, when, evidence, peer)
                history.learn(user: user, clientVersion: nil, loginEpoch: start, zone: zone, host: nil, hostKeyType: nil, fingerprint: nil)
            }
        }
        for rule in rules(.largeTransfer) {
            for op in s.operations where op.op.isFileTransfer && op.ok != false {
                guard let bytes = op.bytes, bytes >= rule.bytes, let sid, once(rule, "\(sid)|\(op.line)") else { continue }
                // The line that gave the size (the transfer's close), else where it began.
                fire(rule, key: "\(sid)|\(op.line)", when, r != nil ? evidence : Evidence(file: s.file, line: op.line), peer: peer, user: s.user, session: sid,
                     message: "\(op.op.rawValue == "put" ? "upload" : "download") of \(op.path), \(bytes) bytes"
                        + (s.user.map { " by \($0)" } ?? "") + (peer.map { " from \($0)" } ?? ""))
            }
        }
    }

    private func hostKey(_ s: SessionTimeline, _ t: Double, _ evidence: Evidence, _ sid: String?) {
        guard let hk = s.details.first(where: { $0.0 == "hostkey" })?.1 else { return }
        let peerInfo = s.details.first(where: { $0.0 == "peer" })?.1
        guard let name = peerInfo?["host"]?.stringValue ?? peerInfo?["address"]?.stringValue ?? s.peer?.address, let sid else { return }
        let host = AlertHistory.server(host: name, port: peerInfo?["port"]?.intValue ?? s.peer?.port)
        let type = hk["type"]?.stringValue
        let fp = hk["fingerprint"]?.stringValue
        let check = hk["check"]?.stringValue
        let keyType = AlertHistory.keyType(type)
        if check == "changed" {
            for rule in rules(.hostKeyChanged) where once(rule, sid) {
                fire(rule, key: "\(host)|\(fp ?? "?")", t, evidence, peer: s.peer?.address, user: s.user, session: sid,
                     message: "the client says the host key of \(host) changed" + (fp.map { " (now \($0))" } ?? ""))
            }
        }
        guard let fp else { return }
        let known = history.hostKeys[host]
        let sameHash = { (f: String) in AlertHistory.hashKind(f) == AlertHistory.hashKind(fp) }
        if let known, check != "changed" {
            if let seen = known[keyType]?.filter(sameHash), !seen.isEmpty, !seen.contains(fp) {
                for rule in rules(.hostKeyChanged) where once(rule, sid) {
                    fire(rule, key: "\(host)|\(fp)", t, evidence, peer: s.peer?.address, user: s.user, session: sid,
                         message: "\(host) presented \(type ?? keyType) key \(fp); seen before: " + AlertEngine.list(seen.sorted()))
                }
            } else if known[keyType]?.contains(fp) != true, known.values.contains(where: { !$0.filter(sameHash).isEmpty }) {
                for rule in rules(.hostKeyNew) where once(rule, sid) {
                    fire(rule, key: "\(host)|\(fp)", t, evidence, peer: s.peer?.address, user: s.user, session: sid,
                         message: "\(host) presented a key of a type never seen for it before: \(type ?? keyType) \(fp) (known types: "
                            + AlertEngine.list(known.keys.sorted()) + ")")
                }
            }
        }
        if learnOnce("hostkey|\(sid)|\(fp)") {
            history.learn(user: nil, clientVersion: nil, loginEpoch: nil, zone: zone, host: host, hostKeyType: type, fingerprint: fp)
        }
    }

    private func newClient(user: String, version: String, sid: String, _ t: Double, _ evidence: Evidence, _ peer: String?) {
        let known = history.clients[user] ?? []
        if !known.isEmpty, !known.contains(version) {
            for rule in rules(.newClientSoftware) where once(rule, sid) {
                fire(rule, key: "\(user)|\(version)", t, evidence, peer: peer, user: user, session: sid,
                     message: "\(user) logged in with \(version)" + (peer.map { " from \($0)" } ?? "")
                        + "; used before: " + AlertEngine.list(known.sorted()))
            }
        }
        if learnOnce("client|\(sid)") {
            history.learn(user: user, clientVersion: version, loginEpoch: nil, zone: zone, host: nil, hostKeyType: nil, fingerprint: nil)
        }
    }

    private func unusualHour(user: String, epoch: Double, sid: String, _ t: Double, _ evidence: Evidence, _ peer: String?) {
        guard let hours = history.loginHours[user] else { return }
        let total = hours.reduce(0, +)
        let h = AlertHistory.hour(epoch, zone)
        for rule in rules(.unusualHour) where total >= rule.minLogins {
            let share = Double(hours[h]) / Double(total)
            guard share <= rule.maxShare, once(rule, sid) else { continue }
            let usual = (0..<24).filter { hours[$0] > 0 }.map { String(format: "%02d", $0) }
            fire(rule, key: "\(user)|\(h)", t, evidence, peer: peer, user: user, session: sid,
                 message: String(format: "%@ logged in at %02d h", user, h) + (peer.map { " from \($0)" } ?? "")
                    + "; \(hours[h]) of \(total) earlier logins were in that hour (usual hours: \(usual.joined(separator: " ")))")
        }
    }

    // MARK: Firing

    private func once(_ rule: AlertRule, _ item: String) -> Bool { alerted.insert(rule.id + "\u{0}" + item) }

    private func learnOnce(_ k: String) -> Bool { learned.insert(k) }

    private func fire(_ rule: AlertRule, key: String, _ t: Double, _ r: Record, peer: String?, user: String?,
                      evidence: [Evidence]? = nil, message: String) {
        fire(rule, key: key, t, evidence ?? [Evidence(file: r.file, line: r.line)], peer: peer, user: user,
             session: r.sessionID.map(\.rawValue), message: message)
    }

    private func fire(_ rule: AlertRule, key: String, _ t: Double, _ evidence: Evidence, peer: String?, user: String?,
                      session: String?, message: String) {
        fire(rule, key: key, t, [evidence], peer: peer, user: user, session: session, message: message)
    }

    private func fire(_ rule: AlertRule, key: String, _ t: Double, _ evidence: [Evidence], peer: String?, user: String?,
                      session: String?, message: String) {
        let k = rule.id + "\u{0}" + key
        if let last = lastFired[k], rule.window > 0, abs(t - last) < rule.window { return }
        lastFired[k] = t
        deliver(Alert(rule: rule.id, kind: rule.kind, severity: rule.severity, ts: LogTimestamp.utcISO(t, fractionDigits: 3),
                      peer: peer, user: user, session: session, evidence: evidence, message: message))
    }

    /// Seconds of log time after which a session with no event ends (its close was never logged).
    static let sessionIdle = 3600.0

    /// Forgets what fell out of every window (by log time), and caps what is left.
    private func sweep() {
        sinceSweep = 0
        for f in feeds.values {
            f.sftpplus.endIdle(before: f.latest - AlertEngine.sessionIdle)
            _ = f.sftpplus.takeClosed()
        }
        let longest = rules.enabled.map(\.window).max() ?? 0
        lastFired = lastFired.filter { latest - $0.value < longest }
        if lastFired.count > AlertEngine.keysCap { lastFired = [:] }
        func prune(_ d: inout [String: [Failure]]) {
            d = d.filter { _, list in list.last.map { latest - $0.t < longest } ?? false }
            if d.count > AlertEngine.keysCap { d = [:] }
        }
        prune(&failuresByAddress)
        prune(&failuresByUser)
    }

    static func span(_ seconds: Double) -> String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600)) h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60)) min" }
        return "\(Int(seconds)) s"
    }

    static func list(_ items: [String], max: Int = 8) -> String {
        items.count <= max ? items.joined(separator: ", ") : items.prefix(max).joined(separator: ", ") + " and \(items.count - max) more"
    }
}

/// A set that remembers the most recent keys only: past `cap` it forgets the older half.
struct RecentKeys {
    let cap: Int
    private var keys: Set<String> = []
    private var order: [String] = []
    init(cap: Int) { self.cap = cap }

    /// False when `k` is remembered already.
    mutating func insert(_ k: String) -> Bool {
        guard keys.insert(k).inserted else { return false }
        order.append(k)
        if order.count > cap {
            let drop = order.count / 2
            for x in order.prefix(drop) { keys.remove(x) }
            order.removeFirst(drop)
        }
        return true
    }
}
