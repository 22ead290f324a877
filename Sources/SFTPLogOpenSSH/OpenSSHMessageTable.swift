import Foundation
import SFTPLogRecords
import SFTPLogCatalog

/// Every message the OpenSSH client code can print (`catalog/openssh-messages.json`,
/// built by `catalog/tools/build-openssh-table.py`), compiled for telling which
/// format printed a transcript line. Formats are matched by scanning bytes for
/// their literal text, never by regular expressions. Immutable once loaded, so
/// one table serves every thread.
public final class OpenSSHMessageTable: Sendable {
    /// The log level a format is printed at (`stderr`: written without the logger;
    /// `reason`: a text printed after `: ` of another message, e.g. an `ssh_err` string).
    public enum Level: String, Sendable, CaseIterable {
        case debug1, debug2, debug3, verbose, info, error, fatal, stderr, reason
    }

    /// A class: matching a line handed entries around by value, about eleven
    /// copies a line of a dozen strings and arrays each (an eighth of reading a
    /// transcript, callgrind).
    public final class Entry: Sendable {
        /// Stable: a hash of the level and the printed format.
        public let id: String
        public let level: Level
        /// The printf format as printed (the function name written in for `%FUNC`).
        public let format: String
        public let functions: [String]
        /// First and last release whose source has the format (nil for reason texts).
        public let first: String?
        public let last: String?
        /// Releases between `first` and `last` whose source lacks it.
        public let gaps: [String]
        /// Releases a distribution patched it into (e.g. Debian's 9.2 strict KEX lines).
        public let backports: [String]
        /// Releases seen printing it, for added formats whose range was not checked.
        public let seenIn: [String]
        public let area: String
        public let kind: RecordKind
        /// For `stderr` formats: stderr, stdout or tty.
        public let stream: String?
        /// A part of a message built at run time.
        public let fragment: Bool
        /// From `openssh-extra-messages.json`, not from the extraction.
        public let extra: Bool
        /// For messages the reader reads by data (`openssh-events.json`): the record's
        /// event, and what each conversion's value is called and how it is typed.
        public let event: String?
        public let fields: [Field]
        /// Or the reader's extractor for the text after `after` (values naming cannot give).
        public let extractor: String?
        public let after: String?
        /// A value the wording itself says (`resetting send seqnr` → direction send).
        public let constant: (name: String, value: String)?
        /// The format starts with its function's name: the record names it first.
        public let functionFirst: Bool

        init(id: String, level: Level, format: String, functions: [String], first: String?, last: String?, gaps: [String],
             backports: [String], seenIn: [String], area: String, kind: RecordKind, stream: String?, fragment: Bool, extra: Bool,
             event: String?, fields: [Field], extractor: String?, after: String?,
             constant: (name: String, value: String)?, functionFirst: Bool) {
            self.id = id; self.level = level; self.format = format; self.functions = functions
            self.first = first; self.last = last; self.gaps = gaps; self.backports = backports; self.seenIn = seenIn
            self.area = area; self.kind = kind; self.stream = stream; self.fragment = fragment; self.extra = extra
            self.event = event; self.fields = fields; self.extractor = extractor; self.after = after
            self.constant = constant; self.functionFirst = functionFirst
        }

        public var function: String? { functions.first }
        /// The reader takes this message's record from the data, not from its own extractors.
        public var isReadByData: Bool { event != nil || extractor != nil }

        /// Whether `release` ("9.2", "9.2p1", "OpenSSH_9.2p1 Debian-2") can print it.
        public func isPrinted(inRelease release: String) -> Bool {
            guard let r = OpenSSHMessageTable.releaseNumber(release) else { return false }
            func same(_ list: [String]) -> Bool { list.contains { OpenSSHMessageTable.releaseNumber($0).map { $0 == r } ?? false } }
            if same(backports) || same(seenIn) { return true }
            guard let f = first.flatMap(OpenSSHMessageTable.releaseNumber),
                  let l = last.flatMap(OpenSSHMessageTable.releaseNumber) else { return seenIn.isEmpty }
            return f <= r && r <= l && !same(gaps)
        }
    }

    /// A conversion's value in a record: its name (nil: not kept) and type.
    public struct Field: Sendable {
        public enum Shape: String, Sendable { case string, int, double, list }
        public let name: String?
        public let shape: Shape

        /// `name`, `name:int`, `name:double`, `name:list`, or nil.
        init(_ spec: String?) {
            guard let spec else { name = nil; shape = .string; return }
            let parts = spec.split(separator: ":", maxSplits: 1)
            name = String(parts[0])
            shape = parts.count > 1 ? Shape(rawValue: String(parts[1])) ?? .string : .string
        }

