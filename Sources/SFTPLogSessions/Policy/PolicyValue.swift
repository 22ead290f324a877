import Foundation
import SFTPLogRecords

/// A value of a policy file, as JSON or YAML gives it: the policy's tree is
/// made of these, so it is an immutable Sendable value shared by threads.
public indirect enum PolicyValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([PolicyValue])
    case object([String: PolicyValue])
    case null

    /// From a JSON policy file.
    init(_ j: JSONValue) {
        switch j {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .bool(let b): self = .bool(b)
        case .array(let a): self = .array(a.map(PolicyValue.init))
        case .object(let pairs):
            var o: [String: PolicyValue] = [:]
            for (k, v) in pairs { o[k] = PolicyValue(v) }
            self = .object(o)
        case .null: self = .null
        }
    }

    /// From what Yams returns for a YAML policy file (Swift values).
    init(yaml v: Any) {
        switch v {
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(a.map(PolicyValue.init(yaml:)))
        case let o as [String: Any]: self = .object(o.mapValues(PolicyValue.init(yaml:)))
        case let b as Bool where type(of: v) == Bool.self: self = .bool(b)
        case let i as Int where type(of: v) == Int.self: self = .int(i)
        case let d as Double where type(of: v) == Double.self: self = .double(d)
        case let n as NSNumber:
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "d", "f": self = .double(n.doubleValue)
            default: self = .int(n.intValue)
            }
        default: self = .null
        }
    }

    /// As JSON (`--print-policy`, error messages), object keys in the order
    /// JSONSerialization's `.sortedKeys` gave them: numbers within names compare
    /// as numbers (curve448 before curve25519), case ignored.
    var json: JSONValue {
        switch self {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .bool(let b): return .bool(b)
        case .array(let a): return .array(a.map(\.json))
        case .object(let o):
            let order: String.CompareOptions = [.numeric, .caseInsensitive, .forcedOrdering, .widthInsensitive]
            return .object(o.sorted { $0.key.compare($1.key, options: order) == .orderedAscending }.map { ($0.key, $0.value.json) })
        case .null: return .null
        }
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var object: [String: PolicyValue]? { if case .object(let o) = self { return o }; return nil }
    public var array: [PolicyValue]? { if case .array(let a) = self { return a }; return nil }

    /// A whole number (a JSON number written with a fraction counts when it is whole).
    public var int: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int(exactly: d)
        default: return nil
        }
    }

    /// `true`/`false` (JSON's 1 and 0 count too, as Foundation counted them).
    public var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .int(let i) where i == 0 || i == 1: return i == 1
        default: return nil
        }
    }

    /// A list of strings; nil when any element is not one.
    public var strings: [String]? {
        guard let a = array else { return nil }
        let s = a.compactMap(\.string)
        return s.count == a.count ? s : nil
    }

    /// The member `key` of an object.
    public subscript(key: String) -> PolicyValue? { object?[key] }
}
