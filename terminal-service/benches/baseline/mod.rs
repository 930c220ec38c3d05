//! The baseline both outbox benchmarks measure against in the same run: a bare SQLite insert
//! of the sealed bytes, committed on its own, one at a time.

use std::time::{Duration, Instant};

use rusqlite::TransactionBehavior;

/// `count` bare inserts into the table `bare (sealed)`, each its own durable transaction.
pub fn bare_inserts(conn: &mut rusqlite::Connection, sealed: &[u8], count: usize) -> Duration {
    let started = Instant::now();
    for _ in 0..count {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).expect("begin");
        tx.prepare_cached("INSERT INTO bare (sealed) VALUES (?1)").expect("prepare").execute([sealed]).expect("insert");
        tx.commit().expect("commit");
    }
    started.elapsed()
}
