import Foundation
import SFTPLogRecords
import SFTPLogCatalog

extension RecordKind {
    /// A shell prompt with what was typed after it (`$ ssh -v user@host`, `PS C:\> sftp …`).
    public static let pasteCommand = RecordKind("paste.command")
    /// A shell prompt with nothing typed after it.
    public static let pastePrompt = RecordKind("paste.prompt")
    /// A note the person pasting added (`# first try`, `####`).
    public static let pasteAnnotation = RecordKind("paste.annotation")
    /// Text left out (`...`, `[...]`, `<snip>`) or blanked (`****`, `[REDACTED]`).
    public static let pasteElision = RecordKind("paste.elision")
    /// Forum or Markdown markup around the paste (`[code]`, ```` ``` ````).
    public static let pasteMarkup = RecordKind("paste.markup")
    /// `^C`: the run was interrupted from the keyboard.
    public static let pasteInterrupt = RecordKind("paste.interrupt")
    /// The rest of the previous line, wrapped by a terminal.
    public static let pasteWrapped = RecordKind("paste.wrapped")

    public static let pasteKinds: [RecordKind] = [.pastePrompt, .pasteCommand, .pasteAnnotation, .pasteElision, .pasteMarkup,
                                                  .pasteInterrupt, .pasteWrapped]
}

/// What a shell command line says about the client run it starts.
struct ClientCommand: Equatable {
    /// `ssh`, `sftp` or `scp`; nil for any other command.
    var tool: String?
    var user: String?
    var host: String?
    var port: Int?
    /// How many `-v` the command gave (at most 3 count).
    var verbosity = 0
}

