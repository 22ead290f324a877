import Foundation

/// The one table renderer: aligned columns for a terminal or a pipe, values
/// already escaped by the caller. Two styles, each printing what its commands
/// always printed:
/// - `compact` (`sessions`, the report's tables): one space between columns,
///   titles aligned like their column, trailing spaces trimmed;
/// - `ruled` (`query`, `catalog`): two spaces between columns, left-aligned
///   titles with a rule of dashes under them.
///
/// A cell longer than `maxCell` is cut (ending in `…`). When the table is wider
/// than `width` (a terminal's; pipes pass none), its flexible columns give up
/// width, lowest `shrinkOrder` first, down to their `minWidth`, and cells longer
/// than their column are cut.
public enum TextTable {
    public enum Style: Sendable { case compact, ruled }

    public struct Column: Sendable {
        public var title: String
        public var rightAligned: Bool
        public var flexible: Bool
        public var minWidth: Int
        public var shrinkOrder: Int
        public init(_ title: String, right: Bool = false, flexible: Bool = false, min: Int = 3, shrinkOrder: Int = 0) {
            self.title = title; rightAligned = right; self.flexible = flexible; minWidth = min; self.shrinkOrder = shrinkOrder
        }
    }

    public static func render(_ columns: [Column], _ rows: [[String]], style: Style = .compact, width: Int? = nil,
                              maxCell: Int? = nil) -> String {
        let cells = maxCell.map { m in rows.map { $0.map { $0.count > m ? String($0.prefix(m - 1)) + "…" : $0 } } } ?? rows
        var layout = Layout(columns, style: style)
        for r in cells { layout.measure(r) }
        layout.fit(width: width)
        var out = layout.header()
        for r in cells { out += layout.line(r) + "\n" }
        return out
    }

    /// A table laid out a row at a time: every row measured first (`measure`),
    /// then the widths fitted (`fit`) and each row written (`line`), so rows
    /// set aside as they come need not all be held at once.
    public struct Layout: Sendable {
        let columns: [Column]
        let style: Style
        private(set) var widths: [Int]

        public init(_ columns: [Column], style: Style = .compact) {
            self.columns = columns
            self.style = style
            widths = columns.map { $0.title.count }
        }

        public mutating func measure(_ row: [String]) {
            for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) }
        }

        /// Flexible columns give up width, lowest `shrinkOrder` first, down to their `minWidth`.
        public mutating func fit(width: Int?) {
            guard let width else { return }
            var total = widths.reduce(0, +) + gap * (columns.count - 1)
            while total > width {
                guard let i = widths.indices.filter({ columns[$0].flexible && widths[$0] > columns[$0].minWidth })
                    .min(by: { columns[$0].shrinkOrder < columns[$1].shrinkOrder }) else { break }
                widths[i] -= 1
                total -= 1
            }
        }

        private var gap: Int { style == .compact ? 1 : 2 }

        /// The titles' line (and the rule under them, ruled), each line ended.
        public func header() -> String {
            var out = line(columns.map(\.title), title: true) + "\n"
            if style == .ruled { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
            return out
        }

        /// A row's line, without its end.
        public func line(_ row: [String], title: Bool = false) -> String {
            var parts: [String] = []
            for (i, s) in row.enumerated() where i < widths.count {
                let v = s.count > widths[i] ? String(s.prefix(max(1, widths[i] - 1))) + "…" : s
                let pad = String(repeating: " ", count: max(0, widths[i] - v.count))
                let right = columns[i].rightAligned && (style == .compact || !title)
                // Ruled: nothing after the last cell; compact trims the line instead.
                parts.append(right ? pad + v : (style == .ruled && i == row.count - 1 ? v : v + pad))
            }
            let text = parts.joined(separator: String(repeating: " ", count: gap))
            return style == .compact ? text.trimmingTrailing() : text
        }
    }
}
