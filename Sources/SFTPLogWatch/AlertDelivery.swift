import Foundation
import Synchronization
import NIOCore
import NIOPosix
import NIOSSL
import SFTPLogRecords
import SFTPLogAlerts
import SFTPLogReport

/// Where `--alert` sends alerts.
public enum AlertTarget: Equatable, Sendable, CustomStringConvertible {
    /// One human line per alert on stdout.
    case stdout
    /// One JSON object per line on stdout.
    case ndjson
    /// RFC 5424 over UDP to a collector.
    case syslog(host: String, port: Int)
    /// HTTP POST of the JSON (http:// or https://).
    case webhook(URL)

    public init(parsing s: String) throws {
        switch s {
        case "stdout": self = .stdout
        case "ndjson": self = .ndjson
        default:
            let lower = s.lowercased()
            if lower.hasPrefix("syslog://") {
                let e = try SyslogEndpoint(parsing: "udp://" + s.dropFirst("syslog://".count))
                self = .syslog(host: e.address, port: e.port)
            } else if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
                guard let u = URL(string: s), u.host != nil else { throw WatchError.badAlertTarget(s, "not a URL") }
                self = .webhook(u)
            } else {
                throw WatchError.badAlertTarget(s, "use stdout, ndjson, syslog://HOST:PORT, http://… or https://…")
            }
        }
    }

    public var description: String {
        switch self {
        case .stdout: return "stdout"
        case .ndjson: return "ndjson"
        case .syslog(let h, let p): return "syslog://\(h.contains(":") ? "[\(h)]" : h):\(p)"
        case .webhook(let u): return AlertTarget.redacted(u)
        }
    }

    /// A webhook URL as printed in messages: without any password or query (tokens live there).
    static func redacted(_ u: URL) -> String {
        var c = URLComponents(url: u, resolvingAgainstBaseURL: false)
        if c?.password != nil { c?.password = "***" }
        if c?.query != nil { c?.query = "…" }
        return c?.string ?? "webhook"
    }
}

/// Sends alerts to their targets, each on a thread of its own with a bounded
/// queue: a slow or failing webhook never holds up reading, nor the other
/// targets. When a queue is full the oldest alert waiting is dropped and
/// that is said on stderr.
public final class AlertDelivery: Sendable {
    private let outboxes: [Outbox]

    /// `warn` gets delivery failures (stderr).
    /// `trustedCA`: a PEM file of certificates trusted for https webhooks besides the system's (an internal CA).
    public init(targets: [AlertTarget], queueCapacity: Int = 10_000, retries: Int = 5, firstBackoff: Double = 0.5,
                trustedCA: String? = nil, warn: @escaping @Sendable (String) -> Void) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustedCA {
            do { tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(trustedCA))] } catch {
                throw WatchError.badAlertTarget("--alert-ca \(trustedCA)", "not a PEM certificate file (\(error))")
            }
        }
        let context = try NIOSSLContext(configuration: tls)
        outboxes = targets.map {
            Outbox(target: $0, capacity: queueCapacity, retries: retries, firstBackoff: firstBackoff, tls: context, warn: warn)
        }
    }

    public func send(_ a: Alert) { for o in outboxes { o.enqueue(a) } }

    /// Delivers what is queued (giving each target up to `deadline` seconds), then stops the threads.
    public func close(deadline: Double = 10) { for o in outboxes { o.close(deadline: deadline) } }
}

final class Outbox: Sendable {
    let target: AlertTarget
    let capacity: Int
    let retries: Int
    let firstBackoff: Double
    let warn: @Sendable (String) -> Void
    private struct Queue { var items: [Alert] = []; var head = 0; var closed = false; var dropped = 0; var deadline: Date? }
    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(target: AlertTarget, capacity: Int, retries: Int, firstBackoff: Double, tls: NIOSSLContext,
         warn: @escaping @Sendable (String) -> Void) {
        self.target = target; self.capacity = max(1, capacity); self.retries = max(1, retries); self.firstBackoff = firstBackoff
        self.warn = warn
        let t = Thread { [self] in run(AlertSender(target, tls: tls)); finished.signal() }
        t.start()
    }

    func enqueue(_ a: Alert) {
        let dropped: Int? = queue.withLock { q in
            var d: Int?
            if q.items.count - q.head >= capacity { q.head += 1; q.dropped += 1; d = q.dropped }
            q.items.append(a)
            return d
        }
        wake.signal()
        if let n = dropped, n == 1 || n % 1000 == 0 {
            warn("\(target): \(n) alert\(n == 1 ? "" : "s") dropped so far: more than \(capacity) were waiting to be delivered")
        }
    }

