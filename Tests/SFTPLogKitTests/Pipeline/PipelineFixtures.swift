import Foundation
import SFTPLogKit

/// What the pipeline tests read and build sessions with: the bundled rules,
/// policy and catalogue, times in UTC.
enum PipelineFixtures {
    static func rebuild() -> SessionRebuild {
        let memo = SessionJudge.Memo(SessionJudge(policy: try! AlgorithmPolicy.bundled()))
        return SessionRebuild(rules: try! SessionRules.bundled(), zone: TimeZone(identifier: "UTC")!, judge: { memo.judge(&$0) })
    }

    static var stream: RecordStream {
        RecordStream(options: ReaderOptions(timeZone: TimeZone(identifier: "UTC")!), catalog: try! EventCatalog.shared())
    }
}
