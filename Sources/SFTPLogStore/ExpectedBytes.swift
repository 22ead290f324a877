import Foundation

/// Bytes compared in order against the text they must rebuild: the write-time
/// checks that a view gives a stored value back byte for byte. A struct with
/// mutating methods, not nested functions over captured variables: those were
/// checked for exclusive access at run time, per byte and per piece (about 2%
/// of an ingest's instructions).
struct ExpectedBytes {
    let expected: UnsafeBufferPointer<UInt8>
    private(set) var at = 0
    private(set) var ok = true

    init(_ expected: UnsafeBufferPointer<UInt8>) { self.expected = expected }

    /// Every byte taken, and all of the expected text.
    var matchedAll: Bool { ok && at == expected.count }

    mutating func take(_ b: UInt8) {
        if ok, at < expected.count, expected[at] == b { at += 1 } else { ok = false }
    }

    mutating func take(_ u: UnsafeBufferPointer<UInt8>) {
        guard ok, u.count <= expected.count - at, u.isEmpty || memcmp(expected.baseAddress! + at, u.baseAddress!, u.count) == 0 else {
            ok = false
            return
        }
        at += u.count
    }

    mutating func take(_ s: String) {
        var s = s
        s.withUTF8 { take($0) }
    }

    mutating func take(_ a: [UInt8]) { a.withUnsafeBufferPointer { take($0) } }

    mutating func take(_ a: ArraySlice<UInt8>) { a.withUnsafeBufferPointer { take($0) } }

    /// `String(v)`'s digits, compared without making the String.
    mutating func take(decimal v: Int) {
        guard v >= 0 else { return take(String(v)) }
        var digits = 1, p = v
        while p >= 10 { p /= 10; digits += 1 }
        guard ok, digits <= expected.count - at else { ok = false; return }
        var x = v
        for k in stride(from: at + digits - 1, through: at, by: -1) {
            guard expected[k] == UInt8(truncatingIfNeeded: x % 10) &+ 0x30 else { ok = false; return }
            x /= 10
        }
        at += digits
    }
}
