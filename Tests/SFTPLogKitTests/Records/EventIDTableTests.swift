import XCTest
import SFTPLogRecords
import SFTPLogCatalog

/// The event-ID table answers as the dictionary it was made from, for every
/// spelling: five-digit IDs take the array, the rest the dictionary.
final class EventIDTableTests: XCTestCase {
    func testItAnswersAsTheDictionaryItWasMadeFrom() throws {
        let catalog = try EventCatalog.bundled()
        var entries: [String: Int] = [:]
        for (k, id) in catalog.events.keys.sorted().enumerated() { entries[id] = k }
        // Spellings a number alone would confuse, and IDs that are not numbers.
        entries["01234"] = -1
        entries["1234"] = -2
        entries["123456"] = -3
        entries["UNKNOWN"] = -4
        entries[""] = -5
        entries["٣٠٠١٤"] = -6
        entries["+3001"] = -7
        let table = EventIDTable(entries)
        var probes = Array(entries.keys)
        probes += ["00000", "10000", "99999", "30014 ", " 30014", "3001", "300140", "0", "x30014", "30O14", "\u{0}"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 { probes.append(String(Int.random(in: 0...120_000, using: &rng))) }
        for id in probes { XCTAssertEqual(table[id], entries[id], "id \(id.debugDescription)") }
        XCTAssertGreaterThan(catalog.events.count, 500)
    }

    func testAnEmptyTableHasNothing() {
        let table = EventIDTable<Bool>([:])
        for id in ["30014", "10000", "99999", "x", ""] { XCTAssertNil(table[id]) }
    }
}
