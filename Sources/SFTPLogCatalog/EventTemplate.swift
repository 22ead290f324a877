import Foundation
import SFTPLogRecords

/// One documented (or inferred) wording of an event ID, compiled once into
/// literal segments and named holes. Matching scans for the literals; no regex.
public final class EventTemplate: EventWording {
    public enum Piece: Sendable { case literal([UInt8]), field(String) }

    public let eventID: String
    public let variant: Int
    public let template: String
    public let fields: [String]
    public let groups: [String]
    public let fromVersion: String?
    public let toVersion: String?
    public let documentedIn: [String]
    public let seenIn: [String]
    public let inferred: Bool
    public let description: String?
    public let pieces: [Piece]
    /// Bytes of literal text: more literal text = a more specific wording.
    public let literalLength: Int
    /// Versions whose documentation lists this wording (or logs showed it).
    public let documentedRange: VersionRange?
    /// The newest of `documentedIn` (the first listed of equals), read once here.
    let newestDocumented: SFTPPlusVersion?
    /// Field names the message's values get typed as numbers for, and where a leading space is trimmed.
    let numericFieldMask: [Bool]
    let trimFieldMask: [Bool]
    /// Per piece: a token-like field (see `isTokenLike`), and whether it is the
    /// first hole with its name (a repeated name keeps its first value).
    let tokenLikeMask: [Bool]
    let firstOfNameMask: [Bool]
    /// The literals' bytes end to end, and per piece its literal's span there
    /// (count -1 for a hole): what `MatchPlan` reads.
    let literalBytes: [UInt8]
    let pieceLiterals: [(start: Int, count: Int)]
    /// The `catalog` object of a record this wording resolved (see `RecordJSON`), written once
    /// here: rendering it per record was a tenth of `parse`.
    public let catalogJSON: [UInt8]
    /// The field names in the order a resolved record's fields list them (each
    /// name once, where it first appears), and per piece the index in it of the
    /// piece's field (-1 for a literal): the store rebuilds messages from these.
    public let fieldOrder: [String]
    public let pieceFields: [Int]
    /// Per piece, where its field's JSON key (`"name":`) is in `fieldKeyBytes`
    /// (empty for a literal): escaped once here, not per record.
    public let fieldKeyBytes: [UInt8]
    public let fieldKeys: [Range<Int>]
    /// The message as `writeMessage` writes it: per hole, its piece, and the
    /// literal text before it (after the hole before) as its length in a message
    /// and its place in `escapedLiteralBytes`, escaped for a JSON string; then
    /// the text after the last hole.
    struct MessageHole { var piece: Int; var literalCount: Int; var escapedLiteral: Range<Int> }
    let messageHoles: [MessageHole]
    let messageTail: MessageHole
    let escapedLiteralBytes: [UInt8]

