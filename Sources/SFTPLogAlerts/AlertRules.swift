import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions

/// What a rule looks for. The raw values are the `kind` strings of
/// catalog/alert-rules.json.
public enum AlertKind: String, Sendable, CaseIterable {
    case failedLogins = "failed-logins"
    case usernamesFromAddress = "usernames-from-address"
    case addressesForUsername = "addresses-for-username"
    case weakCrypto = "weak-crypto"
    case terrapin
    case hostKeyChanged = "hostkey-changed"
    case hostKeyNew = "hostkey-new"
    case newClientSoftware = "new-client-software"
    case unusualHour = "unusual-hour"
    case largeTransfer = "large-transfer"
    case unknownEvent = "unknown-event"

    /// The parameter keys a rule of this kind takes (besides the common ones).
    var parameters: Set<String> {
        switch self {
        case .failedLogins, .usernamesFromAddress, .addressesForUsername: return ["threshold"]
        case .weakCrypto: return ["min_rating"]
        case .unusualHour: return ["min_logins", "max_share"]
        case .largeTransfer: return ["bytes"]
        case .terrapin, .hostKeyChanged, .hostKeyNew, .newClientSoftware, .unknownEvent: return []
        }
    }
}

/// How urgent an alert is. The raw values are the `severity` strings of the
/// rules file and of every alert.
public enum AlertSeverity: String, Sendable, CaseIterable {
    case info, low, medium, high, critical

    /// RFC 5424 severity of the syslog message an alert is sent as.
    public var syslogSeverity: Int {
        switch self {
        case .info: return 6
        case .low: return 5
        case .medium: return 4
        case .high: return 3
        case .critical: return 2
        }
    }
}

/// One rule of catalog/alert-rules.json, with its kind's parameters.
public struct AlertRule: Sendable, Equatable {
    public var id: String
    public var kind: AlertKind
    public var severity: AlertSeverity
    public var enabled = true
    /// Seconds of log time: the span counted events must fall in, and how long
    /// one alert per key silences the next.
    public var window: Double = 0
    public var threshold = 1
    public var minRating: Rating = .warn
    public var minLogins = 20
    public var maxShare = 0.0
    public var bytes = Int.max
    public var description = ""
}

public struct AlertRulesError: Error, CustomStringConvertible {
    public let path: String
    public let why: String
    public var description: String { "\(path): cannot read alert rules: \(why)" }
}

/// The effective rule set: the bundled file, then each `--rules` file over it.
public struct AlertRules: Sendable {
    public private(set) var rules: [AlertRule] = []
    /// SFTPPlus events saying a server's identity is not the configured one.
    public private(set) var hostKeyMismatchEvents: Set<String> = []
    /// The files read, in order.
    public private(set) var sources: [String] = []

    public static func bundled(overrides: [String] = []) throws -> AlertRules {
        try load(defaultPath: EventCatalog.catalogDirectory() + "/alert-rules.json", overrides: overrides)
    }

    public static func load(defaultPath: String, overrides: [String] = []) throws -> AlertRules {
        var r = AlertRules()
        for path in [defaultPath] + overrides { try r.apply(tree(path), from: path, isBase: path == defaultPath) }
        return r
    }

    public var enabled: [AlertRule] { rules.filter(\.enabled) }

    static func tree(_ path: String) throws -> [String: PolicyValue] {
        do { return try AlgorithmPolicy.parseTree(path) } catch let PolicyError.unreadable(_, why) { throw AlertRulesError(path: path, why: why) }
    }

    static let commonKeys: Set<String> = ["id", "kind", "severity", "enabled", "window", "description"]