    func close(deadline: Double) {
        queue.withLock { $0.closed = true; $0.deadline = Date().addingTimeInterval(deadline) }
        wake.signal()
        finished.wait()
    }

    private func next() -> Alert?? {
        queue.withLock { q -> Alert?? in
            if q.head < q.items.count {
                let a = q.items[q.head]
                q.head += 1
                if q.head > 1024, q.head * 2 > q.items.count { q.items.removeFirst(q.head); q.head = 0 }
                return .some(a)
            }
            return q.closed ? .none : .some(nil)
        }
    }

    private var pastDeadline: Bool { queue.withLock { $0.deadline.map { Date() > $0 } ?? false } }

    private func run(_ sender: AlertSender) {
        while true {
            guard let item = next() else { break }
            guard let alert = item else { wake.wait(); continue }
            var attempt = 0
            while true {
                attempt += 1
                do {
                    try sender.send(alert)
                    break
                } catch {
                    if attempt >= retries || pastDeadline {
                        warn("\(target): alert \(alert.rule) at \(alert.ts) not delivered after \(attempt) tr\(attempt == 1 ? "y" : "ies"): \(error)")
                        break
                    }
                    // Backoff doubles; a closing watch cuts it short at its deadline.
                    let until = Date().addingTimeInterval(firstBackoff * pow(2, Double(attempt - 1)))
                    while Date() < until && !pastDeadline { usleep(50_000) }
                }
            }
        }
        sender.close()
    }
}

struct DeliveryError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Writes one alert to its target; made and used by its outbox's thread alone.
final class AlertSender {
    let target: AlertTarget
    private var udp: Int32 = -1
    private var udpAddress: (sockaddr_storage, socklen_t)?
    private let hostname: String
    private let tls: NIOSSLContext
    private static let group = MultiThreadedEventLoopGroup.singleton

