import Foundation
import SFTPLogRecords
import SFTPLogCatalog
import SFTPLogSessions
import SFTPLogStore

/// Every output format sftplog writes. Each command accepts the part it can
/// render (`report`: text, markdown, html, json; listings: table, json, csv…).
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, text, markdown, html, json, ndjson, csv
}

public enum QueryOutputError: Error, CustomStringConvertible {
    case tableTooLarge(String)
    public var description: String {
        switch self { case .tableTooLarge(let m): return m }
    }
}

/// Renders the rows of `sftplog query`.
public enum QueryRunner {
    /// The most a table may take. Every row is padded to the widest cell of each
    /// column, so one long log line in a column of many rows (a table into a
    /// pipe has no cell limit) asked for tens of GB and aborted.
    static let tableLimit = 1 << 30

    /// Why a table would not fit in `tableLimit`, or nil.
    static func tableTooLarge(_ r: QueryResult, maxCell: Int) -> String? {
        var widths = [Int](repeating: 0, count: r.columns.count)
        for row in r.rows {
            for (i, v) in row.enumerated() where i < widths.count {
                let n: Int
                switch v {
                case .text(let t): n = t.utf8.count
                case .blob(let b): n = b.count
                default: n = 24
                }
                widths[i] = max(widths[i], min(n, maxCell))
            }
        }
        let rowBytes = widths.reduce(3 * widths.count + 1) { $0 + $1 + 2 }
        let (total, overflow) = rowBytes.multipliedReportingOverflow(by: r.rows.count + 3)
        guard overflow || total > tableLimit else { return nil }
        let widest = widths.indices.max { widths[$0] < widths[$1] }.map { r.columns[$0] } ?? ""
        return "the table would take more than \(tableLimit >> 30) GiB (column \(TextEscaper.terminalSafe(widest)) holds values of up to "
            + "\(widths.max() ?? 0) bytes, and every row is padded to them); use --format csv, json or ndjson, or select fewer columns"
    }

    static func text(_ v: QueryValue) -> String {
        switch v {
        case .null: return ""
        case .integer(let i): return String(i)
        case .real(let d): return JSONValue.format(d)
        case .text(let s): return s
        case .blob(let d): return UTF8Text.decode(d).0
        }
    }

    static func json(_ v: QueryValue) -> JSONValue {
        switch v {
        case .null: return .null
        case .integer(let i): return .int(Int(i))
        case .real(let d): return .double(d)
        case .text(let s): return .string(s)
        case .blob(let d):
            let (s, ok) = UTF8Text.decode(d)
            return ok ? .string(s) : .object([("base64", .string(Data(d).base64EncodedString()))])
        }
    }

    /// `maxCell`: the longest table cell (longer ones end in `…`).
    public static func render(_ r: QueryResult, as format: OutputFormat, maxCell: Int = 60) throws -> String {
        switch format {
        case .json:
            return JSONValue.array(r.rows.map { row in .object(zip(r.columns, row).map { ($0, json($1)) }) }).json + "\n"
        case .ndjson:
            return r.rows.map { row in JSONValue.object(zip(r.columns, row).map { ($0, json($1)) }).json + "\n" }.joined()
        case .csv:
            var out = r.columns.map(TextEscaper.csvCell).joined(separator: ",") + "\r\n"
            for row in r.rows { out += row.map { TextEscaper.csvCell(text($0)) }.joined(separator: ",") + "\r\n" }
            return out
        case .table, .text, .markdown, .html:
            // A result set has one human form, the terminal table.
            if let tooWide = tableTooLarge(r, maxCell: maxCell) { throw QueryOutputError.tableTooLarge(tooWide) }
            let numeric = r.columns.indices.map { i in
                !r.rows.isEmpty && r.rows.allSatisfy {
                    switch $0[i] { case .integer, .real, .null: return true; default: return false }
                }
            }
            return TextTable.render(zip(r.columns, numeric).map { TextTable.Column($0, right: $1) },
                                    r.rows.map { $0.map { TextEscaper.terminalSafe(text($0)) } }, style: .ruled, maxCell: maxCell)
        }
    }
}
