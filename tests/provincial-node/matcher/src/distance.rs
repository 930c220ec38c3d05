//! Edit distance for touchscreen typos.
//!
//! Our own bounded optimal-string-alignment (restricted Damerau–Levenshtein) distance rather
//! than `strsim`'s: names are a few letters long, the matcher calls this millions of times in a
//! de-duplication, and this one works on stack buffers (no allocation), stops as soon as the
//! bound is exceeded, and compares `char`s so that an Arabic letter counts as one edit.

/// Longest name part compared letter by letter; longer parts are compared whole.
const MAX_CHARS: usize = 48;

/// The optimal-string-alignment distance between `a` and `b` (insertions, deletions,
/// substitutions and transpositions of adjacent letters), or `None` when it exceeds `bound`.
pub fn bounded_osa(a: &str, b: &str, bound: usize) -> Option<usize> {
    if a == b {
        return Some(0);
    }
    let mut ab = ['\0'; MAX_CHARS];
    let mut bb = ['\0'; MAX_CHARS];
    let (mut n, mut m) = (0, 0);
    for c in a.chars() {
        if n == MAX_CHARS {
            return None;
        }
        ab[n] = c;
        n += 1;
    }
    for c in b.chars() {
        if m == MAX_CHARS {
            return None;
        }
        bb[m] = c;
        m += 1;
    }
    if n.abs_diff(m) > bound {
        return None;
    }
    let (a, b) = (&ab[..n], &bb[..m]);
    // Three rows of the dynamic programme: two back (for transpositions), one back, current.
    let mut prev2 = [0usize; MAX_CHARS + 1];
    let mut prev = [0usize; MAX_CHARS + 1];
    let mut cur = [0usize; MAX_CHARS + 1];
    for (j, p) in prev.iter_mut().enumerate().take(m + 1) {
        *p = j;
    }
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > bound {
            return None;
        }
        prev2 = prev;
        prev = cur;
    }
    let d = prev[m];
    (d <= bound).then_some(d)
}

/// How many typing errors a name part of this many letters may carry and still be taken for the
/// same name: one for short names (most Arabic given names have three to five letters), two from
/// seven letters (compounds such as عبد الرحمن).
pub fn typo_bound(letters: usize) -> usize {
    if letters >= 7 {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_of_each_kind_is_distance_one() {
        assert_eq!(bounded_osa("حسين", "حسن", 2), Some(1)); // deletion
        assert_eq!(bounded_osa("كاظم", "كاضم", 2), Some(1)); // neighbouring key
        assert_eq!(bounded_osa("محمد", "مجمد", 2), Some(1));
        assert_eq!(bounded_osa("علي", "عيل", 2), Some(1)); // transposition
        assert_eq!(bounded_osa("زينب", "زينبب", 2), Some(1)); // double tap
    }

    #[test]
    fn distances_above_the_bound_are_none() {
        assert_eq!(bounded_osa("محمد", "سعاد", 1), None);
        assert_eq!(bounded_osa("abcdef", "abc", 2), None);
        assert_eq!(bounded_osa("kitten", "sitting", 3), Some(3));
        assert_eq!(bounded_osa("kitten", "sitting", 2), None);
    }

    #[test]
    fn the_bound_grows_with_length() {
        assert_eq!(typo_bound(3), 1);
        assert_eq!(typo_bound("عبد الرحمن".chars().count()), 2);
    }
}
