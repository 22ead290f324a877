import Foundation
import Synchronization
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

/// Files of one log cut by rotation make whole sessions: a session open at the
/// end of one file goes on in the next, in a streaming pass and in `ingest`,
/// and again when a grown last file is resumed.
final class RotationTests: XCTestCase {
    let rebuild = PipelineFixtures.rebuild()
    var stream: RecordStream { PipelineFixtures.stream }

    func testLogFamilies() {
        for (a, b) in [("server.log", "server.log.1"), ("d/server.log", "d/server.log.12.gz"),
                       ("server.log", "server.log.2025-03-11-15-34-00"), ("server.log", "server-20251101.log"),
                       ("activity.log", "activity_2025-11-01.log.bz2")] {
            XCTAssertEqual(InputExpansion.logFamily(a), InputExpansion.logFamily(b), "\(a) \(b)")
        }
        for (a, b) in [("node-1.log", "node-2.log"), ("a/server.log", "b/server.log"), ("server.log", "server.txt"),
                       ("server.log", "server.log.old")] {
            XCTAssertNotEqual(InputExpansion.logFamily(a), InputExpansion.logFamily(b), "\(a) \(b)")
        }
    }

    /// `lines` written as files named like logrotate's, oldest first.
    func rotated(_ lines: [Substring], cuts: [Int], in dir: URL, name: String = "server.log") throws -> [String] {
        let bounds = [0] + cuts + [lines.count]
        let n = bounds.count - 1
        return try (0..<n).map { k in
            let path = dir.appendingPathComponent(k == n - 1 ? name : "\(name).\(n - 1 - k)").path
            try (lines[bounds[k]..<bounds[k + 1]].joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    func streamed(_ files: [String]) throws -> [SessionTimeline] {
        var out: [SessionTimeline] = []
        try SessionStream(stream: stream, sessions: rebuild).run(files, each: { name, r in
            if case .failure(let e) = r { XCTFail("\(name): \(e)") }
        }) { out.append($0) }
        return out
    }

    /// What a session is, whatever file it was read from.
    func essence(_ s: SessionTimeline) -> String {
        [s.user ?? "-", s.peer.map { "\($0.address):\($0.port ?? 0)" } ?? "-", s.outcome.rawValue, String(s.eventCount),
         s.start?.iso ?? "-", s.end?.iso ?? "-", s.negotiated.kex ?? "-", s.findings.map(\.algorithm).joined(separator: ","),
         String(s.operations.count), String(s.authFailures)].joined(separator: " ")
    }

    func stored(_ store: LogStore) throws -> [UInt8] {
        let bytes = Mutex<[UInt8]>([])
        _ = try store.read { try $0.exportSessions(filter: SessionFilter(), framing: .array, withTimeline: true) { b in bytes.withLock { $0 += b } } }
        return bytes.withLock { $0 }
    }

    func listed(_ sessions: [SessionTimeline], timelines: [SessionID: [(record: Record, duplicate: Bool)]]) -> [UInt8] {
        var listing = SessionListing(filter: SessionFilter())
        for s in sessions { listing.add(s) }
        var out: [UInt8] = []
        SessionListing.json(listing.finish(), framing: .array,
                            timelines: timelines.mapValues { $0.map { (SessionListing.timelineEntry($0.record), $0.duplicate) } }) { out += $0 }
        return out
    }

    func testEveryCutMakesTheSessionsOfOneFile() throws {
        let sample = Paths.sample("sftpplus/dev-ts-first-5.26.log")
        let lines = try String(contentsOfFile: sample, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        let whole = try streamed([sample]).map(essence).sorted()
        XCTAssertGreaterThan(whole.count, 5)
        var continued = 0
        for cut in 1..<lines.count {
            let dir = Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let files = try rotated(Array(lines), cuts: [cut], in: dir)
            let sessions = try streamed(files)
            XCTAssertEqual(sessions.map(essence).sorted(), whole, "cut after line \(cut)")
            continued += sessions.filter { s in s.details.contains { $0.0 == "continued_into" } }.count
            // Two other logs (another name) are not joined: cut there, sessions split.
            if cut == lines.count / 2 {
                let a = dir.appendingPathComponent("node-1.log").path, b = dir.appendingPathComponent("node-2.log").path
                try FileManager.default.copyItem(atPath: files[0], toPath: a)
                try FileManager.default.copyItem(atPath: files[1], toPath: b)
                XCTAssertGreaterThan(try streamed([a, b]).count, whole.count)
            }
        }
        XCTAssertGreaterThan(continued, 20)
    }

    func testIngestStoresWhatTheStreamingPassAnswers() throws {
        let sample = Paths.sample("sftpplus/dev-ts-first-5.26.log")
        let lines = Array(try String(contentsOfFile: sample, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast())
        for cuts in [[30, 60], [10, 11, 90], [50]] {
            let dir = Paths.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let files = try rotated(lines, cuts: cuts, in: dir)
            var timelines: [SessionID: [(record: Record, duplicate: Bool)]] = [:]
            let pass = SessionStream(stream: stream, sessions: rebuild)
            pass.keepsRecords = { _ in true }
            pass.onSessionRecords = { timelines[$0] = $1 }
            var sessions: [SessionTimeline] = []
            try pass.run(files, each: { _, _ in }) { sessions.append($0) }
            XCTAssertTrue(sessions.contains { s in s.details.contains { $0.0 == "continued_into" } }, "\(cuts)")
            let store = try Workspace.ingest(files, stream: stream, sessions: rebuild, warn: { XCTFail($0) })
            let db = try stored(store)
            XCTAssertEqual(String(decoding: listed(sessions, timelines: timelines), as: UTF8.self), String(decoding: db, as: UTF8.self), "\(cuts)")

            // The last file grows: resumed, its sessions are rebuilt with those of the files before.
            let path = dir.appendingPathComponent("grow.db").path
            let cut = lines.count - 5
            let last = files.last!
            try (lines[(cuts.last ?? 0)..<cut].joined(separator: "\n") + "\n").write(toFile: last, atomically: true, encoding: .utf8)
            let disk = try LogStore.openForWriting(path)
            func ingest() throws {
                let ingestor = Ingestor(store: disk, stream: stream)
                ingestor.sessions = rebuild
                ingestor.ingest(files) { name, r in if case .failure(let e) = r { XCTFail("\(name): \(e)") } }
                try ingestor.finish()
            }
            try ingest()
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: last))
            handle.seekToEndOfFile()
            handle.write(Data((lines[cut...].joined(separator: "\n") + "\n").utf8))
            try handle.close()
            try ingest()
            XCTAssertEqual(String(decoding: try stored(disk), as: UTF8.self), String(decoding: db, as: UTF8.self), "\(cuts), grown")
        }
    }
}
