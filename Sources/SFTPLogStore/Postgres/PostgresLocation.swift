// Where a PostgreSQL store is, from a libpq-style URL and the PG* environment.

import Foundation

/// How `--db` (or `$SFTPLOG_DB`) names a store: a SQLite file, or a PostgreSQL server.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(String)
    case postgres(PostgresLocation)

    /// `postgres://…` and `postgresql://…` select PostgreSQL; anything else is a file path.
    public static func parse(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> StoreLocation {
        if PostgresLocation.isURL(text) { return .postgres(try PostgresLocation(url: text, environment: environment)) }
        return .sqlite(text)
    }

    /// What messages print for it: the path, or the URL without its password.
    public var displayName: String {
        switch self {
        case .sqlite(let p): p
        case .postgres(let l): l.redacted
        }
    }
}

/// A PostgreSQL server and database, as libpq reads a connection URI
/// (`postgres://user:password@host:port/dbname?sslmode=require&…`), with libpq's
/// environment variables as defaults and the password looked up in `$PGPASSWORD`
/// or the password file when the URL has none. The password is never printed.
public struct PostgresLocation: Sendable, Equatable {
    /// libpq's `sslmode` values.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var sslMode: SSLMode
    /// `sslrootcert`: the CA file that `verify-ca` and `verify-full` check the server against.
    public var sslRootCert: String?
    public var connectTimeout: Int?
    public var applicationName: String?
    /// Where the password came from, never the password itself in messages.
    public var passwordSource: String?
    package var password: String?

    /// The parameters sftplog understands; libpq has more, and an unknown one is an error (as in libpq).
    static let knownParameters: Set<String> = ["host", "hostaddr", "port", "user", "password", "dbname", "sslmode", "sslrootcert",
                                               "connect_timeout", "application_name", "passfile"]

    public static func isURL(_ s: String) -> Bool { s.hasPrefix("postgres://") || s.hasPrefix("postgresql://") }

