import XCTest
import Synchronization
import SFTPLogKit
import SFTPLogTestSupport

/// A running `sftplog watch`, its outputs collected as they come.
final class WatchProcess: @unchecked Sendable {
    // @unchecked: the collected outputs sit behind `lock`; the Process is only touched by the test thread.
    let process = Process()
    private let lock = NSLock()
    private var out = Data(), err = Data()

    init(_ args: [String], stdin: FileHandle? = nil) throws {
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["watch"] + args
        process.environment = CLI.environment()
        let o = Pipe(), e = Pipe()
        process.standardOutput = o
        process.standardError = e
        process.standardInput = stdin ?? FileHandle.nullDevice
        o.fileHandleForReading.readabilityHandler = { [self] h in let d = h.availableData; lock.lock(); out += d; lock.unlock() }
        e.fileHandleForReading.readabilityHandler = { [self] h in let d = h.availableData; lock.lock(); err += d; lock.unlock() }
        try process.run()
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
    var alerts: [[String: Any]] { CLI.jsonLines(stdout) }

    /// Waits (up to `seconds`) until `ok` holds; false when it never did.
    @discardableResult
    func wait(_ seconds: Double = 20, until ok: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end { if ok() { return true }; if !process.isRunning { return ok() }; usleep(50_000) }
        return ok()
    }

    /// The port a listener was bound to, from the status line (`udp://127.0.0.1:PORT`).
    func port(_ transport: String) -> Int? {
        wait(20) { stderr.contains("\(transport)://") }
        guard let r = stderr.range(of: "\(transport)://127.0.0.1:") else { return nil }
        return Int(stderr[r.upperBound...].prefix { $0.isNumber })
    }

    /// Peak resident memory so far (kB), from /proc.
    var peakKB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }
    }

    /// SIGINT (SIGTERM with `terminate`), then the exit status.
    func interrupt(terminate: Bool = false) -> Int32 {
        if terminate { process.terminate() } else { process.interrupt() }
        let end = Date().addingTimeInterval(30)
        while process.isRunning && Date() < end { usleep(50_000) }
        if process.isRunning { process.terminate(); return -1 }
        usleep(100_000)  // the last output
        return process.terminationStatus
    }
}

/// Sends syslog the way a peer does: UDP datagrams and TCP streams on 127.0.0.1.
enum SyslogSender {
    static func loopback(_ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    static func udp(_ messages: [String], port: Int) {
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(s) }
        var a = loopback(port)
        for m in messages {
            _ = withUnsafePointer(to: &a) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    Array(m.utf8).withUnsafeBytes { sendto(s, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        }
    }

    /// One connection, the bytes written in small pieces (framing must not depend on reads).
    static func tcp(_ bytes: [UInt8], port: Int, piece: Int = 7) throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var a = loopback(port)
        let rc = withUnsafePointer(to: &a) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw CLIError("connect: \(errno)") }
        var i = 0
        while i < bytes.count {
            let j = min(bytes.count, i + piece)
            _ = bytes[i..<j].withUnsafeBytes { send(s, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            i = j
        }
    }

    static func failure(_ k: Int, user: String = "admin", from address: String = "198.51.100.7") -> String {
        "<30>Mar  2 10:00:\(String(format: "%02d", k % 60)) mft01 sftpplus[2211]: 20021 Unknown \(address):\(40000 + k) "
            + "Failed to authenticate user \"\(user)\" with \"password\" credentials. Possible typo in username. "
            + "No authentication method was able to handle the credentials."
    }
}

struct CLIError: Error { let m: String; init(_ m: String) { self.m = m } }

/// A small HTTP server on 127.0.0.1 that answers every request with `status`
/// and keeps the bodies it got.
final class WebhookServer: @unchecked Sendable {
    // @unchecked: the listening socket (C) is set once; bodies sit behind `lock`.
    let fd: Int32
    let port: Int
    let status: Int
    private let lock = NSLock()
    private var got: [String] = []
    private var stopped = false

    init(status: Int) throws {
        self.status = status
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        listen(s, 16)
        _ = withUnsafeMutablePointer(to: &a) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        fd = s
        port = Int(UInt16(bigEndian: a.sin_port))
        Thread { [self] in serve() }.start()
    }

    var bodies: [String] { lock.lock(); defer { lock.unlock() }; return got }
    func stop() { lock.lock(); stopped = true; lock.unlock(); shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    private func serve() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { return }
            var data = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 4096)
            // Read the head, then Content-Length bytes of body.
            while true {
                let n = read(c, &buf, buf.count)
                if n <= 0 { break }
                data += buf[0..<n]
                let text = String(decoding: data, as: UTF8.self)
                if let h = text.range(of: "\r\n\r\n") {
                    let length = text[..<h.lowerBound].split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    let body = data.count - text[..<h.upperBound].utf8.count
                    if body >= length {
                        lock.lock(); got.append(String(text[h.upperBound...])); lock.unlock()
                        break
                    }
                }
            }
            let reply = "HTTP/1.1 \(status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            _ = Array(reply.utf8).withUnsafeBytes { write(c, $0.baseAddress, $0.count) }
            close(c)
        }
    }
}

