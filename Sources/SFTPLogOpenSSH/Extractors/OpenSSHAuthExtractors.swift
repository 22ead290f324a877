import Foundation
import SFTPLogRecords
import SFTPLogCatalog

/// Authentication and host keys: keys offered and accepted, who authenticated how, denials,
/// and the host-key warnings (offending, changed, unknown).
extension OpenSSHLineClassifier {
    /// The values of a message read by one of this area's extractors (`openssh-events.json`);
    /// `.none` when `name` is not one of them.
    mutating func authValues(_ name: String, _ r: Substring) -> [(String, JSONValue)]?? {
        typealias T = OpenSSHText
        func str(_ x: Substring) -> JSONValue { .string(String(x)) }
        switch name {
        case "offering": return offering(r)
        case "authenticating": return authenticating(r)
        case "accepts_key": return acceptsKey(r)
        case "will_attempt":
            return [("event", .string("will_attempt"))] + keyIdent(r)
        case "authenticated": return authenticated(r)
        case "denied":
            guard let (who, rest) = T.split2(r, "Permission denied (") else { return .some(nil) }
            var e: [(String, JSONValue)] = [("event", .string("denied"))]
            e.append(("methods", .array(T.list(T.split2(rest, ")")?.0 ?? rest).map(JSONValue.string))))
            if who.hasSuffix(": "), let (u, h) = T.splitLast2(who.dropLast(2), "@") {
                e.append(("user", str(u)))
                e.append(("host", str(h)))
            }
            return e
        case "offending":
            var e: [(String, JSONValue)] = [("event", .string("offending"))]
            if let (kt, fl) = T.split2(r, " key in ") ?? T.split2(r, " key for IP in ") {
                if kt != "key" { e.append(("key_type", str(kt))) }
                e += Array(fileLine(fl, event: "offending").dropFirst())
            }
            return e
        case "changed":
            var e: [(String, JSONValue)] = [("event", .string("changed"))]
            if let (pre, rest) = T.split2(r, "ost key for "), let (host, _) = T.split2(rest, " has changed") {
                e.append(("host", str(host)))
                let kt = pre.dropLast()  // "…H" of "Host"/"host"
                if kt.hasSuffix(" ") { e.append(("key_type", str(kt.dropLast()))) }
            }
            return e
        case "authenticity": return [("event", .string("authenticity_unknown")), ("host", str(T.splitLast2(r, "'")?.0 ?? r))]
        default:
            return .none
        }
    }

    func authenticating(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("authenticating"))]
        if let (hp, u) = T.split2(r, " as '") {
            if let (h, p) = T.splitLast2(hp, ":") {
                e.append(("host", .string(String(h))))
                e.append(("port", T.intOrText(p)))
            } else {
                e.append(("host", .string(String(hp))))
            }
            let user = u.hasSuffix("'") ? u.dropLast() : u
            e.append(("user", .string(String(user))))
        }
        return e
    }

    func authenticated(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("authenticated"))]
        guard let (host, rest) = T.split2(r, " (") else {
            e.append(("host", .string(String(r.hasSuffix(".") ? r.dropLast() : r))))
            return e
        }
        e.append(("host", .string(String(host))))
        if let (inner, tail) = T.split2(rest, ")") {
            if inner.hasBytePrefix("["), let (a, p) = T.splitLast2(inner.dropFirst(), "]:") {
                e.append(("address", .string(String(a))))
                e.append(("port", T.intOrText(p)))
            } else if inner == "via proxy" {
                e.append(("via_proxy", .bool(true)))
            }
            if let m = T.after(tail, " using \"") {
                e.append(("method", .string(String(T.split2(m, "\"")?.0 ?? m))))
            }
        }
        return e
    }

    /// `<path> <TYPE> <fp>[ flags]` (7.9+), `<TYPE> <fp> <path>` (7.6–7.8) or `<path>`.
    func keyIdent(_ r: Substring) -> [(String, JSONValue)] {
        let toks = r.split(separator: " ").map(String.init)
        if let i = toks.firstIndex(where: { $0.hasPrefix("SHA256:") || $0.hasPrefix("MD5:") }), i >= 1 {
            var e: [(String, JSONValue)] = []
            if i == 1 {
                e.append(("key_type", .string(toks[0])))
                e.append(("fingerprint", .string(toks[1])))
                if toks.count > 2 { e.append(("key_path", .string(toks[2...].joined(separator: " ")))) }
            } else {
                e.append(("key_path", .string(toks[0..<(i - 1)].joined(separator: " "))))
                e.append(("key_type", .string(toks[i - 1])))
                e.append(("fingerprint", .string(toks[i])))
                if toks.count > i + 1 { e.append(("flags", .array(toks[(i + 1)...].map(JSONValue.string)))) }
            }
            return e
        }
        return [("key_path", .string(String(r)))]
    }

    func offering(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("offering"))]
        if let k = T.after(r, "public key: ") {
            e += keyIdent(k)
        } else if let (kt, path) = T.split2(r, " public key: ") {
            e.append(("key_type", .string(String(kt))))
            e.append(("key_path", .string(String(path))))
        } else {
            e.append(("key_path", .string(String(r))))
        }
        return e
    }

    func acceptsKey(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("accepts_key"))]
        if let p = T.after(r, "pkalg ") {
            let (alg, blen) = T.split2(p, " blen ") ?? (p, "")
            e.append(("pkalg", .string(String(alg))))
            if let n = T.int(blen) { e.append(("blen", .int(n))) }
        } else {
            e += keyIdent(r)
        }
        return e
    }

    func fileLine(_ r: Substring, event: String) -> [(String, JSONValue)] {
        var e: [(String, JSONValue)] = [("event", .string(event))]
        if let (f, l) = OpenSSHText.splitLast2(r, ":"), let n = OpenSSHText.int(l) {
            e.append(("file", .string(String(f))))
            e.append(("file_line", .int(n)))
        } else {
            e.append(("file", .string(String(r))))
        }
        return e
    }

    /// `user@host's password:` (password), `(user@host) Password:` and a bare
    /// `Password:` (keyboard-interactive, the server's own prompt text).
    func passwordPrompt(_ s: Substring) -> [(String, JSONValue)]? {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("prompt"))]
        func who(_ uh: Substring) {
            if let (u, h) = T.splitLast2(uh, "@") {
                e.append(("user", .string(String(u))))
                e.append(("host", .string(String(h))))
            }
        }
        if s.hasSuffix("'s password:"), let (uh, _) = T.splitLast2(s, "'s password:") {
            e.append(("method", .string("password")))
            who(uh)
            return e
        }
        if s.hasBytePrefix("("), let (uh, rest) = T.split2(s.dropFirst(), ") "), rest.hasSuffix(":"), uh.contains("@"), !uh.contains(" ") {
            e.append(("method", .string("keyboard-interactive")))
            e.append(("prompt", .string(String(rest))))
            who(uh)
            return e
        }
        if s == "Password:" || s == "password:" || (s.hasBytePrefix("Password for ") && s.hasSuffix(":")) {
            e.append(("method", .string("keyboard-interactive")))
            if let uh = T.after(s, "Password for ") { who(uh.dropLast()) }
            return e
        }
        return nil
    }
}
