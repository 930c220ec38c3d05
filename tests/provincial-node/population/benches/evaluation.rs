//! The evaluation of duplicate detection on a generated population: the matcher
//! (`matcher::PersonIndex`) against baselines measured in the same run — an exact match on the
//! folded name, date of birth and sex (what MOSIP's demo de-duplication does) and a PostgreSQL
//! `pg_trgm` similarity query — for quality (precision, recall, the `possible` band, blocking
//! recall, misses by injected kind, false positives by hard non-duplicate kind) and speed
//! (latency per check, checks per second on one and two threads, memory, batch de-duplication).
//!
//! `cargo bench -p population --bench evaluation -- --persons 1800000 [--applications M]
//! [--seed S] [--duplicate-rate R] [--hard-negative-rate R] [--pg-applications K | --no-pg]`.
//! It prints figures; it asserts none (speed targets are read against the baselines).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use matcher::{Decision, Person, PersonIndex, Sex};
use population::{generate, Config, DuplicateKind, HardNegativeKind, Label, Population, Record};

struct Args {
    persons: usize,
    applications: Option<usize>,
    seed: u64,
    duplicate_rate: f64,
    hard_negative_rate: f64,
    pg_applications: usize,
    threads: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        persons: 20_000,
        applications: None,
        seed: 1,
        duplicate_rate: 0.03,
        hard_negative_rate: 0.03,
        pg_applications: 2_000,
        threads: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let number = |name: &str, v: String| v.replace(['_', ','], "").parse::<f64>().map_err(|_| format!("{name} {v}: not a number"));
        match flag.as_str() {
            "--persons" => a.persons = number("--persons", value("--persons")?)? as usize,
            "--applications" => a.applications = Some(number("--applications", value("--applications")?)? as usize),
            "--seed" => a.seed = number("--seed", value("--seed")?)? as u64,
            "--duplicate-rate" => a.duplicate_rate = number("--duplicate-rate", value("--duplicate-rate")?)?,
            "--hard-negative-rate" => a.hard_negative_rate = number("--hard-negative-rate", value("--hard-negative-rate")?)?,
            "--pg-applications" => a.pg_applications = number("--pg-applications", value("--pg-applications")?)? as usize,
            "--no-pg" => a.pg_applications = 0,
            "--threads" => a.threads = (number("--threads", value("--threads")?)? as usize).max(1),
            // What cargo passes to every bench target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}: use --persons N, --applications M, --seed S, --duplicate-rate R, --hard-negative-rate R, --pg-applications K, --no-pg, --threads T")),
        }
    }
    Ok(a)
}

/// What one method said about one application: the registry indices it calls duplicates and
/// those it leaves to review.
#[derive(Default, Clone)]
struct Outcome {
    duplicates: Vec<usize>,
    possibles: Vec<usize>,
}

/// Speed figures of one method.
#[derive(Default)]
struct Speed {
    build: Duration,
    p50: Duration,
    p99: Duration,
    max: Duration,
    single_thread_per_s: f64,
    threads_per_s: f64,
    heap_bytes: usize,
    dedup: Option<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs `check` on every application: once in order timing each call, then on `threads` threads
/// for throughput.
fn measure<F>(applications: &[Record], threads: usize, check: F) -> (Vec<Outcome>, Speed)
where
    F: Fn(&Person) -> Outcome + Sync,
{
    let mut latencies = Vec::with_capacity(applications.len());
    let start = Instant::now();
    let outcomes: Vec<Outcome> = applications
        .iter()
        .map(|r| {
            let t = Instant::now();
            let o = check(&r.person);
            latencies.push(t.elapsed());
            o
        })
        .collect();
    let single = start.elapsed();
    latencies.sort_unstable();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let check = &check;
            scope.spawn(move || {
                let mut found = 0usize;
                for r in applications.iter().skip(t).step_by(threads) {
                    found += check(&r.person).duplicates.len();
                }
                std::hint::black_box(found)
            });
        }
    });
    let parallel = start.elapsed();
    let speed = Speed {
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
        single_thread_per_s: applications.len() as f64 / single.as_secs_f64(),
        threads_per_s: applications.len() as f64 / parallel.as_secs_f64(),
        ..Speed::default()
    };
    (outcomes, speed)
}

