import Foundation
import GRDB

/// `sessions --json` / `--format ndjson`: every matching session as JSON,
/// streamed. The database is read on the caller's thread while another thread
/// renders and writes the previous chunk, so the two cores split the work
/// (reading rows into values and rendering them cost about the same).
public enum SessionExport {
    public enum Framing: Sendable { case array, lines }

    /// Writes to `sink` (bytes, in pieces of about 64 KiB) and returns the number of sessions.
    @discardableResult
    public static func write(_ db: Database, filter: SessionFilter, framing: Framing, withTimeline: Bool,
                             to sink: @escaping @Sendable ([UInt8]) -> Void) throws -> Int {
        final class Output: @unchecked Sendable {
            var j = JSONBytes(capacity: 1 << 17)
            var count = 0
        }
        let out = Output()
        if framing == .array { out.j.bytes.append(0x5B) }
        let renderer = RenderThread<Chunk>(name: "sftplog-render", render: { chunk in
            for (k, s) in chunk.sessions.enumerated() {
                if framing == .array, out.count > 0 { out.j.bytes.append(0x2C) }
                SessionJSON.write(s, timeline: chunk.timelines?[k], to: &out.j)
                if framing == .lines { out.j.bytes.append(0x0A) }
                out.count += 1
                if out.j.bytes.count >= 1 << 16 { sink(out.j.bytes); out.j.bytes.removeAll(keepingCapacity: true) }
            }
        }, finish: {
            if framing == .array { out.j.raw("]\n") }
            if !out.j.bytes.isEmpty { sink(out.j.bytes) }
        })
        defer { renderer.close() }
        try SessionQuery.forEachChunk(db, filter: filter, withTimeline: withTimeline) { sessions in
            let timelines = withTimeline ? try sessions.map { try SessionQuery.timeline(db, $0) } : nil
            renderer.put(Chunk(sessions: sessions, timelines: timelines))
        }
        renderer.close()
        return out.count
    }

    struct Chunk: @unchecked Sendable {
        var sessions: [SessionTimeline]
        var timelines: [[(record: Record, duplicate: Bool)]]?
    }
}
