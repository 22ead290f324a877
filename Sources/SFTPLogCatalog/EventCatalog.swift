import Foundation
import SFTPLogRecords

public struct CatalogEvent: Sendable {
    public let id: String
    public let area: String?
    public let description: String?
    public var variants: [EventTemplate]
}

public enum CatalogError: Error, CustomStringConvertible, Sendable {
    case missing(String)
    case malformed(String, String)
    public var description: String {
        switch self {
        // Also the OpenSSH message table's errors: the path says which file.
        case .missing(let p): return "catalogue file not found at \(p)"
        case .malformed(let p, let why): return "\(p): malformed catalogue file: \(why)"
        }
    }
}

/// The SFTPPlus event-ID catalogue (`catalog/events.json`): every documented
/// wording of every ID, compiled for matching.
/// Immutable once built, so one catalogue serves every thread (`--follow` included).
public final class EventCatalog: Sendable {
    public let events: [String: CatalogEvent]
    /// Each ID's wordings, found without hashing the ID (`resolve` asks once per record;
    /// the dictionary lookup also copied the event out, retaining each of its strings).
    private let wordings: EventIDTable<[EventTemplate]>
    public let groups: [(name: String, documentedIn: [String])]
    /// The newest SFTPPlus version whose documentation this catalogue holds: a
    /// wording it still lists may be written by any later version.
    public let newestDocumented: SFTPPlusVersion
    /// Per ID and variant: the versions that can have written the wording.
    private let writableRanges: [String: [Int: VersionRange]]
    /// Numeric-valued field names: their values are stored as numbers.
    static let numericFields: Set<String> = [
        "total_read", "total_write", "read_size", "write_size", "size", "total_size", "transferred_size",
        "read_speed", "write_speed", "speed", "duration", "total_duration", "seconds", "count", "file_count",
        "files_count", "total_files", "total_directories", "transfer_count", "connection_count", "port", "peer_port",
        "host_port", "source_port", "exit_code", "retries", "retries_left", "days", "day_count", "expires_in_days",
        "thread_count", "cpu_percent", "memory_resident", "memory_virtual", "initial_count", "minimum_count", "age",
        "offset", "received", "sent",
    ]

    public init(events: [CatalogEvent], groups: [(String, [String])] = []) {
        var byID: [String: CatalogEvent] = [:]
        for e in events { byID[e.id] = e }
        self.events = byID
        wordings = EventIDTable(byID.mapValues(\.variants))
        self.groups = groups.map { (name: $0.0, documentedIn: $0.1) }
        // The first newest in the order of every wording's documentedIn, as read there.
        let newest = byID.values.flatMap { $0.variants.compactMap(\.newestDocumented) }.max()
            ?? SFTPPlusVersion("0.0.0")!
        newestDocumented = newest
        var ranges: [String: [Int: VersionRange]] = [:]
        for e in byID.values {
            for t in e.variants {
                if let r = VersionInference.computeWritableRange(t, events: byID, newest: newest) { ranges[e.id, default: [:]][t.variant] = r }
            }
        }
        writableRanges = ranges
    }

    /// The versions that can have written `t`, one of this catalogue's wordings (or computed for another).
    func writableRange(_ t: EventTemplate) -> VersionRange? {
        if let e = events[t.eventID], e.variants.contains(where: { $0 === t }) { return writableRanges[t.eventID]?[t.variant] }
        return VersionInference.computeWritableRange(t, events: events, newest: newestDocumented)
    }

    /// The catalogue bundled with sftplog, or `$SFTPLOG_CATALOG/events.json` when set.
    public static func bundled() throws -> EventCatalog {
        try load(path: catalogDirectory() + "/events.json")
    }

    /// Where the catalogue data lives: `$SFTPLOG_CATALOG`, the SwiftPM resource
    /// bundle next to the binary, or `../share/sftplog/catalog` for an installed
    /// binary. Looked up by hand: `Bundle.module` aborts when the bundle is missing.
    public static func catalogDirectory() -> String {
        if let dir = ProcessInfo.processInfo.environment["SFTPLOG_CATALOG"], !dir.isEmpty { return dir }
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        let selfExe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        var candidates: [URL] = []
        for dir in [selfExe, exe] {
            candidates.append(dir.appendingPathComponent("sftplog_SFTPLogKit.resources/catalog"))
            candidates.append(dir.appendingPathComponent("../share/sftplog/catalog").standardized)
        }
        for c in candidates where FileManager.default.fileExists(atPath: c.appendingPathComponent("events.json").path) {
            return c.path
        }
        return candidates[0].path
    }

