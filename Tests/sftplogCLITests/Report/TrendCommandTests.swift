import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit

/// `report --trend`: the same answer from files as from their database, counts
/// that agree with the stored sessions, and output that is safe and fits.
final class TrendCommandTests: TemporaryDirectoryTestCase {
    static func withoutTime(_ s: String) -> String {
        s.replacingOccurrences(of: #""generated_at":"[^"]*""#, with: "", options: .regularExpression)
    }

    func ndjson(_ db: String, _ sql: String) throws -> [[String: Any]] {
        let r = try CLI.run(["query", "--db", db, "--format", "ndjson", sql])
        XCTAssertEqual(r.status, 0, r.stderr)
        return try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    func testTrendFromFilesEqualsTrendFromTheirDatabase() throws {
        let files = Paths.everyTestLog()
        let db = dir.appendingPathComponent("t.db").path
        let ingest = try CLI.run(["ingest", "--quiet", "--db", db] + files)
        XCTAssertTrue([0, 2].contains(ingest.status), ingest.stderr)
        for args in [["--by", "day"], ["--by", "week"], ["--by", "month", "--top", "2"], ["--since", "2025-06-01"]] {
            let streamed = try CLI.run(["report", "--trend", "--format", "json"] + args + files)
            let stored = try CLI.run(["report", "--trend", "--format", "json", "--db", db] + args)
            XCTAssertEqual(streamed.status, ingest.status, streamed.stderr)
            XCTAssertEqual(stored.status, 0, stored.stderr)
            XCTAssertGreaterThan(stored.stdout.count, 500)
            XCTAssertTrue(Self.withoutTime(streamed.stdout) == Self.withoutTime(stored.stdout), "\(args): files and database differ")
        }
    }

    /// Every week's counts, and what is new in the last week, computed here from
    /// the stored sessions and findings with Foundation's ISO calendar.
    func testWeeksCountTheStoredSessions() throws {
        let files = Paths.everyTestLog()
        let db = dir.appendingPathComponent("t.db").path
        _ = try CLI.run(["ingest", "--quiet", "--db", db] + files)
        let sessions = try ndjson(db, "SELECT id, start_utc, outcome, auth_failures, client_version, peer_address FROM sessions")
        var weakOf: [String: [(String, String)]] = [:]
        for f in try ndjson(db, "SELECT session_id, algorithm, rating FROM findings WHERE rating IN ('warn', 'fail', 'unknown')") {
            weakOf[f["session_id"] as! String, default: []].append((f["algorithm"] as! String, f["rating"] as! String))
        }
        var iso = Calendar(identifier: .iso8601)
        iso.timeZone = TimeZone(identifier: "UTC")!
        let parse = ISO8601DateFormatter()
        parse.formatOptions = [.withFullDate]
        struct Week { var sessions = 0, failed = 0, fail = 0, warn = 0; var weak: [String: Int] = [:]; var clients: Set<String> = [] }
        var weeks: [String: Week] = [:]
        var undated = 0
        for s in sessions {
            guard let start = s["start_utc"] as? String, let day = parse.date(from: String(start.prefix(10))) else { undated += 1; continue }
            let c = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: day)
            let label = String(format: "%04d-W%02d", c.yearForWeekOfYear!, c.weekOfYear!)
            var w = weeks[label] ?? Week()
            w.sessions += 1
            w.failed += max(s["auth_failures"] as? Int ?? 0, s["outcome"] as? String == "auth-failed" ? 1 : 0)
            let ratings = (weakOf[s["id"] as! String] ?? []).map(\.1)
            if ratings.contains("fail") { w.fail += 1 } else if !ratings.isEmpty { w.warn += 1 }
            for a in Set((weakOf[s["id"] as! String] ?? []).map(\.0)) { w.weak[a, default: 0] += 1 }
            w.clients.insert(s["client_version"] as? String ?? "(unknown)")
            weeks[label] = w
        }
        XCTAssertGreaterThan(weeks.count, 3)

        let r = try CLI.run(["report", "--trend", "--format", "json"] + files)
        let trend = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(trend["undated_sessions"] as? Int, undated)
        let periods = trend["periods"] as! [[String: Any]]
        XCTAssertEqual(Set(periods.filter { ($0["sessions"] as! Int) > 0 }.map { $0["period"] as! String }), Set(weeks.keys))
        for p in periods {
            let w = weeks[p["period"] as! String] ?? Week()
            let label = p["period"] as! String
            XCTAssertEqual(p["sessions"] as? Int, w.sessions, label)
            XCTAssertEqual(p["failed_logins"] as? Int, w.failed, label)
            XCTAssertEqual(p["crypto_fail_sessions"] as? Int, w.fail, label)
            XCTAssertEqual(p["crypto_warn_sessions"] as? Int, w.warn, label)
            let weak = Dictionary(uniqueKeysWithValues: (p["weak_algorithms"] as! [[String: Any]]).map { ($0["algorithm"] as! String, $0["sessions"] as! Int) })
            XCTAssertEqual(weak, w.weak, label)
        }
        let held = periods.filter { ($0["sessions"] as! Int) > 0 }
        let last = held[held.count - 1]["period"] as! String, before = held[held.count - 2]["period"] as! String
        let changes = trend["changes"] as! [String: Any]
        XCTAssertEqual(changes["to"] as? String, last)
        let expectedNew = Set(weeks[last]?.weak.keys.map { $0 } ?? []).subtracting(weeks[before]?.weak.keys.map { $0 } ?? [])
        XCTAssertEqual(Set(changes["new_weak_algorithms"] as! [String]), expectedNew)
        XCTAssertEqual(Set(changes["new_clients"] as! [String]), (weeks[last]?.clients ?? []).subtracting(weeks[before]?.clients ?? []))
    }

    /// A log whose client software is markup and a terminal escape, in two weeks.
    func hostileLog() throws -> String {
        let path = dir.appendingPathComponent("hostile.log").path
        try """
        2025-03-03T10:00:00Z 30014 sftp-1 Unknown 192.0.2.66:4000 New SSH connection made.
        2025-03-03T10:00:01Z 20021 sftp-1 Unknown 192.0.2.66:4000 Failed to authenticate user "<img src=x onerror=alert(1)>" with "password" credentials. Possible typo in username. No authentication method was able to handle the credentials.
        2025-03-03T10:00:02Z 30050 sftp-1 Unknown 192.0.2.66:4000 Closing the SSH connection. Too many authentication failures.
        2025-03-10T10:01:00Z 30014 sftp-1 Unknown 192.0.2.67:4001 New SSH connection made.
        2025-03-10T10:01:03Z 30015 sftp-1 bob 192.0.2.67:4001 SSH connection closed from "SSH-2.0-<script>alert(2)</script>\u{1B}[31m". Protected using host-key:ssh-rsa key-exchange:diffie-hellman-group1-sha1 in-hmac:hmac-md5 in-cipher:aes128-cbc out-hmac:hmac-md5 out-cipher:aes128-cbc in-compression:none out-compression:none

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testTextFitsEightyColumnsAndHTMLRendersAloneInABrowser() throws {
        let inputs = [try hostileLog()] + Paths.everyTestLog().filter { $0.contains("/samples/sftpplus/") }
        let text = try CLI.run(["report", "--trend", "--by", "day"] + inputs, env: ["NO_COLOR": "1"])
        XCTAssertEqual(text.stdout.split(separator: "\n").filter { $0.count > 80 }, [], "lines wider than 80 columns")
        XCTAssertFalse(text.stdout.contains("\u{1B}"), "a raw terminal escape")
        XCTAssertTrue(text.stdout.contains("sessions "), text.stdout)

        let md = try CLI.run(["report", "--trend", "--format", "markdown"] + inputs)
        XCTAssertFalse(md.stdout.contains("<script"), "markup in Markdown")
        XCTAssertTrue(md.stdout.contains("&lt;script&gt;"), md.stdout)

        let out = dir.appendingPathComponent("trend.html").path
        let r = try CLI.run(["report", "--trend", "--format", "html", "--output", out] + inputs)
        XCTAssertTrue([0, 2].contains(r.status), r.stderr)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertFalse(html.contains("<script") || html.contains("<img"), "an element from log content")
        XCTAssertFalse(html.contains("\u{1B}"))
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "self-contained: nothing to fetch")
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 2, "a stacked-bar and a line chart")
        XCTAssertTrue(html.contains("<rect") && html.contains("<polyline"))

        let dom = try ReportTests.chromiumDOM(out)
        XCTAssertFalse(dom.lowercased().contains("<script"), "the browser made a <script> element")
        XCTAssertTrue(dom.contains("<svg"), "the browser dropped the charts")
        // A 1280-px-wide screenshot that is not blank: many pixels are neither white nor near it.
        let png = dir.appendingPathComponent("trend.png").path
        let bin = try XCTUnwrap(ReportTests.chromium, "no headless browser: .ci/run installs Debian's chromium")
        _ = try CLI.capture(bin, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,900",
                                  "--screenshot=\(png)", "file://" + out])
        let inked = try CLI.capture("/usr/bin/env", ["python3", "-c", Self.inkedPixels, png])
        XCTAssertEqual(inked.status, 0, inked.stderr)
        let (width, count) = { (p: [Substring]) in (Int(p[0]) ?? 0, Int(p[1]) ?? 0) }(inked.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }))
        XCTAssertEqual(width, 1280)
        XCTAssertGreaterThan(count, 20_000, "the page is nearly blank")
    }

    /// Prints a PNG's width and how many of its pixels are not near white (8-bit RGB or RGBA, not interlaced).
    static let inkedPixels = #"""
    import struct, sys, zlib
    d = open(sys.argv[1], 'rb').read()
    pos, idat = 8, b''
    while pos < len(d):
        n, kind = struct.unpack('>I4s', d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, lace = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6) and lace == 0
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, inked, i = zlib.decompress(idat), w * bpp, bytearray(w * bpp), 0, 0
    for y in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        inked += sum(1 for x in range(0, stride, bpp) if min(line[x], line[x + 1], line[x + 2]) < 200)
        prev = line
    print(w, inked)
    """#
}
