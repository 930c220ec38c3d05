//! `kill -9` of terminal-service at random moments, 20 times, while applications are submitted
//! and forwarded without a pause (at least 500 acknowledged): every application the local API
//! acknowledged reaches the node exactly once.
//!
//! The submissions stop with the last restart: what is tested is the crash, and applications
//! saved after it would only lengthen the drain (this test took 100 s of CI's time with a fixed
//! 5,000).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::sample::Applicant;
use node_protocol::SubmissionKind;
use rand::Rng;

/// Fewest applications acknowledged across the kills, for a meaningful test.
const MIN_ACKED: usize = 500;
const ROUNDS: usize = 20;
const WORKERS: usize = 4;

#[derive(Default)]
struct Tally {
    acked: HashSet<uuid::Uuid>,
    /// Requests that got no answer: the crash came first. They may or may not be stored.
    unanswered: usize,
    attempts: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_loses_nothing_acknowledged() -> anyhow::Result<()> {
    let mut cluster = Cluster::start(FAST_SYNC, None).await?;
    let cluster_forms = cluster.forms.clone();
    let api = cluster.api()?;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let done = Arc::new(AtomicBool::new(false));

    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (api, tally, forms, done) = (api.clone(), tally.clone(), cluster_forms.clone(), done.clone());
        workers.push(tokio::spawn(async move {
            let form = forms.form(SubmissionKind::Application)?.clone();
            loop {
                {
                    let mut t = tally.lock().unwrap();
                    if done.load(Ordering::SeqCst) {
                        return anyhow::Ok(());
                    }
                    t.attempts += 1;
                }
                let body = e2e::sample::answers(&form, &forms.master_data, &Applicant::default());
                match api.submit(SubmissionKind::Application, "ckb", &body).await {
                    Ok(Ok(ack)) => {
                        assert!(tally.lock().unwrap().acked.insert(ack.id), "id {} acknowledged twice", ack.id);
                    }
                    Ok(Err((status, text))) => anyhow::bail!("valid application refused: {status} {text}"),
                    Err(_) => {
                        tally.lock().unwrap().unanswered += 1;
                        // The service is down; give the restart a moment.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }

    let mut kills = 0;
    // Bounded: each round restarts the service, and the workers never stop before `done`.
    while kills < ROUNDS || tally.lock().unwrap().acked.len() < MIN_ACKED {
        if kills >= 10 * ROUNDS {
            anyhow::bail!("fewer than {MIN_ACKED} applications acknowledged in {kills} kill rounds: {}", tally.lock().unwrap().acked.len());
        }
        let pause = rand::thread_rng().gen_range(50..400);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        cluster.terminal.kill9();
        kills += 1;
        let down = rand::thread_rng().gen_range(0..100);
        tokio::time::sleep(Duration::from_millis(down)).await;
        cluster.terminal.start().await?;
    }
    done.store(true, Ordering::SeqCst);
    for w in workers {
        w.await??;
    }

    let (acked, unanswered, attempts) = {
        let t = tally.lock().unwrap();
        (t.acked.clone(), t.unanswered, t.attempts)
    };
    assert_eq!(acked.len() + unanswered, attempts);
    assert!(acked.len() >= MIN_ACKED, "too few acknowledged ({} of {attempts}) for a meaningful test", acked.len());

    cluster.wait_drained(Duration::from_secs(180)).await?;
    // Unanswered requests may have been committed just before the kill; those ids are unknown
    // to us, so allow the node to hold at most `unanswered` of them.
    let stored = cluster.node.submissions()?;
    let extra = stored.iter().filter(|s| !acked.contains(&s.id)).count();
    assert!(extra <= unanswered, "{extra} stored submissions were never acknowledged, but only {unanswered} requests went unanswered");
    let maybe: HashSet<_> = stored.iter().map(|s| s.id).filter(|id| !acked.contains(id)).collect();
    cluster.assert_exactly_once(&acked, &maybe)?;
    println!(
        "kill -9 × {kills}: {attempts} attempts, {} acknowledged, {unanswered} unanswered, {} stored at the node, {} repeated deliveries answered duplicate",
        acked.len(),
        stored.len(),
        stored.iter().map(|s| s.deliveries.saturating_sub(1)).sum::<u64>()
    );
    Ok(())
}