    /// Loaded once per process (with the wordings of `catalog import`).
    public static func shared() throws -> EventCatalog { try loaded.get() }

    private static let loaded: Result<EventCatalog, Error> = Result { try bundled().adding(ImportedCatalog.load()) }

    public static func load(path: String) throws -> EventCatalog {
        guard let data = CatalogFiles.contents(atPath: path) else { throw CatalogError.missing(path) }
        guard let root = JSONValue.parse(data), let list = root["events"]?.arrayValue else {
            throw CatalogError.malformed(path, "expected an object with an \"events\" array")
        }
        var events: [CatalogEvent] = []
        for e in list {
            guard let id = e["id"]?.textValue, let vs = e["variants"]?.arrayValue, vs.allSatisfy({ $0.objectValue != nil }) else {
                throw CatalogError.malformed(path, "an event lacks id or variants")
            }
            let variants = vs.enumerated().map { (k, v) in
                EventTemplate(eventID: id, variant: v["variant"]?.intValue ?? k + 1, template: v["template"]?.textValue ?? "",
                              fields: v["fields"]?.texts ?? [], groups: v["groups"]?.texts ?? [],
                              fromVersion: v["from_version"]?.textValue, toVersion: v["to_version"]?.textValue,
                              documentedIn: v["documented_in"]?.texts ?? [], seenIn: v["seen_in"]?.texts ?? [],
                              inferred: v["inferred"]?.boolValue ?? false, description: v["description"]?.textValue)
            }
            events.append(CatalogEvent(id: id, area: e["area"]?.textValue, description: e["description"]?.textValue, variants: variants))
        }
        let groups = (root["groups"]?.arrayValue ?? []).compactMap { g -> (String, [String])? in
            guard let n = g["group"]?.textValue else { return nil }
            return (n, g["documented_in"]?.texts ?? [])
        }
        return EventCatalog(events: events, groups: groups)
    }

    /// This catalogue with more wordings (e.g. from `catalog import`); a template
    /// already known for the ID is skipped.
    public func adding(_ templates: [EventTemplate]) -> EventCatalog {
        var events = self.events
        for t in templates {
            var e = events[t.eventID] ?? CatalogEvent(id: t.eventID, area: nil, description: nil, variants: [])
            if e.variants.contains(where: { $0.template == t.template }) { continue }
            var v = t
            if e.variants.contains(where: { $0.variant == t.variant }) || t.variant <= 0 {
                v = t.renumbered((e.variants.map(\.variant).max() ?? 0) + 1)
            }
            e.variants.append(v)
            events[t.eventID] = e
        }
        return EventCatalog(events: Array(events.values), groups: groups.map { ($0.name, $0.documentedIn) })
    }

    public var variantCount: Int { events.values.reduce(0) { $0 + $1.variants.count } }

    /// Short meaning of an event for timelines: the variant's description, else the event's.
    public func meaning(_ id: String, variant: Int?) -> String? {
        guard let e = events[id] else { return nil }
        if let v = variant, let t = e.variants.first(where: { $0.variant == v }), let d = t.description { return d }
        return e.description
    }

    /// Resolves a message against every wording of its ID (never by ID alone).
    /// When several fit, the one nearest `hint` (the versions inferred so far for
    /// the file) wins, then the most specific (most literal text).
    public func resolve(eventID: String, message: String, hint: VersionRange? = nil) -> EventResolution {
        var scratch = MatchScratch()
        scratch.strings = .none  // one message: no table
        return resolve(eventID: eventID, message: message, hint: hint, scratch: &scratch)
    }

    /// Buffers for matching, kept by a caller that resolves many messages (a
    /// `SourceResolver`) so no arrays are allocated per message.
    struct MatchScratch {
        /// The best match so far, the one being tried, and the search's scratch.
        var values: [(Int, Range<Int>)] = [], candidate: [(Int, Range<Int>)] = [], work: [(Int, Range<Int>)] = []
        /// The last message matched more than one wording: the version hint chose among them.
        var ambiguous = false
        /// The strings of short values the messages repeat (algorithms, versions, accounts).
        var strings = TokenStrings()
    }

