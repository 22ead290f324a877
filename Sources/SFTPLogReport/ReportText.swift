import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// Plain-text and Markdown renderings of a report. Log values are escaped for
/// the medium (terminal controls, Markdown table pipes); colour only when asked.
public struct ReportText {
    public var colour = false
    public var width = 80
    /// The width tables and cut lines fit into (unlimited into a pipe or a file).
    public var fitWidth = 80

    public init(colour: Bool = false, width: Int = 80, fitWidth: Int? = nil) {
        self.colour = colour; self.width = width; self.fitWidth = fitWidth ?? width
    }

    func bold(_ s: String) -> String { colour ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
    func rated(_ r: Rating) -> String {
        guard colour else { return r.rawValue }
        switch r {
        case .fail: return "\u{1B}[31m\(r.rawValue)\u{1B}[0m"
        case .warn, .unknown: return "\u{1B}[33m\(r.rawValue)\u{1B}[0m"
        default: return "\u{1B}[2m\(r.rawValue)\u{1B}[0m"
        }
    }
    func t(_ s: String) -> String { TextEscaper.terminalSafe(s) }

    public func render(_ m: ReportModel) -> String {
        if let d = m.detail { return session(d) }
        var o = bold("sftplog report") + ": \(m.sessionCount) sessions, \(m.recordCount) records from \(m.sources.count) sources\n"
        if let span = m.span {
            o += "from \(Human.clock(span.first)) to \(Human.clock(span.last)) (\(Human.zoneLabel(span.zone)))\n"
        }
        func section(_ title: String, _ body: String) {
            guard !body.isEmpty else { return }
            o += "\n" + bold(title) + "\n" + body
        }
        func table(_ cols: [TextTable.Column], _ rows: [[String]]) -> String {
            rows.isEmpty ? "" : TextTable.render(cols, rows, width: fitWidth).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        section("Sessions per user", table([.init("user", flexible: true, min: 8), .init("sessions", right: true), .init("failed", right: true),
                                            .init("up", right: true), .init("down", right: true)],
                                           m.perUser.prefix(15).map { [t($0.key), String($0.count), String($0.extra["failed"] ?? 0),
                                                                       Human.bytes($0.extra["up"]), Human.bytes($0.extra["down"])] }))
        section("Sessions per peer", table([.init("peer", flexible: true, min: 10), .init("sessions", right: true), .init("failed logins", right: true)],
                                           m.perPeer.prefix(15).map { [t($0.key), String($0.count), String($0.extra["failed"] ?? 0)] }))
        if !m.bruteForce.isEmpty {
            section("Possible brute force (\(ReportModel.bruteForceThreshold)+ failed logins from one address within \(Int(ReportModel.bruteForceWindow / 60)) min)",
                    m.bruteForce.map { "  \(t($0.address)): \($0.failures) failures in \(Human.duration($0.windowSeconds)) (\($0.first) … \($0.last)), users tried: \(t($0.users.joined(separator: ", ")))\n" }.joined())
        } else if !m.failedLoginsPerPeer.isEmpty {
            section("Failed logins per peer", m.failedLoginsPerPeer.prefix(10).map { "  \(t($0.key)): \($0.count)\n" }.joined())
        }
        section("Busiest hours", m.busiestHours.prefix(5).map { "  \($0.key)  \($0.count) session\($0.count == 1 ? "" : "s")\n" }.joined())
        section("Most frequent failure events", m.failureEvents.map { e in
            Human.wrap("\(e.eventID) ×\(e.count)  \(t(e.meaning))", indent: 2, width: width) + Human.wrap("e.g. " + t(e.example), indent: 10, width: width)
        }.joined())
        section("Sessions with weak cryptography (\(m.weakSessions.count + m.weakSessionsNotKept))", m.weakSessions.prefix(ReportModel.weakSessionsShown).map { s in
            let names = s.findings.filter { $0.rating.isWeak }.map { "\(rated($0.rating)) \(t($0.algorithm))" }
            let who = "\(t(s.user ?? "-"))@\(t(s.peer?.address ?? "-"))"
            return "  \(s.id) \(Human.clock(s.start).prefix(16)) \(who)\n" + Human.wrap(names.joined(separator: ", ") + (s.terrapinVulnerable == true ? ", Terrapin" : ""), indent: 6, width: width + (colour ? 30 : 0))
        }.joined())
        section("Client software", m.clientSoftware.prefix(10).map { "  \($0.count)× \(t($0.key))\n" }.joined())
        let versions = m.sources.compactMap { s in s.versions.map { Human.wrap("\(t(s.name)): SFTPPlus \($0)", indent: 2, width: width) } }
        section("SFTPPlus versions that can have written each log", versions.joined())
        return o
    }

    public func session(_ d: ReportModel.SessionDetail) -> String {
        let s = d.session
        var o = bold("Session \(s.id)") + ": \(t(s.user ?? "(no user)")) @ \(t(s.peer.map { $0.address + ($0.port.map { ":\($0)" } ?? "") } ?? "-"))\n"
        o += Human.wrap("\(s.source) \(s.side) session, \(s.place(t)), \(s.eventCount) events", indent: 0, width: width)
        if let st = s.start { o += "start \(Human.clock(st)) \(Human.zoneLabel(st)), duration \(Human.duration(s.duration))\n" }
        o += "outcome: \(s.outcome.rawValue)" + (s.outcomeDetail.map { " (\(t($0)))" } ?? "") + "\n"
        if let c = s.clientVersion { o += "client: \(t(c))\n" }
        if let v = s.serverVersion { o += "server: \(t(v))\n" }
        if let l = s.location { o += "location: \(t(l))\n" }
        o += "\n" + bold("Negotiated") + "\n"
        let n = s.negotiated
        if n.isEmpty { o += "  (not in the log)\n" }
        for (label, value) in [("key exchange", n.kex), ("host key", n.hostkey), ("cipher c2s", n.cipherC2S), ("cipher s2c", n.cipherS2C),
                               ("MAC c2s", n.macC2S ?? (n.cipherC2S != nil ? "(implicit)" : nil)), ("MAC s2c", n.macS2C ?? (n.cipherS2C != nil ? "(implicit)" : nil)),
                               ("compression c2s", n.compressionC2S), ("compression s2c", n.compressionS2C)] {
            if let v = value { o += "  " + label.fitted(16) + t(v) + "\n" }
        }
        if let g = s.gexBits { o += "  DH group size   \(g) bits\n" }
        o += "  strict KEX      " + (s.strictKex.map { $0 ? "yes" : "no" } ?? "not visible in the log") + "\n"
        if let tv = s.terrapinVulnerable {
            o += "  Terrapin        " + (tv ? "vulnerable" : "not vulnerable") + "\n"
            if let why = s.terrapinExplanation { o += Human.wrap("(" + why + ")", indent: 18, width: width) }
        }
        else if let why = s.terrapinExplanation { o += Human.wrap("Terrapin: undetermined — " + why, indent: 2, width: width) }
        if !s.findings.isEmpty {
            o += "\n" + bold("Findings") + "\n"
            for f in s.findings {
                o += "  \(rated(f.rating)) \(f.category.rawValue) \(t(f.algorithm))" + (f.direction.map { $0 == "both" ? "" : " (\($0))" } ?? "") + "\n"
                o += Human.wrap(f.reason + (f.reference.isEmpty ? "" : " [\(f.reference)]"), indent: 6, width: width)
            }
        }
        o += "\n" + bold("Authentication") + "\n"
        o += "  tried: " + (s.authMethodsTried.isEmpty ? "-" : s.authMethodsTried.joined(separator: ", ")) + "\n"
        o += "  succeeded: " + (s.authSucceededMethod ?? "no") + (s.authFailures > 0 ? ", \(s.authFailures) failure\(s.authFailures == 1 ? "" : "s")" : "") + "\n"
        if let h = s.hostKeyCheck { o += "  host key check: \(h)\n" }
        if !s.operations.isEmpty {
            o += "\n" + bold("Operations") + "\n"
            for op in s.operations {
                let status = op.ok.map { $0 ? "ok" : "FAILED" } ?? "?"
                var line = "  \(op.op.rawValue.fitted(7)) \(status.fitted(6)) \(t(op.path))"
                if let to = op.to { line += " → \(t(to))" }
                if let b = op.bytes { line += "  \(Human.bytes(b))" }
                if let r = op.bytesPerSecond { line += " at \(Human.rate(r))" }
                if let sec = op.seconds { line += " in \(Human.duration(sec))" }
                o += line + "\n"
                if let detail = op.detail { o += Human.wrap(t(detail), indent: 17, width: width) }
            }
        }
        if !d.failures.isEmpty {
            o += "\n" + bold("Failures explained") + "\n"
            for f in d.failures {
                o += Human.wrap("line \(f.line) " + (f.eventID ?? f.kind) + ": " + t(f.message), indent: 2, width: width)
                if let meaning = f.meaning { o += Human.wrap("→ " + meaning, indent: 4, width: width) }
            }
        }
        if !d.evidence.isEmpty {
            o += "\n" + bold("Evidence") + "\n"
            for e in d.evidence {
                // The place on a line of its own (its length differs with and without a database).
                o += "  " + ReportText.evidencePlace(e, t) + "\n"
                o += Human.wrap("shows " + e.facts.joined(separator: ", "), indent: 4, width: width)
                // Each physical line of the record, escaped and whole (wrapped, never cut:
                // it is the evidence), a multi-line record keeping its lines.
                for l in (e.text ?? "(record not found)").split(separator: "\n", omittingEmptySubsequences: false) {
                    o += Human.wrap(t(String(l)), indent: 6, width: width)
                }
            }
        }
        o += "\n" + bold("Timeline") + "\n"
        for e in d.timeline where !e.duplicate {
            let rel = e.offset.map { String(format: "+%.1fs", $0) } ?? "line \(e.line)"
            let id = e.eventID ?? e.kind.replacingOccurrences(of: "openssh.", with: "")
            o += "  " + rel.fitted(9) + " " + id.fitted(8) + " "
            o += String(t(e.message).prefix(max(20, fitWidth - 21))) + "\n"
            if let m = e.meaning { o += Human.wrap("(" + m + ")", indent: 21, width: width) }
        }
        return o
    }

    /// `line 12 (record 345, byte 1024)`, with the file when it is not the session's.
    static func evidencePlace(_ e: ReportModel.EvidenceLine, _ escape: (String) -> String) -> String {
        var p = (e.file.map { escape($0) + " " } ?? "") + "line \(e.line)"
        let ids = [e.recordID.map { "record \($0)" }, e.offset.map { "byte \($0)" }].compactMap { $0 }
        if !ids.isEmpty { p += " (" + ids.joined(separator: ", ") + ")" }
        return p
    }

    // MARK: Markdown

    static func md(_ s: String) -> String {
        // Escape what Markdown would interpret, and never let log text close a table cell or inject HTML.
        var out = ""
        for ch in TextEscaper.terminalSafe(s) {
            switch ch {
            case "|": out += "\\|"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "*", "_", "`", "[", "]", "#", "\\": out += "\\" + String(ch)
            default: out.append(ch)
            }
        }
        return out
    }

    public func markdown(_ m: ReportModel) -> String {
        let e = ReportText.md, table = ReportText.markdownTable
        if let d = m.detail {
            let s = d.session
            var o = "# Session \(s.id)\n\n"
            o += "- **User:** \(e(s.user ?? "-"))\n- **Peer:** \(e(s.peer.map { $0.address + ($0.port.map { ":\($0)" } ?? "") } ?? "-"))\n"
            o += "- **Source:** \(s.source) \(s.side), \(s.place(e))\n"
            o += "- **Start:** \(s.start.map { Human.clock($0) + " " + Human.zoneLabel($0) } ?? "-"), **duration** \(Human.duration(s.duration))\n"
            o += "- **Outcome:** \(s.outcome.rawValue)\(s.outcomeDetail.map { " (\(e($0)))" } ?? "")\n"
            if let c = s.clientVersion { o += "- **Client:** \(e(c))\n" }
            if let v = s.serverVersion { o += "- **Server:** \(e(v))\n" }
            o += "\n## Negotiation\n\n"
            let n = s.negotiated
            o += table(["slot", "algorithm"], [("kex", n.kex), ("host key", n.hostkey), ("cipher c2s", n.cipherC2S), ("cipher s2c", n.cipherS2C),
                                               ("MAC c2s", n.macC2S), ("MAC s2c", n.macS2C), ("compression c2s", n.compressionC2S),
                                               ("compression s2c", n.compressionS2C)].compactMap { k, v in v.map { [k, e($0)] } })
            o += "\nStrict KEX: \(s.strictKex.map { $0 ? "yes" : "no" } ?? "not visible"); Terrapin: \(s.terrapinVulnerable.map { $0 ? "**vulnerable**" : "no" } ?? "undetermined")\n"
            o += "\n## Findings\n\n" + table(["rating", "category", "algorithm", "reason", "reference"],
                                            s.findings.map { [$0.rating.rawValue, $0.category.rawValue, e($0.algorithm), e($0.reason), e($0.reference)] })
            o += "\n## Authentication\n\nTried: \(s.authMethodsTried.isEmpty ? "-" : s.authMethodsTried.joined(separator: ", ")); succeeded: \(s.authSucceededMethod ?? "no")\n"
            o += "\n## Operations\n\n" + table(["op", "path", "ok", "bytes", "speed"], s.operations.map {
                [$0.op.rawValue, e($0.path) + ($0.to.map { " → " + e($0) } ?? ""), $0.ok.map { $0 ? "yes" : "**no**" } ?? "?", Human.bytes($0.bytes), Human.rate($0.bytesPerSecond)]
            })
            if !d.failures.isEmpty {
                o += "\n## Failures explained\n\n" + d.failures.map { "- line \($0.line) `\($0.eventID ?? $0.kind)`: \(e($0.message))" + ($0.meaning.map { " — \(e($0))" } ?? "") + "\n" }.joined()
            }
            if !d.evidence.isEmpty {
                o += "\n## Evidence\n\n" + table(["where", "facts", "line as written"], d.evidence.map {
                    [ReportText.evidencePlace($0, e), $0.facts.joined(separator: ", "),
                     ($0.text ?? "").split(separator: "\n", omittingEmptySubsequences: false).map { e(String($0)) }.joined(separator: "<br>")]
                })
            }
            o += "\n## Timeline\n\n" + table(["t", "event", "message", "meaning"], d.timeline.filter { !$0.duplicate }.map {
                [$0.offset.map { String(format: "+%.1fs", $0) } ?? "line \($0.line)", $0.eventID ?? $0.kind, e($0.message), e($0.meaning ?? "")]
            })
            return o
        }
        let (head, tail) = markdownParts(m, weakCount: m.weakSessions.count)
        return head + m.weakSessions.map(Self.markdownWeakRow).joined() + tail
    }

    /// A Markdown table: `head`, then `rows` (or `_none_`).
    static func markdownTable(_ head: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "_none_\n" }
        return markdownTableHead(head) + rows.map(markdownRow).joined()
    }

    static func markdownTableHead(_ head: [String]) -> String {
        "| " + head.joined(separator: " | ") + " |\n|" + head.map { _ in " --- |" }.joined() + "\n"
    }

    static func markdownRow(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |\n" }

    static let markdownWeakHead = ["session", "user", "peer", "findings"]

    /// A weak session's row in the Markdown summary (made as it closes, from files).
    public static func markdownWeakRow(_ s: SessionTimeline) -> String {
        let e = ReportText.md
        return markdownRow([s.id.rawValue, e(s.user ?? "-"), e(s.peer?.address ?? "-"),
                            s.findings.filter { $0.rating.isWeak }.map { "\($0.rating.rawValue) \(e($0.algorithm))" }.joined(separator: ", ")])
    }

    /// The Markdown summary around the rows of its `weakCount` weak sessions (`markdownWeakRow`).
    public func markdownParts(_ m: ReportModel, weakCount: Int) -> (head: String, tail: String) {
        let e = ReportText.md, table = ReportText.markdownTable
        var o = "# sftplog report\n\n\(m.sessionCount) sessions, \(m.recordCount) records from \(m.sources.count) sources. Generated \(m.generatedAt).\n"
        o += "\n## Sessions per user\n\n" + table(["user", "sessions", "failed", "up", "down"], m.perUser.map {
            [e($0.key), String($0.count), String($0.extra["failed"] ?? 0), Human.bytes($0.extra["up"]), Human.bytes($0.extra["down"])] })
        o += "\n## Sessions per peer\n\n" + table(["peer", "sessions", "failed logins"], m.perPeer.map { [e($0.key), String($0.count), String($0.extra["failed"] ?? 0)] })
        o += "\n## Failed logins per peer\n\n" + table(["peer", "failed sessions"], m.failedLoginsPerPeer.map { [e($0.key), String($0.count)] })
        o += "\n## Possible brute force\n\n" + table(["address", "failures", "window", "users tried"], m.bruteForce.map {
            [e($0.address), String($0.failures), Human.duration($0.windowSeconds), e($0.users.joined(separator: ", "))] })
        o += "\n## Busiest hours\n\n" + table(["hour", "sessions"], m.busiestHours.prefix(10).map { [$0.key, String($0.count)] })
        o += "\n## Most frequent failure events\n\n" + table(["event", "count", "meaning"], m.failureEvents.map { [$0.eventID, String($0.count), e($0.meaning)] })
        o += "\n## Sessions with weak cryptography\n\n" + (weakCount == 0 ? "_none_\n" : ReportText.markdownTableHead(ReportText.markdownWeakHead))
        let tail = "\n## Client software\n\n" + table(["client", "sessions"], m.clientSoftware.map { [e($0.key), String($0.count)] })
        return (o, tail)
    }

    public static func json(_ m: ReportModel) -> JSONValue {
        if let d = m.detail {
            var o: [(String, JSONValue)] = [("session", SessionJSON.object(d.session)),
                            ("timeline", .array(d.timeline.map { e in
                                .object([("line", .int(e.line)), ("offset", e.offset.map(JSONValue.double) ?? .null), ("ts", e.ts.map { .string($0.iso) } ?? .null),
                                         ("event_id", e.eventID.map(JSONValue.string) ?? .null), ("kind", .string(e.kind)),
                                         ("meaning", e.meaning.map(JSONValue.string) ?? .null), ("message", .string(e.message)),
                                         ("failure", .bool(e.failure)), ("duplicate", .bool(e.duplicate))])
                            }))]
            if !d.evidence.isEmpty {
                o.append(("evidence", .array(d.evidence.map { e in
                    .object([("facts", .array(e.facts.map(JSONValue.string))), ("file", .string(e.file ?? d.session.file)), ("line", .int(e.line)),
                             ("record_id", e.recordID.map { .int(Int($0)) } ?? .null), ("byte_offset", e.offset.map { .int(Int($0)) } ?? .null),
                             ("text", e.text.map(JSONValue.string) ?? .null)])
                })))
            }
            return .object(o)
        }
        return .object(summaryPairs(m))
    }

    /// A weak session's item in the JSON summary's `weak_sessions` (made as it closes, from files).
    public static func jsonWeakItem(_ s: SessionTimeline) -> [UInt8] {
        var j = JSONBytes(capacity: 32)
        j.string(s.id.rawValue)
        return j.bytes
    }

    /// The JSON summary as `json` writes it, around the items of `weak_sessions`
    /// (`jsonWeakItem`, a comma between them).
    public static func jsonParts(_ m: ReportModel) -> (head: [UInt8], tail: [UInt8]) {
        var j = JSONBytes(capacity: 4096), head: [UInt8] = []
        j.raw("{")
        for (k, (key, value)) in summaryPairs(m).enumerated() {
            if k > 0 { j.raw(",") }
            j.string(key)
            j.raw(":")
            if key == "weak_sessions" {
                j.raw("[")
                head = j.bytes
                j.bytes = [0x5D]
            } else {
                j.value(value)
            }
        }
        j.raw("}")
        return (head, j.bytes)
    }

    static func summaryPairs(_ m: ReportModel) -> [(String, JSONValue)] {
        func counts(_ c: [ReportModel.Count]) -> JSONValue {
            .array(c.map { x in .object([("key", .string(x.key)), ("count", .int(x.count))] + x.extra.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }) })
        }
        return [
            ("generated_at", .string(m.generatedAt)), ("sessions", .int(m.sessionCount)), ("records", .int(m.recordCount)),
            ("per_user", counts(m.perUser)), ("per_peer", counts(m.perPeer)), ("failed_logins_per_peer", counts(m.failedLoginsPerPeer)),
            ("brute_force", .array(m.bruteForce.map { b in .object([("address", .string(b.address)), ("failures", .int(b.failures)),
                                                                       ("window_seconds", .double(b.windowSeconds)), ("first", .string(b.first)),
                                                                       ("last", .string(b.last)), ("users", .array(b.users.map(JSONValue.string)))]) })),
            ("bytes_per_user", counts(m.bytesPerUser)), ("busiest_hours", counts(m.busiestHours)),
            ("failure_events", .array(m.failureEvents.map { .object([("event_id", .string($0.eventID)), ("count", .int($0.count)),
                                                                     ("meaning", .string($0.meaning)), ("example", .string($0.example))]) })),
            ("weak_sessions", .array(m.weakSessions.map { .string($0.id.rawValue) })),
            ("client_software", counts(m.clientSoftware)),
            ("sources", .array(m.sources.map { .object([("name", .string($0.name)), ("records", .int($0.records)),
                                                        ("sftpplus_versions", $0.versions.map(JSONValue.string) ?? .null)]) })),
        ]
    }
}
