//! Power loss, not just `kill -9`: every write not yet flushed is lost at a cut.
//!
//! How: a scripted run of the terminal's own storage code — provisioning's files, saves
//! through [`Storage::write`] (the group commit: rounds of three saves, with a staff audit
//! entry now and then, queued together so that they share one commit; each acknowledged when
//! its write returns, which is when the local API answers 201), audit entries in the audit
//! log attached to the writer's connection, deliveries to a node (`next_batch`,
//! `record_attempt`, the node's answer, `apply_results` and the `batch_delivered` entry in
//! one write), a lost answer, a refreshed node configuration — runs on a crash-simulating SQLite VFS ([`recorder`]) that logs every write
//! and sync. Then, for each cut point, the disk after a power cut there is rebuilt in a fresh
//! directory, and the production code opens it and carries on:
//!
//! - every file the terminal keeps opens (outbox, audit log and head, key, enrollment, cached
//!   node configuration, applicant-key secret), or was never written before the cut;
//! - the audit chain verifies, holds every entry whose append returned before the cut, and
//!   takes a new entry that verifies too;
//! - every application acknowledged before the cut is waiting in the outbox or recorded as
//!   delivered, and after draining to the node (whose state is what it had received by the
//!   cut) every one of them is stored there exactly once, with the same sealed bytes under
//!   the same id, and the terminal's case number is the node's.
//!
//! Two passes over the same log: every cut point where the disk's contents can differ with
//! unsynced writes lost, then a cut before every single operation with each unsynced write
//! randomly lost, kept whole or torn sector by sector (seeded, so a failure repeats). The
//! short form (a few hundred cut points, seconds) runs in `cargo test`; the long form,
//! `POWER_LOSS_LONG=1`, runs a script twenty-five times longer that crosses WAL checkpoints
//! (its torn pass cuts before every fourth operation); its figures are in `BENCHMARKS.md`.

mod recorder;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use node_protocol::{SubmissionKind, SubmissionOutcome, SubmissionResult};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use recorder::{materialise, Op, Recorder, Unsynced};
use serde_json::json;
use terminal_service::audit::{AuditCategory, AuditLog, AUDIT_FILE};
use terminal_service::capture::applicant_key::{ApplicantKeyer, SECRET_FILE};
use terminal_service::capture::outbox::{NewSubmission, Outbox, SubmissionPlace, OUTBOX_FILE};
use terminal_service::capture::storage::{GroupTx, Storage, StorageError};
use terminal_service::startup::identity::{Enrollment, IdentityError, TerminalKey, ENROLLMENT_FILE, KEY_FILE};
use terminal_service::startup::node_config::{load_cached, store_cached, NODE_CONFIG_FILE};
use uuid::Uuid;

use crate::common::node_config;

/// What the test notes in the log, between the disk operations.
#[derive(Debug, Clone)]
enum Event {
    /// `enqueue` returned: the kiosk was told "saved".
    Acknowledged { id: Uuid, sealed: Vec<u8> },
    /// `AuditLog::append` returned.
    Audited,
    /// The node received this batch and stored what it did not have.
    NodeReceived { batch: Vec<(Uuid, Vec<u8>)> },
}

/// The small files, written through `startup::durable`.
fn small_files() -> Vec<&'static str> {
    vec![KEY_FILE, ENROLLMENT_FILE, NODE_CONFIG_FILE, SECRET_FILE, "audit.head"]
}

/// The node's side: it is another machine, so the cut does not touch it. Idempotent by id.
#[derive(Default, Clone)]
struct Node {
    stored: HashMap<Uuid, Vec<u8>>,
    deliveries: HashMap<Uuid, u32>,
}

impl Node {
    fn case_number(id: Uuid) -> String {
        format!("C-{}", &id.simple().to_string()[20..])
    }

