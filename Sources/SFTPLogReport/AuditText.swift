import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// `audit`'s text: each flagged session with its findings, then the totals by algorithm.
extension AuditResult {
    public func text(width: Int = 80) -> String {
        var out = ""
        // Sessions share a handful of reasons; wrap each once.
        var wrapped: [String: String] = [:]
        if flagged.isEmpty {
            out += "No findings at or above \(minRating.rawValue) in \(sessionsTotal) sessions (policy \(policyName)).\n"
        } else {
            for s in flagged {
                let when = s.start.map { Human.clock($0) + " " + Human.zoneLabel($0) } ?? "(no timestamps)"
                let who = TextEscaper.terminalSafe(s.user ?? "-")
                let peer = s.peer.map { TextEscaper.terminalSafe($0.address + ($0.port.map { ":\($0)" } ?? "")) } ?? "-"
                let file = TextEscaper.terminalSafe(s.file.split(separator: "/").last.map(String.init) ?? s.file)
                out += "\(when)  \(who) @ \(peer)  [\(file):\(s.firstLine), session \(s.id)]\n"
                for f in s.findings {
                    let dir = f.direction.map { $0 == "both" ? "" : " (\($0))" } ?? ""
                    out += "  " + f.rating.rawValue.fitted(5) + " "
                        + f.category.rawValue.fitted(12) + TextEscaper.terminalSafe(f.algorithm) + dir + "\n"
                    let reason = f.reason + (f.reference.isEmpty ? "" : " [\(f.reference)]")
                    if wrapped[reason] == nil { wrapped[reason] = Human.wrap(reason, indent: 8, width: width) }
                    out += wrapped[reason]!
                }
            }
            out += "\nBy algorithm (policy \(policyName), \(flagged.count) of \(sessionsTotal) sessions flagged):\n"
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