final class WatchCommandTests: TemporaryDirectoryTestCase {
    /// Failed logins as an SFTPPlus server writes them to its log (timestamp first).
    func failures(_ range: Range<Int>, from address: String) -> [String] {
        range.map { k in
            "2026-03-02T10:00:\(String(format: "%02d", k)).000Z 20021 sftp-1 Unknown \(address):\(4000 + k) Failed to authenticate user \"u\(k)\" "
                + "with \"password\" credentials. Possible typo in username. No authentication method was able to handle the credentials."
        }
    }

    func alerted(_ w: WatchProcess, _ address: String) -> Bool {
        w.alerts.contains { $0["peer"] as? String == address && $0["rule"] as? String == "failed-logins" }
    }

    /// A watched directory is looked at again while the watch runs: a log
    /// that appears in it is followed from its first line, and what rotation
    /// leaves beside it (a renamed file, a copy) is not read a second time.
    func testLogsThatAppearInAWatchedDirectoryAreFollowed() throws {
        let logs = dir.appendingPathComponent("logs").path
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try "".write(toFile: logs + "/node-a.log", atomically: true, encoding: .utf8)
        let w = try WatchProcess(["--no-store", logs, "--alert", "ndjson"])
        XCTAssertTrue(w.wait { w.stderr.contains("watching") })
        let later = logs + "/node-b.log"
        try (failures(0..<10, from: "192.0.2.7").joined(separator: "\n") + "\n").write(toFile: later, atomically: false, encoding: .utf8)
        XCTAssertTrue(w.wait { alerted(w, "192.0.2.7") }, w.stderr)
        XCTAssertTrue(w.stderr.contains("following \(later), new in its directory"), w.stderr)
        let evidence = w.alerts.compactMap { ($0["evidence"] as? [[String: Any]])?.first?["file"] as? String }
        XCTAssertEqual(Set(evidence), [later])

        // Rotated by rename, then copied as copytruncate would: only the new lines are read.
        XCTAssertEqual(rename(later, later + ".1"), 0)
        try (failures(10..<20, from: "192.0.2.8").joined(separator: "\n") + "\n").write(toFile: later, atomically: false, encoding: .utf8)
        XCTAssertTrue(w.wait { alerted(w, "192.0.2.8") }, w.stderr)
        try FileManager.default.copyItem(atPath: later + ".1", toPath: later + ".2026-03-02-10-00-00")
        usleep(2_500_000)  // two looks at the directory
        XCTAssertEqual(w.interrupt(), 0, w.stderr)
        XCTAssertTrue(w.stderr.contains("watched 20 records (0 unparsed)"), w.stderr)
    }

