import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogOpenSSH
import SFTPLogSessions
import SFTPLogStore

/// Rebuilds the sessions of one stored source from its records (after an
/// ingest completes or resumes), judges them with the policy, and stores them.
public struct SessionRebuild {
    public var rules: SessionRules
    public var zone: TimeZone
    /// Judges each session (Policy stage); nil leaves findings empty.
    public var judge: ((inout SessionTimeline) -> Void)?

    public init(rules: SessionRules, zone: TimeZone, judge: ((inout SessionTimeline) -> Void)? = nil) {
        self.rules = rules; self.zone = zone; self.judge = judge
    }

    /// `offsets`: where the lines read in this run begin (stored records keep no
    /// offsets); the links to earlier lines keep those the stored links had.
    public func rebuild(_ store: StoreWriter, sourceID: Int64, offsets: LineOffsets? = nil) throws -> Int {
        guard let (file, format) = try store.reader.source(id: sourceID) else { return 0 }
        var sessions: [SessionTimeline]
        /// The sources whose sessions are rebuilt: this one, after the files of its
        /// log whose sessions go on in it (read again, so those are rebuilt whole).
        var chain = [sourceID]
        if format == SourceFormat.openssh.rawValue {
            var b = OpenSSHTimelineBuilder(file: file, sourceID: sourceID)
            try store.reader.forEachRecord(sourceID: sourceID, needsFields: { _, _ in true }) { r, seq in b.add(r, seq: seq) }
            sessions = b.finish()
        } else {
            chain = try store.reader.continuedSources(endingAt: sourceID, logFamily: InputExpansion.logFamily)
            let builder = SFTPPlusSessionBuilder(rules: rules, file: file, sourceID: sourceID, timeZone: zone)
            let wanted = rules.eventIDsWithFields
            for id in chain {
                guard let (name, _) = try store.reader.source(id: id) else { continue }
                builder.continueInto(file: name, sourceID: id)
                try store.reader.forEachRecord(sourceID: id, needsFields: { r, fieldsText in
                    guard let id = r.eventID else { return false }
                    return wanted.contains(id) || fieldsText.contains("\"location\"") || fieldsText.contains("\"client_version\"")
                }) { r, seq in builder.add(r, seq: seq) }
            }
            sessions = builder.finish()
        }
        if let judge { for i in sessions.indices { judge(&sessions[i]) } }
        /// Gives the links without an offset the one `offset(source, line)` knows.
        func fill(_ offset: (Int64, Int) -> Int64?) {
            for i in sessions.indices {
                for k in sessions[i].evidence.indices where sessions[i].evidence[k].offset == nil {
                    let l = sessions[i].evidence[k]
                    let source = l.sourceID != 0 ? l.sourceID : sessions[i].sourceID != 0 ? sessions[i].sourceID : sourceID
                    sessions[i].evidence[k].offset = offset(source, l.line)
                }
            }
        }
        // The lines read in this run; the stored links are read only for lines left without one.
        fill { source, line in source == sourceID ? offsets?[line] : nil }
        if sessions.contains(where: { $0.evidence.contains { $0.offset == nil } }) {
            let known = try store.reader.evidenceOffsets(sessionsOf: chain)
            fill { known[$0]?[$1] }
        }
        // Each session is stored with the source it began in.
        for id in chain { try store.replaceSessions(sourceID: id, with: sessions.filter { $0.sourceID == id }, zone: zone) }
        for id in chain { try store.assignRecords(sourceID: id, to: sessions) }
        return sessions.count
    }
}

/// Sessions built while a new source streams in: closed sessions are handed
/// to each batch commit, so memory holds only the open ones. An SFTPPlus log's
/// sessions go on into the next file of the same log (`continueInto`).
public final class LiveSessions {
    let rebuild: SessionRebuild
    /// The first file's, for the builder made at its first record.
    let file: String
    let sourceID: Int64
    private var sftpplus: SFTPPlusSessionBuilder?
    /// One of the two is made at the source's first record, by its format.
    private var openssh: OpenSSHTimelineBuilder?

    /// Off when the records of file operations are not resolved (`ResolutionNeeds`).
    var tracksOperations = true
    /// Off when the answer shows no evidence links.
    var tracksEvidence = true

