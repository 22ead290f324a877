import CCompression
import Foundation
import Synchronization

/// A compression format read transparently, recognised by its magic bytes
/// (rotated logs are often compressed under names that do not say so).
public enum Compression: String, Sendable, CaseIterable {
    case gzip, bzip2, xz

    /// Bytes needed to tell every format apart.
    static let magicLength = 6

    private var magic: [UInt8] {
        switch self {
        case .gzip: return [0x1F, 0x8B, 0x08]  // ID1 ID2 CM=deflate
        case .bzip2: return [0x42, 0x5A, 0x68]  // "BZh", then the block size '1'...'9'
        case .xz: return [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]
        }
    }

    /// The format whose magic `head` starts with, if any.
    public static func detect<C: Collection>(_ head: C) -> Compression? where C.Element == UInt8 {
        let b = Array(head.prefix(magicLength))
        for c in allCases where b.starts(with: c.magic) {
            if c == .bzip2 && !(b.count > 3 && (0x31...0x39).contains(b[3])) { continue }
            return c
        }
        return nil
    }

    /// Bytes that identify the format (bzip2's includes the block-size digit).
    private var sniffLength: Int { self == .bzip2 ? 4 : magic.count }

    /// Whether more bytes could still make `head` a magic (when sniffing a pipe).
    static func couldBecomeMagic(_ head: [UInt8]) -> Bool {
        allCases.contains { head.count < $0.sniffLength && $0.magic.starts(with: head.prefix($0.magic.count)) }
    }
}

/// Compressed input that could not be read to its end. What was decompressed
/// before the failure has already been delivered (and read) as usual.
public struct DecompressionError: Error, CustomStringConvertible {
    public enum Reason: Error, Sendable { case truncated, corrupt(String), readFailed(Int32) }
    public let name: String
    /// nil when an uncompressed pipe failed to read.
    public let compression: Compression?
    public let reason: Reason
    /// Decompressed bytes delivered before the failure.
    public let delivered: Int64

    public var description: String {
        let what: String
        switch reason {
        case .truncated: what = "\(compression?.rawValue ?? "compressed") data is truncated"
        case .corrupt(let m): what = "corrupt \(compression?.rawValue ?? "compressed") data (\(m))"
        case .readFailed(let e): what = "read failed: \(String(cString: strerror(e)))"
        }
        return "\(name): \(what) after \(delivered) bytes of log; the records before that point were read"
    }
}

/// One format's streaming decoder. `feed` takes the input in any split;
/// `finish` says whether the data ended where a stream may end.
protocol StreamDecoder: AnyObject {
    func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws
    func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws
}

/// What the decoders throw.
typealias DecodeFailure = DecompressionError.Reason

private let outputCapacity = 1 << 18

/// Skips the zero padding some tools append after the last member (tape blocks),
/// as gzip(1) and bzip2(1) do; anything else after the padding is an error.
private struct MemberBoundary {
    var between = false
    var padded = false

    /// Advances over padding; true when another member starts at `p`.
    mutating func skipPadding(_ p: inout UnsafeRawPointer, _ left: inout Int) throws -> Bool {
        while left > 0 && p.load(as: UInt8.self) == 0 { p += 1; left -= 1; padded = true }
        if left == 0 { return false }
        if padded { throw DecodeFailure.corrupt("unexpected data after the end of the compressed data") }
        between = false
        return true
    }
}

/// gzip, including files of several concatenated members (`cat a.gz b.gz`).
final class GzipDecoder: StreamDecoder {
    // Heap-allocated: zlib keeps a back-pointer to the stream and rejects one that moved.
    private let z = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let out = UnsafeMutablePointer<UInt8>.allocate(capacity: outputCapacity)
    private var boundary = MemberBoundary()

    init() throws {
        z.initialize(to: z_stream())
        guard ccompression_inflate_init_gzip(z) == Z_OK else {
            z.deallocate(); out.deallocate()
            throw DecodeFailure.corrupt("cannot initialise zlib")
        }
    }

    deinit {
        inflateEnd(z)
        z.deallocate()
        out.deallocate()
    }

