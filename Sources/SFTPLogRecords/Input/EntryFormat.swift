import Foundation

/// A compiled SFTPPlus `entry_content` format string (`{timestamp.cwa_14051} | {id} | {message}`).
/// The same variable names name the columns of `structured_fields` CSV files.
public struct EntryFormat: Sendable {
    public enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case variable(String)
    }

    public let source: String
    public let segments: [Segment]

    public enum CompileError: Error, CustomStringConvertible {
        case unterminated(String)
        case adjacentVariables(String, String)
        case unknownVariable(String)
        public var description: String {
            switch self {
            case .unterminated(let f): return "entry format \(f.debugDescription): a '{' has no closing '}'"
            case .adjacentVariables(let a, let b):
                return "entry format: {\(a)}{\(b)} have no text between them, so they cannot be told apart"
            case .unknownVariable(let v): return "entry format: unknown variable {\(v)}"
            }
        }
    }

    /// Variables SFTPPlus documents for event formats (matched case-insensitively).
    static let fixedVariables: Set<String> = [
        "id", "uuid", "message", "data_json",
        "account.name", "account.uuid", "account.peer.address", "account.peer.port", "account.peer.protocol",
        "account.peer", "component.uuid", "component.name", "component.type",
        "server.name", "server.uuid", "server.hostname", "server.address",
        "timestamp.cwa_14051", "timestamp.iso_8601", "timestamp.iso_8601_fractional",
        "timestamp.iso_8601_local", "timestamp.iso_8601_basic", "timestamp.iso_8601_compact",
        "timestamp.timestamp",
    ]
    /// Special variables that stand for characters.
    static let characterVariables: [String: [UInt8]] = ["lf": [0x0A], "cr": [0x0D], "tab": [0x09], "crlf": [0x0D, 0x0A]]

    public static func isKnownVariable(_ name: String) -> Bool {
        let n = name.lowercased()
        return fixedVariables.contains(n) || n.hasPrefix("data.") || n.hasPrefix("server.") || n.hasPrefix("component.")
            || n.hasPrefix("account.")
    }

    public init(_ format: String) throws {
        source = format
        var segs: [Segment] = []
        var lit: [UInt8] = []
        let bytes = Array(format.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x7B {  // {
                if i + 1 < bytes.count && bytes[i + 1] == 0x7B { lit.append(b); i += 2; continue }
                guard let close = bytes[i...].firstIndex(of: 0x7D) else { throw CompileError.unterminated(format) }
                let name = String(decoding: bytes[(i + 1)..<close], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                let lower = name.lowercased()
                if let chars = EntryFormat.characterVariables[lower] {
                    lit += chars
                } else {
                    guard EntryFormat.isKnownVariable(lower) else { throw CompileError.unknownVariable(name) }
                    if !lit.isEmpty { segs.append(.literal(lit)); lit = [] }
                    if case .variable(let prev)? = segs.last { throw CompileError.adjacentVariables(prev, name) }
                    segs.append(.variable(lower))
                }
                i = close + 1
            } else if b == 0x7D && i + 1 < bytes.count && bytes[i + 1] == 0x7D {
                lit.append(b); i += 2
            } else {
                lit.append(b); i += 1
            }
        }
        // Trailing line terminators ({LF}) end the physical line; they are not content.
        while let l = lit.last, l == 0x0A || l == 0x0D { lit.removeLast() }
        if !lit.isEmpty { segs.append(.literal(lit)) }
        segments = segs
    }

    /// Matches a whole line; returns variable values by name, or nil.
    /// Literal-anchored: each variable extends to an occurrence of the following
    /// literal. `message` and `data_json` prefer the last occurrence that lets the
    /// rest match (they may contain the delimiter); other variables the first
    /// occurrence whose value is valid for the variable.
    public func match(_ p: UnsafeBufferPointer<UInt8>) -> [(String, String)]? {
        var values: [(String, Range<Int>)] = []
        guard matchFrom(0, 0, p, &values) else { return nil }
        return values.map { ($0.0, UTF8Text.decode(UnsafeBufferPointer(rebasing: p[$0.1])).0) }
    }

    private func matchFrom(_ seg: Int, _ pos: Int, _ p: UnsafeBufferPointer<UInt8>, _ values: inout [(String, Range<Int>)]) -> Bool {
        if seg == segments.count { return pos == p.count }
        switch segments[seg] {
        case .literal(let lit):
            guard EntryFormat.hasPrefix(p, at: pos, lit) else { return false }
            return matchFrom(seg + 1, pos + lit.count, p, &values)
        case .variable(let name):
            if seg + 1 == segments.count {
                guard EntryFormat.valid(name, p, pos..<p.count) else { return false }
                values.append((name, pos..<p.count))
                return true
            }
            guard case .literal(let next) = segments[seg + 1] else { return false }
            var candidates = EntryFormat.occurrences(of: next, in: p, from: pos)
            if name == "message" || name == "data_json" { candidates.reverse() }
            for c in candidates where EntryFormat.valid(name, p, pos..<c) {
                values.append((name, pos..<c))
                if matchFrom(seg + 1, c, p, &values) { return true }
                values.removeLast()
            }
            return false
        }
    }

    /// Inlinable: the catalogue's wording matcher calls it for every literal it tries.
    @inlinable
    package static func hasPrefix(_ p: UnsafeBufferPointer<UInt8>, at pos: Int, _ lit: [UInt8]) -> Bool {
        guard pos + lit.count <= p.count else { return false }
        for k in 0..<lit.count where p[pos + k] != lit[k] { return false }
        return true
    }

    static func occurrences(of lit: [UInt8], in p: UnsafeBufferPointer<UInt8>, from: Int) -> [Int] {
        var out: [Int] = []
        guard let first = lit.first else { return out }
        var i = from
        while i + lit.count <= p.count {
            if p[i] == first && hasPrefix(p, at: i, lit) { out.append(i) }
            i += 1
        }
        return out
    }

    /// Cheap validity checks that keep variables from swallowing delimiters.
    static func valid(_ name: String, _ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Bool {
        let s = UnsafeBufferPointer(rebasing: p[r])
        switch name {
        case "id", "account.peer.port":
            return !s.isEmpty && s.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        case "message", "data_json":
            return true
        case "timestamp.timestamp":
            return !s.isEmpty && s.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }
        default:
            if name.hasPrefix("timestamp.") {
                guard let (_, end) = TimestampScanner.iso(s, at: 0) else { return false }
                return end == s.count
            }
            // Names, uuids, addresses: no spaces unless the format puts them there.
            return !s.contains(0x0A)
        }
    }
}