    init(_ rebuild: SessionRebuild, file: String, sourceID: Int64) {
        self.rebuild = rebuild
        self.file = file
        self.sourceID = sourceID
    }

    /// Which builder was made: testing the OpenSSH one (a value of 2.7 kB) for
    /// nil copied it, twice for every record.
    private var readsOpenSSH = false

    @discardableResult
    public func add(_ r: Record, seq: Int, format: SourceFormat?) -> (id: SessionID, duplicate: Bool)? {
        if let b = sftpplus { return b.add(r, seq: seq) }
        if !readsOpenSSH {
            if format == .openssh {
                openssh = OpenSSHTimelineBuilder(file: file, sourceID: 0)
                readsOpenSSH = true
            } else {
                let b = SFTPPlusSessionBuilder(rules: rebuild.rules, file: file, sourceID: sourceID, timeZone: rebuild.zone, collectRefs: false)
                b.tracksOperations = tracksOperations
                b.tracksEvidence = tracksEvidence
                sftpplus = b
                return b.add(r, seq: seq)
            }
        }
        openssh?.add(r, seq: seq)  // in place: the builder is a value
        return nil
    }

    /// An OpenSSH run is known once the next one begins, after its records were
    /// handed to the writer: its records get their session id when it is stored.
    public var marksRecordsAfterwards: Bool { readsOpenSSH }

    /// SFTPPlus sessions can go on into a rotated log's next file; a transcript's cannot.
    public var continues: Bool { sftpplus != nil }

    /// The next file of the same log, of format `format`: true when its sessions
    /// go on from this one's (then its records are added here).
    public func continueInto(file: String, sourceID: Int64, format: SourceFormat?) -> Bool {
        guard let b = sftpplus, format != .openssh else { return false }
        b.continueInto(file: file, sourceID: sourceID)
        return true
    }

    /// `list` is consumed: mutated through a copy that shared its buffer, it was
    /// copied whole, every session with every string retained.
    func judged(_ list: consuming [SessionTimeline], sourceID: Int64) -> [SessionTimeline] {
        var out = list
        for i in out.indices {
            // A session begun in an earlier file of the log keeps that file's source.
            if out[i].sourceID == 0 { out[i].sourceID = sourceID }
            // A transcript's links come with its runs; dropped alike when not wanted.
            if !tracksEvidence { out[i].evidence = [] }
            rebuild.judge?(&out[i])
        }
        return out
    }

    public func takeClosed(sourceID: Int64) -> [SessionTimeline] {
        judged(openssh?.takeClosed() ?? sftpplus?.takeClosed() ?? [], sourceID: sourceID)
    }

    public func finish(sourceID: Int64) -> [SessionTimeline] {
        judged(openssh?.finish() ?? sftpplus?.finish() ?? [], sourceID: sourceID)
    }

    /// Ends the SFTPPlus sessions idle since before `cutoff` (see `SFTPPlusSessionBuilder.endIdle`).
    public func endIdle(before cutoff: Double) { sftpplus?.endIdle(before: cutoff) }

    /// Every session still held, ended as `finish` would end it, while they go on.
    public func snapshot(sourceID: Int64) -> [SessionTimeline] {
        judged(sftpplus?.snapshot() ?? [], sourceID: sourceID)
    }
}

extension SessionRebuild {
    /// `sourceID`: the source's when it is known while reading (a streaming pass);
    /// 0 when the store gives it later (`ingest`).
    public func live(file: String, sourceID: Int64 = 0) -> LiveSessions { LiveSessions(self, file: file, sourceID: sourceID) }
}

/// Where each line read in a run begins (the first record's offset of its
/// line), from the run's first line on: 8 bytes a line.
public struct LineOffsets: Sendable {
    private var first = 0
    private var offsets: [Int64] = []

    public init() {}

    public mutating func note(line: Int, offset: Int64) {
        if offsets.isEmpty { first = line }
        let k = line - first
        guard k >= offsets.count else { return }  // a later record of the same line
        if k > offsets.count { offsets.append(contentsOf: repeatElement(-1, count: k - offsets.count)) }
        offsets.append(offset)
    }

    public subscript(line: Int) -> Int64? {
        let k = line - first
        guard k >= 0, k < offsets.count, offsets[k] >= 0 else { return nil }
        return offsets[k]
    }
}
