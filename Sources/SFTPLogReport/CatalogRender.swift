import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// Renders catalogue entries for `catalog show` / `catalog search`.
public enum CatalogRender {
    public static func json(_ e: CatalogEvent, catalog: EventCatalog) -> JSONValue {
        .object([
            ("id", .string(e.id)), ("area", e.area.map(JSONValue.string) ?? .null),
            ("description", e.description.map(JSONValue.string) ?? .null),
            ("variants", .array(e.variants.map { t in
                .object([
                    ("variant", .int(t.variant)), ("template", .string(t.template)),
                    ("fields", .array(t.fields.map(JSONValue.string))), ("groups", .array(t.groups.map(JSONValue.string))),
                    ("versions", t.versions.map(JSONValue.string) ?? .null),
                    ("writable_by", VersionInference.writableRange(t, in: catalog).map { .string($0.description) } ?? .null),
                    ("from_version", t.fromVersion.map(JSONValue.string) ?? .null), ("to_version", t.toVersion.map(JSONValue.string) ?? .null),
                    ("documented_in", .array(t.documentedIn.map(JSONValue.string))),
                    ("inferred", .bool(t.inferred)), ("seen_in", .array(t.seenIn.map(JSONValue.string))),
                    ("description", t.description.map(JSONValue.string) ?? .null),
                ])
            })),
        ])
    }

    public static func json(_ h: CatalogSearch.Hit) -> JSONValue {
        .object([("id", .string(h.eventID)), ("area", h.area.map(JSONValue.string) ?? .null),
                 ("description", h.description.map(JSONValue.string) ?? .null), ("variant", .int(h.variant)),
                 ("template", .string(h.template)), ("groups", .array(h.groups.map(JSONValue.string))),
                 ("versions", h.versions.map(JSONValue.string) ?? .null), ("score", .double((h.score * 1000).rounded() / 1000))])
    }

    public static func text(_ e: CatalogEvent, catalog: EventCatalog) -> String {
        var out = "Event \(e.id)" + (e.area.map { " (\($0))" } ?? "") + "\n"
        if let d = e.description {
            out += "  \(d)\n"
        } else if !e.variants.isEmpty, e.variants.allSatisfy({ $0.description != nil }) {
            out += "  The ID was reused: its meaning depends on the wording (below).\n"
        } else {
            out += "  No description written yet for this event.\n"
        }
        for t in e.variants {
            out += "\nWording \(t.variant)" + (t.inferred ? " (inferred from logs, seen in \(t.seenIn.joined(separator: ", ")))" : "") + "\n"
            out += "  " + TextEscaper.terminalSafe(t.template) + "\n"
            if let d = t.description { out += "  meaning:    \(d)\n" }
            out += "  documented: \(t.versions ?? "not in any documentation snapshot")"
            if let w = VersionInference.writableRange(t, in: catalog) { out += "  (written by \(w))" }
            out += "\n"
            out += "  groups:     \(t.groups.joined(separator: ", "))\n"
            out += "  fields:     \(t.fields.isEmpty ? "none" : t.fields.joined(separator: ", "))\n"
        }
        return out
    }
}