    /// The node's answers to a batch; `Err` when a resent id carries other bytes.
    fn receive(&mut self, batch: &[(Uuid, Vec<u8>)]) -> Result<Vec<SubmissionResult>, String> {
        let mut results = Vec::new();
        for (id, sealed) in batch {
            *self.deliveries.entry(*id).or_default() += 1;
            let case_number = Node::case_number(*id);
            let outcome = match self.stored.get(id) {
                Some(before) if before != sealed => return Err(format!("{id} was resent with other sealed bytes")),
                Some(_) => SubmissionOutcome::Duplicate { case_number },
                None => {
                    self.stored.insert(*id, sealed.clone());
                    SubmissionOutcome::Accepted { case_number, duplicate_check: None, referral_check: None }
                }
            };
            results.push(SubmissionResult { id: *id, outcome });
        }
        Ok(results)
    }
}

struct Script {
    saves: usize,
    /// Saves between two deliveries.
    delivery_every: usize,
    /// Largest sealed submission, bytes (larger ones take overflow pages).
    max_sealed: usize,
}

fn sealed_bytes(rng: &mut StdRng, max: usize) -> Vec<u8> {
    let len = rng.gen_range(200..max);
    (0..len).map(|_| rng.gen()).collect()
}

fn batch_of(outbox: &Outbox, limit: usize) -> Vec<(Uuid, Vec<u8>)> {
    use base64::Engine;
    outbox
        .next_batch(limit)
        .unwrap()
        .into_iter()
        .map(|e| (e.id, base64::engine::general_purpose::STANDARD.decode(e.sealed).unwrap()))
        .collect()
}

/// Saves made together in one round of the script: they reach the writer together and
/// share one group commit.
const ROUND: usize = 3;

