import Foundation
import XCTest
import SFTPLogKit

/// A small deterministic generator (SplitMix64), so a failing run can be replayed.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

public enum Harness {
    /// The repository's OpenSSH message table.
    public static let opensshTable: OpenSSHMessageTable = {
        try! OpenSSHMessageTable.load(path: Paths.repo.appendingPathComponent("catalog/openssh-messages.json").path)
    }()

    public static let catalog: EventCatalog = {
        setenv("SFTPLOG_CATALOG", Paths.repo.appendingPathComponent("catalog").path, 1)
        return try! EventCatalog.shared()
    }()

    /// Parses a file the way `sftplog parse` does.
    public static func parse(_ path: String, options: ReaderOptions = ReaderOptions(timeZone: TimeZone(identifier: "UTC")!),
                      resolve: Bool = true) throws -> [Record] {
        let stream = RecordStream(options: options, catalog: resolve ? catalog : nil)
        let src = try InputSource.open(path)
        defer { src.close() }
        let reader = stream.makeReader(file: path, fileYear: src.modificationYear, format: nil, readerState: nil)
        var out: [Record] = []
        try stream.run(src, reader: reader) { out.append($0) }
        return out
    }

    /// Parses bytes written to a temporary file.
    public static func parse(bytes: [UInt8], options: ReaderOptions = ReaderOptions(timeZone: TimeZone(identifier: "UTC")!)) throws -> [Record] {
        let dir = Paths.tempDir()
        let path = dir.appendingPathComponent("input.log").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(at: dir) }
        return try parse(path, options: options)
    }

    public static func parse(text: String, options: ReaderOptions = ReaderOptions(timeZone: TimeZone(identifier: "UTC")!)) throws -> [Record] {
        try parse(bytes: Array(text.utf8), options: options)
    }

    public static func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Reader options a truth file's `parse_options` ask for.
    public static func options(from truth: [String: Any]) throws -> ReaderOptions {
        var o = ReaderOptions(timeZone: TimeZone(identifier: "UTC")!)
        let po = truth["parse_options"] as? [String: Any] ?? [:]
        if let f = po["entry_format"] as? String { o.entryFormat = try EntryFormat(f) }
        if let y = po["year"] as? Int { o.year = y }
        return o
    }
}

/// Timestamps compared by wall-clock fields and fraction value, ignoring how
/// many fraction digits were printed and (optionally) the offset.
public func sameInstantText(_ ours: String?, _ truth: String?, ignoreOffset: Bool) -> Bool {
    guard let ours, let truth else { return ours == nil && truth == nil }
    func split(_ s: String) -> (String, Double, String) {
        var body = s
        var zone = ""
        if body.hasSuffix("Z") { zone = "Z"; body.removeLast() }
        else if body.count > 19, let idx = body.lastIndex(where: { $0 == "+" || $0 == "-" }), body.distance(from: body.startIndex, to: idx) >= 19 {
            zone = String(body[idx...]); body = String(body[..<idx])
        }
        let wall = String(body.prefix(19))
        let frac = body.count > 20 ? Double("0." + body.dropFirst(20)) ?? 0 : 0
        return (wall, frac, zone)
    }
    let a = split(ours), b = split(truth)
    return a.0 == b.0 && abs(a.1 - b.1) < 0.0005 && (ignoreOffset || a.2 == b.2)
}

public func stringValue(_ v: JSONValue?) -> String? {
    guard let v else { return nil }
    if case .null = v { return nil }
    return v.stringValue
}
