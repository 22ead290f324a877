import Foundation

extension JSONValue {
    /// Parses JSON that sftplog itself wrote into the store (session details,
    /// fields, extra) with the same result as `parse` (sorted object keys), without
    /// the Foundation round trip that was a sixth of loading 63k sessions. Anything
    /// unexpected falls back to `parse`, so odd input is judged the usual way.
    public static func parseStored(_ bytes: [UInt8]) -> JSONValue? {
        let fast = bytes.withUnsafeBufferPointer { p -> JSONValue? in
            var reader = StoredJSONReader(p)
            guard let v = reader.value(depth: 0) else { return nil }
            reader.skipSpace()
            return reader.i == p.count ? v : nil
        }
        return fast ?? parse(bytes)
    }
}

private struct StoredJSONReader {
    let p: UnsafeBufferPointer<UInt8>
    var i = 0
    init(_ p: UnsafeBufferPointer<UInt8>) { self.p = p }

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
        guard depth < JSONValue.defaultMaxDepth else { return nil }
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

    /// A string without escapes or with the simple ones; `\u` escapes go to Foundation.
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
        if !escaped { return String(validating: body, as: UTF8.self) }
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
            default: return nil
            }
            j += 2
        }
        return out.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
    }
}