/// Resident memory of this process (kB → bytes), for an honest check of `heap_bytes`.
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<usize>().ok()))
        })
        .map_or(0, |kb| kb * 1024)
}

/// (count, called duplicate or caught, left for review).
type Tally = (usize, usize, usize);

/// Quality figures of one method.
#[derive(Default)]
struct Quality {
    flagged: usize,
    true_positives: usize,
    duplicates: usize,
    possible: usize,
    possible_true: usize,
    /// kind → (count, caught as duplicate, left as possible)
    per_kind: BTreeMap<DuplicateKind, Tally>,
    /// kind → (count, called duplicate, left as possible)
    per_hard: BTreeMap<HardNegativeKind, Tally>,
    new_people: Tally,
    wrong_person: usize,
}

impl Quality {
    fn precision(&self) -> f64 {
        self.true_positives as f64 / self.flagged.max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.true_positives as f64 / self.duplicates.max(1) as f64
    }
}

/// Quality of `outcomes`, one for each of the first applications of `population`.
fn quality(population: &Population, outcomes: &[Outcome]) -> Quality {
    let mut q = Quality::default();
    let person_of = |i: usize| population.registry[i].truth.person_id;
    for (r, o) in population.applications.iter().zip(outcomes) {
        let id = r.truth.person_id;
        let flagged = !o.duplicates.is_empty();
        let right = o.duplicates.iter().any(|&i| person_of(i) == id);
        let possible = !flagged && !o.possibles.is_empty();
        let possible_right = possible && o.possibles.iter().any(|&i| person_of(i) == id);
        if flagged {
            q.flagged += 1;
            if right {
                q.true_positives += 1;
            }
            q.wrong_person += o.duplicates.iter().filter(|&&i| person_of(i) != id).count();
        }
        if possible {
            q.possible += 1;
            if possible_right {
                q.possible_true += 1;
            }
        }
        let add = |e: &mut Tally, caught: bool, review: bool| {
            e.0 += 1;
            e.1 += usize::from(caught);
            e.2 += usize::from(review);
        };
        match r.truth.label {
            Label::Duplicate { kind, .. } => {
                q.duplicates += 1;
                add(q.per_kind.entry(kind).or_default(), flagged && right, possible_right);
            }
            Label::HardNegative { kind, .. } => add(q.per_hard.entry(kind).or_default(), flagged, possible),
            Label::Original => add(&mut q.new_people, flagged, possible),
        }
    }
    q
}

/// Pair precision and recall of batch de-duplication against the registry's injected duplicates.
fn cluster_quality(population: &Population, clusters: &[Vec<usize>]) -> (f64, f64, usize, usize) {
    let mut true_pairs = 0u64;
    let mut by_person: HashMap<u64, u64> = HashMap::new();
    for r in &population.registry {
        *by_person.entry(r.truth.person_id).or_default() += 1;
    }
    for &n in by_person.values() {
        true_pairs += n * (n - 1) / 2;
    }
    let (mut predicted, mut correct) = (0u64, 0u64);
    let mut largest = 0;
    for members in clusters {
        let n = members.len() as u64;
        largest = largest.max(members.len());
        predicted += n * (n - 1) / 2;
        let mut within: HashMap<u64, u64> = HashMap::new();
        for &i in members {
            *within.entry(population.registry[i].truth.person_id).or_default() += 1;
        }
        correct += within.values().map(|k| k * (k - 1) / 2).sum::<u64>();
    }
    (correct as f64 / predicted.max(1) as f64, correct as f64 / true_pairs.max(1) as f64, clusters.len(), largest)
}

