import Foundation

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

    /// From what JSONSerialization (NSNumber, with booleans as their own kind)
    /// or Yams (Swift values) returns.
    init(_ v: Any) {
        switch v {
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(a.map(PolicyValue.init))
        case let o as [String: Any]: self = .object(o.mapValues(PolicyValue.init))
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

    /// Back to Foundation values, for JSONSerialization (`--print-policy`).
    var foundation: Any {
        switch self {
        case .string(let s): return s
        case .int(let i): return i
        case .double(let d): return d
        case .bool(let b): return b
        case .array(let a): return a.map(\.foundation)
        case .object(let o): return o.mapValues(\.foundation)
        case .null: return NSNull()
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