        func value(_ text: Substring) -> JSONValue {
            switch shape {
            case .string: return .string(String(text))
            case .int: return OpenSSHText.intOrText(text)
            case .double: return OpenSSHText.double(text).map(JSONValue.double) ?? .null
            case .list: return .array(OpenSSHText.list(text).map(JSONValue.string))
            }
        }
    }

    public struct Match: Sendable {
        public let entry: Entry
        /// Which line of a multi-line format (0: the first).
        public let line: Int
        /// The text each conversion took, in order (`%.*s` is one value).
        public let values: [String]

        public var id: String { entry.id }
        public var kind: RecordKind { entry.kind }
        public var area: String { entry.area }
        public var level: Level { entry.level }
        public var first: String? { entry.first }
        public var last: String? { entry.last }
        public var function: String? { entry.function }
    }

    /// What the table holds, for `catalog stats`.
    public struct Summary: Sendable {
        public let entries: Int
        public let byLevel: [(Level, Int)]
        public let byKind: [(String, Int)]
        /// Entries whose format compiled (every conversion understood).
        public let compiled: Int
        /// Compiled entries with no literal text on any line (only conversions and
        /// punctuation, e.g. `%s: %s`): never matched, they would match anything.
        public let withoutLiteral: Int
        /// Lines of formats indexed by their first literal bytes, and those tried last.
        public let indexedLines: Int
        public let fallbackLines: Int
        public let releases: [String]
        /// Formats whose records the reader takes from `openssh-events.json`: by the
        /// names of their values, or by one of the reader's extractors (and how many).
        public let readByFields: Int
        public let readByExtractor: Int
        public let extractors: Int
    }

    public let entries: [Entry]
    /// The releases the table covers, oldest first (5.0 … 10.5).
    public let releases: [String]
    public let summary: Summary
    /// Per entry: bit i = printed by `releases[i]`.
    let releaseMasks: [UInt64]
    private let releaseNumbers: [OpenSSHRelease?]
    private let patterns: PatternStore
    private let debugIndexes: [LineIndex]
    private let plainIndex: LineIndex
    private let reasonIndex: LineIndex

    // MARK: loading

    /// The bundled table (`$SFTPLOG_CATALOG/openssh-messages.json` when set), loaded once per process.
    public static func shared() throws -> OpenSSHMessageTable { try loaded.get() }

    private static let loaded: Result<OpenSSHMessageTable, CatalogError> = {
        let path = EventCatalog.catalogDirectory() + "/openssh-messages.json"
        do { return .success(try load(path: path)) } catch let e as CatalogError { return .failure(e) } catch {
            return .failure(.malformed(path, "\(error)"))
        }
    }()

