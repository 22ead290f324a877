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

/// Renders the rows of `sftplog query`.
public enum QueryRunner {
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
    public static func render(_ r: QueryResult, as format: OutputFormat, maxCell: Int = 60) -> String {
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
