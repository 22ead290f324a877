import Foundation
import SFTPLogRecords

/// Which inputs of a streaming pass are read, and under which name, so that it
/// answers what `ingest` of the same inputs stores: an input whose content was
/// already read is skipped, and one that continues an earlier input (the same
/// file grown, a longer copy) replaces it, keeping the earlier name — as
/// `ingest` recognises stored content by its head and prefix hash.
///
/// Only plain files are planned (their heads are read ahead, and prefixes hashed
/// only when heads match); standard input and compressed files are read as given.
struct ContentPlan {
    struct Source {
        /// The name the source is known by: its first input's.
        var name: String
        /// The inputs it holds, each continuing the one before (`ingest` resumes
        /// each where the one before ended); the last is the longest.
        var members: [String]
        var path: String { members[members.count - 1] }
        var head: [UInt8]
        var bytes: Int64
        var hash: ContentHash?
    }

    enum Entry {
        /// Read `sources[index]` when its first input comes.
        case read(Int)
        /// Content already planned to be read.
        case skip
        /// Read as given (not a plain file, or unreadable: the pass reports it).
        case asGiven
    }

    private(set) var sources: [Source] = []
    private(set) var entries: [Entry] = []
    /// The sources by their heads, per head length: an input's candidates are
    /// found by looking up its own head's prefixes (comparing it with every
    /// earlier head made 10,000 transcripts quadratic).
    private var byHead: [Int: [[UInt8]: [Int]]] = [:]

    init(_ names: [String]) {
        for name in names { entries.append(place(name)) }
    }

    private mutating func place(_ name: String) -> Entry {
        guard name != "-", let src = try? InputSource.open(name) else { return .asGiven }
        defer { src.close() }
        guard !src.isStream, let size = src.size, size > 0, let head = try? src.readUpTo(Ingestor.headLength) else { return .asGiven }
        var candidates: [Int] = []
        for (length, heads) in byHead where length <= head.count {
            candidates += (heads[Array(head.prefix(length))] ?? []).filter { sources[$0].bytes <= size }
        }
        candidates.sort { sources[$0].bytes > sources[$1].bytes }
        for i in candidates {
            guard let theirs = contentHash(of: i), let (mine, _) = try? Ingestor.prefixHash(src, sources[i].bytes),
                  mine.count == theirs.count, mine.digest == theirs.digest else { continue }
            if sources[i].bytes == size { return .skip }
            // A continuation: the source goes on with this input's content, under its first name.
            sources[i].members.append(name)
            sources[i].bytes = size
            unindex(i)
            sources[i].head = head
            index(i)
            sources[i].hash = nil
            return .skip
        }
        sources.append(Source(name: name, members: [name], head: head, bytes: size, hash: nil))
        index(sources.count - 1)
        return .read(sources.count - 1)
    }

    private mutating func index(_ i: Int) {
        byHead[sources[i].head.count, default: [:]][sources[i].head, default: []].append(i)
    }

    private mutating func unindex(_ i: Int) {
        byHead[sources[i].head.count]?[sources[i].head]?.removeAll { $0 == i }
    }

    /// The whole content's hash of a source (computed when first needed).
    private mutating func contentHash(of i: Int) -> ContentHash? {
        if let h = sources[i].hash { return h }
        guard let src = try? InputSource.open(sources[i].path) else { return nil }
        defer { src.close() }
        guard let (h, _) = try? Ingestor.prefixHash(src, sources[i].bytes) else { return nil }
        sources[i].hash = h
        return h
    }
}