    public static func load(path: String) throws -> OpenSSHMessageTable {
        guard let data = CatalogFiles.contents(atPath: path) else { throw CatalogError.missing(path) }
        guard let root = JSONValue.parse(data), let list = root["entries"]?.arrayValue else {
            throw CatalogError.malformed(path, "expected an object with an \"entries\" array")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(list.count)
        func constant(_ e: JSONValue) -> (name: String, value: String)? {
            guard let with = e["with"]?.objectValue, with.count == 1, let value = with[0].1.textValue else { return nil }
            return (with[0].0, value)
        }
        for e in list {
            guard let id = e["id"]?.textValue, let format = e["format"]?.textValue,
                  let level = e["level"]?.textValue.flatMap(Level.init(rawValue:)),
                  let kind = e["kind"]?.textValue, let area = e["area"]?.textValue else {
                throw CatalogError.malformed(path, "an entry lacks id, format, level, kind or area: \(e["id"]?.stringValue ?? "?")")
            }
            entries.append(Entry(id: id, level: level, format: format, functions: e["functions"]?.texts ?? [],
                                 first: e["first"]?.textValue, last: e["last"]?.textValue, gaps: e["gaps"]?.texts ?? [],
                                 backports: e["backports"]?.texts ?? [], seenIn: e["seen_in"]?.texts ?? [],
                                 area: area, kind: RecordKind(kind), stream: e["stream"]?.textValue,
                                 fragment: e["fragment"]?.boolValue ?? false, extra: e["extra"]?.boolValue ?? false,
                                 event: e["event"]?.textValue, fields: (e["fields"]?.arrayValue ?? []).map { Field($0.textValue) },
                                 extractor: e["extractor"]?.textValue, after: e["after"]?.textValue,
                                 constant: constant(e), functionFirst: e["function_first"]?.boolValue ?? false))
        }
        return OpenSSHMessageTable(entries: entries, releases: root["releases"]?.texts ?? [])
    }

    init(entries: [Entry], releases: [String]) {
        self.entries = entries
        self.releases = Array(releases.prefix(64))
        let releases = self.releases
        releaseNumbers = releases.map(OpenSSHMessageTable.releaseNumber)
        var position: [String: Int] = [:]
        for (i, r) in releases.enumerated() { position[r] = i }
        func bits(_ list: [String]) -> UInt64 { list.reduce(0) { m, r in position[r].map { m | 1 << UInt64($0) } ?? m } }
        // The same answer as `Entry.isPrinted`, as one bit per release.
        releaseMasks = entries.map { e in
            if e.first == nil && e.last == nil && e.backports.isEmpty && e.seenIn.isEmpty { return ~0 }
            var mask: UInt64 = 0
            if let f = e.first.flatMap({ position[$0] }), let l = e.last.flatMap({ position[$0] }), f <= l {
                for i in f...l { mask |= 1 << UInt64(i) }
                mask &= ~bits(e.gaps)
            }
            return mask | bits(e.backports) | bits(e.seenIn)
        }
        var store = PatternStore()
        var compiled = 0, withoutLiteral = 0
        for (k, e) in entries.enumerated() {
            guard let parts = OpenSSHFormat.compileLines(e.format) else { continue }
            compiled += 1
            var any = false
            for (n, pieces) in parts where OpenSSHFormat.hasText(pieces) {
                any = true
                // Lines after the first of a debug message are printed without `debugN: `.
                let group: LineGroup
                switch e.level {
                case .debug1: group = n == 0 ? .debug1 : .plain
                case .debug2: group = n == 0 ? .debug2 : .plain
                case .debug3: group = n == 0 ? .debug3 : .plain
                case .reason: group = .reason
                default: group = .plain
                }
                store.append(entry: k, line: n, group: group, pieces: pieces, lastRelease: e.last.flatMap { position[$0] } ?? releases.count)
            }
            if !any { withoutLiteral += 1 }
        }
        patterns = store
        func index(_ g: LineGroup) -> LineIndex { LineIndex(store, group: g) }
        debugIndexes = [index(.debug1), index(.debug2), index(.debug3)]
        plainIndex = index(.plain)
        reasonIndex = index(.reason)
        var levels: [Level: Int] = [:], kinds: [String: Int] = [:]
        for e in entries {
            levels[e.level, default: 0] += 1
            kinds[e.kind.rawValue, default: 0] += 1
        }
        let all = debugIndexes + [plainIndex, reasonIndex]
        summary = Summary(
            entries: entries.count,
            byLevel: Level.allCases.compactMap { l in levels[l].map { (l, $0) } },
            byKind: kinds.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) },
            compiled: compiled, withoutLiteral: withoutLiteral,
            indexedLines: all.reduce(0) { $0 + $1.indexedCount }, fallbackLines: all.reduce(0) { $0 + $1.fallback.count },
            releases: releases,
            readByFields: entries.filter { $0.event != nil }.count, readByExtractor: entries.filter { $0.extractor != nil }.count,
            extractors: Set(entries.compactMap { $0.extractor?.split(separator: ":").first }).count)
    }

    // MARK: matching

    /// The format that printed `message`: `level` 1…3 for a `debugN: ` line (prefix
    /// removed; only formats of that debug level), nil for an unprefixed line (only
    /// verbose, info, error, fatal and stderr formats, and continuation lines). The
    /// entry with the most literal bytes wins, then the one with more typed
    /// conversions, fewer conversions, then the newest. A trailing CR is ignored.
    public func match(message: Substring, level: Int?) -> Match? {
        match(message: message, level: level, release: nil)
    }

    /// Like `match(message:level:)`, preferring formats that `release` ("9.2") prints:
    /// the same line can fit an older and a newer wording.
    public func match(message: Substring, level: Int?, release: String?) -> Match? {
        guard let index = index(level: level) else { return nil }
        return find(in: index, message, release: release)
    }

    /// The patterns a line of `level` can be: `debugN: ` lines one level's, unprefixed lines the rest.
    private func index(level: Int?) -> LineIndex? {
        switch level {
        case nil: return plainIndex
        case 1?, 2?, 3?: return debugIndexes[level! - 1]
        default: return nil
        }
    }

    /// The text printed after `: ` of a failure (`message authentication code incorrect`,
    /// `Connection reset by peer`): one of the `reason` entries.
    public func reason(_ text: Substring) -> Match? {
        find(in: reasonIndex, text, release: nil)
    }

    /// Which entry printed the line and, when the entry is read by data, the
    /// record's event and named values (`openssh-events.json`).
    func read(message: Substring, level: Int?, releaseMask want: UInt64) -> (entry: Int, facts: [(String, JSONValue)]?)? {
        guard let index = index(level: level) else { return nil }
        var s = message
        if s.utf8.last == 0x0D { s = Substring(s.utf8.dropLast()) }
        return s.withUTF8 { m -> (Int, [(String, JSONValue)]?)? in
            patterns.search(m, index: index, releaseMasks: releaseMasks, want: want) { best, spans in
                let k = Int(patterns.lines[best].entry)
                let e = entries[k]
                guard let event = e.event, spans.count == e.fields.count else { return (k, nil) }
                var facts: [(String, JSONValue)] = []
                if e.functionFirst, let f = e.function { facts.append(("function", .string(f))) }
                facts.append(("event", .string(event)))
                if let c = e.constant { facts.append((c.name, .string(c.value))) }
                for (f, span) in zip(e.fields, spans) {
                    guard let name = f.name else { continue }
                    facts.append((name, f.value(Substring(String(decoding: UnsafeBufferPointer(rebasing: m[span]), as: UTF8.self)))))
                }
                return (k, facts)
            }
        }
    }

    /// The bit `match(…release:)` prefers for `release` (0 when the table does not know it).
    func releaseMask(_ release: String?) -> UInt64 {
        guard let release, let r = OpenSSHMessageTable.releaseNumber(release), let i = releaseNumbers.firstIndex(of: r) else { return 0 }
        return 1 << UInt64(i)
    }

    private func find(in index: LineIndex, _ message: Substring, release: String?) -> Match? {
        var s = message
        if s.utf8.last == 0x0D { s = Substring(s.utf8.dropLast()) }
        let want = releaseMask(release)
        return s.withUTF8 { m -> Match? in
            patterns.search(m, index: index, releaseMasks: releaseMasks, want: want) { best, spans in
                let p = patterns.lines[best]
                return Match(entry: entries[Int(p.entry)], line: Int(p.line),
                             values: spans.map { String(decoding: UnsafeBufferPointer(rebasing: m[$0]), as: UTF8.self) })
            }
        }
    }

    /// "9.2", "9.2p1", "OpenSSH_9.2p1 Debian-2" → (9, 2).
    static func releaseNumber(_ s: String) -> OpenSSHRelease? {
        var major = 0, minor = 0, digits = 0, sawDot = false
        for b in s.utf8 {
            if b >= 0x30 && b <= 0x39 {
                if sawDot { minor = minor * 10 + Int(b - 0x30) } else { major = major * 10 + Int(b - 0x30) }
                digits += 1
            } else if b == 0x2E && digits > 0 && !sawDot {
                sawDot = true; digits = 0
            } else if digits > 0 && sawDot {
                break
            } else {
                major = 0; digits = 0; sawDot = false
            }
            if major > 999 || minor > 999 { return nil }
        }
        return sawDot && digits > 0 ? OpenSSHRelease(major: major, minor: minor) : nil
    }
}

