import ArgumentParser
import Foundation
import SFTPLogKit

/// `--follow` over several files, shared by `ingest` and `parse`: one thread
/// per file, each with its own reader state; after a rotation the file now at
/// the same path is followed, until the user interrupts.
enum FollowThreads {
    /// One followed file: `step` reads it until it ends and says why; `finish`
    /// runs once the thread is done with it.
    struct Follower {
        var step: () throws -> FollowControl.Ending?
        var finish: () -> Void = {}
    }

    /// `start(name)` runs on the file's thread; errors go to `failed`. With
    /// `scan`, logs that appear in the named directories are followed as well,
    /// until the user interrupts, each said on stderr as `command` unless `quiet`.
    static func run(_ files: [String], scan: NewFileScan? = nil, command: String, quiet: Bool = false, start: @escaping @Sendable (String) throws -> Follower,
                    failed: @escaping @Sendable (String, Error) -> Void) throws {
        guard !files.contains("-") else { throw ValidationError("--follow needs files; standard input is read to its end without it") }
        FollowControl.installSignalHandlers()
        let done = DispatchGroup()
        func spawn(_ name: String) {
            done.enter()
            let t = Thread {
                defer { done.leave() }
                do {
                    let follower = try start(name)
                    defer { follower.finish() }
                    while !FollowControl.stopRequested {
                        // Between a rotation's rename and the new file's creation the path is missing.
                        guard FileManager.default.fileExists(atPath: name) else { usleep(200_000); continue }
                        // `server.log.1` now names the piece that was `server.log`, read already.
                        if try follower.step() != .rotated || !NewFileScan.isLiveName(name) { break }
                    }
                } catch {
                    failed(name, error)
                }
            }
            t.stackSize = 8 << 20
            t.start()
        }
        for name in files { spawn(name) }
        if var scan {
            var tick = 0
            while !FollowControl.stopRequested {
                usleep(200_000)
                tick += 1
                guard tick % 5 == 0 else { continue }
                for name in scan.newFiles() {
                    if !quiet { Terminal.note("following \(name), new in its directory", command: command) }
                    spawn(name)
                }
            }
        }
        done.wait()
    }
}
