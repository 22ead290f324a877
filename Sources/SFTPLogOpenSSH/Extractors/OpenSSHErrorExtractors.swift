import Foundation
import SFTPLogRecords
import SFTPLogCatalog

/// Errors: who closed, reset or timed out the connection, the client hanging up itself,
/// the banner exchange failing.
extension OpenSSHLineClassifier {
    /// The values of a message read by one of this area's extractors (`openssh-events.json`);
    /// `.none` when `name` is not one of them.
    mutating func errorValues(_ name: String, _ argument: String, _ r: Substring) -> [(String, JSONValue)]?? {
        typealias T = OpenSSHText
        func str(_ x: Substring) -> JSONValue { .string(String(x)) }
        switch name {
        case "peer": return peerFacts(r, event: argument)
        case "timed_out":
            // `Connection to H port P timed out` (and ≤6.8's `… while waiting to read`).
            guard let (who, _) = T.split2(r, " timed out") else { return .some(nil) }
            return peerFacts(T.after(who, "to ") ?? who, event: "timeout")
        case "disconnecting":
            // packet_disconnect(): the client hangs up itself (`Disconnecting: Packet corrupt`).
            guard let reason = T.after(r, ": ") ?? T.after(r, " ").flatMap({ T.split2($0, ": ")?.1 }) else { return .some(nil) }
            return [("event", .string("disconnecting")), ("reason", str(reason))]
        case "banner_exchange": return [("event", .string("banner_exchange_failed")), ("reason", str(r))]
        default:
            return .none
        }
    }

    func disconnect(_ r: Substring) -> [(String, JSONValue)] {
        typealias T = OpenSSHText
        var e: [(String, JSONValue)] = [("event", .string("disconnect_received"))]
        // 7.2+: "<ip> port <port>:<code>: <text>"; ≤7.1: "<ip>: <code>: <text>"
        if let (who, rest) = T.split2(r, " port ") {
            e.append(("address", .string(String(who))))
            if let (p, tail) = T.split2(rest, ":") {
                e.append(("port", T.intOrText(p)))
                if let (code, text) = T.split2(tail, ": ") {
                    e.append(("code", T.intOrText(code)))
                    e.append(("text", .string(String(text))))
                } else {
                    e.append(("text", .string(String(tail.trimmingSpaces))))
                }
            }
        } else if let (who, tail) = T.split2(r, ": ") {
            e.append(("address", .string(String(who))))
            if let (code, text) = T.split2(tail, ": "), let c = T.int(code) {
                e.append(("code", .int(c)))
                e.append(("text", .string(String(text))))
            } else {
                e.append(("text", .string(String(tail))))
            }
        }
        return e
    }

    func peerFacts(_ r: Substring, event: String) -> [(String, JSONValue)] {
        var e: [(String, JSONValue)] = [("event", .string(event))]
        if let (a, p) = OpenSSHText.split2(r, " port ") {
            e.append(("address", .string(String(a))))
            e.append(("port", OpenSSHText.intOrText(p)))
        } else {
            e.append(("address", .string(String(r))))
        }
        return e
    }
}
