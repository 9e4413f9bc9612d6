import Hummingbird

/// CSV downloads (cost reports, ledger statements): RFC 4180 quoting, and formula injection defused.
public enum CSVField {
    /// A field quoted when it must be, and never read as a formula by a spreadsheet (a leading =, +, -, @, tab or
    /// carriage return gets a ' before it).
    public static func escape(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@\t\r".contains(first) { value = "'" + value }
        guard value.contains(where: { ",\"\r\n".contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension CSVField {
    /// Rows as a CSV document: fields escaped, CRLF line ends (RFC 4180).
    public static func document(_ rows: [[String]]) -> String {
        rows.map { $0.map(Self.escape).joined(separator: ",") + "\r\n" }.joined()
    }
}

extension Request {
    /// Whether the caller asked for CSV: `?format=csv`, or `Accept: text/csv` without a `format`; `format` is json
    /// or csv (anything else is 400 `invalid_format`).
    public func wantsCSV() throws -> Bool {
        let format = try self.queryValues.string("format", maxLength: 10)
        guard format == nil || format == "json" || format == "csv" else {
            throw APIError.badRequest("invalid_format", "The query parameter format is json or csv.")
        }
        return format == "csv" || (format == nil && self.headers[.accept]?.contains("text/csv") == true)
    }

    /// A CSV download named `filename`.
    public static func csv(_ text: String, filename: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