extension OpenSSHMessageTable {
    /// How stored messages match the table (`catalog stats --db`).
    public struct Coverage: Sendable {
        public var records = 0
        public var matched = 0
        public var unmatched: Int { records - matched }
        /// Records matching no format, by the first word of their message, most first.
        public var unmatchedByFirstWord: [(word: String, records: Int)] = []
    }

    /// `messages`: distinct messages with their `debugN` level (nil: unprefixed) and record count.
    public func coverage(of messages: [(message: String, level: Int?, records: Int)]) -> Coverage {
        var c = Coverage()
        var words: [String: Int] = [:]
        for (message, level, records) in messages {
            c.records += records
            if match(message: message[...], level: level) != nil {
                c.matched += records
            } else {
                words[String(message.prefix { $0 != " " }), default: 0] += records
            }
        }
        c.unmatchedByFirstWord = words.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { (word: $0.key, records: $0.value) }
        return c
    }
}

struct OpenSSHRelease: Comparable, Sendable {
    let major: Int, minor: Int
    static func < (a: Self, b: Self) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
}

// MARK: - compiled formats

/// One conversion of a printf format, as far as matching cares: what characters
/// its printed value can hold.
struct OpenSSHHole: Sendable, Equatable {
    enum Shape: UInt8, Sendable { case text, signed, unsigned, hex, octal, decimal, character, pointer }
    let shape: Shape
    /// A field width: the value may be padded with leading spaces.
    let padded: Bool
}

enum OpenSSHPiece: Sendable {
    case literal([UInt8])
    case hole(OpenSSHHole)
}

