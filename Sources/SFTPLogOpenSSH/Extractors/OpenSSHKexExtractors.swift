import Foundation
import SFTPLogRecords
import SFTPLogCatalog

/// Key exchange: version banners, KEXINIT proposals, the negotiated algorithms, the compat match,
/// the server host key, and negotiation failures.
extension OpenSSHLineClassifier {
    /// The values of a message read by one of this area's extractors (`openssh-events.json`);
    /// `.none` when `name` is not one of them.
    mutating func kexValues(_ name: String, _ argument: String, _ r: Substring) -> [(String, JSONValue)]?? {
        typealias T = OpenSSHText
        func str(_ x: Substring) -> JSONValue { .string(String(x)) }
        switch name {
        case "proposal": return proposal(r, slot: argument).extra
        case "kexinit_header":
            guard r.hasSuffix(" KEXINIT proposal") else { return .some(nil) }
            let side = String(r.dropLast(17))
            kexSide = side
            return [("event", .string("header")), ("side", .string(side)), ("local", .bool(argument == "local"))]
        case "negotiated": return negotiated(r)?.extra
        case "kexinit_received":
            oldIndex = 0; oldBlock = 0; kexSide = nil
            return [("event", .string("kexinit_received"))]
        case "kexinit_number": return kexinitNumber(r, slot: argument).extra
        case "old_proposal": return oldProposal(r.hasBytePrefix(" ") ? r.dropFirst() : r).extra
        case "compat": return compat(r)
        case "version": return versionLine(r).extra
        case "remote_version":
            var e: [(String, JSONValue)] = [("event", .string("remote"))]
            if let (p, sw) = T.split2(r, ", remote software version ") {
                e.append(("protocol_version", str(p)))
                e.append(("software", str(sw)))
            } else {
                e.append(("protocol_version", str(r)))
            }
            return e
        case "local_version":
            var e: [(String, JSONValue)] = [("event", .string("local")), ("version_string", str(r))]
            if let v = T.after(r, "SSH-"), let (proto, sw) = T.split2(v, "-") {
                e.append(("protocol_version", str(proto)))
                e.append(("software", str(sw)))
            }
            return e
        case "server_host_key": return serverHostKey(r)
        case "unable_to_negotiate": return unableToNegotiate(r)
        case "no_matching":
            guard let (what, rest) = T.split2(r, " found") else { return .some(nil) }
            var e: [(String, JSONValue)] = [("event", .string("negotiation_failed")), ("reason", .string("no matching \(what) found"))]
            e.append(("slot", .string(OpenSSHLineClassifier.slotFamily("no matching \(what) found") ?? String(what))))
            if let c = T.after(rest, ": client "), let (cl, sv) = T.split2(c, " server ") {
                e.append(("client_offer", .array(T.list(cl).map(JSONValue.string))))
                e.append(("server_offer", .array(T.list(sv).map(JSONValue.string))))
            }
            return e
        default:
            return .none
        }
    }

    func banner(_ s: Substring) -> [(String, JSONValue)] {
        var e: [(String, JSONValue)] = [("event", .string("banner"))]
        if let (v, lib) = OpenSSHText.split2(s, ", ") {
            e.append(("client_version", .string(String(v))))
            e.append(("library", .string(String(lib))))
        } else {
            e.append(("client_version", .string(String(s))))
        }
        return e
    }

