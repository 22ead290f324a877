import Foundation

/// Pieces of text set aside as they come and read back in another order: in
/// memory up to `bound` bytes, then in an unlinked temporary file in `$TMPDIR`,
/// so an answer that lists sessions in start order need not hold their text
/// (`OrderedSpill` orders them). Should no temporary file open or take the
/// bytes, memory keeps them.
final class TextSpill {
    private var memory: [UInt8] = []
    /// The bytes in the file: pieces [0, fileBytes) are there, the rest in `memory`.
    private(set) var fileBytes = 0
    private var file: UnsafeMutablePointer<FILE>?
    private var fileFailed = false
    let bound: Int

    init(bound: Int) { self.bound = max(bound, 1) }

    deinit { if let file { fclose(file) } }

    /// Sets `text` aside: where it is.
    func append(_ text: String) -> Range<Int> {
        var text = text
        return text.withUTF8 { append($0) }
    }

    /// Sets `bytes` aside: where they are.
    func append(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let n = bytes.count
        if memory.count + n > bound, !memory.isEmpty { moveToFile() }
        let start = fileBytes + memory.count
        memory.append(contentsOf: bytes)
        return start..<(start + n)
    }

    private func moveToFile() {
        guard !fileFailed else { return }
        if file == nil { file = TextSpill.unlinkedFile() }
        guard let file, fwrite(memory, 1, memory.count, file) == memory.count else { fileFailed = true; return }
        fileBytes += memory.count
        memory.removeAll(keepingCapacity: true)
    }

    /// The temporary file's descriptor (-1 before there is one).
    var fileDescriptor: Int32 { file.map { fileno($0) } ?? -1 }

    /// A new file in `$TMPDIR` (else /tmp) that no name leads to, so that it goes
    /// when closed, even after a kill. `tmpfile()` always used /tmp, which may be
    /// a small memory-backed file system where `$TMPDIR` points elsewhere.
    static func unlinkedFile() -> UnsafeMutablePointer<FILE>? {
        let env = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        let dir = env.isEmpty ? "/tmp" : env
        var fd: Int32 = -1
        #if os(Linux) && (arch(x86_64) || arch(arm64))
        // O_TMPFILE is a C macro Swift does not import: __O_TMPFILE (0o20000000 on
        // these architectures) with O_DIRECTORY.
        fd = open(dir, O_RDWR | O_EXCL | 0o20000000 | O_DIRECTORY, 0o600)
        #endif
        if fd < 0 {
            // A file system without O_TMPFILE: a named file, unlinked at once.
            var template = Array((dir + "/.sftplog-spill-XXXXXX").utf8CString)
            fd = mkstemp(&template)
            if fd >= 0 { unlink(template) }
        }
        guard fd >= 0 else { return nil }
        guard let f = fdopen(fd, "w+") else { close(fd); return nil }
        return f
    }

    /// The temporary file could not be written or read back (a full disk): the
    /// answer would be missing sessions, so it is an error, not a shorter answer.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ what: String) { description = "\(what) the temporary file holding output set aside: \(String(cString: strerror(errno)))" }
    }

    /// The block last read from the file, kept across calls (pieces are read
    /// back mostly in the order they came, a batch at a time).
    private var block: [UInt8] = [], blockStart = 0

    /// Lends the pieces at `ranges` to `write`, in that order; from the file a
    /// block at a time.
    func read(_ ranges: [Range<Int>], _ write: (UnsafeBufferPointer<UInt8>) -> Void) throws {
        try flush()
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        for r in ranges {
            try copy(r, into: &out)
            if out.count >= 1 << 16 { out.withUnsafeBufferPointer(write); out.removeAll(keepingCapacity: true) }
        }
        if !out.isEmpty { out.withUnsafeBufferPointer(write) }
    }

    /// The bytes at `r`.
    func bytes(_ r: Range<Int>) throws -> [UInt8] {
        try flush()
        var out: [UInt8] = []
        out.reserveCapacity(r.count)
        try copy(r, into: &out)
        return out
    }

    private func flush() throws {
        if let file, fflush(file) != 0 { throw Failure("could not write") }
    }

    /// Appends the bytes at `r` to `out`, wherever they are (a range may run from the file into memory).
    private func copy(_ r: Range<Int>, into out: inout [UInt8]) throws {
        if r.lowerBound < fileBytes {
            let inFile = r.lowerBound..<min(r.upperBound, fileBytes)
            try loadBlock(covering: inFile)
            let b = (inFile.lowerBound - blockStart)..<(inFile.upperBound - blockStart)
            block.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[b])) }
        }
        if r.upperBound > fileBytes {
            let m = (max(r.lowerBound, fileBytes) - fileBytes)..<(r.upperBound - fileBytes)
            memory.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[m])) }
        }
    }

    /// Makes `block` hold `r`, which lies in the file: read from `r`'s start,
    /// up to 1 MB (or all of `r`).
    private func loadBlock(covering r: Range<Int>) throws {
        guard r.lowerBound < blockStart || r.upperBound > blockStart + block.count else { return }
        let fd = fileDescriptor
        blockStart = r.lowerBound
        let n = max(r.count, min(1 << 20, fileBytes - r.lowerBound))
        block = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let k = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, n - got, off_t(r.lowerBound + got)) }
            if k < 0, errno == EINTR { continue }
            if k <= 0 { break }
            got += k
        }
        guard got >= r.count else { block = []; throw Failure("could not read back") }
        block.removeLast(n - got)
    }
}
