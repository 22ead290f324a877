import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogOpenSSH
@testable import SFTPLogStore

/// Helpers for the OpenSSH stage tests (kept separate from the shared Support files).
extension OpenSSHFixtures {
    /// Reads a file through the real line splitter into the OpenSSH reader.
    static func records(file path: String) throws -> [Record] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw InputError.cannotOpen(path: path, reason: "open failed") }
        defer { close(fd) }
        let reader = OpenSSHTranscriptReader(file: path, options: ReaderOptions(timeZone: TimeZone(identifier: "UTC")!))
        var out: [Record] = []
        try LineSplitter().split(fd: fd) { l in reader.feed(l) { out.append($0) } }
        reader.finish { out.append($0) }
        return out
    }

    /// Same for in-memory bytes (written to a temporary file so the splitter reads a real fd).
    static func records(bytes: [UInt8]) throws -> [Record] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("openssh-test-\(UUID().uuidString).log")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try records(file: url.path)
    }

    static func records(text: String) throws -> [Record] { try records(bytes: Array(text.utf8)) }

    static func sessions(file name: String) throws -> [OpenSSHSession] {
        OpenSSHSessionBuilder.sessions(from: try records(file: path(name)))
    }

    static func sessions(text: String) throws -> [OpenSSHSession] {
        OpenSSHSessionBuilder.sessions(from: try records(text: text))
    }

    static func truth(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name + ".truth.json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Every record kind must be an OpenSSH kind or `unparsed`, with layout and exact raw bytes.
    static func assertWellFormed(_ recs: [Record], file: StaticString = #filePath, line: UInt = #line) {
        for r in recs {
            XCTAssertTrue(r.kind.rawValue.hasPrefix("openssh.") || r.kind.rawValue.hasPrefix("paste.") || r.kind == .unparsed,
                          "kind \(r.kind) at line \(r.line)", file: file, line: line)
            XCTAssertEqual(r.layout, "openssh", file: file, line: line)
        }
    }
}
