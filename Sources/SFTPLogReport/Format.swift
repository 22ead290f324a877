import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// Human formatting shared by reports.
public enum Human {
    public static func bytes(_ n: Int?) -> String {
        guard let n else { return "-" }
        let units = ["B", "K", "M", "G", "T"]
        var v = Double(n)
        var u = 0
        while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        if u == 0 { return "\(n)B" }
        return (v >= 100 ? String(format: "%.0f", v) : String(format: "%.1f", v)) + units[u]
    }

    public static func duration(_ s: Double?) -> String {
        guard let s, s.isFinite else { return "-" }
        if s < 60 { return s < 10 ? String(format: "%.1fs", s) : "\(Int(s.rounded()))s" }
        let m = whole(s) / 60, sec = whole(s) % 60
        if m < 60 { return "\(m)m\(String(sec).leftPadded(2))s" }
        return "\(m / 60)h\(String(m % 60).leftPadded(2))m"
    }

    public static func rate(_ bps: Double?) -> String {
        guard let bps, bps.isFinite else { return "-" }
        return bytes(whole(bps)) + "/s"
    }

    /// `v` without its fraction, held at Int's ends: a log can write any number,
    /// and converting one past them traps.
    static func whole(_ v: Double) -> Int {
        v >= 0x1p63 ? .max : v <= -0x1p63 ? .min : Int(v)
    }

    /// "2025-11-21 08:14:20" from a timestamp as written (offset dropped; see `zoneLabel`).
    public static func clock(_ ts: LogTimestamp?) -> String {
        guard let t = ts else { return "-" }
        return "\(t.year)-\(String(t.month).leftPadded(2))-\(String(t.day).leftPadded(2)) "
            + "\(String(t.hour).leftPadded(2)):\(String(t.minute).leftPadded(2)):\(String(t.second).leftPadded(2))"
    }

    /// Word-wraps text to `width`, every line indented by `indent` spaces.
    public static func wrap(_ text: String, indent: Int, width: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        var out = "", line = ""
        for w in text.split(separator: " ") {
            var word = Substring(w)
            if !line.isEmpty && indent + line.count + 1 + word.count > width {
                out += pad + line + "\n"; line = ""
            }
            // A word longer than the line (a long path) is cut into line-sized pieces.
            while indent + word.count > width && width - indent > 10 {
                out += pad + word.prefix(width - indent) + "\n"
                word = word.dropFirst(width - indent)
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { out += pad + line + "\n" }
        return out
    }

    public static func zoneLabel(_ ts: LogTimestamp?) -> String {
        guard let t = ts else { return "" }
        if t.zulu { return "UTC" }
        if let o = t.offsetSeconds { return "UTC" + LogTimestamp.renderOffset(o) }
        return "log time (no zone)"
    }
}

extension String {
    func trimmingTrailing() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
