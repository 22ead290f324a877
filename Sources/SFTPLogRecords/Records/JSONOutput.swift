import Foundation

/// JSON written through a pointer into one buffer that is drained as it fills:
/// `parse`'s NDJSON of plain lines. `JSONBytes` appends to an Array, and each
/// of its appends checked the array's uniqueness and capacity: half of what
/// writing a line's JSON cost. Writes the same bytes as `JSONBytes`.
/// One thread owns an output; nothing is shared.
public final class JSONOutput {
    // Usable from inline code: its writes are inlined into the writers of other
    // modules (each was a call, the cost of writing a short piece).
    @exclusivity(unchecked) @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) @usableFromInline var used = 0
    /// The bytes written and not yet removed.
    public var count: Int { used }
    @exclusivity(unchecked) @usableFromInline var capacity: Int

    public init(capacity: Int = 1 << 18) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written so far, lent to `body`.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: used))
    }

    public func removeAll() { used = 0 }

    /// Takes back the last `n` bytes written.
    public func removeLast(_ n: Int) { used -= min(n, used) }

    /// Room for `n` more bytes.
    @inlinable @inline(__always) func reserve(_ n: Int) {
        if used + n > capacity { grow(used + n) }
    }

    @usableFromInline func grow(_ needed: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        b.update(from: base, count: used)
        base.deallocate()
        base = b
        capacity = c
    }

    @inlinable @inline(__always) public func byte(_ c: UInt8) {
        reserve(1)
        base[used] = c
        used += 1
    }

    // Short pieces are copied inline (`JSONBytes.copyShort`): a call to `memmove`
    // for each key and literal of a line was a tenth of writing it.
    @inlinable @inline(__always) public func raw(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        reserve(n)
        JSONBytes.copyShort(s.utf8Start, base + used, n)
        used += n
    }

    @inlinable @inline(__always) public func raw(_ p: UnsafeBufferPointer<UInt8>) {
        guard let src = p.baseAddress, p.count > 0 else { return }
        reserve(p.count)
        JSONBytes.copyShort(src, base + used, p.count)
        used += p.count
    }

    public func raw(_ a: [UInt8]) { a.withUnsafeBufferPointer { raw($0) } }

    /// `JSONBytes.string(_:)`.
    public func string(_ s: String) {
        var s = s
        s.withUTF8 { escaped($0) }
    }

    /// `string(_:)` of bytes known to be UTF-8 (a plain line's, checked whole).
    @inline(__always) public func string(utf8 p: UnsafeBufferPointer<UInt8>) { escaped(p) }

    /// `string(_:)` of bytes that need no escaping (the caller's reader admitted
    /// only digits, letters and punctuation other than `"` and `\\`): quoted as they are.
    @inlinable @inline(__always) public func string(clean p: UnsafeBufferPointer<UInt8>) {
        byte(0x22); raw(p); byte(0x22)
    }

    /// UTF-8 bytes escaped as a piece of a string (no quotes): where they went.
    public func escapedPiece(_ p: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        reserve(6 * p.count)
        let start = used
        used += JSONBytes.writeEscapedPiece(p, to: base + used)
        return start..<used
    }

    /// Bytes it holds (`r`, before `count`) written again at the end.
    @inlinable @inline(__always) public func again(_ r: Range<Int>) {
        reserve(r.count)
        JSONBytes.copyShort(base + r.lowerBound, base + used, r.count)
        used += r.count
    }

    /// `JSONBytes`' escaping of UTF-8 bytes between quotes.
    @inline(__always) func escaped(_ p: UnsafeBufferPointer<UInt8>) {
        // Six bytes per input byte at worst (`\u00XX`), and the quotes.
        reserve(6 * p.count + 2)
        used += JSONBytes.writeEscaped(p, to: base + used)
    }

    /// `JSONBytes.int`.
    public func int(_ v: Int) {
        reserve(JSONBytes.maxDecimalBytes)
        used += JSONBytes.writeDecimal(v, to: base + used)
    }

    /// `string(ts.iso)`, written in place: an ISO time has nothing to escape.
    public func timestamp(_ ts: LogTimestamp) {
        reserve(50)
        guard let n = ts.writeISO(to: UnsafeMutableBufferPointer(start: base + used + 1, count: 48)) else {
            string(ts.iso)
            return
        }
        base[used] = 0x22
        base[used + 1 + n] = 0x22
        used += n + 2
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
