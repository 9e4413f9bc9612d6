/// A 5×7 pixel font for the few characters a voucher card needs, so no font library is linked.
/// Lowercase letters are drawn as capitals, typographic dashes and quotes as ASCII, anything else as "?".
enum BitmapFont {
    static let glyphWidth = 5
    static let glyphHeight = 7
    /// Blank columns after each glyph, in font pixels.
    static let spacing = 1

    /// Width in image pixels of `text` at `scale`, without trailing spacing.
    static func width(of text: String, scale: Int) -> Int {
        let count = text.count
        return count == 0 ? 0 : (count * (glyphWidth + spacing) - spacing) * scale
    }

    /// Draws `text` with its top-left corner at (x, y), each font pixel `scale` image pixels square.
    static func draw(_ text: String, into bitmap: inout Bitmap, x: Int, y: Int, scale: Int, color: Bitmap.Color) {
        var left = x
        for character in text {
            let rows = glyph(for: character)
            for (row, bits) in rows.enumerated() {
                for column in 0..<glyphWidth where bits & (1 << (glyphWidth - 1 - column)) != 0 {
                    bitmap.fill(x: left + column * scale, y: y + row * scale, width: scale, height: scale, color: color)
                }
            }
            left += (glyphWidth + spacing) * scale
        }
    }

    static func glyph(for character: Character) -> [UInt8] {
        // Some capitals are two letters ("ß" → "SS"); those have no glyph, like any other unknown character.
        let upper = character.uppercased()
        guard upper.count == 1 else { return glyphs["?"]! }
        let key = Character(upper)
        return glyphs[key] ?? glyphs[lookalikes[key] ?? "?"] ?? glyphs["?"]!
    }

    /// Typographic punctuation that phones and word processors substitute, drawn as its plain ASCII form.
    private static let lookalikes: [Character: Character] = [
        "\u{2013}": "-", "\u{2014}": "-", "\u{2212}": "-", "\u{2018}": "'", "\u{2019}": "'",
        "\u{201C}": "'", "\u{201D}": "'", "\"": "'", "\u{00A0}": " ", "\u{2009}": " ", "\u{202F}": " ",
    ]

    /// Each glyph is seven rows of five columns; "#" is ink. Parsed once into one bit mask per row.
    private static let glyphs: [Character: [UInt8]] = {
        let art: [Character: String] = [
            "A": ".###. #...# #...# ##### #...# #...# #...#",
            "B": "####. #...# #...# ####. #...# #...# ####.",
            "C": ".###. #...# #.... #.... #.... #...# .###.",
            "D": "###.. #..#. #...# #...# #...# #..#. ###..",
            "E": "##### #.... #.... ####. #.... #.... #####",
            "F": "##### #.... #.... ####. #.... #.... #....",
            "G": ".###. #...# #.... #.### #...# #...# .####",
            "H": "#...# #...# #...# ##### #...# #...# #...#",
            "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
            "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
            "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
            "L": "#.... #.... #.... #.... #.... #.... #####",
            "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
            "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
            "O": ".###. #...# #...# #...# #...# #...# .###.",
            "P": "####. #...# #...# ####. #.... #.... #....",
            "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
            "R": "####. #...# #...# ####. #.#.. #..#. #...#",
            "S": ".#### #.... #.... .###. ....# ....# ####.",
            "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
            "U": "#...# #...# #...# #...# #...# #...# .###.",
            "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
            "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
            "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
            "Y": "#...# #...# #...# .#.#. ..#.. ..#.. ..#..",
            "Z": "##### ....# ...#. ..#.. .#... #.... #####",
            "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
            "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
            "2": ".###. #...# ....# ...#. ..#.. .#... #####",
            "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
            "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
            "5": "##### #.... ####. ....# ....# #...# .###.",
            "6": "..##. .#... #.... ####. #...# #...# .###.",
            "7": "##### ....# ...#. ..#.. .#... .#... .#...",
            "8": ".###. #...# #...# .###. #...# #...# .###.",
            "9": ".###. #...# #...# .#### ....# ...#. .##..",
            " ": "..... ..... ..... ..... ..... ..... .....",
            ".": "..... ..... ..... ..... ..... .##.. .##..",
            ",": "..... ..... ..... ..... .##.. ..#.. .#...",
            ":": "..... .##.. .##.. ..... .##.. .##.. .....",
            "-": "..... ..... ..... ##### ..... ..... .....",
            "/": "..... ....# ...#. ..#.. .#... #.... .....",
            "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
            "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
            "!": "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",
            "'": ".##.. ..#.. .#... ..... ..... ..... .....",
            "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
            ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
            "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",
            "%": "##... ##..# ...#. ..#.. .#... #..## ...##",
        ]
        return art.mapValues { picture in
            picture.split(separator: " ").map { row in
                row.reduce(UInt8(0)) { bits, pixel in bits << 1 | (pixel == "#" ? 1 : 0) }
            }
        }
    }()
}
