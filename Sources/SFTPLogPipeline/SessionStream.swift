import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus
import SFTPLogOpenSSH
import SFTPLogSessions
import SFTPLogStore

/// What one input gave a streaming pass (`sessions`, `audit`, `report` on files).
public struct StreamedSource: Sendable {
    public var name: String
    public var records = 0
    public var unparsed = 0
    public var format: String?
    public var sftpplusVersions: String?
    /// Why reading stopped early (compressed data cut short): what was read
    /// before is in the answer, as `ingest` stores it, and the error is reported.
    public var interruption: Error?

    public init(name: String) { self.name = name }
}

/// One streaming pass over log files and pipes: records → sessions, judged,
/// handed to the caller as each closes. Nothing is stored: memory holds the
/// open sessions only. The same readers, session builders and policy as
/// `ingest`, so the sessions are those `ingest` would store.
public final class SessionStream {
    public let stream: RecordStream
    public let sessions: SessionRebuild
    /// Every unparsed record, as `ingest` reports them.
    public var onUnparsed: ((Record) -> Void)?
    public var onProgress: ((IngestProgress) -> Void)?
    /// Every record, in input order (for answers that count records, e.g. failure events).
    public var onRecord: ((Record) -> Void)?

    public init(stream: RecordStream, sessions: SessionRebuild) {
        self.stream = stream
        self.sessions = sessions
    }

    /// Reads `names` in order. `session` gets every session as it closes; `each`
    /// every input's outcome (an input that fails is reported and the others go on).
    public func run(_ names: [String], each: (String, Result<StreamedSource, Error>) -> Void,
                    session: (SessionTimeline) throws -> Void) throws {
        let plan = ContentPlan(names)
        var sourceID: Int64 = 0
        for (name, entry) in zip(names, plan.entries) {
            let (chain, shownAs): ([String], String)
            switch entry {
            case .skip: continue
            case .asGiven: (chain, shownAs) = ([name], name)
            case .read(let i): (chain, shownAs) = (plan.sources[i].members, plan.sources[i].name)
            }
            sourceID += 1
            do {
                let result = try read(chain, as: shownAs, sourceID: sourceID, session: session)
                each(name, .success(result))
            } catch let e as SessionSinkError {
                throw e.underlying
            } catch {
                each(name, .failure(error))
            }
        }
    }

    /// An error thrown by the caller's session handler, which ends the pass.
    struct SessionSinkError: Error { let underlying: Error }

    /// Reads the files of `chain` as one source named `name`: each after the
    /// first continues the one before from where `ingest` would resume it (the
    /// start of its last line's records, with the format and CSV header known),
    /// and those records of the one before are read again from it.
    private func read(_ chain: [String], as name: String, sourceID: Int64, session: (SessionTimeline) throws -> Void) throws -> StreamedSource {
        var result = StreamedSource(name: name)
        let live = sessions.live(file: name)
        var facts = SourceFacts.Streamed()
        var format: SourceFormat?, readerState: String?
        var resume: (offset: Int64, line: Int) = (0, 1)
        func handOver(_ closed: [SessionTimeline]) throws {
            for s in closed {
                do { try session(s) } catch { throw SessionSinkError(underlying: error) }
            }
        }
        func accept(_ r: consuming Record, seq: Int) throws {
            live.add(r, seq: seq, format: format)
            facts.add(r)
            result.records += 1
            if r.kind == .unparsed { result.unparsed += 1; onUnparsed?(r) }
            onRecord?(r)
            if seq == 0, result.records % 8_000 == 0 { try handOver(live.takeClosed(sourceID: sourceID)) }
        }
        var opened: [InputSource] = []
        defer { for src in opened { src.close() } }
        for (k, path) in chain.enumerated() {
            let isLast = k == chain.count - 1
            let src = try InputSource.open(path)
            opened.append(src)
            let display = src.isStdin ? "-" : name
            if !src.isStream, src.size == 0 { throw IngestError.emptyInput(name: display) }
            let reader = stream.makeReader(file: display, fileYear: src.modificationYear, format: format, readerState: readerState)
            let detecting = reader as? DetectingReader
            var lastLine = (line: -1, seq: 0)
            var bytes = resume.offset, lines = 0, sawLine = false
            var lastStart: (offset: Int64, line: Int)?
            /// The records of the line being read, held while a later input reads them again.
            var held: [(Record, Int)] = []
            if resume.offset > 0 { try src.seek(to: resume.offset) }
            try stream.run(src, reader: reader, offset: resume.offset, line: resume.line, checkStream: false, onLine: { l in
                sawLine = true
                lines += 1
                bytes = l.offset + Int64(l.bytes.count + l.terminatorLength)
                if lines % 65_536 == 0 {
                    self.onProgress?(IngestProgress(name: display, bytesRead: bytes, totalBytes: src.size, lines: lines, final: false))
                }
            }, emit: { r in
                let seq = r.line == lastLine.line ? lastLine.seq + 1 : 0
                lastLine = (r.line, seq)
                if format == nil { format = detecting?.format }
                if isLast { try accept(r, seq: seq); return }
                if seq == 0 {
                    lastStart = (r.offset, r.line)
                    for (h, hs) in held { try accept(h, seq: hs) }
                    held = []
                }
                held.append((r, seq))
            })
            if !sawLine, src.isStream {
                try src.checkStream()
                throw IngestError.emptyInput(name: display)
            }
            onProgress?(IngestProgress(name: display, bytesRead: bytes, totalBytes: src.size, lines: lines, final: true))
            if !isLast {
                resume = lastStart ?? (bytes, resume.line + lines)
                format = detecting?.format ?? format
                readerState = (reader as? CSVEventReader)?.savedState ?? readerState
            }
        }
        try handOver(live.finish(sourceID: sourceID))
        result.format = format?.rawValue
        if let catalog = stream.catalog {
            result.sftpplusVersions = VersionInference.infer(resolved: facts.resolved.map { (eventID: $0.eventID, variant: $0.variant) },
                                                              bannerVersions: facts.banners, catalog: catalog)
        }
        // Corrupt compressed data: what came before was answered, then it is said.
        do { try opened.last?.checkStream() } catch { result.interruption = error }
        return result
    }
}
