import Foundation
import Synchronization
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH

/// Judges a session's cryptography with the policy: one finding per weak (or
/// unknown) negotiated name, the DH group-exchange size, Terrapin, and weak
/// names the server still offers. Pure function over the session's data.
public struct SessionJudge: Sendable {
    public let policy: AlgorithmPolicy

    public init(policy: AlgorithmPolicy) { self.policy = policy }

    /// What a judgement depends on: busy servers repeat a handful of these across
    /// tens of thousands of sessions, so `Memo` judges each once.
    private struct Inputs: Hashable {
        var negotiated: NegotiatedAlgorithms
        var gexBits: Int?
        var strictKex: Bool?
        var source: String
        var serverOffer: [String: [String]]
    }

    /// A judge that remembers its verdict for each distinct set of inputs (the
    /// judge is pure: the same inputs give the same findings).
    public final class Memo: Sendable {
        public let judge: SessionJudge
        private let verdicts = Mutex<[Inputs: (findings: [Finding], vulnerable: Bool?, explanation: String?)]>([:])

        public init(_ judge: SessionJudge) { self.judge = judge }

        public func judge(_ s: inout SessionTimeline) {
            let key = Inputs(negotiated: s.negotiated, gexBits: s.gexBits, strictKex: s.strictKex, source: s.source, serverOffer: s.serverOffer)
            let known = verdicts.withLock { $0[key] }
            if let v = known {
                s.findings = v.findings
                s.terrapinVulnerable = v.vulnerable
                s.terrapinExplanation = v.explanation
                return
            }
            judge.judge(&s)
            // A few distinct negotiations per server; the bound only guards odd inputs.
            let verdict = (s.findings, s.terrapinVulnerable, s.terrapinExplanation)
            verdicts.withLock { if $0.count < 4096 { $0[key] = verdict } }
        }
    }

    public func judge(_ s: inout SessionTimeline) {
        var out: [Finding] = []
        let n = s.negotiated
        func add(_ category: AlgorithmCategory, _ name: String?, _ direction: String?) {
            guard let name, !name.isEmpty, name != "<implicit>" else { return }
            let r = policy.rate(category, name)
            if r.rating.isWeak {
                out.append(Finding(algorithm: name, category: category, direction: direction, rating: r.rating, reason: r.reason, reference: r.reference))
            }
            for noteName in r.notes where noteName != "gex_group_size" {
                if let note = policy.note(noteName), note.report, !out.contains(where: { $0.algorithm == name && $0.reason == note.reason }) {
                    out.append(Finding(algorithm: name, category: category, direction: direction, rating: note.rating, reason: note.reason, reference: note.reference))
                }
            }
        }
        func pair(_ category: AlgorithmCategory, _ c2s: String?, _ s2c: String?) {
            if c2s == s2c { add(category, c2s, "both") } else { add(category, c2s, "c2s"); add(category, s2c, "s2c") }
        }
        add(.kex, n.kex, "both")
        add(.hostkey, n.hostkey, "both")
        pair(.cipher, n.cipherC2S, n.cipherS2C)
        pair(.mac, n.macC2S, n.macS2C)
        pair(.compression, n.compressionC2S, n.compressionS2C)
        if let kex = n.kex { out += groupExchange(kex, bits: s.gexBits) }
        let (vulnerable, terrapin, why) = self.terrapin(s)
        s.terrapinVulnerable = vulnerable
        s.terrapinExplanation = why
        if let t = terrapin { out.append(t) }
        out += offered(s)
        s.findings = out
    }

    func groupExchange(_ kex: String, bits: Int?) -> [Finding] {
        let rule = policy.rule("gex_size")
        let applies = (rule["applies_to"]?.strings ?? []).contains(kex)
            || (rule["applies_to_prefixes"]?.strings ?? []).contains(where: { kex.hasPrefix($0) })
        guard applies else { return [] }
        let ref = rule["reference"]?.string ?? ""
        guard let bits else {
            let note = policy.note("gex_group_size")
            return [Finding(algorithm: kex, category: .gexSize, direction: "both", rating: .info,
                            reason: "group size not in the log; the name's own rating applies. " + (note?.reason ?? ""), reference: ref)]
        }
        let failBelow = rule["fail_below"]?.int ?? 2048, warnBelow = rule["warn_below"]?.int ?? 3072
        if bits < failBelow {
            return [Finding(algorithm: kex, category: .gexSize, direction: "both", rating: .fail,
                            reason: "\(bits)-bit group: " + (rule["reason_fail"]?.string ?? ""), reference: ref)]
        }
        if bits < warnBelow {
            return [Finding(algorithm: kex, category: .gexSize, direction: "both", rating: .warn,
                            reason: "\(bits)-bit group: " + (rule["reason_warn"]?.string ?? ""), reference: ref)]
        }
        return []
    }

