import Foundation
import Synchronization
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSFTPPlus

/// How a large file is cut into pieces read on several cores.
public struct Chunking: Sendable {
    /// Where pieces are cut, nominally (each starts at the first event line at or after).
    public var bytes: Int
    public var workers: Int

    /// One core is left to whatever takes the records (session building, rendering).
    public init(bytes: Int = 1 << 20, workers: Int = ProcessInfo.processInfo.activeProcessorCount - 1) {
        self.bytes = max(1, bytes); self.workers = workers
    }

    /// `SFTPLOG_CHUNK_BYTES` and `SFTPLOG_WORKERS` override the defaults (tests
    /// force tiny pieces so records and blocks cross their borders).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Chunking {
        var c = Chunking()
        if let b = env["SFTPLOG_CHUNK_BYTES"].flatMap(Int.init), b > 0 { c.bytes = b }
        if let w = env["SFTPLOG_WORKERS"].flatMap(Int.init), w > 0 { c.workers = w }
        return c
    }
}

extension RecordStream {
    /// `run` for any input; a regular SFTPPlus text file large enough is read
    /// in pieces on `chunking.workers` threads (`PieceReading`), its records
    /// handed to `emit` in input order exactly as `run` gives them.
    /// `progress` gets the lines and the offset read so far. Returns how many
    /// pieces were read in parallel (0: one thread read it all).
    @discardableResult
    public func runInPieces(_ source: InputSource, reader: LogReader, offset: Int64 = 0, line: Int = 1, checkStream: Bool = true,
                            progress: (_ lines: Int, _ bytes: Int64) -> Void,
                                emit: (consuming Record) throws -> Void) throws -> Int {
        guard let chunking, chunking.workers > 1, !source.isStream, source.compression == nil, let size = source.size,
              size - offset >= 2 * Int64(chunking.bytes) else {
            // Not escaping: `lines` stays a plain local (an escaping closure made it a
            // heap box, checked for exclusive access at run time on every line).
            var lines = 0
            try run(source, reader: reader, offset: offset, line: line, checkStream: checkStream,
                    onLine: { l in lines += 1; progress(lines, l.endOffset) }, emit: emit)
            return 0
        }
        let completion = RecordCompletion(self)
        func sink(_ r: consuming Record) throws {
            completion.complete(&r)
            try emit(r)
        }
        // The head is read here (the format is detected from it) up to the
        // first event line past one piece's length; the rest in pieces.
        var lines = 0, cut: Int64?, afterLF = false
        let cutFrom = offset + Int64(chunking.bytes)
        let textReader = { (reader as? DetectingReader)?.detected ?? reader } as () -> LogReader?
        do {
            try LineSplitter().split(fd: source.fd, startOffset: offset, startLine: line) { l in
                if l.offset >= cutFrom, afterLF, size - l.offset >= 2 * Int64(chunking.bytes),
                   textReader() is SFTPPlusTextReader, SFTPPlusTextReader.startsPiece(l.bytes) {
                    cut = l.offset
                    throw PieceReading.PieceEnd()
                }
                afterLF = l.terminator.last == 0x0A
                lines += 1
                progress(lines, l.endOffset)
                try reader.feed(l, sink)
            }
        } catch is PieceReading.PieceEnd {}
        try reader.finish(sink)
        guard let cut, let text = textReader() as? SFTPPlusTextReader else { return 0 }
        let pieces = PieceReading(fd: source.fd, from: cut, size: size, chunking: chunking, file: text.file,
                                  stream: self, options: text.options, state: text.carried)
        defer { pieces.stop() }
        var expected = text.carried
        var base = line + lines
        for k in 0..<pieces.count {
            var piece = pieces.take(k)
            if piece.startState != expected, !piece.isEmpty {
                // Read with a state the piece before did not end in (a client-shell
                // transcript, HTTP headers across the cut): read it again, alike.
                piece = pieces.read(k, state: expected)
            }
            if let error = piece.error { throw error }
            var sensitive = piece.hintSensitive.makeIterator()
            var nextSensitive = sensitive.next()
            // Moved out one by one (reversed, then popped): a copy retained every string.
            var records = piece.records
            piece.records = []
            records.reverse()
            var i = 0
            while var r = records.popLast() {
                r.line += base - 1
                completion.completeInOrder(&r, hintSensitive: nextSensitive == i)
                if nextSensitive == i { nextSensitive = sensitive.next() }
                try emit(r)
                i += 1
            }
            if !piece.isEmpty {
                expected = piece.endState
                base += piece.lines
                lines += piece.lines
                progress(lines, piece.end)
            }
            pieces.done(k, endingIn: expected)
        }
        return pieces.count
    }