    func resolve(eventID: String, message: String, hint: @autoclosure () -> VersionRange?, scratch: inout MatchScratch) -> EventResolution {
        var msg = message
        return msg.withUTF8 { m -> EventResolution in
            switch match(eventID: eventID, message: m, hint: hint(), scratch: &scratch) {
            case .unknownID: return EventResolution(status: .unknownID, fields: EventCatalog.genericFields(message))
            case .unresolved: return EventResolution(status: .unresolved, fields: EventCatalog.genericFields(message))
            case .resolved(let t):
                var fields: [(String, JSONValue)] = []
                fields.reserveCapacity(scratch.values.count)
                let values = scratch.values, strings = scratch.strings
                values.withUnsafeBufferPointer { values in
                    t.forEachField(values, in: m) { _, k, r, number in
                        fields.append((t.fieldName(k), number ?? .string(strings.string(m, r.lowerBound, r.upperBound))))
                    }
                }
                return EventResolution(status: .resolved, variant: t.variant, wording: t, fields: fields)
            }
        }
    }

    /// What `match` found for a message.
    public enum MatchOutcome: Sendable {
        case unknownID, unresolved
        /// The wording; the values' ranges are in the scratch's `values`.
        case resolved(EventTemplate)
    }

    /// The wording of `eventID` that fits the message bytes, the ranges of its
    /// values left in `scratch.values` (`resolve` without making the fields).
    /// `hint` is asked for only when a second wording fits (copying the versions
    /// for every message was measurable).
    func match(eventID: String, message m: UnsafeBufferPointer<UInt8>, hint getHint: @autoclosure () -> VersionRange?,
               scratch: inout MatchScratch) -> MatchOutcome {
        match(wordings[eventID], message: m, hint: getHint(), scratch: &scratch)
    }

    /// `match` for the ID's bytes (`parse`'s plain lines make no string of it).
    func match(eventID: UnsafeBufferPointer<UInt8>, message m: UnsafeBufferPointer<UInt8>,
               hint getHint: @autoclosure () -> VersionRange?, scratch: inout MatchScratch) -> MatchOutcome {
        match(wordings[bytes: eventID], message: m, hint: getHint(), scratch: &scratch)
    }

    @inline(__always)
    private func match(_ variants: [EventTemplate]?, message m: UnsafeBufferPointer<UInt8>,
                       hint getHint: @autoclosure () -> VersionRange?, scratch: inout MatchScratch) -> MatchOutcome {
        guard let variants else { return .unknownID }
        scratch.ambiguous = false
        var best: EventTemplate?
        for t in variants {
            // Cheap reject: the wording's first literal must open the message.
            if !t.mayOpen(m) { continue }
            guard t.matchPieces(m, into: &scratch.candidate, work: &scratch.work) else { continue }
            if let b = best {
                scratch.ambiguous = true
                let hint = getHint()
                let dt = hint.map { t.documentedRange?.distance(to: $0) ?? Int.max } ?? 0
                let db = hint.map { b.documentedRange?.distance(to: $0) ?? Int.max } ?? 0
                if dt < db || (dt == db && t.literalLength > b.literalLength) { best = t; swap(&scratch.values, &scratch.candidate) }
            } else {
                best = t
                swap(&scratch.values, &scratch.candidate)
            }
        }
        guard let t = best else { return .unresolved }
        return .resolved(t)
    }

    /// A decimal integer or number, parsed from bytes without making a String first.
    static func number(_ b: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        guard !b.isEmpty, b.count < 20 else { return nil }
        var v = 0
        var isInt = true
        for c in b {
            if c >= 0x30 && c <= 0x39 { v = v &* 10 &+ Int(c - 0x30) } else { isInt = false; break }
        }
        if isInt { return .int(v) }
        if let d = shortDecimal(b) { return .double(d) }
        if let d = Double(String(decoding: b, as: UTF8.self)), d.isFinite { return .double(d) }
        return nil
    }

    /// `digits.digits` with at most 15 digits in all, read without a String: the
    /// digits as an integer over a power of ten, both exact, so the one rounding
    /// of the division gives the double nearest the decimal, as parsing does.
    static func shortDecimal(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard b.count <= 16 else { return nil }
        var m: UInt64 = 0, dot = -1
        for (k, c) in b.enumerated() {
            if c &- 0x30 < 10 { m = m &* 10 &+ UInt64(c &- 0x30) } else if c == 0x2E, dot < 0 { dot = k } else { return nil }
        }
        guard dot > 0, dot < b.count - 1 else { return nil }
        return Double(m) / shortDecimalScales[b.count - 1 - dot]
    }

