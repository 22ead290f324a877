// One connection to a PostgreSQL server, used from sftplog's threads.

import Foundation
import PostgresNIO
import SFTPLogRecords
import SFTPLogStore
import Synchronization

/// A connection to the server, with blocking calls: the commands and the
/// ingest pipeline run on plain threads, and PostgresNIO's futures are waited
/// on from them (never from an event loop). Errors come out as one line that
/// names the server without its password.
final class PostgresLink: Sendable {
    let connection: PostgresConnection
    let location: PostgresLocation
    /// PostgresNIO logs to this; sftplog reports errors itself, so only critical ones would show.
    static let logger: Logger = {
        var l = Logger(label: "sftplog.postgres")
        l.logLevel = .critical
        return l
    }()

    private init(_ c: PostgresConnection, _ l: PostgresLocation) { connection = c; location = l }

    static func connect(_ l: PostgresLocation) throws -> PostgresLink {
        let tls: PostgresConnection.Configuration.TLS
        do { tls = try tlsSetting(l) } catch { throw StoreError.server(location: l.redacted, reason: "TLS setup failed: \(error)") }
        var config: PostgresConnection.Configuration
        if let socket = l.socketPath {
            config = .init(unixSocketPath: socket, username: l.user, password: l.password, database: l.database)
        } else {
            config = .init(host: l.host, port: l.port, username: l.user, password: l.password, database: l.database, tls: tls)
        }
        if let t = l.connectTimeout, t > 0 { config.options.connectTimeout = .seconds(Int64(t)) }
        config.options.additionalStartupParameters = [("application_name", l.applicationName ?? "sftplog")]
        let loop = PostgresConnection.defaultEventLoopGroup.any()
        do {
            let c = try PostgresConnection.connect(on: loop, configuration: config, id: 1, logger: logger).wait()
            return PostgresLink(c, l)
        } catch {
            throw StoreError.server(location: l.redacted, reason: describe(error, location: l))
        }
    }

    /// libpq's modes on PostgresNIO's: `allow` and `prefer` try TLS without
    /// checking the certificate, `require` insists on TLS without checking it,
    /// `verify-ca` checks the chain and `verify-full` the host name too.
    private static func tlsSetting(_ l: PostgresLocation) throws -> PostgresConnection.Configuration.TLS {
        var c = TLSConfiguration.makeClientConfiguration()
        switch l.sslMode {
        case .disable:
            return .disable
        case .allow, .prefer, .require:
            c.certificateVerification = .none
        case .verifyCA:
            c.certificateVerification = .noHostnameVerification
        case .verifyFull:
            c.certificateVerification = .fullVerification
        }
        if let ca = l.sslRootCert, l.sslMode == .verifyCA || l.sslMode == .verifyFull {
            c.trustRoots = .file(ca)
        }
        let context = try NIOSSLContext(configuration: c)
        return l.sslMode == .allow || l.sslMode == .prefer ? .prefer(context) : .require(context)
    }

    func close() { try? connection.close().wait() }

    /// Runs one statement and returns its rows.
    @discardableResult
    func rows(_ q: PostgresQuery) throws -> [PostgresRow] {
        do {
            let result = try waitOrClosed(connection.query(q, logger: Self.logger))
            return Array(result.rows)
        } catch {
            throw failure(error)
        }
    }

    /// Runs statements with no parameters, one by one.
    func execute(_ statements: String...) throws {
        for s in statements { try rows(PostgresQuery(unsafeSQL: s)) }
    }

