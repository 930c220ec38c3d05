//! The README's demo: a reference node and a provisioned terminal-service on loopback, with
//! sample applications, a grievance and status checks flowing through the local API.
//!
//! Everything lives under one directory (default `target/demo`), which is started afresh each
//! time. With `--once` it stops after the walk-through (used by the tests); otherwise it keeps
//! the node and the terminal running until Ctrl-C so that a person can poke at them with the
//! technician CLI, whose exact command lines it prints.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use e2e::processes::{free_port, HeadquartersProcess, NodeProcess, TerminalProcess};
use e2e::sample::{answers, Applicant};
use node_protocol::SubmissionKind;

struct Args {
    dir: PathBuf,
    once: bool,
    ui: bool,
    provision_in_ui: bool,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { dir: PathBuf::from("target/demo"), once: false, ui: true, provision_in_ui: false };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--once" => args.once = true,
            "--no-ui" => args.ui = false,
            "--provision-in-ui" => args.provision_in_ui = true,
            "--dir" => args.dir = PathBuf::from(it.next().context("--dir needs a directory")?),
            "-h" | "--help" => {
                println!("usage: kiosk-demo [--dir DIR] [--once] [--no-ui] [--provision-in-ui]");
                std::process::exit(0);
            }
            other => anyhow::bail!("unknown argument '{other}': usage: kiosk-demo [--dir DIR] [--once] [--no-ui] [--provision-in-ui]"),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    if args.dir.exists() {
        std::fs::remove_dir_all(&args.dir).with_context(|| format!("clearing {}", args.dir.display()))?;
    }
    std::fs::create_dir_all(&args.dir)?;
    let dir = std::fs::canonicalize(&args.dir)?;

    println!("== Enrollment kiosk demo (everything on loopback, state in {})", dir.display());
    // Headquarters first (every province's persons, on a PostgreSQL it starts in a temporary
    // directory), so the node checks each application against the other provinces too.
    let headquarters = HeadquartersProcess::start(&dir.join("headquarters.log"), free_port()?, &dir.join("node"), "Baghdad").await?;
    println!("   headquarters       {}   (PostgreSQL 15; log: {})", headquarters.url(), headquarters.log.display());
    let node = NodeProcess::start_with(&dir.join("node"), free_port()?, &["--headquarters", &headquarters.url()]).await?;
    println!("   provincial node    {}   (log: {})", node.url(), node.log.display());

    let mut terminal = TerminalProcess::new(&dir.join("terminal"), &node.url(), "")?;
    let code = node.issue_code()?;
    println!("   enrollment code    {code}");
    if args.provision_in_ui {
        // A fresh terminal, as a technician finds it: provisioning happens on the kiosk's
        // technician screen (no login is needed before a roster exists).
        terminal.start().await?;
        println!("\n== The terminal is not provisioned: the kiosk opens its set-up screen by itself. Enter");
        println!("   node URL  {}\n   code      {code}", node.url());
        return finish(&args, &mut terminal).await;
    }
    terminal.provision(&node.url(), &code)?;
    terminal.start().await?;
    let api = terminal.api()?;
    let health = api.health().await?;
    println!(
        "   terminal           {} in {} (socket: {})",
        health["terminal_id"].as_str().unwrap_or("?"),
        health["province"].as_str().unwrap_or("?"),
        terminal.socket.display()
    );

    let forms = api.forms().await?;
    println!("\n== Submitting sample applications and a grievance through the local API");
    let mut references = Vec::new();
    let mut first_application = None;
    // The first applicant's date of birth is known, so the status check below can find it.
    let known_birth = Applicant { date: Some("1985-06-15".into()), ..Applicant::default() };
    for (i, (kind, language)) in [
        (SubmissionKind::Application, "ar"),
        (SubmissionKind::Application, "ckb"),
        (SubmissionKind::Application, "en"),
        (SubmissionKind::Grievance, "ar"),
    ]
    .into_iter()
    .enumerate()
    {
        let applicant = if i == 0 { known_birth.clone() } else { Applicant::default() };
        let body = answers(forms.form(kind)?, &forms.master_data, &applicant);
        if i == 0 {
            first_application = Some(body.clone());
        }
        match api.submit(kind, language, &body).await? {
            Ok(ack) => {
                println!("   {:<11} [{language:>3}]  reference {}  id {}", kind.as_str(), ack.reference, ack.id);
                // The receipt, as the kiosk prints it once the service says "saved".
                let request = serde_json::json!({"submission_id": ack.id, "language": language});
                let (status, text) = api.raw("POST", "/v1/receipts", Some("application/json"), serde_json::to_vec(&request)?).await?;
                let printed: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                match printed["png"].as_str() {
                    Some(png) if status == 201 => println!("{:>30} receipt printed → {png}", ""),
                    _ => println!("{:>30} receipt not printed: {status} {text}", ""),
                }
                references.push(ack);
            }
            Err((status, text)) => anyhow::bail!("the terminal refused a sample {}: {status} {text}", kind.as_str()),
        }
    }

