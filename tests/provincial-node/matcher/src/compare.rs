//! Comparing two persons field by field.

use serde::{Deserialize, Serialize};

use crate::prepared::{
    Folded, Name, View, FAMILY, FATHER, FIRST, GRANDFATHER, MOTHER_FIRST, MOTHER_REST,
};
use crate::weights::{self, NameWeights};
use crate::Person;

/// What the matcher concludes about a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The same person: refuse a second registration.
    Duplicate,
    /// Perhaps the same person: staff review.
    Possible,
    /// Different persons.
    Distinct,
}

/// A compared field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// National ID number.
    NationalId,
    /// First name.
    FirstName,
    /// Father's name.
    FatherName,
    /// Grandfather's name.
    GrandfatherName,
    /// Family name.
    FamilyName,
    /// Mother's name.
    MotherName,
    /// Date of birth.
    BirthDate,
    /// Sex.
    Sex,
    /// Governorate.
    Governorate,
}

/// How one field's values relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Equal after folding.
    Exact,
    /// Equal by the phonetic key (Kurdish and Arabic spellings, hamza…).
    Phonetic,
    /// Within a typing error or two.
    Typo,
    /// Partly equal (a date with day and month swapped, a name part of a compound).
    Partial,
    /// One side does not have it.
    Missing,
    /// Different.
    Disagree,
}

/// One field's part in a decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FieldEvidence {
    /// The field.
    pub field: Field,
    /// How the two values relate.
    pub agreement: Agreement,
    /// Its weight in the score (log2 of the likelihood ratio): positive for evidence of the
    /// same person, negative against.
    pub weight: f64,
}

/// The decision on a pair, with its score and per-field explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The decision.
    pub decision: Decision,
    /// The total weight (sum of the fields' weights).
    pub score: f64,
    /// One entry per compared field.
    pub explanation: Vec<FieldEvidence>,
}

/// Compares two persons with no registry behind them: name and date frequencies come from the
/// built-in prior ([`crate::frequency`]).
pub fn compare_pair(a: &Person, b: &Person) -> Comparison {
    let (a, b) = (Folded::new(a), Folded::new(b));
    score(
        &a.view_with_prior(),
        &b.view_with_prior(),
        &Thresholds::PAIR,
        true,
    )
    .into_comparison()
}

/// The scores from which a pair is `duplicate` or `possible`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Scores from here are `duplicate` (when the identity fields agree).
    pub duplicate_at: f64,
    /// Scores from here are `possible`.
    pub possible_at: f64,
}

impl Thresholds {
    /// For a pair on its own, and for a registry up to [`weights::REFERENCE_REGISTRY`] persons.
    pub const PAIR: Thresholds = Thresholds {
        duplicate_at: weights::DUPLICATE_AT,
        possible_at: weights::POSSIBLE_AT,
    };

    /// For a check against a registry of `persons`: a registry twice as large offers twice as
    /// many chances of a look-alike, so the prior odds of any one candidate being the applicant
    /// halve and the thresholds rise by one bit (log2 of the likelihood ratio) per doubling.
    pub fn for_registry(persons: usize) -> Thresholds {
        let bits = weights::BITS_PER_DOUBLING
            * (persons.max(weights::REFERENCE_REGISTRY) as f64
                / weights::REFERENCE_REGISTRY as f64)
                .log2();
        Thresholds {
            duplicate_at: weights::DUPLICATE_AT + bits,
            possible_at: weights::POSSIBLE_AT + bits,
        }
    }
}

/// A scored pair before its explanation is copied out (no allocation: the index scores
/// millions of pairs and keeps few).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scored {
    pub decision: Decision,
    pub score: f64,
    pub evidence: [FieldEvidence; 9],
}

impl Scored {
    pub fn into_comparison(self) -> Comparison {
        Comparison {
            decision: self.decision,
            score: self.score,
            explanation: self.evidence.to_vec(),
        }
    }
}

fn log2_ratio(m: f64, u: f64) -> f64 {
    (m / u.max(weights::MIN_SHARE)).log2()
}

