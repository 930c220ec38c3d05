//! `serve --tls`: the node serves HTTPS with a self-signed certificate made on first use, keeps
//! it across restarts, logs its fingerprint, and `fingerprint` prints the same one.

use std::process::Command;
use std::time::Duration;

use crate::common::ServeProcess;
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_provincial-node");

/// A `serve --tls` process and the certificate fingerprint it logged at start.
fn serve_tls(data: &str) -> (ServeProcess, String) {
    let served = ServeProcess::start(&["--tls", "--data", data]);
    let logged = served.listening.split("tls_certificate_sha256=").nth(1).and_then(|f| f.split_whitespace().next()).unwrap_or("").to_string();
    (served, logged)
}

fn fingerprint_command(data: &str) -> String {
    let out = Command::new(BIN).args(["fingerprint", "--data", data]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// GETs `/` over HTTPS, accepting any certificate, and returns the status and the SHA-256 of
/// the certificate the server presented.
async fn get_root(address: &str) -> (u16, String) {
    let http = reqwest::Client::builder().danger_accept_invalid_certs(true).tls_info(true).timeout(Duration::from_secs(10)).build().unwrap();
    let response = http.get(format!("https://{address}/")).send().await.expect("HTTPS request");
    let info = response.extensions().get::<reqwest::tls::TlsInfo>().expect("TLS info").clone();
    let der = info.peer_certificate().expect("a peer certificate");
    let hex: String = Sha256::digest(der).iter().map(|b| format!("{b:02x}")).collect();
    (response.status().as_u16(), hex)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_tls_serves_https_with_the_certificate_fingerprint_prints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let data = data.to_str().unwrap();

    let (served, logged_fingerprint) = serve_tls(data);
    let key = std::path::Path::new(data).join("tls-key.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600, "the key is private");
    }
    let printed = fingerprint_command(data);
    assert_eq!(printed.len(), 64, "{printed}");
    assert_eq!(logged_fingerprint, printed, "the start-up log names the fingerprint");

    let (status, presented) = get_root(served.address()).await;
    assert_eq!(status, 200);
    assert_eq!(presented, printed, "`fingerprint` prints the certificate the node serves");

    // Plain http to the TLS port gets no answer.
    let plain = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    assert!(plain.get(format!("http://{}/", served.address())).send().await.is_err(), "no plain http on the TLS port");

    // A restart keeps the certificate.
    drop(served);
    let (again, _) = serve_tls(data);
    assert_eq!(get_root(again.address()).await.1, printed, "the certificate survives a restart");
}

#[test]
fn fingerprint_without_a_certificate_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).args(["fingerprint", "--data"]).arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("serve --tls"), "{stderr}");
}
