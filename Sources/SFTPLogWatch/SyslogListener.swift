import Foundation
import Synchronization
import SFTPLogRecords

/// Where `--syslog` listens: `udp://ADDR:PORT` or `tcp://ADDR:PORT`. The address
/// defaults to 127.0.0.1 (never every interface unless asked for), the port to
/// 514 for UDP and 601 for TCP, as SFTPPlus's handler defaults them.
public struct SyslogEndpoint: Equatable, Sendable, CustomStringConvertible {
    public enum Transport: String, Sendable { case udp, tcp }
    public var transport: Transport
    public var address: String
    public var port: Int

    public init(transport: Transport, address: String, port: Int) {
        self.transport = transport; self.address = address; self.port = port
    }

    public init(parsing s: String) throws {
        let bad = { (why: String) in WatchError.badEndpoint(s, why) }
        guard let r = s.range(of: "://") else { throw bad("write udp://ADDRESS:PORT or tcp://ADDRESS:PORT") }
        guard let t = Transport(rawValue: s[..<r.lowerBound].lowercased()) else { throw bad("the scheme is udp or tcp") }
        transport = t
        var rest = String(s[r.upperBound...])
        if rest.hasSuffix("/") { rest.removeLast() }
        var host = rest
        var portText: String?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw bad("an IPv6 address needs its closing ]") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = String(after.dropFirst()) } else if !after.isEmpty { throw bad("unexpected text after the address") }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = String(rest[rest.index(after: colon)...])
        }
        address = host.isEmpty ? "127.0.0.1" : host
        if let p = portText {
            // 0: a free port, chosen by the system and printed on stderr.
            guard let n = Int(p), (0...65535).contains(n) else { throw bad("the port is a number from 0 to 65535") }
            port = n
        } else {
            port = t == .udp ? 514 : 601
        }
    }

    public var description: String {
        "\(transport.rawValue)://\(address.contains(":") ? "[\(address)]" : address):\(port)"
    }

    /// A file name for this endpoint's spool.
    public var spoolName: String {
        "syslog-\(transport.rawValue)-\(address.replacingOccurrences(of: ":", with: "_"))-\(port).log"
    }
}

public enum WatchError: Error, CustomStringConvertible {
    case badEndpoint(String, String)
    case cannotListen(String, String)
    case badAlertTarget(String, String)

    public var description: String {
        switch self {
        case .badEndpoint(let s, let why): return "--syslog \(s): \(why)"
        case .cannotListen(let s, let why): return "cannot listen on \(s): \(why)"
        case .badAlertTarget(let s, let why): return "--alert \(s): \(why)"
        }
    }
}

/// Receives syslog on one endpoint and appends every message to its spool.
/// Plain sockets and a thread per TCP connection (at most `maxConnections`):
/// each reader holds at most one message's worth of bytes, so a flood slows
/// the sender (TCP) or is dropped by the kernel (UDP) instead of growing memory.
public final class SyslogListener: Sendable {
    public let endpoint: SyslogEndpoint
    public let spool: SyslogSpool
    public let maxMessage: Int
    public let maxConnections: Int
    /// Said once per kind of trouble (a cut message, a refused connection).
    let warn: @Sendable (String) -> Void
    private let fd: Int32
    /// The port actually bound (port 0 asks the system for a free one: tests).
    public let boundPort: Int
    private let connections = Mutex(0)
    private let stop = Atomic<Bool>(false)
    private let done = DispatchGroup()
    private let notes = Mutex(Set<String>())

