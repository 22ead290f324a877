import Foundation
import SFTPLogRecords

/// Where a session's facts and findings were seen: the links the builders
/// made, and those a finding rests on.
public enum Evidence {
    /// The facts findings rest on (what an audit reads of a session's links).
    public static let findingFacts: Set<EvidenceFact> = Set(EvidenceFact.negotiated + [.gexBits, .strictKex, .serverOffer])

    /// The records a finding rests on: those that showed the negotiated names it
    /// is about (both directions when it is about both), the group size, what
    /// showed whether strict KEX was in force (Terrapin), or the server's
    /// proposal for a name it offered but did not negotiate.
    public static func links(of f: Finding, in s: SessionTimeline) -> [EvidenceLink] {
        let n = s.negotiated
        func slots(_ category: AlgorithmCategory) -> [EvidenceFact] {
            switch category {
            case .kex: return [.kex]
            case .hostkey: return [.hostkey]
            case .cipher: return f.direction == "c2s" ? [.cipherC2S] : f.direction == "s2c" ? [.cipherS2C] : [.cipherC2S, .cipherS2C]
            case .mac: return f.direction == "c2s" ? [.macC2S] : f.direction == "s2c" ? [.macS2C] : [.macC2S, .macS2C]
            case .compression:
                return f.direction == "c2s" ? [.compressionC2S] : f.direction == "s2c" ? [.compressionS2C] : [.compressionC2S, .compressionS2C]
            case .gexSize: return s.gexBits != nil ? [.gexBits] : [.kex]
            case .terrapin: return [.cipherC2S, .cipherS2C, .macC2S, .macS2C, .strictKex]
            }
        }
        var facts = slots(f.category)
        if AlgorithmCategory.negotiated.contains(f.category), !facts.contains(where: { $0.value(in: n) == f.algorithm }) {
            facts = [.serverOffer]  // offered, not negotiated
        }
        // Fact by fact (the builders link a record to a fact once).
        return facts.flatMap { fact in s.evidence.filter { $0.fact == fact } }
    }

    /// An `evidence` array: each link's fact, file (the session's own unless it
    /// names another), line, record id (from a store) and byte offset (when known).
    public static func json(_ links: [EvidenceLink], file: String) -> JSONValue {
        .array(links.map { l in
            var o: [(String, JSONValue)] = [("fact", .string(l.fact.rawValue))]
            if l.fact == .operation { o.append(("item", .int(l.item))) }
            o.append(("file", .string(l.file ?? file)))
            o.append(("line", .int(l.line)))
            if l.seq != 0 { o.append(("seq", .int(l.seq))) }
            o.append(("record_id", l.recordID.map { .int(Int($0)) } ?? .null))
            o.append(("byte_offset", l.offset.map { .int(Int($0)) } ?? .null))
            return .object(o)
        })
    }
}
