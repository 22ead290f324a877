/// Appends JSON straight into a byte buffer: the NDJSON and store hot paths
/// write millions of small values, and String concatenation cost 20 µs a record.
public struct JSONBytes {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Whether any byte of the word is a control character, `"`, `\\`, DEL or
    /// non-ASCII (bit tricks from "Bit Twiddling Hacks": exact for "any byte").
    @inline(__always) static func wordNeedsCare(_ x: UInt64) -> Bool { careMask(x) != 0 }

    /// The high bit of each byte of `x` that may need care. Each test flags its
    /// lowest matching byte exactly (a borrow only runs upwards), so the lowest
    /// flag is a byte that needs care, or at least a look.
    @inline(__always) static func careMask(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        func hasZero(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & high }
        let below20 = (x &- ones &* 0x20) & ~x & high
        return below20 | hasZero(x ^ (ones &* 0x22)) | hasZero(x ^ (ones &* 0x5C)) | hasZero(x ^ (ones &* 0x7F)) | (x & high)
    }

    /// From `i`, where the first byte that may need care is: clean bytes skipped
    /// a word at a time, and within a word by its mask. Stops at the last seven
    /// bytes or fewer, for a byte loop. A message quoting paths and names had the
    /// byte loop step through every word holding a quote.
    @inline(__always) static func skipClean(_ src: UnsafePointer<UInt8>, from i: Int, _ n: Int) -> Int {
        var i = i
        while i + 8 <= n {
            let m = careMask(UInt64(littleEndian: UnsafeRawPointer(src + i).loadUnaligned(as: UInt64.self)))
            if m != 0 { return i + m.trailingZeroBitCount >> 3 }
            i += 8
        }
        return i
    }

