import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// `audit` over a database: a judgement depends only on a session's negotiation
/// (algorithms, group size, strict KEX, source) and the server's offer, so each
/// distinct negotiation is judged once, and only the sessions whose negotiation
/// is flagged (or whose server offer is known) are read. On 63k sessions with a
/// dozen negotiations that is a fifth of the rows.
public enum AuditLoad {
    /// Above this many flagged negotiations, every session is read instead.
    static let maxNegotiationTerms = 200

    public static func audit(_ store: StoreReader, filter: SessionFilter, judge: SessionJudge.Memo, minRating: Rating,
                             policyName: String) throws -> AuditResult {
        var result = AuditResult(minRating: minRating, policyName: policyName)
        var flagged: [SessionTimeline] = []
        var unflagged: [(SessionTimeline, Int)] = []
        for (negotiation, count) in try store.negotiations(filter) {
            var s = negotiation
            judge.judge(&s)
            if !result.hits(s).isEmpty { flagged.append(negotiation) } else { unflagged.append((s, count)) }
        }
        var sessions: [SessionTimeline]
        if flagged.count > maxNegotiationTerms {
            sessions = try store.sessions(filter, withOperations: false, withFindings: false, withDetails: false)
            unflagged = []
        } else {
            sessions = try store.sessions(filter, negotiatedAsAnyOf: flagged)
        }
        for i in sessions.indices { judge.judge(&sessions[i]) }
        // The records behind the flagged sessions' findings.
        let shown = sessions.filter { !result.hits($0).isEmpty }.map(\.id)
        var evidence: [SessionID: [EvidenceLink]] = [:]
        for start in stride(from: 0, to: shown.count, by: 1000) {
            evidence.merge(try store.evidence(Array(shown[start..<min(start + 1000, shown.count)]), facts: Evidence.findingFacts)) { a, _ in a }
        }
        for i in sessions.indices { sessions[i].evidence = evidence[sessions[i].id] ?? [] }
        for s in sessions { result.add(s) }
        for (s, n) in unflagged { result.add(s, times: n) }
        result.finish()
        return result
    }
}

/// `audit` over sessions that were never stored, fed one at a time as a
/// streaming pass closes them: the same result as `AuditLoad.audit` on a
/// database holding them. Only the flagged sessions are kept (what the audit
/// shows of them), to list them in the database's order.
public struct AuditCollector {
    public let filter: SessionFilter
    let judge: SessionJudge.Memo
    var result: AuditResult
    /// Flagged sessions (their findings the hits), for JSON and CSV.
    private var flagged: [(key: SessionQuery.OrderKey, session: SessionTimeline)] = []
    /// Flagged sessions whose text (or rendering) is made as they come, set aside with their keys.
    private var spill: OrderedSpill?
    private let render: ((SessionTimeline) -> [UInt8])?
    /// The last file name's bytes, shared by the keys of its sessions.
    private var lastFile: [UInt8] = []
    /// Per summary line, the first session tallied on it in list order so far.
    private var lineFirst: [AuditResult.LineKey: SessionQuery.OrderKey] = [:]
    private var style: AuditResult.TextStyle?

    /// `textWidth`: each flagged session's text is made as it comes (on the thread
    /// building sessions, while the log is still being read), not all at the end,
    /// and set aside in an `OrderedSpill` (memory up to `spillBound` bytes, then a
    /// temporary file; keys past `keyBound` sorted into runs there too) until the
    /// sessions' order is known: memory holds neither their text nor their keys,
    /// however large the log.
    /// `render` (without `textWidth`): each flagged session, as it would be listed,
    /// rendered as it comes and set aside the same way (`writeRendered`).
    public init(filter: SessionFilter, judge: SessionJudge.Memo, minRating: Rating, policyName: String, textWidth: Int? = nil,
                render: ((SessionTimeline) -> [UInt8])? = nil, spillBound: Int = 16 << 20, keyBound: Int = 1 << 14) {
        self.filter = filter
        self.judge = judge
        result = AuditResult(minRating: minRating, policyName: policyName)
        style = textWidth.map(AuditResult.TextStyle.init(width:))
        self.render = textWidth == nil ? render : nil
        if textWidth != nil || render != nil { spill = OrderedSpill(bound: spillBound, keyBound: keyBound) }
    }

    /// `consuming`: the session is judged in place (a copy retained each of its strings).
    public mutating func add(_ session: consuming SessionTimeline) {
        guard filter.matches(session) else { return }
        var s = session
        s.findings = []
        judge.judge(&s)
        let hits = result.hits(s)
        result.count(s)
        guard !hits.isEmpty else { return }
        var key = SessionQuery.OrderKey(s)
        key.shareFile(&lastFile)
        // Tallied now; each line's reason is its first session's in list order.
        result.tally(hits, peer: s.peer?.address) { line in
            if let first = lineFirst[line], !(key < first) { return false }
            lineFirst[line] = key
            return true
        }
        s.findings = hits
        if style != nil, let spill {
            var text = ""
            AuditResult.sessionText(s, into: &text, style: &style!)
            // Set aside: what stays is its key and what the exit status reads (its worst rating).
            spill.append(key: key.orderBytes, text)
            result.unlisted(hits)
            return
        }
        // Only what the audit shows of a flagged session is kept, not its operations or details.
        var kept = SessionTimeline(source: s.source, side: s.side, file: s.file)
        kept.id = s.id
        kept.firstLine = s.firstLine
        kept.peer = s.peer
        kept.user = s.user
        kept.start = s.start
        kept.findings = hits
        kept.terrapinVulnerable = s.terrapinVulnerable
        // What the findings' evidence is read from.
        kept.negotiated = s.negotiated
        kept.gexBits = s.gexBits
        kept.evidence = s.evidence.filter { Evidence.findingFacts.contains($0.fact) }
        if let render, let spill {
            render(kept).withUnsafeBufferPointer { spill.append(key: key.orderBytes, $0) }
            result.unlisted(hits)
            return
        }
        flagged.append((key, kept))
    }

    /// After `finish`, with `render`: each flagged session's bytes in the order a
    /// database lists them, `separator` between them, lent to `write`. False, with
    /// nothing written, without `render`.
    @discardableResult
    public mutating func writeRendered(separator: [UInt8] = [], _ write: (UnsafeBufferPointer<UInt8>) -> Void) throws -> Bool {
        guard render != nil, let spill else { return false }
        try spill.read(separator: separator, write)
        return true
    }

    /// The result, flagged sessions in the order a database lists them (none
    /// listed when their text was made as they came: `writeText` writes it).
    public mutating func finish() -> AuditResult {
        // Indices sorted, not the sessions (moving those retained their strings);
        // stable: sessions with equal keys stay in the order they closed.
        let order = flagged.indices.sorted { flagged[$0].key < flagged[$1].key }
        result.list(order.map { flagged[$0].session })
        result.finish()
        flagged = []
        return result
    }

    /// After `finish`, with `textWidth` given: the text, the flagged sessions in
    /// the order a database lists them and then the summary, lent to `write` in
    /// pieces. False, with nothing written, without `textWidth`.
    @discardableResult
    public mutating func writeText(_ write: (UnsafeBufferPointer<UInt8>) -> Void) throws -> Bool {
        guard style != nil, let spill else { return false }
        try spill.read(separator: [], write)
        var summary = result.summaryText()
        summary.withUTF8 { write($0) }
        return true
    }

    /// `writeText` into one String (tests, small answers).
    public mutating func text() throws -> String? {
        var bytes: [UInt8] = []
        guard try writeText({ bytes.append(contentsOf: $0) }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
