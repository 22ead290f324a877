import Foundation

/// An input named on the command line: a file path, or `-` for standard input.
/// Compressed content (gzip, bzip2, xz, recognised by its magic bytes) is
/// decompressed on a background thread and read through a pipe, so `fd` always
/// yields the log's own bytes.
public final class InputSource {
    public let name: String
    public let fd: Int32
    public let isStdin: Bool
    /// `fd` cannot be re-read from the start: standard input, pipes, and decompressed content.
    public let isStream: Bool
    /// How the named file is compressed (nil for plain input).
    public let compression: Compression?
    /// Size for regular uncompressed files (nil for streams).
    public let size: Int64?
    /// Year of the file's modification time (for year-less syslog stamps).
    public let modificationYear: Int?
    private let pump: DecompressionPump?
    private let ownsFD: Bool
    private var closed = false

    init(name: String, fd: Int32, isStdin: Bool, size: Int64?, modificationYear: Int?,
         isStream: Bool? = nil, pump: DecompressionPump? = nil, ownsFD: Bool? = nil) {
        self.name = name; self.fd = fd; self.isStdin = isStdin; self.size = size; self.modificationYear = modificationYear
        self.isStream = isStream ?? isStdin
        self.pump = pump
        self.compression = pump?.compression
        self.ownsFD = ownsFD ?? !isStdin
    }

    deinit { close() }

    /// Closing early also stops a decompression thread (its next write fails);
    /// for files this waits for it, so nothing outlives the source.
    public func close() {
        guard !closed else { return }
        closed = true
        if ownsFD { _ = Foundation.close(fd) }
        // A thread fed by standard input may sit in read() indefinitely: let it go.
        if let pump, !isStdin { pump.waitUntilDone() }
    }

    /// Call after reading `fd` to its end: throws when the stream behind it
    /// stopped on an error (corrupt or truncated compressed data).
    public func checkStream() throws {
        guard let pump, let (reason, delivered) = pump.outcome else { return }
        throw DecompressionError(name: name, compression: pump.compression, reason: reason, delivered: delivered)
    }

    public static func open(_ name: String) throws -> InputSource {
        if name == "-" {
            var st = stat()
            let regular = fstat(0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
            if regular {
                // Redirected from a file: peek without consuming.
                let here = lseek(0, 0, SEEK_CUR)
                if let c = Compression.detect(try peek(0, at: here)) {
                    let pump = try DecompressionPump(source: 0, closesSource: false, head: [], compression: c)
                    return InputSource(name: "-", fd: pump.readFD, isStdin: true, size: nil, modificationYear: nil, pump: pump, ownsFD: true)
                }
                return InputSource(name: "-", fd: 0, isStdin: true, size: Int64(st.st_size), modificationYear: nil)
            }
            if isatty(0) != 0 { return InputSource(name: "-", fd: 0, isStdin: true, size: nil, modificationYear: nil) }
            let pump = try sniffedPump(0, closesSource: false)
            return InputSource(name: "-", fd: pump.readFD, isStdin: true, size: nil, modificationYear: nil, pump: pump, ownsFD: true)
        }
        var st = stat()
        guard stat(name, &st) == 0 else {
            throw InputError.cannotOpen(path: name, reason: errno == ENOENT ? "no such file" : String(cString: strerror(errno)))
        }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw InputError.isDirectory(path: name) }
        let fd = Foundation.open(name, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw InputError.cannotOpen(path: name, reason: errno == EACCES ? "permission denied" : String(cString: strerror(errno)))
        }
        let mtime = Date(timeIntervalSince1970: TimeInterval(st.st_mtim.tv_sec))
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: mtime).year
        do {
            if (st.st_mode & S_IFMT) == S_IFREG {
                if let c = Compression.detect(try peek(fd, at: 0)) {
                    let pump = try DecompressionPump(source: fd, closesSource: true, head: [], compression: c)
                    return InputSource(name: name, fd: pump.readFD, isStdin: false, size: nil, modificationYear: year, isStream: true, pump: pump)
                }
                return InputSource(name: name, fd: fd, isStdin: false, size: Int64(st.st_size), modificationYear: year)
            }
            // A FIFO or process substitution (`<(zcat ...)`): readable once, like stdin.
            let pump = try sniffedPump(fd, closesSource: true)
            return InputSource(name: name, fd: pump.readFD, isStdin: false, size: nil, modificationYear: year, isStream: true, pump: pump)
        } catch {
            _ = Foundation.close(fd)
            throw error
        }
    }

    /// The first bytes of a regular file at `offset`, without moving its position.
    private static func peek(_ fd: Int32, at offset: off_t) throws -> [UInt8] {
        var head = [UInt8](repeating: 0, count: Compression.magicLength)
        var n: Int
        repeat { n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, max(offset, 0)) } } while n < 0 && errno == EINTR
        if n < 0 { throw InputError.readFailed(errno: errno) }
        return Array(head[0..<n])
    }

    /// A pipe's first bytes cannot be put back, so a pipe is always read
    /// through a pump: decompressing, or copying when the bytes are no magic.
    private static func sniffedPump(_ fd: Int32, closesSource: Bool) throws -> DecompressionPump {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        // Byte by byte, so a slowly written pipe is not waited on past its first non-magic byte.
        while head.count < Compression.magicLength && Compression.detect(head) == nil && (head.isEmpty || Compression.couldBecomeMagic(head)) {
            let n = read(fd, &byte, 1)
            if n < 0 { if errno == EINTR { continue }; throw InputError.readFailed(errno: errno) }
            if n == 0 { break }
            head.append(byte)
        }
        return try DecompressionPump(source: fd, closesSource: closesSource, head: head, compression: Compression.detect(head))
    }

    /// Reads exactly up to `count` bytes from the current position (fewer at EOF).
    public func readUpTo(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
            if n < 0 { if errno == EINTR { continue }; throw InputError.readFailed(errno: errno) }
            if n == 0 { break }
            got += n
        }
        out.removeSubrange(got...)
        return out
    }

    public func seek(to offset: Int64) throws {
        guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else { throw InputError.readFailed(errno: errno) }
    }
}
