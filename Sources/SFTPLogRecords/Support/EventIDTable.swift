/// Values by event ID, for lookups made once or twice per record. SFTPPlus IDs
/// are five digits ("30014"): those are read as a number and found in an array,
/// without hashing the string (two such lookups per record were a few percent
/// of `audit`). Any other ID is kept in a dictionary.
public struct EventIDTable<Value: Sendable>: Sendable {
    // Usable from inline code, so that lookups in other modules are specialized
    // for their value type (unspecialized, each copied its value through the
    // type's value witnesses).
    /// By `number(id) - 10_000`: 1 + the value's index in `values`, 0 for none.
    @usableFromInline var slots: [Int32]
    @usableFromInline var values: [Value] = []
    @usableFromInline var others: [String: Value] = [:]

    public init(_ entries: [String: Value]) {
        slots = []
        for (id, v) in entries {
            if let n = EventIDTable.number(id) {
                if slots.isEmpty { slots = Array(repeating: 0, count: 90_000) }
                values.append(v)
                slots[n - 10_000] = Int32(values.count)
            } else {
                others[id] = v
            }
        }
    }

    @inlinable public subscript(id: String) -> Value? {
        if let n = EventIDTable.number(id) { return value(number: n) }
        return others[id]
    }

    /// `self[id:]` for the ID's UTF-8 bytes, without making its string when it has five digits.
    @inlinable public subscript(bytes id: UnsafeBufferPointer<UInt8>) -> Value? {
        if let n = EventIDTable.number(id) { return value(number: n) }
        return others[String(decoding: id, as: UTF8.self)]
    }

    @inlinable @inline(__always) func value(number n: Int) -> Value? {
        guard !slots.isEmpty else { return nil }
        let k = slots[n - 10_000]
        return k == 0 ? nil : values[Int(k) - 1]
    }

    /// The number of an ID of exactly five ASCII digits, the first not 0 (so each
    /// number stands for one spelling only); nil for any other ID.
    @inlinable @inline(__always)
    static func number(_ id: String) -> Int? {
        guard id.utf8.count == 5 else { return nil }
        // In place (a small string's bytes are copied to the stack): walking the
        // string's view took 250 instructions an ID.
        let n = id.utf8.withContiguousStorageIfAvailable { number($0) ?? -1 } ?? EventIDTable.slowNumber(id)
        return n >= 0 ? n : nil
    }

    /// `number` of an ID's bytes.
    @inlinable @inline(__always)
    static func number(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        guard p.count == 5 else { return nil }
        var n = 0
        for k in 0..<5 {
            let d = p[k] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            n = n &* 10 &+ Int(d)
        }
        return n >= 10_000 ? n : nil
    }

    /// `number` for a string without contiguous UTF-8 (bridged), -1 for none.
    @usableFromInline static func slowNumber(_ id: String) -> Int {
        var n = 0
        for b in id.utf8 {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return -1 }
            n = n * 10 + Int(b - UInt8(ascii: "0"))
        }
        return n >= 10_000 ? n : -1
    }
}
