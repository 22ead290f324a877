import Foundation
import SFTPLogRecords
import SFTPLogCatalog

/// Small prefix/substring scanners used by the OpenSSH stage. No regular
/// expressions: every helper walks the text once.
enum OpenSSHText {
    /// `debugN: ` at the start of text: the level and the text after it.
    static func debugLevel(_ s: Substring) -> (Int, Substring)? {
        let u = s.utf8
        var i = u.startIndex
        for c in "debug".utf8 {
            guard i != u.endIndex, u[i] == c else { return nil }
            i = u.index(after: i)
        }
        guard i != u.endIndex, u[i] >= 0x30, u[i] <= 0x39 else { return nil }
        let level = Int(u[i] - 0x30)
        i = u.index(after: i)
        guard i != u.endIndex, u[i] == 0x3A else { return nil }
        i = u.index(after: i)
        if i != u.endIndex {
            guard u[i] == 0x20 else { return nil }
            i = u.index(after: i)
        }
        return (level, Substring(u[i...]))
    }

    /// Text after `prefix`, or nil. Compared byte for byte: `Substring.hasPrefix`
    /// and `dropFirst(prefix.count)` walk Characters (grapheme breaking), and this
    /// helper runs ~100 times per debug line.
    @inline(__always)
    static func after(_ s: Substring, _ prefix: String) -> Substring? {
        guard s.hasBytePrefix(prefix) else { return nil }
        let u = s.utf8
        return Substring(u[u.index(u.startIndex, offsetBy: prefix.utf8.count)...])
    }

    /// Index range of the first occurrence of `needle` in `s`. Searched with
    /// `memchr` on the contiguous UTF-8 (walking `Substring.UTF8View` index by
    /// index, with the needle copied into an array per call, was a sixth of an
    /// OpenSSH transcript's parsing).
    static func find(_ s: Substring, _ needle: String) -> Range<Substring.Index>? {
        var hay = s, needle = needle
        let found: Int? = hay.withUTF8 { h in
            needle.withUTF8 { n -> Int? in
                guard n.count > 0, h.count >= n.count, let hb = h.baseAddress, let nb = n.baseAddress else { return nil }
                // (Glibc's memmem is not visible to Swift: memchr for the first byte, then memcmp.)
                let last = h.count - n.count
                var i = 0
                while i <= last {
                    guard let p = memchr(hb + i, Int32(nb[0]), last - i + 1) else { return nil }
                    let at = UnsafeRawPointer(p) - UnsafeRawPointer(hb)
                    if memcmp(hb + at, nb, n.count) == 0 { return at }
                    i = at + 1
                }
                return nil
            }
        }
        guard let offset = found else { return nil }
        // UTF-8 offsets are the same in `s` whether or not `withUTF8` had to copy it.
        let u = s.utf8
        let lower = u.index(u.startIndex, offsetBy: offset)
        return lower..<u.index(lower, offsetBy: needle.utf8.count)
    }

    /// Last occurrence of `needle`.
    static func findLast(_ s: Substring, _ needle: String) -> Range<Substring.Index>? {
        var found: Range<Substring.Index>?
        var rest = s[...]
        while let r = find(rest, needle) {
            found = r
            rest = s[r.upperBound...]
        }
        return found
    }

    static func contains(_ s: Substring, _ needle: String) -> Bool { find(s, needle) != nil }

    /// Text before the first `sep` and after it.
    static func split2(_ s: Substring, _ sep: String) -> (Substring, Substring)? {
        guard let r = find(s, sep) else { return nil }
        return (s[s.startIndex..<r.lowerBound], s[r.upperBound...])
    }

    static func splitLast2(_ s: Substring, _ sep: String) -> (Substring, Substring)? {
        guard let r = findLast(s, sep) else { return nil }
        return (s[s.startIndex..<r.lowerBound], s[r.upperBound...])
    }

    /// Comma-separated names (empty entries dropped).
    static func list(_ s: Substring) -> [String] {
        // Byte-wise: `split` and trimming walk Characters (grapheme breaking), and
        // a -vvv transcript has ~20 proposal lists of ~15 names each.
        var s = s
        return s.withUTF8 { b in
            var out: [String] = []
            var start = 0
            func take(_ end: Int) {
                var lo = start, hi = end
                while lo < hi, b[lo] == 0x20 || b[lo] == 0x09 { lo += 1 }
                while hi > lo, b[hi - 1] == 0x20 || b[hi - 1] == 0x09 { hi -= 1 }
                if hi > lo { out.append(String(decoding: UnsafeBufferPointer(rebasing: b[lo..<hi]), as: UTF8.self)) }
            }
            for i in 0..<b.count where b[i] == 0x2C {
                take(i)
                start = i + 1
            }
            take(b.count)
            return out
        }
    }

    static func int(_ s: Substring) -> Int? {
        let t = s.trimmingSpaces
        guard !t.isEmpty, t.utf8.count <= 18 else { return nil }
        return Int(t)
    }

