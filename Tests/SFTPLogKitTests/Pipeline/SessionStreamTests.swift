import Foundation
import Synchronization
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogReport

/// A streaming pass must give the answers a database of the same input gives
/// (audit, the session list with and without timelines, the report's summary,
/// HTML and one-session reports, catalog stats):
/// every bundled sample and hostile test log, one at a time, through the
/// library (the CLI tests compare the commands on all of them at once).
final class SessionStreamTests: XCTestCase {
    func testEachInputAnswersAsItsIngest() throws {
        let (catalog, policy, memo, rebuild, stream) = try Self.parts()
        let inputs = Paths.everyTestLog()
        XCTAssertGreaterThan(inputs.count, 100)
        var sessionsSeen = 0, flaggedSeen = 0, detailsSeen = 0, linksSeen = 0
        for f in inputs {
            // The database's answers.
            let store = try Workspace.ingest([f], stream: stream, sessions: rebuild, warn: { _ in })
            let storedAudit = try store.read { try AuditLoad.audit($0, filter: SessionFilter(), judge: memo, minRating: .info, policyName: policy.name) }
            var storedReport = try store.read { try ReportModel.build($0, filter: SessionFilter(), catalog: catalog, withOperations: false) }
            let (storedStats, storedMessages) = try store.read { (try $0.catalogStats(), try $0.opensshMessages()) }
            let bytes = Mutex<[UInt8]>([])
            _ = try store.read { try $0.exportSessions(filter: SessionFilter(), framing: .array, withTimeline: false) { b in bytes.withLock { $0 += b } } }
            // The streaming pass's.
            var audit = AuditCollector(filter: SessionFilter(), judge: memo, minRating: .info, policyName: policy.name)
            var listing = SessionListing(filter: SessionFilter())
            var report = ReportCollector(filter: SessionFilter(), catalog: catalog)
            var sources: [(name: String, records: Int, versions: String?)] = []
            let pass = SessionStream(stream: stream, sessions: rebuild)
            var tally = CatalogTally()
            var htmlCounts = ReportCollector(filter: SessionFilter(), catalog: catalog)
            pass.onRecord = { report.add(record: $0); tally.add($0); htmlCounts.add(record: $0) }
            var timelines: [SessionID: [(record: Record, duplicate: Bool)]] = [:]
            pass.keepsRecords = { _ in true }
            pass.onSessionRecords = { id, list in timelines[id] = list }
            try pass.run([f], each: { _, r in
                if case .success(let s) = r { sources.append((s.name, s.records, s.sftpplusVersions)) }
            }) { s in
                audit.add(s)
                listing.add(s)
                report.add(session: s)
            }
            var streamedReport = report.finish(sources: sources)
            // Made at different moments; the rest is the answer.
            (storedReport.generatedAt, streamedReport.generatedAt) = ("", "")
            XCTAssertEqual(ReportText.json(streamedReport).json, ReportText.json(storedReport).json, f)
            XCTAssertEqual(ReportText().render(streamedReport), ReportText().render(storedReport), f)
            let stats = tally.stats
            XCTAssertEqual([stats.resolved, stats.unresolved, stats.unknown], [storedStats.resolved, storedStats.unresolved, storedStats.unknown], f)
            XCTAssertEqual(stats.unresolvedByID.map { "\($0.0)=\($0.1)" }, storedStats.unresolvedByID.map { "\($0.0)=\($0.1)" }, f)
            XCTAssertEqual(stats.unknownIDs.map { "\($0.0)=\($0.1)" }, storedStats.unknownIDs.map { "\($0.0)=\($0.1)" }, f)
            XCTAssertEqual(tally.opensshMessages.map { "\($0.level ?? -1) \($0.records) \($0.message)" },
                           storedMessages.map { "\($0.level ?? -1) \($0.records) \($0.message)" }, f)
            let streamedAudit = audit.finish()
            XCTAssertEqual(streamedAudit.json.json, Self.withoutRecordIDs(storedAudit.json.json), f)
            let sessions = listing.finish()
            // sessions --json --timeline.
            let storedTimelines = Mutex<[UInt8]>([])
            _ = try store.read { try $0.exportSessions(filter: SessionFilter(), framing: .array, withTimeline: true) { b in storedTimelines.withLock { $0 += b } } }
            var streamedTimelines: [UInt8] = []
            SessionListing.json(sessions, framing: .array, timelines: timelines.mapValues { $0.map { (SessionListing.timelineEntry($0.record), $0.duplicate) } }) {
                streamedTimelines += $0
            }
            XCTAssertEqual(String(decoding: streamedTimelines, as: UTF8.self), String(decoding: storedTimelines.withLock { $0 }, as: UTF8.self),
                           "\(f) --timeline")
            // The HTML report: every session drawn, the first 200 in full.
            let drawn = DrawnSessions()
            var first = FirstTimelines(limit: 200)
            for s in sessions {
                htmlCounts.add(session: s)
                let key = SessionQuery.OrderKey(s)
                drawn.add(s, listKey: key.orderBytes)
                first.offer(s, key: key, records: timelines[s.id] ?? [])
            }
            var (streamedHTML, streamedDetails) = ReportModel.html(collector: &htmlCounts, first: first, catalog: catalog, sources: sources)
            var (storedHTML, storedDetails) = try store.read { db -> (ReportModel, [ReportModel.SessionDetail]) in
                let m = try ReportModel.build(db, filter: SessionFilter(), catalog: catalog, withOperations: true)
                return (m, try m.sessions.prefix(200).map { try ReportModel.sessionDetail(db, $0, catalog: catalog) })
            }
            (storedHTML.generatedAt, streamedHTML.generatedAt) = ("", "")
            var streamedPage: [UInt8] = []
            try HTMLReport.write(streamedHTML, drawn: drawn, details: streamedDetails) { streamedPage += $0 }
            XCTAssertEqual(String(decoding: streamedPage, as: UTF8.self), HTMLReport.render(storedHTML, details: storedDetails), "\(f) html")
            // And the page `report --format html --db` writes, drawing sessions as it reads them.
            var (readHTML, readDrawn, readDetails) = try store.read { try ReportModel.html($0, filter: SessionFilter(), catalog: catalog, maxDetails: 200) }
            readHTML.generatedAt = ""
            var readPage: [UInt8] = []
            try HTMLReport.write(readHTML, drawn: readDrawn, details: readDetails) { readPage += $0 }
            XCTAssertEqual(String(decoding: streamedPage, as: UTF8.self), String(decoding: readPage, as: UTF8.self), "\(f) html --db")
            // report --session of every session, with its timeline.
            for one in sessions where sessions.filter({ $0.id == one.id }).count == 1 {
                var stored = try store.read { try ReportModel.build($0, filter: SessionFilter(), catalog: catalog, sessionID: one.id.rawValue) }
                var streamed = try ReportModel.session(one.id.rawValue, from: [one], timelines: timelines, catalog: catalog, sources: sources)
                (stored.generatedAt, streamed.generatedAt) = ("", "")
                XCTAssertEqual(ReportText.json(streamed).json, Self.withoutRecordIDs(ReportText.json(stored).json), "\(f) --session \(one.id.rawValue)")
                XCTAssertEqual(ReportText().render(streamed), Self.withoutRecordIDs(ReportText().render(stored)), "\(f) --session \(one.id.rawValue)")
                detailsSeen += streamed.detail?.timeline.count ?? 0
            }
            var streamed: [UInt8] = []
            SessionListing.json(sessions, framing: .array) { streamed += $0 }
            XCTAssertEqual(String(decoding: streamed, as: UTF8.self), String(decoding: bytes.withLock { $0 }, as: UTF8.self), f)
            // sessions --json --evidence: the same links, with record ids from the database only.
            let storedEvidence = Mutex<[UInt8]>([])
            _ = try store.read {
                try $0.exportSessions(filter: SessionFilter(), framing: .array, withTimeline: false, withEvidence: true) { b in storedEvidence.withLock { $0 += b } }
            }
            var streamedEvidence: [UInt8] = []
            SessionListing.json(sessions, framing: .array, evidence: true) { streamedEvidence += $0 }
            let storedText = String(decoding: storedEvidence.withLock { $0 }, as: UTF8.self)
            XCTAssertEqual(String(decoding: streamedEvidence, as: UTF8.self), Self.withoutRecordIDs(storedText), "\(f) --evidence")
            if sessions.contains(where: { !$0.evidence.isEmpty }) { XCTAssertNotNil(storedText.range(of: #""record_id":[0-9]"#, options: .regularExpression), f) }
            linksSeen += sessions.reduce(0) { $0 + $1.evidence.count }
            sessionsSeen += sessions.count
            flaggedSeen += streamedAudit.flagged.count
        }
        // The comparison covers real answers, not empty ones.
        XCTAssertGreaterThan(sessionsSeen, 150)
        XCTAssertGreaterThan(flaggedSeen, 50)
        XCTAssertGreaterThan(detailsSeen, 2_000, "timeline entries compared")
        XCTAssertGreaterThan(linksSeen, 2_000, "evidence links compared")
    }

    /// Answers that show no evidence build the sessions without it: the same
    /// sessions, audit and report, with no links kept.
    func testSessionsWithoutEvidenceAreTheSameSessions() throws {
        let (catalog, policy, memo, rebuild, stream) = try Self.parts()
        var linksDropped = 0, sessionsSeen = 0
        for f in Paths.everyTestLog() {
            func pass(evidence: Bool) throws -> (sessions: [SessionTimeline], audit: String, report: String) {
                let pass = SessionStream(stream: stream, sessions: rebuild)
                pass.tracksEvidence = evidence
                var listing = SessionListing(filter: SessionFilter())
                var audit = AuditCollector(filter: SessionFilter(), judge: memo, minRating: .info, policyName: policy.name)
                var report = ReportCollector(filter: SessionFilter(), catalog: catalog)
                pass.onRecord = { report.add(record: $0) }
                try pass.run([f], each: { _, _ in }) { s in
                    listing.add(s)
                    audit.add(s)
                    report.add(session: s)
                }
                var model = report.finish(sources: [])
                model.generatedAt = ""
                return (listing.finish(), audit.finish().text(width: 100), ReportText.json(model).json)
            }
            let with = try pass(evidence: true), without = try pass(evidence: false)
            XCTAssertEqual(without.sessions.map(\.evidence.count).reduce(0, +), 0, f)
            var a: [UInt8] = [], b: [UInt8] = []
            SessionListing.json(with.sessions, framing: .array) { a += $0 }
            SessionListing.json(without.sessions, framing: .array) { b += $0 }
            XCTAssertEqual(String(decoding: b, as: UTF8.self), String(decoding: a, as: UTF8.self), f)
            XCTAssertEqual(without.audit, with.audit, f)
            XCTAssertEqual(without.report, with.report, f)
            linksDropped += with.sessions.map(\.evidence.count).reduce(0, +)
            sessionsSeen += with.sessions.count
        }
        XCTAssertGreaterThan(sessionsSeen, 150)
        XCTAssertGreaterThan(linksDropped, 2_000, "sessions with evidence were compared")
    }

    /// `audit` tallies and writes each flagged session as it closes: the same
    /// text as the finished result's, and the same summary whatever order the
    /// sessions close in (each line's reason is its first session's in list order).
    func testAuditMadeAsSessionsCloseIsTheFinishedAudit() throws {
        let (_, policy, memo, _, _) = try Self.parts()
        let all = try Self.everyTestLogsSessions()
        XCTAssertGreaterThan(all.count, 150)
        for rating in [Rating.info, .warn, .fail] {
            func audit(_ sessions: [SessionTimeline], width: Int?, spillBound: Int = 16 << 20, keyBound: Int = 1 << 14) -> (AuditResult, String?) {
                var c = AuditCollector(filter: SessionFilter(), judge: memo, minRating: rating, policyName: policy.name, textWidth: width,
                                       spillBound: spillBound, keyBound: keyBound)
                for s in sessions { c.add(s) }
                let r = c.finish()
                return (r, try! c.text())
            }
            let (plain, none) = audit(all, width: nil)
            XCTAssertNil(none)
            let (made, text) = audit(all, width: 100)
            XCTAssertEqual(text, plain.text(width: 100), "\(rating)")
            // Written as they close, only their findings are kept: the status and totals are the same.
            XCTAssertEqual(made.exitCode, plain.exitCode, "\(rating)")
            XCTAssertEqual(made.summaryText(), plain.summaryText(), "\(rating)")
            // Closed in another order: the same answer.
            var rng = SplitMix64(seed: 21)
            let shuffledSessions = all.shuffled(using: &rng)
            XCTAssertEqual(audit(shuffledSessions, width: nil).0.json.json, plain.json.json, "\(rating) shuffled")
            XCTAssertEqual(audit(shuffledSessions, width: 100).1, text, "\(rating) shuffled")
            // Set aside in a temporary file a few sessions at a time (a bound below one
            // session's text: every text but the last goes to the file): the same text.
            let spilled = audit(shuffledSessions, width: 100, spillBound: 1)
            XCTAssertEqual(spilled.1, text, "\(rating) spilled")
            XCTAssertEqual(spilled.0.exitCode, plain.exitCode, "\(rating) spilled")
            XCTAssertEqual(audit(all, width: 100, spillBound: 700).1, text, "\(rating) spilled in blocks")
            // Keys sorted into runs of one, of three and of seven, merged at the end: the same text.
            for keys in [1, 3, 7] {
                XCTAssertEqual(audit(shuffledSessions, width: 100, spillBound: 700, keyBound: keys).1, text, "\(rating) keys in runs of \(keys)")
            }
            // JSON objects made as they close and set aside, framed as `audit --json` frames them.
            var rendered = AuditCollector(filter: SessionFilter(), judge: memo, minRating: rating, policyName: policy.name,
                                          render: { var j = JSONBytes(); j.value(AuditResult.sessionJSON($0)); return j.bytes }, spillBound: 1,
                                          keyBound: 5)
            for s in shuffledSessions { rendered.add(s) }
            let renderedResult = rendered.finish()
            XCTAssertTrue(renderedResult.flagged.isEmpty)
            var framed = JSONBytes()
            framed.raw("{\"sessions\":[")
            XCTAssertTrue(try rendered.writeRendered(separator: [0x2C]) { framed.bytes += $0 })
            framed.raw("],\"summary\":"); framed.value(renderedResult.summaryJSON); framed.raw("}")
            XCTAssertEqual(framed.text, plain.json.json, "\(rating) rendered")
            XCTAssertEqual(renderedResult.exitCode, plain.exitCode, "\(rating) rendered")
            if rating == .warn { XCTAssertGreaterThan(plain.flagged.count, 30) }
        }
    }

    /// `sessions --json` and `--format ndjson` from files render each session as it
    /// closes and set it aside: the same bytes as listing the sessions at the end,
    /// in whatever order they close and wherever they were set aside.
    func testSessionsRenderedAsTheyCloseAreTheFinishedList() throws {
        let all = try Self.everyTestLogsSessions()
        var rng = SplitMix64(seed: 8)
        let shuffled = all.shuffled(using: &rng)
        for framing in [SessionExport.Framing.array, .lines] {
            var listing = SessionListing(filter: SessionFilter())
            for s in all { listing.add(s) }
            var expected: [UInt8] = []
            SessionListing.json(listing.finish(), framing: framing, evidence: true) { expected += $0 }
            for (sessions, bound, keys) in [(all, 16 << 20, 1 << 14), (shuffled, 1, 1 << 14), (shuffled, 3000, 1 << 14), (shuffled, 3000, 4), (shuffled, 1, 1)] {
                var rendered = SessionListing(filter: SessionFilter(), render: { SessionListing.jsonPiece($0, framing: framing, evidence: true) },
                                              spillBound: bound, keyBound: keys)
                for s in sessions { rendered.add(s) }
                XCTAssertTrue(rendered.finish().isEmpty)
                var got: [UInt8] = framing == .array ? [0x5B] : []
                let n = try rendered.writeRendered(separator: framing == .array ? [0x2C] : []) { got += $0 }
                if framing == .array { got += Array("]\n".utf8) }
                XCTAssertEqual(n, all.count)
                XCTAssertTrue(got == expected, "\(framing) bound \(bound), keys in runs of \(keys)")
            }
        }
    }

    /// The sessions of every test log, each log read by a pass of its own, in the order they close.
    static func everyTestLogsSessions() throws -> [SessionTimeline] {
        let (_, _, _, rebuild, stream) = try parts()
        var all: [SessionTimeline] = []
        for f in Paths.everyTestLog() {
            let pass = SessionStream(stream: stream, sessions: rebuild)
            try pass.run([f], each: { _, _ in }) { all.append($0) }
        }
        return all
    }

    /// `sessions --json --timeline` from files renders each session with its
    /// timeline as it closes (its records come just before it): the same bytes as
    /// keeping every session and timeline to the end, on every test log at once.
    func testSessionsWithTimelinesRenderedAsTheyCloseAreTheFinishedList() throws {
        let (_, _, _, rebuild, stream) = try Self.parts()
        var sessions: [SessionTimeline] = [], timelines: [SessionID: [(record: Record, duplicate: Bool)]] = [:]
        var pending: [SessionID: [(record: Record, duplicate: Bool)]] = [:]
        var rendered = SessionListing(filter: SessionFilter(), render: { s in
            SessionListing.jsonPiece(s, framing: .lines, evidence: false, timeline: pending.removeValue(forKey: s.id) ?? [])
        }, spillBound: 4096)
        let pass = SessionStream(stream: stream, sessions: rebuild)
        pass.keepsRecords = { _ in true }
        pass.onSessionRecords = { id, list in
            let entries = list.map { (SessionListing.timelineEntry($0.record), $0.duplicate) }
            timelines[id] = entries
            pending[id] = entries
        }
        try pass.run(Paths.everyTestLog(), each: { _, _ in }) { s in
            sessions.append(s)
            rendered.add(s)
        }
        XCTAssertTrue(pending.isEmpty)
        var listing = SessionListing(filter: SessionFilter())
        for s in sessions { listing.add(s) }
        var expected: [UInt8] = []
        SessionListing.json(listing.finish(), framing: .lines, timelines: timelines) { expected += $0 }
        var got: [UInt8] = []
        XCTAssertEqual(try rendered.writeRendered { got += $0 }, sessions.count)
        XCTAssertGreaterThan(sessions.count, 150)
        XCTAssertTrue(got == expected)
        XCTAssertTrue(String(decoding: got, as: UTF8.self).contains("\"timeline\":[{"))
    }

    /// The text report from files keeps only the weak sessions it shows and counts
    /// the rest: the same text as keeping them all, on a log with hundreds of them
    /// closing in any order.
    func testTextReportKeepingTheWeakSessionsItShowsIsTheSame() throws {
        let (catalog, _, _, rebuild, stream) = try Self.parts()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sftplog-weak-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var all: [SessionTimeline] = []
        let pass = SessionStream(stream: stream, sessions: rebuild)
        try pass.run([try Paths.generatedLog(lines: 20_000, seed: 4, in: dir)], each: { _, _ in }) { all.append($0) }
        var rng = SplitMix64(seed: 2)
        var whole = ReportCollector(filter: SessionFilter(), catalog: catalog)
        var kept = ReportCollector(filter: SessionFilter(), catalog: catalog, weakKept: ReportModel.weakSessionsShown)
        for s in all { whole.add(session: s) }
        for s in all.shuffled(using: &rng) { kept.add(session: s) }
        var a = whole.finish(sources: []), b = kept.finish(sources: [])
        (a.generatedAt, b.generatedAt) = ("", "")
        XCTAssertGreaterThan(a.weakSessions.count, 4 * ReportModel.weakSessionsShown + 64)
        XCTAssertEqual(b.weakSessions.count, ReportModel.weakSessionsShown)
        XCTAssertEqual(b.weakSessions.count + b.weakSessionsNotKept, a.weakSessions.count)
        XCTAssertEqual(ReportText().render(b), ReportText().render(a))
        // Every count, the span and the brute-force windows, whatever order the sessions close in.
        var shuffledWhole = ReportCollector(filter: SessionFilter(), catalog: catalog)
        for s in all.shuffled(using: &rng) { shuffledWhole.add(session: s) }
        var c = shuffledWhole.finish(sources: [])
        c.generatedAt = ""
        XCTAssertEqual(ReportText.json(c).json, ReportText.json(a).json)
        XCTAssertEqual(ReportText().markdown(c), ReportText().markdown(a))
        // JSON and Markdown with each weak session's line made as it closes and set
        // aside (in a file, keys merged from runs): the same bytes.
        for markdown in [false, true] {
            var lines = ReportCollector(filter: SessionFilter(), catalog: catalog,
                                        weakLine: markdown ? { Array(ReportText.markdownWeakRow($0).utf8) } : ReportText.jsonWeakItem,
                                        spillBound: 1000, keyBound: 13)
            for s in all.shuffled(using: &rng) { lines.add(session: s) }
            var d = lines.finish(sources: [])
            d.generatedAt = ""
            XCTAssertTrue(d.weakSessions.isEmpty)
            XCTAssertEqual(d.weakSessionsNotKept, a.weakSessions.count)
            var got: [UInt8] = []
            if markdown {
                let (head, tail) = ReportText().markdownParts(d, weakCount: d.weakSessionsNotKept)
                got += head.utf8
                try lines.writeWeakLines(separator: []) { got += $0 }
                got += tail.utf8
                XCTAssertEqual(String(decoding: got, as: UTF8.self), ReportText().markdown(a))
            } else {
                let (head, tail) = ReportText.jsonParts(d)
                got += head
                try lines.writeWeakLines(separator: [0x2C]) { got += $0 }
                got += tail
                XCTAssertEqual(String(decoding: got, as: UTF8.self), ReportText.json(a).json)
            }
        }
        // The HTML summary drawing sessions as they close, bars and rows set aside
        // (in files, keys merged from runs): the page drawn from the list in order.
        // The log covers one day: its sessions are moved onto ten, so that three are not drawn.
        let spread = all.enumerated().map { i, session -> SessionTimeline in
            var s = session
            guard let t = s.start, let from = s.startEpoch else { return s }
            let moved = LogTimestamp(year: t.year, month: t.month, day: 1 + i % 10, hour: t.hour, minute: t.minute, second: t.second,
                                     offsetSeconds: t.offsetSeconds, zulu: t.zulu)
            s.start = moved
            s.startEpoch = moved.epoch(in: .current)
            s.endEpoch = s.endEpoch.map { $0 - from + s.startEpoch! }
            return s
        }
        var listed = a
        listed.sessions = spread.indices.sorted { i, j in
            let (x, y) = (SessionQuery.OrderKey(spread[i]), SessionQuery.OrderKey(spread[j]))
            return x < y || (!(y < x) && i < j)
        }.map { spread[$0] }
        XCTAssertGreaterThan(Set(listed.sessions.compactMap { $0.start.map { Human.clock($0).prefix(10) } }).count, 7, "more days than are drawn")
        let expected = HTMLReport.render(listed, details: [])
        XCTAssertEqual(expected.components(separatedBy: "<svg style").count - 1, 7)
        for (bound, keys) in [(4 << 20, 1 << 14), (1, 1), (5000, 37)] {
            let drawn = DrawnSessions(spillBound: bound, keyBound: keys)
            for s in spread.shuffled(using: &rng) { drawn.add(s, listKey: SessionQuery.OrderKey(s).orderBytes) }
            XCTAssertEqual(drawn.count, all.count)
            var page: [UInt8] = []
            try HTMLReport.write(listed, drawn: drawn, details: []) { page += $0 }
            XCTAssertEqual(String(decoding: page, as: UTF8.self), expected, "bound \(bound), keys in runs of \(keys)")
        }
    }

    /// The brute-force windows and failed logins per peer are the same whatever
    /// order sessions close in: a log of password guesses from a few addresses,
    /// many in the same second, tallied in list order and shuffled.
    func testBruteForceWindowsWhateverOrderSessionsClose() throws {
        let (catalog, _, _, rebuild, stream) = try Self.parts()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sftplog-bf-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(seed: 31)
        var lines: [(Int, String)] = []
        for k in 0..<1500 {
            let address = ["203.0.113.\(rng.next() % 6 + 1)", "[2001:db8::\(rng.next() % 3 + 1)]"][Int(rng.next() % 4 == 0 ? 1 : 0)]
            let t = Int(rng.next() % 720) * 10, port = 40000 + k
            func ts(_ t: Int) -> String { "2025-04-01T\(String(3 + t / 3600).leftPadded(2)):\(String(t / 60 % 60).leftPadded(2)):\(String(t % 60).leftPadded(2))Z" }
            lines.append((t, "\(ts(t)) 30014 sftp-1 Unknown \(address):\(port) New SSH connection made."))
            if rng.next() % 5 != 0 {
                lines.append((t, "\(ts(t)) 20021 sftp-1 Unknown \(address):\(port) Failed to authenticate user \"u\(rng.next() % 20)\" with \"password\" credentials. Possible typo in username. No authentication method was able to handle the credentials."))
            }
        }
        let path = dir.appendingPathComponent("guesses.log").path
        try (lines.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element.1).joined(separator: "\n") + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        var all: [SessionTimeline] = []
        try SessionStream(stream: stream, sessions: rebuild).run([path], each: { _, _ in }) { all.append($0) }
        var listing = SessionListing(filter: SessionFilter())
        for s in all { listing.add(s) }
        var ordered = ReportModel.madeNow()
        ordered.sessions = listing.finish()
        ordered.summarise(failureEvents: [])
        var shuffled = ReportCollector(filter: SessionFilter(), catalog: catalog)
        for s in all.shuffled(using: &rng) { shuffled.add(session: s) }
        var made = shuffled.finish(sources: [])
        (ordered.generatedAt, made.generatedAt) = ("", "")
        XCTAssertGreaterThan(ordered.bruteForce.count, 5)
        XCTAssertGreaterThan(ordered.failedLoginsPerPeer.count, 5)
        XCTAssertEqual(made.bruteForce.map { "\($0.address) \($0.failures) \($0.users) \($0.first) \($0.last) \($0.windowSeconds)" },
                       ordered.bruteForce.map { "\($0.address) \($0.failures) \($0.users) \($0.first) \($0.last) \($0.windowSeconds)" })
        XCTAssertEqual(made.failedLoginsPerPeer.map { "\($0.key) \($0.count)" }, ordered.failedLoginsPerPeer.map { "\($0.key) \($0.count)" })
    }

    /// What a pass and its answers are made of: the bundled catalogue, policy and rules.
    static func parts() throws -> (EventCatalog, AlgorithmPolicy, SessionJudge.Memo, SessionRebuild, RecordStream) {
        let catalog = try EventCatalog.shared()
        let policy = try AlgorithmPolicy.bundled()
        let memo = SessionJudge.Memo(SessionJudge(policy: policy))
        let rebuild = SessionRebuild(rules: try SessionRules.bundled(), zone: .current, judge: { memo.judge(&$0) })
        return (catalog, policy, memo, rebuild, RecordStream(options: ReaderOptions(), catalog: catalog))
    }

    /// An answer from a database as the same answer from files gives it: evidence
    /// links name no record id without a database.
    static func withoutRecordIDs(_ s: String) -> String {
        s.replacingOccurrences(of: #""record_id":[0-9]+"#, with: #""record_id":null"#, options: .regularExpression)
            .replacingOccurrences(of: #"\(record [0-9]+, "#, with: "(", options: .regularExpression)
            .replacingOccurrences(of: #" \(record [0-9]+\)"#, with: "", options: .regularExpression)
    }

    /// The parsing thread stops when the caller's session handler fails, and
    /// the handler's error is what the pass throws (no thread left waiting).
    func testAFailingSessionHandlerEndsThePass() throws {
        struct Stop: Error {}
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = try Paths.generatedLog(lines: 60_000, seed: 7, in: dir)
        let rebuild = SessionRebuild(rules: try SessionRules.bundled(), zone: .current)
        let pass = SessionStream(stream: RecordStream(options: ReaderOptions(), catalog: try EventCatalog.shared()), sessions: rebuild)
        var seen = 0, records = 0
        pass.onRecord = { _ in records += 1 }
        XCTAssertThrowsError(try pass.run([log], each: { _, _ in XCTFail("no outcome after the handler failed") }) { _ in
            seen += 1
            if seen == 3 { throw Stop() }
        }) { XCTAssertTrue($0 is Stop, "\($0)") }
        XCTAssertEqual(seen, 3)
        XCTAssertLessThan(records, 60_000, "the pass stopped before the end of the input")
    }
}

/// `audit`'s set-aside texts: whatever the bound, memory and the temporary file
/// give back every piece, in any order asked, byte for byte.
final class TextSpillTests: XCTestCase {
    func testPiecesComeBackInAnyOrderFromMemoryAndFile() throws {
        var rng = SplitMix64(seed: 5)
        let pieces = (0..<3000).map { i in String(repeating: "x", count: Int(rng.next() % 700)) + "é\u{1B}\(i)\n" }
        for bound in [1, 500, 4096, 1 << 20, 64 << 20] {
            let spill = TextSpill(bound: bound)
            let ranges = pieces.map { spill.append($0) }
            if bound < 1 << 20 { XCTAssertGreaterThan(spill.fileBytes, 0, "bound \(bound)") }
            if bound == 64 << 20 { XCTAssertEqual(spill.fileBytes, 0) }
            let order = Array(pieces.indices).shuffled(using: &rng)
            var got: [UInt8] = []
            try spill.read(order.map { ranges[$0] }) { got.append(contentsOf: $0) }
            XCTAssertEqual(String(decoding: got, as: UTF8.self), order.map { pieces[$0] }.joined(), "bound \(bound)")
        }
    }

    /// Set-aside text goes to `$TMPDIR` (where a user has room), in a file no name leads to.
    func testSetAsideTextGoesToTMPDIRUnnamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sftplog-spill-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = ProcessInfo.processInfo.environment["TMPDIR"]
        setenv("TMPDIR", dir.path, 1)
        defer { if let old { setenv("TMPDIR", old, 1) } else { unsetenv("TMPDIR") } }
        let spill = TextSpill(bound: 1)
        let a = spill.append("first piece\n"), b = spill.append("second\n")
        XCTAssertEqual(spill.fileBytes, a.count, "the first piece went to the file")
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(spill.fileDescriptor)")
        XCTAssertTrue(target.hasPrefix(dir.path + "/"), target)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        var got: [UInt8] = []
        try spill.read([b, a]) { got += $0 }
        XCTAssertEqual(String(decoding: got, as: UTF8.self), "second\nfirst piece\n")
    }

    /// Keyed pieces come back in their keys' order (equal keys in the order they
    /// came), whether the keys stayed in memory or were merged from runs, and
    /// wherever the text was.
    func testKeyedPiecesComeBackInKeyOrderFromRuns() throws {
        var rng = SplitMix64(seed: 9)
        // Short keys over a few bytes, 0 and 1 among them: many equal keys and prefixes.
        let keys = (0..<2500).map { _ in (0..<Int(rng.next() % 4)).map { _ in [0, 1, 2, 0x41, 0xFF][Int(rng.next() % 5)] as UInt8 } }
        let pieces = keys.indices.map { i in "\(i):" + String(repeating: "y", count: Int(rng.next() % 300)) }
        let expected = keys.indices.sorted { i, j in
            let c = OrderedSpill.order(keys[i], keys[j])
            return c != 0 ? c < 0 : i < j
        }.map { pieces[$0] }.joined(separator: "|")
        for (bound, keyBound) in [(64 << 20, 1 << 14), (64 << 20, 1), (1, 7), (5000, 100), (1, 2499), (300, 2500)] {
            let spill = OrderedSpill(bound: bound, keyBound: keyBound)
            for (k, p) in zip(keys, pieces) { spill.append(key: k, p) }
            XCTAssertEqual(spill.count, keys.count)
            var got: [UInt8] = []
            try spill.read(separator: Array("|".utf8)) { got.append(contentsOf: $0) }
            XCTAssertEqual(String(decoding: got, as: UTF8.self), expected, "bound \(bound), keys in runs of \(keyBound)")
        }
    }

    /// A session key's bytes order as the key does, whatever its time and file hold.
    func testOrderKeyBytesOrderAsTheKeys() {
        var rng = SplitMix64(seed: 12)
        func text() -> String { String(decoding: (0..<Int(rng.next() % 4)).map { _ in [0, 1, 2, 0x31, 0x32][Int(rng.next() % 5)] as UInt8 }, as: UTF8.self) }
        let keys = (0..<400).map { _ -> SessionQuery.OrderKey in
            var s = SessionTimeline(source: "sftpplus", side: "server", file: text())
            s.firstLine = Int(rng.next() % 5) - 2
            if rng.next() % 4 != 0 { s.startEpoch = Double(rng.next() % 3); s.start = LogTimestamp(year: 2026, month: 1, day: 1, hour: 0, minute: 0, second: Int(rng.next() % 3)) }
            return SessionQuery.OrderKey(s)
        }
        for a in keys.prefix(100) {
            for b in keys {
                let c = OrderedSpill.order(a.orderBytes, b.orderBytes)
                XCTAssertEqual(c < 0, a < b)
                XCTAssertEqual(c > 0, b < a)
            }
        }
    }
}
