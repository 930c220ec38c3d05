//! How fast folding is, against two baselines measured in the same run on the same names:
//! `str::to_lowercase` (one pass of the standard library over every character, allocating the
//! result: about the least any folding can cost) and a naive folding written as a chain of
//! `str::replace` calls (one pass per rule). Also `name_parts` and `phonetic_key` per name.
//!
//! `CARGO_TARGET_DIR=… cargo bench -p normalisation --bench fold` (about 10 s).

use std::hint::black_box;
use std::time::{Duration, Instant};

use normalisation::{fold, name_parts, phonetic_key};

const WORDS: &[&str] = &[
    "أحمد",
    "مُحَمَّد",
    "علي",
    "حسين",
    "فاطمة",
    "زينب",
    "عبد الله",
    "نور الهدى",
    "ئەحمەد",
    "محەمەد",
    "عەلی",
    "حوسێن",
    "فاتمە",
    "ڕەزا",
    "کەریم",
    "جاسم",
    "كاظم",
    "الجبوري",
    "مصطفى",
    "عائشة",
    "إبراهيم",
    "محـــمد",
    "\u{200F}حسن",
    "عەبدوڵڵا",
    "ساڵح",
    "الساعدي",
];

/// Deterministic full names of four parts (a linear congruential generator: no dependency).
fn names(count: usize) -> Vec<String> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        WORDS[(state >> 33) as usize % WORDS.len()]
    };
    (0..count)
        .map(|_| format!("{} {}  {} {}", next(), next(), next(), next()))
        .collect()
}

fn naive_fold(text: &str) -> String {
    let text = text
        .replace(['أ', 'إ', 'آ', 'ٱ'], "ا")
        .replace('ؤ', "و")
        .replace(['ئ', 'ى', 'ی'], "ي")
        .replace('ة', "ه")
        .replace('ک', "ك")
        .replace('ـ', "")
        .replace(
            [
                '\u{064B}', '\u{064C}', '\u{064D}', '\u{064E}', '\u{064F}', '\u{0650}', '\u{0651}',
                '\u{0652}', '\u{0670}',
            ],
            "",
        )
        .replace(
            [
                '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{FEFF}',
            ],
            "",
        )
        .replace('ء', "")
        .to_lowercase();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Nanoseconds per name of `f` over `names`, best of five rounds.
fn measure(names: &[String], f: impl Fn(&str) -> usize) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let mut total = 0usize;
        for name in names {
            total += f(black_box(name));
        }
        black_box(total);
        best = best.min(start.elapsed());
    }
    best.as_nanos() as f64 / names.len() as f64
}

fn main() {
    let names = names(200_000);
    let lowercase = measure(&names, |n| n.to_lowercase().len());
    let naive = measure(&names, |n| naive_fold(n).len());
    let folded = measure(&names, |n| fold(n).len());
    let parts = measure(&names, |n| name_parts(n).len());
    let keys = measure(&names, |n| {
        name_parts(n).iter().map(|p| phonetic_key(p).len()).sum()
    });
    println!("per four-part name, {} names, best of 5:", names.len());
    println!("  baseline str::to_lowercase      {lowercase:8.0} ns");
    println!("  baseline naive replace chain    {naive:8.0} ns");
    println!(
        "  fold                            {folded:8.0} ns  ({:.2}x to_lowercase, {:.2}x naive)",
        folded / lowercase,
        folded / naive
    );
    println!(
        "  name_parts                      {parts:8.0} ns  ({:.2}x to_lowercase)",
        parts / lowercase
    );
    println!(
        "  name_parts + phonetic_key       {keys:8.0} ns  ({:.2}x to_lowercase)",
        keys / lowercase
    );
    println!(
        "  1.8 million persons: fold {:.2} s, parts and keys {:.2} s on one core",
        folded * 1.8e6 / 1e9,
        keys * 1.8e6 / 1e9
    );
}