    public init(url: String, environment env: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let schemeEnd = url.range(of: "://") else { throw StoreError.badLocation("not a postgres:// URL") }
        var rest = Substring(url[schemeEnd.upperBound...])
        var params: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&", omittingEmptySubsequences: true) {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = try Self.decode(kv[0])
                guard Self.knownParameters.contains(key) else {
                    throw StoreError.badLocation("unknown connection parameter \(key.debugDescription) (known: \(Self.knownParameters.sorted().joined(separator: ", ")))")
                }
                params[key] = kv.count > 1 ? try Self.decode(kv[1]) : ""
            }
            rest = rest[..<q]
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = try Self.decode(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        var userInfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        var urlUser: String?, urlPassword: String?
        if let info = userInfo {
            let parts = info.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            urlUser = try Self.decode(parts[0])
            if parts.count > 1 { urlPassword = try Self.decode(parts[1]) }
        }
        var urlHost: String?, urlPort: String?
        if rest.hasPrefix("[") {
            // An IPv6 literal: [::1]:5432
            guard let close = rest.firstIndex(of: "]") else { throw StoreError.badLocation("unclosed [ in the host") }
            urlHost = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { urlPort = String(after.dropFirst()) }
        } else if !rest.isEmpty {
            guard !rest.contains(",") else { throw StoreError.badLocation("several hosts in one URL are not supported") }
            let hp = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            urlHost = try Self.decode(hp[0])
            if hp.count > 1 { urlPort = String(hp[1]) }
        }
        func pick(_ param: String, _ fromURL: String?, _ envName: String) -> String? {
            for v in [params[param], fromURL, env[envName]] { if let v, !v.isEmpty { return v } }
            return nil
        }
        host = pick("host", urlHost, "PGHOST") ?? pick("hostaddr", nil, "PGHOSTADDR") ?? "localhost"
        let portText = pick("port", urlPort, "PGPORT") ?? "5432"
        guard let p = Int(portText), (1...65535).contains(p) else { throw StoreError.badLocation("port \(portText.debugDescription) is not a port number") }
        port = p
        user = pick("user", urlUser, "PGUSER") ?? Self.systemUser()
        database = pick("dbname", path.isEmpty ? nil : path, "PGDATABASE") ?? user
        let modeText = pick("sslmode", nil, "PGSSLMODE") ?? "prefer"
        guard let mode = SSLMode(rawValue: modeText) else {
            throw StoreError.badLocation("sslmode \(modeText.debugDescription) is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        sslMode = mode
        sslRootCert = pick("sslrootcert", nil, "PGSSLROOTCERT")
        if let t = pick("connect_timeout", nil, "PGCONNECT_TIMEOUT") {
            guard let n = Int(t), n >= 0 else { throw StoreError.badLocation("connect_timeout \(t.debugDescription) is not a number of seconds") }
            connectTimeout = n
        }
        applicationName = pick("application_name", nil, "PGAPPNAME")
        if let pw = params["password"] ?? urlPassword {
            password = pw; passwordSource = "the URL"
        } else if let pw = env["PGPASSWORD"] {
            password = pw; passwordSource = "$PGPASSWORD"
        } else {
            let file = pick("passfile", nil, "PGPASSFILE") ?? (env["HOME"].map { $0 + "/.pgpass" } ?? NSHomeDirectory() + "/.pgpass")
            if let pw = PasswordFile.lookup(path: file, host: host, port: port, database: database, user: user) {
                password = pw; passwordSource = file
            }
        }
    }

    /// The URL with the password left out, for messages.
    public var redacted: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(Self.encode(user))@\(Self.encode(h)):\(port)/\(Self.encode(database))"
    }

    /// A Unix-domain socket when the host is a directory, as in libpq.
    package var socketPath: String? { host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(port)" : nil }

    private static func systemUser() -> String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "postgres"
    }

    private static func decode<S: StringProtocol>(_ s: S) throws -> String {
        guard let d = String(s).removingPercentEncoding else { throw StoreError.badLocation("bad %-escape in the URL") }
        return d
    }

    private static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    public static func == (a: PostgresLocation, b: PostgresLocation) -> Bool {
        a.host == b.host && a.port == b.port && a.user == b.user && a.database == b.database && a.sslMode == b.sslMode
            && a.password == b.password && a.sslRootCert == b.sslRootCert && a.connectTimeout == b.connectTimeout && a.applicationName == b.applicationName
    }
}

/// libpq's password file (`~/.pgpass`, `$PGPASSFILE`): lines of
/// `hostname:port:database:username:password`, `*` matching anything, `\:` and
/// `\\` escaped. As libpq does, a file others can read is ignored.
enum PasswordFile {
    static func lookup(path: String, host: String, port: Int, database: String, user: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        guard st.st_mode & 0o077 == 0 else {
            FileHandle.standardError.write(Data("sftplog: warning: password file \(path.debugDescription) has group or world access; it is ignored (chmod 0600 it)\n".utf8))
            return nil
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        // libpq matches a socket connection against "localhost".
        let hostName = host.hasPrefix("/") ? "localhost" : host
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if line.hasPrefix("#") { continue }
            let f = fields(line)
            guard f.count >= 5 else { continue }
            func matches(_ pattern: String, _ value: String) -> Bool { pattern == "*" || pattern == value }
            if matches(f[0], hostName) && matches(f[1], String(port)) && matches(f[2], database) && matches(f[3], user) {
                return f[4...].joined(separator: ":")
            }
        }
        return nil
    }

    static func fields<S: StringProtocol>(_ line: S) -> [String] {
        var out: [String] = [], cur = "", escaped = false
        for ch in line {
            if escaped { cur.append(ch); escaped = false } else if ch == "\\" { escaped = true } else if ch == ":" { out.append(cur); cur = "" } else { cur.append(ch) }
        }
        out.append(cur)
        return out
    }
}
