import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogStore

/// The stored copy of the catalogue is written in ID order, so that two
/// databases of the same inputs are alike row for row (a dictionary's order
/// changes from process to process).
final class CatalogTableTests: TemporaryDirectoryTestCase {
    func testCatalogueRowsAreStoredInIDOrder() throws {
        let catalog = try EventCatalog.shared()
        let store = try LogStore.openForWriting(dir.appendingPathComponent("catalog.db").path)
        try store.write { try $0.refreshCatalog(catalog) }
        let rows = try store.read { try $0.query("SELECT event_id, variant FROM catalog_variants ORDER BY rowid") }.rows
        let ids = rows.compactMap { row -> String? in if case .text(let t) = row[0] { return t } else { return nil } }
        XCTAssertEqual(ids.count, catalog.events.values.reduce(0) { $0 + $1.variants.count })
        XCTAssertGreaterThan(ids.count, 500)
        XCTAssertTrue(ids == ids.sorted(), "rows are not in event ID order")
        // Each ID's wordings in the catalogue's order.
        var expected: [String] = []
        for id in catalog.events.keys.sorted() { for t in catalog.events[id]!.variants { expected.append("\(id)/\(t.variant)") } }
        let stored = rows.map { row -> String in
            guard case .text(let id) = row[0], case .integer(let v) = row[1] else { return "?" }
            return "\(id)/\(v)"
        }
        XCTAssertTrue(stored == expected, "rows differ from the catalogue's order")
    }
}
