import Foundation

/// An input named on the command line: a file path, or `-` for standard input.
public final class InputSource {
    public let name: String
    public let fd: Int32
    public let isStdin: Bool
    /// Size for regular files (nil for pipes).
    public let size: Int64?
    /// Year of the file's modification time (for year-less syslog stamps).
    public let modificationYear: Int?
    private var closed = false

    init(name: String, fd: Int32, isStdin: Bool, size: Int64?, modificationYear: Int?) {
        self.name = name; self.fd = fd; self.isStdin = isStdin; self.size = size; self.modificationYear = modificationYear
    }

    deinit { close() }

    public func close() {
        if !closed && !isStdin { _ = Foundation.close(fd) }
        closed = true
    }

    public static func open(_ name: String) throws -> InputSource {
        if name == "-" {
            var st = stat()
            let regular = fstat(0, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
            return InputSource(name: "-", fd: 0, isStdin: true, size: regular ? Int64(st.st_size) : nil, modificationYear: nil)
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
        let regular = (st.st_mode & S_IFMT) == S_IFREG
        return InputSource(name: name, fd: fd, isStdin: false, size: regular ? Int64(st.st_size) : nil, modificationYear: year)
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
