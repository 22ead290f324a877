import Foundation

/// A JSON value with ordered object keys, so output field order is stable
/// and matches the order the issues document.
public indirect enum JSONValue: Equatable, Sendable {
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

    public var stringValue: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return JSONValue.format(d)
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// Converts a Foundation JSON object (from JSONSerialization). Key order of
    /// objects is not preserved by Foundation, so keys are sorted.
    public static func from(foundation v: Any) -> JSONValue {
        switch v {
        case is NSNull: return .null
        case let s as String: return .string(s)
        case let n as NSNumber:
            // JSON booleans come back as NSNumber with the `c` (char) type; JSON has no chars.
            if String(cString: n.objCType) == "c" { return .bool(n.boolValue) }
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 9.0e15, !String(describing: n).contains(".") { return .int(n.intValue) }
            return .double(d)
        case let a as [Any]: return .array(a.map { from(foundation: $0) })
        case let o as [String: Any]:
            return .object(o.keys.sorted().map { ($0, from(foundation: o[$0]!)) })
        default: return .string(String(describing: v))
        }
    }

    package static func format(_ d: Double) -> String {
        if d.isNaN || d.isInfinite { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int(d)) }
        return String(d)
    }

    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += JSONValue.format(d)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let a):
            out += "["
            for (k, v) in a.enumerated() {
                if k > 0 { out += "," }
                v.write(to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (k, p) in pairs.enumerated() {
                if k > 0 { out += "," }
                JSONValue.writeString(p.0, to: &out)
                out += ":"
                p.1.write(to: &out)
            }
            out += "}"
        }
    }

    public var json: String {
        var s = ""
        write(to: &s)
        return s
    }

    /// JSON string escaping: quotes, backslash, every control character (so log
    /// content can never inject terminal escapes through JSON output), and the
    /// line/paragraph separators that break JavaScript consumers.
    public static func writeString(_ s: String, to out: inout String) {
        out += "\""
        var needs = false
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F || b == 0xE2 { needs = true; break }
        if !needs { out += s; out += "\""; return }
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if u.value < 0x20 || u.value == 0x7F {
                    out += "\\u" + String(u.value, radix: 16).leftPadded(4)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    /// Parses JSON text into a JSONValue (objects keep sorted keys). Refuses
    /// nesting deeper than `maxDepth` before handing the text to Foundation,
    /// so hostile input cannot exhaust the stack.
    public static let defaultMaxDepth = 64

    /// Deepest `{`/`[` nesting in JSON text, brackets inside strings ignored.
    public static func nestingDepth(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
            } else if b == 0x22 { inString = true }
            else if b == 0x7B || b == 0x5B { depth += 1; deepest = max(deepest, depth) }
            else if b == 0x7D || b == 0x5D { depth -= 1 }
        }
        return deepest
    }

    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) -> JSONValue? {
        guard bytes.withUnsafeBufferPointer(nestingDepth) <= maxDepth,
              let obj = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return nil }
        return from(foundation: obj)
    }
}
