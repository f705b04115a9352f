extension String {
    /// The string with `pad` in front up to `width` characters ("7" → "007").
    func leftPadded(to width: Int, with pad: Character = " ") -> String {
        String(repeating: pad, count: Swift.max(0, width - count)) + self
    }
}
