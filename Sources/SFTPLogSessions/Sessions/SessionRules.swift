import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH

/// `catalog/session-rules.json`: which SFTPPlus events open and close
/// connections, authenticate, carry negotiated algorithms, and which are file
/// operations. Data, so new events need no code change.
public struct SessionRules: Sendable {
    public final class OperationRule: Sendable {
        public let op: FileOperation
        public let phase: String
        public let path: String?, to: String?, realPath: String?, mode: String?
        public let bytes: String?, bytesRead: String?, bytesWritten: String?, speed: String?, duration: String?

        init(_ v: [String: String]) {
            op = FileOperation(v["op"] ?? ""); phase = v["phase"] ?? ""
            path = v["path"]; to = v["to"]; realPath = v["real_path"]; mode = v["mode"]
            bytes = v["bytes"]; bytesRead = v["bytes_read"]; bytesWritten = v["bytes_written"]; speed = v["speed"]; duration = v["duration"]
        }
    }

    public var serverOpen: Set<String> = []
    public var serverClose: Set<String> = []
    public var serverNegotiation: Set<String> = []
    public var authSuccess: Set<String> = []
    public var authFailure: Set<String> = []
    public var clientOpen: Set<String> = []
    public var clientConnected: Set<String> = []
    public var clientClose: Set<String> = []
    public var clientNegotiation: Set<String> = []
    public var locationFields: [String] = ["location", "name"]
    public var operations: [String: OperationRule] = [:]
    public var openModes: [String: String] = [:]

    /// Everything the rules say about one event ID, looked up once per record.
    public struct Role: Sendable {
        public var serverOpen = false, serverClose = false, serverNegotiation = false
        public var authSuccess = false, authFailure = false
        public var client = false, clientNegotiation = false
        public var operation: OperationRule?
        public var any: Bool { serverOpen || serverClose || authSuccess || authFailure || client || operation != nil }
        /// A role other than a file operation's.
        public var anyButOperation: Bool {
            serverOpen || serverClose || serverNegotiation || authSuccess || authFailure || client || clientNegotiation
        }
    }
    private var roles = EventIDTable<Role>([:])
    static let noRole = Role()

    @inline(__always) public func role(_ id: String) -> Role { roles[id] ?? SessionRules.noRole }

    mutating func indexRoles() {
        var r: [String: Role] = [:]
        for id in eventIDsWithFields {
            var x = Role()
            x.serverOpen = serverOpen.contains(id); x.serverClose = serverClose.contains(id)
            x.serverNegotiation = serverNegotiation.contains(id)
            x.authSuccess = authSuccess.contains(id); x.authFailure = authFailure.contains(id)
            x.client = clientOpen.contains(id) || clientConnected.contains(id) || clientClose.contains(id)
            x.clientNegotiation = clientNegotiation.contains(id)
            x.operation = operations[id]
            r[id] = x
        }
        roles = EventIDTable(r)
    }

    /// Events whose field values the session builder reads.
    public var eventIDsWithFields: Set<String> {
        serverOpen.union(serverClose).union(serverNegotiation).union(authSuccess).union(authFailure)
            .union(clientOpen).union(clientConnected).union(clientClose).union(clientNegotiation).union(operations.keys)
    }

    public static func load(path: String) throws -> SessionRules {
        guard let data = CatalogFiles.contents(atPath: path), let root = JSONValue.parse(data), root.objectValue != nil else {
            throw CatalogError.malformed(path, "expected a JSON object")
        }
        func set(_ o: JSONValue?, _ k: String) -> Set<String> { Set(o?[k]?.texts ?? []) }
        func strings(_ o: JSONValue?) -> [String: String] {
            var out: [String: String] = [:]
            for (k, v) in o?.objectValue ?? [] { if let s = v.textValue { out[k] = s } }
            return out
        }
        var r = SessionRules()
        let server = root["server"], client = root["client"]
        r.serverOpen = set(server, "open"); r.serverClose = set(server, "close"); r.serverNegotiation = set(server, "negotiation")
        r.authSuccess = set(server, "auth_success"); r.authFailure = set(server, "auth_failure")
        r.clientOpen = set(client, "open"); r.clientConnected = set(client, "connected"); r.clientClose = set(client, "close")
        r.clientNegotiation = set(client, "negotiation")
        r.locationFields = client?["location_fields"]?.texts ?? r.locationFields
        for (id, v) in root["operations"]?.objectValue ?? [] {
            let rule = strings(v)
            guard rule["op"] != nil, rule["phase"] != nil else { continue }
            r.operations[id] = OperationRule(rule)
        }
        r.openModes = strings(root["open_modes"])
        r.indexRoles()
        return r
    }

    /// Loaded once per process.
    public static func bundled() throws -> SessionRules { try loaded.get() }

    private static let loaded: Result<SessionRules, Error> = Result { try load(path: EventCatalog.catalogDirectory() + "/session-rules.json") }
}