enum OpenSSHFormat {
    /// The format split into its printed lines (CR and empty lines dropped), each
    /// compiled; nil when a conversion is not understood.
    static func compileLines(_ format: String) -> [(Int, [OpenSSHPiece])]? {
        var out: [(Int, [OpenSSHPiece])] = []
        for (n, line) in Array(format.utf8).split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            var bytes = line[...]
            while bytes.first == 0x0D { bytes = bytes.dropFirst() }
            while bytes.last == 0x0D { bytes = bytes.dropLast() }
            if bytes.isEmpty { continue }
            guard let pieces = compile(Array(bytes)) else { return nil }
            out.append((n, pieces))
        }
        return out
    }

    /// `%[flags][width][.precision][length]conversion`; `%%` is a literal percent.
    static func compile(_ b: [UInt8]) -> [OpenSSHPiece]? {
        var out: [OpenSSHPiece] = []
        var lit: [UInt8] = []
        var i = 0
        func flush() { if !lit.isEmpty { out.append(.literal(lit)); lit = [] } }
        while i < b.count {
            guard b[i] == 0x25 else { lit.append(b[i]); i += 1; continue }
            i += 1
            guard i < b.count else { return nil }
            if b[i] == 0x25 { lit.append(0x25); i += 1; continue }
            var leftAligned = false, width = false
            while i < b.count, [0x2D, 0x2B, 0x20, 0x23, 0x30].contains(b[i]) {  // - + space # 0
                if b[i] == 0x2D { leftAligned = true }
                i += 1
            }
            while i < b.count, b[i] == 0x2A || (b[i] >= 0x31 && b[i] <= 0x39) || (width && b[i] == 0x30) {
                width = true; i += 1
            }
            if i < b.count, b[i] == 0x2E {
                i += 1
                while i < b.count, b[i] == 0x2A || (b[i] >= 0x30 && b[i] <= 0x39) { i += 1 }
            }
            while i < b.count, [0x68, 0x6C, 0x7A, 0x6A, 0x74, 0x4C, 0x71].contains(b[i]) { i += 1 }  // h l z j t L q
            guard i < b.count else { return nil }
            let shape: OpenSSHHole.Shape
            switch b[i] {
            case 0x73: shape = .text  // s
            case 0x64, 0x69: shape = .signed  // d i
            case 0x75: shape = .unsigned  // u
            case 0x78, 0x58: shape = .hex  // x X
            case 0x6F: shape = .octal  // o
            case 0x66, 0x67, 0x65: shape = .decimal  // f g e
            case 0x63: shape = .character  // c
            case 0x70: shape = .pointer  // p
            default: return nil
            }
            i += 1
            flush()
            // A left-aligned value pads after itself: the spaces run into the next literal.
            out.append(.hole(OpenSSHHole(shape: shape, padded: width && !leftAligned && shape != .text)))
        }
        flush()
        return out
    }

    /// Some letter, digit or non-ASCII byte outside the conversions: without one a
    /// format (`%s: %s`, `[%s]:%d`) would match almost any line.
    static func hasText(_ pieces: [OpenSSHPiece]) -> Bool {
        for p in pieces {
            guard case .literal(let l) = p else { continue }
            for c in l where c >= 0x80 || (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A) { return true }
        }
        return false
    }
}

/// Which lines a pattern is tried on.
enum LineGroup: Sendable { case debug1, debug2, debug3, plain, reason }

/// A literal run or a conversion of a compiled line, stored flat (no references),
/// so the search does no reference counting.
struct FlatPiece: Sendable {
    /// nil: a literal run of `count` bytes at `start` in the store's literal bytes.
    let hole: OpenSSHHole?
    let start: Int32
    let count: Int32
}

struct LinePattern: Sendable {
    let entry: Int32
    let line: Int32
    let group: LineGroup
    /// The pattern's pieces: `pieces[firstPiece ..< firstPiece + pieceCount]` of the store.
    let firstPiece: Int32
    let pieceCount: Int32
    /// Bytes of literal text: more literal text is a more specific format.
    let literalBytes: Int32
    /// Conversions other than text: a number is more specific than `%s`.
    let typedHoles: Int16
    let holes: Int16
    /// Index of the entry's last release (newer wins a tie).
    let lastRelease: Int32
    /// The shortest message that can fit (literals plus a byte per typed conversion).
    let minimumLength: Int32
}

/// Every compiled line of the table: patterns, their pieces and literal bytes in
/// three flat arrays.
struct PatternStore: Sendable {
    private(set) var lines: [LinePattern] = []
    private(set) var pieces: [FlatPiece] = []
    private(set) var literals: [UInt8] = []

