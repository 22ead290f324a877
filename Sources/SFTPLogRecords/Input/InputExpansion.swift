import Foundation

/// Turns what the user named (files, directories, `-`) into the list of files
/// to read, oldest content first: rotated logs (`server.log.1`,
/// `server.log.2025-03-11-15-34-00`, `.gz`) are read in time order whatever
/// order they were named or listed in, so sessions spanning a rotation join up.
public enum InputExpansion {
    public struct Options: Sendable {
        /// Shell pattern matched against file names found inside directories.
        public var glob: String?
        /// Descend into subdirectories.
        public var recursive = true
        /// sftplog's own files (the database being written and its companions,
        /// a watch's spool folder), never read as logs from a directory.
        public var excluding: Excluded
        public init(glob: String? = nil, recursive: Bool = true, excluding: [String] = []) {
            self.glob = glob; self.recursive = recursive; self.excluding = Excluded(excluding)
        }
    }

    /// Paths, and everything under them, matched however they are spelled
    /// (relative, with `..`, through a symbolic link).
    public struct Excluded: Sendable {
        private var paths: Set<String> = []

        init(_ list: [String]) { for p in list { add(p) } }

        public mutating func add(_ path: String) { paths.formUnion(Excluded.spellings(path)) }

        func contains(_ path: String) -> Bool {
            guard !paths.isEmpty else { return false }
            for p in Excluded.spellings(path) {
                var q = p
                while true {
                    if paths.contains(q) { return true }
                    let parent = (q as NSString).deletingLastPathComponent
                    if parent == q || parent.isEmpty { break }
                    q = parent
                }
            }
            return false
        }

        /// The absolute path without `.` and `..`, and with its folder's links resolved.
        static func spellings(_ path: String) -> [String] {
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            let plain = (absolute as NSString).standardizingPath
            let dir = (plain as NSString).deletingLastPathComponent
            guard let real = realpath(dir, nil) else { return [plain] }
            defer { free(real) }
            let resolved = (String(cString: real) as NSString).appendingPathComponent((plain as NSString).lastPathComponent)
            return resolved == plain ? [plain] : [plain, resolved]
        }
    }

    /// Files named directly are kept even if they do not match the glob; files
    /// found in directories must match it and must not be hidden.
    public static func expand(_ names: [String], options: Options = Options()) throws -> [String] {
        var files: [String] = []
        var seen = Set<String>()
        func add(_ path: String) {
            let key = realpath(path, nil).map { p -> String in defer { free(p) }; return String(cString: p) } ?? path
            if seen.insert(key).inserted { files.append(path) }
        }
        for name in names {
            if isDirectory(name) {
                try walk(name, options: options, add: add)
            } else {
                add(name)
            }
        }
        // Order everything that is a regular file by its content's start time;
        // stdin stays where it was named (it cannot be peeked at without consuming it).
        // So do pipes and FIFOs (`<(zcat …)`): peeking would consume them, or hang.
        if files.contains(where: { !isRegularFile($0) }) { return files }
        return inTimeOrder(files)
    }

