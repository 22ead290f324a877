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
        let handoff = ChunkHandoff()
        let renderer = Thread {
            var j = JSONBytes(capacity: 1 << 17)
            var count = 0
            if framing == .array { j.bytes.append(0x5B) }
            while let chunk = handoff.take() {
                for (k, s) in chunk.sessions.enumerated() {
                    if framing == .array, count > 0 { j.bytes.append(0x2C) }
                    SessionJSON.write(s, timeline: chunk.timelines?[k], to: &j)
                    if framing == .lines { j.bytes.append(0x0A) }
                    count += 1
                    if j.bytes.count >= 1 << 16 { sink(j.bytes); j.bytes.removeAll(keepingCapacity: true) }
                }
            }
            if framing == .array { j.raw("]\n") }
            if !j.bytes.isEmpty { sink(j.bytes) }
            handoff.finished(count)
        }
        renderer.name = "sftplog-render"
        renderer.stackSize = 8 << 20
        renderer.start()
        do {
            try SessionQuery.forEachChunk(db, filter: filter, withTimeline: withTimeline) { sessions in
                let timelines = withTimeline ? try sessions.map { try SessionQuery.timeline(db, $0) } : nil
                handoff.put(Chunk(sessions: sessions, timelines: timelines))
            }
        } catch {
            handoff.close()
            _ = handoff.waitForRenderer()
            throw error
        }
        handoff.close()
        return handoff.waitForRenderer()
    }

    struct Chunk: @unchecked Sendable {
        var sessions: [SessionTimeline]
        var timelines: [[(record: Record, duplicate: Bool)]]?
    }

    /// At most two chunks wait, so memory stays bounded by the chunk size.
    final class ChunkHandoff: @unchecked Sendable {
        private let cond = NSCondition()
        private var waiting: [Chunk] = []
        private var closed = false
        private var rendered: Int?

        func put(_ c: Chunk) {
            cond.lock(); defer { cond.unlock() }
            while waiting.count >= 2 { cond.wait() }
            waiting.append(c)
            cond.broadcast()
        }

        func close() {
            cond.lock(); defer { cond.unlock() }
            closed = true
            cond.broadcast()
        }

        /// The next chunk, or nil once closed and drained.
        func take() -> Chunk? {
            cond.lock(); defer { cond.unlock() }
            while waiting.isEmpty && !closed { cond.wait() }
            if waiting.isEmpty { return nil }
            cond.broadcast()
            return waiting.removeFirst()
        }

        func finished(_ count: Int) {
            cond.lock(); defer { cond.unlock() }
            rendered = count
            cond.broadcast()
        }

        func waitForRenderer() -> Int {
            cond.lock(); defer { cond.unlock() }
            while rendered == nil { cond.wait() }
            return rendered!
        }
    }
}