    private static let shortDecimalScales: [Double] = (0...15).map { (0..<$0).reduce(1.0) { a, _ in a * 10 } }

    static func typed(_ name: String, _ value: String) -> JSONValue {
        guard numericFields.contains(name) else { return .string(value) }
        if let i = Int(value) { return .int(i) }
        if let d = Double(value), d.isFinite { return .double(d) }
        return .string(value)
    }

    /// What can be read out of a message no wording fits: quoted strings, paths,
    /// `address:port` peers and numbers.
    public static func genericFields(_ message: String) -> [(String, JSONValue)] {
        var quoted: [JSONValue] = [], paths: [JSONValue] = [], peers: [JSONValue] = [], numbers: [JSONValue] = []
        // On UTF-8 bytes (every separator is ASCII): Character iteration made a 10 MB line take a second.
        let u = Array(message.utf8)
        var quoteStart: Int?
        for (k, b) in u.enumerated() where b == 0x22 {
            if let s = quoteStart {
                let current = String(decoding: u[s..<k], as: UTF8.self)
                quoted.append(.string(current))
                if current.hasPrefix("/") || current.contains("\\") { paths.append(.string(current)) }
                quoteStart = nil
            } else {
                quoteStart = k + 1
            }
        }
        for word in u.split(whereSeparator: { $0 == 0x20 || $0 == 0x22 || $0 == 0x2C || $0 == 0x28 || $0 == 0x29 }) {
            // No number, peer or path is this long.
            if word.count > 4096 { continue }
            var w = word
            while let l = w.last, l == 0x2E || l == 0x3B { w = w.dropLast() }
            if w.isEmpty { continue }
            let text = String(decoding: w, as: UTF8.self)
            if let n = Int(text) { numbers.append(.int(n)); continue }
            if (0x30...0x39).contains(w.first!), let d = Double(text) { numbers.append(.double(d)); continue }
            if let p = Peer.parse(text: text), p.port != nil, w.contains(0x2E) || w.filter({ $0 == 0x3A }).count > 1 {
                peers.append(.object([("address", .string(p.address)), ("port", p.port.map(JSONValue.int) ?? .null)]))
            } else if w.first == 0x2F && w.count > 1, !paths.contains(.string(text)) {
                paths.append(.string(text))
            }
        }
        var out: [(String, JSONValue)] = []
        if !quoted.isEmpty { out.append(("quoted", .array(quoted))) }
        if !paths.isEmpty { out.append(("paths", .array(paths))) }
        if !peers.isEmpty { out.append(("peers", .array(peers))) }
        if !numbers.isEmpty { out.append(("numbers", .array(numbers))) }
        return out
    }
}

/// Resolves the SFTPPlus events of one source, keeping a running estimate of
/// the versions that can have written it to break ties between wordings.
public final class SourceResolver {
    let catalog: EventCatalog
    // `@exclusivity(unchecked)`: a resolver serves one thread, and no access to its
    // state overlaps another; checking that at run time was paid on every record.
    @exclusivity(unchecked) public private(set) var versions: VersionRange?
    @exclusivity(unchecked) public private(set) var inconsistent = false

    public init(catalog: EventCatalog) { self.catalog = catalog }

    /// Wordings already folded into `versions` (each narrows the range once).
    @exclusivity(unchecked) private var narrowedBy = Set<ObjectIdentifier>()
    /// Wordings found in `narrowedBy` lately, one per slot by address: logs mix a
    /// few dozen wordings, and a set lookup per record (hashing) was measurable.
    @exclusivity(unchecked) private var recentlyNarrowedBy = [ObjectIdentifier?](repeating: nil, count: 64)

    @exclusivity(unchecked) private var scratch = EventCatalog.MatchScratch()

    /// Folds a wording's versions into `versions` the first time it resolves a message.
    @inline(__always) private func narrow(by w: any EventWording) {
        let id = ObjectIdentifier(w)
        // Wordings are objects of a few hundred bytes: their addresses differ above the low bits.
        let slot = Int(truncatingIfNeeded: UInt(bitPattern: id) >> 6) & 63
        guard recentlyNarrowedBy[slot] != id else { return }
        recentlyNarrowedBy[slot] = id
        // Cast once per wording: every wording this catalogue resolves to is one of its templates.
        if narrowedBy.insert(id).inserted, let t = w as? EventTemplate { narrow(with: VersionInference.writableRange(t, in: catalog)) }
    }

