//! `GET /v1/config`: both forms in three languages, Iraq's governorates, the staff roster.

use crate::common::*;
use node_protocol::{LocalizedText, NodeConfig, StaffRole, SubmissionKind};

fn three(text: &LocalizedText) {
    assert!(!text.ar.is_empty() && !text.ckb.is_empty() && !text.en.is_empty(), "{text:?}");
    // Arabic and Kurdish labels are in Arabic script.
    for t in [&text.ar, &text.ckb] {
        assert!(t.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)), "{t}");
    }
}

#[tokio::test]
async fn config_has_both_forms_master_data_and_roster() {
    let terminal = enroll().await;
    let (status, body) = terminal.get("/v1/config").await;
    assert_eq!(status, 200, "{body}");
    let config: NodeConfig = serde_json::from_value(body).unwrap();
    assert_eq!(config.version, terminal.enrollment.config_version);
    assert_eq!(config.province, "Baghdad");

    let kinds: Vec<_> = config.forms.iter().map(|f| (f.id.as_str(), f.kind)).collect();
    // The targeting questionnaire travels with an application, listed last.
    assert_eq!(
        kinds,
        vec![("application", SubmissionKind::Application), ("grievance", SubmissionKind::Grievance), ("targeting", SubmissionKind::Application)]
    );
    for form in &config.forms {
        three(&form.title);
        for step in &form.steps {
            three(&step.title);
            for field in step.fields.iter().chain(step.fields.iter().flat_map(|f| f.member_fields.iter())) {
                three(&field.label);
                field.options.iter().for_each(|o| three(&o.label));
            }
        }
        let ids: Vec<_> = form.steps.iter().flat_map(|s| s.fields.iter().map(|f| f.id.as_str())).collect();
        let expected = if form.id == "targeting" { "displacement" } else { "date_of_birth" };
        assert!(ids.contains(&expected), "{ids:?}");
    }

    let governorates = &config.master_data.governorates;
    for code in [
        "BGD", "BSR", "NIN", "ERB", "SUL", "DHK", "HLB", "KRK", "DYL", "ANB", "SLD", "BBL", "KRB", "NJF", "WST", "QAD", "MTH",
        "DHQ", "MYS",
    ] {
        let g = governorates.iter().find(|g| g.code == code).unwrap_or_else(|| panic!("{code} missing"));
        three(&g.name);
        assert!(!g.districts.is_empty());
        g.districts.iter().for_each(|d| three(&d.name));
    }
    // The 18 governorates of the constitution plus Halabja.
    assert_eq!(governorates.len(), 19);

    assert!(config.staff.members.iter().any(|m| m.role == StaffRole::Technician));
    assert!(config.staff.members.iter().all(|m| m.pin_hash.starts_with("$argon2id$") && m.badge_hash.len() == 64));
    let key = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &config.staff.badge_hash_key).unwrap();
    let sample = &provincial_node::seed::SAMPLE_STAFF[0];
    let uid = provincial_node::seed::decode_hex(sample.badge_uid_hex).unwrap();
    let member = config.staff.members.iter().find(|m| m.staff_id == sample.staff_id).unwrap();
    assert_eq!(member.badge_hash, provincial_node::seed::badge_hash(&key, &uid));
}