/// One name slot: exact (weighted by the value's frequency), phonetic, typo, missing, disagree.
///
/// `across_scripts` says whether one record is in Kurdish script and the other in Arabic: only
/// then is a phonetic agreement between two common names a spelling of one name (حەسەن / حسن);
/// within one script, names the phonetic key collapses (حسن / حسين) are two names.
fn compare_name(
    a: Option<Name<'_>>,
    b: Option<Name<'_>>,
    w: &NameWeights,
    across_scripts: bool,
) -> (Agreement, f64) {
    let (Some(a), Some(b)) = (a, b) else {
        return (Agreement::Missing, 0.0);
    };
    if a.text == b.text {
        let weight = log2_ratio(w.m_exact, a.share.max(b.share)).clamp(w.typo, weights::MAX_NAME);
        return (Agreement::Exact, weight);
    }
    let both_known = a.share >= weights::KNOWN_NAME_SHARE && b.share >= weights::KNOWN_NAME_SHARE;
    if a.phonetic == b.phonetic && (across_scripts || !both_known) {
        let weight = (log2_ratio(w.m_exact, a.share.max(b.share)) - weights::PHONETIC_PENALTY)
            .clamp(w.typo, weights::MAX_NAME);
        return (Agreement::Phonetic, weight);
    }
    let letters = a.text.chars().count().max(b.text.chars().count());
    if a.phonetic == b.phonetic
        || crate::distance::bounded_osa(a.text, b.text, crate::distance::typo_bound(letters))
            .is_some()
    {
        // Two spellings that are each a common name in their own right (حسن and حسين) are more
        // likely two brothers than one typing error.
        if both_known {
            return (Agreement::Disagree, w.near_known);
        }
        return (Agreement::Typo, w.typo);
    }
    (Agreement::Disagree, w.disagree)
}

/// The lineage fields (father, grandfather, family) for one alignment of the name parts.
struct Lineage {
    father: (Agreement, f64),
    grandfather: (Agreement, f64),
    family: (Agreement, f64),
}

impl Lineage {
    fn total(&self) -> f64 {
        self.father.1 + self.grandfather.1 + self.family.1
    }
}

/// Father's, grandfather's and family names, tolerating a three-part name against a four-part
/// one: the three parts may be first-father-grandfather (family omitted), first-father-family
/// (grandfather omitted) or first-grandfather-family (father omitted). The best reading wins,
/// the ones that drop a middle part at a small cost.
fn lineage(a: &View<'_>, b: &View<'_>) -> Lineage {
    let x = a.kurdish_script != b.kurdish_script;
    fn n<'v>(v: &View<'v>, slot: usize) -> Option<Name<'v>> {
        v.names[slot]
    }
    let straight = Lineage {
        father: compare_name(n(a, FATHER), n(b, FATHER), &weights::FATHER, x),
        grandfather: compare_name(
            n(a, GRANDFATHER),
            n(b, GRANDFATHER),
            &weights::GRANDFATHER,
            x,
        ),
        family: compare_name(n(a, FAMILY), n(b, FAMILY), &weights::FAMILY, x),
    };
    let (short, long) = match (n(a, FAMILY).is_some(), n(b, FAMILY).is_some()) {
        (false, true) => (a, b),
        (true, false) => (b, a),
        _ => return straight,
    };
    let missing = (Agreement::Missing, 0.0);
    let no_grandfather = {
        let family = compare_name(n(short, GRANDFATHER), n(long, FAMILY), &weights::FAMILY, x);
        Lineage {
            father: straight.father,
            grandfather: missing,
            family: (family.0, family.1 - weights::OMITTED_PART_PENALTY),
        }
    };
    let no_father = {
        let grandfather = compare_name(
            n(short, FATHER),
            n(long, GRANDFATHER),
            &weights::GRANDFATHER,
            x,
        );
        let family = compare_name(n(short, GRANDFATHER), n(long, FAMILY), &weights::FAMILY, x);
        Lineage {
            father: missing,
            grandfather,
            family: (family.0, family.1 - 2.0 * weights::OMITTED_PART_PENALTY),
        }
    };
    [straight, no_grandfather, no_father]
        .into_iter()
        .max_by(|x, y| x.total().total_cmp(&y.total()))
        .unwrap_or_else(|| unreachable!("three candidates"))
}

/// Mother's name: her first name decides the level; the rest (her father's name), when both
/// sides have it, adds or takes a little.
fn compare_mother(a: &View<'_>, b: &View<'_>) -> ((Agreement, f64), bool) {
    let x = a.kurdish_script != b.kurdish_script;
    let (agreement, mut weight) = compare_name(
        a.names[MOTHER_FIRST],
        b.names[MOTHER_FIRST],
        &weights::MOTHER,
        x,
    );
    if matches!(agreement, Agreement::Missing) {
        return ((agreement, weight), false);
    }
    if agreement == Agreement::Disagree && same_letters(a, b) {
        // The same mother's name written with a space somewhere else (زينب حسين / زينبحسين).
        let share = a.names[MOTHER_FIRST]
            .map_or(1.0, |n| n.share)
            .max(b.names[MOTHER_FIRST].map_or(1.0, |n| n.share));
        return (
            (
                Agreement::Exact,
                log2_ratio(weights::MOTHER.m_exact, share)
                    .clamp(weights::MOTHER.typo, weights::MAX_NAME),
            ),
            false,
        );
    }
    let (rest, _) = compare_name(
        a.names[MOTHER_REST],
        b.names[MOTHER_REST],
        &weights::MOTHER,
        x,
    );
    weight += match rest {
        Agreement::Exact | Agreement::Phonetic => weights::MOTHER_REST_AGREES,
        Agreement::Typo => weights::MOTHER_REST_AGREES / 2.0,
        Agreement::Disagree => weights::MOTHER_REST_DISAGREES,
        Agreement::Partial | Agreement::Missing => 0.0,
    };
    ((agreement, weight), rest == Agreement::Disagree)
}