    init(_ target: AlertTarget, tls: NIOSSLContext) {
        self.target = target
        self.tls = tls
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        // RFC 5424 HOSTNAME: printable ASCII without spaces.
        let h = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }.filter { $0 > 32 && $0 < 127 }, as: UTF8.self)
        hostname = h.isEmpty ? "-" : String(h.prefix(255))
    }

    func send(_ a: Alert) throws {
        switch target {
        case .stdout:
            let line = a.line(TextEscaper.terminalSafe) + "\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        case .ndjson:
            FileHandle.standardOutput.write(Data((a.json.json + "\n").utf8))
        case .syslog(let host, let port):
            try sendSyslog(a, host: host, port: port)
        case .webhook(let url):
            try post(a.json.json, to: url)
        }
    }

    func close() { if udp >= 0 { Foundation.close(udp); udp = -1 } }

    // MARK: syslog

    /// RFC 5424, facility authpriv (10): the alert's fields as structured data, its message as MSG.
    static func syslogMessage(_ a: Alert, hostname: String, pid: Int32) -> [UInt8] {
        func param(_ v: String) -> String {
            var out = ""
            for ch in v.unicodeScalars {
                if ch == "\"" || ch == "\\" || ch == "]" { out.append("\\") }
                // Control characters would end or split the datagram's line at a collector.
                out.unicodeScalars.append(ch.value < 0x20 || ch.value == 0x7F ? " " : ch)
            }
            return out
        }
        var sd = "[sftplog@32473 rule=\"\(param(a.rule))\" severity=\"\(a.severity.rawValue)\""
        if let p = a.peer { sd += " peer=\"\(param(p))\"" }
        if let u = a.user { sd += " user=\"\(param(u))\"" }
        if let s = a.session { sd += " session=\"\(param(s))\"" }
        sd += "]"
        let msgid = String(a.rule.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.prefix(32))
        let header = "<\(10 * 8 + a.severity.syslogSeverity)>1 \(a.ts) \(hostname) sftplog \(pid) \(msgid.isEmpty ? "-" : msgid) \(sd) "
        // Log text in the message: control characters shown escaped, as on a terminal.
        let msg = Array(TextEscaper.terminalSafe(a.message).utf8)
        // Within what every collector takes in one datagram.
        return Array((Array(header.utf8) + [0xEF, 0xBB, 0xBF] + msg).prefix(8000))
    }

    private func sendSyslog(_ a: Alert, host: String, port: Int) throws {
        if udpAddress == nil {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
            var res: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else { throw DeliveryError("cannot resolve \(host)") }
            defer { freeaddrinfo(res) }
            var ss = sockaddr_storage()
            memcpy(&ss, ai.pointee.ai_addr, Int(ai.pointee.ai_addrlen))
            udpAddress = (ss, ai.pointee.ai_addrlen)
            udp = socket(ai.pointee.ai_family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard udp >= 0 else { throw DeliveryError(String(cString: strerror(errno))) }
        }
        guard let (addr, len) = udpAddress else { return }
        var ss = addr
        let bytes = AlertSender.syslogMessage(a, hostname: hostname, pid: getpid())
        let n = withUnsafePointer(to: &ss) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in bytes.withUnsafeBytes { sendto(udp, $0.baseAddress, $0.count, 0, sa, len) } }
        }
        if n < 0 { throw DeliveryError("sendto: \(String(cString: strerror(errno)))") }
    }

    // MARK: webhook

    /// One HTTP/1.1 POST, over TLS for https (SwiftNIO and NIOSSL: the
    /// system's trust roots, and --alert-ca's); 2xx is delivered, anything else an error.
    private func post(_ body: String, to url: URL) throws {
        let tls = url.scheme?.lowercased() == "https"
        guard let host = url.host else { throw DeliveryError("no host") }
        let port = url.port ?? (tls ? 443 : 80)
        var path = url.path.isEmpty ? "/" : url.path
        if let q = url.query { path += "?" + q }
        var head = "POST \(path) HTTP/1.1\r\nHost: \(host)\(url.port.map { ":\($0)" } ?? "")\r\nUser-Agent: sftplog\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
        if let user = url.user {
            let cred = Data("\(user.removingPercentEncoding ?? user):\((url.password ?? "").removingPercentEncoding ?? "")".utf8).base64EncodedString()
            head += "Authorization: Basic \(cred)\r\n"
        }
        head += "\r\n"
        let request = Array(head.utf8) + Array(body.utf8)
        let response = try exchange(request, host: host, port: port, tls: tls)
        guard let lineEnd = response.firstIndex(of: 0x0A) else { throw DeliveryError("no HTTP response") }
        let status = String(decoding: response[..<lineEnd], as: UTF8.self).split(separator: " ")
        guard status.count >= 2, status[0].hasPrefix("HTTP/"), let code = Int(status[1]) else { throw DeliveryError("not an HTTP response") }
        guard (200..<300).contains(code) else { throw DeliveryError("HTTP \(code)") }
    }

    /// Writes `request`, reads the reply until the server closes (or 64 KiB), within 10 s.
    private func exchange(_ request: [UInt8], host: String, port: Int, tls: Bool) throws -> [UInt8] {
        let reply = AlertSender.group.next().makePromise(of: [UInt8].self)
        let context = tls ? self.tls : nil
        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
        let bootstrap = ClientBootstrap(group: AlertSender.group).connectTimeout(.seconds(5)).channelInitializer { ch in
            ch.eventLoop.makeCompletedFuture {
                if let context { try ch.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName)) }
                try ch.pipeline.syncOperations.addHandler(ResponseCollector(reply))
            }
        }
        let channel: Channel
        do {
            channel = try bootstrap.connect(host: host, port: port).wait()
        } catch {
            reply.fail(error)
            throw DeliveryError("cannot connect: \(error)")
        }
        var buffer = channel.allocator.buffer(capacity: request.count)
        buffer.writeBytes(request)
        channel.writeAndFlush(buffer, promise: nil)
        let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        do { return try reply.futureResult.wait() } catch { throw DeliveryError("\(error)") }
    }
}

/// Collects a reply's bytes (the first 64 KiB) until the server closes.
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var bytes: [UInt8] = []
    private var failure: Error?
    private let reply: EventLoopPromise<[UInt8]>

    init(_ reply: EventLoopPromise<[UInt8]>) { self.reply = reply }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var b = unwrapInboundIn(data)
        if bytes.count < 65536, let got = b.readBytes(length: min(b.readableBytes, 65536 - bytes.count)) { bytes += got }
        if bytes.count >= 65536 { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A server that closes without TLS close_notify after its reply is common: the reply counts.
        if failure == nil, !(bytes.count > 0 && (error as? NIOSSLError).map { if case .uncleanShutdown = $0 { true } else { false } } == true) {
            failure = error
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let failure, bytes.isEmpty { reply.fail(failure) } else { reply.succeed(bytes) }
        context.fireChannelInactive()
    }
}
