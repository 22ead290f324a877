import Foundation
import XCTest
import SFTPLogTestSupport
import SFTPLogKit
@testable import SFTPLogRecords
@testable import SFTPLogCatalog
@testable import SFTPLogOpenSSH
@testable import SFTPLogStore
@testable import SFTPLogReport

final class CatalogTests: XCTestCase {
    let catalog = Harness.catalog

    func testCatalogueHoldsEveryDocumentedWording() {
        XCTAssertEqual(catalog.events.count, 563)
        XCTAssertEqual(catalog.events.values.flatMap(\.variants).filter { !$0.inferred }.count, 753)
        XCTAssertGreaterThanOrEqual(catalog.events["30011"]!.variants.count, 4)
        // Our own description for every SSH, operation and transfer event.
        for (id, e) in catalog.events where id.count == 5 && ["20", "30", "60"].contains(String(id.prefix(2))) {
            XCTAssertTrue(e.description != nil || e.variants.allSatisfy { $0.description != nil }, "no description for \(id)")
        }
    }

    /// Every wording of every ID, rendered with values, resolves back to itself
    /// (or to a wording that renders identically) — never to another meaning.
    func testEveryWordingResolvesToItself() {
        var checked = 0
        for e in catalog.events.values {
            for t in e.variants {
                let message = render(t) { k, name in "v\(k)-\(name)" }
                let res = catalog.resolve(eventID: e.id, message: message)
                XCTAssertEqual(res.status, .resolved, "\(e.id)#\(t.variant): \(message)")
                guard let got = e.variants.first(where: { $0.variant == res.variant }) else { continue }
                if got.variant != t.variant {
                    // Only a wording with the same literal text may win (the text cannot tell them apart).
                    XCTAssertEqual(render(got) { k, _ in "v\(k)" }, render(t) { k, _ in "v\(k)" }, "\(e.id): #\(t.variant) resolved to #\(got.variant)")
                }
                // Field values come back as rendered (numbers typed, so compare text).
                for (k, f) in t.fields.enumerated() where got.variant == t.variant {
                    let v = res.fields.first { $0.0 == f }?.1
                    XCTAssertEqual(stringValue(v), "v\(k)-\(f)", "\(e.id)#\(t.variant) field \(f)")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, catalog.variantCount)
    }

    /// The matcher skips to candidate positions with memchr and charges the scan
    /// budget in bulk; it must find what the plain search finds, budget included:
    /// one step per call, one per 64 positions scanned (the definition, below).
    func testMatcherAgreesWithThePlainSearchUnderItsBudget() {
        var rng = SystemRandomNumberGenerator()
        var compared = 0, exhausted = 0, wordings = 0, foundLong = 0
        for e in catalog.events.values.sorted(by: { $0.id < $1.id }) {
            for t in e.variants {
                wordings += 1
                let literals = t.pieces.compactMap { p -> [UInt8]? in if case .literal(let l) = p { return l }; return nil }
                guard !literals.isEmpty else { continue }
                // Rounds 0 and 1: values made of the wording's own literals, spaces and
                // quotes. For one wording in eight, rounds 2 and 3: the first hole a run of
                // `~` long enough to scan just within the budget (1.2 MB), then just past
                // it (1.4 MB): whether the match is found depends on the scan's charge.
                let longHole = t.pieces.indices.first { k in
                    guard case .field = t.pieces[k], k + 2 < t.pieces.count, case .literal(let l) = t.pieces[k + 1] else { return false }
                    return l.first != 0x7E
                }
                for round in 0..<(wordings % 8 == 0 && longHole != nil ? 4 : 2) {
                    var message: [UInt8] = []
                    for (k, p) in t.pieces.enumerated() {
                        switch p {
                        case .literal(let l): message += l
                        case .field where round >= 2:
                            message += k == longHole ? [UInt8](repeating: 0x7E, count: round == 2 ? 1_200_000 : 1_400_000) : Array("v\(k)".utf8)
                        case .field:
                            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                                message += literals.randomElement(using: &rng)!
                                if Bool.random(using: &rng) { message += Array("\(k) \"x".utf8) }
                            }
                        }
                    }
                    let got = message.withUnsafeBufferPointer { t.match($0) }
                    let (want, ranOut) = message.withUnsafeBufferPointer { plainMatch(t, $0) }
                    XCTAssertEqual(got.map { $0.map { "\($0.0)=\($0.1)" } }, want.map { $0.map { "\($0.0)=\($0.1)" } }, "\(e.id)#\(t.variant) round \(round)")
                    compared += 1
                    if ranOut { exhausted += 1 }
                    if round == 2 && want != nil { foundLong += 1 }
                }
            }
        }
        XCTAssertGreaterThan(compared, 1_000)
        XCTAssertGreaterThan(exhausted, 0, "no message ran out of budget: the budget accounting went untested")
        XCTAssertGreaterThan(foundLong, 0, "no long value was matched within the budget")
    }

    /// The search as first written: a byte-by-byte scan for the next literal.
    private func plainMatch(_ t: EventTemplate, _ m: UnsafeBufferPointer<UInt8>) -> ([(String, Range<Int>)]?, ranOut: Bool) {
        func hasPrefix(_ at: Int, _ l: [UInt8]) -> Bool { at + l.count <= m.count && l.indices.allSatisfy { m[at + $0] == l[$0] } }
        func step(_ k: Int, _ pos: Int, _ values: inout [(Int, Range<Int>)], _ budget: inout Int, strict: Bool,
                  _ accept: ([(Int, Range<Int>)]) -> Bool) -> Bool {
            budget -= 1
            if budget < 0 { return true }
            if k == t.pieces.count { return pos == m.count ? accept(values) : false }
            switch t.pieces[k] {
            case .literal(let lit):
                guard hasPrefix(pos, lit) else { return false }
                return step(k + 1, pos + lit.count, &values, &budget, strict: strict, accept)
            case .field:
                let token = strict && t.tokenLikeMask[k]
                func clean(_ r: Range<Int>) -> Bool { !token || !r.contains { m[$0] == 0x20 || m[$0] == 0x22 } }
                if k + 1 == t.pieces.count {
                    guard clean(pos..<m.count) else { return false }
                    values.append((k, pos..<m.count)); defer { values.removeLast() }
                    return accept(values)
                }
                guard case .literal(let next) = t.pieces[k + 1], let first = next.first else { return false }
                if k + 2 == t.pieces.count {
                    let at = m.count - next.count
                    guard at >= pos, hasPrefix(at, next), clean(pos..<at) else { return false }
                    values.append((k, pos..<at)); defer { values.removeLast() }
                    return accept(values)
                }
                var i = pos
                while i + next.count <= m.count {
                    if i & 63 == 63 { budget -= 1; if budget < 0 { return true } }
                    if m[i] == first && hasPrefix(i, next) {
                        values.append((k, pos..<i))
                        let stop = step(k + 1, i, &values, &budget, strict: strict, accept)
                        values.removeLast()
                        if stop { return true }
                    }
                    if token && (m[i] == 0x20 || m[i] == 0x22) { return false }
                    i += 1
                }
                return false
            }
        }
        var values: [(Int, Range<Int>)] = [], work: [(Int, Range<Int>)] = []
        var budget = 20_000
        var found = false
        _ = step(0, 0, &work, &budget, strict: true) { values = $0; found = true; return true }
        var ranOut = budget < 0
        if !found {
            work = []; budget = 20_000
            defer { ranOut = ranOut || budget < 0 }
            var best = Int.max, seen = 0
            _ = step(0, 0, &work, &budget, strict: false) { candidate in
                var p = 0
                for (k, r) in candidate where t.tokenLikeMask[k] && r.contains(where: { m[$0] == 0x22 || m[$0] == 0x20 }) { p += 1 }
                if p < best { best = p; values = candidate }
                seen += 1
                return p == 0 || seen >= 16
            }
            if seen == 0 { return (nil, ranOut || budget < 0) }
        }
        return (values.map { (k, r) in
            guard case .field(let f) = t.pieces[k] else { return ("", r) }
            return (f, r)
        }, ranOut)
    }

    func render(_ t: EventTemplate, _ value: (Int, String) -> String) -> String {
        var out = ""
        for p in t.pieces {
            switch p {
            case .literal(let l): out += String(decoding: l, as: UTF8.self)
            case .field(let f): out += value(t.fields.firstIndex(of: f) ?? 0, f)
            }
        }
        return out
    }

    /// A `SourceResolver` reuses its matching buffers from message to message: the
    /// results must be those of a fresh resolution, whatever came before (wordings
    /// that fit, fit partly or not at all, several fitting ones, hostile values).
    func testReusedMatchBuffersResolveLikeFreshOnes() {
        var rng = SplitMix64(seed: 7)
        var messages: [(String, String)] = []
        for e in catalog.events.values.sorted(by: { $0.id < $1.id }) {
            for t in e.variants {
                messages.append((e.id, render(t) { k, name in "v\(k)-\(name)" }))
                // Values holding the wording's own delimiters, and cut messages.
                let hostile = render(t) { k, _ in k % 2 == 0 ? "a\" in \"b\". c" : "x y" }
                messages.append((e.id, hostile))
                messages.append((e.id, String(hostile.prefix(Int.random(in: 0...hostile.count, using: &rng)))))
            }
        }
        messages.shuffle(using: &rng)
        let hints: [VersionRange?] = [nil, VersionRange(lower: SFTPPlusVersion("3.0.0")!, upper: SFTPPlusVersion("3.50.0")!),
                                      VersionRange(lower: SFTPPlusVersion("5.0.0")!, upper: nil)]
        func text(_ fields: [(String, JSONValue)]) -> String { var j = JSONBytes(); j.object(fields); return j.text }
        var scratch = EventCatalog.MatchScratch()
        var multiple = 0
        for (k, (id, message)) in messages.enumerated() {
            let hint = hints[k % hints.count]
            let reused = catalog.resolve(eventID: id, message: message, hint: hint, scratch: &scratch)
            let fresh = catalog.resolve(eventID: id, message: message, hint: hint)
            XCTAssertEqual(reused.status, fresh.status, "\(id): \(message)")
            XCTAssertEqual(reused.variant, fresh.variant, "\(id): \(message)")
            XCTAssertTrue(reused.wording === fresh.wording, "\(id): \(message)")
            XCTAssertEqual(text(reused.fields), text(fresh.fields), "\(id): \(message)")
            let fitting = Array(message.utf8).withUnsafeBufferPointer { m in
                catalog.events[id]?.variants.filter { $0.match(m) != nil }.count ?? 0
            }
            if fitting > 1 { multiple += 1 }
        }
        XCTAssertGreaterThan(messages.count, 2000)
        XCTAssertGreaterThan(multiple, 50, "messages that several wordings fit (the buffers swap)")
    }

    func testReusedIDsResolveToTheMeaningOfTheirEra() {
        let old = catalog.resolve(eventID: "20138", message: "Ignoring ldap authentication \"LDAP\" for \"bob\" since it is not active.")
        XCTAssertEqual(old.variant, 1)
        let new = catalog.resolve(eventID: "20138", message: "Failed to synchronize \"ldap/9f1c\". Will retry in 30s. timeout")
        XCTAssertEqual(new.variant, 2)
        XCTAssertEqual(catalog.resolve(eventID: "30048", message: "Could not read DSA/RSA key at \"/etc/k\". bad").variant, 1)
        XCTAssertEqual(catalog.resolve(eventID: "30048", message: "SFTP request not supported. SSH_FXP_EXTENDED").variant, 2)
        XCTAssertEqual(catalog.resolve(eventID: "50009", message: "Administrative operation denied. no role").variant, 2)
        XCTAssertEqual(catalog.resolve(eventID: "20003", message: "Proxy connection received. Updating remote peer from 10.0.0.1:22. Extensions: x.").variant, 3)
        XCTAssertEqual(catalog.resolve(eventID: "20003", message: "Proxy connection received. Updating remote peer from 10.0.0.1:22.").variant, 2)
    }

    func testDelimitersInsideFieldValues() {
        // The path contains the template's own `" in "` and `". ` delimiters.
        let m = "Successfully opened \"/srv/a\" in \"b\". c.txt\" in \"write\" mode, requested as \"/a\" in \"b\". c.txt\"."
        let r = catalog.resolve(eventID: "30043", message: m)
        XCTAssertEqual(r.status, .resolved)
        XCTAssertEqual(stringValue(r.fields.first { $0.0 == "path" }?.1), "/srv/a\" in \"b\". c.txt")
        XCTAssertEqual(stringValue(r.fields.first { $0.0 == "mode" }?.1), "write")
        XCTAssertEqual(stringValue(r.fields.first { $0.0 == "requested_path" }?.1), "/a\" in \"b\". c.txt")
    }

    func testTypedFieldsAndUnresolvedMessages() {
        let r = catalog.resolve(eventID: "30067", message: "File \"/x\" successfully read. Read 64299097 bytes at 35082374 bytes/second in 11.381 seconds.")
        XCTAssertEqual(r.status, .resolved)
        XCTAssertEqual(r.fields.first { $0.0 == "total_read" }?.1, .int(64299097))
        XCTAssertEqual(r.fields.first { $0.0 == "duration" }?.1, .double(11.381))
        let u = catalog.resolve(eventID: "30014", message: "Something \"/srv/x.txt\" else from 192.0.2.1:22 with 42 items.")
        XCTAssertEqual(u.status, .unresolved)
        XCTAssertNil(u.variant)
        XCTAssertEqual(u.fields.first { $0.0 == "paths" }?.1, .array([.string("/srv/x.txt")]))
        XCTAssertEqual(u.fields.first { $0.0 == "numbers" }?.1, .array([.int(42)]))
        XCTAssertEqual(catalog.resolve(eventID: "99999", message: "x").status, .unknownID)
    }

    func testGenericFieldsOfAnUnknownWording() {
        let huge = String(repeating: "x", count: 5000)
        let f = EventCatalog.genericFields(
            "Copied \"/données/é.txt\" and \"C:\\in\\a b.txt\" (3 files, 2.5 MB) from [2001:db8::1]:2222, 10.0.0.7:51000; /tmp/x. \(huge) /\(huge) -4 /")
        XCTAssertEqual(f.map(\.0), ["quoted", "paths", "peers", "numbers"])
        XCTAssertEqual(f[0].1, .array([.string("/données/é.txt"), .string("C:\\in\\a b.txt")]))
        // Quoted paths first, then bare ones (trailing "." dropped); "/" alone and words over 4 KiB are not paths.
        XCTAssertEqual(f[1].1, .array([.string("/données/é.txt"), .string("C:\\in\\a b.txt"), .string("/tmp/x")]))
        XCTAssertEqual(f[2].1, .array([.object([("address", .string("2001:db8::1")), ("port", .int(2222))]),
                                        .object([("address", .string("10.0.0.7")), ("port", .int(51000))])]))
        XCTAssertEqual(f[3].1, .array([.int(3), .double(2.5), .int(-4)]))
        XCTAssertTrue(EventCatalog.genericFields("nothing to see here").isEmpty)
    }

    func testVersionLabelsReadTheSameWhicheverWayTheyTake() {
        // Plain labels take the quick reading, the rest the general one: both as the general one always read them.
        let cases: [(String, [Int]?, Int?)] = [
            ("4.26.2", [4, 26, 2], nil), ("5", [5, 0, 0], nil), ("3.30", [3, 30, 0], nil), ("1..2", [1, 2, 0], nil),
            ("007.1.", [7, 1, 0], nil), ("1.2.3.4", [1, 2, 3, 4], nil), ("5.11.0.dev0", [5, 11, 0], 0),
            ("4.0.0.dev3.dev7", [4, 0, 0], 7), ("+1.2", [1, 2, 0], nil), ("123456789012345678901.1", nil, nil),
            ("999999999999999999.1", [999_999_999_999_999_999, 1, 0], nil), ("", nil, nil), (".", nil, nil),
            ("dev1", nil, nil), ("4.x", nil, nil), ("4.26.2 ", nil, nil), ("٤.٢", nil, nil),
        ]
        for (label, parts, dev) in cases {
            let v = SFTPPlusVersion(label)
            XCTAssertEqual(v?.parts, parts, label)
            XCTAssertEqual(v?.dev, dev, label)
            if let v { XCTAssertEqual(v.label, label) }
        }
        XCTAssertTrue(SFTPPlusVersion("5.11.0.dev0")! < SFTPPlusVersion("5.11.0")!)
        XCTAssertEqual(SFTPPlusVersion("5.11"), SFTPPlusVersion("5.11"))
    }

    func testVersionInferenceOfEachSample() throws {
        func versions(_ file: String) throws -> VersionRange? {
            let resolver = SourceResolver(catalog: catalog)
            for var r in try Harness.parse(Paths.sample("sftpplus/\(file)"), resolve: false) { resolver.resolve(&r) }
            return resolver.versions
        }
        XCTAssertTrue(try versions("dev-ts-first-5.26.log")!.contains(SFTPPlusVersion("5.26.2")!))
        XCTAssertTrue(try versions("dev-csv-4.16.log")!.contains(SFTPPlusVersion("4.16.0")!))
        XCTAssertFalse(try versions("dev-csv-4.16.log")!.contains(SFTPPlusVersion("5.26.2")!))
        XCTAssertTrue(try versions("dev-id-first-4.0.log")!.contains(SFTPPlusVersion("4.0.0.dev0")!))
        XCTAssertEqual(try versions("seed-server-3.30.log")?.description, "3.30.0")
    }

    func testSearchRanksAndFilters() throws {
        let search = CatalogSearch(catalog: catalog)
        let rename = try search.search("rename").map(\.eventID)
        for id in ["30025", "30026", "30027", "60043", "60044"] { XCTAssertTrue(rename.contains(id), "rename → \(id)") }
        // The SSH/transfer rename events come before the tangential monitor events.
        XCTAssertLessThan(rename.firstIndex(of: "30025")!, rename.firstIndex(of: "60030")!)
        let high = try search.search(nil, group: "failure-high", limit: 1000)
        XCTAssertFalse(high.isEmpty)
        XCTAssertTrue(high.allSatisfy { h in catalog.events[h.eventID]!.variants.contains { $0.groups.contains("failure-high") } })
        let v330 = try search.search("connection", version: "3.30.0", limit: 1000).map(\.eventID)
        XCTAssertTrue(v330.contains("30014"))
        XCTAssertFalse(v330.contains("30013") && catalog.events["30013"]!.variants.allSatisfy { $0.fromVersion == "5.1.0" })
        // Text that looks like FTS syntax is just text.
        XCTAssertNoThrow(try search.search("\"unbalanced AND OR ( *"))
    }

    /// Equal scores come in event-ID order: before, they came in the order of
    /// a dictionary's hashing, so the same search printed other orders in other runs.
    func testEqualScoresAreInIDOrder() throws {
        let search = CatalogSearch(catalog: catalog)
        var ties = 0
        for text in ["login", "key", "failed", "connection"] {
            let hits = try search.search(text, limit: 1000)
            for (a, b) in zip(hits, hits.dropFirst()) where a.score == b.score {
                ties += 1
                XCTAssertTrue((a.eventID.count, a.eventID) < (b.eventID.count, b.eventID), "\(text): \(a.eventID) before \(b.eventID)")
            }
        }
        XCTAssertGreaterThan(ties, 10, "the searches have equal scores to order")
    }

}

/// Which versions can have written a wording is a question about one catalogue:
/// its answer never leaks into another catalogue (a process-wide cache of the
/// newest documented version, and one per template, used to make it leak).
final class WritableRangeTests: XCTestCase {
    private func wording(_ id: String, _ text: String, documentedIn: [String]) -> EventTemplate {
        EventTemplate(eventID: id, variant: 1, template: text, fields: [], groups: [], fromVersion: nil, toVersion: nil,
                      documentedIn: documentedIn, seenIn: [], inferred: false, description: nil)
    }

