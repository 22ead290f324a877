import Foundation
import SFTPLogRecords
import SFTPLogCatalog

/// Channels: the configuration read, the session channel opening (its output follows),
/// the status dump and the end of the connection.
extension OpenSSHLineClassifier {
    /// The values of a message read by one of this area's extractors (`openssh-events.json`);
    /// `.none` when `name` is not one of them.
    mutating func channelValues(_ name: String, _ r: Substring) -> [(String, JSONValue)]?? {
        typealias T = OpenSSHText
        func str(_ x: Substring) -> JSONValue { .string(String(x)) }
        switch name {
        case "config":
            inChannel = false
            return [("event", .string("config")), ("config_file", str(r))]
        case "subsystem":
            inChannel = true
            return [("event", .string("subsystem")), ("subsystem", str(r))]
        case "command":
            inChannel = true
            return [("event", .string("command")), ("command", str(r))]
        case "interactive":
            inChannel = true
            return [("event", .string("interactive"))]
        case "status_dump":
            guard let (n, rest) = T.split2(r, ": "), let ch = T.int(n),
                  rest.hasBytePrefix("status: The following connections are open:") else { return .some(nil) }
            inStatusDump = true
            return [("event", .string("status")), ("channel", .int(ch))]
        case "closed":
            // The session's end: nothing after it is remote output.
            guard r.hasSuffix(" closed.") else { return .some(nil) }
            inChannel = false; afterCommand = false
            return [("event", .string("closed")), ("host", str(r.dropLast(8)))]
        default:
            return .none
        }
    }
}