    public init(eventID: String, variant: Int, template: String, fields: [String], groups: [String], fromVersion: String?,
                toVersion: String?, documentedIn: [String], seenIn: [String], inferred: Bool, description: String?) {
        self.eventID = eventID; self.variant = variant; self.template = template; self.fields = fields
        self.groups = groups; self.fromVersion = fromVersion; self.toVersion = toVersion
        self.documentedIn = documentedIn; self.seenIn = seenIn; self.inferred = inferred; self.description = description
        pieces = EventTemplate.compile(template)
        literalLength = pieces.reduce(0) { if case .literal(let l) = $1 { return $0 + l.count }; return $0 }
        let documented = documentedIn.compactMap(SFTPPlusVersion.init)
        newestDocumented = documented.max()
        let versions = (documented + seenIn.compactMap(SFTPPlusVersion.init)).sorted()
        documentedRange = versions.first.map { VersionRange(lower: $0, upper: versions.last!) }
        var numeric: [Bool] = [], trim: [Bool] = []
        for (k, p) in pieces.enumerated() {
            guard case .field(let f) = p else { numeric.append(false); trim.append(false); continue }
            numeric.append(EventCatalog.numericFields.contains(f))
            if k > 0, case .literal(let l) = pieces[k - 1], l.last == 0x3A { trim.append(true) } else { trim.append(false) }
        }
        numericFieldMask = numeric
        trimFieldMask = trim
        var seen = Set<String>()
        var bytes: [UInt8] = []
        pieceLiterals = pieces.map { p -> (start: Int, count: Int) in
            guard case .literal(let l) = p else { return (bytes.count, -1) }
            defer { bytes.append(contentsOf: l) }
            return (bytes.count, l.count)
        }
        literalBytes = bytes
        let escaped = JSONOutput(capacity: 256)
        var holes: [MessageHole] = [], next = MessageHole(piece: -1, literalCount: 0, escapedLiteral: 0..<0)
        for (k, p) in pieces.enumerated() {
            switch p {
            case .literal(let l):
                let r = l.withUnsafeBufferPointer { escaped.escapedPiece($0) }
                next.literalCount += l.count
                next.escapedLiteral = (next.escapedLiteral.isEmpty ? r.lowerBound : next.escapedLiteral.lowerBound)..<r.upperBound
            case .field:
                next.piece = k
                holes.append(next)
                next = MessageHole(piece: -1, literalCount: 0, escapedLiteral: escaped.count..<escaped.count)
            }
        }
        messageHoles = holes
        messageTail = next
        escapedLiteralBytes = escaped.withBytes { Array($0) }
        tokenLikeMask = pieces.map { if case .field(let f) = $0 { return EventTemplate.isTokenLike(f) } else { return false } }
        firstOfNameMask = pieces.map { if case .field(let f) = $0 { return seen.insert(f).inserted } else { return false } }
        var order: [String] = []
        pieceFields = pieces.map { p -> Int in
            guard case .field(let f) = p else { return -1 }
            if let k = order.firstIndex(of: f) { return k }
            order.append(f)
            return order.count - 1
        }
        fieldOrder = order
        var keys = JSONBytes(capacity: 64)
        fieldKeys = pieces.map { p -> Range<Int> in
            guard case .field(let f) = p else { return keys.bytes.count..<keys.bytes.count }
            let start = keys.bytes.count
            keys.string(f); keys.bytes.append(0x3A)
            return start..<keys.bytes.count
        }
        fieldKeyBytes = keys.bytes
        var json = JSONBytes(capacity: 256)
        json.value(EventTemplate.catalogObject(variant: variant, template: template, groups: groups, range: documentedRange))
        catalogJSON = json.bytes
    }

    /// What a record resolved to this wording says about it under `catalog`.
    public var catalogObject: JSONValue {
        EventTemplate.catalogObject(variant: variant, template: template, groups: groups, range: documentedRange)
    }

    private static func catalogObject(variant: Int, template: String, groups: [String], range: VersionRange?) -> JSONValue {
        .object([("variant", .int(variant)), ("template", .string(template)),
                 ("groups", .array(groups.map(JSONValue.string))), ("versions", range.map { .string($0.description) } ?? .null)])
    }

    func renumbered(_ n: Int) -> EventTemplate {
        // A copy under another number (variants are immutable once loaded).
        EventTemplate(eventID: eventID, variant: n, template: template, fields: fields, groups: groups, fromVersion: fromVersion,
                      toVersion: toVersion, documentedIn: documentedIn, seenIn: seenIn, inferred: inferred, description: description)
    }

    /// "4.26.2–5.23.0": the versions whose docs list this wording (or that logs showed).
    public var versions: String? { documentedRange?.description }

    /// Python %-format: `%(name)s` / `%(name)d` holes, `%%` a literal percent.
    static func compile(_ t: String) -> [Piece] {
        var out: [Piece] = []
        var lit: [UInt8] = []
        let b = Array(t.utf8)
        var i = 0
        while i < b.count {
            if b[i] == 0x25 && i + 1 < b.count {
                if b[i + 1] == 0x25 { lit.append(0x25); i += 2; continue }
                if b[i + 1] == 0x28, let close = b[(i + 2)...].firstIndex(of: 0x29), close + 1 < b.count {
                    if !lit.isEmpty { out.append(.literal(lit)); lit = [] }
                    out.append(.field(String(decoding: b[(i + 2)..<close], as: UTF8.self)))
                    i = close + 2  // skip the conversion letter (s, d, r, …)
                    continue
                }
            }
            lit.append(b[i]); i += 1
        }
        if !lit.isEmpty { out.append(.literal(lit)) }
        return out
    }

