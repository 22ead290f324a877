import Foundation
import GRDB
import SFTPLogKit

/// Wiring of the bundled catalogue into commands.
enum Catalogs {
    static func load() throws -> EventCatalog { try EventCatalog.shared() }
}