    func testSyslogOverUDPAndTCPIsStoredAndRaisesAlerts() throws {
        let db = dir.appendingPathComponent("w.db").path
        let w = try WatchProcess(["--db", db, "--syslog", "udp://127.0.0.1:0", "--syslog", "tcp://:0", "--alert", "ndjson"])
        let udp = try XCTUnwrap(w.port("udp")), tcp = try XCTUnwrap(w.port("tcp"))
        // Brute force over UDP: 12 failures from one address.
        SyslogSender.udp((0..<12).map { SyslogSender.failure($0) }, port: udp)
        // TCP: octet-counted RFC 5424 and newline-framed RFC 3164 on one connection, in 7-byte pieces.
        let m1 = "<30>1 2026-03-02T10:01:00Z mft01 sftpplus 2211 - - 99999 bob 203.0.113.5:2222 Something no catalogue knows."
        let m2 = "<30>Mar  2 10:01:01 mft01 sftpplus[2211]: 30014 Unknown 203.0.113.5:2223 New SSH connection made."
        try SyslogSender.tcp(Array("\(m1.utf8.count) \(m1)\(m2)\n".utf8), port: tcp)
        XCTAssertTrue(w.wait { w.alerts.contains { $0["rule"] as? String == "failed-logins" } && w.alerts.contains { $0["rule"] as? String == "unknown-event" } },
                      w.stdout + w.stderr)
        XCTAssertEqual(w.interrupt(), 0, w.stderr)
        let brute = try XCTUnwrap(w.alerts.first { $0["rule"] as? String == "failed-logins" })
        XCTAssertEqual(brute["peer"] as? String, "198.51.100.7")
        XCTAssertEqual((brute["evidence"] as? [[String: Any]])?.count, 10)
        XCTAssertEqual(w.alerts.filter { $0["rule"] as? String == "failed-logins" }.count, 1)
        XCTAssertTrue(w.stderr.contains("14 syslog messages received"), w.stderr)
        // Everything received is stored, with the layout of its RFC.
        let q = try CLI.run(["query", "--db", db, "--format", "csv", "SELECT layout, count(*) FROM records GROUP BY layout ORDER BY layout"])
        XCTAssertEqual(q.stdout, "layout,count(*)\r\nsyslog,13\r\nsyslog-5424,1\r\n", q.stderr)
    }

    func testLoggerFromUtilLinuxWhenPresent() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/logger") else { throw XCTSkip("util-linux logger is not installed") }
        let w = try WatchProcess(["--no-store", "--syslog", "udp://127.0.0.1:0", "--syslog", "tcp://127.0.0.1:0", "--alert", "ndjson"])
        let udp = try XCTUnwrap(w.port("udp")), tcp = try XCTUnwrap(w.port("tcp"))
        for (k, user) in ["root", "admin", "oracle", "test", "guest"].enumerated() {
            let msg = "20021 Unknown 203.0.113.9:\(5000 + k) Failed to authenticate user \"\(user)\" with \"password\" credentials. "
                + "Possible typo in username. No authentication method was able to handle the credentials."
            // Alternate both RFCs and both framings of TCP, and UDP.
            let how: [String] = [["--udp", "--rfc3164", "--port", "\(udp)"], ["--udp", "--rfc5424", "--port", "\(udp)"],
                                 ["--tcp", "--rfc5424", "--octet-count", "--port", "\(tcp)"], ["--tcp", "--rfc3164", "--port", "\(tcp)"],
                                 ["--tcp", "--rfc5424", "--port", "\(tcp)"]][k]
            let r = try CLI.capture("/usr/bin/logger", ["--server", "127.0.0.1", "-t", "sftpplus", "-p", "daemon.info"] + how + [msg])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertTrue(w.wait { w.alerts.contains { $0["rule"] as? String == "usernames-from-address" } }, w.stdout + w.stderr)
        XCTAssertEqual(w.interrupt(), 0)
        XCTAssertTrue(w.stderr.contains("5 syslog messages received") && w.stderr.contains("(0 unparsed)"), w.stderr)
    }

    func testMalformedAndOversizedFramesAreKeptNeverACrash() throws {
        let db = dir.appendingPathComponent("w.db").path
        let w = try WatchProcess(["--db", db, "--syslog", "tcp://127.0.0.1:0", "--max-message", "200", "--alert", "ndjson"])
        let tcp = try XCTUnwrap(w.port("tcp"))
        var stream: [UInt8] = Array("<30>1 2026-99-99 broken\n\u{01}\u{1B}[31mred\n99999999999 <30\n".utf8)
        stream += [0xFF, 0xFE, 0x0A]  // not UTF-8
        stream += Array(("<30>Mar  2 10:00:00 mft01 sftpplus[1]: 30014 Unknown 10.0.0.1:1 " + String(repeating: "y", count: 5000) + "\n").utf8)
        stream += Array("<30>Mar  2 10:00:01 mft01 sftpplus[1]: 30014 Unknown 10.0.0.1:2 New SSH connection made.\n".utf8)
        try SyslogSender.tcp(stream, port: tcp, piece: 64)
        XCTAssertTrue(w.wait { w.stderr.contains("cut") }, w.stderr)
        XCTAssertEqual(w.interrupt(), 0, w.stderr)
        XCTAssertTrue(w.stderr.contains("longer than 200 bytes cut"), w.stderr)
        let q = try CLI.run(["query", "--db", db, "--format", "csv", "SELECT kind, count(*) FROM records GROUP BY kind ORDER BY kind"])
        XCTAssertEqual(q.stdout, "kind,count(*)\r\nsftpplus.event,2\r\nunparsed,4\r\n", q.stderr)
    }