    mutating func append(entry: Int, line: Int, group: LineGroup, pieces compiled: [OpenSSHPiece], lastRelease: Int) {
        let first = pieces.count
        var literal = 0, typed = 0, holes = 0
        for p in compiled {
            switch p {
            case .literal(let l):
                pieces.append(FlatPiece(hole: nil, start: Int32(literals.count), count: Int32(l.count)))
                literals += l
                literal += l.count
            case .hole(let h):
                pieces.append(FlatPiece(hole: h, start: 0, count: 0))
                holes += 1
                if h.shape != .text { typed += 1 }
            }
        }
        lines.append(LinePattern(entry: Int32(entry), line: Int32(line), group: group, firstPiece: Int32(first),
                                 pieceCount: Int32(compiled.count), literalBytes: Int32(literal), typedHoles: Int16(typed),
                                 holes: Int16(holes), lastRelease: Int32(lastRelease), minimumLength: Int32(literal + typed)))
    }

    /// The leading literal bytes of pattern k (the index key); empty when it starts with a conversion.
    func head(_ k: Int) -> ArraySlice<UInt8> {
        let p = pieces[Int(lines[k].firstPiece)]
        guard p.hole == nil else { return [] }
        return literals[Int(p.start)..<Int(p.start + p.count)]
    }

    /// The best pattern of `index` for message `m`, given to `found` with its
    /// conversions' extents: the index's buckets for the message's first bytes,
    /// then (when they give nothing, or nothing `want` prints) the fallback list.
    func search<T>(_ m: UnsafeBufferPointer<UInt8>, index: LineIndex, releaseMasks: [UInt64], want: UInt64,
                   _ found: (Int, [Range<Int>]) -> T) -> T? {
        lines.withUnsafeBufferPointer { lines in
            pieces.withUnsafeBufferPointer { pieces in
                literals.withUnsafeBufferPointer { literals in
                    releaseMasks.withUnsafeBufferPointer { masks in
                        var s = Search(message: m, lines: lines, pieces: pieces, literals: literals, releaseMasks: masks, want: want)
                        for n in index.keyLengths where n <= m.count {
                            if let bucket = index.buckets[LineIndex.key(UnsafeBufferPointer(rebasing: m[0..<n]))] { s.consider(bucket) }
                        }
                        if s.best < 0 || (want != 0 && !s.bestIsPrinted) { s.consider(index.fallback, probing: true) }
                        return s.best < 0 ? nil : found(s.best, s.bestSpans)
                    }
                }
            }
        }
    }
}

/// The patterns of one group, bucketed by their first literal bytes (up to 8):
/// a line is tried against the few patterns starting like it. Patterns that
/// start with a conversion are tried last.
struct LineIndex: Sendable {
    struct Key: Hashable, Sendable {
        let bytes: UInt64
        let count: UInt8
    }
    static let keyBytes = 8
    let buckets: [Key: [Int32]]
    /// The key lengths in use, longest first.
    let keyLengths: [Int]
    let fallback: [Int32]
    var indexedCount: Int { buckets.values.reduce(0) { $0 + $1.count } }

    init(_ store: PatternStore, group: LineGroup) {
        var buckets: [Key: [Int32]] = [:], fallback: [Int32] = []
        for (k, p) in store.lines.enumerated() where p.group == group {
            let head = store.head(k)
            if head.isEmpty { fallback.append(Int32(k)); continue }
            buckets[LineIndex.key(head.prefix(LineIndex.keyBytes)), default: []].append(Int32(k))
        }
        // Most literal text first: a search can stop once nothing left can beat its best.
        func order(_ list: [Int32]) -> [Int32] {
            list.sorted { a, b in
                let x = store.lines[Int(a)].literalBytes, y = store.lines[Int(b)].literalBytes
                return x != y ? x > y : a < b
            }
        }
        self.buckets = buckets.mapValues(order)
        self.fallback = order(fallback)
        keyLengths = Set(buckets.keys.map { Int($0.count) }).sorted(by: >)
    }

    static func key<C: Collection>(_ bytes: C) -> Key where C.Element == UInt8 {
        var v: UInt64 = 0
        for b in bytes { v = v << 8 | UInt64(b) }
        return Key(bytes: v, count: UInt8(bytes.count))
    }
}

/// One line's search for its best pattern.
struct Search {
    let message: UnsafeBufferPointer<UInt8>
    let lines: UnsafeBufferPointer<LinePattern>
    let pieces: UnsafeBufferPointer<FlatPiece>
    let literals: UnsafeBufferPointer<UInt8>
    let releaseMasks: UnsafeBufferPointer<UInt64>
    /// The wanted release's bit (0: any release).
    let want: UInt64
    var best = -1
    var bestIsPrinted = false
    var bestSpans: [Range<Int>] = []
    private var spans: [Range<Int>] = []

