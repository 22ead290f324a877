import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// All escaping of log content for people and programs lives here.
public enum TextEscaper {
    /// Makes text safe for a terminal: C0/C1 controls, DEL and ESC become visible
    /// escapes (`\e`, `\x07`, `\u{9b}`), so a username like `\e]0;pwned\a` cannot
    /// retitle the terminal or move the cursor. Tabs and newlines too: one record, one line.
    public static func terminalSafe(_ s: String) -> String {
        var needs = false
        for u in s.unicodeScalars where isUnsafe(u) { needs = true; break }
        if !needs { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 8)
        for u in s.unicodeScalars {
            if !isUnsafe(u) { out.unicodeScalars.append(u); continue }
            switch u.value {
            case 0x1B: out += "\\e"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7F: out += "\\x" + String(u.value, radix: 16).leftPadded(2)
            default: out += "\\u{" + String(u.value, radix: 16) + "}"
            }
        }
        return out
    }

    @inline(__always) static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        // C0, DEL, C1, and bidi overrides/isolates that can disguise text.
        return v < 0x20 || v == 0x7F || (v >= 0x80 && v < 0xA0) || (v >= 0x202A && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069)
    }

    /// Escapes text for HTML element content and attribute values.
    public static func html(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if u.value < 0x20 && u != "\n" && u != "\t" { out += "&#\(u.value);" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    /// One CSV cell (RFC 4180). Cells starting with `=`, `+`, `-`, `@`, tab or CR
    /// get a leading `'` so spreadsheets show them as text instead of running
    /// them as formulas (OWASP's recommendation for CSV injection).
    public static func csvCell(_ s: String) -> String {
        var v = s
        if let f = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(f) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return v
    }
}
