//! How often a value occurs among persons who are not the same: the `u` of an exact agreement in
//! Fellegi–Sunter terms. A registry measures it on its own content ([`crate::PersonIndex`]);
//! a pair compared with no registry behind it uses the built-in prior below.
//!
//! Where the prior's numbers come from: public rankings of the commonest forenames in Iraq
//! (e.g. Forebears' forename list, where محمد, علي, حسين, أحمد and حسن lead) give the order; the
//! shares are our own order-of-magnitude estimates, not a measurement. They are shares of all
//! given-name slots (first, father's, grandfather's and mother's names pooled), because a name
//! agrees by chance in any of them. They matter only for a pair compared alone and for a small
//! index: an index blends them with its own counts ([`smoothed`]) and its counts dominate from a
//! few thousand persons on.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Share of an unlisted given name among given-name slots.
pub const DEFAULT_GIVEN: f64 = 0.000_2;
/// Share of an unlisted family (tribe or clan) name among family names.
pub const DEFAULT_FAMILY: f64 = 0.002;
/// Share of registered persons born on one given 1 January or 1 July: a fifth of records carry
/// one of these two placeholder dates (the day and month were unknown), spread over about sixty
/// birth years.
pub const PLACEHOLDER_DATE: f64 = 0.2 / 2.0 / 60.0;
/// Share of registered persons born on one given other day: the remaining four fifths over
/// 365 days and sixty years.
pub const ORDINARY_DATE: f64 = 0.8 / 365.0 / 60.0;
/// Pseudo-count of the prior when an index blends it with its own counts.
pub const PRIOR_WEIGHT: f64 = 5_000.0;

const GIVEN: &[(&str, f64)] = &[
    ("محمد", 0.045),
    ("علي", 0.035),
    ("حسين", 0.025),
    ("احمد", 0.022),
    ("حسن", 0.020),
    ("عباس", 0.012),
    ("جاسم", 0.010),
    ("كاظم", 0.010),
    ("عبد الله", 0.010),
    ("حيدر", 0.008),
    ("مهدي", 0.008),
    ("جعفر", 0.007),
    ("كريم", 0.007),
    ("محمود", 0.006),
    ("خالد", 0.006),
    ("عمر", 0.006),
    ("ابراهيم", 0.006),
    ("مصطفى", 0.006),
    ("جبار", 0.005),
    ("يوسف", 0.005),
    ("صالح", 0.005),
    ("سعد", 0.004),
    ("عبد الحسين", 0.004),
    ("هادي", 0.004),
    ("سلمان", 0.004),
    ("قاسم", 0.004),
    ("فاضل", 0.004),
    ("ناصر", 0.003),
    ("رضا", 0.003),
    ("عادل", 0.003),
    // Women's names (mothers, and first names of women).
    ("فاطمة", 0.020),
    ("زينب", 0.018),
    ("زهراء", 0.008),
    ("مريم", 0.008),
    ("نور", 0.007),
    ("هدى", 0.005),
    ("رقية", 0.005),
    ("سعاد", 0.004),
    ("ايمان", 0.004),
    ("خديجة", 0.004),
    ("سارة", 0.004),
    ("امل", 0.003),
    ("عائشة", 0.003),
];

const FAMILY: &[(&str, f64)] = &[
    ("الجبوري", 0.030),
    ("التميمي", 0.025),
    ("الدليمي", 0.020),
    ("الساعدي", 0.020),
    ("الزبيدي", 0.015),
    ("العبيدي", 0.015),
    ("الشمري", 0.015),
    ("الموسوي", 0.015),
    ("الخفاجي", 0.010),
    ("الربيعي", 0.010),
    ("الكعبي", 0.010),
    ("الحسيني", 0.010),
    ("البياتي", 0.008),
    ("العزاوي", 0.008),
];

fn table(
    entries: &'static [(&'static str, f64)],
    fold: fn(&str) -> String,
    cell: &'static OnceLock<HashMap<String, f64>>,
) -> &'static HashMap<String, f64> {
    // Folded at first use so that the table follows whatever the normalisation crate folds to.
    cell.get_or_init(|| {
        entries
            .iter()
            .map(|(name, share)| (fold(name), *share))
            .collect()
    })
}

/// The prior share of a given name (folded with [`normalisation::fold_part`]) among given-name
/// slots.
pub fn prior_given(folded: &str) -> f64 {
    static CELL: OnceLock<HashMap<String, f64>> = OnceLock::new();
    table(GIVEN, normalisation::fold_part, &CELL)
        .get(folded)
        .copied()
        .unwrap_or(DEFAULT_GIVEN)
}

/// The prior share of a folded family name among family names.
pub fn prior_family(folded: &str) -> f64 {
    static CELL: OnceLock<HashMap<String, f64>> = OnceLock::new();
    table(FAMILY, normalisation::fold, &CELL)
        .get(folded)
        .copied()
        .unwrap_or(DEFAULT_FAMILY)
}

/// The prior share of persons born on `year-month-day` (a full date).
pub fn prior_date(month: u8, day: u8) -> f64 {
    if is_placeholder(month, day) {
        PLACEHOLDER_DATE
    } else {
        ORDINARY_DATE
    }
}

/// 1 January and 1 July: what registrars write when only the year is known.
pub fn is_placeholder(month: u8, day: u8) -> bool {
    day == 1 && (month == 1 || month == 7)
}

/// A share measured as `count` out of `total`, blended with `prior` worth [`PRIOR_WEIGHT`]
/// observations, so that a small index is not fooled by its own few persons.
pub fn smoothed(count: u32, total: u64, prior: f64) -> f64 {
    (f64::from(count) + PRIOR_WEIGHT * prior) / (total as f64 + PRIOR_WEIGHT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_are_commoner_than_the_default() {
        assert!(prior_given(&normalisation::fold_part("محمد")) > 50.0 * DEFAULT_GIVEN);
        assert!(prior_given(&normalisation::fold_part("عبدالله")) > 10.0 * DEFAULT_GIVEN);
        assert_eq!(
            prior_given(&normalisation::fold_part("ئاراس")),
            DEFAULT_GIVEN
        );
        assert!(prior_family(&normalisation::fold("الجبوري")) > DEFAULT_FAMILY);
    }

    #[test]
    fn placeholder_dates_are_far_commoner_than_others() {
        assert!(prior_date(1, 1) > 40.0 * prior_date(3, 12));
        assert!(prior_date(7, 1) > 40.0 * prior_date(7, 2));
    }

    #[test]
    fn counts_overrule_the_prior_as_the_index_grows() {
        let small = smoothed(5, 10, 0.001);
        let large = smoothed(50_000, 1_000_000, 0.001);
        assert!(small < 0.01);
        assert!((large - 0.05).abs() < 0.001);
    }
}