    /// `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let v = try body()
            try execute("COMMIT")
            return v
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// `COPY table (columns) FROM STDIN` in text format, of the chunks (already
    /// escaped by `CopyText`) that `produce` sends, sent while it makes the next
    /// ones: the server loads a chunk while this thread reads the rows of the
    /// next. At most 8 chunks wait; a failed COPY makes the next `send` throw,
    /// and an error from `produce` ends the COPY (the caller's transaction then
    /// rolls it back). Bridged to PostgresNIO's async API, its only one for COPY.
    func copy(into table: String, columns: [String], produce: (_ send: ([UInt8]) throws -> Void) throws -> Void) throws {
        let c = connection
        let (stream, feed) = AsyncStream<[UInt8]>.makeStream()
        let room = DispatchSemaphore(value: 8)
        let outcome = FirstOutcome<Void>()
        let done = DispatchSemaphore(value: 0)
        /// Ends the wait of a producer blocked on `room` (enough for every waiting chunk).
        let stop = { @Sendable in for _ in 0..<9 { room.signal() } }
        Task(executorPreference: LoopExecutor(c.eventLoop)) {
            do {
                try await c.copyFrom(table: table, columns: columns, logger: Self.logger) { writer in
                    // PostgresNIO 1.33 traps (a precondition) on a write, and on the
                    // CopyDone or CopyFail it sends when this closure returns or throws,
                    // once the connection is ending. On the connection's own loop
                    // (`LoopExecutor`), a check here and its look at its state come in one
                    // turn of the loop, with no server message between them; when the
                    // connection is ending, this task waits for good instead (the close
                    // fails the COPY for the caller, below).
                    for await chunk in stream {
                        assert(c.eventLoop.inEventLoop, "the COPY task runs on the connection's loop")
                        if c.isClosed { try await Self.parkForGood() }
                        do {
                            try await writer.write(ByteBuffer(bytes: chunk))
                        } catch {
                            if c.isClosed || Self.endsConnection(error) { try await Self.parkForGood() }
                            throw error
                        }
                        room.signal()
                    }
                    if c.isClosed { try await Self.parkForGood() }
                }
                if outcome.set(.success(())) { done.signal() }
            } catch {
                if outcome.set(.failure(error)) { stop(); done.signal() }
            }
        }
        c.closeFuture.whenComplete { _ in if outcome.set(.failure(Self.closed)) { stop(); done.signal() } }
        var produced: Error?
        do {
            try produce { chunk in
                room.wait()
                if outcome.value != nil { throw Self.closed }  // the COPY ended: stop reading
                feed.yield(chunk)
            }
        } catch {
            produced = error
        }
        feed.finish()
        done.wait()
        do {
            try outcome.value!.get()
        } catch {
            throw failure(error)
        }
        if let produced { throw produced }
    }

    /// Suspends the COPY task of a connection that is ending, for good: returning
    /// or throwing would make PostgresNIO send CopyDone or CopyFail on it and trap.
    private static func parkForGood() async throws {
        while true { try await Task.sleep(nanoseconds: 3_600_000_000_000) }
    }