    /// Hostile input: a record whose last line has no terminator is where the
    /// input stopped (a truncated file, a cut transcript): it is said, so a cut
    /// message or algorithm list is not taken for a whole one.
    static func noteMissingTerminator(_ r: inout Record) {
        guard !r.raw.isEmpty, r.endOffset == r.offset + Int64(r.raw.count) else { return }
        let note = "no line terminator after this line: the input may have been cut short here"
        if r.kind == .unparsed { r.diagnostic = (r.diagnostic.map { $0 + "; " } ?? "") + note }
        else { r.extra.append(("line_note", .string(note))) }
    }
}

/// The pieces of one SFTPPlus text file after its head, read by worker
/// threads, each with a reader of its own; taken back in order.
///
/// A piece starts at the first line at or after its nominal offset that
/// follows an LF and is an event from its first byte: such a line flushes
/// whatever the reader held, so the piece reads alike from a fresh reader,
/// given the little state a reader carries past one (`CarriedState`). Each
/// piece is read with the state the last piece taken ended in; the taker
/// checks it and reads a piece again when it differs. Wording choices that a
/// version hint could change (several wordings match) are marked and resolved
/// again in order (`SourceResolver.replay`), as is the clock check.
final class PieceReading: Sendable {
    struct PieceEnd: Error {}

    struct Piece: Sendable {
        var records: [Record] = []
        /// Indexes of records whose wording the version hint chose.
        var hintSensitive: [Int] = []
        var lines = 0
        var end: Int64 = 0
        var startState: SFTPPlusTextReader.CarriedState
        var endState: SFTPPlusTextReader.CarriedState
        var error: Error?
        /// No event line starts in the piece's span: its lines are the previous piece's.
        var isEmpty: Bool { lines == 0 && error == nil }
    }

    let count: Int
    private let from: Int64, chunk: Int64, workers: Int
    private let file: String, stream: RecordStream, options: ReaderOptions
    private let fdPath: String
    private let latestState: Mutex<SFTPPlusTextReader.CarriedState>
    private let results = Mutex<[Int: Piece]>([:])
    private let nextIndex = Mutex(0)
    private let stopped = Atomic<Bool>(false)
    private let ready = DispatchSemaphore(value: 0)
    /// Pieces read ahead of the taker, at most: memory stays a few pieces.
    private let slots: DispatchSemaphore

    /// `options`: the reader's (with the file's year), `stream`'s catalogue and needs resolve.
    init(fd: Int32, from: Int64, size: Int64, chunking: Chunking, file: String, stream: RecordStream, options: ReaderOptions,
         state: SFTPPlusTextReader.CarriedState) {
        self.from = from
        self.chunk = Int64(chunking.bytes)
        self.count = Int((size - from + chunk - 1) / chunk)
        self.workers = max(1, min(chunking.workers, count))
        self.file = file; self.stream = stream; self.options = options
        // Each worker opens the file anew through the descriptor, for a read
        // offset of its own on the very file being read, whatever its name now names.
        self.fdPath = "/proc/self/fd/\(fd)"
        self.latestState = Mutex(state)
        self.slots = DispatchSemaphore(value: workers + 1)
        for w in 0..<workers {
            let own = open(fdPath, O_RDONLY | O_CLOEXEC)
            let t = Thread { [self] in work(fd: own) }
            t.name = "sftplog-piece-\(w)"
            t.stackSize = 8 << 20
            t.start()
        }
    }