    func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard var p = input.baseAddress else { return }
        var left = input.count
        while left > 0 {
            if boundary.between {
                guard try boundary.skipPadding(&p, &left) else { return }
                inflateReset(z)
            }
            z.pointee.next_in = UnsafeMutablePointer(mutating: p.assumingMemoryBound(to: Bytef.self))
            z.pointee.avail_in = uInt(left)
            let ended = try inflateAvailable(emit)
            let used = left - Int(z.pointee.avail_in)
            if used == 0 && !ended { throw DecodeFailure.corrupt("zlib made no progress") }  // never spin
            p += used; left -= used
            if ended { boundary.between = true }
        }
    }

    /// Inflates until the input is used up or a member ends (true).
    private func inflateAvailable(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        repeat {
            z.pointee.next_out = out
            z.pointee.avail_out = uInt(outputCapacity)
            let rc = inflate(z, Z_NO_FLUSH)
            let produced = outputCapacity - Int(z.pointee.avail_out)
            if produced > 0 { try emit(UnsafeRawBufferPointer(start: out, count: produced)) }
            switch rc {
            case Z_OK: continue
            case Z_STREAM_END: return true
            case Z_BUF_ERROR: return false  // needs more input
            default: throw DecodeFailure.corrupt(z.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)")
            }
        } while z.pointee.avail_in > 0 || z.pointee.avail_out == 0
        return false
    }

    func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !boundary.between { throw DecodeFailure.truncated }
    }
}

/// bzip2, including concatenated streams (as pbzip2 and lbzip2 write them).
final class Bzip2Decoder: StreamDecoder {
    private let s = UnsafeMutablePointer<bz_stream>.allocate(capacity: 1)
    private let out = UnsafeMutablePointer<UInt8>.allocate(capacity: outputCapacity)
    private var boundary = MemberBoundary()
    private var live = false

    init() throws {
        s.initialize(to: bz_stream())
        try start()
    }

    deinit {
        if live { BZ2_bzDecompressEnd(s) }
        s.deallocate()
        out.deallocate()
    }

    private func start() throws {
        guard BZ2_bzDecompressInit(s, 0, 0) == BZ_OK else { throw DecodeFailure.corrupt("cannot initialise libbz2") }
        live = true
    }

    func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard var p = input.baseAddress else { return }
        var left = input.count
        while left > 0 {
            if boundary.between {
                guard try boundary.skipPadding(&p, &left) else { return }
                try start()
            }
            s.pointee.next_in = UnsafeMutablePointer(mutating: p.assumingMemoryBound(to: CChar.self))
            s.pointee.avail_in = UInt32(left)
            let ended = try decompressAvailable(emit)
            let used = left - Int(s.pointee.avail_in)
            if used == 0 && !ended { throw DecodeFailure.corrupt("libbz2 made no progress") }  // never spin
            p += used; left -= used
            if ended {
                BZ2_bzDecompressEnd(s)
                live = false
                boundary.between = true
            }
        }
    }

    private func decompressAvailable(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        repeat {
            s.pointee.next_out = UnsafeMutableRawPointer(out).assumingMemoryBound(to: CChar.self)
            s.pointee.avail_out = UInt32(outputCapacity)
            let rc = BZ2_bzDecompress(s)
            let produced = outputCapacity - Int(s.pointee.avail_out)
            if produced > 0 { try emit(UnsafeRawBufferPointer(start: out, count: produced)) }
            switch rc {
            case BZ_OK: continue
            case BZ_STREAM_END: return true
            case BZ_DATA_ERROR_MAGIC: throw DecodeFailure.corrupt("not bzip2 data")
            case BZ_DATA_ERROR: throw DecodeFailure.corrupt("data integrity error")
            case BZ_MEM_ERROR: throw DecodeFailure.corrupt("out of memory")
            default: throw DecodeFailure.corrupt("libbz2 error \(rc)")
            }
        } while s.pointee.avail_in > 0 || s.pointee.avail_out == 0
        return false
    }

    func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !boundary.between { throw DecodeFailure.truncated }
    }
}

/// xz; liblzma itself handles concatenated streams and stream padding.
final class XZDecoder: StreamDecoder {
    private let s = UnsafeMutablePointer<lzma_stream>.allocate(capacity: 1)
    private let out = UnsafeMutablePointer<UInt8>.allocate(capacity: outputCapacity)

    init() throws {
        s.initialize(to: lzma_stream())  // all zero, as LZMA_STREAM_INIT
        guard ccompression_xz_decoder_init(s) == LZMA_OK else {
            s.deallocate(); out.deallocate()
            throw DecodeFailure.corrupt("cannot initialise liblzma")
        }
    }

    deinit {
        lzma_end(s)
        s.deallocate()
        out.deallocate()
    }