    /// Binds `endpoint`; received messages go to a spool in `spoolDirectory`
    /// named after it (with the port bound, when 0 asked for any); `fresh`
    /// empties that spool first.
    public init(_ endpoint: SyslogEndpoint, spoolDirectory: String, spoolMaxBytes: Int64, fresh: Bool, maxMessage: Int = 64 * 1024,
                maxConnections: Int = 64, warn: @escaping @Sendable (String) -> Void) throws {
        self.endpoint = endpoint; self.maxMessage = maxMessage; self.maxConnections = maxConnections
        self.warn = warn
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(endpoint.transport == .udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.address, String(endpoint.port), &hints, &res)
        guard rc == 0, let ai = res else {
            throw WatchError.cannotListen(endpoint.description, "\(endpoint.address) is not an IP address (name lookups are not done)")
        }
        defer { freeaddrinfo(res) }
        let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw WatchError.cannotListen(endpoint.description, String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if endpoint.transport == .udp {
            // A bigger kernel buffer rides out bursts while the spool is written.
            var size: Int32 = 4 << 20
            setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        guard bind(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            let why = errno == EACCES ? "permission denied (ports below 1024 need privileges; use a higher port)" : String(cString: strerror(errno))
            close(s)
            throw WatchError.cannotListen(endpoint.description, why)
        }
        if endpoint.transport == .tcp { listen(s, 64) }
        fd = s
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        boundPort = withUnsafeMutablePointer(to: &ss) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
            if Int32(p.pointee.ss_family) == AF_INET6 {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        var bound = endpoint
        bound.port = boundPort
        let path = spoolDirectory + "/" + bound.spoolName
        if fresh { unlink(path) }
        do { spool = try SyslogSpool(path: path, maxBytes: spoolMaxBytes) } catch { close(s); throw error }
    }

    /// Starts receiving on a thread of its own.
    public func start() {
        done.enter()
        let t = Thread { [self] in
            defer { done.leave() }
            if endpoint.transport == .udp { receiveDatagrams() } else { acceptConnections() }
        }
        t.start()
    }

    /// Stops receiving; waits for the threads, so every message received is in the spool.
    public func stopAndWait() {
        stop.store(true, ordering: .relaxed)
        done.wait()
        close(fd)
    }

    private func noteOnce(_ key: String, _ message: String) {
        if notes.withLock({ $0.insert(key).inserted }) { warn(message) }
    }

    private func store(_ frames: [SyslogFrame]) {
        for f in frames where f.note != nil { noteOnce("cut", "\(endpoint): \(f.note!) (said once)") }
        do { try spool.append(frames) } catch { noteOnce("spool", "\(spool.path): \(error)") }
    }

    /// Waits up to 200 ms for `fd` to be readable (the stop flag is checked between waits).
    private func readable(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 200) > 0
    }

    private func receiveDatagrams() {
        var buf = [UInt8](repeating: 0, count: 65536)
        while !stop.load(ordering: .relaxed) {
            guard readable(fd) else { continue }
            var frames: [SyslogFrame] = []
            // Drain what is queued, then write it in one go.
            while frames.count < 512 {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
                if n <= 0 { break }
                if let f = buf.withUnsafeBytes({ SyslogFrame.datagram(UnsafeRawBufferPointer(rebasing: $0[0..<n]), maxBytes: maxMessage) }) {
                    frames.append(f)
                }
            }
            store(frames)
        }
    }

    private func acceptConnections() {
        while !stop.load(ordering: .relaxed) {
            guard readable(fd) else { continue }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { continue }
            _ = fcntl(c, F_SETFD, FD_CLOEXEC)
            let admitted = connections.withLock { n in n < maxConnections ? { n += 1; return true }() : false }
            guard admitted else {
                noteOnce("connections", "\(endpoint): more than \(maxConnections) senders at once; further connections are closed")
                close(c)
                continue
            }
            done.enter()
            let t = Thread { [self] in
                defer { close(c); connections.withLock { $0 -= 1 }; done.leave() }
                receiveStream(c)
            }
            t.start()
        }
    }

    private func receiveStream(_ c: Int32) {
        var framer = SyslogFramer(maxBytes: maxMessage)
        var buf = [UInt8](repeating: 0, count: 65536)
        while !stop.load(ordering: .relaxed) {
            guard readable(c) else { continue }
            let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            var frames: [SyslogFrame] = []
            buf.withUnsafeBytes { framer.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) { frames.append($0) } }
            store(frames)
        }
        var frames: [SyslogFrame] = []
        framer.finish { frames.append($0) }
        store(frames)
    }
}
