import Foundation
import SFTPLogRecords
import SFTPLogSessions

/// `report --trend` as text (sparklines, 80 columns), Markdown, HTML (inline
/// SVG, no script, nothing fetched) and JSON. Every text from a log is escaped
/// for its medium.
public enum TrendRender {
    static func percent(_ x: Double) -> String { "\(Int((x * 100).rounded()))%" }
    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.enumerated() { if i > 0 && (s.count - i) % 3 == 0 && c != "-" { out += "," }; out.append(c) }
        return out
    }

    /// A period's lists, as (name, value) with each log text escaped by `e`.
    static func details(_ p: TrendModel.Period, _ e: (String) -> String) -> [(String, String)] {
        var out: [(String, String)] = []
        if !p.weakAlgorithms.isEmpty { out.append(("weak", p.weakAlgorithms.map { "\(e($0.algorithm)) \($0.rating.rawValue) \(grouped($0.sessions))" }.joined(separator: ", "))) }
        out.append(("clients", p.clients.map { "\(e($0.key)) \(percent(p.share($0.count)))" }.joined(separator: ", ")))
        if !p.sftpplusVersions.isEmpty { out.append(("SFTPPlus", p.sftpplusVersions.map(e).joined(separator: ", "))) }
        if !p.failingPeers.isEmpty { out.append(("failing peers", p.failingPeers.map { "\(e($0.key)) \(grouped($0.count))" }.joined(separator: ", "))) }
        return out
    }

    /// What is new in the last period, as (name, value).
    static func details(_ c: TrendModel.Changes, _ e: (String) -> String) -> [(String, String)] {
        // At most 20 names shown (JSON has them all).
        func list(_ s: [String]) -> String {
            s.isEmpty ? "none" : s.prefix(20).map(e).joined(separator: ", ") + (s.count > 20 ? " and \(grouped(s.count - 20)) more" : "")
        }
        return [("weak algorithms", list(c.newWeakAlgorithms)), ("client software", list(c.newClients)), ("peers with failures", list(c.newFailingPeers))]
    }

    /// A row of block characters scaled to the row's own maximum.
    static func sparkline(_ values: [Double]) -> String {
        let blocks = Array("▁▂▃▄▅▆▇█")
        let top = values.max() ?? 0
        return String(values.map { v in top <= 0 ? " " : (v <= 0 ? " " : blocks[min(7, Int((v / top * 7).rounded()))]) })
    }

    // MARK: text

    public static func text(_ m: TrendModel, width: Int = 80) -> String {
        let t = TextEscaper.terminalSafe
        let total = m.periods.reduce(0) { $0 + $1.sessions }
        var o = "SFTP/SSH posture by \(m.by.rawValue): \(m.periods.count) period\(m.periods.count == 1 ? "" : "s"), \(grouped(total)) session\(total == 1 ? "" : "s")"
        if m.undated > 0 { o += " (\(grouped(m.undated)) without a time, left out)" }
        o += "\n"
        guard let first = m.periods.first, let last = m.periods.last else { return o + "No sessions.\n" }
        o += "from \(first.label) to \(last.label)\n\n"
        // The sparklines show the latest periods that fit beside their labels.
        let label = 14, fits = max(8, width - label - 22)
        let shown = Array(m.periods.suffix(fits))
        func row(_ name: String, _ values: [Double], _ last: String) {
            o += name.padding(toLength: label, withPad: " ", startingAt: 0) + sparkline(values)
            o += String(repeating: " ", count: max(1, fits - values.count + 1)) + last + "\n"
        }
        if shown.count < m.periods.count { o += "(the last \(shown.count) periods)\n" }
        row("sessions", shown.map { Double($0.sessions) }, "last \(grouped(last.sessions))")
        row("failed logins", shown.map { Double($0.failedLogins) }, "last \(grouped(last.failedLogins))")
        row("fail crypto", shown.map { $0.share($0.cryptoFail) }, "last \(percent(last.share(last.cryptoFail)))")
        row("warn crypto", shown.map { $0.share($0.cryptoWarn) }, "last \(percent(last.share(last.cryptoWarn)))")
        row("terrapin", shown.map { $0.share($0.terrapin) }, "last \(percent(last.share(last.terrapin)))")
        row("bytes", shown.map { Double($0.bytesUp + $0.bytesDown) }, "last \(Human.bytes(last.bytesUp + last.bytesDown))")
        let columns = [TextTable.Column("period")] + ["sessions", "failed", "fail", "warn", "terrapin", "up", "down"].map { TextTable.Column($0, right: true) }
        o += "\n" + TextTable.render(columns, m.periods.map { p in
            [p.label, grouped(p.sessions), grouped(p.failedLogins), percent(p.share(p.cryptoFail)), percent(p.share(p.cryptoWarn)),
             percent(p.share(p.terrapin)), Human.bytes(p.bytesUp), Human.bytes(p.bytesDown)]
        })
        for p in m.periods.reversed() where p.sessions > 0 {
            o += "\n\(p.label) (from \(p.first))\n"
            for (name, value) in details(p, t) { o += Human.wrap("\(name): \(value)", indent: 2, width: width) }
        }
        if let c = m.changes {
            o += "\nNew in \(c.to) against \(c.from)\n"
            for (name, value) in details(c, t) { o += Human.wrap("\(name): \(value)", indent: 2, width: width) }
        }
        return o
    }

    // MARK: Markdown

    public static func markdown(_ m: TrendModel) -> String {
        let e = ReportText.md
        var o = "# SFTP/SSH posture by \(m.by.rawValue)\n\n"
        if m.undated > 0 { o += "\(m.undated) sessions without a time are left out.\n\n" }
        o += "| period | from | sessions | failed logins | fail crypto | warn crypto | terrapin | up | down |\n"
        o += "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for p in m.periods {
            o += "| \(p.label) | \(p.first) | \(p.sessions) | \(p.failedLogins) | \(percent(p.share(p.cryptoFail))) | \(percent(p.share(p.cryptoWarn))) | "
            o += "\(percent(p.share(p.terrapin))) | \(Human.bytes(p.bytesUp)) | \(Human.bytes(p.bytesDown)) |\n"
        }
        for p in m.periods.reversed() where p.sessions > 0 {
            o += "\n## \(p.label)\n\n"
            for (name, value) in details(p, e) { o += "- \(name): \(value)\n" }
        }
        if let c = m.changes {
            o += "\n## New in \(c.to) against \(c.from)\n\n"
            for (name, value) in details(c, e) { o += "- \(name): \(value)\n" }
        }
        return o
    }

    // MARK: JSON

    public static func json(_ m: TrendModel) -> JSONValue {
        func share(_ p: TrendModel.Period, _ n: Int) -> JSONValue { .double((p.share(n) * 10000).rounded() / 10000) }
        func counts(_ c: [TrendModel.Count], _ name: String, _ value: String) -> JSONValue {
            .array(c.map { .object([(name, .string($0.key)), (value, .int($0.count))]) })
        }
        let strings = { (s: [String]) in JSONValue.array(s.map(JSONValue.string)) }
        return .object([
            ("by", .string(m.by.rawValue)), ("generated_at", .string(m.generatedAt)), ("undated_sessions", .int(m.undated)),
            ("periods", .array(m.periods.map { p in
                .object([("period", .string(p.label)), ("first_day", .string(p.first)), ("sessions", .int(p.sessions)),
                         ("failed_logins", .int(p.failedLogins)), ("auth_failed_sessions", .int(p.authFailedSessions)),
                         ("crypto_fail_sessions", .int(p.cryptoFail)), ("crypto_warn_sessions", .int(p.cryptoWarn)),
                         ("terrapin_sessions", .int(p.terrapin)), ("share_crypto_fail", share(p, p.cryptoFail)),
                         ("share_crypto_warn", share(p, p.cryptoWarn)), ("share_terrapin", share(p, p.terrapin)),
                         ("weak_algorithms", .array(p.weakAlgorithms.map { w in
                             .object([("algorithm", .string(w.algorithm)), ("category", .string(w.category)), ("rating", .string(w.rating.rawValue)),
                                      ("sessions", .int(w.sessions))]) })),
                         ("clients", counts(p.clients, "client", "sessions")), ("sftpplus_versions", strings(p.sftpplusVersions)),
                         ("bytes_up", .int(p.bytesUp)), ("bytes_down", .int(p.bytesDown)),
                         ("failing_peers", counts(p.failingPeers, "peer", "failed_logins"))])
            })),
            ("changes", m.changes.map { c in
                .object([("from", .string(c.from)), ("to", .string(c.to)), ("new_weak_algorithms", strings(c.newWeakAlgorithms)),
                         ("new_clients", strings(c.newClients)), ("new_failing_peers", strings(c.newFailingPeers))])
            } ?? .null),
            ("sources", .array(m.sources.map { .object([("name", .string($0.name)), ("records", .int($0.records)),
                                                        ("sftpplus_versions", $0.versions.map(JSONValue.string) ?? .null)]) })),
        ])
    }

    // MARK: HTML

    /// One page: stacked bars of the crypto ratings' shares, lines of sessions
    /// and failed logins, then the tables. Inline SVG and CSS only.
    public static func html(_ m: TrendModel) -> String {
        let h = TextEscaper.html
        var o = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <title>SFTP/SSH posture by \(m.by.rawValue)</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
            h1{font-size:22px}h2{font-size:17px;margin-top:28px}
            table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
            td:first-child,th:first-child{text-align:left}.legend span{display:inline-block;margin-right:16px}
            .sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
            ul{margin:4px 0 12px}
            </style></head><body>
            <h1>SFTP/SSH posture by \(m.by.rawValue)</h1>
            <p>Generated \(h(m.generatedAt)) from \(m.sources.count) sources: \(m.periods.reduce(0) { $0 + $1.sessions }) sessions in \(m.periods.count) periods\(m.undated > 0 ? ", \(m.undated) without a time left out" : "").</p>

            """
        if !m.periods.isEmpty {
            o += "<h2>Sessions by the worst cryptography they negotiated</h2>\n"
            o += "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#c0392b\"></i>fail</span><span><i class=\"sw\" style=\"background:#e67e22\"></i>warn</span>"
            o += "<span><i class=\"sw\" style=\"background:#7fb77e\"></i>no weak finding</span><span><i class=\"sw\" style=\"background:#34495e\"></i>exposed to Terrapin (line)</span></p>\n"
            o += stackedBars(m.periods)
            o += "<h2>Sessions and failed logins</h2>\n"
            o += "<p class=\"legend\"><span><i class=\"sw\" style=\"background:#2e86c1\"></i>sessions</span><span><i class=\"sw\" style=\"background:#c0392b\"></i>failed logins</span></p>\n"
            o += lines(m.periods)
        }
        o += "<h2>Periods</h2>\n<table><tr><th>period</th><th>from</th><th>sessions</th><th>failed logins</th><th>fail crypto</th><th>warn crypto</th><th>terrapin</th><th>up</th><th>down</th></tr>\n"
        for p in m.periods {
            o += "<tr><td>\(h(p.label))</td><td>\(h(p.first))</td><td>\(p.sessions)</td><td>\(p.failedLogins)</td><td>\(percent(p.share(p.cryptoFail)))</td>"
            o += "<td>\(percent(p.share(p.cryptoWarn)))</td><td>\(percent(p.share(p.terrapin)))</td><td>\(h(Human.bytes(p.bytesUp)))</td><td>\(h(Human.bytes(p.bytesDown)))</td></tr>\n"
        }
        o += "</table>\n"
        if let c = m.changes {
            o += "<h2>New in \(h(c.to)) against \(h(c.from))</h2>\n<ul>" + details(c, h).map { "<li>\($0): \($1)</li>" }.joined() + "</ul>\n"
        }
        for p in m.periods.reversed() where p.sessions > 0 {
            o += "<h2>\(h(p.label))</h2>\n<ul>" + details(p, h).map { "<li>\($0): \($1)</li>" }.joined() + "</ul>\n"
        }
        return o + "</body></html>\n"
    }

    static let chartWidth = 1120.0, chartHeight = 220.0, left = 48.0, bottom = 28.0

    static func axisLabels(_ periods: [TrendModel.Period], _ x: (Int) -> Double) -> String {
        let every = max(1, periods.count / 12)
        var o = ""
        for (i, p) in periods.enumerated() where i % every == 0 {
            o += "<text x=\"\(f(x(i)))\" y=\"\(f(chartHeight - 8))\" font-size=\"11\" text-anchor=\"middle\">\(TextEscaper.html(p.label))</text>"
        }
        return o
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func stackedBars(_ periods: [TrendModel.Period]) -> String {
        let plot = chartHeight - bottom - 10, slot = (chartWidth - left - 10) / Double(periods.count)
        let bar = max(1, slot * 0.8)
        var o = "<svg width=\"\(Int(chartWidth) + 40)\" height=\"\(Int(chartHeight))\" role=\"img\" aria-label=\"shares of sessions by rating\">"
        o += "<line x1=\"\(left)\" y1=\"10\" x2=\"\(left)\" y2=\"\(f(10 + plot))\" stroke=\"#888\"/>"
        for pct in [0, 50, 100] {
            let y = 10 + plot * (1 - Double(pct) / 100)
            o += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" font-size=\"11\" text-anchor=\"end\">\(pct)%</text>"
        }
        var terrapin: [String] = []
        for (i, p) in periods.enumerated() {
            let x = left + slot * Double(i) + (slot - bar) / 2
            var y = 10 + plot
            for (n, colour) in [(p.cryptoFail, "#c0392b"), (p.cryptoWarn, "#e67e22"), (p.sessions - p.cryptoFail - p.cryptoWarn, "#7fb77e")] where p.sessions > 0 {
                let hgt = plot * p.share(n)
                y -= hgt
                o += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(bar))\" height=\"\(f(hgt))\" fill=\"\(colour)\"><title>\(TextEscaper.html(p.label)): \(n) of \(p.sessions)</title></rect>"
            }
            if p.sessions > 0 { terrapin.append("\(f(x + bar / 2)),\(f(10 + plot * (1 - p.share(p.terrapin))))") }
        }
        if terrapin.count > 1 { o += "<polyline points=\"\(terrapin.joined(separator: " "))\" fill=\"none\" stroke=\"#34495e\" stroke-width=\"2\"/>" }
        return o + axisLabels(periods) { left + slot * Double($0) + slot / 2 } + "</svg>\n"
    }

    static func lines(_ periods: [TrendModel.Period]) -> String {
        let plot = chartHeight - bottom - 10, slot = (chartWidth - left - 10) / Double(periods.count)
        let top = Double(max(1, periods.map { max($0.sessions, $0.failedLogins) }.max() ?? 1))
        var o = "<svg width=\"\(Int(chartWidth) + 40)\" height=\"\(Int(chartHeight))\" role=\"img\" aria-label=\"sessions and failed logins\">"
        o += "<line x1=\"\(left)\" y1=\"10\" x2=\"\(left)\" y2=\"\(f(10 + plot))\" stroke=\"#888\"/>"
        o += "<text x=\"\(f(left - 6))\" y=\"14\" font-size=\"11\" text-anchor=\"end\">\(Int(top))</text>"
        o += "<text x=\"\(f(left - 6))\" y=\"\(f(14 + plot))\" font-size=\"11\" text-anchor=\"end\">0</text>"
        for (values, colour) in [(periods.map(\.sessions), "#2e86c1"), (periods.map(\.failedLogins), "#c0392b")] {
            let pts = values.enumerated().map { "\(f(left + slot * Double($0.offset) + slot / 2)),\(f(10 + plot * (1 - Double($0.element) / top)))" }
            if pts.count == 1 {
                let xy = pts[0].split(separator: ",")
                o += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"4\" fill=\"\(colour)\"/>"
            } else {
                o += "<polyline points=\"\(pts.joined(separator: " "))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
            }
        }
        return o + axisLabels(periods) { left + slot * Double($0) + slot / 2 } + "</svg>\n"
    }
}