    mutating func apply(_ o: [String: PolicyValue], from path: String, isBase: Bool) throws {
        func fail(_ why: String) -> AlertRulesError { AlertRulesError(path: path, why: why) }
        sources.append(path)
        for key in o.keys where !["format", "description", "hostkey_mismatch_events", "rules"].contains(key) {
            throw fail("unknown key \"\(key)\"")
        }
        if let v = o["hostkey_mismatch_events"] {
            guard let ids = v.strings else { throw fail("hostkey_mismatch_events must be a list of event IDs") }
            hostKeyMismatchEvents = Set(ids)
        }
        guard let list = o["rules"]?.array ?? (isBase ? nil : []) else { throw fail("no \"rules\" list") }
        for (n, entry) in list.enumerated() {
            guard let e = entry.object else { throw fail("rule \(n + 1) is not an object") }
            guard let id = e["id"]?.string, !id.isEmpty else { throw fail("rule \(n + 1) has no \"id\"") }
            let at = "rule \"\(id)\""
            var rule: AlertRule
            if let i = rules.firstIndex(where: { $0.id == id }) {
                rule = rules[i]
                if let k = e["kind"], k.string != rule.kind.rawValue { throw fail("\(at) cannot change its kind; give the new rule another id") }
            } else {
                guard let k = e["kind"]?.string else { throw fail("\(at) is new and needs a \"kind\"") }
                guard let kind = AlertKind(rawValue: k) else {
                    throw fail("\(at): kind \"\(k)\" is not one of " + AlertKind.allCases.map(\.rawValue).joined(separator: ", "))
                }
                guard e["severity"] != nil else { throw fail("\(at) is new and needs a \"severity\"") }
                rule = AlertRule(id: id, kind: kind, severity: .info)
            }
            for key in e.keys where !AlertRules.commonKeys.contains(key) && !rule.kind.parameters.contains(key) {
                throw fail("\(at): a \(rule.kind.rawValue) rule takes no \"\(key)\"")
            }
            if let v = e["severity"] {
                guard let s = v.string.flatMap(AlertSeverity.init(rawValue:)) else {
                    throw fail("\(at): severity must be one of " + AlertSeverity.allCases.map(\.rawValue).joined(separator: ", "))
                }
                rule.severity = s
            }
            if let v = e["enabled"] { guard let b = v.bool else { throw fail("\(at): enabled must be true or false") }; rule.enabled = b }
            if let v = e["description"] { guard let s = v.string else { throw fail("\(at): description must be text") }; rule.description = s }
            func number(_ key: String, min: Double) throws -> Double? {
                guard let v = e[key] else { return nil }
                let d: Double? = switch v { case .int(let i): Double(i); case .double(let d): d; default: nil }
                guard let d, d >= min, d.isFinite else { throw fail("\(at): \(key) must be a number of at least \(min == 0 ? "0" : "1")") }
                return d
            }
            if let d = try number("window", min: 0) { rule.window = d }
            if let d = try number("threshold", min: 1) { rule.threshold = Int(d) }
            if let d = try number("min_logins", min: 1) { rule.minLogins = Int(d) }
            if let d = try number("max_share", min: 0) {
                guard d <= 1 else { throw fail("\(at): max_share is a fraction from 0 to 1") }
                rule.maxShare = d
            }
            if let d = try number("bytes", min: 1) { rule.bytes = d >= Double(Int.max) ? Int.max : Int(d) }
            if let v = e["min_rating"] {
                guard let r = v.string.flatMap(Rating.init(rawValue:)), r != .ok, r != .unknown else {
                    throw fail("\(at): min_rating must be info, warn or fail")
                }
                rule.minRating = r
            }
            if let i = rules.firstIndex(where: { $0.id == id }) { rules[i] = rule } else { rules.append(rule) }
        }
    }

    /// The effective rules as JSON (for `watch --print-rules`).
    public var json: JSONValue {
        .object([("sources", .array(sources.map(JSONValue.string))),
                 ("hostkey_mismatch_events", .array(hostKeyMismatchEvents.sorted().map(JSONValue.string))),
                 ("rules", .array(rules.map(\.json)))])
    }
}

extension AlertRule {
    public var json: JSONValue {
        var o: [(String, JSONValue)] = [("id", .string(id)), ("kind", .string(kind.rawValue)), ("severity", .string(severity.rawValue)),
                                         ("enabled", .bool(enabled)), ("window", .double(window))]
        for p in kind.parameters.sorted() {
            switch p {
            case "threshold": o.append((p, .int(threshold)))
            case "min_rating": o.append((p, .string(minRating.rawValue)))
            case "min_logins": o.append((p, .int(minLogins)))
            case "max_share": o.append((p, .double(maxShare)))
            case "bytes": o.append((p, .int(bytes)))
            default: break
            }
        }
        o.append(("description", .string(description)))
        return .object(o)
    }
}
