/// A fast streaming 64-bit hash of a source's bytes, used to recognise content
/// already ingested (same file under another name, a file that has grown,
/// stdin fed twice). Not cryptographic: it identifies, it does not authenticate.
public struct ContentHash: Sendable {
    private var h: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var tail: UInt64 = 0
    private var tailCount = 0
    public private(set) var count: Int64 = 0

    public init() {}

    @inline(__always) private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always) private mutating func absorb(_ w: UInt64) {
        h = ContentHash.mix(h ^ w) &* 0xFF51_AFD7_ED55_8CCD
    }

    public mutating func update(_ p: UnsafeBufferPointer<UInt8>) {
        count += Int64(p.count)
        var i = 0
        while tailCount > 0 && tailCount < 8 && i < p.count {
            tail |= UInt64(p[i]) << (8 * UInt64(tailCount)); tailCount += 1; i += 1
        }
        if tailCount == 8 { absorb(tail); tail = 0; tailCount = 0 }
        if let base = p.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= p.count {
                absorb(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
                i += 8
            }
        }
        while i < p.count { tail |= UInt64(p[i]) << (8 * UInt64(tailCount)); tailCount += 1; i += 1 }
    }

    public mutating func update(_ a: [UInt8]) { a.withUnsafeBufferPointer { update($0) } }

    /// Digest of everything so far; the hash can keep streaming afterwards.
    public var digest: String {
        var x = h
        if tailCount > 0 { x = ContentHash.mix(x ^ tail ^ (UInt64(tailCount) << 56)) }
        x = ContentHash.mix(x ^ UInt64(bitPattern: count))
        let hex = String(x, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
