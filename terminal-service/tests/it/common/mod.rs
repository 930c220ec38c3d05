//! Shared fixtures: a provisioned terminal in a temp dir, and a stub node on 127.0.0.1:0.

#![allow(dead_code)]

pub mod stub_node;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use node_protocol::*;
use serde_json::{json, Value};
use tempfile::TempDir;
use terminal_service::startup::config::Config;
use terminal_service::startup::identity::{Enrollment, TerminalKey};
use terminal_service::startup::node_config::store_cached;
use terminal_service::terminal::Terminal;

/// A terminal's storage directory and configuration.
pub struct Fixture {
    pub dir: TempDir,
    pub config: Config,
    /// The node's sealing identity (what the stub decrypts with).
    pub identity: age::x25519::Identity,
}

fn text(s: &str) -> LocalizedText {
    LocalizedText::new(s, s, s)
}

fn field(id: &str, t: FieldType, required: bool) -> FormField {
    FormField {
        id: id.into(),
        label: text(id),
        field_type: t,
        required,
        script: None,
        min_length: None,
        max_length: None,
        pattern: None,
        min: None,
        max: None,
        options: vec![],
        member_fields: vec![],
        hint: None,
        show_when: None,
    }
}

/// The node configuration the fixtures cache: an application and a grievance form.
pub fn node_config() -> NodeConfig {
    let mut name = field("full_name", FieldType::Text, true);
    name.script = Some(Script::Arabic);
    name.min_length = Some(2);
    name.max_length = Some(80);
    let mut member_name = field("name", FieldType::Text, true);
    member_name.script = Some(Script::Arabic);
    let mut members = field("members", FieldType::HouseholdMembers, false);
    members.member_fields = vec![member_name, field("birth_date", FieldType::Date, false)];
    let mut description = field("description", FieldType::Text, true);
    description.script = Some(Script::Arabic);
    description.max_length = Some(500);
    let step = |fields| FormStep { id: "main".into(), title: text("main"), fields, show_when: None };
    NodeConfig {
        version: "cfg-1".into(),
        province: "Baghdad".into(),
        forms: vec![
            FormDefinition {
                id: "application".into(),
                kind: SubmissionKind::Application,
                version: "app-1".into(),
                title: text("application"),
                steps: vec![step(vec![
                    name.clone(),
                    field("national_id", FieldType::NationalId, true),
                    field("phone", FieldType::Phone, false),
                    field("birth_date", FieldType::Date, false),
                    field("governorate", FieldType::Governorate, false),
                    field("district", FieldType::District, false),
                    members,
                ])],
            },
            FormDefinition {
                id: "grievance".into(),
                kind: SubmissionKind::Grievance,
                version: "grv-1".into(),
                title: text("grievance"),
                steps: vec![step(vec![name, field("national_id", FieldType::NationalId, false), description])],
            },
        ],
        master_data: MasterData {
            governorates: vec![Governorate {
                code: "BGD".into(),
                name: text("Baghdad"),
                districts: vec![District { code: "BGD-01".into(), name: text("Karkh") }],
            }],
        },
        staff: StaffRoster {
            badge_hash_key: "c2VjcmV0".into(),
            members: vec![StaffMember {
                staff_id: "STAFF-001".into(),
                display_name: "Staff One".into(),
                role: StaffRole::Staff,
                badge_hash: "0".repeat(64),
                pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            }],
        },
        digits: Default::default(),
        referral_partners: vec![],
    }
}

/// Valid answers for the application form; `n` varies the national id.
pub fn application_answers(n: u64) -> Value {
    json!({
        "full_name": "فاطمة علي حسين",
        "national_id": format!("{:012}", 199_000_000_000u64 + n),
        "phone": "07701234567",
        "governorate": "BGD",
        "district": "BGD-01",
        "members": [{"name": "ڕێبوار", "birth_date": "2010-05-01"}]
    })
}

impl Fixture {
    /// An unprovisioned terminal with fast sync settings.
    pub fn unprovisioned() -> Fixture {
        let dir = tempfile::Builder::new().prefix("ts-test-").tempdir().unwrap();
        let mut config = Config::default();
        config.storage.dir = dir.path().join("state");
        config.api.socket = dir.path().join("run").join("api.sock");
        config.sync.batch_size = 10;
        config.sync.backoff_initial_ms = 10;
        config.sync.backoff_max_ms = 100;
        config.sync.request_timeout_ms = 300;
        std::fs::create_dir_all(&config.storage.dir).unwrap();
        Fixture { dir, config, identity: age::x25519::Identity::generate() }
    }

    /// A terminal enrolled with the node at `node_url`, its forms cached.
    pub fn provisioned(node_url: &str) -> Fixture {
        Fixture::provisioned_for(node_url, age::x25519::Identity::generate())
    }

    /// A terminal enrolled with the node at `node_url` whose sealing identity is `identity`.
    pub fn provisioned_for(node_url: &str, identity: age::x25519::Identity) -> Fixture {
        let mut f = Fixture::unprovisioned();
        f.identity = identity;
        f.config.node.url = node_url.into();
        let state = &f.config.storage.dir;
        TerminalKey::generate(state).unwrap();
        Enrollment {
            node_url: node_url.into(),
            node_id: "node-test".into(),
            terminal_id: "T-TEST0001".into(),
            province: "Baghdad".into(),
            sealing_recipient: f.identity.to_public().to_string(),
            heartbeat_interval_s: 3600,
            enrolled_at: Utc::now(),
            node_certificate_sha256: None,
        }
        .store(state)
        .unwrap();
        store_cached(state, &node_config()).unwrap();
        f
    }

    /// Opens the terminal state.
    pub fn open(&self) -> Arc<Terminal> {
        Terminal::open(self.config.clone()).unwrap()
    }
}

/// Polls `check` every 20 ms for at most `limit`.
pub async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