    println!("\n== Duplicate prevention: the first applicant applies a second time");
    if let Some(body) = &first_application {
        let national_id = body["national_id"].as_str().unwrap_or_default();
        let question = serde_json::to_vec(&serde_json::json!({ "national_id": national_id }))?;
        // The kiosk's early warning: what this terminal sent, and what the node (and, through
        // it, headquarters) knows, once the first application has reached the node.
        e2e::wait_for("the first application to reach the node", Duration::from_secs(60), Duration::from_millis(100), || {
            let api = api.clone();
            let question = question.clone();
            async move {
                let (_, text) = api.raw("POST", "/v1/applications/precheck", Some("application/json"), question).await.ok()?;
                text.contains("\"registered\"").then_some(())
            }
        })
        .await?;
        let (status, text) = api.raw("POST", "/v1/applications/precheck", Some("application/json"), question).await?;
        println!("   pre-check of the same national id → {status} {text}");
        match api.submit(SubmissionKind::Application, "ar", body).await? {
            Ok(ack) => println!("   submitted again anyway: reference {}; the node will flag it", ack.reference),
            Err((status, text)) => anyhow::bail!("the terminal refused the repeated application: {status} {text}"),
        }
    }

    e2e::wait_for("the outbox to drain", Duration::from_secs(60), Duration::from_millis(100), || {
        let api = api.clone();
        async move { api.queue_depth().await.ok().filter(|d| *d == 0) }
    })
    .await?;
    println!("   all delivered; the node holds {} submissions", node.submissions()?.len());
    let review = std::process::Command::new(e2e::processes::binary("provincial-node")?)
        .args(["review", "list", "--data"])
        .arg(&node.data)
        .output()?;
    println!("   flagged for staff review (provincial-node review list --data {}):", node.data.display());
    for line in String::from_utf8_lossy(&review.stdout).lines() {
        println!("      {line}");
    }

    println!("\n== Status checks (online query to the node; nothing is cached on the terminal)");
    // The applicant taps their ID card (simulated): the service reads the number from it.
    let card = serde_json::json!({"uid": "08A1B2C3", "national_id": "199001234567", "date_of_birth": "1985-03-14"});
    let (status, text) = api.raw("POST", "/v1/simulator/card", Some("application/json"), serde_json::to_vec(&card)?).await?;
    anyhow::ensure!(status == 204, "the simulated reader refused the sample ID card: {status} {text}");
    let mut queries = vec![
        ("the ID card of a sample applicant, tapped on the reader".to_string(), serde_json::json!({"by": "id_card"})),
        ("a sample applicant's national id 199001234567, typed".to_string(), serde_json::json!({"by": "national_id", "national_id": "199001234567"})),
    ];
    if let Some(first) = references.first() {
        for (label, dob) in [("right", "1985-06-15"), ("wrong", "1985-06-16")] {
            queries.push((
                format!("reference {} + the {label} date of birth", first.reference),
                serde_json::json!({"by": "reference", "reference": first.reference, "date_of_birth": dob}),
            ));
        }
    }
    for (label, query) in queries {
        let body = serde_json::to_vec(&serde_json::json!({ "query": query }))?;
        let (status, text) = api.raw("POST", "/v1/status-checks", Some("application/json"), body).await?;
        let answer: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        println!("   {label}\n      → {status} {}: {}", answer["state"].as_str().unwrap_or("?"), answer["message"]["en"].as_str().unwrap_or(&text));
    }
    let _ = api.raw("DELETE", "/v1/simulator/card", None, Vec::new()).await?;

    println!("\n== Technician commands (try them)");
    let ts = e2e::processes::binary("terminal-service")?;
    let cfg = terminal.config.display();
    for sub in ["status", "queue", "audit verify", "config check"] {
        println!("   {} --config {cfg} {sub}", ts.display());
    }
    let out = terminal.cli(&["status"])?;
    println!("\n{}", String::from_utf8_lossy(&out.stdout));

    finish(&args, &mut terminal).await
}

/// Opens the kiosk UI when there is a display, otherwise waits for Ctrl-C; then stops the
/// terminal (the node stops when its handle is dropped).
async fn finish(args: &Args, terminal: &mut TerminalProcess) -> Result<()> {
    if args.once {
        terminal.stop();
        return Ok(());
    }
    let has_display = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if args.ui && has_display {
        println!("== The kiosk UI, in a window. F1 puts the staff badge on the simulated reader (PIN 2468),");
        println!("   F2 the technician badge (PIN 9024), F3 an applicant's card, F4 takes the card off.");
        println!("   Printed receipts appear as PNG files in {}.", terminal.storage.join("printed").display());
        let mut ui = std::process::Command::new(e2e::processes::binary("kiosk")?)
            .arg("--socket")
            .arg(&terminal.socket)
            .arg("--demo")
            .spawn()
            .context("starting the kiosk UI")?;
        // Closing the window or Ctrl-C ends the demo.
        let status = tokio::select! {
            s = tokio::task::spawn_blocking(move || ui.wait()) => Some(s??),
            _ = tokio::signal::ctrl_c() => None,
        };
        if let Some(s) = status {
            println!("kiosk UI exited ({s})");
        }
    } else {
        if args.ui {
            println!("(no DISPLAY or WAYLAND_DISPLAY: the kiosk UI is not started; run it yourself with");
            println!("   {} --socket {} --demo)", e2e::processes::binary("kiosk")?.display(), terminal.socket.display());
        }
        println!("Running. Press Ctrl-C to stop the node and the terminal.");
        tokio::signal::ctrl_c().await?;
    }
    terminal.stop();
    Ok(())
}