/// One write for [`Storage::write`].
type GroupWrite<T> = Box<dyn FnOnce(&GroupTx<'_>) -> Result<T, StorageError> + Send>;

/// Runs `writes` concurrently through [`Storage::write`] so that they share one group: the
/// outbox lock is held (the writer takes a no-op write and waits on it) while they queue.
/// Each answer, in order, once every write is answered.
async fn in_one_group<T: Send + 'static>(storage: &Storage, writes: Vec<GroupWrite<T>>) -> Vec<T> {
    let (locked, is_locked) = tokio::sync::oneshot::channel();
    let holder = {
        let storage = storage.clone();
        tokio::spawn(async move {
            storage
                .outbox(move |_| {
                    let _ = locked.send(());
                    std::thread::sleep(Duration::from_millis(30));
                    Ok(())
                })
                .await
        })
    };
    is_locked.await.unwrap();
    let blocker = {
        let storage = storage.clone();
        tokio::spawn(async move { storage.write(|_| Ok(())).await })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    let handles: Vec<_> = writes
        .into_iter()
        .map(|write| {
            let storage = storage.clone();
            tokio::spawn(async move { storage.write(write).await })
        })
        .collect();
    holder.await.unwrap().unwrap();
    blocker.await.unwrap().unwrap();
    let mut answers = Vec::new();
    for handle in handles {
        answers.push(tokio::time::timeout(Duration::from_secs(30), handle).await.unwrap().unwrap().unwrap());
    }
    answers
}

/// What one write of a round is.
enum Write {
    Save { id: Uuid, sealed: Vec<u8> },
    Audit,
}

/// Runs the script in `dir`, recording; the log and the test's events. Saves, audit entries
/// and deliveries go through [`Storage`] as the service makes them: group commits on the
/// writer thread, the audit log attached to the outbox's connection.
fn record_run(dir: &Path, script: &Script, seed: u64) -> (Vec<Op<u32>>, Vec<Event>) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut events = Vec::new();
    let recorder = Recorder::start(dir, &small_files());
    let note = |events: &mut Vec<Event>, event: Event| {
        events.push(event);
        recorder.mark(u32::try_from(events.len() - 1).unwrap());
    };

    // Provisioning's files, as `provision` leaves them (key, enrollment, forms).
    TerminalKey::generate(dir).unwrap();
    Enrollment {
        node_url: "http://127.0.0.1:9".into(),
        node_id: "node-test".into(),
        terminal_id: "T-POWER001".into(),
        province: "Baghdad".into(),
        sealing_recipient: age::x25519::Identity::generate().to_public().to_string(),
        heartbeat_interval_s: 3600,
        enrolled_at: Utc::now(),
        node_certificate_sha256: None,
    }
    .store(dir)
    .unwrap();
    let mut config = node_config();
    store_cached(dir, &config).unwrap();

    // What `Terminal::open` opens.
    let storage = Storage::open(dir).unwrap();
    let keyer = ApplicantKeyer::load_or_create(dir).unwrap();
    runtime.block_on(storage.audit(AuditCategory::Provisioning, "enrolled", json!({"terminal_id": "T-POWER001"}))).unwrap();
    note(&mut events, Event::Audited);

    let mut node = Node::default();
    for round in (0..script.saves).step_by(ROUND) {
        let saves = round..(round + ROUND).min(script.saves);
        let mut writes: Vec<GroupWrite<Write>> = Vec::new();
        for i in saves.clone() {
            let sealed = sealed_bytes(&mut rng, script.max_sealed);
            let submission = NewSubmission {
                id: Uuid::now_v7(),
                kind: if i % 3 == 2 { SubmissionKind::Grievance } else { SubmissionKind::Application },
                created_at: Utc::now(),
                form_version: config.version.clone(),
                sealed,
                applicant_key: Some(keyer.key_for(&format!("19{i:010}"))),
            };
            writes.push(Box::new(move |g| {
                g.enqueue(&submission)?;
                Ok(Write::Save { id: submission.id, sealed: submission.sealed })
            }));
            if i % 4 == 1 {
                writes.push(Box::new(|g| {
                    g.audit(AuditCategory::Staff, "staff_login", json!({"staff": "hash"}))?;
                    Ok(Write::Audit)
                }));
            }
        }
        // Each answer noted once the group holding it committed (the kiosk told "saved").
        for answer in runtime.block_on(in_one_group(&storage, writes)) {
            match answer {
                Write::Save { id, sealed } => note(&mut events, Event::Acknowledged { id, sealed }),
                Write::Audit => note(&mut events, Event::Audited),
            }
        }
        if saves.contains(&(script.saves / 2)) {
            // A heartbeat named a new configuration version.
            config.version = format!("{}-next", config.version);
            store_cached(dir, &config).unwrap();
        }
        let Some(i) = saves.clone().find(|i| i % script.delivery_every == script.delivery_every - 1) else { continue };
        let batch = runtime.block_on(storage.outbox(|o| Ok(batch_of(o, 10)))).unwrap();
        let ids: Vec<Uuid> = batch.iter().map(|(id, _)| *id).collect();
        let attempted = ids.clone();
        runtime.block_on(storage.write(move |g| g.record_attempt(&attempted, Utc::now()))).unwrap();
        let results = node.receive(&batch).unwrap();
        note(&mut events, Event::NodeReceived { batch });
        // Every third answer is lost on the way back: the batch goes again next time.
        if (i / script.delivery_every) % 3 == 2 {
            continue;
        }
        // The answer and its audit entry in one write, as the sync loop makes them.
        runtime
            .block_on(storage.write(move |g| {
                let applied = g.apply_results(&results, Utc::now())?;
                g.audit(AuditCategory::Sync, "batch_delivered", json!({"delivered": applied.delivered, "batch": ids.len()}))
            }))
            .unwrap();
        note(&mut events, Event::Audited);
    }
    drop(storage);
    // The writer thread closes its connection when it sees the last handle gone; the last
    // connection to close checkpoints and removes the WAL (bounded wait).
    let wal = dir.join(format!("{OUTBOX_FILE}-wal"));
    for _ in 0..500 {
        if !wal.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (recorder.finish(), events)
}

/// Checks the state after a power cut just before `ops[cut]`; what is wrong, if anything.
fn check_cut(ops: &[Op<u32>], events: &[Event], cut: usize, unsynced: Unsynced<'_, StdRng>, dir: &Path) -> Result<(), String> {
    materialise(ops, cut, unsynced, dir).map_err(|e| format!("materialising: {e}"))?;

    // What was promised before the cut, and what the node had by then.
    let mut acknowledged: Vec<(Uuid, Vec<u8>)> = Vec::new();
    let mut audited = 0u64;
    let mut node = Node::default();
    let mut written = HashSet::new();
    for op in &ops[..cut] {
        match op {
            Op::Mark(m) => match &events[*m as usize] {
                Event::Acknowledged { id, sealed } => acknowledged.push((*id, sealed.clone())),
                Event::Audited => audited += 1,
                Event::NodeReceived { batch } => {
                    node.receive(batch)?;
                }
            },
            Op::Replaced { file, contents: Some(_) } => {
                written.insert(file.as_str());
            }
            _ => {}
        }
    }

    // Every file opens, or was never written.
    match TerminalKey::load(dir) {
        Ok(_) => {}
        Err(IdentityError::NotProvisioned) if !written.contains(KEY_FILE) => {}
        Err(e) => return Err(format!("terminal key: {e}")),
    }
    match Enrollment::load(dir) {
        Ok(Some(_)) => {}
        Ok(None) if !written.contains(ENROLLMENT_FILE) => {}
        other => return Err(format!("enrollment: {other:?}")),
    }
    match load_cached(dir) {
        Ok(Some(_)) => {}
        Ok(None) if !written.contains(NODE_CONFIG_FILE) => {}
        other => return Err(format!("node configuration: {other:?}")),
    }
    if written.contains(SECRET_FILE) {
        ApplicantKeyer::load_or_create(dir).map_err(|e| format!("applicant-key secret: {e}"))?;
    }
    let mut outbox = Outbox::open(&dir.join(OUTBOX_FILE)).map_err(|e| format!("outbox: {e}"))?;
    let mut audit = AuditLog::open(&dir.join(AUDIT_FILE)).map_err(|e| format!("audit log: {e}"))?;

    // The chain verifies and holds every entry appended before the cut; it goes on.
    let summary = audit.verify().map_err(|e| format!("audit chain after the cut: {e}"))?;
    if summary.entries < audited {
        return Err(format!("audit log holds {} entries, {audited} were appended before the cut", summary.entries));
    }
    audit.append(AuditCategory::Sync, "restarted", json!({})).map_err(|e| format!("audit append after the cut: {e}"))?;
    audit.verify().map_err(|e| format!("audit chain after an append following the cut: {e}"))?;

    // Nothing acknowledged is lost.
    for (id, _) in &acknowledged {
        match outbox.find(*id).map_err(|e| format!("outbox find: {e}"))? {
            Some(r) if r.place == SubmissionPlace::Waiting => {}
            Some(r) if r.place == SubmissionPlace::Delivered => {
                if !node.stored.contains_key(id) {
                    return Err(format!("{id} is recorded as delivered but the node never received it"));
                }
            }
            other => return Err(format!("acknowledged submission {id} is gone after the cut ({other:?})")),
        }
    }

    // Delivery resumes and finishes; exactly once at the node, same id, same bytes.
    for _ in 0..1000 {
        let batch = batch_of(&outbox, 10);
        if batch.is_empty() {
            break;
        }
        let results = node.receive(&batch)?;
        outbox.apply_results(&results, Utc::now()).map_err(|e| format!("apply_results after the cut: {e}"))?;
    }
    let stats = outbox.stats().map_err(|e| e.to_string())?;
    if stats.depth != 0 || stats.dead_letters != 0 {
        return Err(format!("after draining: {stats:?}"));
    }
    for (id, sealed) in &acknowledged {
        match node.stored.get(id) {
            Some(at_node) if at_node == sealed => {}
            Some(_) => return Err(format!("{id} reached the node with other bytes")),
            None => return Err(format!("acknowledged submission {id} never reached the node")),
        }
        let case = outbox.case_number(*id).map_err(|e| e.to_string())?;
        if case.as_deref() != Some(Node::case_number(*id).as_str()) {
            return Err(format!("{id}: the terminal records case {case:?}, the node {}", Node::case_number(*id)));
        }
    }
    Ok(())
}

/// Cut points where the disk can differ when unsynced writes are lost: before each sync, each
/// small-file replacement and each mark, and at the end.
fn strict_cut_points(ops: &[Op<u32>]) -> Vec<usize> {
    let mut cuts: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| matches!(op, Op::Sync { .. } | Op::Replaced { .. } | Op::Mark(_)))
        .map(|(i, _)| i)
        .collect();
    cuts.push(ops.len());
    cuts
}