    public func resolve(_ r: inout Record) {
        guard r.kind == .sftpplusEvent, let id = r.eventID else { return }
        let res = catalog.resolve(eventID: id, message: r.message ?? "", hint: versions, scratch: &scratch)
        if res.status == .resolved, let w = res.wording { narrow(by: w) }
        r.resolution = res
    }

    /// `resolve` for the bytes of a message that has no record (`parse`'s plain
    /// lines): the outcome, with the values' ranges in `matchedValues`.
    public func resolve(eventID: UnsafeBufferPointer<UInt8>, message m: UnsafeBufferPointer<UInt8>) -> EventCatalog.MatchOutcome {
        let outcome = catalog.match(eventID: eventID, message: m, hint: versions, scratch: &scratch)
        if case .resolved(let t) = outcome { narrow(by: t) }
        return outcome
    }

    /// The ranges of the values the last `resolve(eventID:message:)` matched.
    public var matchedValues: [(Int, Range<Int>)] { scratch.values }

    /// Resolves without the version hint the records before this one would
    /// give (they are being read by another worker): true when more than one
    /// wording matched, so the hint could have chosen differently and `replay`
    /// must resolve it again.
    public func resolveAlone(_ r: inout Record) -> Bool {
        guard r.kind == .sftpplusEvent, let id = r.eventID else { return false }
        r.resolution = catalog.resolve(eventID: id, message: r.message ?? "", hint: nil, scratch: &scratch)
        return scratch.ambiguous
    }

    /// Takes in order a record `resolveAlone` resolved elsewhere: narrows the
    /// versions as `resolve` would have, or resolves it again when the hint mattered.
    public func replay(_ r: inout Record, hintSensitive: Bool) {
        if hintSensitive { resolve(&r); return }
        if let res = r.resolution, res.status == .resolved, let w = res.wording { narrow(by: w) }
    }

    func narrow(with range: VersionRange?) {
        guard let range, !inconsistent else { return }
        if let cur = versions {
            if let i = cur.intersection(range) { versions = i } else { inconsistent = true }
        } else {
            versions = range
        }
    }
}

/// Which SFTPPlus versions can have written a wording: from the oldest wording's
/// `from_version` (or the first version listing it) to its `to_version` (or the
/// last version listing it; open-ended when the newest docs still list it).
public enum VersionInference {
    public static func writableRange(_ t: EventTemplate, in catalog: EventCatalog) -> VersionRange? {
        catalog.writableRange(t)
    }

    static func computeWritableRange(_ t: EventTemplate, events: [String: CatalogEvent], newest: SFTPPlusVersion) -> VersionRange? {
        guard let doc = t.documentedRange else { return nil }
        var lower = doc.lower
        // The ID's first wording may be older than the first snapshot that lists it.
        if let first = events[t.eventID]?.variants.first, first.variant == t.variant,
           let from = t.fromVersion.flatMap(SFTPPlusVersion.init), from < lower, !t.inferred {
            lower = from
        }
        var upper: SFTPPlusVersion? = doc.upper
        if let to = t.toVersion.flatMap(SFTPPlusVersion.init) { upper = max(to, doc.upper ?? to) }
        else if t.documentedIn.contains(newest.label) { upper = nil }
        return VersionRange(lower: lower, upper: upper)
    }
}

extension VersionInference {
    /// The versions that can have written a source, from the wordings its
    /// messages resolved to (and client-shell banners). "inconsistent" when no
    /// single version documents them all; nil when nothing resolved.
    public static func infer(resolved: [(eventID: String, variant: Int)], bannerVersions: [String], catalog: EventCatalog) -> String? {
        var range: VersionRange?
        var any = false
        var ranges: [VersionRange] = resolved.compactMap { item in
            guard let t = catalog.events[item.eventID]?.variants.first(where: { $0.variant == item.variant }) else { return nil }
            return writableRange(t, in: catalog)
        }
        ranges += bannerVersions.compactMap(SFTPPlusVersion.init).map { VersionRange(lower: $0, upper: $0) }
        for r in ranges {
            any = true
            if let cur = range {
                guard let i = cur.intersection(r) else { return "inconsistent" }
                range = i
            } else {
                range = r
            }
        }
        return any ? range?.description : nil
    }
}
