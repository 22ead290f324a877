import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// The `sessions` table: start, duration, user, peer, client, outcome, whether
/// its end is in the log (`end`: `seen`, or `cut` when the log stops before it),
/// files, bytes, findings — fitted to the terminal width, log content escaped.
public enum SessionTable {
    public static func render(_ sessions: [SessionTimeline], width: Int = 80) -> String {
        TextTable.render(columns, sessions.map(row), width: width)
    }

    public static let columns: [TextTable.Column] = [
        .init("start", min: 11), .init("dur", right: true), .init("user", flexible: true, min: 6, shrinkOrder: 3),
        .init("peer", flexible: true, min: 13, shrinkOrder: 4), .init("client", flexible: true, min: 7, shrinkOrder: 1),
        .init("outcome", flexible: true, min: 8, shrinkOrder: 2), .init("end"),
        .init("files", right: true), .init("bytes", right: true), .init("weak", right: true),
    ]

    /// A session's cells, escaped for a terminal (no control character is left in them).
    public static func row(_ s: SessionTimeline) -> [String] {
        let weak = s.findings.filter { $0.rating.isWeak }.count
        let client = s.clientVersion ?? (s.side == "client" && s.source == "sftpplus" ? "SFTPPlus" : "-")
        let start = s.start.map { Human.clock($0).dropFirst(5).dropLast(3).description } ?? "-"
        let bytes = s.bytesUp + s.bytesDown
        return [
            start, Human.duration(s.duration),
            TextEscaper.terminalSafe(s.user ?? "-"),
            s.peer.map { TextEscaper.terminalSafe($0.address + ($0.port.map { ":\($0)" } ?? "")) } ?? "-",
            TextEscaper.terminalSafe(client.replacingOccurrences(of: "SSH-2.0-", with: "")),
            s.outcome.rawValue, s.closed.map { $0 ? "seen" : "cut" } ?? "-",
            String(s.operations.filter { $0.op.isFileTransfer }.count),
            bytes > 0 ? Human.bytes(bytes) : "-", weak > 0 ? String(weak) : "",
        ]
    }
}

/// `--since` / `--until`: an ISO date or time, or a span back from now (`90m`, `24h`, `7d`).
public enum TimeBound {
    public static func parse(_ text: String, now: Date = Date(), zone: TimeZone = .current) -> String? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let unit = t.last, "mhdw".contains(unit), let n = Double(t.dropLast()) {
            let seconds = n * ["m": 60, "h": 3600, "d": 86400, "w": 604800][String(unit)]!
            return LogTimestamp.utcISO(now.timeIntervalSince1970 - seconds, fractionDigits: 0)
        }
        var s = t
        if s.count == 10 { s += "T00:00:00" }
        if s.count == 16 { s += ":00" }
        guard let (ts, end) = Array(s.utf8).withUnsafeBufferPointer({ TimestampScanner.iso($0, at: 0) }), end == s.utf8.count else { return nil }
        return LogTimestamp.utcISO(ts.epoch(in: zone), fractionDigits: 0)
    }
}
