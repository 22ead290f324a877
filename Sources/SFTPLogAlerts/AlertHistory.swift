import Foundation

/// What the past says, for the rules that compare a login or a server with
/// it: filled from the store's sessions when there is one, then learned from
/// what the watch reads.
public struct AlertHistory: Sendable {
    /// Server (`AlertHistory.server`) → key type → fingerprints.
    public var hostKeys: [String: [String: Set<String>]] = [:]
    /// Account → client software it logged in with.
    public var clients: [String: Set<String>] = [:]
    /// Account → successful logins per hour of the day (24 counts).
    public var loginHours: [String: [Int]] = [:]

    public init() {}

    /// One stored or watched session's facts.
    public mutating func learn(user: String?, clientVersion: String?, loginEpoch: Double?, zone: TimeZone,
                               host: String?, hostKeyType: String?, fingerprint: String?) {
        if let user, !user.isEmpty {
            if let v = clientVersion, !v.isEmpty { clients[user, default: []].insert(v) }
            if let e = loginEpoch { loginHours[user, default: Array(repeating: 0, count: 24)][AlertHistory.hour(e, zone)] += 1 }
        }
        if let host, let fingerprint {
            hostKeys[host, default: [:]][AlertHistory.keyType(hostKeyType), default: []].insert(fingerprint)
        }
    }

    /// A server as known_hosts names it: the host as given to the client (else
    /// its address), with the port when it is not 22 (`[host]:2222`).
    public static func server(host: String, port: Int?) -> String {
        guard let port, port != 22 else { return host }
        return "[\(host)]:\(port)"
    }

    static func hour(_ epoch: Double, _ zone: TimeZone) -> Int {
        let local = epoch + Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: epoch)))
        let h = Int(floor(local / 3600)) % 24
        return h < 0 ? h + 24 : h
    }

    /// One spelling per key type: OpenSSH prints `ssh-ed25519` on one line and
    /// `ED25519` on another; certificates count as their key.
    static func keyType(_ t: String?) -> String {
        guard var s = t?.lowercased(), !s.isEmpty else { return "?" }
        if let r = s.range(of: "-cert-v0") { s = String(s[..<r.lowerBound]) }
        if s.hasPrefix("ssh-") { s.removeFirst(4) }
        if s.hasPrefix("ecdsa") { return "ecdsa" }
        if s.hasPrefix("rsa") { return "rsa" }
        if s == "dss" { return "dsa" }
        return s
    }

    /// The hash a fingerprint is written with (`SHA256`, `MD5`): fingerprints
    /// are compared only with ones of the same hash.
    static func hashKind(_ fp: String) -> String {
        if let c = fp.firstIndex(of: ":"), fp[..<c].allSatisfy({ $0.isLetter || $0.isNumber }), fp[..<c].count <= 8, !fp[..<c].allSatisfy(\.isHexDigit) {
            return String(fp[..<c]).uppercased()
        }
        return "MD5"
    }
}
