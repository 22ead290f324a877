import Foundation
import Synchronization
import SFTPLogRecords

/// Received syslog messages, one per line, in a file that `watch` follows
/// like any log: the same readers, the same storing and resuming as a file,
/// and a record of what arrived. It is rotated when it grows past `maxBytes`
/// (the follower moves on to the new file), so a long watch or a flood
/// holds at most twice that on disk.
public final class SyslogSpool: Sendable {
    public let path: String
    public let maxBytes: Int64
    private struct State: ~Copyable {
        var fd: Int32
        var size: Int64
        var lines = 0
    }
    private let state: Mutex<State>

    public init(path: String, maxBytes: Int64 = 256 << 20) throws {
        self.path = path
        self.maxBytes = max(4096, maxBytes)
        let fd = try SyslogSpool.openAppend(path)
        var st = stat()
        fstat(fd, &st)
        state = Mutex(State(fd: fd, size: Int64(st.st_size)))
    }

    static func openAppend(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw InputError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        return fd
    }

    /// Messages received so far.
    public var lines: Int { state.withLock { $0.lines } }

    /// Appends messages, each as one line. A note (a message cut at the size
    /// limit) is said on stderr by the caller; the line keeps what was kept.
    public func append(_ frames: [SyslogFrame]) throws {
        guard !frames.isEmpty else { return }
        var out: [UInt8] = []
        out.reserveCapacity(frames.reduce(0) { $0 + $1.bytes.count + 1 })
        for f in frames { out += f.bytes; out.append(0x0A) }
        try state.withLock { s in
            if s.size > 0, s.size + Int64(out.count) > maxBytes {
                // Rotate: the follower finishes the old file, then follows the new one.
                Foundation.close(s.fd)
                rename(path, path + ".1")
                s.fd = try SyslogSpool.openAppend(path)
                s.size = 0
            }
            var off = 0
            while off < out.count {
                let n = out[off...].withUnsafeBytes { write(s.fd, $0.baseAddress!, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw InputError.readFailed(errno: errno) }
                off += n
            }
            s.size += Int64(out.count)
            s.lines += frames.count
        }
    }

    public func close() { state.withLock { s in if s.fd >= 0 { Foundation.close(s.fd); s.fd = -1 } } }
}