    func testEachCatalogueAnswersForItsOwnNewestVersion() throws {
        let old = wording("90001", "Old wording.", documentedIn: ["5.0.0", "5.1.0"])
        let a = EventCatalog(events: [CatalogEvent(id: "90001", area: nil, description: nil, variants: [old])])
        // In A the wording is in the newest docs: any later version may write it.
        XCTAssertEqual(VersionInference.writableRange(old, in: a), VersionRange(lower: SFTPPlusVersion("5.0.0")!, upper: nil))
        // B has newer docs that no longer list it: it was last written by 5.1.0. Same template object, asked after A.
        let new = wording("90002", "New wording.", documentedIn: ["6.0.0"])
        let b = EventCatalog(events: [CatalogEvent(id: "90001", area: nil, description: nil, variants: [old]),
                                      CatalogEvent(id: "90002", area: nil, description: nil, variants: [new])])
        XCTAssertEqual(VersionInference.writableRange(old, in: b), VersionRange(lower: SFTPPlusVersion("5.0.0")!, upper: SFTPPlusVersion("5.1.0")!))
        XCTAssertNil(VersionInference.writableRange(new, in: b)?.upper)
        // And A still answers as before.
        XCTAssertNil(VersionInference.writableRange(old, in: a)?.upper)
        // `adding` (how imported wordings join) builds the same answers.
        let c = a.adding([new])
        XCTAssertEqual(c.newestDocumented, SFTPPlusVersion("6.0.0"))
        XCTAssertEqual(VersionInference.writableRange(old, in: c), VersionInference.writableRange(old, in: b))
    }

