import Foundation
import SFTPLogRecords

/// Reads the catalogue's data files: from disk, or, for a `make dist` binary
/// that has no catalogue directory beside it, from the copy appended to the
/// executable itself (one file to copy to a server).
///
/// The appended copy is `entries` then a 16-byte trailer: the entries' length
/// (UInt64, little-endian) and the magic `SFTPLOGC`. Each entry is a name
/// length (UInt32 LE), the name (relative to the catalogue directory), a data
/// length (UInt64 LE) and the data. `catalog/tools/embed-catalog.py` writes it.
public enum CatalogFiles {
    static let magic = Array("SFTPLOGC".utf8)

    /// The file at `path`; when there is none and `path` names a file of the
    /// default catalogue directory, the executable's embedded copy of it.
    public static func contents(atPath path: String) -> Data? {
        if let data = FileManager.default.contents(atPath: path) { return data }
        let dir = EventCatalog.catalogDirectory() + "/"
        guard path.hasPrefix(dir), let embedded else { return nil }
        return embedded[String(path.dropFirst(dir.count))]
    }

    /// The executable's own copy, read once (nil for a build without one).
    private static let embedded: [String: Data]? = readEmbedded()

    static func readEmbedded() -> [String: Data]? {
        guard let exe = FileHandle(forReadingAtPath: "/proc/self/exe") else { return nil }
        defer { try? exe.close() }
        guard let size = try? exe.seekToEnd(), size >= 16 else { return nil }
        try? exe.seek(toOffset: size - 16)
        guard let trailer = try? exe.read(upToCount: 16), trailer.count == 16, Array(trailer.suffix(8)) == magic else { return nil }
        let length = trailer.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= size - 16 else { return nil }
        try? exe.seek(toOffset: size - 16 - length)
        guard let payload = try? exe.read(upToCount: Int(length)), payload.count == Int(length) else { return nil }
        return entries([UInt8](payload))
    }

    /// The entries of a payload; nil when it is malformed.
    static func entries(_ b: [UInt8]) -> [String: Data]? {
        var out: [String: Data] = [:]
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var v = 0
            for k in 0..<width { v |= Int(b[i + k]) << (8 * k) }
            i += width
            return v >= 0 && v <= b.count ? v : nil
        }
        while i < b.count {
            guard let nameLength = number(4), i + nameLength <= b.count else { return nil }
            let name = String(decoding: b[i..<i + nameLength], as: UTF8.self)
            i += nameLength
            guard let dataLength = number(8), i + dataLength <= b.count else { return nil }
            out[name] = Data(b[i..<i + dataLength])
            i += dataLength
        }
        return out
    }
}
