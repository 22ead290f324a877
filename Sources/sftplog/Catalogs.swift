import Foundation
import SFTPLogKit

/// Wiring of the bundled catalogue into commands.
enum Catalogs {
    static func load() throws -> EventCatalog { try EventCatalog.shared() }

    static func sessionRebuild(zone: TimeZone, policy: AlgorithmPolicy? = nil) throws -> SessionRebuild {
        // Sessions of one server share a few negotiations: each is judged once.
        let memo = SessionJudge.Memo(SessionJudge(policy: try policy ?? AlgorithmPolicy.bundled()))
        return SessionRebuild(rules: try SessionRules.bundled(), zone: zone, judge: { memo.judge(&$0) })
    }
}
