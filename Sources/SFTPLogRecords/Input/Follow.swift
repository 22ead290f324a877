import Foundation
import Synchronization

/// `--follow`: what the line splitter does at the end of a growing file.
/// Instead of ending, it waits for the file to grow; it ends when the file is
/// rotated away (renamed or truncated, once the old file is read to its end)
/// or when the user interrupts (SIGINT/SIGTERM), so that everything read is
/// stored before the process exits.
public final class FollowControl {
    public let path: String
    /// Seconds between checks of the file.
    public var pollInterval = 0.2
    /// Flush what is buffered after this long without new bytes (or this often
    /// while bytes trickle in), so followers see lines promptly.
    public var idleAfter = 0.5
    /// Why following ended (for the caller's next step).
    public private(set) var ended: Ending?
    public enum Ending: Equatable { case rotated, interrupted }

    /// Set by the signal handler (a lock-free atomic store is safe there); checked between reads.
    private static let stopFlag = Atomic<Bool>(false)
    public static var stopRequested: Bool { stopFlag.load(ordering: .relaxed) }

    /// Makes SIGINT and SIGTERM end following cleanly instead of killing the process.
    public static func installSignalHandlers() {
        // Touched first here, so the handler never runs the static's one-time initialisation.
        _ = stopRequested
        signal(SIGINT) { _ in FollowControl.stopFlag.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in FollowControl.stopFlag.store(true, ordering: .relaxed) }
    }

    /// `watch`: SIGINT/SIGTERM only raise `interruptRequested`; the watch
    /// then stops its listeners and calls `requestDrain`, so that followers
    /// read what was received up to the end before they stop.
    private static let interruptFlag = Atomic<Bool>(false)
    private static let drainFlag = Atomic<Bool>(false)
    public static var interruptRequested: Bool { interruptFlag.load(ordering: .relaxed) }
    public static var drainRequested: Bool { drainFlag.load(ordering: .relaxed) }
    public static func requestDrain() { drainFlag.store(true, ordering: .relaxed) }

    public static func installDrainingSignalHandlers() {
        _ = interruptRequested
        signal(SIGINT) { _ in FollowControl.interruptFlag.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in FollowControl.interruptFlag.store(true, ordering: .relaxed) }
    }

    /// For tests: a fresh start after an interruption.
    public static func resetStop() {
        stopFlag.store(false, ordering: .relaxed)
        interruptFlag.store(false, ordering: .relaxed)
        drainFlag.store(false, ordering: .relaxed)
    }

    private var device: UInt64 = 0
    private var inode: UInt64 = 0
    private var lastFlush = Date()

    public init(path: String, fd: Int32) {
        self.path = path
        var st = stat()
        if fstat(fd, &st) == 0 { device = UInt64(st.st_dev); inode = UInt64(st.st_ino) }
    }

    /// Called by the splitter after every read: whether to stop now.
    func shouldStop() -> Bool { FollowControl.stopRequested }

    /// Called by the splitter when `fd` is read up to `offset`. Returns true when
    /// there is more to read, false when the stream should end. `idle` flushes.
    func waitForMore(fd: Int32, offset: Int64, idle: () throws -> Void) throws -> Bool {
        var flushed = false
        let waitStart = Date()
        if Date().timeIntervalSince(lastFlush) >= idleAfter {
            try idle(); lastFlush = Date(); flushed = true
        }
        while true {
            if FollowControl.stopRequested { ended = .interrupted; return false }
            var st = stat()
            if fstat(fd, &st) == 0, Int64(st.st_size) > offset { return true }
            // Everything there was is read: a draining watch ends here.
            if FollowControl.drainRequested { ended = .interrupted; return false }
            if rotatedAway(offset: offset) {
                // The old file is complete (its writer moved on): end this source.
                ended = .rotated
                return false
            }
            if !flushed, Date().timeIntervalSince(waitStart) >= min(idleAfter, pollInterval) {
                try idle(); lastFlush = Date(); flushed = true
            }
            usleep(useconds_t(pollInterval * 1_000_000))
        }
    }

    /// The path now names another file, or the file was truncated (copytruncate).
    private func rotatedAway(offset: Int64) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }  // moved, new one not created yet: keep waiting
        if UInt64(st.st_dev) != device || UInt64(st.st_ino) != inode { return true }
        return Int64(st.st_size) < offset
    }
}
