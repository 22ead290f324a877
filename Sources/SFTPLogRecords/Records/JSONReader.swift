import Foundation

extension JSONValue {
    /// Parses JSON text into a JSONValue, object keys sorted (a repeated key keeps
    /// its last value). Nesting deeper than `maxDepth` is refused, so hostile input
    /// cannot exhaust the stack.
    ///
    /// The one JSON reader of sftplog. A hand-written reader takes what it can
    /// decide exactly (everything but numbers with a fraction or exponent, and
    /// integers beyond 15 digits): Foundation's round trip was a sixth of loading
    /// 63k stored sessions. The rest, and anything malformed, goes to
    /// JSONSerialization, whose answer stands.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) -> JSONValue? {
        let fast = bytes.withUnsafeBufferPointer { p -> JSONValue? in
            var reader = JSONReader(p, maxDepth: maxDepth)
            guard let v = reader.value(depth: 0) else { return nil }
            reader.skipSpace()
            return reader.i == p.count ? v : nil
        }
        return fast ?? foundationParse(bytes, maxDepth: maxDepth)
    }

    public static func parse(_ data: Data, maxDepth: Int = defaultMaxDepth) -> JSONValue? { parse([UInt8](data), maxDepth: maxDepth) }

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

    private static func foundationParse(_ bytes: [UInt8], maxDepth: Int) -> JSONValue? {
        guard bytes.withUnsafeBufferPointer(nestingDepth) <= maxDepth,
              let obj = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else { return nil }
        return from(foundation: obj)
    }

    /// Where malformed JSON text stops parsing, as a byte offset, from the parser's
    /// own account; nil for valid text or when it does not say.
    public static func failureOffset(_ bytes: [UInt8]) -> Int? {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            return nil
        } catch {
            let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? ""
            guard let r = text.range(of: "character ") else { return nil }
            return Int(text[r.upperBound...].prefix { $0.isNumber })
        }
    }

    /// Converts a Foundation JSON object (from JSONSerialization). Key order of
    /// objects is not preserved by Foundation, so keys are sorted.
    package static func from(foundation v: Any) -> JSONValue {
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
}

/// Reads the JSON it can decide exactly; nil hands the text to Foundation.
private struct JSONReader {
    let p: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var i = 0
    init(_ p: UnsafeBufferPointer<UInt8>, maxDepth: Int) { self.p = p; self.maxDepth = maxDepth }

    mutating func skipSpace() {
        while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
    }

    mutating func literal(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i + n <= p.count else { return false }
        for k in 0..<n where p[i + k] != s.utf8Start[k] { return false }
        i += n
        return true
    }

    mutating func value(depth: Int) -> JSONValue? {
        guard depth < maxDepth else { return nil }
        skipSpace()
        guard i < p.count else { return nil }
        switch p[i] {
        case 0x22: return string().map(JSONValue.string)
        case 0x7B:
            i += 1
            var pairs: [(String, JSONValue)] = []
            skipSpace()
            if i < p.count, p[i] == 0x7D { i += 1; return .object([]) }
            while true {
                skipSpace()
                guard i < p.count, p[i] == 0x22, let k = string() else { return nil }
                skipSpace()
                guard i < p.count, p[i] == 0x3A else { return nil }
                i += 1
                guard let v = value(depth: depth + 1) else { return nil }
                pairs.append((k, v))
                skipSpace()
                guard i < p.count else { return nil }
                if p[i] == 0x2C { i += 1; continue }
                if p[i] == 0x7D { i += 1; break }
                return nil
            }
            // Same shape as `parse`: keys sorted, a repeated key keeps its last value.
            var seen: [String: Int] = [:]
            var unique: [(String, JSONValue)] = []
            for (k, v) in pairs {
                if let at = seen[k] { unique[at].1 = v } else { seen[k] = unique.count; unique.append((k, v)) }
            }
            return .object(unique.sorted { $0.0 < $1.0 })
        case 0x5B:
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < p.count, p[i] == 0x5D { i += 1; return .array([]) }
            while true {
                guard let v = value(depth: depth + 1) else { return nil }
                items.append(v)
                skipSpace()
                guard i < p.count else { return nil }
                if p[i] == 0x2C { i += 1; continue }
                if p[i] == 0x5D { i += 1; break }
                return nil
            }
            return .array(items)
        case 0x74: return literal("true") ? .bool(true) : nil
        case 0x66: return literal("false") ? .bool(false) : nil
        case 0x6E: return literal("null") ? .null : nil
        default: return number()
        }
    }

    /// Plain integers only; anything with a fraction or exponent goes to Foundation.
    mutating func number() -> JSONValue? {
        var k = i
        if k < p.count, p[k] == 0x2D { k += 1 }
        let digits = k
        while k < p.count, p[k] >= 0x30, p[k] <= 0x39 { k += 1 }
        let n = k - digits
        guard n > 0, n <= 15, !(n > 1 && p[digits] == 0x30) else { return nil }
        if k < p.count, p[k] == 0x2E || p[k] == 0x65 || p[k] == 0x45 { return nil }
        var v = 0
        for j in digits..<k { v = v * 10 + Int(p[j] - 0x30) }
        if digits > i { v = -v }
        i = k
        return .int(v)
    }

    /// A string, escapes decoded; a lone surrogate goes to Foundation.
    mutating func string() -> String? {
        i += 1
        let start = i
        var escaped = false
        while i < p.count, p[i] != 0x22 {
            if p[i] == 0x5C { escaped = true; i += 2; continue }
            if p[i] < 0x20 { return nil }
            i += 1
        }
        guard i < p.count else { return nil }
        defer { i += 1 }
        let body = UnsafeBufferPointer(rebasing: p[start..<i])
        if !escaped {
            // ASCII (nearly every string) needs no validation: the generic validating
            // initializer was most of loading the catalogue.
            if UTF8Text.asciiPrefixCount(body) == body.count { return String(decoding: body, as: UTF8.self) }
            return String(validating: body, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var j = 0
        while j < body.count {
            let c = body[j]
            guard c == 0x5C else { out.append(c); j += 1; continue }
            guard j + 1 < body.count else { return nil }
            switch body[j + 1] {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x75:
                guard let hi = hex4(body, j + 2) else { return nil }
                var scalar = hi
                j += 6
                if (0xD800..<0xDC00).contains(hi) {
                    guard j + 1 < body.count, body[j] == 0x5C, body[j + 1] == 0x75, let lo = hex4(body, j + 2),
                          (0xDC00..<0xE000).contains(lo) else { return nil }
                    scalar = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    j += 6
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: String(u).utf8)
                continue
            default: return nil
            }
            j += 2
        }
        return out.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
    }

    /// Four hex digits at `at`, as a number.
    private func hex4(_ b: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32? {
        guard at + 4 <= b.count else { return nil }
        var v: UInt32 = 0
        for k in at..<(at + 4) {
            let c = b[k]
            switch c {
            case 0x30...0x39: v = v << 4 | UInt32(c - 0x30)
            case 0x41...0x46: v = v << 4 | UInt32(c - 0x37)
            case 0x61...0x66: v = v << 4 | UInt32(c - 0x57)
            default: return nil
            }
        }
        return v
    }
}