fn scratch_root() -> tempfile::TempDir {
    // tmpfs when there is one: each cut point's reopening commits (and fsyncs) again.
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new().prefix("power-loss-").tempdir_in(shm) {
            return dir;
        }
    }
    tempfile::Builder::new().prefix("power-loss-").tempdir().unwrap()
}

struct Tally {
    cuts: usize,
    violations: Vec<String>,
}

fn run_cuts(ops: &[Op<u32>], events: &[Event], cuts: &[usize], torn_seed: Option<u64>) -> Tally {
    let root = scratch_root();
    let mut tally = Tally { cuts: 0, violations: Vec::new() };
    for &cut in cuts {
        let dir = root.path().join(format!("cut-{cut}"));
        std::fs::create_dir(&dir).unwrap();
        let mut rng = StdRng::seed_from_u64(torn_seed.unwrap_or(0) ^ cut as u64);
        let unsynced = if torn_seed.is_some() { Unsynced::Torn(&mut rng) } else { Unsynced::Lost };
        if let Err(e) = check_cut(ops, events, cut, unsynced, &dir) {
            tally.violations.push(format!("cut before op {cut} of {}: {e}", ops.len()));
        }
        tally.cuts += 1;
        std::fs::remove_dir_all(&dir).unwrap();
    }
    tally
}

