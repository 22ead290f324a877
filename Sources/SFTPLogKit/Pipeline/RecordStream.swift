import Foundation

/// Turns one input into records: line splitting, format detection, the chosen
/// reader, then catalogue resolution. Used by `parse` (print) and `ingest` (store).
public struct RecordStream {
    public var options: ReaderOptions
    public var catalog: EventCatalog?

    public init(options: ReaderOptions, catalog: EventCatalog? = nil) {
        self.options = options
        self.catalog = catalog
    }

    /// A reader for a known format (resuming) or one that detects it.
    public func makeReader(file: String, fileYear: Int?, format: SourceFormat?, readerState: String?) -> LogReader {
        var opts = options
        opts.fileYear = fileYear
        let factory: DetectingReader.Factory = { f in
            switch f {
            case .sftpplusCSV:
                let r = CSVEventReader(file: file, options: opts)
                if let state = readerState { r.restoreHeader(state) }
                return r
            case .openssh:
                return OpenSSHReaderFactory.make(file: file, options: opts)
            case .sftpplusText:
                return SFTPPlusTextReader(file: file, options: opts)
            }
        }
        if let format { return factory(format) }
        return DetectingReader(factory: factory)
    }

    /// Streams records from `source` starting at `offset`/`line`; `onLine` sees every
    /// physical line first (for hashing), `emit` every record in input order.
    /// `checkStream: false` leaves `source.checkStream()` to a caller that stores what was read first.
    public func run(_ source: InputSource, reader: LogReader, offset: Int64 = 0, line: Int = 1, prefix: [UInt8] = [],
                    checkStream: Bool = true, follow: FollowControl? = nil, onIdle: () throws -> Void = {},
                    onLine: ((PhysicalLine) -> Void)? = nil, emit: (Record) throws -> Void) throws {
        let resolver = catalog.map(SourceResolver.init)
        func sink(_ rec: Record) throws {
            var r = rec
            resolver?.resolve(&r)
            try emit(r)
        }
        try LineSplitter().split(fd: source.fd, startOffset: offset, startLine: line, prefix: prefix, follow: follow,
                                 idle: { try reader.idle(sink); try onIdle() }) { l in
            onLine?(l)
            try reader.feed(l, sink)
        }
        try reader.finish(sink)
        // Corrupt compressed input ends the stream early: report it once what came before is out.
        if checkStream { try source.checkStream() }
    }
}

/// Where OpenSSH transcripts get their reader; replaced when the OpenSSH stage lands.
enum OpenSSHReaderFactory {
    static func make(file: String, options: ReaderOptions) -> LogReader {
        OpenSSHTranscriptReader(file: file, options: options)
    }
}

extension CSVEventReader {
    /// Reader state worth persisting to resume a CSV file mid-way: its header.
    public var savedState: String? { header.map { $0.joined(separator: ",") } }

    func restoreHeader(_ state: String) {
        setHeader(state.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
    }
}
