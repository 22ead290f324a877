import Foundation
import SFTPLogRecords
import SFTPLogCatalog

/// sftp and scp: requests, uploads and downloads, scp's ssh command, the totals of a run.
extension OpenSSHLineClassifier {
    /// The values of a message read by one of this area's extractors (`openssh-events.json`);
    /// `.none` when `name` is not one of them.
    mutating func transferValues(_ name: String, _ r: Substring) -> [(String, JSONValue)]?? {
        typealias T = OpenSSHText
        func str(_ x: Substring) -> JSONValue { .string(String(x)) }
        switch name {
        case "fxp_request": return fxpRequest(r)
        case "transfer": return transferOp(r).extra
        case "transferred": return transferredLine(r).extra
        case "exec":
            // scp's `-v`: `Executing: program /usr/bin/ssh host H, user U, command sftp`
            var e: [(String, JSONValue)] = [("event", .string("exec")), ("program", .string("scp"))]
            for part in r.split(separator: ",") {
                let p = part.trimmingSpaces
                if let h = T.after(p, "host ") ?? T.split2(p, " host ").map({ $0.1 }) { e.append(("host", str(h))) }
                if let u = T.after(p, "user ") { e.append(("user", str(u))) }
                if let c = T.after(p, "command ") { e.append(("command", str(c))) }
            }
            return e
        case "file_not_found":
            guard r.hasSuffix("\" not found.") else { return .some(nil) }
            return [("event", .string("error")), ("path", str(r.dropLast(12))), ("error", .string("File \"" + r))]
        default:
            return .none
        }
    }

    func transferred(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("transferred"))]
        // "sent N, received M bytes, in S seconds"
        if let s = T.after(r, "sent "), let (sent, rest) = T.split2(s, ", received ") {
            e.append(("bytes_sent", T.int(sent).map(JSONValue.int) ?? .null))
            if let (recv, tail) = T.split2(rest, " bytes") {
                e.append(("bytes_received", T.int(recv).map(JSONValue.int) ?? .null))
                if let (secs, _) = T.after(tail, ", in ").flatMap({ T.split2($0, " second") }) {
                    e.append(("seconds", T.double(secs).map(JSONValue.double) ?? .null))
                }
            }
        } else if let s = T.after(r, "stdin ") {
            // ≤5.0: "stdin N, stdout N, stderr N bytes in S seconds"
            let parts = s.split(separator: ",")
            if parts.count == 3 {
                e.append(("stdin", T.int(parts[0]).map(JSONValue.int) ?? .null))
                if let o = T.after(parts[1].trimmingSpaces, "stdout ") { e.append(("stdout", T.int(o).map(JSONValue.int) ?? .null)) }
                if let x = T.after(parts[2].trimmingSpaces, "stderr "), let (n, tail) = T.split2(x, " bytes") {
                    e.append(("stderr", T.int(n).map(JSONValue.int) ?? .null))
                    if let (secs, _) = T.after(tail, " in ").flatMap({ T.split2($0, " second") }) {
                        e.append(("seconds", T.double(secs).map(JSONValue.double) ?? .null))
                    }
                }
            }
        }
        return e
    }

    func fxpRequest(_ r: Substring) -> [(String, JSONValue)] {
        let type = r.prefix(while: { $0 != " " && $0 != "(" })
        var e: [(String, JSONValue)] = [("event", .string("request")), ("type", .string(String(type)))]
        if let (p, rest) = OpenSSHText.firstQuoted(r) {
            e.append(("path", .string(p)))
            if let (to, _) = OpenSSHText.firstQuoted(rest) { e.append(("to", .string(to))) }
        }
        return e
    }

    func transferOp(_ r: Substring) -> Result {
        typealias T = OpenSSHText
        // download [dir ]remote "<r>" to local "<l>" / upload [local dir|local] "<l>" to remote "<r>"
        let isDownload = r.hasBytePrefix("download")
        var e: [(String, JSONValue)] = [("event", .string(isDownload ? "download" : "upload"))]
        if let (a, rest) = T.firstQuoted(r), let (b, _) = T.firstQuoted(rest) {
            if isDownload {
                e.append(("remote", .string(a))); e.append(("local", .string(b)))
            } else {
                e.append(("local", .string(a))); e.append(("remote", .string(b)))
            }
        }
        if T.contains(r, " dir ") { e.append(("directory", .bool(true))) }
        return Result(kind: .opensshSFTP, extra: e)
    }

    func sftpCommand(_ r: Substring) -> [(String, JSONValue)] {
        var cmd = r
        if cmd.hasBytePrefix(" ") { cmd = cmd.dropFirst() }
        var e: [(String, JSONValue)] = [("event", .string("command")), ("command", .string(String(cmd)))]
        var w = OpenSSHText.words(cmd)
        var ignore = false
        if var first = w.first {
            if first.hasPrefix("-") && first.count > 1 { ignore = true; first.removeFirst() }
            if first.hasPrefix("@") && first.count > 1 { first.removeFirst() }
            w[0] = first
            e.append(("op", .string(first)))
            e.append(("args", .array(w.dropFirst().map(JSONValue.string))))
        }
        e.append(("ignore_errors", .bool(ignore)))
        return e
    }

    /// `Transferred:` is the client's last line: nothing after it is remote output.
    mutating func transferredLine(_ r: Substring) -> Result {
        inChannel = false
        afterCommand = false
        return Result(kind: .opensshTransfer, extra: transferred(r))
    }

    /// The progress meter of scp and sftp: `name   100% 3016    20.5MB/s   00:00`.
    func scpProgress(_ s: Substring) -> [(String, JSONValue)]? {
        let words = s.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count >= 5, let pct = words.firstIndex(where: { $0.hasSuffix("%") && Int($0.dropLast()) != nil }), pct >= 1,
              pct + 3 < words.count || (pct + 3 == words.count) else { return nil }
        let eta = words[words.count - 1]
        guard eta.contains(":") || eta == "ETA" else { return nil }
        return [("event", .string("progress")), ("file", .string(words[..<pct].joined(separator: " "))),
                ("percent", .int(Int(words[pct].dropLast())!))]
    }
}