    func compat(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("match"))]
        if let (sw, rest) = T.split2(r, " pat ") {
            e.append(("software", .string(String(sw))))
            if let (pat, flags) = T.split2(rest, " compat ") {
                e.append(("pattern", .string(String(pat))))
                e.append(("compat", .string(String(flags))))
            } else {
                e.append(("pattern", .string(String(rest))))
            }
        } else {
            e.append(("software", .string(String(r))))
        }
        return e
    }

    /// A proposal list (7.2+), `rest` being the text after its label's colon.
    mutating func proposal(_ rest: Substring, slot: String) -> Result {
        lastProposal = (kexSide, slot, rest.hasSuffix(","))
        var e: [(String, JSONValue)] = [("event", .string("proposal"))]
        e.append(("side", kexSide.map(JSONValue.string) ?? .null))
        e.append(("slot", .string(slot)))
        e.append(("names", .array(OpenSSHText.list(rest).map(JSONValue.string))))
        return Result(kind: .opensshKexinit, extra: e)
    }

    mutating func kexinitNumber(_ r: Substring, slot: String) -> Result {
        // 7.1 prints these two without the `kex_parse_kexinit:` prefix after an unlabeled dump.
        if kexSide == nil && (oldIndex > 0 || oldBlock > 0) { return oldNumber(r, slot: slot) }
        var e: [(String, JSONValue)] = [("event", .string("proposal"))]
        e.append(("side", kexSide.map(JSONValue.string) ?? .null))
        e.append(("slot", .string(slot)))
        e.append(("value", OpenSSHText.int(r).map(JSONValue.int) ?? .null))
        return Result(kind: .opensshKexinit, extra: e)
    }

    /// ≤7.1: ten unlabeled lists per side, client block first.
    mutating func oldProposal(_ r: Substring) -> Result {
        if let n = OpenSSHText.after(r, "first_kex_follows ") {
            return oldNumber(n, slot: "first_kex_follows")
        }
        if let n = OpenSSHText.after(r, "reserved ") {
            return oldNumber(n, slot: "reserved")
        }
        if oldIndex >= 10 { oldIndex = 0; oldBlock += 1 }
        let slot = OpenSSHLineClassifier.oldSlots[oldIndex]
        let side = oldBlock % 2 == 0 ? "client" : "server"
        oldIndex += 1
        kexSide = nil
        lastProposal = (side, slot, r.hasSuffix(","))
        return Result(kind: .opensshKexinit, extra: [
            ("event", .string("proposal")), ("side", .string(side)), ("slot", .string(slot)),
            ("names", .array(OpenSSHText.list(r).map(JSONValue.string))), ("format", .string("kex_parse_kexinit")),
        ])
    }

    mutating func oldNumber(_ n: Substring, slot: String) -> Result {
        let side = oldBlock % 2 == 0 ? "client" : "server"
        if slot == "reserved" { oldIndex = 10 }
        return Result(kind: .opensshKexinit, extra: [
            ("event", .string("proposal")), ("side", .string(side)), ("slot", .string(slot)),
            ("value", OpenSSHText.int(n).map(JSONValue.int) ?? .null), ("format", .string("kex_parse_kexinit")),
        ])
    }

    func negotiated(_ r: Substring) -> Result? {
        typealias T = OpenSSHText
        func alg(_ x: Substring) -> JSONValue { x == "(no match)" ? .null : .string(String(x)) }
        if let a = T.after(r, "algorithm: ") {
            return Result(kind: .opensshNegotiated, extra: [("slot", .string("kex")), ("algorithm", alg(a))])
        }
        if let a = T.after(r, "host key algorithm: ") {
            return Result(kind: .opensshNegotiated, extra: [("slot", .string("hostkey")), ("algorithm", alg(a))])
        }
        var dir: String?
        var rest = r
        if let x = T.after(r, "server->client ") { dir = "s2c"; rest = x }
        else if let x = T.after(r, "client->server ") { dir = "c2s"; rest = x }
        guard let dir else { return nil }
        var cipher: Substring?, mac: Substring?, comp: Substring?
        var format = "labelled"
        if let c = T.after(rest, "cipher: ") {
            if let (cv, m) = T.split2(c, " MAC: ") {
                cipher = cv
                if let (mv, z) = T.split2(m, " compression: ") { mac = mv; comp = z } else { mac = m }
            } else { cipher = c }
        } else {
            format = "legacy"
            let toks = rest.split(separator: " ", omittingEmptySubsequences: true)
            if toks.count >= 1 { cipher = toks[0] }
            if toks.count >= 2 { mac = toks[1] }
            if toks.count >= 3 { comp = toks[2] }
        }
        var e: [(String, JSONValue)] = [("slot", .string("cipher_mac_compression")), ("direction", .string(dir))]
        e.append(("cipher", cipher.map { .string(String($0)) } ?? .null))
        let implicit = mac == "<implicit>"
        e.append(("mac", implicit ? .null : (mac.map { .string(String($0)) } ?? .null)))
        if implicit { e.append(("mac_implicit", .bool(true))) }
        e.append(("compression", comp.map { .string(String($0)) } ?? .null))
        e.append(("format", .string(format)))
        return Result(kind: .opensshNegotiated, extra: e)
    }

    static func slotFamily(_ reason: String) -> String? {
        if reason.contains("key exchange") { return "kex" }
        if reason.contains("host key") { return "hostkey" }
        if reason.contains("cipher") { return "cipher" }
        if reason.contains("MAC") || reason.contains("mac") { return "mac" }
        if reason.contains("compression") || reason.contains("comp") { return "compression" }
        return nil
    }

    func serverHostKey(_ r: Substring) -> [(String, JSONValue)] {
        var e: [(String, JSONValue)] = [("event", .string("server_host_key"))]
        let toks = r.split(separator: " ", omittingEmptySubsequences: true)
        if toks.count >= 2 {
            e.append(("key_type", .string(String(toks[0]))))
            let fp = String(toks[1])
            e.append(("fingerprint", .string(fp)))
            let hash: String = fp.hasPrefix("SHA256:") ? "SHA256" : (fp.hasPrefix("MD5:") || fp.contains(":") ? "MD5" : "unknown")
            e.append(("fingerprint_hash", .string(hash)))
        } else if let t = toks.first {
            e.append(("key_type", .string(String(t))))
        }
        return e
    }

    /// The version line begins a run: nothing after it is an earlier run's remote output.
    mutating func versionLine(_ s: Substring) -> Result {
        inChannel = false
        afterCommand = false
        return Result(kind: .opensshVersion, extra: banner(s))
    }

    func unableToNegotiate(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("negotiation_failed"))]
        guard let w = T.after(r, "with ") else {
            // "Unable to negotiate a key exchange method"
            e.append(("reason", .string(String(r))))
            e.append(("slot", .string("kex")))
            return e
        }
        if let (who, rest) = T.split2(w, ": ") {
            if let (a, p) = T.split2(who, " port ") {
                e.append(("address", .string(String(a))))
                e.append(("port", T.intOrText(p)))
            } else {
                e.append(("address", .string(String(who))))
            }
            let (reason, offer) = T.split2(rest, ". Their offer: ")
                ?? (rest.hasSuffix(". Their offer:") ? (rest.dropLast(14), "") : (rest, ""))
            e.append(("reason", .string(String(reason))))
            if let f = OpenSSHLineClassifier.slotFamily(String(reason)) { e.append(("slot", .string(f))) }
            e.append(("their_offer", .array(T.list(offer).map(JSONValue.string))))
        }
        return e
    }
}