    /// Terrapin (CVE-2023-48795): ChaCha20-Poly1305, or a CBC cipher with an ETM
    /// MAC, without strict KEX. nil (with the reason) when strict KEX cannot be
    /// seen; never guessed from version numbers (distributions backport fixes).
    func terrapin(_ s: SessionTimeline) -> (Bool?, Finding?, String?) {
        let rule = policy.rule("terrapin")
        let n = s.negotiated
        guard n.kex != nil || n.cipherC2S != nil else { return (nil, nil, "no completed key exchange in the log") }
        let chacha = Set(rule["chacha20"]?.strings ?? ["chacha20-poly1305@openssh.com"])
        let etm = rule["etm_suffix"]?.string ?? "-etm@openssh.com"
        let cbcSuffixes = rule["cbc_suffixes"]?.strings ?? ["-cbc"]
        let cbcNames = Set(rule["cbc_names"]?.strings ?? [])
        func isCBC(_ c: String?) -> Bool { c.map { name in cbcNames.contains(name) || cbcSuffixes.contains { name.hasSuffix($0) } } ?? false }
        var affected: String?
        for (c, m) in [(n.cipherC2S, n.macC2S), (n.cipherS2C, n.macS2C)] {
            if let c, chacha.contains(c) { affected = c; break }
            if isCBC(c), let m, m.hasSuffix(etm) { affected = "\(c!) with \(m)"; break }
        }
        guard let affected else { return (false, nil, "neither ChaCha20-Poly1305 nor CBC with an ETM MAC was negotiated") }
        let ref = rule["reference"]?.string ?? "CVE-2023-48795"
        switch s.strictKex {
        case true?:
            return (false, nil, "strict KEX was in force, which closes the hole for \(affected)")
        case false?:
            return (true, Finding(algorithm: affected, category: .terrapin, direction: "both", rating: rule["rating"]?.string.flatMap(Rating.init(rawValue:)) ?? .warn,
                                  reason: rule["reason"]?.string ?? "", reference: ref),
                    "strict KEX was not in force and \(affected) was negotiated")
        case nil:
            let why = s.source == "openssh"
                ? "the transcript does not show whether strict KEX was in force (run with -vv or -vvv to see the proposals); \(affected) is affected unless it was"
                : "SFTPPlus logs do not say whether strict KEX was in force; \(affected) is affected unless it was"
            return (nil, Finding(algorithm: affected, category: .terrapin, direction: "both", rating: .info, reason: why, reference: ref), why)
        }
    }

    /// Weak names the server still offers but that were not negotiated (info).
    func offered(_ s: SessionTimeline) -> [Finding] {
        var out: [Finding] = []
        let negotiated = Set([s.negotiated.kex, s.negotiated.hostkey, s.negotiated.cipherC2S, s.negotiated.cipherS2C,
                              s.negotiated.macC2S, s.negotiated.macS2C, s.negotiated.compressionC2S, s.negotiated.compressionS2C].compactMap { $0 })
        var seen = Set<String>()
        for slot in KexProposal.slotNames {
            guard let names = s.serverOffer[slot] else { continue }
            guard let category = (slot.split(separator: "_").first).flatMap({ AlgorithmCategory(rawValue: String($0)) }),
                  AlgorithmCategory.negotiated.contains(category) else { continue }
            let direction = slot.hasSuffix("c2s") ? "c2s" : slot.hasSuffix("s2c") ? "s2c" : "both"
            for name in names where !negotiated.contains(name) && !policy.markers.contains(name) && !seen.contains(category.rawValue + name) {
                let r = policy.rate(category, name)
                guard r.rating == .warn || r.rating == .fail else { continue }
                seen.insert(category.rawValue + name)
                out.append(Finding(algorithm: name, category: category, direction: direction, rating: .info,
                                   reason: "offered by the server but not negotiated (\(r.rating.rawValue): \(r.reason))", reference: r.reference))
            }
        }
        return out
    }
}