    private func work(fd: Int32) {
        defer { if fd >= 0 { close(fd) } }
        while true {
            slots.wait()
            let k = nextIndex.withLock { n in defer { n += 1 }; return n }
            if k >= count || stopped.load(ordering: .relaxed) { slots.signal(); return }
            var piece: Piece
            if fd < 0 {
                piece = Piece(startState: .init(), endState: .init(), error: InputError.readFailed(errno: errno))
            } else {
                piece = read(k, state: latestState.withLock { $0 }, fd: fd)
            }
            results.withLock { $0[k] = piece }
            ready.signal()
        }
    }

    /// Piece `k`, once read (in order: the caller takes 0, 1, 2…).
    func take(_ k: Int) -> Piece {
        while true {
            if let p = results.withLock({ $0.removeValue(forKey: k) }) { return p }
            ready.wait()
        }
    }

    /// Piece `k` is taken, ending in `state`: later pieces are read from it.
    func done(_ k: Int, endingIn state: SFTPPlusTextReader.CarriedState) {
        latestState.withLock { $0 = state }
        slots.signal()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        for _ in 0..<workers { slots.signal() }
    }

    /// Reads piece `k` again on the caller's thread, from `state`.
    func read(_ k: Int, state: SFTPPlusTextReader.CarriedState) -> Piece {
        let own = open(fdPath, O_RDONLY | O_CLOEXEC)
        guard own >= 0 else { return Piece(startState: state, endState: state, error: InputError.readFailed(errno: errno)) }
        defer { close(own) }
        return read(k, state: state, fd: own)
    }

    private func read(_ k: Int, state: SFTPPlusTextReader.CarriedState, fd: Int32) -> Piece {
        var piece = Piece(startState: state, endState: state)
        let nominal = from + Int64(k) * chunk
        let next: Int64? = k + 1 < count ? nominal + chunk : nil
        do {
            guard let lineStart = try PieceReading.lineStart(fd: fd, atOrAfter: nominal, first: k == 0, step: Int(min(chunk, 64 << 10)))
            else { return piece }
            guard lseek(fd, off_t(lineStart), SEEK_SET) >= 0 else { throw InputError.readFailed(errno: errno) }
            let reader = SFTPPlusTextReader(file: file, options: options)
            reader.carried = state
            let completion = RecordCompletion(stream)
            var records: [Record] = []
            var sensitive: [Int] = []
            func sink(_ r: consuming Record) {
                if completion.completeAlone(&r) { sensitive.append(records.count) }
                records.append(r)
            }
            var begun = false, afterLF = true, firstNumber = 0, end: Int64 = lineStart
            do {
                try LineSplitter().split(fd: fd, startOffset: lineStart, startLine: 1, lfEndsLines: true,
                                         readSize: Int(chunk) * 2) { l in
                    if stopped.load(ordering: .relaxed) { throw CancellationError() }
                    let starts = afterLF && SFTPPlusTextReader.startsPiece(l.bytes)
                    afterLF = l.terminator.last == 0x0A
                    if starts, let next, l.offset >= next { throw PieceEnd() }  // the next piece's first line
                    if !begun {
                        guard starts else { return }  // the piece before's lines
                        begun = true
                        firstNumber = l.number
                    }
                    end = l.endOffset
                    piece.lines += 1
                    reader.feed(PhysicalLine(bytes: l.bytes, number: l.number - firstNumber + 1, offset: l.offset,
                                             terminatorLength: l.terminatorLength), sink)
                }
            } catch is PieceEnd {}
            guard begun else { return piece }
            reader.finish(sink)
            piece.records = records
            piece.hintSensitive = sensitive
            piece.end = end
            piece.endState = reader.carried
        } catch {
            piece.error = error
        }
        return piece
    }

    /// The first line start at or after `offset` (just after an LF), nil when none.
    static func lineStart(fd: Int32, atOrAfter offset: Int64, first: Bool, step: Int) throws -> Int64? {
        if first || offset == 0 { return offset }
        var buffer = [UInt8](repeating: 0, count: max(256, step))
        var at = offset - 1
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(at)) }
            if n < 0 { if errno == EINTR { continue }; throw InputError.readFailed(errno: errno) }
            if n == 0 { return nil }
            if let i = buffer[0..<n].firstIndex(of: 0x0A) { return at + Int64(i) + 1 }
            at += Int64(n)
        }
    }
}
