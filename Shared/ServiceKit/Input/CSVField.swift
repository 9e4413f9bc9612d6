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
        var stream = CSVStream()
        var records = try stream.feed(text.utf8)
        records += try stream.finish()
        return records
    }
}

/// `CSVReader` fed in pieces, as an upload arrives: a file of 100,000 rows is parsed as it streams in, holding one
/// record at a time. Works on bytes (the delimiters are ASCII, so a UTF-8 character split between two pieces is
/// joined before it is decoded); a field that is not UTF-8 is an error naming its line.
public struct CSVStream: Sendable {
    public typealias Record = (line: Int, fields: [String])
    var fields: [String] = []
    var field: [UInt8] = []
    var quoted = false
    /// A quote inside a quoted field: the next byte says whether it closes the field or is a doubled quote.
    var quoteSeen = false
    var afterQuote = false
    /// A carriage return ended the record: a line feed right after it belongs to it.
    var afterCR = false
    var line = 1
    var start = 1
    var first = true

    public init() {}

    /// The records completed by `bytes`.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(CSVReader.Malformed) -> [Record] {
        var records: [Record] = []
        for byte in bytes {
            if byte == 0 { throw CSVReader.Malformed(line: self.line, reason: "a NUL byte") }
            if self.afterCR {
                self.afterCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            if self.quoted {
                if self.quoteSeen {
                    self.quoteSeen = false
                    if byte == UInt8(ascii: "\"") {
                        self.field.append(byte)
                        continue
                    }
                    self.quoted = false
                    self.afterQuote = true
                } else if byte == UInt8(ascii: "\"") {
                    self.quoteSeen = true
                    continue
                } else {
                    if byte == UInt8(ascii: "\n") { self.line += 1 }
                    self.field.append(byte)
                    continue
                }
            }
            switch byte {
            case UInt8(ascii: "\"") where self.field.isEmpty && !self.afterQuote:
                self.quoted = true
            case UInt8(ascii: ","):
                try self.endField()
                self.afterQuote = false
            case UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                if let record = try self.endRecord() { records.append(record) }
                self.afterQuote = false
                self.afterCR = byte == UInt8(ascii: "\r")
                self.line += 1
                self.start = self.line
            default:
                if self.afterQuote { throw CSVReader.Malformed(line: self.line, reason: "text after a closing quote") }
                self.field.append(byte)
            }
        }
        return records
    }

    /// The last record, when the input does not end with a line break.
    public mutating func finish() throws(CSVReader.Malformed) -> [Record] {
        if self.quoted && self.quoteSeen {
            self.quoted = false
            self.quoteSeen = false
        }
        if self.quoted { throw CSVReader.Malformed(line: self.start, reason: "a quote left open") }
        guard !self.field.isEmpty || !self.fields.isEmpty, let record = try self.endRecord() else { return [] }
        return [record]
    }

    mutating func endField() throws(CSVReader.Malformed) {
        guard var text = String(validating: self.field, as: UTF8.self) else {
            throw CSVReader.Malformed(line: self.line, reason: "text that is not UTF-8")
        }
        if self.first {
            // a byte-order mark before the first field
            if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
            self.first = false
        }
        self.fields.append(text)
        self.field.removeAll(keepingCapacity: true)
    }

    mutating func endRecord() throws(CSVReader.Malformed) -> Record? {
        try self.endField()
        defer { self.fields.removeAll(keepingCapacity: true) }
        // a blank line
        if self.fields.count == 1 && self.fields[0].isEmpty { return nil }
        return (self.start, self.fields)
    }
}
