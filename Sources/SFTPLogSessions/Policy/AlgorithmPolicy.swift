import Foundation
import Yams
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogOpenSSH

public enum PolicyError: Error, CustomStringConvertible {
    case unreadable(String, String)
    public var description: String {
        switch self { case .unreadable(let p, let why): return "\(p): cannot read policy: \(why)" }
    }
}

/// A rating of one algorithm name: `fail`, `warn`, `ok` (or `unknown` for names
/// the policy does not list), with our reason and the authority behind it.
public struct AlgorithmRating: Equatable, Sendable {
    public var rating: Rating
    public var reason: String
    public var reference: String
    public var notes: [String]
}

/// The SSH algorithm policy (`catalog/ssh-policy.json`), plain data like
/// ssh-audit's database, plus `--policy` override files (JSON or YAML, same
/// shape): an override replaces whole per-name entries and single rule keys.
public struct AlgorithmPolicy: Sendable {

    /// The effective policy as a JSON-like tree (what `--print-policy` prints).
    public private(set) var tree: [String: PolicyValue]
    public private(set) var sources: [String]

    public var name: String { tree["name"]?.string ?? "default" }

    init(tree: [String: PolicyValue], sources: [String]) {
        self.tree = tree
        self.sources = sources
    }

    public static func load(defaultPath: String, overrides: [String] = []) throws -> AlgorithmPolicy {
        var p = AlgorithmPolicy(tree: try readTree(defaultPath), sources: [defaultPath])
        for o in overrides { p.apply(try readTree(o), from: o) }
        return p
    }

    public static func bundled(overrides: [String] = []) throws -> AlgorithmPolicy {
        try load(defaultPath: EventCatalog.catalogDirectory() + "/ssh-policy.json", overrides: overrides)
    }

    static func readTree(_ path: String) throws -> [String: PolicyValue] {
        let tree = try parseTree(path)
        try checkRatings(.object(tree), path: path)
        return tree
    }

    /// Every `rating` in a policy file must be one of `Rating`'s: a typo would
    /// otherwise rate an algorithm as nothing at all.
    static func checkRatings(_ value: PolicyValue, path: String) throws {
        if let o = value.object {
            if let r = o["rating"] {
                guard let s = r.string, Rating(rawValue: s) != nil else {
                    throw PolicyError.unreadable(path, "rating \(r.json.json) is not one of "
                                                 + Rating.allCases.map(\.rawValue).joined(separator: ", "))
                }
            }
            for v in o.values { try checkRatings(v, path: path) }
        } else if let a = value.array {
            for v in a { try checkRatings(v, path: path) }
        }
    }

    package static func parseTree(_ path: String) throws -> [String: PolicyValue] {
        guard let data = CatalogFiles.contents(atPath: path) else { throw PolicyError.unreadable(path, "no such file") }
        if let json = JSONValue.parse(data), case .object(let tree) = PolicyValue(json) { return tree }
        do {
            guard let obj = try Yams.load(yaml: String(decoding: data, as: UTF8.self)) as? [String: Any] else {
                throw PolicyError.unreadable(path, "expected a mapping at the top")
            }
            return obj.mapValues(PolicyValue.init(yaml:))
        } catch let e as PolicyError {
            throw e
        } catch {
            throw PolicyError.unreadable(path, "neither JSON nor YAML (\(error))")
        }
    }

    mutating func apply(_ o: [String: PolicyValue], from path: String) {
        sources.append(path)
        for key in ["name", "description"] { if let v = o[key] { tree[key] = v } }
        var algos = tree["algorithms"]?.object ?? [:]
        for (cat, entries) in o["algorithms"]?.object ?? [:] {
            var current = algos[cat]?.object ?? [:]
            for (name, entry) in entries.object ?? [:] { current[name] = entry }
            algos[cat] = .object(current)
        }
        tree["algorithms"] = .object(algos)
        if let pats = o["patterns"]?.array, pats.allSatisfy({ $0.object != nil }) {
            // Override patterns go first so they win over the defaults.
            tree["patterns"] = .array(pats + (tree["patterns"]?.array ?? []))
        }
        var rules = tree["rules"]?.object ?? [:]
        for (rule, value) in o["rules"]?.object ?? [:] {
            if var existing = rules[rule]?.object, let patch = value.object {
                for (k, v) in patch { existing[k] = v }
                rules[rule] = .object(existing)
            } else {
                rules[rule] = value
            }
        }
        tree["rules"] = .object(rules)
    }

    var markers: Set<String> { Set(tree["markers"]?.strings ?? []) }

    /// Rating of a name in a category: exact entry, else the longest matching
    /// prefix/suffix pattern, else `unknown` (never silently ok).
    public func rate(_ category: AlgorithmCategory, _ name: String) -> AlgorithmRating {
        if let r = tree["algorithms"]?[category.rawValue]?[name]?.object {
            return AlgorithmPolicy.rating(r)
        }
        var best: ([String: PolicyValue], Int)?
        for p in (tree["patterns"]?.array ?? []).compactMap(\.object) where p["category"]?.string == category.rawValue {
            var len = -1
            if let pre = p["prefix"]?.string, name.hasPrefix(pre) { len = pre.count }
            if let suf = p["suffix"]?.string, name.hasSuffix(suf) { len = max(len, suf.count) }
            if len >= 0, best == nil || len > best!.1 { best = (p, len) }
        }
        if let (p, _) = best { return AlgorithmPolicy.rating(p) }
        return AlgorithmRating(rating: .unknown, reason: "not in the algorithm policy: rate it in a --policy file", reference: "", notes: [])
    }

    static func rating(_ r: [String: PolicyValue]) -> AlgorithmRating {
        AlgorithmRating(rating: r["rating"]?.string.flatMap(Rating.init(rawValue:)) ?? .unknown, reason: r["reason"]?.string ?? "",
                        reference: r["reference"]?.string ?? "", notes: r["notes"]?.strings ?? [])
    }

    func rule(_ name: String) -> [String: PolicyValue] { tree["rules"]?[name]?.object ?? [:] }

    func note(_ name: String) -> (report: Bool, rating: Rating, reason: String, reference: String)? {
        guard let n = rule("notes")[name]?.object else { return nil }
        return (n["report"]?.bool ?? true, n["rating"]?.string.flatMap(Rating.init(rawValue:)) ?? .info, n["reason"]?.string ?? "",
                n["reference"]?.string ?? "")
    }

    /// The effective policy as pretty JSON, keys sorted.
    public func printable() throws -> String {
        PolicyValue.object(tree).json.prettyJSON
    }
}
