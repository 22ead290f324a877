import Foundation

/// Logs that appear in followed directories after following began (`watch`,
/// `--follow`), so that a log started later is read from its first line.
///
/// Rotation leaves files behind too, and those hold lines already read. So a
/// file is not new when it was seen before under any name (same device and
/// inode: a rename), when its path is already followed (a live log's own
/// follower reopens it), or when it is a rotated piece of a live log being
/// followed (`server.log.1`, `server.log.2026-12-06-00-00-00`, `.gz`: a copy,
/// as copytruncate and compression make).
public struct NewFileScan: Sendable {
    public let directories: [String]
    let options: InputExpansion.Options
    private struct FileID: Hashable, Sendable { var device: UInt64; var inode: UInt64 }
    /// Files present at the last scan. Ids of files since removed are let go, as the system may reuse them.
    private var known: Set<FileID> = []
    private var followed: Set<String> = []
    /// Logs followed under their live name (`server.log`), whose rotated pieces are not new.
    private var liveLogs: Set<String> = []

    /// `files`: what is followed already; everything in `directories` now is taken as seen.
    public init(directories: [String], options: InputExpansion.Options, following files: [String]) {
        self.directories = directories
        self.options = options
        for f in files { follow(f) }
        known = scan().present
    }

    /// Whether a path names a log as it is written, not one of its rotated pieces:
    /// only such a path is reopened when its file is rotated away, since the
    /// path of a rotated piece then names an older piece, already read.
    public static func isLiveName(_ path: String) -> Bool {
        (InputExpansion.logFamily(path) as NSString).lastPathComponent == (path as NSString).lastPathComponent
    }

    private mutating func follow(_ path: String) {
        let p = (path as NSString).standardizingPath
        followed.insert(p)
        if Self.isLiveName(p) { liveLogs.insert(p) }
    }

    /// The files that appeared since the last scan, now counted as followed.
    public mutating func newFiles() -> [String] {
        let (present, found) = scan()
        known = present
        for f in found { follow(f) }
        return found
    }

    private func scan() -> (present: Set<FileID>, found: [String]) {
        var present = Set<FileID>()
        var found: [String] = []
        for dir in directories {
            // A directory that cannot be listed now (removed, permissions) is tried again at the next scan.
            try? InputExpansion.walk(dir, options: options) { path in
                var st = stat()
                guard stat(path, &st) == 0 else { return }
                let id = FileID(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                present.insert(id)
                guard !known.contains(id) else { return }
                let p = (path as NSString).standardizingPath
                guard !followed.contains(p) else { return }
                if !Self.isLiveName(p), liveLogs.contains((InputExpansion.logFamily(p) as NSString).standardizingPath) { return }
                found.append(path)
            }
        }
        return (present, found)
    }
}