    /// Whether an error means the connection is ending (the server closed it, or
    /// sent a FATAL error such as `pg_terminate_backend`'s before closing it).
    static func endsConnection(_ error: any Error) -> Bool {
        guard let e = error as? PSQLError else { return false }
        if [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(e.code) { return true }
        let severity = e.serverInfo?[.severity]
        return severity == "FATAL" || severity == "PANIC"
    }

    /// A server that ends the connection (restarted, or the backend terminated)
    /// does not always fail what is waiting on it; the close does.
    private func waitOrClosed<T: Sendable>(_ f: EventLoopFuture<T>) throws -> T {
        let p = connection.eventLoop.makePromise(of: T.self)
        let settled = FirstOutcome<Void>()
        f.whenComplete { r in if settled.set(.success(())) { p.completeWith(r) } }
        connection.closeFuture.whenComplete { _ in if settled.set(.success(())) { p.fail(Self.closed) } }
        return try p.futureResult.wait()
    }

    static let closed = StoreError.server(location: "", reason: "the server closed the connection")

    /// A row whose key is stored already (SQLSTATE 23505): another writer
    /// stored it meanwhile, and the caller may try again.
    struct Conflict: Error, CustomStringConvertible {
        let description: String
    }

    /// The error a caller sees: `Conflict` for a unique violation, else a `StoreError` saying what happened.
    func failure(_ error: any Error) -> any Error {
        if let e = error as? PSQLError, e.serverInfo?[.sqlState] == "23505" {
            return Conflict(description: Self.describe(error, location: location))
        }
        return StoreError.server(location: location.redacted, reason: Self.describe(error, location: location))
    }

    /// One line for a failed connect or statement. PostgresNIO's own description
    /// is deliberately vague; the server's message and SQLSTATE say what happened,
    /// and none of them carries the password.
    static func describe(_ error: any Error, location: PostgresLocation) -> String {
        if case .server(_, let reason)? = error as? StoreError { return reason }
        if let e = error as? StoreError { return e.description }
        if let e = error as? PSQLError {
            if let info = e.serverInfo, let message = info[.message] {
                var s = message
                if let detail = info[.detail] { s += " (\(detail))" }
                if let code = info[.sqlState] {
                    s += " [SQLSTATE \(code)]"
                    if code == "28P01" || code == "28000" {
                        s += location.passwordSource.map { "; the password came from \($0)" } ?? "; no password was given (URL, $PGPASSWORD or ~/.pgpass)"
                    }
                }
                return s
            }
            // A closed connection carries the server's error that closed it.
            if let inner = e.underlying as? PSQLError { return describe(inner, location: location) }
            switch e.code {
            case .serverClosedConnection, .uncleanShutdown: return "the server closed the connection"
            case .connectionError: return e.underlying.map { "cannot connect to \(plain($0))" } ?? "cannot connect"
            case .sslUnsupported: return "the server does not support TLS (sslmode=\(location.sslMode.rawValue))"
            case .unexpectedBackendMessage:
                // The server's error (a terminated backend) can arrive mid-COPY, out of turn; PostgresNIO then closes the connection.
                let said = String(reflecting: e)
                if let r = said.range(of: "terminating connection[^\"\\)]*", options: .regularExpression) {
                    return "the server closed the connection: \(said[r])"
                }
                return "the server closed the connection after a message out of turn"
            default: return e.underlying.map(plain) ?? "PostgreSQL error \(e.code)"
            }
        }
        return plain(error)
    }

    private static func plain(_ e: any Error) -> String {
        if let io = e as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let c = e as? NIOConnectionError {
            if let first = c.connectionErrors.first {
                let t = first.target
                let place = t.ipAddress.map { a in a.contains(":") ? "[\(a)]:\(t.port ?? 0)" : "\(a):\(t.port ?? 0)" } ?? "\(t)"
                return "\(place): \(plain(first.error))"
            }
            if let dns = c.dnsAAAAError ?? c.dnsAError { return "cannot resolve the host name (\(dns))" }
            return "connection failed"
        }
        return "\(e)"
    }
}

/// The first of several outcomes racing to settle one wait.
final class FirstOutcome<T: Sendable>: Sendable {
    private let box = Mutex<Result<T, any Error>?>(nil)
    /// True for the first outcome only.
    func set(_ r: Result<T, any Error>) -> Bool { box.withLock { v in defer { if v == nil { v = r } }; return v == nil } }
    var value: Result<T, any Error>? { box.withLock { $0 } }
}

/// PostgreSQL text cannot hold NUL, which log lines can. It is written as
/// U+10FFFE then `0`, and a U+10FFFE of the text as two of them (a
/// noncharacter, so no log has a reason to hold it); the readers undo it, so
/// answers from PostgreSQL equal those from SQLite. `raw` (bytea) keeps the bytes.
enum PostgresText {
    static let marker: [UInt8] = [0xF4, 0x8F, 0xBF, 0xBE]
    static let markerScalar: Unicode.Scalar = "\u{10FFFE}"