    func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let p = input.baseAddress, !input.isEmpty else { return }
        s.pointee.next_in = p.assumingMemoryBound(to: UInt8.self)
        s.pointee.avail_in = input.count
        _ = try code(LZMA_RUN, emit)
    }

    func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        s.pointee.next_in = nil
        s.pointee.avail_in = 0
        guard try code(LZMA_FINISH, emit) else { throw DecodeFailure.truncated }
    }

    /// Runs the decoder until the input is used up; true at the end of the data.
    private func code(_ action: lzma_action, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        while true {
            s.pointee.next_out = out
            s.pointee.avail_out = outputCapacity
            let rc = lzma_code(s, action)
            let produced = outputCapacity - s.pointee.avail_out
            if produced > 0 { try emit(UnsafeRawBufferPointer(start: out, count: produced)) }
            switch rc {
            case LZMA_OK:
                if s.pointee.avail_in == 0 && s.pointee.avail_out > 0 && action == LZMA_RUN { return false }
            case LZMA_STREAM_END: return true
            case LZMA_BUF_ERROR: throw DecodeFailure.truncated  // no progress possible: the input ended early
            case LZMA_DATA_ERROR: throw DecodeFailure.corrupt("compressed data is corrupt")
            case LZMA_FORMAT_ERROR: throw DecodeFailure.corrupt("not xz data")
            case LZMA_OPTIONS_ERROR: throw DecodeFailure.corrupt("unsupported compression options")
            case LZMA_MEM_ERROR, LZMA_MEMLIMIT_ERROR: throw DecodeFailure.corrupt("out of memory")
            default: throw DecodeFailure.corrupt("liblzma error \(rc.rawValue)")
            }
        }
    }
}

/// Runs a decoder on a background thread that writes the decompressed bytes into
/// a pipe: the pipeline reads the pipe's read end like standard input, so line
/// splitting, hashing and spooling need nothing format-specific. With no
/// compression it just copies (a sniffed pipe whose first bytes were consumed).
final class DecompressionPump: Sendable {
    let readFD: Int32
    let compression: Compression?
    private let writeFD: Int32
    private let failure = Mutex<(DecompressionError.Reason, Int64)?>(nil)
    private let done = DispatchSemaphore(value: 0)

    /// Reads `source` from its current position (after `head`, bytes already taken from it).
    init(source: Int32, closesSource: Bool, head: [UInt8], compression: Compression?) throws {
        var fds: [Int32] = [0, 0]
        let rc = pipe(&fds)
        if rc == 0 { for f in fds { _ = fcntl(f, F_SETFD, FD_CLOEXEC) } }
        guard rc == 0 else { throw InputError.readFailed(errno: errno) }
        readFD = fds[0]
        writeFD = fds[1]
        self.compression = compression
        #if os(Linux)
        _ = fcntl(writeFD, 1031 /* F_SETPIPE_SZ */, Int32(1 << 20))  // fewer wake-ups; best effort
        #endif
        let thread = Thread { [self] in run(source: source, closesSource: closesSource, head: head) }
        thread.name = "sftplog-decompress"
        thread.start()
    }

    /// Set before the write end closes, so a reader that saw EOF sees it.
    var outcome: (DecompressionError.Reason, Int64)? { failure.withLock { $0 } }

    /// Blocks until the thread has exited (after the read end is closed, its next write fails).
    func waitUntilDone() {
        done.wait()
        done.signal()
    }

    private struct ReaderGone: Error {}

    private func run(source: Int32, closesSource: Bool, head: [UInt8]) {
        // A reader that stops early closes the read end: take that as EPIPE, not a process-killing SIGPIPE.
        var block = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &block, nil)
        var delivered: Int64 = 0
        defer {
            _ = close(writeFD)
            if closesSource { _ = close(source) }
            done.signal()
        }
        func deliver(_ p: UnsafeRawBufferPointer) throws {
            var off = 0
            while off < p.count {
                let n = write(writeFD, p.baseAddress! + off, p.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ReaderGone()
                }
                off += n
            }
            delivered += Int64(p.count)
        }
        do {
            let decoder: StreamDecoder?
            switch compression {
            case .gzip: decoder = try GzipDecoder()
            case .bzip2: decoder = try Bzip2Decoder()
            case .xz: decoder = try XZDecoder()
            case nil: decoder = nil
            }
            let push: (UnsafeRawBufferPointer) throws -> Void = { chunk in
                if let decoder { try decoder.feed(chunk, deliver) } else { try deliver(chunk) }
            }
            try head.withUnsafeBytes { try push($0) }
            let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 1)
            defer { buf.deallocate() }
            while true {
                let n = read(source, buf.baseAddress!, buf.count)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DecompressionError.Reason.readFailed(errno)
                }
                if n == 0 { break }
                try push(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
            }
            try decoder?.finish(deliver)
        } catch is ReaderGone {
            // The reader stopped early: nothing to report.
        } catch let r as DecompressionError.Reason {
            record(r, delivered)
        } catch {
            record(.corrupt("\(error)"), delivered)
        }
    }

    private func record(_ reason: DecompressionError.Reason, _ delivered: Int64) {
        failure.withLock { $0 = (reason, delivered) }
    }
}