    /// Whether `path` names a directory (`-` never does).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return path != "-" && stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return path != "-" && stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    static func walk(_ dir: String, options: Options, add: (String) -> Void) throws {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw InputError.cannotOpen(path: dir, reason: "cannot list directory")
        }
        for entry in entries.sorted() where !entry.hasPrefix(".") {
            let path = dir.hasSuffix("/") ? dir + entry : dir + "/" + entry
            var st = stat()
            guard stat(path, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                if options.recursive, !options.excluding.contains(path) { try walk(path, options: options, add: add) }
            case S_IFREG:
                if let g = options.glob, fnmatch(g, entry, 0) != 0 { continue }
                if options.excluding.contains(path) { continue }
                add(path)
            default:
                continue
            }
        }
    }

    /// Sort key: the first timestamp in the file's first 64 KiB, else its
    /// modification time; ties broken by rotation rank (`.2` before `.1`
    /// before the live file).
    public static func inTimeOrder(_ files: [String]) -> [String] {
        let keyed = files.enumerated().map { (i, f) in (f, startTime(f), rotationRank(f), i) }
        return keyed.sorted { a, b in
            if a.1 != b.1 { return a.1 < b.1 }
            if a.2 != b.2 { return a.2 > b.2 }
            return a.3 < b.3
        }.map(\.0)
    }

    static func startTime(_ path: String) -> Double {
        guard let src = try? InputSource.open(path) else { return .infinity }
        defer { src.close() }
        let head = (try? src.readUpTo(64 << 10)) ?? []
        if let t = firstTimestamp(head) { return t }
        var st = stat()
        return stat(path, &st) == 0 ? Double(st.st_mtim.tv_sec) : .infinity
    }

    /// The first ISO-8601-like stamp (`YYYY-MM-DD[T ]hh:mm:ss`) in the bytes, as epoch seconds.
    static func firstTimestamp(_ bytes: [UInt8]) -> Double? {
        bytes.withUnsafeBufferPointer { p -> Double? in
            var i = 0
            let n = p.count
            while i + 19 <= n {
                // Cheap pre-check before the full scanner: digit digit digit digit '-'.
                if p[i] >= 0x30 && p[i] <= 0x39 && p[i + 4] == 0x2D && p[i + 7] == 0x2D,
                   i == 0 || !(p[i - 1] >= 0x30 && p[i - 1] <= 0x39),
                   let (ts, _) = TimestampScanner.iso(p, at: i), ts.isValid {
                    return ts.epoch(in: TimeZone(identifier: "UTC")!)
                }
                i += 1
            }
            return nil
        }
    }

    /// The log a file is a rotation of: its folder and name without the marks
    /// rotation adds (`server.log.3`, `server.log.2025-03-11-15-34-00`,
    /// `server-20251101.log`, `.gz`). Files with one family are one log cut in
    /// pieces, so a session open at the end of one continues in the next.
    /// Only a short number after a dot or a date (eight digits or more) count:
    /// `node-2.log` is another server's log, not a rotation of `node.log`.
    public static func logFamily(_ path: String) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        var name = Substring((path as NSString).lastPathComponent)
        func stripCompression() {
            for ext in [".gz", ".bz2", ".xz", ".zst"] where name.lowercased().hasSuffix(ext) && name.count > ext.count {
                name = name.dropLast(ext.count)
            }
        }
        /// Drops rotation marks from the end of `s`.
        func stripMarks(_ s: Substring) -> Substring {
            var s = s
            while true {
                if let dot = s.lastIndex(of: "."), dot > s.startIndex {
                    let tail = s[s.index(after: dot)...]
                    if (1...4).contains(tail.count), tail.allSatisfy(\.isASCII), tail.allSatisfy(\.isNumber) { s = s[..<dot]; continue }
                }
                // A date (and time) suffix: digits with - _ T : between them, eight digits at least.
                var i = s.endIndex, digits = 0
                while i > s.startIndex {
                    let c = s[s.index(before: i)]
                    guard c.isASCII, c.isNumber || "-_T:".contains(c) else { break }
                    if c.isNumber { digits += 1 }
                    i = s.index(before: i)
                }
                while i < s.endIndex, !s[i].isNumber { i = s.index(after: i) }  // the separator before the date
                guard digits >= 8, i > s.startIndex, ".-_".contains(s[s.index(before: i)]) else { return s }
                s = s[..<s.index(before: i)]
            }
        }
        stripCompression()
        name = stripMarks(name)
        // `server-20251101.log`: marks before the extension.
        if let dot = name.lastIndex(of: "."), dot > name.startIndex {
            let ext = name[dot...]
            if ext.dropFirst().allSatisfy(\.isLetter) { name = stripMarks(name[..<dot]) + ext }
        }
        return dir.isEmpty ? String(name) : dir + "/" + name
    }

    /// How many rotations ago a file was written, from its name: `x.log.3` → 3,
    /// `x.log.3.gz` → 3; timestamped or live names → 0.
    static func rotationRank(_ path: String) -> Int {
        var parts = (path as NSString).lastPathComponent.split(separator: ".")
        while let last = parts.last, ["gz", "bz2", "xz"].contains(last.lowercased()) { parts.removeLast() }
        if parts.count >= 2, let last = parts.last, last.count <= 4, let n = Int(last) { return n }
        return 0
    }
}
