import Foundation
import SFTPLogRecords

/// A line of a log that made an alert fire.
public struct Evidence: Equatable, Sendable {
    public var file: String
    public var line: Int
    public init(file: String, line: Int) { self.file = file; self.line = line }
}

/// One alert, as `watch` delivers it. `json` is the NDJSON and webhook body:
/// `{"rule","severity","ts","peer","user","session","evidence":[{"file","line"}],"message"}`.
public struct Alert: Sendable, Equatable {
    public var rule: String
    public var kind: AlertKind
    public var severity: AlertSeverity
    /// UTC, ISO 8601: the time of the line that made the rule fire.
    public var ts: String
    /// The remote address the alert is about (a client for a server's log, a server for a client's).
    public var peer: String?
    public var user: String?
    public var session: String?
    public var evidence: [Evidence]
    public var message: String

    public init(rule: String, kind: AlertKind, severity: AlertSeverity, ts: String, peer: String? = nil, user: String? = nil,
                session: String? = nil, evidence: [Evidence] = [], message: String) {
        self.rule = rule; self.kind = kind; self.severity = severity; self.ts = ts; self.peer = peer; self.user = user
        self.session = session; self.evidence = evidence; self.message = message
    }

    public var json: JSONValue {
        func s(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
        return .object([
            ("rule", .string(rule)), ("severity", .string(severity.rawValue)), ("ts", .string(ts)), ("peer", s(peer)),
            ("user", s(user)), ("session", s(session)),
            ("evidence", .array(evidence.map { .object([("file", .string($0.file)), ("line", .int($0.line))]) })),
            ("message", .string(message)),
        ])
    }

    /// One human line; `escape` makes log-controlled text safe for where it goes.
    public func line(_ escape: (String) -> String) -> String {
        var s = "\(ts) \(severity.rawValue.uppercased()) [\(escape(rule))] \(escape(message))"
        if let e = evidence.last {
            s += " (\(escape(e.file)) line \(e.line)"
            if evidence.count > 1 { s += " and \(evidence.count - 1) more" }
            s += ")"
        }
        return s
    }
}
