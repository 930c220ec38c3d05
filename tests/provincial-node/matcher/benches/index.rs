//! The person index at the registry's size: 1.8 million synthetic persons (households sharing
//! father, grandfather, family and mother, Zipf-distributed names, a fifth of dates on 1 January
//! or 1 July), then checks of applicants (half of them registered persons with a typo) and a full
//! de-duplication. The baseline, measured in the same run, is an exact-match lookup on folded
//! full name + date of birth + sex (what MOSIP's demographic de-duplication does) in a
//! `HashMap`: the fastest possible check, which finds no typo and no spelling variant.
//!
//! `cargo bench -p matcher --bench index` (release); `MATCHER_BENCH_PERSONS` sets the size.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use matcher::{Decision, Person, PersonIndex, Sex};
use normalisation::BirthDate;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Zipf-like: index i drawn with weight 1/(i+1).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (((n as f64 + 1.0).powf(u) - 1.0) as usize).min(n - 1)
    }
}

const MEN: &[&str] = &[
    "محمد",
    "علي",
    "حسين",
    "احمد",
    "حسن",
    "عباس",
    "جاسم",
    "كاظم",
    "عبد الله",
    "حيدر",
    "مهدي",
    "جعفر",
    "كريم",
    "محمود",
    "خالد",
    "عمر",
    "ابراهيم",
    "مصطفى",
    "جبار",
    "يوسف",
    "صالح",
    "سعد",
    "هادي",
    "سلمان",
    "قاسم",
    "فاضل",
    "ناصر",
    "رضا",
    "عادل",
    "ئازاد",
    "کاروان",
    "ڕێباز",
    "شوان",
    "هێمن",
    "سەردار",
];
const WOMEN: &[&str] = &[
    "فاطمة",
    "زينب",
    "زهراء",
    "مريم",
    "نور",
    "هدى",
    "رقية",
    "سعاد",
    "ايمان",
    "خديجة",
    "سارة",
    "امل",
    "عائشة",
    "شیلان",
    "ڤیان",
    "گوڵاڵە",
    "ئامینە",
    "هاوژین",
];
const FAMILIES: &[&str] = &[
    "الجبوري",
    "التميمي",
    "الدليمي",
    "الساعدي",
    "الزبيدي",
    "العبيدي",
    "الشمري",
    "الموسوي",
    "الخفاجي",
    "الربيعي",
    "الكعبي",
    "الحسيني",
    "البياتي",
    "العزاوي",
    "جاف",
    "بارزانی",
    "دزەیی",
];
const LETTERS: &[char] = &[
    'ب', 'ت', 'ج', 'ح', 'د', 'ر', 'ز', 'س', 'ش', 'ص', 'ع', 'ف', 'ق', 'ك', 'ل', 'م', 'ن', 'ه', 'و',
    'ي', 'ا',
];

/// Name pools: the listed names first (the commonest), then made-up names of 3–6 letters.
fn pool(rng: &mut Rng, listed: &[&str], size: usize) -> Vec<String> {
    let mut names: Vec<String> = listed.iter().map(|s| s.to_string()).collect();
    while names.len() < size {
        let len = 3 + rng.below(4);
        names.push(
            (0..len)
                .map(|_| LETTERS[rng.below(LETTERS.len())])
                .collect(),
        );
    }
    names
}

fn birth(rng: &mut Rng, year: u16) -> BirthDate {
    if rng.below(5) == 0 {
        let month = if rng.below(2) == 0 { 1 } else { 7 };
        BirthDate {
            year,
            month: Some(month),
            day: Some(1),
        }
    } else {
        BirthDate {
            year,
            month: Some(1 + rng.below(12) as u8),
            day: Some(1 + rng.below(28) as u8),
        }
    }
}

fn registry(n: usize, rng: &mut Rng) -> Vec<Person> {
    let men = pool(rng, MEN, 4_000);
    let women = pool(rng, WOMEN, 3_000);
    let families = pool(rng, FAMILIES, 2_000);
    let govs = [
        "BGD", "BSR", "NIN", "ERB", "SUL", "DHK", "ANB", "KRB", "NJF", "BBL",
    ];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let father = men[rng.zipf(men.len())].clone();
        let grandfather = men[rng.zipf(men.len())].clone();
        let family = (rng.below(3) != 0).then(|| families[rng.zipf(families.len())].clone());
        let mother = format!(
            "{} {}",
            women[rng.zipf(women.len())],
            men[rng.zipf(men.len())]
        );
        let gov = govs[rng.below(govs.len())].to_string();
        let children = 1 + rng.below(6);
        for _ in 0..children {
            let sex = if rng.below(2) == 0 {
                Sex::Male
            } else {
                Sex::Female
            };
            let first = match sex {
                Sex::Male => men[rng.zipf(men.len())].clone(),
                Sex::Female => women[rng.zipf(women.len())].clone(),
            };
            let year = 1950 + rng.below(70) as u16;
            out.push(Person {
                case_number: format!("{gov}-{:08}", out.len() + 1),
                national_id: (rng.below(10) < 7)
                    .then(|| format!("{:012}", rng.next() % 1_000_000_000_000)),
                first_name: first,
                father_name: father.clone(),
                grandfather_name: grandfather.clone(),
                family_name: family.clone(),
                mother_name: Some(mother.clone()),
                birth_date: Some(birth(rng, year)),
                sex: Some(sex),
                governorate: Some(gov.clone()),
            });
        }
    }
    out.truncate(n);
    out
}

