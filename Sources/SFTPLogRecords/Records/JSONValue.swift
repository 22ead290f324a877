import Foundation

/// A JSON value with ordered object keys, so output field order is stable
/// and matches the order the issues document. Not `indirect`: arrays already
/// hold their elements out of line, and boxing every value cost an allocation
/// per field of every resolved record.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.double(x), .double(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first(where: { $0.0 == key })?.1 }
        return nil
    }

    // Typed reads for data files (catalogue, policy, rules): nil when the value
    // is of another kind, as a Foundation `as?` cast gave.
    public var textValue: String? { if case .string(let s) = self { return s }; return nil }
    public var intValue: Int? { if case .int(let i) = self { return i }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [(String, JSONValue)]? { if case .object(let o) = self { return o }; return nil }
    /// An array of strings only; nil when any element is something else.
    public var texts: [String]? {
        guard case .array(let a) = self else { return nil }
        var out: [String] = []
        out.reserveCapacity(a.count)
        for v in a { guard case .string(let s) = v else { return nil }; out.append(s) }
        return out
    }

    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return JSONValue.format(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    package static func format(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return String(d)
    }

    /// Where in `t`, a decimal `digits.digits`, is what `format` writes for the
    /// number it reads as: the digits without leading and trailing zeros, when
    /// there are at most 15 of them and the number is 0.1 or more (then the one
    /// double nearest to it prints as those digits). Nil when unsure: `format` it.
    package static func plainDecimal(_ t: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let n = t.count
        var dot = 0
        while dot < n, t[dot] &- 0x30 < 10 { dot += 1 }
        guard dot > 0, dot < n - 1, t[dot] == 0x2E else { return nil }
        var end = n
        for k in (dot + 1)..<n where t[k] &- 0x30 >= 10 { return nil }
        while t[end - 1] == 0x30 { end -= 1 }
        var start = 0
        while start < dot, t[start] == 0x30 { start += 1 }
        if end == dot + 1 {
            // A whole number: `format` writes it as an integer.
            if start == dot { return (dot - 1)..<dot }
            return dot - start <= 15 ? start..<dot : nil
        }
        if start == dot {
            // `0.d…`: one zero before the point, a first fraction digit that is not zero.
            guard t[dot + 1] != 0x30 else { return nil }
            return end - dot - 1 <= 15 ? (dot - 1)..<end : nil
        }
        return (dot - start) + (end - dot - 1) <= 15 ? start..<end : nil
    }

    // Text forms of the one writer, JSONBytes.

    public func write(to out: inout String) {
        var j = JSONBytes(capacity: 64)
        j.value(self)
        out += j.text
    }

    public var json: String {
        var j = JSONBytes(capacity: 64)
        j.value(self)
        return j.text
    }

    /// Indented two spaces a level, `"key" : value`, for files people read and edit.
    public var prettyJSON: String {
        var j = JSONBytes(capacity: 1024)
        j.pretty(self, indent: 0)
        return j.text
    }

    /// JSON string escaping (see `JSONBytes.string`).
    public static func writeString(_ s: String, to out: inout String) {
        var j = JSONBytes(capacity: s.utf8.count + 2)
        j.string(s)
        out += j.text
    }
}
