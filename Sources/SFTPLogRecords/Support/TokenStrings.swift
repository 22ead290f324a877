/// The strings of a reader's short ASCII tokens, each made once: a log repeats
/// its event IDs, components, accounts, addresses and algorithm names line
/// after line, and making a String from bytes (validation, the copy) cost
/// several times the lookup (callgrind: about 240 instructions a token).
///
/// A direct-mapped table keyed by the token's bytes (up to 32, read as four
/// words, overlapping for lengths that are not a multiple of 8) and length: a
/// hit is the same bytes, so the same string. Longer and non-ASCII tokens are
/// decoded every time. One per reader, used by one thread at a time.
package final class TokenStrings {
    @usableFromInline let slots: Int
    /// Allocated at the first token: readers that never see one allocate nothing.
    private var words: UnsafeMutablePointer<UInt64>?
    private var lengths: UnsafeMutablePointer<Int>?
    private var strings: UnsafeMutablePointer<String>?

    /// `slots`: a power of two; 0 decodes every token (callers outside a reader).
    package init(slots: Int = 512) {
        precondition(slots == 0 || slots & (slots - 1) == 0)
        self.slots = slots
    }

    /// No table: every token decoded.
    package static var none: TokenStrings { TokenStrings(slots: 0) }

    deinit {
        guard let words, let lengths, let strings else { return }
        words.deallocate()
        lengths.deallocate()
        strings.deinitialize(count: slots)
        strings.deallocate()
    }

    /// The string of bytes `a..<b` of `p` (invalid UTF-8 repaired, as `UTF8Text.decode`).
    /// Inlinable: a call per token from the readers' modules.
    @inlinable @inline(__always)
    package func string(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> String {
        let n = b - a
        guard n > 0, n <= 32, slots > 0, let base = p.baseAddress else {
            return UTF8Text.decode(UnsafeBufferPointer(rebasing: p[a..<b])).0
        }
        return cached(UnsafeRawPointer(base + a), n)
    }

    @usableFromInline func cached(_ start: UnsafeRawPointer, _ n: Int) -> String {
        // The words cover every byte and nothing outside the token; two tokens of one
        // length have equal words exactly when their bytes are equal.
        var w0: UInt64, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
        if n >= 8 {
            w0 = start.loadUnaligned(as: UInt64.self)
            if n > 24 {
                w1 = start.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                w2 = start.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            } else if n > 16 {
                w1 = start.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            }
            w3 = start.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            w0 = UInt64(start.loadUnaligned(as: UInt32.self))
            w3 = UInt64(start.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        } else {
            w0 = UInt64(start.load(as: UInt8.self))
            w1 = UInt64(start.load(fromByteOffset: n / 2, as: UInt8.self))
            w3 = UInt64(start.load(fromByteOffset: n - 1, as: UInt8.self))
        }
        guard (w0 | w1 | w2 | w3) & 0x8080_8080_8080_8080 == 0 else {
            return UTF8Text.decode(UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: n)).0
        }
        if words == nil { allocate() }
        guard let words, let lengths, let strings else { preconditionFailure() }
        var h = (w0 &* 0x9E37_79B9_7F4A_7C15) ^ (w1 &* 0xC2B2_AE3D_27D4_EB4F) ^ (w2 &* 0x1656_67B1_9E37_79F9) ^ w3 ^ UInt64(n)
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        let slot = Int(truncatingIfNeeded: h) & (slots - 1)
        let k = words + slot * 4
        if lengths[slot] == n, k[0] == w0, k[1] == w1, k[2] == w2, k[3] == w3 { return strings[slot] }
        let s = String(decoding: UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: n), as: UTF8.self)
        (k[0], k[1], k[2], k[3]) = (w0, w1, w2, w3)
        lengths[slot] = n
        strings[slot] = s
        return s
    }

    private func allocate() {
        let w = UnsafeMutablePointer<UInt64>.allocate(capacity: slots * 4)
        w.initialize(repeating: 0, count: slots * 4)
        let l = UnsafeMutablePointer<Int>.allocate(capacity: slots)
        l.initialize(repeating: 0, count: slots)
        let s = UnsafeMutablePointer<String>.allocate(capacity: slots)
        s.initialize(repeating: "", count: slots)
        (words, lengths, strings) = (w, l, s)
    }
}