fn summary(ops: &[Op<u32>]) -> String {
    let count = |f: fn(&Op<u32>) -> bool| ops.iter().filter(|op| f(op)).count();
    format!(
        "{} operations: {} writes, {} syncs ({} of a database file itself by a checkpoint during the script), {} small-file replacements",
        ops.len(),
        count(|op| matches!(op, Op::Write { .. })),
        count(|op| matches!(op, Op::Sync { .. })),
        checkpoints(ops),
        count(|op| matches!(op, Op::Replaced { .. }))
    )
}

/// Syncs of a database file rather than its WAL while the script runs: in WAL mode only a
/// checkpoint writes there (before the first mark, opening switches the files to WAL; after
/// the last, closing the connections checkpoints once more).
fn checkpoints(ops: &[Op<u32>]) -> usize {
    let first_mark = ops.iter().position(|op| matches!(op, Op::Mark(_))).unwrap_or(0);
    let last_mark = ops.iter().rposition(|op| matches!(op, Op::Mark(_))).unwrap_or(0);
    ops[first_mark..last_mark].iter().filter(|op| matches!(op, Op::Sync { file } if file.ends_with(".sqlite"))).count()
}

#[test]
fn every_cut_point_keeps_files_chain_and_acknowledged_applications() {
    let long = std::env::var_os("POWER_LOSS_LONG").is_some();
    let run_dir = tempfile::Builder::new().prefix("power-loss-run-").tempdir().unwrap();
    let script = if long {
        Script { saves: 600, delivery_every: 7, max_sealed: 6000 }
    } else {
        Script { saves: 24, delivery_every: 5, max_sealed: 3000 }
    };
    let (ops, events) = record_run(run_dir.path(), &script, 12);
    assert!(ops.iter().any(|op| matches!(op, Op::Sync { file } if file.ends_with("-wal"))), "the WAL was recorded");
    assert!(ops.iter().any(|op| matches!(op, Op::Replaced { file, .. } if file == "audit.head")), "the audit head was recorded");

    // The saves shared group commits: fewer commits of the outbox than saves.
    let saves = events.iter().filter(|e| matches!(e, Event::Acknowledged { .. })).count();
    let commits = ops.iter().filter(|op| matches!(op, Op::Sync { file } if file == "outbox.sqlite-wal")).count();
    println!("power loss: {saves} saves acknowledged, {commits} commits of the outbox in the whole run");
    assert!(commits < saves, "{saves} saves took {commits} commits: they did not share groups");
    if long {
        assert!(checkpoints(&ops) > 0, "the long script crosses a checkpoint ({})", summary(&ops));
    }
    let strict = strict_cut_points(&ops);
    let lost = run_cuts(&ops, &events, &strict, None);
    println!("power loss, unsynced writes lost: {} cut points tried, {} violations ({})", lost.cuts, lost.violations.len(), summary(&ops));
    let mut violations = lost.violations;
    // Before every single operation (every fourth in the long form, to keep it under half an
    // hour on two busy cores), the unsynced writes each lost, kept or torn.
    let every: Vec<usize> = (0..=ops.len()).step_by(if long { 4 } else { 1 }).collect();
    let torn = run_cuts(&ops, &events, &every, Some(0x5eed));
    println!("power loss, unsynced writes lost, kept or torn: {} cut points tried, {} violations", torn.cuts, torn.violations.len());
    violations.extend(torn.violations);
    assert!(violations.is_empty(), "{} violations, first ones:\n{}", violations.len(), violations.iter().take(10).cloned().collect::<Vec<_>>().join("\n"));
}

