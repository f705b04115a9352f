/// Word-level tokenisation for the translation data: the text is lowercased, typographic
/// apostrophes (’) become ', and it is cut into runs of letters and digits (words); every other
/// character that is not white space (punctuation, «, », $, %…) is a token of its own and white
/// space (including the French non-breaking spaces before ! and ?) only separates.
///
///     "I'm ruined."   → i ' m ruined .
///     "Va, vite !"    → va , vite !
public enum WordTokenizer {
    public static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        for c in text.lowercased() {
            if c.isLetter || c.isNumber {
                word.append(c)
                continue
            }
            if !word.isEmpty { tokens.append(word); word = "" }
            if !c.isWhitespace { tokens.append(c == "\u{2019}" ? "'" : String(c)) }
        }
        if !word.isEmpty { tokens.append(word) }
        return tokens
    }
}