    /// Matches the whole message. Each hole extends to an occurrence of the next
    /// literal; the first occurrence is tried first, later ones on backtracking,
    /// so values containing the template's own delimiters still fit. When the
    /// first full match puts a quote or space into a token-like field (a mode,
    /// type, number, ID), later full matches are tried and the cleanest wins:
    /// `opened "a" in "b". c" in "write" mode` gives mode `write`, path `a" in "b". c`.
    /// Returns the field values by name (a repeated name keeps its first value).
    public func match(_ m: UnsafeBufferPointer<UInt8>) -> [(String, Range<Int>)]? {
        var values: [(Int, Range<Int>)] = [], work: [(Int, Range<Int>)] = []
        guard matchPieces(m, into: &values, work: &work) else { return nil }
        return values.map { (k, r) in
            guard case .field(let f) = pieces[k] else { return ("", r) }
            return (f, r)
        }
    }

    /// Like `match`, with holes identified by their piece index (no string work).
    /// `values` gets the match; `work` is scratch. Both are the caller's, so
    /// resolving a message allocates no arrays for wordings that do not fit.
    func matchPieces(_ m: UnsafeBufferPointer<UInt8>, into values: inout [(Int, Range<Int>)],
                     work: inout [(Int, Range<Int>)]) -> Bool {
        values.removeAll(keepingCapacity: true)
        work.removeAll(keepingCapacity: true)
        return literalBytes.withUnsafeBufferPointer { bytes in
            pieceLiterals.withUnsafeBufferPointer { spans in
                tokenLikeMask.withUnsafeBufferPointer { tokens in
                    let plan = MatchPlan(bytes: bytes, spans: spans, tokenLike: tokens)
                    // First a strict search: token-like holes never take a space or quote, so the
                    // first full match is a clean one. Hostile values full of the template's own
                    // delimiters (a client version `x" using ssh-ed25519 … compression:none.`) made
                    // the permissive search below see 16 unclean matches under the attacker's
                    // split before any clean one, and the fake algorithms won.
                    var strictBudget = 20_000
                    var found = false
                    _ = plan.step(0, 0, m, &work, &strictBudget, strict: true) { candidate in
                        values.append(contentsOf: candidate); found = true; return true
                    }
                    if found { return true }
                    work.removeAll(keepingCapacity: true)
                    var budget = 20_000
                    var bestPenalty = Int.max
                    var seen = 0
                    _ = plan.step(0, 0, m, &work, &budget, strict: false) { candidate in
                        let p = plan.penalty(candidate, m)
                        if p < bestPenalty {
                            bestPenalty = p
                            values.removeAll(keepingCapacity: true)
                            values.append(contentsOf: candidate)
                        }
                        seen += 1
                        return p == 0 || seen >= 16  // stop: clean, or enough alternatives seen
                    }
                    return seen > 0
                }
            }
        }
    }

    /// The fields of a match (`matchPieces`' values) in the order a record lists
    /// them: each name once (by its index in `values`, and its piece: see
    /// `fieldName`, `fieldKeys`), its range in `m` (spaces after a `name:`
    /// trimmed), and its number when the field is numeric and the text is one.
    @inline(__always)
    public func forEachField(_ values: UnsafeBufferPointer<(Int, Range<Int>)>, in m: UnsafeBufferPointer<UInt8>,
                             _ body: (_ index: Int, _ piece: Int, _ range: Range<Int>, _ number: JSONValue?) -> Void) {
        for i in values.indices {
            let (k, range) = values[i]
            guard firstOfNameMask[k] else { continue }
            var r = range
            if trimFieldMask[k] { while r.lowerBound < r.upperBound && m[r.lowerBound] == 0x20 { r = (r.lowerBound + 1)..<r.upperBound } }
            body(i, k, r, numericFieldMask[k] ? EventCatalog.number(UnsafeBufferPointer(rebasing: m[r])) : nil)
        }
    }

