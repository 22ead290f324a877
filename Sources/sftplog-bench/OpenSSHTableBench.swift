import Foundation
import SFTPLogKit

/// Loading and compiling the OpenSSH message table, and matching transcript lines
/// against it (each line's `debugN: ` prefix and CR removed first, as the reader does).
func benchOpenSSHTable(_ arguments: [String]) throws {
    var repeats = 1000, release: String?, files: [String] = []
    var rest = arguments[...]
    while let a = rest.popFirst() {
        switch a {
        case "--repeat": repeats = Int(rest.popFirst() ?? "") ?? repeats
        case "--release": release = rest.popFirst()
        default: files.append(a)
        }
    }
    let path = EventCatalog.catalogDirectory() + "/openssh-messages.json"
    var loads: [Double] = []
    var table: OpenSSHMessageTable?
    for _ in 0..<5 {
        let t0 = Date()
        table = try OpenSSHMessageTable.load(path: path)
        loads.append(Date().timeIntervalSince(t0) * 1000)
    }
    // The JSON reading alone, to tell it from the compiling.
    var parses: [Double] = []
    for _ in 0..<5 {
        let t0 = Date()
        _ = JSONValue.parse(FileManager.default.contents(atPath: path) ?? Data())
        parses.append(Date().timeIntervalSince(t0) * 1000)
    }
    let t = table!
    let s = t.summary
    print(String(format: "load+compile %@: %.1f ms (best of 5; runs %@ ms; reading the JSON alone %.1f ms)",
                 path as NSString, loads.min()!, loads.map { String(format: "%.1f", $0) }.joined(separator: " ") as NSString, parses.min()!))
    print("\(s.entries) entries, \(s.compiled) compiled, \(s.withoutLiteral) without literal text, \(s.indexedLines) lines indexed, \(s.fallbackLines) tried last")

    var lines: [(Substring, Int?)] = []
    for f in files {
        guard let data = FileManager.default.contents(atPath: f) else { throw CocoaError(.fileReadNoSuchFile) }
        // Split on the bytes: as Characters, CR LF is one and "\n" would not split it.
        for raw in data.split(separator: 0x0A, omittingEmptySubsequences: true) {
            var line = String(decoding: raw, as: UTF8.self)[...]
            if line.utf8.last == 0x0D { line = Substring(line.utf8.dropLast()) }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let u = Array(line.utf8.prefix(8))
            if u.count == 8, u[0..<5].elementsEqual("debug".utf8), u[5] >= 0x31, u[5] <= 0x33, u[6] == 0x3A, u[7] == 0x20 {
                lines.append((Substring(line.utf8.dropFirst(8)), Int(u[5] - 0x30)))
            } else {
                lines.append((line, nil))
            }
        }
    }
    var matched = 0
    let t0 = Date()
    for _ in 0..<repeats {
        for (body, level) in lines where t.match(message: body, level: level, release: release) != nil { matched += 1 }
    }
    let dt = Date().timeIntervalSince(t0)
    let n = lines.count * repeats
    print(String(format: "match%@: %d lines x %d = %d in %.2f s, %.0f lines/s, %.2f us/line; %.1f%% matched",
                 (release.map { " (release \($0))" } ?? "") as NSString, lines.count, repeats, n, dt, Double(n) / dt,
                 dt / Double(n) * 1e6, Double(matched) / Double(n) * 100))
}
