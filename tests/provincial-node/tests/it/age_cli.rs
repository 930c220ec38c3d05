//! What is sealed to the node's recipient opens with the standard `age` command-line tool and
//! the node's identity file. Skipped (with a message) when `age` is not installed, unless
//! CI_REQUIRE_AGE=1, which makes its absence a failure.

use std::io::Write;
use std::process::{Command, Stdio};
use std::str::FromStr;

#[test]
fn age_cli_opens_what_is_sealed_to_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let identity = provincial_node::identity::SealingIdentity::load_or_create(&{
        std::fs::create_dir_all(&data).unwrap();
        data.clone()
    })
    .unwrap();
    let recipient = age::x25519::Recipient::from_str(&identity.recipient()).unwrap();
    let plaintext = "{\"national_id\":\"199001234567\",\"name\":\"هەڵەبجە\"}";
    let sealed = age::encrypt(&recipient, plaintext.as_bytes()).unwrap();

    let child = Command::new("age")
        .args(["-d", "-i"])
        .arg(data.join(provincial_node::identity::IDENTITY_FILE))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPED: the `age` command-line tool is not installed (apt-get install age); set CI_REQUIRE_AGE=1 to make this a failure");
            assert_ne!(std::env::var("CI_REQUIRE_AGE").as_deref(), Ok("1"), "CI_REQUIRE_AGE=1 but `age` is not installed");
            return;
        }
        Err(e) => panic!("cannot run age: {e}"),
    };
    child.stdin.take().unwrap().write_all(&sealed).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "age -d failed: {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), plaintext);

    // And the other way round: what `age -r` seals, the node opens.
    let mut child = Command::new("age")
        .args(["-r", &identity.recipient()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"from the cli").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert_eq!(identity.open(&output.stdout).unwrap(), b"from the cli");
}