/// A registered person applying again elsewhere: no ID, one letter of one name part dropped.
fn resubmission(p: &Person, rng: &mut Rng) -> Person {
    let mut a = p.clone();
    a.case_number.clear();
    a.national_id = None;
    a.governorate = Some("KRB".into());
    let part = match rng.below(3) {
        0 => &mut a.first_name,
        1 => &mut a.father_name,
        _ => &mut a.grandfather_name,
    };
    let chars: Vec<char> = part.chars().collect();
    if chars.len() > 3 {
        let drop = 1 + rng.below(chars.len() - 2);
        *part = chars
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != drop)
            .map(|(_, c)| *c)
            .collect();
    }
    a
}

fn exact_key(p: &Person) -> String {
    format!(
        "{}|{}|{}|{:?}|{:?}|{:?}",
        normalisation::fold(&p.first_name),
        normalisation::fold(&p.father_name),
        normalisation::fold(&p.grandfather_name),
        p.family_name.as_deref().map(normalisation::fold),
        p.birth_date,
        p.sex
    )
}

/// Resident memory of this process in bytes (Linux), to check `heap_bytes` against.
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let n: usize = std::env::var("MATCHER_BENCH_PERSONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_800_000);
    let checks = 20_000.min(n);
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let persons = registry(n, &mut rng);
    let applicants: Vec<Person> = (0..checks)
        .map(|i| {
            if i % 2 == 0 {
                resubmission(&persons[rng.below(n)], &mut rng)
            } else {
                let mut p = registry(1, &mut rng).remove(0);
                p.case_number.clear();
                p
            }
        })
        .collect();

    let resident_before = resident_bytes();
    let started = Instant::now();
    let mut index = PersonIndex::new();
    for p in &persons {
        index.insert(p.clone());
    }
    let build = started.elapsed();
    if let (Some(before), Some(after)) = (resident_before, resident_bytes()) {
        println!(
            "resident memory grew by {:.0} MB while the index was built",
            (after.saturating_sub(before)) as f64 / 1e6
        );
    }
    let mut exact: HashMap<String, Vec<u32>> = HashMap::new();
    let started = Instant::now();
    for (i, p) in persons.iter().enumerate() {
        exact.entry(exact_key(p)).or_default().push(i as u32);
    }
    let exact_build = started.elapsed();
    println!("persons {n}: index built in {build:.2?} ({:.0} MB by heap_bytes); exact-match map built in {exact_build:.2?}", index.heap_bytes() as f64 / 1e6);

    // Latency, one thread.
    let mut latencies = Vec::with_capacity(checks);
    let mut found = 0usize;
    for a in &applicants {
        let t = Instant::now();
        let m = index.check(a);
        latencies.push(t.elapsed());
        found += usize::from(
            m.first()
                .is_some_and(|m| m.comparison.decision == Decision::Duplicate),
        );
    }
    latencies.sort();
    let mut exact_latencies = Vec::with_capacity(checks);
    let mut exact_found = 0usize;
    for a in &applicants {
        let t = Instant::now();
        let hit = exact.contains_key(&exact_key(a));
        exact_latencies.push(t.elapsed());
        exact_found += usize::from(hit);
    }
    exact_latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.5), percentile(&latencies, 0.99));
    let (e50, e99) = (
        percentile(&exact_latencies, 0.5),
        percentile(&exact_latencies, 0.99),
    );
    println!(
        "check: p50 {p50:.2?} p99 {p99:.2?} max {:.2?} (target p99 ≤ 5 ms)",
        latencies[checks - 1]
    );
    println!(
        "exact-match baseline: p50 {e50:.2?} p99 {e99:.2?}; matcher/baseline p99 ×{:.0}",
        p99.as_secs_f64() / e99.as_secs_f64()
    );
    println!(
        "resubmissions with a dropped letter found as duplicate: matcher {found} of {}, exact match {exact_found}",
        checks / 2
    );

    // Throughput on two threads.
    let started = Instant::now();
    std::thread::scope(|s| {
        for half in applicants.chunks(checks.div_ceil(2)) {
            let index = &index;
            s.spawn(move || half.iter().map(|a| index.check(a).len()).sum::<usize>());
        }
    });
    let elapsed = started.elapsed();
    println!(
        "throughput, 2 threads: {:.0} checks/s (target ≥ 2,000)",
        checks as f64 / elapsed.as_secs_f64()
    );

    let started = Instant::now();
    let clusters = index.deduplicate();
    let dedup = started.elapsed();
    let started = Instant::now();
    let exact_groups = exact.values().filter(|v| v.len() > 1).count();
    let exact_dedup = started.elapsed() + exact_build;
    println!(
        "deduplicate: {dedup:.2?} (target ≤ 120 s), {} clusters ({} duplicate); exact-match grouping {exact_dedup:.2?}, {exact_groups} groups",
        clusters.len(),
        clusters.iter().filter(|c| c.decision == Decision::Duplicate).count()
    );
}