    static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == 0 || $0 == 0xF4 }) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if u == "\0" { out.append(markerScalar); out.append("0") }
            else if u == markerScalar { out.append(markerScalar); out.append(markerScalar) }
            else { out.append(u) }
        }
        return String(out)
    }

    static func unescape(_ s: String) -> String {
        guard s.utf8.contains(0xF4), s.unicodeScalars.contains(markerScalar) else { return s }
        var out = String.UnicodeScalarView()
        var pending = false
        for u in s.unicodeScalars {
            if pending {
                out.append(u == "0" ? "\0" : u)
                pending = false
            } else if u == markerScalar {
                pending = true
            } else {
                out.append(u)
            }
        }
        if pending { out.append(markerScalar) }
        return String(out)
    }
}

/// Runs a task's jobs on a connection's event loop. `copy` feeds PostgresNIO's
/// COPY writer from such a task, so that the writer finds itself on its loop and
/// checks the connection's state at once, in the same turn as the caller's check
/// that the connection is open: from another thread, the server's closing could
/// be handled in between, and PostgresNIO 1.33 traps on a write after it.
final class LoopExecutor: TaskExecutor {
    let loop: any EventLoop
    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}

/// Text-format COPY rows: tab-separated, `\N` for NULL, backslash escapes for
/// the bytes COPY treats specially, `\\x…` for bytea, NUL as `PostgresText` says.
struct CopyText {
    private(set) var bytes: [UInt8] = []
    private var first = true

    init() { bytes.reserveCapacity(1 << 20) }

    mutating func null() { separator(); bytes += [0x5C, 0x4E] }

    mutating func text(_ s: String?) {
        guard let s else { return null() }
        separator()
        let t = PostgresText.escape(s)
        for b in t.utf8 {
            switch b {
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x09: bytes += [0x5C, 0x74]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            default: bytes.append(b)
            }
        }
    }

    /// `text(String(decoding: p, as: UTF8.self))`, without making the String
    /// when the bytes are ASCII without NUL (then it is these bytes, which
    /// `PostgresText.escape` leaves alone): most columns of most records.
    mutating func text(stored p: UnsafeBufferPointer<UInt8>) {
        guard UTF8Text.asciiPrefixCount(p) == p.count, !p.contains(0) else { return text(String(decoding: p, as: UTF8.self)) }
        separator()
        var start = 0
        for (i, b) in p.enumerated() {
            let escape: UInt8
            switch b {
            case 0x5C: escape = 0x5C
            case 0x09: escape = 0x74
            case 0x0A: escape = 0x6E
            case 0x0D: escape = 0x72
            default: continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[start..<i]))
            bytes.append(0x5C); bytes.append(escape)
            start = i + 1
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: p[start...]))
    }

    /// Text made from stored bytes (nil: NULL).
    mutating func text(made v: [UInt8]?) {
        guard let v else { return null() }
        v.withUnsafeBufferPointer { text(stored: $0) }
    }

    mutating func int<I: BinaryInteger>(_ v: I?) {
        guard let v else { return null() }
        separator()
        // Its decimal digits written here (a String for each was measurable).
        guard let n = Int64(exactly: v), n != .min else { return bytes += Array(String(v).utf8) }
        if n < 0 { bytes.append(0x2D) }
        var m = n.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 20 digits, last first
        var k = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat { d[k] = UInt8(truncatingIfNeeded: 0x30 + m % 10); m /= 10; k += 1 } while m > 0
            while k > 0 { k -= 1; bytes.append(d[k]) }
        }
    }

    mutating func double(_ v: Double?) {
        guard let v else { return null() }
        separator()
        // Swift's shortest text that reads back as the same double.
        bytes += Array("\(v)".utf8)
    }

    mutating func bytea(_ v: [UInt8]?) {
        guard let v else { return null() }
        separator()
        bytes += [0x5C, 0x5C, 0x78]
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for b in v { bytes.append(hex[Int(b >> 4)]); bytes.append(hex[Int(b & 15)]) }
    }

    mutating func endRow() { bytes.append(0x0A); first = true }

    private mutating func separator() {
        if first { first = false } else { bytes.append(0x09) }
    }

    var count: Int { bytes.count }
    mutating func take() -> [UInt8] { defer { bytes.removeAll(keepingCapacity: true) }; return bytes }
}
