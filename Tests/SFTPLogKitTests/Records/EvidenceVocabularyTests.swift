import XCTest
import SFTPLogRecords

/// Evidence facts are stored by code (`evidence_rows`): a fact's code is its
/// position among the cases, and links sort by it.
final class EvidenceVocabularyTests: XCTestCase {
    func testAFactsCodeIsItsPositionAndReadsBack() {
        for (k, fact) in EvidenceFact.allCases.enumerated() {
            XCTAssertEqual(fact.code, k, fact.rawValue)
            XCTAssertEqual(EvidenceFact(code: k), fact)
        }
        XCTAssertNil(EvidenceFact(code: EvidenceFact.allCases.count))
        XCTAssertNil(EvidenceFact(code: -1))
    }

    func testLinksComeInRecordThenFactOrderWhateverOrderTheyWereMade() {
        let made = [
            EvidenceLink(.outcome, line: 9), EvidenceLink(.kex, line: 4), EvidenceLink(.user, line: 9),
            EvidenceLink(.operation, item: 1, line: 12), EvidenceLink(.operation, item: 0, line: 12),
            EvidenceLink(.hostkey, line: 4, sourceID: 3), EvidenceLink(.kex, line: 2, file: "next.log"),
        ]
        let ordered = EvidenceLink.canonical(made)
        // The session's own file first, then the others in the order they came.
        XCTAssertEqual(ordered.map { "\($0.fact.rawValue)@\($0.file ?? "#\($0.sourceID)"):\($0.line)/\($0.item)" }, [
            "negotiated.kex@#0:4/0", "user@#0:9/0", "outcome@#0:9/0", "operation@#0:12/0", "operation@#0:12/1",
            "negotiated.hostkey@#3:4/0", "negotiated.kex@next.log:2/0",
        ])
        // Links to one file take the quick path; they sort alike.
        let own = made.filter { $0.file == nil && $0.sourceID == 0 }
        XCTAssertEqual(EvidenceLink.canonical(own), ordered.filter { $0.file == nil && $0.sourceID == 0 })
        XCTAssertEqual(EvidenceLink.canonical(EvidenceLink.canonical(own)), EvidenceLink.canonical(own))
    }
}
