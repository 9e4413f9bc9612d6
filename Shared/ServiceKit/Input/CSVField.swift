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

/// CSV uploads (leads, campaign targets): RFC 4180 records, quoted fields with doubled quotes and line breaks,
/// CRLF or LF line ends, a UTF-8 byte-order mark ignored. A quote left open or a NUL byte is an error naming the line.
public enum CSVReader {
    public struct Malformed: Error, Equatable {
        public var line: Int
        public var reason: String

        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }
    }

    /// The records, each with the line it starts on; blank lines are skipped.
    public static func records(_ text: String) throws(Malformed) -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false
        var afterQuote = false
        var line = 1
        var start = 1
        var scalars = text.unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((start, fields)) }
            fields = []
            field = ""
        }
        var iterator = scalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        while let scalar = pending ?? iterator.next() {
            pending = nil
            if scalar == "\0" { throw Malformed(line: line, reason: "a NUL byte") }
            if quoted {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        field.unicodeScalars.append("\"")
                    } else {
                        quoted = false
                        afterQuote = true
                        pending = next
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty && !afterQuote:
                quoted = true
            case ",":
                fields.append(field)
                field = ""
                afterQuote = false
            case "\r":
                let next = iterator.next()
                if next != "\n" { pending = next }
                endRecord()
                afterQuote = false
                line += 1
                start = line
            case "\n":
                endRecord()
                afterQuote = false
                line += 1
                start = line
            default:
                if afterQuote { throw Malformed(line: line, reason: "text after a closing quote") }
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw Malformed(line: start, reason: "a quote left open") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