/// The simulation must be able to fail: a run whose syncs are dropped from the log (as if
/// the disk lied about them) loses acknowledged applications, and the check says so.
#[test]
fn a_disk_that_ignores_fsync_is_caught() {
    let run_dir = tempfile::Builder::new().prefix("power-loss-run-").tempdir().unwrap();
    let (ops, events) = record_run(run_dir.path(), &Script { saves: 6, delivery_every: 100, max_sealed: 1000 }, 7);
    let lying: Vec<Op<u32>> = ops.into_iter().filter(|op| !matches!(op, Op::Sync { file } if file.starts_with("outbox"))).collect();
    let tally = run_cuts(&lying, &events, &[lying.len()], None);
    assert_eq!(tally.violations.len(), 1, "{:?}", tally.violations);
    assert!(tally.violations[0].contains("is gone after the cut"), "{}", tally.violations[0]);
}

/// When the audit log's own syncs are lost (a disk that lied), its head file — durable — is
/// ahead of the chain, and verification says exactly where the log ends instead of passing.
#[test]
fn an_audit_log_cut_short_says_where_it_ends() {
    let run_dir = tempfile::Builder::new().prefix("power-loss-run-").tempdir().unwrap();
    let (ops, events) = record_run(run_dir.path(), &Script { saves: 6, delivery_every: 100, max_sealed: 1000 }, 9);
    // The syncs that made the schema and the first entries durable are kept; later ones lost.
    let mut audit_syncs = 0;
    let lying: Vec<Op<u32>> = ops
        .into_iter()
        .filter(|op| match op {
            Op::Sync { file } if file.starts_with("audit") => {
                audit_syncs += 1;
                audit_syncs <= 4
            }
            _ => true,
        })
        .collect();
    let tally = run_cuts(&lying, &events, &[lying.len()], None);
    assert_eq!(tally.violations.len(), 1, "{:?}", tally.violations);
    let message = &tally.violations[0];
    println!("{message}");
    assert!(message.contains("audit chain after the cut: audit log broken at entry"), "{message}");
    assert!(message.contains("the log ends at entry") && message.contains("audit.head records entry"), "{message}");
}

/// The small files' place in the log matters: had the audit head been replaced before the
/// commit of its entry reached the disk (the order swapped), a cut between the two leaves the
/// head ahead of the chain, and the check reports it.
#[test]
fn a_head_written_before_its_commit_is_caught() {
    let run_dir = tempfile::Builder::new().prefix("power-loss-run-").tempdir().unwrap();
    let (mut ops, events) = record_run(run_dir.path(), &Script { saves: 6, delivery_every: 100, max_sealed: 1000 }, 11);
    // The head recording the first entry, and the WAL sync that committed that entry.
    let head = ops
        .iter()
        .position(|op| matches!(op, Op::Replaced { file, contents: Some(c) } if file == "audit.head" && c.starts_with(b"1 ")))
        .unwrap();
    let commit = ops[..head].iter().rposition(|op| matches!(op, Op::Sync { file } if file == "audit.sqlite-wal")).unwrap();
    let replaced = ops.remove(head);
    ops.insert(commit, replaced);
    let tally = run_cuts(&ops, &events, &[commit + 1], None);
    assert_eq!(tally.violations.len(), 1, "{:?}", tally.violations);
    assert!(tally.violations[0].contains("entries were removed from the end"), "{}", tally.violations[0]);
}
