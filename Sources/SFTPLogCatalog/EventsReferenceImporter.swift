import Foundation
import SFTPLogRecords

/// Reads an SFTPPlus events reference page in reStructuredText (the format of
/// `events.rst` / `events-<area>.rst`): an ID heading underlined with `^`,
/// then `:Message:`, `:Groups:`, `:From version:`, `:To version:`, `:Data:`.
public enum EventsReferenceImporter {
    public struct Entry: Equatable, Sendable {
        public var id: String
        public var message: String
        public var groups: [String]
        public var fromVersion: String?
        public var toVersion: String?
        public var dataKeys: [String]
    }

    public static func parse(_ text: String) -> [Entry] {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var out: [Entry] = []
        var i = 0
        while i < lines.count {
            let head = lines[i].trimmingCharacters(in: .whitespaces)
            if !head.isEmpty, head.allSatisfy(\.isNumber), i + 1 < lines.count,
               lines[i + 1].hasPrefix("^"), lines[i + 1].allSatisfy({ $0 == "^" }) {
                var e = Entry(id: head, message: "", groups: [], fromVersion: nil, toVersion: nil, dataKeys: [])
                var j = i + 2
                var inData = false
                var lastField: String?
                while j < lines.count {
                    let l = lines[j]
                    let t = l.trimmingCharacters(in: .whitespaces)
                    if !t.isEmpty, t.allSatisfy(\.isNumber), j + 1 < lines.count, lines[j + 1].hasPrefix("^") { break }
                    if l.hasPrefix(":") {
                        inData = false
                        let (name, value) = field(l)
                        lastField = name
                        switch name {
                        case "message": e.message = value
                        case "groups": e.groups = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
                        case "from version": e.fromVersion = value == "None" ? nil : value
                        case "to version": e.toVersion = (value == "None" || value.isEmpty) ? nil : value
                        case "data": inData = true
                        default: break
                        }
                    } else if inData, t.hasPrefix(":") {
                        let (name, _) = field(t)
                        e.dataKeys.append(name)
                    } else if !t.isEmpty, l.first == " ", lastField == "message", !inData {
                        e.message += " " + t  // a wrapped message continues indented
                    } else if t.isEmpty {
                        if lastField == "message" { lastField = nil }
                    }
                    j += 1
                }
                e.message = decodeEntities(e.message)
                if !e.message.isEmpty { out.append(e) }
                i = j
            } else {
                i += 1
            }
        }
        return out
    }

    static func field(_ l: String) -> (String, String) {
        let body = l.drop(while: { $0 == " " }).dropFirst()
        guard let close = body.firstIndex(of: ":") else { return (String(body).lowercased(), "") }
        return (String(body[..<close]).lowercased(), body[body.index(after: close)...].trimmingCharacters(in: .whitespaces))
    }

    static func decodeEntities(_ s: String) -> String {
        var out = s
        for (k, v) in [("&#34;", "\""), ("&quot;", "\""), ("&#39;", "'"), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: k, with: v)
        }
        return out
    }

    /// Field names used as `%(name)s` in a template, in order, each once.
    static func fieldNames(_ template: String) -> [String] {
        var names: [String] = []
        for p in EventTemplate.compile(template) { if case .field(let f) = p, !names.contains(f) { names.append(f) } }
        return names
    }

    /// Turns entries into catalogue wordings labelled with the documentation's version.
    public static func templates(_ entries: [Entry], version: String?, catalog: EventCatalog) -> [EventTemplate] {
        var next: [String: Int] = [:]
        return entries.map { e in
            let n = (next[e.id] ?? (catalog.events[e.id]?.variants.map(\.variant).max() ?? 0)) + 1
            next[e.id] = n
            return EventTemplate(eventID: e.id, variant: n, template: e.message, fields: fieldNames(e.message), groups: e.groups.sorted(),
                                 fromVersion: e.fromVersion, toVersion: e.toVersion, documentedIn: version.map { [$0] } ?? [],
                                 seenIn: [], inferred: false, description: nil)
        }
    }
}

/// Wordings users imported (`catalog import`), kept beside the bundled catalogue
/// in `$SFTPLOG_DATA` (default `${XDG_DATA_HOME:-~/.local/share}/sftplog`).
public enum ImportedCatalog {
    public static var path: String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["SFTPLOG_DATA"], !d.isEmpty { return d + "/imported-events.json" }
        let base = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.local/share")
        return base + "/sftplog/imported-events.json"
    }

    public static func load() -> [EventTemplate] {
        guard let data = FileManager.default.contents(atPath: path), let list = JSONValue.parse(data)?.arrayValue,
              list.allSatisfy({ $0.objectValue != nil }) else { return [] }
        return list.compactMap { v in
            guard let id = v["id"]?.textValue, let t = v["template"]?.textValue else { return nil }
            return EventTemplate(eventID: id, variant: v["variant"]?.intValue ?? 0, template: t, fields: v["fields"]?.texts ?? [],
                                 groups: v["groups"]?.texts ?? [], fromVersion: v["from_version"]?.textValue,
                                 toVersion: v["to_version"]?.textValue, documentedIn: v["documented_in"]?.texts ?? [],
                                 seenIn: [], inferred: false, description: nil)
        }
    }

    /// Appends wordings not yet known and writes the file atomically; returns how many were new.
    public static func save(adding templates: [EventTemplate], to catalog: EventCatalog) throws -> Int {
        var existing = load()
        var added = 0
        for t in templates where !existing.contains(where: { $0.eventID == t.eventID && $0.template == t.template })
            && !(catalog.events[t.eventID]?.variants.contains(where: { $0.template == t.template }) ?? false) {
            existing.append(t)
            added += 1
        }
        let json = JSONValue.array(existing.map { t in
            .object([("id", .string(t.eventID)), ("variant", .int(t.variant)), ("template", .string(t.template)),
                     ("fields", .array(t.fields.map(JSONValue.string))), ("groups", .array(t.groups.map(JSONValue.string))),
                     ("from_version", t.fromVersion.map(JSONValue.string) ?? .null), ("to_version", t.toVersion.map(JSONValue.string) ?? .null),
                     ("documented_in", .array(t.documentedIn.map(JSONValue.string)))])
        }).json
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(json.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        return added
    }
}