    /// Writes `m`, which this wording matched with `values` (`matchPieces`), as a
    /// JSON string: its literals copied as escaped at load, its values escaped
    /// here, each value's escaped bytes' place in `o` left in `escaped` (as many
    /// as `values`), for the fields to copy. False, with nothing written, when
    /// `values` are not one per hole in order (then escape `m` whole).
    public func writeMessage(_ m: UnsafeBufferPointer<UInt8>, values: UnsafeBufferPointer<(Int, Range<Int>)>, to o: JSONOutput,
                             escaped: UnsafeMutableBufferPointer<Range<Int>>) -> Bool {
        guard values.count == messageHoles.count, escaped.count == values.count else { return false }
        let start = o.count
        return escapedLiteralBytes.withUnsafeBufferPointer { lit in
            messageHoles.withUnsafeBufferPointer { holes in
                o.byte(0x22)
                // Each value must be its hole's, starting where the literal before it ends.
                var pos = 0
                for v in holes.indices {
                    let (k, r) = values[v], h = holes[v]
                    guard k == h.piece, r.lowerBound == pos + h.literalCount, r.upperBound <= m.count else {
                        o.removeLast(o.count - start)
                        return false
                    }
                    o.raw(UnsafeBufferPointer(rebasing: lit[h.escapedLiteral]))
                    escaped[v] = o.escapedPiece(UnsafeBufferPointer(rebasing: m[r]))
                    pos = r.upperBound
                }
                guard pos + messageTail.literalCount == m.count else { o.removeLast(o.count - start); return false }
                o.raw(UnsafeBufferPointer(rebasing: lit[messageTail.escapedLiteral]))
                o.byte(0x22)
                return true
            }
        }
    }

    /// The name of piece `k`'s field ("" for a literal).
    public func fieldName(_ k: Int) -> String {
        if case .field(let name) = pieces[k] { return name }
        return ""
    }

    /// Cheap reject: whether the message opens with this wording's first literal (if it has one).
    @inline(__always)
    func mayOpen(_ m: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let s = pieceLiterals.first, s.count > 0 else { return true }
        guard s.count <= m.count else { return false }
        return literalBytes.withUnsafeBufferPointer { memcmp(m.baseAddress!, $0.baseAddress!, s.count) == 0 }
    }

    /// Token-like fields never hold quotes or spaces in real messages.
    static func isTokenLike(_ name: String) -> Bool {
        if EventCatalog.numericFields.contains(name) { return true }
        // The client's version string is chosen by whoever connects: it may hold anything.
        if name == "client_version" { return false }
        for suffix in ["mode", "type", "kind", "_id", "version", "protocol", "family", "state", "code", "port", "uuid", "address"]
        where name == suffix || name.hasSuffix(suffix) { return true }
        // Negotiated algorithm names never hold quotes or spaces either. Without this, a
        // client version string `x" using ssh-ed25519 … compression:none.` (attacker-chosen)
        // matched first and its fake algorithms displaced the real ones in 30011.
        for suffix in ["host_key", "key_exchange", "hmac", "cipher", "compression"] where name.hasSuffix(suffix) { return true }
        return false
    }

    /// The pieces as the search reads them: literals as spans of one byte
    /// buffer (reading a `Piece` retained and released its array at every step).
    struct MatchPlan {
        let bytes: UnsafeBufferPointer<UInt8>
        /// Per piece: its literal's start in `bytes` and length; a hole has length -1.
        let spans: UnsafeBufferPointer<(start: Int, count: Int)>
        let tokenLike: UnsafeBufferPointer<Bool>