/// The exact-match key of the baseline: folded four-part name, date of birth, sex.
fn exact_key(p: &Person) -> String {
    let fold = normalisation::fold;
    let date = p.birth_date.map(|d| format!("{}-{:?}-{:?}", d.year, d.month, d.day)).unwrap_or_default();
    let sex = match p.sex {
        Some(Sex::Male) => "m",
        Some(Sex::Female) => "f",
        None => "",
    };
    format!(
        "{}|{}|{}|{}|{date}|{sex}",
        fold(&p.first_name),
        fold(&p.father_name),
        fold(&p.grandfather_name),
        fold(p.family_name.as_deref().unwrap_or(""))
    )
}

fn registry_index(case_number: &str) -> Option<usize> {
    case_number.rsplit('-').next()?.parse::<usize>().ok()?.checked_sub(1)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("evaluation: {e}");
            std::process::exit(2);
        }
    };
    let mut config = Config::new(args.persons, args.seed);
    config.applications = args.applications.unwrap_or((args.persons / 2).clamp(1, 20_000));
    config.application_duplicate_rate = args.duplicate_rate;
    config.application_hard_negative_rate = args.hard_negative_rate;
    let t = Instant::now();
    let population = generate(&config);
    println!(
        "# Evaluation: {} registry records ({} injected duplicates), {} applications, seed {}, {} threads; generated in {:.1} s\n",
        population.registry.len(),
        population.registry.iter().filter(|r| r.truth.label != Label::Original).count(),
        population.applications.len(),
        args.seed,
        args.threads,
        t.elapsed().as_secs_f64()
    );
    let mut ordinals_of: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, r) in population.registry.iter().enumerate() {
        ordinals_of.entry(r.truth.person_id).or_default().push(i);
    }

    // The matcher.
    let rss_before = resident_bytes();
    let t = Instant::now();
    let mut index = PersonIndex::new();
    for r in &population.registry {
        index.insert(r.person.clone());
    }
    let build = t.elapsed();
    let rss_index = resident_bytes().saturating_sub(rss_before);
    let (matcher_outcomes, mut matcher_speed) = measure(&population.applications, args.threads, |p| {
        let mut o = Outcome::default();
        for m in index.check(p) {
            let Some(i) = registry_index(&m.case_number) else { continue };
            match m.comparison.decision {
                Decision::Duplicate => o.duplicates.push(i),
                Decision::Possible => o.possibles.push(i),
                Decision::Distinct => {}
            }
        }
        o
    });
    matcher_speed.build = build;
    matcher_speed.heap_bytes = index.heap_bytes();
    let t = Instant::now();
    let clusters = index.deduplicate();
    matcher_speed.dedup = Some(t.elapsed());
    let matcher_clusters: Vec<Vec<usize>> =
        clusters.iter().map(|c| c.case_numbers.iter().filter_map(|n| registry_index(n)).collect()).collect();
    let duplicate_clusters: Vec<Vec<usize>> = clusters
        .iter()
        .filter(|c| c.decision == Decision::Duplicate)
        .map(|c| c.case_numbers.iter().filter_map(|n| registry_index(n)).collect())
        .collect();

    // Blocking on its own: is a registered record of the same person among the candidates?
    let mut blocking: BTreeMap<DuplicateKind, (usize, usize)> = BTreeMap::new();
    let mut candidates_total = 0usize;
    for r in &population.applications {
        let candidates = index.candidates(&r.person);
        candidates_total += candidates.len();
        if let Label::Duplicate { kind, .. } = r.truth.label {
            let truth = &ordinals_of[&r.truth.person_id];
            let e = blocking.entry(kind).or_default();
            e.0 += 1;
            e.1 += usize::from(candidates.iter().any(|c| truth.contains(c)));
        }
    }
    // The registry's own duplicates, as batch de-duplication must find them.
    let (mut registry_pairs, mut registry_pairs_blocked) = (0usize, 0usize);
    for r in &population.registry {
        if let Label::Duplicate { of, .. } = r.truth.label {
            registry_pairs += 1;
            registry_pairs_blocked += usize::from(index.candidates(&r.person).contains(&of));
        }
    }

    // Baseline 1: exact folded name + date of birth + sex in a hash map.
    let rss_before = resident_bytes();
    let t = Instant::now();
    let mut exact: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, r) in population.registry.iter().enumerate() {
        exact.entry(exact_key(&r.person)).or_default().push(i as u32);
    }
    let exact_build = t.elapsed();
    let exact_heap = resident_bytes().saturating_sub(rss_before);
    let (exact_outcomes, mut exact_speed) = measure(&population.applications, args.threads, |p| Outcome {
        duplicates: exact.get(&exact_key(p)).map(|v| v.iter().map(|&i| i as usize).collect()).unwrap_or_default(),
        possibles: Vec::new(),
    });
    exact_speed.build = exact_build;
    exact_speed.heap_bytes = exact_heap;
    let t = Instant::now();
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in population.registry.iter().enumerate() {
        groups.entry(exact_key(&r.person)).or_default().push(i);
    }
    let exact_clusters: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
    exact_speed.dedup = Some(t.elapsed());
    drop(exact);

    // Baseline 2: PostgreSQL pg_trgm.
    let pg = if args.pg_applications > 0 {
        match pg_trgm::run(&population, args.pg_applications) {
            Ok(r) => Some(r),
            Err(e) => {
                println!("pg_trgm baseline not run: {e}\n");
                None
            }
        }
    } else {
        None
    };

    // Report.
    let mq = quality(&population, &matcher_outcomes);
    let eq = quality(&population, &exact_outcomes);
    let n_apps = population.applications.len() as f64;
    println!("## Duplicate decisions on {} applications\n", population.applications.len());
    println!("| method | precision | recall | possible band | true duplicates in the band | wrong-person duplicate links |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, q) in [("matcher", &mq), ("exact name+dob+sex", &eq)] {
        println!(
            "| {name} | {:.4} ({}/{}) | {:.4} ({}/{}) | {:.2} % ({}) | {} | {} |",
            q.precision(),
            q.true_positives,
            q.flagged,
            q.recall(),
            q.true_positives,
            q.duplicates,
            100.0 * q.possible as f64 / n_apps,
            q.possible,
            q.possible_true,
            q.wrong_person
        );
    }
    if let Some(pg) = &pg {
        for (threshold, q) in &pg.quality {
            println!(
                "| pg_trgm, similarity ≥ {threshold} (first {} applications) | {:.4} ({}/{}) | {:.4} ({}/{}) | – | – | {} |",
                pg.applications,
                q.precision(),
                q.true_positives,
                q.flagged,
                q.recall(),
                q.true_positives,
                q.duplicates,
                q.wrong_person
            );
        }
    }
    println!();
    println!("## Recall by injected kind (caught as duplicate / left for review / count)\n");
    print!("| kind | matcher | matcher blocking kept | exact baseline |");
    if pg.is_some() {
        print!(" pg_trgm ≥ {} |", pg_trgm::THRESHOLDS[1]);
    }
    println!();
    println!("| --- | --- | --- | --- |{}", if pg.is_some() { " --- |" } else { "" });
    for kind in DuplicateKind::ALL {
        let (n, caught, review) = mq.per_kind.get(&kind).copied().unwrap_or_default();
        let (bn, kept) = blocking.get(&kind).copied().unwrap_or_default();
        let (_, ecaught, _) = eq.per_kind.get(&kind).copied().unwrap_or_default();
        print!("| {} | {caught} / {review} / {n} | {kept} / {bn} | {ecaught} / {n} |", kind.label());
        if let Some(pg) = &pg {
            let (pn, pc, _) = pg.quality[1].1.per_kind.get(&kind).copied().unwrap_or_default();
            print!(" {pc} / {pn} |");
        }
        println!();
    }
    let (bn, kept) = blocking.values().fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!(
        "\nBlocking recall (applications): {:.4} ({kept}/{bn}); registry duplicates: {:.4} ({registry_pairs_blocked}/{registry_pairs}); mean candidates per check {:.1}\n",
        kept as f64 / bn.max(1) as f64,
        registry_pairs_blocked as f64 / registry_pairs.max(1) as f64,
        candidates_total as f64 / n_apps
    );
    println!("## Hard non-duplicates and new people (called duplicate / left for review / count)\n");
    print!("| kind | matcher | exact baseline |");
    if pg.is_some() {
        print!(" pg_trgm ≥ {} |", pg_trgm::THRESHOLDS[1]);
    }
    println!("\n| --- | --- | --- |{}", if pg.is_some() { " --- |" } else { "" });
    let rows: Vec<(&str, Tally, Tally, Option<Tally>)> = HardNegativeKind::ALL
        .iter()
        .map(|k| {
            (
                k.label(),
                mq.per_hard.get(k).copied().unwrap_or_default(),
                eq.per_hard.get(k).copied().unwrap_or_default(),
                pg.as_ref().map(|pg| pg.quality[1].1.per_hard.get(k).copied().unwrap_or_default()),
            )
        })
        .chain(std::iter::once((
            "new person",
            mq.new_people,
            eq.new_people,
            pg.as_ref().map(|pg| pg.quality[1].1.new_people),
        )))
        .collect();
    for (label, m, e, p) in rows {
        print!("| {label} | {} / {} / {} | {} / {} |", m.1, m.2, m.0, e.1, e.0);
        if let Some(p) = p {
            print!(" {} / {} |", p.1, p.0);
        }
        println!();
    }
    println!("\n## Speed and memory\n");
    println!("| method | build | p50 ms | p99 ms | max ms | checks/s, 1 thread | checks/s, {} threads | memory MB | batch dedup s |", args.threads);
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, s, memory) in [
        ("matcher", &matcher_speed, format!("{:.0} (heap_bytes; RSS growth {:.0})", mb(matcher_speed.heap_bytes), mb(rss_index))),
        ("exact name+dob+sex", &exact_speed, format!("{:.0} (RSS growth)", mb(exact_speed.heap_bytes))),
    ] {
        println!(
            "| {name} | {:.1} s | {} | {} | {} | {:.0} | {:.0} | {memory} | {:.1} |",
            s.build.as_secs_f64(),
            ms(s.p50),
            ms(s.p99),
            ms(s.max),
            s.single_thread_per_s,
            s.threads_per_s,
            s.dedup.map_or(0.0, |d| d.as_secs_f64())
        );
    }
    if let Some(pg) = &pg {
        let s = &pg.speed;
        println!(
            "| pg_trgm (first {} applications, 1 connection) | {:.1} s (COPY + GIN) | {} | {} | {} | {:.0} | – | {:.0} (table + index on disk) | – |",
            pg.applications,
            s.build.as_secs_f64(),
            ms(s.p50),
            ms(s.p99),
            ms(s.max),
            s.single_thread_per_s,
            mb(s.heap_bytes)
        );
    }
    println!(
        "\nRatios, matcher / exact baseline: checks/s {:.2}×, p99 {:.1}×, recall {:+.4}, precision {:+.4}",
        matcher_speed.threads_per_s / exact_speed.threads_per_s.max(1e-9),
        matcher_speed.p99.as_secs_f64() / exact_speed.p99.as_secs_f64().max(1e-12),
        mq.recall() - eq.recall(),
        mq.precision() - eq.precision()
    );
    println!("\n## Batch de-duplication of the registry ({registry_pairs} injected duplicate records)\n");
    println!("| method | time s | clusters | largest | pair precision | pair recall |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, d, c) in [
        ("matcher, duplicate and possible clusters", matcher_speed.dedup, &matcher_clusters),
        ("matcher, duplicate clusters only", matcher_speed.dedup, &duplicate_clusters),
        ("exact name+dob+sex", exact_speed.dedup, &exact_clusters),
    ] {
        let (p, r, n, largest) = cluster_quality(&population, c);
        println!("| {name} | {:.1} | {n} | {largest} | {p:.4} | {r:.4} |", d.map_or(0.0, |d| d.as_secs_f64()));
    }
    println!("\n## Misses of the matcher (first 3 per kind)\n");
    let explain = |c: &matcher::Comparison| {
        c.explanation.iter().map(|e| format!("{:?} {:?} {:.1}", e.field, e.agreement, e.weight)).collect::<Vec<_>>().join(", ")
    };
    let mut shown: HashMap<DuplicateKind, usize> = HashMap::new();
    for (r, o) in population.applications.iter().zip(&matcher_outcomes) {
        let Label::Duplicate { kind, of } = r.truth.label else { continue };
        let caught = o.duplicates.iter().any(|&i| population.registry[i].truth.person_id == r.truth.person_id);
        let n = shown.entry(kind).or_default();
        if caught || *n >= 3 {
            continue;
        }
        *n += 1;
        let reg = &population.registry[of].person;
        let found = index.check(&r.person).into_iter().find(|m| m.case_number == reg.case_number);
        let (why, comparison) = match found {
            Some(m) => (format!("index: {:?}", m.comparison.decision), m.comparison),
            None if !index.candidates(&r.person).contains(&of) => {
                ("not kept by blocking; would score".to_owned(), index.compare(&r.person, of))
            }
            None => ("index:".to_owned(), index.compare(&r.person, of)),
        };
        println!(
            "- {}: `{}` vs registered `{}` → {why} {:?} {:.1} [{}]",
            kind.label(),
            one_line(&r.person),
            one_line(reg),
            comparison.decision,
            comparison.score,
            explain(&comparison)
        );
    }
    println!("\n## False duplicates of the matcher (first 3 per kind)\n");
    let mut shown: HashMap<&str, usize> = HashMap::new();
    for (r, o) in population.applications.iter().zip(&matcher_outcomes) {
        let Some(&i) = o.duplicates.iter().find(|&&i| population.registry[i].truth.person_id != r.truth.person_id) else {
            continue;
        };
        let n = shown.entry(r.truth.label.text()).or_default();
        if *n >= 3 {
            continue;
        }
        *n += 1;
        let reg = &population.registry[i].person;
        let Some(m) = index.check(&r.person).into_iter().find(|m| m.case_number == reg.case_number) else { continue };
        println!(
            "- {}: `{}` vs registered `{}` → {:?} {:.1} [{}]",
            r.truth.label.text(),
            one_line(&r.person),
            one_line(reg),
            m.comparison.decision,
            m.comparison.score,
            explain(&m.comparison)
        );
    }
}

