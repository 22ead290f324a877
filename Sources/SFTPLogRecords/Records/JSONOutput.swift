import Foundation

/// JSON written through a pointer into one buffer that is drained as it fills:
/// `parse`'s NDJSON of plain lines. `JSONBytes` appends to an Array, and each
/// of its appends checked the array's uniqueness and capacity: half of what
/// writing a line's JSON cost. Writes the same bytes as `JSONBytes`.
/// One thread owns an output; nothing is shared.
public final class JSONOutput {
    @exclusivity(unchecked) private var base: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) public private(set) var count = 0
    @exclusivity(unchecked) private var capacity: Int

    public init(capacity: Int = 1 << 18) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written so far, lent to `body`.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    public func removeAll() { count = 0 }

    /// Room for `n` more bytes.
    @inline(__always) func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private func grow(_ needed: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        b.update(from: base, count: count)
        base.deallocate()
        base = b
        capacity = c
    }

    @inline(__always) public func byte(_ c: UInt8) {
        reserve(1)
        base[count] = c
        count += 1
    }

    @inline(__always) public func raw(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        reserve(n)
        (base + count).update(from: s.utf8Start, count: n)
        count += n
    }

    @inline(__always) public func raw(_ p: UnsafeBufferPointer<UInt8>) {
        guard let src = p.baseAddress, p.count > 0 else { return }
        reserve(p.count)
        (base + count).update(from: src, count: p.count)
        count += p.count
    }

    public func raw(_ a: [UInt8]) { a.withUnsafeBufferPointer { raw($0) } }

    /// `JSONBytes.string(_:)`.
    public func string(_ s: String) {
        var s = s
        s.withUTF8 { escaped($0) }
    }

    /// `string(_:)` of bytes known to be UTF-8 (a plain line's, checked whole).
    @inline(__always) public func string(utf8 p: UnsafeBufferPointer<UInt8>) { escaped(p) }

    /// `JSONBytes`' escaping of UTF-8 bytes between quotes.
    @inline(__always) func escaped(_ p: UnsafeBufferPointer<UInt8>) {
        // Six bytes per input byte at worst (`\u00XX`), and the quotes.
        reserve(6 * p.count + 2)
        count += JSONBytes.writeEscaped(p, to: base + count)
    }

    /// `JSONBytes.int`.
    public func int(_ v: Int) {
        reserve(JSONBytes.maxDecimalBytes)
        count += JSONBytes.writeDecimal(v, to: base + count)
    }

    /// `string(ts.iso)`, written in place: an ISO time has nothing to escape.
    public func timestamp(_ ts: LogTimestamp) {
        reserve(50)
        guard let n = ts.writeISO(to: UnsafeMutableBufferPointer(start: base + count + 1, count: 48)) else {
            string(ts.iso)
            return
        }
        base[count] = 0x22
        base[count + 1 + n] = 0x22
        count += n + 2
    }

    /// `JSONBytes.value`, for the values a record's fields hold.
    public func value(_ v: JSONValue) {
        switch v {
        case .int(let i): int(i)
        case .string(let s): string(s)
        default:
            var j = JSONBytes(capacity: 64)
            j.value(v)
            raw(j.bytes)
        }
    }
}
