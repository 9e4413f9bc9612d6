/// Patterns for `ILIKE` that match what a person typed literally.
public enum LikePattern {
    /// A pattern matching text that contains `search` literally (its `\`, `%` and `_` escaped); nil for nil.
    public static func containing(_ search: String?) -> String? {
        search.map {
            let escaped = $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            return "%" + escaped.replacingOccurrences(of: "_", with: "\\_") + "%"
        }
    }
}