fn one_line(p: &Person) -> String {
    format!(
        "{} {} {} {} | mother {} | {} | {:?} | {} | id {}",
        p.first_name,
        p.father_name,
        p.grandfather_name,
        p.family_name.as_deref().unwrap_or("-"),
        p.mother_name.as_deref().unwrap_or("-"),
        p.birth_date.map(|d| population::tsv::birth_date_text(&d)).unwrap_or_default(),
        p.sex,
        p.governorate.as_deref().unwrap_or("-"),
        p.national_id.as_deref().unwrap_or("-")
    )
}

/// The PostgreSQL `pg_trgm` baseline: the registry in a table with a GIN trigram index on the
/// folded full name, each application a similarity query filtered on the year of birth.
mod pg_trgm {
    use std::time::{Duration, Instant};

    use futures_util::SinkExt;
    use matcher::Person;
    use pg_cluster::TemporaryCluster;
    use population::Population;

    use super::{percentile, quality, Outcome, Quality, Speed};

    /// Similarity thresholds reported: pg_trgm's default, and a strict one.
    pub const THRESHOLDS: [f32; 2] = [0.3, 0.7];

    pub struct PgResult {
        pub applications: usize,
        pub quality: Vec<(f32, Quality)>,
        pub speed: Speed,
    }