    init(message: UnsafeBufferPointer<UInt8>, lines: UnsafeBufferPointer<LinePattern>, pieces: UnsafeBufferPointer<FlatPiece>,
         literals: UnsafeBufferPointer<UInt8>, releaseMasks: UnsafeBufferPointer<UInt64>, want: UInt64) {
        self.message = message; self.lines = lines; self.pieces = pieces; self.literals = literals
        self.releaseMasks = releaseMasks; self.want = want
    }

    /// `probing`: first check that the pattern's literals occur in order in the
    /// message. Cheap next to the search of a pattern that starts with a
    /// conversion (it tries every place its first literal occurs), and a line
    /// that matches nothing (program output) would otherwise search them all.
    mutating func consider(_ candidates: [Int32], probing: Bool = false) {
        for c in candidates {
            let p = lines[Int(c)]
            let printed = want == 0 || releaseMasks[Int(p.entry)] & want != 0
            if best >= 0 {
                let q = lines[best]
                // Ordered by literal bytes: once the best is printed by the wanted
                // release (or none is wanted), nothing further in this list can win.
                if bestIsPrinted && p.literalBytes < q.literalBytes { return }
                if !beats(p, printed, q, bestIsPrinted) { continue }
            }
            guard Int(p.minimumLength) <= message.count else { continue }
            spans.removeAll(keepingCapacity: true)
            var fit = OpenSSHFit(pieces: UnsafeBufferPointer(rebasing: pieces[Int(p.firstPiece)..<Int(p.firstPiece + p.pieceCount)]),
                                 literals: literals, message: message)
            if probing && !fit.literalsOccurInOrder() { continue }
            guard fit.fits(0, 0, &spans) else { continue }
            best = Int(c)
            bestIsPrinted = printed
            bestSpans = spans
        }
    }

    /// Printed by the wanted release, then more literal bytes, more typed conversions,
    /// fewer conversions (`key %s` fits `key x` more tightly than `key %s%s`), newer.
    private func beats(_ p: LinePattern, _ printed: Bool, _ q: LinePattern, _ qPrinted: Bool) -> Bool {
        if printed != qPrinted { return printed }
        if p.literalBytes != q.literalBytes { return p.literalBytes > q.literalBytes }
        if p.typedHoles != q.typedHoles { return p.typedHoles > q.typedHoles }
        if p.holes != q.holes { return p.holes < q.holes }
        return p.lastRelease > q.lastRelease
    }
}

/// Whether a compiled line prints a message, depth first over the extents of the
/// conversions: a text conversion takes the shortest extent that lets the rest fit,
/// a number the longest run of its characters first. Every step and every 64
/// bytes scanned cost one unit of `budget`; past it the line does not fit, so a
/// hostile line full of the format's own delimiters stays cheap.
struct OpenSSHFit {
    let pieces: UnsafeBufferPointer<FlatPiece>
    let literals: UnsafeBufferPointer<UInt8>
    let m: UnsafeBufferPointer<UInt8>
    var budget = 20_000

    init(pieces: UnsafeBufferPointer<FlatPiece>, literals: UnsafeBufferPointer<UInt8>, message: UnsafeBufferPointer<UInt8>) {
        self.pieces = pieces; self.literals = literals; self.m = message
    }

    /// The extents of the conversions of `pieces` in `text`, or nil when it does not fit.
    static func extents(_ pieces: [OpenSSHPiece], _ text: [UInt8]) -> [Range<Int>]? {
        var store = PatternStore()
        store.append(entry: 0, line: 0, group: .plain, pieces: pieces, lastRelease: 0)
        var spans: [Range<Int>] = []
        let fits = store.pieces.withUnsafeBufferPointer { p in
            store.literals.withUnsafeBufferPointer { l in
                text.withUnsafeBufferPointer { m in
                    var fit = OpenSSHFit(pieces: p, literals: l, message: m)
                    return fit.fits(0, 0, &spans)
                }
            }
        }
        return fits ? spans : nil
    }