    func testRotationDuringAWatchOfAFile() throws {
        let log = dir.appendingPathComponent("server.log").path
        try "".write(toFile: log, atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("w.db").path
        let w = try WatchProcess(["--db", db, log, "--alert", "ndjson"])
        XCTAssertTrue(w.wait { w.stderr.contains("watching") })
        func append(_ lines: [String]) throws {
            let h = try XCTUnwrap(FileHandle(forWritingAtPath: log))
            h.seekToEndOfFile()
            h.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            try h.close()
        }
        try append(failures(0..<10, from: "192.0.2.1"))
        XCTAssertTrue(w.wait { alerted(w, "192.0.2.1") }, w.stderr)
        // logrotate's create mode: the file is moved away and a new one begins.
        XCTAssertEqual(rename(log, log + ".1"), 0)
        try "".write(toFile: log, atomically: false, encoding: .utf8)
        try append(failures(10..<20, from: "192.0.2.2"))
        XCTAssertTrue(w.wait { alerted(w, "192.0.2.2") }, w.stderr)
        XCTAssertEqual(w.interrupt(), 0, w.stderr)
        let q = try CLI.run(["query", "--db", db, "--format", "csv", "SELECT count(*) FROM records"])
        XCTAssertEqual(q.stdout, "count(*)\r\n20\r\n", q.stderr)
        let evidence = w.alerts.compactMap { ($0["evidence"] as? [[String: Any]])?.first?["file"] as? String }
        XCTAssertEqual(Set(evidence), [log])
    }

    /// The database and the syslog spool kept in the directory being watched
    /// are not read as logs: what arrives over syslog is read once.
    func testItsOwnFilesInAWatchedDirectoryAreNotLogs() throws {
        let logs = dir.appendingPathComponent("logs").path
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        let w = try WatchProcess(["--db", logs + "/w.db", "--syslog", "udp://127.0.0.1:0", logs, "--alert", "ndjson"])
        let port = try XCTUnwrap(w.port("udp"))
        SyslogSender.udp((0..<10).map { SyslogSender.failure($0, from: "198.51.100.9") }, port: port)
        XCTAssertTrue(w.wait { alerted(w, "198.51.100.9") }, w.stderr)
        usleep(2_500_000)  // two looks at the directory, which now holds the database, its WAL and the spool
        XCTAssertEqual(w.interrupt(), 0, w.stderr)
        XCTAssertTrue(w.stderr.contains("watched 10 records (0 unparsed)"), w.stderr)
        XCTAssertFalse(w.stderr.contains("new in its directory"), w.stderr)
    }

    func testStandardInputWithoutAStoreEndsWithItsInput() throws {
        let r = try CLI.run(["watch", "--no-store", "--alert", "ndjson", "-"],
                            stdin: try Data(contentsOf: URL(fileURLWithPath: Paths.sample("sftpplus/dev-ts-first-5.26.log"))),
                            cwd: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(CLI.jsonLines(r.stdout).contains { $0["rule"] as? String == "weak-crypto" }, r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("sftplog.db").path), "--no-store stores nothing")
    }

    func testWebhooksAndSyslogAlertsAndAFailingWebhook() throws {
        let good = try WebhookServer(status: 200), bad = try WebhookServer(status: 500)
        defer { good.stop(); bad.stop() }
        // A collector for RFC 5424 alerts.
        let collector = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(collector) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(collector, $0, len) } }
        _ = withUnsafeMutablePointer(to: &a) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(collector, $0, &len) } }
        let collectorPort = Int(UInt16(bigEndian: a.sin_port))

        let log = dir.appendingPathComponent("s.log").path
        try (0..<10).map { k in
            "2026-03-02T10:00:0\(k).000Z 20021 sftp-1 Unknown 198.51.100.99:\(4000 + k) Failed to authenticate user \"x\\\"]\" "
                + "with \"password\" credentials. Possible typo in username. No authentication method was able to handle the credentials."
        }.joined(separator: "\n").appending("\n").write(toFile: log, atomically: true, encoding: .utf8)
        let w = try WatchProcess(["--no-store", log, "--alert", "http://127.0.0.1:\(good.port)/hook?token=s3cret",
                                  "--alert", "http://user:pw@127.0.0.1:\(bad.port)/hook", "--alert", "syslog://127.0.0.1:\(collectorPort)",
                                  "--alert-retries", "3", "--alert-backoff", "0.05"])
        XCTAssertTrue(w.wait { good.bodies.count >= 1 }, w.stderr)
        XCTAssertTrue(w.wait { bad.bodies.count >= 3 })
        XCTAssertEqual(w.interrupt(), 0, w.stderr)
        let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(good.bodies[0].utf8)) as? [String: Any])
        XCTAssertEqual(body["rule"] as? String, "failed-logins")
        XCTAssertEqual(bad.bodies.count, 3, "three tries, then given up")
        XCTAssertTrue(w.stderr.contains("not delivered after 3 tries: HTTP 500"), w.stderr)
        XCTAssertFalse(w.stderr.contains("pw@") || w.stderr.contains("s3cret"), "no secret from a URL is printed: \(w.stderr)")
        var buf = [UInt8](repeating: 0, count: 9000)
        let n = recv(collector, &buf, buf.count, Int32(MSG_DONTWAIT))
        XCTAssertGreaterThan(n, 0)
        let dgram = String(decoding: buf[0..<max(0, n)], as: UTF8.self)
        XCTAssertTrue(dgram.hasPrefix("<83>1 2026-03-02T10:00:09.000Z "), dgram)
        XCTAssertTrue(dgram.contains("[sftplog@32473 rule=\"failed-logins\" severity=\"high\" peer=\"198.51.100.99\""), dgram)
    }

    /// https with a certificate from an internal CA: refused without --alert-ca, delivered with it.
    func testHTTPSWebhookTrustsOnlyWhatItIsTold() throws {
        for tool in ["/usr/bin/openssl", "/usr/bin/python3"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) is needed for the https server")
        }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let made = try CLI.capture("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                                                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let bodies = dir.appendingPathComponent("bodies").path
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-c", """
            import http.server, ssl, sys
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers['Content-Length']))
                    with open(sys.argv[3], 'ab') as f: f.write(body + b'\\n')
                    self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()
                def log_message(self, *a): pass
            s = http.server.HTTPServer(('127.0.0.1', 0), H)
            c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(sys.argv[1], sys.argv[2])
            s.socket = c.wrap_socket(s.socket, server_side=True)
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """, cert, key, bodies]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        let port = try XCTUnwrap(Int(String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        let log = dir.appendingPathComponent("s.log").path
        try (0..<10).map { k in
            "2026-03-02T10:00:0\(k).000Z 20021 sftp-1 Unknown 198.51.100.98:\(4000 + k) Failed to authenticate user \"u\" "
                + "with \"password\" credentials. Possible typo in username. No authentication method was able to handle the credentials."
        }.joined(separator: "\n").appending("\n").write(toFile: log, atomically: true, encoding: .utf8)
        for host in ["localhost", "127.0.0.1"] {
            let untrusted = try WatchProcess(["--no-store", log, "--alert", "https://\(host):\(port)/", "--alert-retries", "1"])
            XCTAssertTrue(untrusted.wait { untrusted.stderr.contains("not delivered") }, untrusted.stderr)
            XCTAssertEqual(untrusted.interrupt(), 0)
            XCTAssertFalse(FileManager.default.fileExists(atPath: bodies), "an unknown CA is not trusted")
            let trusted = try WatchProcess(["--no-store", log, "--alert", "https://\(host):\(port)/", "--alert-ca", cert])
            XCTAssertTrue(trusted.wait { ((try? String(contentsOfFile: bodies, encoding: .utf8)) ?? "").contains("failed-logins") }, trusted.stderr)
            XCTAssertEqual(trusted.interrupt(), 0)
            XCTAssertFalse(trusted.stderr.contains("not delivered"), trusted.stderr)
            try FileManager.default.removeItem(atPath: bodies)
        }
    }

    /// A sender that never ends its line, and one that floods datagrams: memory
    /// stays bounded, the watch keeps working, and SIGTERM ends it cleanly.
    func testAFloodCannotGrowMemory() throws {
        let w = try WatchProcess(["--no-store", "--syslog", "tcp://127.0.0.1:0", "--syslog", "udp://127.0.0.1:0", "--alert", "ndjson"])
        let tcp = try XCTUnwrap(w.port("tcp")), udp = try XCTUnwrap(w.port("udp"))
        XCTAssertTrue(w.wait { w.peakKB != nil })
        let before = try XCTUnwrap(w.peakKB)
        // 256 MiB without a line end, in 1 MiB writes.
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = SyslogSender.loopback(tcp)
        XCTAssertEqual(withUnsafePointer(to: &a) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }, 0)
        let chunk = [UInt8](repeating: 0x41, count: 1 << 20)
        for _ in 0..<256 {
            var off = 0
            while off < chunk.count {
                let n = chunk[off...].withUnsafeBytes { send(s, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                XCTAssertGreaterThan(n, 0)
                if n <= 0 { break }
                off += n
            }
        }
        close(s)
        // 50,000 datagrams of one ordinary event each.
        SyslogSender.udp((0..<50_000).map { k in "<30>Mar  2 10:00:00 mft01 sftpplus[1]: 30014 Unknown 10.9.\(k / 250 % 250).\(k % 250 + 1):\(1024 + k % 60000) New SSH connection made." },
                         port: udp)
        // UDP drops what a full receive buffer cannot take, and the flood may
        // still be draining: send the ten failures again, distinct each round,
        // until the watch answers (it must, once the flood is behind it).
        var alerted = false
        for round in 0..<6 where !alerted {
            SyslogSender.udp((0..<10).map { SyslogSender.failure(round * 10 + $0, from: "198.51.100.200") }, port: udp)
            alerted = w.wait(10) { w.alerts.contains { $0["peer"] as? String == "198.51.100.200" } }
        }
        XCTAssertTrue(alerted, w.stderr)
        let peak = try XCTUnwrap(w.peakKB)
        XCTAssertEqual(w.interrupt(terminate: true), 0, w.stderr)
        XCTAssertTrue(w.stderr.contains("cut"), w.stderr)
        // The 256 MiB line held at most one message's bytes at a time.
        XCTAssertLessThan(peak - before, 128 * 1024, "peak RSS grew from \(before) kB to \(peak) kB")
    }

    func testBadArgumentsAreClearErrors() throws {
        let r1 = try CLI.run(["watch", "--no-store", "--syslog", "udp://example.org:514"])
        XCTAssertEqual(r1.status, 1)
        XCTAssertTrue(r1.stderr.contains("not an IP address"), r1.stderr)
        let r2 = try CLI.run(["watch", "--no-store", "--syslog", "ftp://127.0.0.1:1"])
        XCTAssertEqual(r2.status, 1)
        XCTAssertTrue(r2.stderr.contains("the scheme is udp or tcp"), r2.stderr)
        let r3 = try CLI.run(["watch", "--no-store", "--alert", "mailto:x@y", "-"], stdin: Data())
        XCTAssertEqual(r3.status, 1)
        XCTAssertTrue(r3.stderr.contains("--alert mailto:x@y"), r3.stderr)
        let rules = dir.appendingPathComponent("r.json").path
        try #"{"rules":[{"id":"x","kind":"failed-logins","severity":"urgent"}]}"#.write(toFile: rules, atomically: true, encoding: .utf8)
        let r4 = try CLI.run(["watch", "--no-store", "--rules", rules, "--print-rules"])
        XCTAssertEqual(r4.status, 1)
        XCTAssertTrue(r4.stderr.contains(rules) && r4.stderr.contains("severity must be one of"), r4.stderr)
        let r5 = try CLI.run(["watch", "--print-rules"])
        XCTAssertEqual(r5.status, 0)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(r5.stdout.utf8)) as? [String: Any])?["rules"].map { ($0 as! [Any]).count }, 11)
    }
}
