import Foundation
import GRDB

/// `sessions --json` / `--format ndjson`: every matching session as JSON,
/// streamed a chunk of 1,000 sessions at a time (memory stays bounded by the
/// chunk; 63k sessions loaded at once took 280 MB), rendered straight from the
/// rows (`StoredSessionJSON`) while another thread writes the output.
public enum SessionExport {
    public enum Framing: Sendable { case array, lines }

    /// Writes to `sink` (bytes, in pieces of about 64 KiB) and returns the number of sessions.
    @discardableResult
    public static func write(_ db: Database, filter: SessionFilter, framing: Framing, withTimeline: Bool, chunkSize: Int = 1000,
                             to sink: @escaping @Sendable ([UInt8]) -> Void) throws -> Int {
        let output = RenderThread<[UInt8]>(name: "sftplog-output", capacity: 4, render: sink)
        defer { output.close() }
        let order = try SessionQuery.orderedRowids(db, filter: filter)
        var writer = try StoredSessionJSON(db)
        var j = JSONBytes(capacity: 1 << 17)
        if framing == .array { j.bytes.append(0x5B) }
        var count = 0
        for start in stride(from: 0, to: order.count, by: chunkSize) {
            try writer.write(rowids: order[start..<min(start + chunkSize, order.count)], framing: framing, withTimeline: withTimeline,
                             count: &count, to: &j)
            if j.bytes.count >= 1 << 16 { output.put(j.bytes); j = JSONBytes(capacity: 1 << 17) }
        }
        if framing == .array { j.raw("]\n") }
        if !j.bytes.isEmpty { output.put(j.bytes) }
        return count
    }
}