    /// `needsNoEscape` for a short run of bytes, a word at a time: `n` > 0.
    @inline(__always) static func isClean(_ src: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let raw = UnsafeRawPointer(src)
        guard n >= 8 else {
            // Two overlapping halves, or the bytes padded with spaces (which need no
            // escaping): a call to copy them cost more than the check.
            if n >= 4 {
                let a = UInt64(raw.loadUnaligned(as: UInt32.self)), b = UInt64(raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
                return !wordNeedsCare(a | b << 32)
            }
            var w: UInt64 = 0x2020_2020_2020_2020
            for i in 0..<n { w = w << 8 | UInt64(src[i]) }
            return !wordNeedsCare(w)
        }
        var i = 0
        while i + 8 <= n {
            if wordNeedsCare(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { return false }
            i += 8
        }
        return i == n || !wordNeedsCare(raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
    }

    /// Copies `n` bytes, which must not overlap; up to 32 by overlapping loads and
    /// stores instead of a call to `memmove` (most strings a line's JSON holds are that short).
    @inlinable @inline(__always) static func copyShort(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, _ n: Int) {
        let from = UnsafeRawPointer(src), to = UnsafeMutableRawPointer(dst)
        switch n {
        case 17...32:
            let a = from.loadUnaligned(as: UInt64.self), b = from.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let c = from.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self), d = from.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            to.storeBytes(of: a, as: UInt64.self)
            to.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
            to.storeBytes(of: c, toByteOffset: n - 16, as: UInt64.self)
            to.storeBytes(of: d, toByteOffset: n - 8, as: UInt64.self)
        case 8...16:
            let a = from.loadUnaligned(as: UInt64.self), b = from.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            to.storeBytes(of: a, as: UInt64.self)
            to.storeBytes(of: b, toByteOffset: n - 8, as: UInt64.self)
        case 4..<8:
            let a = from.loadUnaligned(as: UInt32.self), b = from.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            to.storeBytes(of: a, as: UInt32.self)
            to.storeBytes(of: b, toByteOffset: n - 4, as: UInt32.self)
        case 0..<4:
            for i in 0..<n { dst[i] = src[i] }
        default:
            dst.update(from: src, count: n)
        }
    }

    /// Whether `string` writes these bytes as they are between its quotes
    /// (nothing to escape), skipping clean runs eight bytes at a time.
    package static func needsNoEscape(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = p.baseAddress else { return true }
        let n = p.count
        var i = 0
        while i < n {
            i = skipClean(base, from: i, n)
            if i >= n { break }
            let c = p[i]
            if c < 0x20 || c == 0x22 || c == 0x5C || c == 0x7F { return false }
            if c == 0xE2, i + 2 < n, p[i + 1] == 0x80, p[i + 2] == 0xA8 || p[i + 2] == 0xA9 { return false }
            i += 1
        }
        return true
    }

    /// A JSON string: quotes, backslash and every control character escaped
    /// (log content can never inject terminal escapes through JSON), plus U+2028/9.
    /// Clean runs are skipped eight bytes at a time (the byte loop was a fifth of `parse`).
    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { escaped($0) }
    }

    /// A JSON string of a column's bytes as stored: as `string(String(decoding:))`
    /// would write it (invalid UTF-8 repaired), without making a String when the
    /// bytes are ASCII.
    public mutating func string(stored p: UnsafeBufferPointer<UInt8>) {
        if UTF8Text.asciiPrefixCount(p) == p.count { escaped(p) } else { string(String(decoding: p, as: UTF8.self)) }
    }

    /// `p` must be valid UTF-8.
    mutating func escaped(_ p: UnsafeBufferPointer<UInt8>) {
        // Six bytes per input byte at worst (`\u00XX`), and the quotes.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 6 * p.count + 2) { t in
            let n = JSONBytes.writeEscaped(p, to: t.baseAddress!)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: t[0..<n]))
        }
    }

    /// The one JSON string escaping (`JSONBytes`, `JSONOutput`): `p` between quotes
    /// written at `o`, which has room for 6 × `p.count` + 2 bytes. Returns the bytes written.
    static func writeEscaped(_ p: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
        escape(p, to: out, quoted: true)
    }

    /// `writeEscaped` without the quotes: a piece of a string (room for 6 × `p.count`).
    static func writeEscapedPiece(_ p: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
        escape(p, to: out, quoted: false)
    }

    @inline(__always) private static func escape(_ p: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>, quoted: Bool) -> Int {
        let n = p.count
        var o = out
        if quoted { o.pointee = 0x22; o += 1 }
        // Nearly every string has nothing to escape: checked a word at a time, the
        // last word overlapping, then copied whole (the byte loop's tail cost most
        // of a short string's escaping).
        if let src = p.baseAddress, n > 0, isClean(src, n) {
            copyShort(src, o, n)
            if quoted { o[n] = 0x22; return n + 2 }
            return n
        }
        if let src = p.baseAddress {
            var start = 0, i = 0
            while i < n {
                i = skipClean(src, from: i, n)
                if i >= n { break }
                let c = src[i]
                // A flag, not a sentinel byte: with `esc: UInt8 = 0` meaning "none", a NUL
                // (c == 0) was written raw, making the NDJSON line invalid JSON.
                var esc = false
                if c < 0x20 || c == 0x22 || c == 0x5C || c == 0x7F { esc = true }
                else if c == 0xE2, i + 2 < n, src[i + 1] == 0x80, src[i + 2] == 0xA8 || src[i + 2] == 0xA9 { esc = true }
                if !esc { i += 1; continue }
                if i > start { copyShort(src + start, o, i - start); o += i - start }
                o.pointee = 0x5C; o += 1
                switch c {
                case 0x22: o.pointee = 0x22; o += 1
                case 0x5C: o.pointee = 0x5C; o += 1
                case 0x0A: o.pointee = 0x6E; o += 1
                case 0x0D: o.pointee = 0x72; o += 1
                case 0x09: o.pointee = 0x74; o += 1
                case 0xE2:
                    o[0] = 0x75; o[1] = 0x32; o[2] = 0x30; o[3] = 0x32
                    o[4] = src[i + 2] == 0xA8 ? 0x38 : 0x39; o += 5
                    i += 3; start = i; continue
                default:
                    o[0] = 0x75; o[1] = 0x30; o[2] = 0x30
                    o[3] = hex[Int(c >> 4)]; o[4] = hex[Int(c & 15)]; o += 5
                }
                i += 1
                start = i
            }
            if n > start { copyShort(src + start, o, n - start); o += n - start }
        }
        if quoted { o.pointee = 0x22; o += 1 }
        return o - out
    }

    public mutating func int(_ v: Int) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: JSONBytes.maxDecimalBytes) { t in
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: t[0..<JSONBytes.writeDecimal(v, to: t.baseAddress!)]))
        }
    }

    /// The most bytes `writeDecimal` writes (`Int.min`: a sign and 19 digits).
    static let maxDecimalBytes = 20

    /// The one decimal rendering of an integer (`JSONBytes`, `JSONOutput`), written
    /// at `out` (room for `maxDecimalBytes`). Returns the bytes written.
    static func writeDecimal(_ v: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var x = v.magnitude
        var k = 0
        if v < 0 { out.pointee = 0x2D; k = 1 }
        var digits = 1, bound: UInt = 10
        while x >= bound, digits < 19 { digits += 1; bound &*= 10 }
        if digits == 19, x >= bound { digits = 20 }
        let end = k + digits
        // Two digits a division, from a table of the pairs 00…99.
        let pairs = decimalPairs.utf8Start
        var at = end
        while x >= 100 {
            let r = Int(x % 100) &* 2
            x /= 100
            at -= 2
            out[at] = pairs[r]; out[at + 1] = pairs[r + 1]
        }
        if x >= 10 {
            out[at - 2] = pairs[Int(x) &* 2]; out[at - 1] = pairs[Int(x) &* 2 + 1]
        } else {
            out[at - 1] = UInt8(x) + 0x30
        }
        return end
    }

    private static let decimalPairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    public mutating func key(_ k: StaticString) {
        bytes.append(0x22); raw(k); bytes.append(0x22); bytes.append(0x3A)
    }

    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: raw("null")
        case .bool(let b): if b { raw("true") } else { raw("false") }
        case .int(let i): int(i)
        case .double(let d): bytes.append(contentsOf: JSONValue.format(d).utf8)
        case .string(let s): string(s)
        case .array(let a):
            bytes.append(0x5B)
            for (k, x) in a.enumerated() { if k > 0 { bytes.append(0x2C) }; value(x) }
            bytes.append(0x5D)
        case .object(let pairs):
            object(pairs)
        }
    }

    public mutating func object(_ pairs: [(String, JSONValue)]) {
        bytes.append(0x7B)
        for (k, p) in pairs.enumerated() {
            if k > 0 { bytes.append(0x2C) }
            string(p.0); bytes.append(0x3A); value(p.1)
        }
        bytes.append(0x7D)
    }

    /// `v` indented two spaces a level, with `"key" : value` pairs.
    public mutating func pretty(_ v: JSONValue, indent: Int) {
        func newline(_ level: Int) {
            bytes.append(0x0A)
            bytes.append(contentsOf: repeatElement(0x20, count: 2 * level))
        }
        switch v {
        case .array(let a) where !a.isEmpty:
            bytes.append(0x5B)
            for (k, x) in a.enumerated() {
                if k > 0 { bytes.append(0x2C) }
                newline(indent + 1)
                pretty(x, indent: indent + 1)
            }
            newline(indent)
            bytes.append(0x5D)
        case .object(let pairs) where !pairs.isEmpty:
            bytes.append(0x7B)
            for (k, p) in pairs.enumerated() {
                if k > 0 { bytes.append(0x2C) }
                newline(indent + 1)
                string(p.0)
                raw(" : ")
                pretty(p.1, indent: indent + 1)
            }
            newline(indent)
            bytes.append(0x7D)
        default:
            value(v)
        }
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
