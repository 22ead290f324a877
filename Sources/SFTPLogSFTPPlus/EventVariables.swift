import Foundation
import SFTPLogRecords

/// Maps SFTPPlus context-variable values (from an `entry_content` format, a CSV
/// header or a JSON event) onto a record's columns. Timestamp variables combine
/// into one instant: the most informative rendering wins (an offset beats none,
/// more fraction digits beat fewer), and Unix seconds are used when nothing
/// textual carries an offset.
enum EventVariables {
    static func apply(_ values: [(String, String)], to r: inout Record) -> String? {
        var stamps: [(LogTimestamp, Int)] = []
        var address: String?
        var port: String?
        var data: [(String, JSONValue)] = []
        for (name, value) in values {
            switch name {
            case "id": r.eventID = value
            case "message": r.message = value
            case "account.name": r.account = value
            case "component.uuid": r.component = value
            case "component.name":
                r.extra.append(("component_name", .string(value)))
                if r.component == nil { r.component = value }
            case "account.peer.address": address = value
            case "account.peer.port": port = value
            case "account.peer":
                if let pr = Peer.parse(text: value) { address = pr.address; port = pr.port.map(String.init) }
            case "data_json":
                if let v = JSONValue.parse(Array(value.utf8)), case .object(let pairs) = v { data += pairs }
                else { r.extra.append(("data_json", .string(value))) }
            case "timestamp.timestamp":
                if let ts = TimestampScanner.unix(value) { stamps.append((ts, 10 + ts.fractionCount)) }
                else { return "timestamp.timestamp \(value.debugDescription) is not Unix seconds" }
            default:
                if name.hasPrefix("timestamp.") {
                    let parsed: (LogTimestamp, Int)? = Array(value.utf8).withUnsafeBufferPointer { TimestampScanner.iso($0, at: 0) }
                    guard let (ts, end) = parsed, end == value.utf8.count else {
                        return "\(name) \(value.debugDescription) is not a timestamp"
                    }
                    stamps.append((ts, 1 + (ts.offsetSeconds != nil ? 10 : 0) + ts.fractionCount))
                } else if name.hasPrefix("data.") {
                    data.append((String(name.dropFirst(5)), .string(value)))
                } else {
                    r.extra.append((name.replacingOccurrences(of: ".", with: "_"), .string(value)))
                }
            }
        }
        // Score: an offset (10) beats none; more fraction digits beat fewer; text (1) beats
        // Unix seconds at equal information, since it is what the source showed.
        if let best = stamps.max(by: { $0.1 < $1.1 }) { r.timestamp = best.0 }
        if let a = address {
            var p: Int? = nil
            if let ps = port, let v = Int(ps), (0...65535).contains(v) { p = v }
            else if let ps = port, !ps.isEmpty {
                // Not silently dropped: say what was written where a port was expected.
                r.extra.append(("peer_note", .string("port \(ps.debugDescription) is not a port number (0–65535); not taken as a port")))
            }
            r.peer = Peer(address: a, port: p)
        }
        if !data.isEmpty { r.extra.append(("data", .object(data))) }
        return nil
    }
}