        @inline(__always)
        func literal(_ k: Int, at pos: Int, in m: UnsafeBufferPointer<UInt8>) -> Bool {
            let s = spans[k]
            guard pos >= 0, pos + s.count <= m.count else { return false }
            return s.count == 0 || memcmp(m.baseAddress! + pos, bytes.baseAddress! + s.start, s.count) == 0
        }

        func penalty(_ values: [(Int, Range<Int>)], _ m: UnsafeBufferPointer<UInt8>) -> Int {
            var p = 0
            for (k, r) in values where tokenLike[k] {
                for i in r where m[i] == 0x22 || m[i] == 0x20 { p += 1; break }
            }
            return p
        }

        /// Depth-first search over the holes' end positions; `accept` sees each full
        /// match and returns true to stop the search.
        func step(_ k: Int, _ pos: Int, _ m: UnsafeBufferPointer<UInt8>, _ values: inout [(Int, Range<Int>)],
                  _ budget: inout Int, strict: Bool, _ accept: ([(Int, Range<Int>)]) -> Bool) -> Bool {
            budget -= 1
            if budget < 0 { return true }
            if k == spans.count { return pos == m.count ? accept(values) : false }
            let span = spans[k]
            if span.count >= 0 {
                guard literal(k, at: pos, in: m) else { return false }
                return step(k + 1, pos + span.count, m, &values, &budget, strict: strict, accept)
            }
            let token = strict && tokenLike[k]
            @inline(__always) func clean(_ r: Range<Int>) -> Bool {
                if !token { return true }
                for i in r where m[i] == 0x20 || m[i] == 0x22 { return false }
                return true
            }
            if k + 1 == spans.count {
                guard clean(pos..<m.count) else { return false }
                values.append((k, pos..<m.count))
                defer { values.removeLast() }
                return accept(values)
            }
            let next = spans[k + 1]
            guard next.count > 0 else { return false }
            // A literal that ends the template must end the message: anchor it there.
            if k + 2 == spans.count {
                let at = m.count - next.count
                guard at >= pos, literal(k + 1, at: at, in: m), clean(pos..<at) else { return false }
                values.append((k, pos..<at))
                defer { values.removeLast() }
                return accept(values)
            }
            let first = bytes[next.start]
            let end = m.count - next.count + 1  // the positions the next literal may start at
            var i = pos
            while i < end {
                // Hostile input: scanning counts against the budget too. With only
                // calls counted, a message repeating a literal (`" of type "` × 10^5
                // in a username) made each of the 20,000 calls scan megabytes: a
                // 2 MB line never finished. 64 bytes scanned cost one call.
                if !token {
                    // Straight to the next candidate (memchr), charging the budget for
                    // every position passed, as the byte loop below does.
                    let hit = memchr(m.baseAddress! + i, Int32(first), end - i)
                    let j = hit.map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - m.baseAddress! } ?? end
                    budget -= ((min(j, end - 1) + 1) >> 6) - (i >> 6)
                    if budget < 0 { return true }
                    if j == end { return false }
                    i = j
                } else if i & 63 == 63 { budget -= 1; if budget < 0 { return true } }
                if m[i] == first && literal(k + 1, at: i, in: m) {
                    values.append((k, pos..<i))
                    let stop = step(k + 1, i, m, &values, &budget, strict: strict, accept)
                    values.removeLast()
                    if stop { return true }
                }
                // Strict: a token-like value cannot extend past a space or quote.
                if token && (m[i] == 0x20 || m[i] == 0x22) { return false }
                i += 1
            }
            return false
        }
    }

    /// Where a hole follows `name:` (e.g. `key-exchange:%(key_exchange)s`), leading
    /// spaces are a wrapping artefact of copied logs, not part of the value.
    func trims(_ field: String) -> Bool {
        for (k, p) in pieces.enumerated() { if case .field(let f) = p, f == field { return trimFieldMask[k] } }
        return false
    }

    func trimsLeadingSpace(_ field: String) -> Bool {
        for (k, p) in pieces.enumerated() {
            if case .field(let f) = p, f == field, k > 0, case .literal(let l) = pieces[k - 1], l.last == 0x3A { return true }
        }
        return false
    }
}