    fn full_name(p: &Person) -> String {
        let name = [p.first_name.as_str(), &p.father_name, &p.grandfather_name, p.family_name.as_deref().unwrap_or("")].join(" ");
        normalisation::fold(&name)
    }

    pub fn run(population: &Population, limit: usize) -> Result<PgResult, String> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let cluster = TemporaryCluster::start().map_err(|e| format!("cannot start PostgreSQL: {e}"))?;
        let url = cluster.create_database("registry").map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            let db = |e: tokio_postgres::Error| e.to_string();
            client
                .batch_execute(
                    "CREATE EXTENSION pg_trgm;
                     CREATE TABLE registry (ordinal integer PRIMARY KEY, name text NOT NULL, birth_year integer);",
                )
                .await
                .map_err(db)?;
            let t = Instant::now();
            let mut text = String::new();
            for (i, r) in population.registry.iter().enumerate() {
                let year = r.person.birth_date.map_or("\\N".to_owned(), |d| d.year.to_string());
                text.push_str(&format!("{i}\t{}\t{year}\n", full_name(&r.person).replace(['\t', '\\'], " ")));
            }
            let sink = client.copy_in("COPY registry (ordinal, name, birth_year) FROM STDIN").await.map_err(db)?;
            futures_util::pin_mut!(sink);
            sink.send(bytes::Bytes::from(text)).await.map_err(db)?;
            sink.finish().await.map_err(db)?;
            client
                .batch_execute(
                    "CREATE INDEX registry_name_trgm ON registry USING gin (name gin_trgm_ops);
                     CREATE INDEX registry_birth_year ON registry (birth_year);
                     ANALYZE registry;",
                )
                .await
                .map_err(db)?;
            let build = t.elapsed();
            let size: i64 = client
                .query_one("SELECT pg_total_relation_size('registry')", &[])
                .await
                .map_err(db)?
                .get(0);
            client.batch_execute(&format!("SET pg_trgm.similarity_threshold = {}", THRESHOLDS[0])).await.map_err(db)?;
            let statement = client
                .prepare(
                    "SELECT ordinal, similarity(name, $1) AS s FROM registry
                     WHERE name % $1 AND (birth_year = $2 OR $2 IS NULL)
                     ORDER BY s DESC LIMIT 5",
                )
                .await
                .map_err(db)?;
            let applications = &population.applications[..limit.min(population.applications.len())];
            let mut hits: Vec<Vec<(usize, f32)>> = Vec::with_capacity(applications.len());
            let mut latencies = Vec::with_capacity(applications.len());
            let start = Instant::now();
            for r in applications {
                let year: Option<i32> = r.person.birth_date.map(|d| i32::from(d.year));
                let t = Instant::now();
                let rows = client.query(&statement, &[&full_name(&r.person), &year]).await.map_err(db)?;
                latencies.push(t.elapsed());
                hits.push(rows.iter().map(|row| (row.get::<_, i32>(0) as usize, row.get::<_, f32>(1))).collect());
            }
            let elapsed = start.elapsed();
            latencies.sort_unstable();
            let quality = THRESHOLDS
                .iter()
                .map(|&threshold| {
                    let outcomes: Vec<Outcome> = hits
                        .iter()
                        .map(|h| Outcome {
                            duplicates: h.iter().filter(|(_, s)| *s >= threshold).map(|(i, _)| *i).collect(),
                            possibles: Vec::new(),
                        })
                        .collect();
                    (threshold, quality(population, &outcomes))
                })
                .collect();
            Ok(PgResult {
                applications: applications.len(),
                quality,
                speed: Speed {
                    build,
                    p50: percentile(&latencies, 0.5),
                    p99: percentile(&latencies, 0.99),
                    max: latencies.last().copied().unwrap_or(Duration::ZERO),
                    single_thread_per_s: applications.len() as f64 / elapsed.as_secs_f64(),
                    threads_per_s: 0.0,
                    heap_bytes: size as usize,
                    dedup: None,
                },
            })
        })
    }
}
