//! Ground truth kept beside each generated record: who the record really is, and what was done
//! to make it.

use matcher::Person;

/// How an injected duplicate differs from the registered person it duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DuplicateKind {
    /// The same record registered in another province.
    OtherProvince,
    /// Hamza forms written as bare alef or waw (أحمد → احمد).
    Hamza,
    /// Taa marbuta written as haa (فاطمة → فاطمه).
    TaaMarbuta,
    /// Alef maqsura and yaa confused (علي → على).
    AlefMaqsura,
    /// Kurdish-script names written in Arabic script or the other way round (ڕێباز → ريباز).
    OtherScript,
    /// A compound name with or without its space (عبد الله → عبدالله).
    CompoundSpacing,
    /// The family name left out (a three-part name).
    FamilyNameDropped,
    /// The grandfather's name left out: first, father and family name only.
    GrandfatherOmitted,
    /// A letter replaced by an adjacent key.
    TypoSubstitute,
    /// A letter left out.
    TypoDrop,
    /// A letter typed twice.
    TypoDouble,
    /// Day and month of the date of birth swapped.
    DayMonthSwapped,
    /// Only the year of birth given.
    YearOnly,
    /// Everything the same but the national ID not given.
    NationalIdMissing,
}

impl DuplicateKind {
    /// Every kind, in a fixed order.
    pub const ALL: [DuplicateKind; 14] = [
        DuplicateKind::OtherProvince,
        DuplicateKind::Hamza,
        DuplicateKind::TaaMarbuta,
        DuplicateKind::AlefMaqsura,
        DuplicateKind::OtherScript,
        DuplicateKind::CompoundSpacing,
        DuplicateKind::FamilyNameDropped,
        DuplicateKind::GrandfatherOmitted,
        DuplicateKind::TypoSubstitute,
        DuplicateKind::TypoDrop,
        DuplicateKind::TypoDouble,
        DuplicateKind::DayMonthSwapped,
        DuplicateKind::YearOnly,
        DuplicateKind::NationalIdMissing,
    ];

    /// The label written in the TSV and the evaluation's tables.
    pub fn label(self) -> &'static str {
        match self {
            DuplicateKind::OtherProvince => "other-province",
            DuplicateKind::Hamza => "hamza",
            DuplicateKind::TaaMarbuta => "taa-marbuta",
            DuplicateKind::AlefMaqsura => "alef-maqsura",
            DuplicateKind::OtherScript => "kurdish-arabic-script",
            DuplicateKind::CompoundSpacing => "compound-spacing",
            DuplicateKind::FamilyNameDropped => "family-name-dropped",
            DuplicateKind::GrandfatherOmitted => "grandfather-omitted",
            DuplicateKind::TypoSubstitute => "typo-substitute",
            DuplicateKind::TypoDrop => "typo-drop",
            DuplicateKind::TypoDouble => "typo-double",
            DuplicateKind::DayMonthSwapped => "day-month-swapped",
            DuplicateKind::YearOnly => "year-only",
            DuplicateKind::NationalIdMissing => "national-id-missing",
        }
    }
}

/// A different person who looks like a registered one: what a matcher must not call a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HardNegativeKind {
    /// A twin: same parents and date of birth, another first name.
    Twin,
    /// A brother with a name a letter or two away (حسن / حسين), same parents.
    NearNameBrother,
    /// Someone else with the same common three-part name born on 1 January of the same year.
    Namesake,
    /// A grandson named after his grandfather: same first and family name, another generation.
    GenerationApart,
}

impl HardNegativeKind {
    /// Every kind, in a fixed order.
    pub const ALL: [HardNegativeKind; 4] = [
        HardNegativeKind::Twin,
        HardNegativeKind::NearNameBrother,
        HardNegativeKind::Namesake,
        HardNegativeKind::GenerationApart,
    ];

    /// The label written in the TSV and the evaluation's tables.
    pub fn label(self) -> &'static str {
        match self {
            HardNegativeKind::Twin => "twin",
            HardNegativeKind::NearNameBrother => "near-name-brother",
            HardNegativeKind::Namesake => "namesake",
            HardNegativeKind::GenerationApart => "generation-apart",
        }
    }
}

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// A person's first (or only) record.
    Original,
    /// Another record of a registered person: `of` is the registry index of that person's
    /// original record.
    Duplicate {
        /// How it differs.
        kind: DuplicateKind,
        /// The registry index of the original.
        of: usize,
    },
    /// A different person made to look like the registered person at registry index `of`.
    HardNegative {
        /// How it looks alike.
        kind: HardNegativeKind,
        /// The registry index of the look-alike.
        of: usize,
    },
}

impl Label {
    /// The label written in the TSV.
    pub fn text(&self) -> &'static str {
        match self {
            Label::Original => "original",
            Label::Duplicate { kind, .. } => kind.label(),
            Label::HardNegative { kind, .. } => kind.label(),
        }
    }
}

/// The truth about one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truth {
    /// The real person: equal for every record of one person.
    pub person_id: u64,
    /// The household the person belongs to.
    pub household_id: u64,
    /// What the record is.
    pub label: Label,
}

/// A generated record: what the matcher sees, and the truth beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record as the matcher sees it.
    pub person: Person,
    /// The truth.
    pub truth: Truth,
}