/// Text that people paste around client output: shell prompts and command
/// lines, notes, elisions, redactions and forum markup. Recognised by shape,
/// without regular expressions.
package enum PasteLines {
    /// The command typed after a shell prompt: `$ cmd`, `user@host:~$ cmd`,
    /// `[user@host ~]$ cmd`, `host% cmd`, `C:\Users\x> cmd`, `PS C:\> cmd`,
    /// `# cmd` (root, only for ssh/sftp/scp). Nil when the line is no prompt.
    package static func command(_ s: Substring) -> (prompt: Substring, command: Substring)? {
        let u = s.utf8
        var i = u.startIndex
        var n = 0
        while i != u.endIndex, n < 80 {
            let c = u[i]
            if c == 0x24 || c == 0x23 || c == 0x25 || c == 0x3E {  // $ # % >
                let j = u.index(after: i)
                // cmd.exe writes the command right after `C:\Users\x>`.
                let windows = c == 0x3E && isWindowsPath(Substring(u[u.startIndex..<i]))
                if j == u.endIndex || u[j] == 0x20 || windows {
                    let prompt = Substring(u[u.startIndex..<j])
                    let cmd = j == u.endIndex ? Substring("")
                        : Substring(u[(u[j] == 0x20 ? u.index(after: j) : j)...]).trimmingSpaces
                    guard isPrompt(prompt) else { return nil }
                    // `#` is also how notes begin: a root prompt only before a client command.
                    if c == 0x23, prompt.utf8.count == 1, clientTool(cmd) == nil { return nil }
                    if c == 0x3E, prompt.utf8.count == 1 { return nil }
                    return (prompt, cmd)
                }
            }
            // A prompt has no ": " (log lines do: `debug1: …`, `Warning: …`).
            if c == 0x3A, u.index(after: i) != u.endIndex, u[u.index(after: i)] == 0x20 { return nil }
            i = u.index(after: i)
            n += 1
        }
        return nil
    }

    /// The part before `$`/`#`/`%`/`>` looks like a prompt: empty, `user@host:path`,
    /// `[user@host dir]`, `host`, `C:\path`, `PS C:\path`.
    static func isPrompt(_ p: Substring) -> Bool {
        let body = p.dropLast()
        if body.isEmpty { return true }
        if body.hasBytePrefix("PS ") { return true }
        if isWindowsPath(body) { return true }
        if body.hasBytePrefix("[") && body.hasSuffix("]") { return true }
        // `user@host:~`, `host:~/dir`, `dana@MacBook-Pro ~ `: no spaces except before `~`/a dir at the end.
        let words = body.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = words.first, words.count <= 3 else { return false }
        if first.contains("@") || first.hasSuffix(":~") || first.contains(":/") || first.contains(":~") { return true }
        return words.count == 1 && first.first?.isLetter == true && first.utf8.count <= 32
            && first.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    /// A drive path: `C:\Users\dana`.
    static func isWindowsPath(_ s: Substring) -> Bool {
        let u = Array(s.utf8.prefix(3))
        return u.count == 3 && (u[0] | 0x20) >= 0x61 && (u[0] | 0x20) <= 0x7A && u[1] == 0x3A && u[2] == 0x5C && !s.contains(" ")
    }

    /// `ssh`, `sftp` or `scp` when `cmd` runs one of them (also a path, `.exe`).
    package static func clientTool(_ cmd: Substring) -> String? {
        guard let first = cmd.split(separator: " ", maxSplits: 1).first else { return nil }
        var name = first.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? String(first)
        name = name.lowercased()
        if name.hasSuffix(".exe") { name.removeLast(4) }
        if name.hasPrefix("\"") { name.removeFirst() }
        switch name {
        case "ssh", "slogin": return "ssh"
        case "sftp": return "sftp"
        case "scp": return "scp"
        default: return nil
        }
    }

    /// User, host and port given on an ssh/sftp/scp command line.
    static func parse(_ cmd: Substring) -> ClientCommand {
        var out = ClientCommand(tool: clientTool(cmd))
        guard let tool = out.tool else { return out }
        let words = OpenSSHText.words(cmd).dropFirst()
        let withArgument: Set<Character> = tool == "ssh"
            ? ["B", "b", "c", "D", "E", "e", "F", "I", "i", "J", "L", "l", "m", "O", "o", "p", "Q", "R", "S", "W", "w"]
            : ["B", "b", "c", "D", "F", "i", "J", "l", "o", "P", "R", "S", "s", "X"]
        var operands: [String] = []
        var it = words.makeIterator()
        func option(_ flag: Character, _ value: String) {
            switch flag {
            case "l" where tool == "ssh": out.user = value
            case "p" where tool == "ssh", "P" where tool != "ssh": out.port = Int(value)
            case "o":
                let kv = value.split(maxSplits: 1, whereSeparator: { $0 == "=" || $0 == " " })
                guard kv.count == 2 else { return }
                switch kv[0].lowercased() {
                case "user": out.user = String(kv[1])
                case "port": out.port = Int(kv[1])
                default: break
                }
            default: break
            }
        }
        var optionsDone = false
        while let w = it.next() {
            if !optionsDone, w == "--" { optionsDone = true; continue }
            if !optionsDone, w.hasPrefix("-"), w.count > 1 {
                var flags = Array(w.dropFirst())
                while let f = flags.first {
                    flags.removeFirst()
                    if f == "v" { out.verbosity = min(3, out.verbosity + 1) }
                    if withArgument.contains(f) {
                        let value = flags.isEmpty ? (it.next() ?? "") : String(flags)
                        option(f, value)
                        break
                    }
                }
                continue
            }
            operands.append(w)
            if tool == "ssh" { break }  // the rest is the remote command
        }
        var destination: String?
        if tool == "scp" {
            destination = operands.first { o in
                if o.hasPrefix("scp://") { return true }
                guard let colon = o.firstIndex(of: ":") else { return false }
                // `C:\…` and `./a:b` are local paths.
                let before = o[..<colon]
                return !(before.count == 1 && o.dropFirst(2).first == "\\") && !before.contains("/")
            }
        } else {
            destination = operands.first
        }
        guard var d = destination else { return out }
        for scheme in ["ssh://", "sftp://", "scp://"] where d.hasPrefix(scheme) {
            d.removeFirst(scheme.count)
            if let slash = d.firstIndex(of: "/") { d = String(d[..<slash]) }
            if let colon = d.lastIndex(of: ":"), !d.hasSuffix("]"), let p = Int(d[d.index(after: colon)...]) {
                out.port = out.port ?? p
                d = String(d[..<colon])
            }
        }
        if let at = d.lastIndex(of: "@") {
            if out.user == nil { out.user = String(d[..<at]) }
            d = String(d[d.index(after: at)...])
        }
        if tool != "ssh" {
            // `host:path`, `[v6]:path`
            if d.hasPrefix("["), let close = d.firstIndex(of: "]") {
                d = String(d[d.index(after: d.startIndex)..<close])
            } else if let colon = d.firstIndex(of: ":") {
                d = String(d[..<colon])
            }
        }
        if !d.isEmpty { out.host = d }
        return out
    }

    /// A prompt printed on a line of its own before the `$` line (Git Bash, MSYS2):
    /// `user@HOST MINGW64 ~/src (main)`.
    static func isPromptHeader(_ s: Substring) -> Bool {
        let words = s.split(separator: " ", maxSplits: 3)
        guard words.count >= 3, words[0].contains("@") else { return false }
        return ["MINGW64", "MINGW32", "MSYS", "UCRT64", "CLANG64"].contains(String(words[1]))
    }

    /// `# note`, `## heading`, `// note`, `####`.
    static func isAnnotation(_ s: Substring) -> Bool {
        s.hasBytePrefix("#") || s.hasBytePrefix("//") || s.hasBytePrefix("<!--") || s.hasBytePrefix("-->")
    }

    /// `...`, `…`, `[...]`, `<snip>`, `[ 40 lines removed ]`, or a line that is only a redaction.
    static func isElision(_ s: Substring) -> Bool {
        let t = s.trimmingSpaces
        guard !t.isEmpty, t.utf8.count <= 240 else { return false }
        if t.allSatisfy({ $0 == "." || $0 == "…" }) { return t.count >= 2 || t == "…" }
        if isRedacted(t) { return true }
        let lower = t.lowercased()
        let wrapped = (t.first == "[" && t.last == "]") || (t.first == "<" && t.last == ">") || (t.first == "(" && t.last == ")")
        if wrapped {
            let inner = lower.dropFirst().dropLast()
            return inner.contains("...") || inner.contains("…") || inner.contains("snip") || inner.contains("removed")
                || inner.contains("omitted") || inner.contains("truncated") || inner.contains("cut")
        }
        return lower == "snip" || lower.hasPrefix("--- snip") || lower.hasPrefix("---8<") || lower.hasPrefix("-- 8<")
    }

    /// A value blanked out before pasting: `x.x.x.x`, `A.B.C.D`, `****`, `[REDACTED]`, `<hidden>`.
    static func isRedacted(_ v: Substring) -> Bool {
        let lower = v.lowercased()
        if lower.contains("redacted") || lower == "<hidden>" || lower == "[hidden]" || lower == "<removed>" { return true }
        if !v.isEmpty, v.allSatisfy({ $0 == "*" }) { return v.count >= 3 }
        // Dotted or coloned placeholders made only of x/X/* (x.x.x.x, XXX.XXX.XXX.XXX, xxxx:xxxx::x).
        let sep = v.contains(".") || v.contains(":")
        if sep, v.allSatisfy({ $0 == "x" || $0 == "X" || $0 == "*" || $0 == "." || $0 == ":" }), v.contains(where: { $0 != "." && $0 != ":" }) { return true }
        // A.B.C.D / a.b.c.d / w.x.y.z: four single letters.
        let parts = v.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ $0.count == 1 && $0.first!.isLetter }) { return true }
        // A placeholder host: `<host>`, `<server>`, `[server]`, `yourserver`.
        if (v.first == "<" && v.last == ">") || lower == "hostname" || lower == "host.example" { return v.count > 2 }
        return false
    }

    /// Whether one of `inlineTags` (or `[email=`) occurs: a byte scan, since most
    /// client lines hold `[` or `<` (`[192.0.2.1]`, `<implicit>`) but no markup.
    static func hasInlineTag(_ s: Substring) -> Bool {
        var s = s
        return s.withUTF8 { b in
            var i = 0
            while i < b.count {
                let c = b[i]
                if c == 0x5B || c == 0x3C, i + 1 < b.count {
                    for tag in inlineTagBytes where tag[0] == c && i + tag.count <= b.count {
                        var k = 1
                        while k < tag.count && b[i + k] == tag[k] { k += 1 }
                        if k == tag.count { return true }
                    }
                }
                i += 1
            }
            return false
        }
    }

    static let inlineTagBytes: [[UInt8]] = (inlineTags + ["[email="]).map { Array($0.utf8) }

    /// `[code]`, `[/code]`, `[quote]`, ```` ``` ````, `<pre>`, `</pre>` (a markup line of its own).
    static func isMarkup(_ s: Substring) -> Bool {
        let t = s.trimmingSpaces
        if t.hasBytePrefix("```") || t.hasBytePrefix("~~~") { return true }
        for tag in ["[code]", "[/code]", "[quote]", "[/quote]", "<pre>", "</pre>", "<code>", "</code>", "{code}", "{noformat}"] where t.lowercased() == tag { return true }
        if (t.hasBytePrefix("[code") || t.hasBytePrefix("[quote")) && t.hasSuffix("]") { return true }
        return false
    }

    /// Markup that wraps text inside a line (`[email]a@b[/email]`, `[b]`, `[/b]`), and the
    /// markup that opens a line before client output (`[code]debug1: …`): removed before reading.
    static let inlineTags = ["[email]", "[/email]", "[url]", "[/url]", "[b]", "[/b]", "[i]", "[/i]", "[code]", "[/code]", "<code>", "</code>"]

    static func withoutInlineMarkup(_ s: Substring) -> Substring {
        guard hasInlineTag(s) else { return s }
        var t = String(s)
        for tag in inlineTags where t.contains(tag) { t = t.replacingOccurrences(of: tag, with: "") }
        // `[email=a@b]a@b[/email]`
        while let open = t.range(of: "[email="), let close = t.range(of: "]", range: open.upperBound..<t.endIndex) {
            t.removeSubrange(open.lowerBound..<close.upperBound)
        }
        // A line of markup alone is a markup line, not an empty one.
        return t.allSatisfy({ $0 == " " || $0 == "\t" }) ? s : t[...]
    }
}