/// Whether the two mothers' names are the same letters once spaces are ignored (and the
/// alef, yeh or hamza seat a word starts or continues with: Kurdish ئ folds to ا at the start
/// of a word and to ي inside one).
fn same_letters(a: &View<'_>, b: &View<'_>) -> bool {
    fn letters<'v>(v: &View<'v>) -> impl Iterator<Item = char> + 'v {
        let part = |slot: usize| v.names[slot].map_or("", |n| n.text);
        part(MOTHER_FIRST)
            .chars()
            .chain(part(MOTHER_REST).chars())
            .filter(|c| !c.is_whitespace() && !matches!(c, 'ا' | 'ي' | 'ئ'))
    }
    letters(a).eq(letters(b))
}

/// Date of birth: exact (weighted by how many share the date: 1 January and 1 July are
/// placeholders), day and month swapped, one of day or month mistyped, year ±1, only the year
/// known, or apart.
fn compare_birth(a: &View<'_>, b: &View<'_>) -> (Agreement, f64) {
    let (Some(x), Some(y)) = (a.birth, b.birth) else {
        return (Agreement::Missing, 0.0);
    };
    let years_apart = x.year.abs_diff(y.year);
    let full = |d: &normalisation::BirthDate| match (d.month, d.day) {
        (Some(m), Some(day)) if !crate::frequency::is_placeholder(m, day) => Some((m, day)),
        _ => None,
    };
    match (full(&x), full(&y)) {
        (Some(dx), Some(dy)) => {
            if years_apart == 0 && dx == dy {
                (
                    Agreement::Exact,
                    log2_ratio(weights::BIRTH_M_EXACT, a.birth_share.max(b.birth_share)),
                )
            } else if years_apart == 0 && dx.0 == dy.1 && dx.1 == dy.0 {
                (Agreement::Partial, weights::BIRTH_SWAPPED)
            } else if years_apart == 0 && (dx.0 == dy.0 || dx.1 == dy.1) {
                (Agreement::Typo, weights::BIRTH_DAY_OR_MONTH_MISTYPED)
            } else if years_apart == 1 && dx == dy {
                (Agreement::Typo, weights::BIRTH_YEAR_PLUS_MINUS_ONE)
            } else if years_apart == 0 {
                (Agreement::Disagree, weights::BIRTH_SAME_YEAR_ONLY)
            } else if years_apart == 1 {
                (Agreement::Disagree, weights::BIRTH_YEAR_APART_ONE)
            } else {
                (Agreement::Disagree, weights::BIRTH_APART)
            }
        }
        // At least one side knows only the year (or carries a placeholder day and month).
        _ => {
            if years_apart == 0
                && x.month.is_some()
                && x.month == y.day
                && x.day == y.month
                && x != y
            {
                // 7 January written 1 July (or the other way round).
                (Agreement::Partial, weights::BIRTH_SWAPPED)
            } else if x == y {
                // Both the same placeholder date (or the same bare year).
                (
                    Agreement::Exact,
                    log2_ratio(weights::BIRTH_M_EXACT, a.birth_share.max(b.birth_share))
                        .min(weights::BIRTH_PLACEHOLDER_MAX),
                )
            } else if years_apart == 0 && x.month.is_some() && y.month.is_some() {
                // A 1 January or 1 July against another day of the same year: the placeholder
                // may stand for that day, or be someone else's real birthday.
                (Agreement::Partial, weights::BIRTH_PLACEHOLDER_VS_DATE)
            } else if years_apart == 0 {
                (Agreement::Partial, weights::BIRTH_YEAR_ONLY)
            } else if years_apart == 1 {
                (Agreement::Partial, weights::BIRTH_YEAR_ONLY_APART_ONE)
            } else {
                (Agreement::Disagree, weights::BIRTH_APART)
            }
        }
    }
}