    /// Whether pieces[k...] print m[pos...]; `spans` gets each conversion's extent.
    mutating func fits(_ k: Int, _ pos: Int, _ spans: inout [Range<Int>]) -> Bool {
        budget -= 1
        if budget < 0 { return false }
        if k == pieces.count { return pos == m.count }
        let piece = pieces[k]
        guard let h = piece.hole else {
            guard has(piece, at: pos) else { return false }
            return fits(k + 1, pos + Int(piece.count), &spans)
        }
        guard h.shape == .text else {
            guard let ends = OpenSSHFit.extent(h, m, pos) else { return false }
            for end in ends.reversed() {
                if fitsAfter(k, pos..<end, &spans) { return true }
                if budget < 0 { return false }
            }
            return false
        }
        if k + 1 == pieces.count {
            spans.append(pos..<m.count)
            return true
        }
        let next = pieces[k + 1]
        guard next.hole == nil else {
            // Another conversion follows (`%s%u`): try every split.
            for end in pos...m.count {
                if fitsAfter(k, pos..<end, &spans) { return true }
                if budget < 0 { return false }
            }
            return false
        }
        let n = Int(next.count)
        // A literal that ends the format must end the line: anchor it there.
        if k + 2 == pieces.count {
            let at = m.count - n
            guard at >= pos, has(next, at: at) else { return false }
            spans.append(pos..<at)
            return true
        }
        let first = literals[Int(next.start)]
        var i = pos
        while i + n <= m.count {
            if m[i] == first && has(next, at: i) {
                if fitsAfter(k, pos..<i, &spans) { return true }
                if budget < 0 { return false }
            }
            i += 1
            if i & 63 == 0 { budget -= 1; if budget < 0 { return false } }
        }
        return false
    }

    /// Whether each literal occurs after the previous one: needed for a fit (taking
    /// each literal's first occurrence leaves the most room for the rest).
    func literalsOccurInOrder() -> Bool {
        var pos = 0
        for piece in pieces where piece.hole == nil {
            let n = Int(piece.count), first = Int32(literals[Int(piece.start)])
            while true {
                guard pos + n <= m.count, let hit = memchr(m.baseAddress! + pos, first, m.count - n - pos + 1) else { return false }
                let at = UnsafeRawPointer(hit) - UnsafeRawPointer(m.baseAddress!)
                if has(piece, at: at) { pos = at + n; break }
                pos = at + 1
            }
        }
        return true
    }

    /// Conversion k takes `extent`; whether the rest fits after it.
    @inline(__always)
    private mutating func fitsAfter(_ k: Int, _ extent: Range<Int>, _ spans: inout [Range<Int>]) -> Bool {
        spans.append(extent)
        if fits(k + 1, extent.upperBound, &spans) { return true }
        spans.removeLast()
        return false
    }

    @inline(__always)
    private func has(_ literal: FlatPiece, at pos: Int) -> Bool {
        let n = Int(literal.count)
        guard pos >= 0, pos + n <= m.count else { return false }
        return memcmp(m.baseAddress! + pos, literals.baseAddress! + Int(literal.start), n) == 0
    }

    /// Where a typed conversion starting at `pos` can end (nil: it cannot start there).
    static func extent(_ h: OpenSSHHole, _ m: UnsafeBufferPointer<UInt8>, _ pos: Int) -> ClosedRange<Int>? {
        var i = pos
        if h.padded { while i < m.count && m[i] == 0x20 { i += 1 } }
        @inline(__always) func run(_ ok: (UInt8) -> Bool) -> ClosedRange<Int>? {
            let start = i
            while i < m.count && ok(m[i]) { i += 1 }
            return i > start ? (start + 1)...i : nil
        }
        let digit = { (c: UInt8) in c >= 0x30 && c <= 0x39 }
        let hexDigit = { (c: UInt8) in digit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) }
        switch h.shape {
        case .text:
            return pos...m.count
        case .signed:
            if i < m.count && m[i] == 0x2D { i += 1 }
            return run(digit)
        case .unsigned:
            return run(digit)
        case .hex:
            return run(hexDigit)
        case .octal:
            return run { $0 >= 0x30 && $0 <= 0x37 }
        case .decimal:
            if i < m.count && m[i] == 0x2D { i += 1 }
            guard i < m.count, digit(m[i]) else { return nil }
            return run { digit($0) || $0 == 0x2E }
        case .pointer:
            // "0x…", or glibc's "(nil)".
            if i + 5 <= m.count && m[i] == 0x28 && m[i + 1] == 0x6E && m[i + 2] == 0x69 && m[i + 3] == 0x6C && m[i + 4] == 0x29 {
                return (i + 5)...(i + 5)
            }
            guard i + 2 <= m.count, m[i] == 0x30, m[i + 1] == 0x78 else { return nil }
            i += 2
            return run(hexDigit)
        case .character:
            // One character, or strnvis's `\ooo` / `\\` for a control byte or a backslash.
            guard i < m.count else { return nil }
            let c = m[i]
            if c == 0x5C {
                if i + 3 < m.count, (1...3).allSatisfy({ m[i + $0] >= 0x30 && m[i + $0] <= 0x37 }) { return (i + 4)...(i + 4) }
                if i + 1 < m.count, m[i + 1] == 0x5C { return (i + 2)...(i + 2) }
            }
            let n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1
            return i + n <= m.count ? (i + n)...(i + n) : nil
        }
    }
}
