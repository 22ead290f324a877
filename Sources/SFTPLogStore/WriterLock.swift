import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
#endif

/// One writing process per database (store safety).
///
/// SQLite's own locking (WAL, IMMEDIATE write transactions, busy timeout)
/// keeps every transaction whole, but an ingest decides whether a source is
/// new *before* its first transaction: two concurrent ingests of the same file
/// would each find nothing stored and insert it twice. So a process that opens
/// a database for writing takes an exclusive `flock` on `<database>-lock` and
/// keeps it until it exits; another one waits for it. The kernel drops the
/// lock when the holder dies (even by SIGKILL), so a killed ingest never
/// leaves the database locked. The lock file is empty and left in place.
/// Readers (`query`, reports) never wait for it; `holdOffWriters` lets a
/// reader that reads on several connections start them on one snapshot.
enum WriterLock {
    /// Lock files this process holds, by (device, inode): opening the same
    /// database again (by another spelling of its path) must not wait on itself.
    private static let held = Mutex<[String: Int32]>([:])

    static func lockPath(databasePath: String) -> String {
        URL(fileURLWithPath: databasePath).resolvingSymlinksInPath().path + "-lock"
    }

    static func acquire(databasePath: String, waiting: (() -> Void)?) throws {
        if databasePath.isEmpty || databasePath == ":memory:" { return }
        let path = lockPath(databasePath: databasePath)
        // Read-only is enough for flock: a lock file another user created still opens.
        let fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError.cannotOpen(path: databasePath, reason: "cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { close(fd); return }
        let key = "\(st.st_dev):\(st.st_ino)"
        try held.withLock { held in
            if held[key] != nil { close(fd); return }  // ours already; closing this other descriptor keeps the flock
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK else {
                    let e = errno
                    close(fd)
                    throw StoreError.cannotOpen(path: databasePath, reason: "cannot lock \(path): \(String(cString: strerror(e)))")
                }
                // Readers starting on one snapshot (`holdOffWriters`) hold the file for
                // milliseconds: give them that long before saying a writer is at work.
                var taken = false
                for _ in 0..<20 where !taken {
                    usleep(10_000)
                    taken = flock(fd, LOCK_EX | LOCK_NB) == 0
                }
                if !taken {
                    waiting?()
                    while flock(fd, LOCK_EX) != 0 {
                        if errno == EINTR { continue }
                        let e = errno
                        close(fd)
                        throw StoreError.cannotOpen(path: databasePath, reason: "cannot lock \(path): \(String(cString: strerror(e)))")
                    }
                }
            }
            held[key] = fd
        }
    }

    /// A shared lock on the lock file, taken only if no writer holds it: while
    /// held, no sftplog process can start writing, so read transactions begun
    /// on several connections see the same commit. nil when a writer is at
    /// work (this process included) or the lock file is missing or unreadable;
    /// `release` the returned descriptor once every connection has read.
    static func holdOffWriters(databasePath: String) -> Int32? {
        if databasePath.isEmpty || databasePath == ":memory:" { return nil }
        let fd = open(lockPath(databasePath: databasePath), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 { close(fd); return nil }
        return fd
    }

    static func release(_ fd: Int32) { close(fd) }
}
