import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords

/// Every record of every SFTPPlus sample must come out as its truth file says:
/// event id, timestamp, account, peer, message, and the catalogue's field values.
final class LayoutTruthTests: XCTestCase {
    static let cases = ["dev-id-first-4.0", "dev-ts-first-5.26", "dev-csv-4.16", "layouts/syslog-5.26", "layouts/json-lines-5.26",
                        "layouts/json-batch-5.26", "layouts/entry-format-5.26", "layouts/short-5.26", "layouts/mixed-layouts"]

    func testEverySampleMatchesItsTruth() throws {
        for name in Self.cases {
            let truth = try Harness.json(Paths.sample("sftpplus/\(name).truth.json"))
            let records = try Harness.parse(Paths.sample("sftpplus/\(name).log"), options: try Harness.options(from: truth))
            let expected = truth["records"] as! [[String: Any]]
            let events = records.filter { $0.kind == .sftpplusEvent }
            XCTAssertEqual(records.filter { $0.kind == .unparsed }.map { $0.text ?? "" }, [], name)
            XCTAssertEqual(events.count, expected.count, "\(name): record count")
            // The ts-first sample is written with +02:00 while its truth omits the offset.
            let ignoreOffset = name.hasPrefix("dev-")
            for (k, (r, t)) in zip(events, expected).enumerated() {
                let ctx = "\(name) record \(k + 1) (line \(r.line))"
                XCTAssertEqual(r.eventID, t["event_id"] as? String, ctx)
                XCTAssertTrue(sameInstantText(r.timestamp?.iso, t["ts"] as? String, ignoreOffset: ignoreOffset),
                              "\(ctx): ts \(r.timestamp?.iso ?? "nil") vs \(t["ts"] ?? "nil")")
                XCTAssertEqual(r.account, t["account"] as? String, ctx)
                XCTAssertEqual(r.peer?.address, t["peer_address"] as? String, ctx)
                XCTAssertEqual(r.peer?.port, t["peer_port"] as? Int, ctx)
                XCTAssertEqual(r.message, t["message"] as? String, ctx)
                let fields = t["fields"] as? [String: Any] ?? [:]
                XCTAssertEqual(r.resolution?.status, .resolved, "\(ctx): \(r.message ?? "")")
                let ours = Dictionary(uniqueKeysWithValues: (r.resolution?.fields ?? []).map { ($0.0, stringValue($0.1) ?? "") })
                for (key, value) in fields {
                    let want = "\(value)"
                    if let a = ours[key].flatMap(Double.init), let b = Double(want) {
                        XCTAssertEqual(a, b, "\(ctx): numeric field \(key)")
                    } else {
                        XCTAssertEqual(ours[key], want, "\(ctx): field \(key)")
                    }
                }
                XCTAssertEqual(Set(ours.keys), Set(fields.keys), "\(ctx): field names")
            }
        }
    }

    func testLayoutNamesAndOffsets() throws {
        let ts = try Harness.parse(Paths.sample("sftpplus/dev-ts-first-5.26.log"))
        XCTAssertEqual(ts.first?.layout, "ts-first")
        XCTAssertEqual(ts.first?.timestamp?.iso, "2025-11-21T08:14:14.492+02:00")
        let id = try Harness.parse(Paths.sample("sftpplus/dev-id-first-4.0.log"))
        XCTAssertEqual(id.first?.layout, "id-first")
        XCTAssertEqual(id.first?.timestamp?.iso, "2025-06-17T09:15:25", "no offset is invented")
        let sys = try Harness.parse(Paths.sample("sftpplus/layouts/syslog-5.26.log"), options: ReaderOptions(year: 2024))
        XCTAssertEqual(sys.first?.layout, "syslog")
        XCTAssertEqual(sys.first?.timestamp?.year, 2024)
        XCTAssertTrue(sys.first?.timestampNote?.contains("--year") ?? false)
        XCTAssertEqual(stringValue(sys.first?.extraValue("syslog_host")), "mft01")
        let batch = try Harness.parse(Paths.sample("sftpplus/layouts/json-batch-5.26.log"))
        XCTAssertEqual(batch[1].line, 1, "records of one batch share its line")
        XCTAssertEqual(batch[8].line, 2)
    }

    func testSyslogYearFallsBackToFileModificationYear() throws {
        let dir = Paths.tempDir()
        let path = dir.appendingPathComponent("s.log").path
        _ = FileManager.default.createFile(atPath: path, contents: Data("<30>Apr 19 18:08:11 host sftpplus: 20156 admin 127.0.0.1:33674 Successfully started location \"x\" of type sftp.\n".utf8))
        var comps = DateComponents()
        comps.year = 2019; comps.month = 6; comps.day = 1
        let date = Calendar(identifier: .gregorian).date(from: comps)!
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
        let r = try Harness.parse(path)
        XCTAssertEqual(r.first?.timestamp?.iso, "2019-04-19T18:08:11")
        XCTAssertTrue(r.first?.timestampNote?.contains("modification") ?? false)
        XCTAssertEqual(r.first?.account, "admin")
        XCTAssertEqual(r.first?.peer, Peer(address: "127.0.0.1", port: 33674))
    }
}
