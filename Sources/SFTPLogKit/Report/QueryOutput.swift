import Foundation
import GRDB

/// Output formats of `sftplog query` (and other listings).
public enum OutputFormat: String, CaseIterable, Sendable {
    case table, csv, json, ndjson
}

/// Runs one read-only SQL statement and renders its rows.
public enum QueryRunner {
    public struct Result {
        public var columns: [String]
        public var rows: [[DatabaseValue]]
    }

    public static func run(_ queue: DatabaseQueue, sql: String, arguments: StatementArguments = []) throws -> Result {
        try queue.read { db in
            let stmt: Statement
            do {
                stmt = try db.makeStatement(sql: sql)
            } catch let e as DatabaseError {
                throw QueryError.invalid(e.message ?? "\(e)")
            }
            guard stmt.isReadonly else {
                throw StoreError.readOnlyViolation("the database is opened read-only; statements that change it are refused")
            }
            stmt.arguments = arguments
            let cursor = try Row.fetchCursor(stmt)
            var rows: [[DatabaseValue]] = []
            while let row = try cursor.next() { rows.append(row.databaseValues.map { $0 }) }
            return Result(columns: stmt.columnNames, rows: rows)
        }
    }

    static func text(_ v: DatabaseValue) -> String {
        switch v.storage {
        case .null: return ""
        case .int64(let i): return String(i)
        case .double(let d): return JSONValue.format(d)
        case .string(let s): return s
        case .blob(let d): return UTF8Text.decode([UInt8](d)).0
        }
    }

    static func json(_ v: DatabaseValue) -> JSONValue {
        switch v.storage {
        case .null: return .null
        case .int64(let i): return .int(Int(i))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .blob(let d):
            let (s, ok) = UTF8Text.decode([UInt8](d))
            return ok ? .string(s) : .object([("base64", .string(d.base64EncodedString()))])
        }
    }

    /// `maxCell`: the longest table cell (longer ones end in `…`).
    public static func render(_ r: Result, as format: OutputFormat, maxCell: Int = 60) -> String {
        switch format {
        case .json:
            return JSONValue.array(r.rows.map { row in .object(zip(r.columns, row).map { ($0, json($1)) }) }).json + "\n"
        case .ndjson:
            return r.rows.map { row in JSONValue.object(zip(r.columns, row).map { ($0, json($1)) }).json + "\n" }.joined()
        case .csv:
            var out = r.columns.map(TextEscaper.csvCell).joined(separator: ",") + "\r\n"
            for row in r.rows { out += row.map { TextEscaper.csvCell(text($0)) }.joined(separator: ",") + "\r\n" }
            return out
        case .table:
            return TableLayout.render(header: r.columns, rows: r.rows.map { $0.map { TextEscaper.terminalSafe(text($0)) } },
                                      numeric: r.columns.indices.map { i in
                                          !r.rows.isEmpty && r.rows.allSatisfy {
                                              switch $0[i].storage { case .int64, .double, .null: return true; default: return false }
                                          }
                                      }, maxCell: maxCell)
        }
    }
}

public enum QueryError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let m): return "SQL error: \(m)" }
    }
}

/// Aligned columns for a terminal (values already escaped by the caller).
public enum TableLayout {
    public static func width(_ s: String) -> Int { s.count }

    public static func render(header: [String], rows: [[String]], numeric: [Bool] = [], maxCell: Int = 60) -> String {
        let cut: (String) -> String = { s in s.count > maxCell ? String(s.prefix(maxCell - 1)) + "…" : s }
        let cells = rows.map { $0.map(cut) }
        var widths = header.map(width)
        for row in cells { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], width(c)) } }
        func line(_ row: [String], _ isHeader: Bool) -> String {
            var parts: [String] = []
            for (i, c) in row.enumerated() {
                let pad = String(repeating: " ", count: max(0, widths[i] - width(c)))
                let right = !isHeader && i < numeric.count && numeric[i]
                parts.append(right ? pad + c : (i == row.count - 1 ? c : c + pad))
            }
            return parts.joined(separator: "  ")
        }
        var out = line(header, true) + "\n"
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for row in cells { out += line(row, false) + "\n" }
        return out
    }
}
