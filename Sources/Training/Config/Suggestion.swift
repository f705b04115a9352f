/// "Did you mean" for misspelled keys and names: the candidate with the smallest edit distance
/// (ignoring case), if it is close enough to be a plausible typo: at most a quarter of the
/// longer word's length in edits, and at least one.
func closestMatch(to word: String, among candidates: [String]) -> String? {
    let target = Array(word.lowercased())
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let d = editDistance(target, Array(candidate.lowercased()))
        if best == nil || d < best!.distance { best = (candidate, d) }
    }
    guard let best else { return nil }
    let limit = max(1, max(word.count, best.candidate.count) / 4)
    return best.distance <= limit ? best.candidate : nil
}

/// Levenshtein distance (insertions, deletions, substitutions).
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    var previous = Array(0...b.count)
    for (i, ca) in a.enumerated() {
        var current = [i + 1] + Array(repeating: 0, count: b.count)
        for (j, cb) in b.enumerated() {
            current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// `"a", "b", "c"`: a list of names for messages.
func quotedList(_ names: [String]) -> String { names.map { "\"\($0)\"" }.joined(separator: ", ") }