    /// A number where the text is one, else the text as written (a port, a code).
    static func intOrText(_ s: Substring) -> JSONValue {
        int(s).map(JSONValue.int) ?? .string(String(s))
    }

    static func double(_ s: Substring) -> Double? {
        let t = s.trimmingSpaces
        guard !t.isEmpty, t.count <= 40 else { return nil }
        return Double(t)
    }

    /// Strips a `function: ` prefix (identifier then colon-space). Nil when there is
    /// none. (`LogVerbose`'s tag is `logVerboseTag`'s.)
    static func stripFunction(_ s: Substring) -> Substring? {
        let u = s.utf8
        var i = u.startIndex
        var n = 0
        while i != u.endIndex {
            let c = u[i]
            let isIdent = (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F
            if isIdent { n += 1; i = u.index(after: i); continue }
            break
        }
        guard n > 0, i != u.endIndex else { return nil }
        if u[i] == 0x3A {
            let j = u.index(after: i)
            if j != u.endIndex, u[j] == 0x20 { return s[u.index(after: j)...] }
        }
        return nil
    }

    /// `-o LogVerbose`'s tag in front of a message: `kex.c:kex_buf2prop():443 (pid=7): `
    /// (9.x; older releases write `(bin=ssh, pid=7)`).
    static func logVerboseTag(_ s: Substring) -> (file: Substring, function: Substring, line: Int, rest: Substring)? {
        guard let (file, r1) = split2(s, ":"), file.hasSuffix(".c"), !file.contains(" "),
              let (function, r2) = split2(r1, "():"), !function.isEmpty, !function.contains(" "),
              let (number, r3) = split2(r2, " ("), let line = int(number),
              let (inside, rest) = split2(r3, "): "), inside.hasBytePrefix("pid=") || inside.hasBytePrefix("bin=") else { return nil }
        return (file, function, line, rest)
    }

    /// The first `"quoted"` string (backslash escapes kept as written).
    static func firstQuoted(_ s: Substring) -> (String, Substring)? {
        guard let q = s.firstIndex(of: "\"") else { return nil }
        var i = s.index(after: q)
        var out = ""
        while i < s.endIndex {
            let c = s[i]
            if c == "\\" {
                let n = s.index(after: i)
                if n < s.endIndex { out.append(s[n]); i = s.index(after: n); continue }
            }
            if c == "\"" { return (out, s[s.index(after: i)...]) }
            out.append(c)
            i = s.index(after: i)
        }
        return nil
    }

    /// Splits an sftp command line into words (quotes and backslashes as sftp does).
    static func words(_ s: Substring) -> [String] {
        var out: [String] = []
        var cur = ""
        var inWord = false
        var quote: Character?
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if let q = quote {
                if c == q { quote = nil }
                else if c == "\\" && q == "\"", s.index(after: i) < s.endIndex {
                    i = s.index(after: i); cur.append(s[i])
                } else { cur.append(c) }
            } else if c == " " || c == "\t" {
                if inWord { out.append(cur); cur = ""; inWord = false }
            } else if c == "\"" || c == "'" {
                quote = c; inWord = true
            } else if c == "\\", s.index(after: i) < s.endIndex {
                i = s.index(after: i); cur.append(s[i]); inWord = true
            } else {
                cur.append(c); inWord = true
            }
            i = s.index(after: i)
        }
        if inWord { out.append(cur) }
        return out
    }

    static func isAEAD(_ cipher: String) -> Bool {
        cipher == "chacha20-poly1305@openssh.com" || cipher.hasSuffix("-gcm@openssh.com") || cipher == "aes128-gcm" || cipher == "aes256-gcm"
    }
}

extension Substring {
    /// Without the spaces, tabs and CRs a line may end with.
    var trimmingTrailingSpace: Substring {
        let u = utf8
        var hi = u.endIndex
        while hi != u.startIndex {
            let before = u.index(before: hi)
            guard u[before] == 0x20 || u[before] == 0x09 || u[before] == 0x0D else { break }
            hi = before
        }
        return Substring(u[u.startIndex..<hi])
    }

    var trimmingSpaces: Substring {
        // On the UTF-8 view: ASCII spaces and tabs are never part of a longer character.
        let u = utf8
        var lo = u.startIndex, hi = u.endIndex
        while lo != hi, u[lo] == 0x20 || u[lo] == 0x09 { lo = u.index(after: lo) }
        while hi != lo {
            let before = u.index(before: hi)
            guard u[before] == 0x20 || u[before] == 0x09 else { break }
            hi = before
        }
        return Substring(u[lo..<hi])
    }

    /// `hasPrefix` byte for byte (see `OpenSSHText.after`). Differs from it only
    /// where the text continues the prefix's last character with a combining
    /// mark, which a log line's ASCII keywords never need.
    @inline(__always)
    func hasBytePrefix(_ prefix: String) -> Bool {
        var p = prefix
        return p.withUTF8 { pb in
            var i = utf8.startIndex
            for b in pb {
                guard i != utf8.endIndex, utf8[i] == b else { return false }
                i = utf8.index(after: i)
            }
            return true
        }
    }
}
