import Foundation
import SFTPLogStore

/// Pieces of output set aside with the keys that place them in a list, given
/// back in the keys' order. The pieces go to a `TextSpill`; their keys stay in
/// memory up to `keyBound` pieces, and each time that many have come they are
/// sorted into a run set aside in a second `TextSpill`, and the runs are merged
/// at the end. So memory holds one run of keys, not a key per piece, however
/// many sessions a log has. Keys are byte strings ordered as `memcmp` orders
/// them (a prefix first); equal keys keep the order their pieces came in.
final class OrderedSpill {
    private let text: TextSpill
    private let runs = TextSpill(bound: 1 << 20)
    /// The keys of the run being filled, in the order their pieces came.
    private var run: [(key: [UInt8], bytes: Range<Int>)] = []
    /// Where each sorted run is in `runs`: entries of key length (4 bytes), key,
    /// then the piece's range (8 bytes each end), little-endian.
    private var runPlaces: [Range<Int>] = []
    let keyBound: Int
    private(set) var count = 0

    init(bound: Int, keyBound: Int = 1 << 14) {
        text = TextSpill(bound: bound)
        self.keyBound = max(keyBound, 1)
    }

    func append(key: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) {
        run.append((key, text.append(bytes)))
        count += 1
        if run.count >= keyBound { closeRun() }
    }

    func append(key: [UInt8], _ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(key: key, $0) }
    }

    func append(key: [UInt8], _ piece: String) {
        var piece = piece
        piece.withUTF8 { append(key: key, $0) }
    }

    /// The order of keys: bytes as `memcmp` orders them, a prefix first.
    static func order(_ a: [UInt8], _ b: [UInt8]) -> Int { SessionQuery.OrderKey.order(a, b) }

    /// The run's indices in key order; equal keys in the order they came.
    private func sortedRun() -> [Int] {
        run.indices.sorted { i, j in
            let c = Self.order(run[i].key, run[j].key)
            return c != 0 ? c < 0 : i < j
        }
    }

    private func closeRun() {
        guard !run.isEmpty else { return }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(run.count * 64)
        for i in sortedRun() {
            let (key, r) = run[i]
            withUnsafeBytes(of: UInt32(key.count).littleEndian) { bytes += $0 }
            bytes += key
            withUnsafeBytes(of: Int64(r.lowerBound).littleEndian) { bytes += $0 }
            withUnsafeBytes(of: Int64(r.upperBound).littleEndian) { bytes += $0 }
        }
        runPlaces.append(bytes.withUnsafeBufferPointer { runs.append($0) })
        run.removeAll(keepingCapacity: true)
    }

    /// Reads one sorted run back an entry at a time, a block at a time.
    private struct RunCursor {
        var rest: Range<Int>
        var buffer: [UInt8] = []
        var at = 0
        var key: [UInt8] = []
        var bytes: Range<Int> = 0..<0

        /// The next entry into `key` and `bytes`; false at the run's end.
        mutating func next(_ runs: TextSpill) throws -> Bool {
            guard try fill(4, runs) else { return false }
            let n = Int(buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) }.littleEndian)
            guard try fill(4 + n + 16, runs) else { throw TextSpill.Failure("could not read back") }
            key = Array(buffer[(at + 4)..<(at + 4 + n)])
            let lo = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at + 4 + n, as: Int64.self) }.littleEndian
            let hi = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at + 12 + n, as: Int64.self) }.littleEndian
            bytes = Int(lo)..<Int(hi)
            at += 4 + n + 16
            return true
        }

        /// At least `n` unread bytes in `buffer`, unless the run ends first.
        private mutating func fill(_ n: Int, _ runs: TextSpill) throws -> Bool {
            while buffer.count - at < n {
                guard !rest.isEmpty else { return false }
                let take = rest.lowerBound..<min(rest.upperBound, rest.lowerBound + max(n, 1 << 16))
                buffer.removeFirst(at)
                at = 0
                buffer += try runs.bytes(take)
                rest = take.upperBound..<rest.upperBound
            }
            return true
        }
    }

    /// Lends every piece to `write` in their keys' order, `separator` between them.
    func read(separator: [UInt8], _ write: (UnsafeBufferPointer<UInt8>) -> Void) throws {
        let sep = separator.isEmpty ? nil : separator.withUnsafeBufferPointer { text.append($0) }
        var ranges: [Range<Int>] = []
        var first = true
        try inOrder { r in
            if !first, let sep { ranges.append(sep) }
            first = false
            ranges.append(r)
            if ranges.count >= 4096 { try text.read(ranges, write); ranges.removeAll(keepingCapacity: true) }
            return true
        }
        if !ranges.isEmpty { try text.read(ranges, write) }
    }

    /// Each piece in its key's order, until `body` says to stop.
    func forEachPiece(_ body: ([UInt8]) throws -> Bool) throws {
        try inOrder { try body(try text.bytes($0)) }
    }

    /// Where each piece is, in its key's order, until `each` says to stop; the
    /// pieces are then given back, and the spill is empty.
    private func inOrder(_ each: (Range<Int>) throws -> Bool) throws {
        defer { run = []; runPlaces = []; count = 0 }
        if runPlaces.isEmpty {
            for i in sortedRun() where try !each(run[i].bytes) { return }
            return
        }
        closeRun()
        // A k-way merge, the least (key, run) on top of a binary heap: runs
        // hold pieces in the order they came, so equal keys stay in that order.
        var cursors: [RunCursor] = []
        for place in runPlaces {
            var c = RunCursor(rest: place)
            if try c.next(runs) { cursors.append(c) }
        }
        func less(_ a: Int, _ b: Int) -> Bool {
            let c = Self.order(cursors[a].key, cursors[b].key)
            return c != 0 ? c < 0 : a < b
        }
        var heap = Array(cursors.indices)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, less(heap[l], heap[m]) { m = l }
                if r < heap.count, less(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m)
                i = m
            }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        while let top = heap.first {
            guard try each(cursors[top].bytes) else { return }
            if try !cursors[top].next(runs) {
                heap.swapAt(0, heap.count - 1)
                heap.removeLast()
            }
            siftDown(0)
        }
    }
}
