import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// `audit`'s text: each flagged session with its findings, then the totals by algorithm.
extension AuditResult {
    /// What the text's lines share from session to session: the wrapped reasons
    /// and padded labels (sessions share a handful of each).
    public struct TextStyle {
        let width: Int
        var wrapped: [String: String] = [:]
        var ratings: [String: String] = [:], categories: [String: String] = [:]
        public init(width: Int) { self.width = width }

        mutating func label(_ raw: String, _ width: Int, _ which: WritableKeyPath<TextStyle, [String: String]>) -> String {
            if let l = self[keyPath: which][raw] { return l }
            let l = raw.fitted(width)
            self[keyPath: which][raw] = l
            return l
        }
    }

    public func text(width: Int = 80) -> String {
        var out = ""
        var style = TextStyle(width: width)
        for s in flagged { AuditResult.sessionText(s, into: &out, style: &style) }
        out += summaryText()
        return out
    }

    /// A flagged session's lines: its header, then each finding with its reason.
    /// Each finding's line is appended piece by piece, its padded labels made once
    /// per rating and category: building every line from temporary strings was most
    /// of the text's cost on a large log.
    public static func sessionText(_ s: SessionTimeline, into out: inout String, style: inout TextStyle) {
        let when = s.start.map { Human.clock($0) + " " + Human.zoneLabel($0) } ?? "(no timestamps)"
        let who = TextEscaper.terminalSafe(s.user ?? "-")
        let peer = s.peer.map { TextEscaper.terminalSafe($0.address + ($0.port.map { ":\($0)" } ?? "")) } ?? "-"
        let file = TextEscaper.terminalSafe(s.file.split(separator: "/").last.map(String.init) ?? s.file)
        out += "\(when)  \(who) @ \(peer)  [\(file):\(s.firstLine), session \(s.id)]\n"
        for f in s.findings {
            out += "  "
            out += style.label(f.rating.rawValue, 5, \.ratings)
            out += " "
            out += style.label(f.category.rawValue, 12, \.categories)
            out += TextEscaper.terminalSafe(f.algorithm)
            if let d = f.direction, d != "both" { out += " ("; out += d; out += ")" }
            out += "\n"
            let reason = f.reference.isEmpty ? f.reason : f.reason + " [\(f.reference)]"
            if let w = style.wrapped[reason] {
                out += w
            } else {
                let w = Human.wrap(reason, indent: 8, width: style.width)
                style.wrapped[reason] = w
                out += w
            }
        }
    }

    /// What follows the sessions: the totals by algorithm and Terrapin's, or that nothing was found.
    public func summaryText() -> String {
        var out = ""
        if flaggedCount == 0 {
            out += "No findings at or above \(minRating.rawValue) in \(sessionsTotal) sessions (policy \(policyName)).\n"
        } else {
            out += "\nBy algorithm (policy \(policyName), \(flaggedCount) of \(sessionsTotal) sessions flagged):\n"
            for l in byAlgorithm {
                let label = l.category == .terrapin ? "Terrapin via \(l.algorithm)" : l.algorithm
                out += "  \(l.rating.rawValue.fitted(5)) \(TextEscaper.terminalSafe(label)): \(l.sessions) session\(l.sessions == 1 ? "" : "s") from \(l.peers) peer\(l.peers == 1 ? "" : "s")\n"
            }
        }
        if terrapinVulnerable > 0 { out += "Terrapin (CVE-2023-48795): \(terrapinVulnerable) session\(terrapinVulnerable == 1 ? "" : "s") vulnerable.\n" }
        if terrapinUnknown > 0 { out += "Terrapin: \(terrapinUnknown) session\(terrapinUnknown == 1 ? "" : "s") cannot be decided (strict KEX not visible in the log).\n" }
        return out
    }
}
