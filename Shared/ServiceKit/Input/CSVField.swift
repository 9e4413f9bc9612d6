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
