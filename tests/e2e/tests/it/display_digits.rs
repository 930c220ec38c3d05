//! The node chooses the digits each language shows dates and numbers in; the terminal picks the
//! choice up with the node's configuration at its next heartbeat (the first one comes at start)
//! and passes it to the kiosk.

use std::time::Duration;

use e2e::cluster::{Cluster, FAST_SYNC};
use e2e::processes::NodeProcess;
use e2e::wait_for;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_digits_reach_the_kiosk_settings() -> anyhow::Result<()> {
    let mut cluster = Cluster::start(FAST_SYNC, None).await?;
    let api = cluster.api()?;
    let western = json!({"ar": "western", "ckb": "western", "en": "western"});
    assert_eq!(api.get_json("/v1/kiosk").await?["digits"], western, "Western digits unless the node says otherwise");

    let (data, port) = (cluster.node.data.clone(), cluster.node.port);
    cluster.node.stop();
    cluster.node = NodeProcess::start_with(&data, port, &["--eastern-digits", "ar,ckb"]).await?;
    // The node's heartbeat interval is a minute; a restart brings the next heartbeat forward.
    cluster.terminal.stop();
    cluster.terminal.start().await?;
    let api = cluster.api()?;
    let eastern = json!({"ar": "eastern", "ckb": "eastern", "en": "western"});
    wait_for("the node's new digits at the kiosk", Duration::from_secs(30), Duration::from_millis(200), || {
        let api = &api;
        let eastern = &eastern;
        async move { api.get_json("/v1/kiosk").await.ok().filter(|k| &k["digits"] == eastern).map(|_| ()) }
    })
    .await?;
    Ok(())
}