/// Scores a pair: the sum of the fields' weights, the lineage (father, grandfather, family and
/// mother, which siblings share) capped, then the decision rules.
///
/// Without `explain`, a pair that cannot reach `possible` whatever its lineage says is
/// returned `distinct` as soon as that is known, with its score and explanation incomplete.
pub(crate) fn score(a: &View<'_>, b: &View<'_>, thresholds: &Thresholds, explain: bool) -> Scored {
    let national_id = match (
        a.national_id.as_ref().map(|x| x.as_str()),
        b.national_id.as_ref().map(|x| x.as_str()),
    ) {
        (Some(x), Some(y)) if x == y => (Agreement::Exact, weights::NATIONAL_ID_EXACT),
        (Some(x), Some(y)) if crate::distance::bounded_osa(x, y, 1).is_some() => {
            (Agreement::Typo, weights::NATIONAL_ID_TYPO)
        }
        (Some(_), Some(_)) => (Agreement::Disagree, weights::NATIONAL_ID_DISAGREE),
        _ => (Agreement::Missing, 0.0),
    };
    let x = a.kurdish_script != b.kurdish_script;
    let first = compare_name(a.names[FIRST], b.names[FIRST], &weights::FIRST, x);
    let birth = compare_birth(a, b);
    let sex = match (a.sex, b.sex) {
        (Some(x), Some(y)) if x == y => (Agreement::Exact, weights::SEX_AGREES),
        (Some(_), Some(_)) => (Agreement::Disagree, weights::SEX_DISAGREES),
        _ => (Agreement::Missing, 0.0),
    };
    let governorate = match (a.governorate, b.governorate) {
        (Some(x), Some(y)) if x == y => (Agreement::Exact, weights::GOVERNORATE_AGREES),
        // Not evidence against: the same person in two provinces is what we are looking for.
        (Some(_), Some(_)) => (Agreement::Disagree, 0.0),
        _ => (Agreement::Missing, 0.0),
    };
    let without_lineage = national_id.1 + first.1 + birth.1 + sex.1 + governorate.1;
    if !explain && without_lineage + weights::LINEAGE_CAP < thresholds.possible_at {
        let missing = FieldEvidence {
            field: Field::NationalId,
            agreement: Agreement::Missing,
            weight: 0.0,
        };
        return Scored {
            decision: Decision::Distinct,
            score: without_lineage + weights::LINEAGE_CAP,
            evidence: [missing; 9],
        };
    }
    let lineage = lineage(a, b);
    let (mother, mother_rest_disagrees) = compare_mother(a, b);
    let lineage_total = lineage.total() + mother.1;
    let lineage_counted = lineage_total.min(weights::LINEAGE_CAP);
    let score = without_lineage + lineage_counted;

    // What twins, brothers, namesakes and cousins differ in: a duplicate needs none of it to
    // disagree (first name, sex, mother's name and her father's, father's and grandfather's
    // names once a three-part name is aligned; only the family name, which people write as one
    // clan or another, may), and the date of birth to agree at least as well as a bare year.
    let identity_agrees = matches!(
        first.0,
        Agreement::Exact | Agreement::Phonetic | Agreement::Typo
    ) && (birth.0 == Agreement::Missing || birth.1 >= weights::BIRTH_GATE)
        && sex.0 != Agreement::Disagree
        && mother.0 != Agreement::Disagree
        && !mother_rest_disagrees
        && lineage.father.0 != Agreement::Disagree
        && lineage.grandfather.0 != Agreement::Disagree;
    let decision = if national_id.0 == Agreement::Exact
        || (score >= thresholds.duplicate_at
            && identity_agrees
            && national_id.0 != Agreement::Disagree)
    {
        Decision::Duplicate
    } else if score >= thresholds.possible_at {
        Decision::Possible
    } else {
        Decision::Distinct
    };
    let e = |field, (agreement, weight): (Agreement, f64)| FieldEvidence {
        field,
        agreement,
        weight,
    };
    // The lineage's share of the cap is shown on the fields in proportion, so the explanation's
    // weights still add up to the score.
    let scale = if lineage_total > weights::LINEAGE_CAP {
        weights::LINEAGE_CAP / lineage_total
    } else {
        1.0
    };
    let capped = |(agreement, weight): (Agreement, f64)| (agreement, weight * scale);
    Scored {
        decision,
        score,
        evidence: [
            e(Field::NationalId, national_id),
            e(Field::FirstName, first),
            e(Field::FatherName, capped(lineage.father)),
            e(Field::GrandfatherName, capped(lineage.grandfather)),
            e(Field::FamilyName, capped(lineage.family)),
            e(Field::MotherName, capped(mother)),
            e(Field::BirthDate, birth),
            e(Field::Sex, sex),
            e(Field::Governorate, governorate),
        ],
    }
}
