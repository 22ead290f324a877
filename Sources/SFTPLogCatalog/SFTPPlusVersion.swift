import SFTPLogRecords

/// An SFTPPlus version label ("4.26.2", "5.11.0.dev0") ordered numerically;
/// a `.devN` build sorts just before its release.
public struct SFTPPlusVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let parts: [Int]
    public let dev: Int?
    public let label: String

    public init?(_ label: String) {
        // Plain labels ("4.26.2"), nearly all the catalogue's tens of thousands, read
        // without splitting: the general way below was half of every command's start.
        if let nums = SFTPPlusVersion.plainParts(label) {
            self.parts = nums
            self.dev = nil
            self.label = label
            return
        }
        var nums: [Int] = []
        var dev: Int? = nil
        for piece in label.split(separator: ".") {
            if let n = Int(piece) { nums.append(n) }
            else if piece.hasPrefix("dev"), let d = Int(piece.dropFirst(3)) { dev = d }
            else { return nil }
        }
        guard !nums.isEmpty else { return nil }
        while nums.count < 3 { nums.append(0) }
        self.parts = nums
        self.dev = dev
        self.label = label
    }

    /// The parts of a label of digits and dots only, padded to three, as the
    /// general reading gives them (empty pieces skipped); nil for anything else.
    static func plainParts(_ label: String) -> [Int]? {
        let read = label.utf8.withContiguousStorageIfAvailable { bytes -> [Int]? in
            var nums: [Int] = []
            nums.reserveCapacity(4)
            var n = 0, digits = 0
            for b in bytes {
                if b == UInt8(ascii: ".") {
                    if digits > 0 { nums.append(n) }
                    n = 0; digits = 0
                } else if b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                    // Longer pieces could overflow: the general reading decides those.
                    guard digits < 18 else { return nil }
                    n = n * 10 + Int(b - UInt8(ascii: "0"))
                    digits += 1
                } else {
                    return nil
                }
            }
            if digits > 0 { nums.append(n) }
            guard !nums.isEmpty else { return nil }
            while nums.count < 3 { nums.append(0) }
            return nums
        }
        return read ?? nil
    }

    public var description: String { label }

    public static func < (a: SFTPPlusVersion, b: SFTPPlusVersion) -> Bool {
        if a.parts != b.parts { return a.parts.lexicographicallyPrecedes(b.parts) }
        switch (a.dev, b.dev) {
        case (nil, nil): return false
        case (.some, nil): return true
        case (nil, .some): return false
        case let (.some(x), .some(y)): return x < y
        }
    }

    public static func == (a: SFTPPlusVersion, b: SFTPPlusVersion) -> Bool { a.parts == b.parts && a.dev == b.dev }
    public func hash(into h: inout Hasher) { h.combine(parts); h.combine(dev) }
}

/// A closed range of SFTPPlus versions; `upper == nil` means "and later".
public struct VersionRange: Sendable, Equatable, CustomStringConvertible {
    public var lower: SFTPPlusVersion
    public var upper: SFTPPlusVersion?

    public func intersection(_ o: VersionRange) -> VersionRange? {
        let lo = max(lower, o.lower)
        let hi: SFTPPlusVersion?
        switch (upper, o.upper) {
        case (nil, nil): hi = nil
        case let (.some(a), nil): hi = a
        case let (nil, .some(b)): hi = b
        case let (.some(a), .some(b)): hi = min(a, b)
        }
        if let hi, hi < lo { return nil }
        return VersionRange(lower: lo, upper: hi)
    }

    public func contains(_ v: SFTPPlusVersion) -> Bool {
        v >= lower && (upper.map { v <= $0 } ?? true)
    }

    /// Distance from `v` to the range (0 inside), in a coarse version metric.
    func distance(to v: VersionRange) -> Int {
        if intersection(v) != nil { return 0 }
        func scalar(_ x: SFTPPlusVersion) -> Int { x.parts[0] * 10_000 + x.parts[1] * 100 + min(x.parts[2], 99) }
        let a = upper.map(scalar) ?? Int.max
        if a < scalar(v.lower) { return scalar(v.lower) - a }
        let b = v.upper.map(scalar) ?? Int.max
        return scalar(lower) - b
    }

    public var description: String {
        guard let upper else { return "\(lower.label)+" }
        return upper == lower ? lower.label : "\(lower.label)–\(upper.label)"
    }
}