    /// The bundled catalogue's answers: every wording's range holds its documented versions.
    func testBundledRangesHoldTheirDocumentedVersions() throws {
        let catalog = try EventCatalog.bundled()
        var checked = 0
        for e in catalog.events.values {
            for t in e.variants {
                guard let r = VersionInference.writableRange(t, in: catalog) else { continue }
                for v in t.documentedIn.compactMap(SFTPPlusVersion.init) { XCTAssertTrue(r.contains(v), "\(t.eventID)/\(t.variant) \(v)") }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 700)
    }
}

/// A resolved message is written from its wording's literals, escaped once at
/// load, and its values: the same JSON string as escaping the message whole,
/// and nothing written for values that do not follow the wording's holes.
final class MessageWritingTests: XCTestCase {
    func testMessagesWriteAsTheirEscapedText() throws {
        let templates = ["Failed to open \"%(path)s\" for %(mode)s. Details: %(details)s", "%(a)s, %(b)s \\ end",
                         "No holes \"at all\".", "%(only)s", "Tab\there: %(value)s", "Two %(x)s and %(x)s again"]
        let messages = [["Failed to open \"/in/\u{1B}[31mx\" for reading. Details: no \"such\" file", "Failed to open \"\" for . Details: "],
                        ["a, b \\ end", "\u{2028}, q\u{7F} \\ end"], ["No holes \"at all\"."], ["anything \"\\ at all"],
                        ["Tab\there: \u{0}", "Tab\there:    spaced"], ["Two é and ü again"]]
        var written = 0, refusals = 0
        for (text, ms) in zip(templates, messages) {
            let t = EventTemplate(eventID: "90001", variant: 1, template: text, fields: [], groups: [], fromVersion: nil,
                                  toVersion: nil, documentedIn: [], seenIn: [], inferred: false, description: nil)
            for message in ms {
                let m = Array(message.utf8)
                var values: [(Int, Range<Int>)] = [], work: [(Int, Range<Int>)] = []
                let matched = m.withUnsafeBufferPointer { t.matchPieces($0, into: &values, work: &work) }
                XCTAssertTrue(matched, message)
                var whole = JSONBytes()
                whole.string(message)
                let o = JSONOutput(capacity: 64)
                o.raw("x")
                let ok = m.withUnsafeBufferPointer { m in
                    values.withUnsafeBufferPointer { v in
                        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: v.count) { t.writeMessage(m, values: v, to: o, escaped: $0) }
                    }
                }
                XCTAssertTrue(ok, message)
                XCTAssertEqual(o.withBytes { Array($0) }, Array("x".utf8) + whole.bytes, message)
                written += 1
                // Values that are not the holes' (shifted by a byte): nothing is written.
                guard let last = values.last, last.1.upperBound > last.1.lowerBound else { continue }
                values[values.count - 1].1 = (last.1.lowerBound + 1)..<last.1.upperBound
                o.removeAll()
                let refused = m.withUnsafeBufferPointer { m in
                    values.withUnsafeBufferPointer { v in
                        withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: v.count) { t.writeMessage(m, values: v, to: o, escaped: $0) }
                    }
                }
                XCTAssertFalse(refused, message)
                XCTAssertEqual(o.count, 0, message)
                refusals += 1
            }
        }
        XCTAssertEqual(written, 9)
        XCTAssertEqual(refusals, 7)
    }
}
