//! Partner referrals at the node (issue 14): which partners it trusts, the referrals recorded
//! for them, and the check of each referral an application carries.
//!
//! - **Trust**: `partners` holds each partner's Ed25519 public keys (more than one while a
//!   partner rotates), added by the operator (`provincial-node partners add CODE --key K`), as
//!   headquarters trusts nodes: a short list of long-lived peers, configured once.
//! - **Recorded referrals**: `referrals` holds every referral issued through this node (the
//!   partner's CLI with `--data`, or the partner's signed `POST /v1/partners/referrals`), so a
//!   short code typed at a kiosk can be looked up (`GET /v1/referrals/{code}`) and counted as
//!   issued. The node never holds a partner's private key: the partner signs, the node records.
//! - **Use**: an application's referral is checked when it is filed, in the filing transaction
//!   ([`check_and_record`]): format, trusted partner, signature, dates (Iraq's calendar day),
//!   then single use in this province (a unique index on the accepted checks), and after the
//!   commit across provinces at headquarters ([`claim_at_headquarters`]). **A bad referral never
//!   refuses the application**: it is filed, the referral is refused with a reason that goes
//!   back on the `accepted` result (`referral_check`) and into `referral_checks` for the report.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{NaiveDate, SecondsFormat};
use ed25519_dalek::VerifyingKey;
use node_protocol::referral::{ReferralError, ShortCode, SignedReferral, TrustedPartner};
use node_protocol::{AttachedReferral, HeadquartersCheck, ReferralCheck, ReferralLookup, ReferralRefusal, ReferralStatus};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::duplicates::{headquarters_from_text, headquarters_text};

/// Iraq's offset from UTC (Arabia Standard Time, no daylight saving since 2008): a referral's
/// dates are the partner's calendar days in Iraq.
const IRAQ_OFFSET_HOURS: i64 = 3;

/// Today's date in Iraq.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(IRAQ_OFFSET_HOURS)).date_naive()
}

/// Why a partner or referral was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The referral itself is not acceptable.
    #[error("{0}")]
    Referral(#[from] ReferralError),
    /// A partner's key is not an Ed25519 public key.
    #[error("partner key is not a 32-byte Ed25519 public key in standard base64: give what `provincial-node partners new-key` printed")]
    BadKey,
    /// The governorate is not in the node's master data.
    #[error("governorate '{0}' is not in the node's master data: use a code such as BGD, NIN or DHK (GET /v1/config lists them)")]
    UnknownGovernorate(String),
    /// The partner already has referrals under this serial.
    #[error("partner {partner} already issued a referral with serial {serial} here: every serial is used once")]
    SerialUsed {
        /// The partner.
        partner: String,
        /// The serial.
        serial: u64,
    },
    /// The database.
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
}

/// Why the partner's side (key file, QR image, the node's API) failed.
#[derive(Debug, thiserror::Error)]
pub enum PartnerToolError {
    /// The key file cannot be read, written or understood.
    #[error("partner key {path}: {detail}")]
    KeyFile {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The QR image cannot be made or written.
    #[error("QR image {path}: {detail}")]
    QrImage {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
    /// The node refused or could not be reached.
    #[error("node at {url}: {detail}")]
    Node {
        /// The node's base URL.
        url: String,
        /// What happened.
        detail: String,
    },
}

/// A trusted partner, as `partners list` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    /// The partner's code (`WFP`).
    pub code: String,
    /// Its name, as the operator gave it.
    pub name: String,
    /// Its public keys, standard base64.
    pub keys: Vec<String>,
}

/// Parses a partner's public key (standard base64 of 32 bytes).
pub fn parse_key(text: &str) -> Result<VerifyingKey, RecordError> {
    let bytes: [u8; 32] = STANDARD.decode(text.trim()).map_err(|_| RecordError::BadKey)?.try_into().map_err(|_| RecordError::BadKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| RecordError::BadKey)
}

/// Trusts `key` for partner `code` (a second key for the same partner is added beside the
/// first; the same key again changes nothing). Returns whether the key was new.
pub fn add_partner(conn: &Connection, code: &str, name: &str, key: &VerifyingKey) -> Result<bool, RecordError> {
    let code = code.trim().to_ascii_uppercase();
    if !(2..=6).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ReferralError::Malformed { field: "partner", detail: format!("'{code}' is not 2 to 6 letters A-Z (e.g. WFP)") }.into());
    }
    let added = conn.execute(
        "INSERT OR IGNORE INTO partners (code, name, public_key, added_at) VALUES (?1, ?2, ?3, ?4)",
        params![code, if name.is_empty() { code.as_str() } else { name }, key.to_bytes().as_slice(), now_text()],
    )?;
    if added == 1 {
        audit(conn, "cli", "partner_key_added", None, &serde_json::json!({ "partner": code, "key": STANDARD.encode(key.to_bytes()) }))?;
    }
    Ok(added == 1)
}

/// Every trusted partner with its keys.
pub fn partners(conn: &Connection) -> rusqlite::Result<Vec<Partner>> {
    let mut statement = conn.prepare("SELECT code, name, public_key FROM partners ORDER BY code, added_at")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?)))?;
    let mut partners: Vec<Partner> = Vec::new();
    for row in rows {
        let (code, name, key) = row?;
        match partners.last_mut() {
            Some(last) if last.code == code => last.keys.push(STANDARD.encode(key)),
            _ => partners.push(Partner { code, name, keys: vec![STANDARD.encode(key)] }),
        }
    }
    Ok(partners)
}

/// Every trusted key, for [`node_protocol::referral::verify`].
pub fn trusted(conn: &Connection) -> rusqlite::Result<Vec<TrustedPartner>> {
    let mut statement = conn.prepare_cached("SELECT code, public_key FROM partners")?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
    let mut trusted = Vec::new();
    for row in rows {
        let (code, key) = row?;
        // Keys are checked when added; a row that does not parse is skipped (and trusts nothing).
        if let Some(key) = <[u8; 32]>::try_from(key).ok().and_then(|k| VerifyingKey::from_bytes(&k).ok()) {
            trusted.push(TrustedPartner { code, key });
        }
    }
    Ok(trusted)
}

/// Records a referral a partner signed (the CLI's `issue --data`, or the partner API): its
/// signature must verify against a trusted key of its partner, and its serial be new. Its dates
/// are not checked here (they are when it is used), so a partner may record one that starts
/// later. `by` says through what it came (`cli`, `api`).
pub fn record(conn: &Connection, signed: &SignedReferral, by: &str) -> Result<String, RecordError> {
    // Checked as on its issue day: only format, partner and signature count here.
    let trusted = trusted(conn)?;
    match signed.verify(&trusted, signed.referral.issued_on) {
        Ok(()) | Err(ReferralError::Expired { .. } | ReferralError::NotYetValid { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    let referral = &signed.referral;
    if crate::geography::find_governorate(&referral.governorate).is_none_or(|g| g.code != referral.governorate) {
        return Err(RecordError::UnknownGovernorate(referral.governorate.clone()));
    }
    let code = referral.short_code();
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO referrals (code, partner, serial, payload, issued_on, expires_on, household_size, governorate,
             partner_case, recorded_at, recorded_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            code,
            referral.partner,
            referral.serial as i64,
            signed.payload(),
            referral.issued_on.to_string(),
            referral.expires_on.to_string(),
            referral.household_size,
            referral.governorate,
            referral.partner_case,
            now_text(),
            by,
        ],
    )?;
    if inserted == 0 {
        return Err(RecordError::SerialUsed { partner: referral.partner.clone(), serial: referral.serial });
    }
    audit(conn, by, "referral_recorded", None, &serde_json::json!({ "referral": code }))?;
    Ok(code)
}

/// A recorded referral's QR payload, by its short code.
pub fn recorded_payload(conn: &Connection, code: &ShortCode) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT payload FROM referrals WHERE partner = ?1 AND serial = ?2")?
        .query_row(params![code.partner, code.serial as i64], |r| r.get(0))
        .optional()
}

/// The case that used the referral of `partner` and `serial` in this province, if any.
pub fn used_by(conn: &Connection, partner: &str, serial: u64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT case_number FROM referral_checks WHERE partner = ?1 AND serial = ?2 AND status = 'accepted'")?
        .query_row(params![partner, serial as i64], |r| r.get(0))
        .optional()
}

/// What a referral check found, before it is stored.
struct Verdict {
    code: String,
    partner: Option<String>,
    serial: Option<u64>,
    refusal: Option<ReferralRefusal>,
}

/// The signed referral an application carries: its payload, or the one recorded under its
/// short code. `Err` is the refusal, with whatever of partner and serial could be read.
fn resolve(conn: &Connection, attached: &AttachedReferral, today: NaiveDate) -> Result<Verdict, rusqlite::Error> {
    let typed = ShortCode::parse(&attached.code).ok();
    let refused = |code: String, partner: Option<String>, serial: Option<u64>, refusal: ReferralRefusal| Verdict {
        code,
        partner,
        serial,
        refusal: Some(refusal),
    };
    let from_code = |c: &ShortCode| (c.to_string(), Some(c.partner.clone()), Some(c.serial));
    let signed = match (&attached.payload, &typed) {
        (Some(payload), _) => match SignedReferral::parse(payload) {
            Ok(signed) => signed,
            Err(error) => {
                let (code, partner, serial) = typed.as_ref().map_or((attached.code.trim().to_string(), None, None), from_code);
                return Ok(refused(code, partner, serial, error.refusal()));
            }
        },
        (None, None) => return Ok(refused(attached.code.trim().to_string(), None, None, ReferralRefusal::Malformed)),
        (None, Some(code)) => match recorded_payload(conn, code)?.map(|p| SignedReferral::parse(&p)) {
            Some(Ok(signed)) => signed,
            Some(Err(_)) | None => {
                let (code, partner, serial) = from_code(code);
                return Ok(refused(code, partner, serial, ReferralRefusal::UnknownCode));
            }
        },
    };
    let referral = &signed.referral;
    let (code, partner, serial) = (referral.short_code(), Some(referral.partner.clone()), Some(referral.serial));
    // A typed code that is not the payload's: the kiosk joined two different slips.
    if typed.as_ref().is_some_and(|t| t.to_string() != code) {
        return Ok(refused(code, partner, serial, ReferralRefusal::Malformed));
    }
    if let Err(error) = signed.verify(&trusted(conn)?, today) {
        return Ok(refused(code, partner, serial, error.refusal()));
    }
    if used_by(conn, &referral.partner, referral.serial)?.is_some() {
        return Ok(refused(code, partner, serial, ReferralRefusal::AlreadyUsed));
    }
    Ok(Verdict { code, partner, serial, refusal: None })
}

/// A referral to claim at headquarters once the filing has committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The referral's partner.
    pub partner: String,
    /// The partner's serial.
    pub serial: u64,
    /// The case that uses it.
    pub case_number: String,
}

/// Checks the referral `attached` to the application filed as `case_number`, on `today`, and
/// stores the result (inside the caller's filing transaction). Returns the wire check, and the
/// claim to make at headquarters when it was accepted here and the node has headquarters.
pub fn check_and_record(
    conn: &Connection,
    attached: &AttachedReferral,
    case_number: &str,
    today: NaiveDate,
    headquarters: HeadquartersCheck,
) -> rusqlite::Result<(ReferralCheck, Option<Claim>)> {
    let verdict = resolve(conn, attached, today)?;
    let status = if verdict.refusal.is_some() { ReferralStatus::Refused } else { ReferralStatus::Accepted };
    // A refusal is final whatever headquarters would say: it is not asked.
    let headquarters = (status == ReferralStatus::Accepted).then_some(headquarters);
    conn.prepare_cached(
        "INSERT INTO referral_checks (case_number, code, partner, serial, status, reason, headquarters, checked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        case_number,
        verdict.code,
        verdict.partner,
        verdict.serial.map(|s| s as i64),
        status_text(status),
        verdict.refusal.map(ReferralRefusal::as_str),
        headquarters.map_or("not_asked", headquarters_text),
        now_text(),
    ])?;
    if let Some(refusal) = verdict.refusal {
        tracing::info!(case_number, referral = %verdict.code, reason = refusal.as_str(), "referral refused; the application is filed");
    }
    let claim = match (headquarters, verdict.partner, verdict.serial) {
        (Some(HeadquartersCheck::NotChecked), Some(partner), Some(serial)) => {
            Some(Claim { partner, serial, case_number: case_number.to_string() })
        }
        _ => None,
    };
    let check = ReferralCheck { code: verdict.code, status, reason: verdict.refusal, headquarters };
    Ok((check, claim))
}

fn status_text(status: ReferralStatus) -> &'static str {
    match status {
        ReferralStatus::Accepted => "accepted",
        ReferralStatus::Refused => "refused",
    }
}

/// The stored check of `case_number`'s referral.
pub fn stored_check(conn: &Connection, case_number: &str) -> rusqlite::Result<Option<ReferralCheck>> {
    conn.prepare_cached("SELECT code, status, reason, headquarters FROM referral_checks WHERE case_number = ?1")?
        .query_row([case_number], |r| {
            let status: String = r.get(1)?;
            let reason: Option<String> = r.get(2)?;
            let headquarters: String = r.get(3)?;
            Ok(ReferralCheck {
                code: r.get(0)?,
                status: if status == "accepted" { ReferralStatus::Accepted } else { ReferralStatus::Refused },
                reason: reason.as_deref().map(ReferralRefusal::from_wire),
                headquarters: (headquarters != "not_asked").then(|| headquarters_from_text(&headquarters)),
            })
        })
        .optional()
}

/// Accepted referrals headquarters has not confirmed yet (at most `limit`, oldest first).
pub fn pending_claims(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<Claim>> {
    let mut statement = conn.prepare_cached(
        "SELECT partner, serial, case_number FROM referral_checks
         WHERE status = 'accepted' AND headquarters = 'not_checked' ORDER BY checked_at, case_number LIMIT ?1",
    )?;
    let rows = statement.query_map([limit as i64], |r| {
        Ok(Claim { partner: r.get(0)?, serial: r.get::<_, i64>(1)? as u64, case_number: r.get(2)? })
    })?;
    rows.collect()
}

/// Stores headquarters' answers (case number → the case that holds the referral there): a
/// referral held by another case becomes `refused`, `already_used`. Returns each case's check.
pub fn record_claims(conn: &mut Connection, answers: &[(String, String)]) -> rusqlite::Result<HashMap<String, ReferralCheck>> {
    let tx = conn.transaction()?;
    let mut checks = HashMap::new();
    for (case_number, holder) in answers {
        if holder == case_number {
            tx.prepare_cached("UPDATE referral_checks SET headquarters = 'checked' WHERE case_number = ?1")?.execute([case_number])?;
        } else {
            tx.prepare_cached(
                "UPDATE referral_checks SET headquarters = 'checked', status = 'refused', reason = 'already_used' WHERE case_number = ?1",
            )?
            .execute([case_number])?;
            tracing::info!(case_number, used_by = holder, "referral already used in another province; the application stays filed");
            audit(&tx, "headquarters", "referral_refused", Some(case_number), &serde_json::json!({ "reason": "already_used", "used_by": holder }))?;
        }
        if let Some(check) = stored_check(&tx, case_number)? {
            checks.insert(case_number.clone(), check);
        }
    }
    tx.commit()?;
    Ok(checks)
}

/// Claims `claims` at headquarters and stores its answers; `None` when the node has no
/// headquarters or it could not be reached (the checks stay `not_checked`, and `serve`'s
/// re-check loop claims them again). Unless `retrying`, a headquarters that failed moments ago
/// is not asked.
pub async fn claim_at_headquarters(
    node: &Arc<crate::Node>,
    claims: Vec<Claim>,
    retrying: bool,
) -> Option<HashMap<String, ReferralCheck>> {
    let headquarters = node.headquarters.as_ref()?;
    if claims.is_empty() {
        return Some(HashMap::new());
    }
    if !retrying && headquarters.recently_failed() {
        return None;
    }
    let count = claims.len();
    let answer = match headquarters.claim_referrals(claims).await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(%error, referrals = count, "referrals not claimed at headquarters; will claim again");
            return None;
        }
    };
    let answers: Vec<(String, String)> = answer.results.into_iter().map(|r| (r.case_number, r.used_by)).collect();
    match crate::api::blocking(node, move |node| Ok(record_claims(&mut node.db(), &answers)?)).await {
        Ok(checks) => Some(checks),
        Err(error) => {
            tracing::error!(code = error.code, "could not store headquarters' referral answers; they will be claimed again");
            None
        }
    }
}

/// Claims the pending referrals at headquarters until none is left or it fails; returns how
/// many were claimed.
pub async fn reclaim_pending(node: &Arc<crate::Node>) -> usize {
    let mut claimed = 0;
    loop {
        let pending = crate::api::blocking(node, |node| Ok(pending_claims(&node.db(), crate::headquarters::MAX_CHECK)?)).await;
        let claims = match pending {
            Ok(claims) if !claims.is_empty() => claims,
            _ => return claimed,
        };
        let count = claims.len();
        match claim_at_headquarters(node, claims, true).await {
            Some(_) => claimed += count,
            None => return claimed,
        }
    }
}

/// What a kiosk may prefill from the referral recorded under `code`, and whether it is usable
/// today. `None` when no referral is recorded under it.
pub fn lookup(conn: &Connection, code: &ShortCode, today: NaiveDate) -> rusqlite::Result<Option<ReferralLookup>> {
    let Some(payload) = recorded_payload(conn, code)? else { return Ok(None) };
    let Ok(signed) = SignedReferral::parse(&payload) else { return Ok(None) };
    let reason = match signed.verify(&trusted(conn)?, today) {
        Err(error) => Some(error.refusal()),
        Ok(()) if used_by(conn, &code.partner, code.serial)?.is_some() => Some(ReferralRefusal::AlreadyUsed),
        Ok(()) => None,
    };
    let referral = signed.referral;
    Ok(Some(ReferralLookup {
        code: referral.short_code(),
        payload,
        partner: referral.partner,
        household_size: referral.household_size,
        governorate: referral.governorate,
        partner_case: referral.partner_case,
        issued_on: referral.issued_on,
        expires_on: referral.expires_on,
        usable: reason.is_none(),
        reason,
    }))
}

/// One partner's line of `referrals report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerReport {
    /// The partner's code (`-` for referrals too malformed to name one).
    pub partner: String,
    /// Referrals recorded here (issued through this node).
    pub issued: u64,
    /// Referrals an application used (accepted checks).
    pub used: u64,
    /// Used referrals whose household entered the registry: the application was filed and is
    /// not a duplicate (its check found nobody, or staff dismissed the flag).
    pub transitioned: u64,
    /// Refused uses of a referral of this partner.
    pub refused: u64,
    /// The refusals by reason (`expired`, `already_used`, …).
    pub refused_by_reason: BTreeMap<String, u64>,
}

/// The report per partner (every trusted partner, and any other named by a refused referral),
/// or only `partner`'s.
pub fn report(conn: &Connection, partner: Option<&str>) -> rusqlite::Result<Vec<PartnerReport>> {
    let mut lines: BTreeMap<String, PartnerReport> = BTreeMap::new();
    let line = |code: &str| -> PartnerReport {
        PartnerReport {
            partner: code.to_string(),
            issued: 0,
            used: 0,
            transitioned: 0,
            refused: 0,
            refused_by_reason: BTreeMap::new(),
        }
    };
    for p in partners(conn)? {
        lines.insert(p.code.clone(), line(&p.code));
    }
    let mut issued = conn.prepare("SELECT partner, count(*) FROM referrals GROUP BY partner")?;
    for row in issued.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (code, n) = row?;
        lines.entry(code.clone()).or_insert_with(|| line(&code)).issued = n as u64;
    }
    let mut checks = conn.prepare(
        "SELECT coalesce(rc.partner, '-'), rc.status, coalesce(rc.reason, ''),
                (rc.status = 'accepted' AND (dc.decision = 'distinct' OR rd.verdict = 'dismissed')) AS transitioned
         FROM referral_checks rc
         LEFT JOIN duplicate_checks dc ON dc.case_number = rc.case_number
         LEFT JOIN review_decisions rd ON rd.case_number = rc.case_number",
    )?;
    let rows = checks.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<bool>>(3)?.unwrap_or(false)))
    })?;
    for row in rows {
        let (code, status, reason, transitioned) = row?;
        let entry = lines.entry(code.clone()).or_insert_with(|| line(&code));
        if status == "accepted" {
            entry.used += 1;
            entry.transitioned += u64::from(transitioned);
        } else {
            entry.refused += 1;
            *entry.refused_by_reason.entry(reason).or_insert(0) += 1;
        }
    }
    Ok(lines.into_values().filter(|l| partner.is_none_or(|p| p.eq_ignore_ascii_case(&l.partner))).collect())
}

/// `referrals report` as a table.
pub fn render_report(lines: &[PartnerReport]) -> String {
    let mut out = format!("{:<8} {:>7} {:>6} {:>12} {:>8}  refused by reason\n", "partner", "issued", "used", "transitioned", "refused");
    for l in lines {
        let reasons: Vec<String> = l.refused_by_reason.iter().map(|(r, n)| format!("{r}={n}")).collect();
        out.push_str(&format!(
            "{:<8} {:>7} {:>6} {:>12} {:>8}  {}\n",
            l.partner,
            l.issued,
            l.used,
            l.transitioned,
            l.refused,
            reasons.join(" ")
        ));
    }
    out
}

/// Everything the node knows about one referral, for `referrals show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralRecord {
    /// The canonical short code.
    pub code: String,
    /// The referral as recorded here (absent if it was only ever seen on an application).
    pub recorded: Option<serde_json::Value>,
    /// Every application that carried it: case number, status, reason, headquarters.
    pub uses: Vec<serde_json::Value>,
}

/// The record of the referral under `code` (`None` if the node never saw it).
pub fn show(conn: &Connection, code: &ShortCode) -> rusqlite::Result<Option<ReferralRecord>> {
    let canonical = code.to_string();
    let recorded = conn
        .query_row(
            "SELECT payload, issued_on, expires_on, household_size, governorate, partner_case, recorded_at, recorded_by
             FROM referrals WHERE partner = ?1 AND serial = ?2",
            params![code.partner, code.serial as i64],
            |r| {
                Ok(serde_json::json!({
                    "partner": code.partner, "serial": code.serial, "payload": r.get::<_, String>(0)?,
                    "issued_on": r.get::<_, String>(1)?, "expires_on": r.get::<_, String>(2)?,
                    "household_size": r.get::<_, i64>(3)?, "governorate": r.get::<_, String>(4)?,
                    "partner_case": r.get::<_, String>(5)?, "recorded_at": r.get::<_, String>(6)?, "recorded_by": r.get::<_, String>(7)?,
                }))
            },
        )
        .optional()?;
    let mut statement = conn.prepare(
        "SELECT case_number, status, reason, headquarters, checked_at FROM referral_checks WHERE code = ?1 ORDER BY checked_at, case_number",
    )?;
    let uses = statement
        .query_map([&canonical], |r| {
            Ok(serde_json::json!({
                "case_number": r.get::<_, String>(0)?, "status": r.get::<_, String>(1)?, "reason": r.get::<_, Option<String>>(2)?,
                "headquarters": r.get::<_, String>(3)?, "checked_at": r.get::<_, String>(4)?,
            }))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if recorded.is_none() && uses.is_empty() {
        return Ok(None);
    }
    Ok(Some(ReferralRecord { code: canonical, recorded, uses }))
}

/// Creates a partner's signing key in `path` (base64 seed, mode 0600; refused if it exists).
pub fn create_key_file(path: &std::path::Path) -> Result<ed25519_dalek::SigningKey, PartnerToolError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let failed = |detail: String| PartnerToolError::KeyFile { path: path.display().to_string(), detail };
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut seed);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| failed(format!("{e} (an existing key is never overwritten: choose another file)")))?;
    file.write_all(format!("{}\n", STANDARD.encode(seed)).as_bytes()).map_err(|e| failed(e.to_string()))?;
    file.sync_all().map_err(|e| failed(e.to_string()))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

/// Reads a partner's signing key written by [`create_key_file`].
pub fn load_key_file(path: &std::path::Path) -> Result<ed25519_dalek::SigningKey, PartnerToolError> {
    let failed = |detail: &str| PartnerToolError::KeyFile { path: path.display().to_string(), detail: detail.to_string() };
    let text = std::fs::read_to_string(path).map_err(|e| failed(&format!("{e} (create one with `provincial-node partners new-key`)")))?;
    let seed: [u8; 32] = STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| failed("not a base64 32-byte Ed25519 seed as `partners new-key` writes"))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

/// Quiet zone around a QR code, in modules (the standard's minimum).
const QR_QUIET_ZONE: usize = 4;
/// Pixels per module in the PNG: 8 px, 1 mm at 203 dpi, what a thermal printer prints dot for dot.
const QR_MODULE_PX: usize = 8;

/// Writes `payload` as a QR code (error correction M) to a grayscale PNG at `path`.
pub fn write_qr_png(payload: &str, path: &std::path::Path) -> Result<(), PartnerToolError> {
    let failed = |detail: String| PartnerToolError::QrImage { path: path.display().to_string(), detail };
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M).map_err(|e| failed(e.to_string()))?;
    let modules = code.width();
    let side = (modules + 2 * QR_QUIET_ZONE) * QR_MODULE_PX;
    let mut pixels = vec![0xFFu8; side * side];
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == qrcode::Color::Dark {
            let (x0, y0) = ((QR_QUIET_ZONE + i % modules) * QR_MODULE_PX, (QR_QUIET_ZONE + i / modules) * QR_MODULE_PX);
            for y in y0..y0 + QR_MODULE_PX {
                pixels[y * side + x0..y * side + x0 + QR_MODULE_PX].fill(0);
            }
        }
    }
    let file = std::fs::File::create(path).map_err(|e| failed(e.to_string()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| failed(e.to_string()))?;
    writer.write_image_data(&pixels).map_err(|e| failed(e.to_string()))?;
    writer.finish().map_err(|e| failed(e.to_string()))
}

/// Records `signed` at the node at `url` through the partners' API, signed with the partner's
/// `key`; returns the short code the node answers.
pub async fn record_at(url: &str, key: &ed25519_dalek::SigningKey, signed: &SignedReferral) -> Result<String, PartnerToolError> {
    let url = url.trim_end_matches('/');
    let failed = |detail: String| PartnerToolError::Node { url: url.to_string(), detail };
    let path = crate::api::partners::REFERRALS_PATH;
    let body = serde_json::to_vec(&crate::api::partners::RecordRequest { payload: signed.payload() }).map_err(|e| failed(e.to_string()))?;
    let mut nonce = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut nonce);
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let headers = node_protocol::signature::sign_request(key, &signed.referral.partner, "POST", path, &body, chrono::Utc::now().timestamp(), &nonce);
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().map_err(|e| failed(e.to_string()))?;
    let mut request = http.post(format!("{url}{path}")).header("content-type", "application/json");
    for (name, value) in headers.pairs() {
        request = request.header(name, value);
    }
    let response = request.body(body).send().await.map_err(|e| failed(format!("{e} (is the node running at this address?)")))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| failed(e.to_string()))?;
    if !status.is_success() {
        let message = serde_json::from_str::<node_protocol::ErrorBody>(&text).map_or(text, |e| format!("{}: {}", e.error, e.message));
        return Err(failed(format!("refused ({status}) {message}")));
    }
    let answer: crate::api::partners::RecordResponse = serde_json::from_str(&text).map_err(|e| failed(format!("unreadable answer: {e}")))?;
    Ok(answer.code)
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One `audit_log` row (codes and case numbers only, never personal data).
fn audit(conn: &Connection, actor: &str, action: &str, case_number: Option<&str>, detail: &serde_json::Value) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO audit_log (at, actor, action, case_number, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![now_text(), actor, action, case_number, detail.to_string()])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use node_protocol::referral::Referral;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn signed(serial: u64, key: &SigningKey) -> SignedReferral {
        Referral {
            partner: "WFP".into(),
            serial,
            issued_on: day(2026, 12, 1),
            expires_on: day(2026, 12, 31),
            household_size: 4,
            governorate: "BGD".into(),
            partner_case: "IRQ-1".into(),
        }
        .sign(key)
        .unwrap()
    }

    #[test]
    fn a_referral_is_used_once_and_each_refusal_is_recorded_with_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(dir.path()).unwrap();
        let key = SigningKey::from_bytes(&[3u8; 32]);
        assert!(add_partner(&conn, "wfp", "World Food Programme", &key.verifying_key()).unwrap());
        assert!(!add_partner(&conn, "WFP", "", &key.verifying_key()).unwrap(), "the same key twice is one key");
        let first = signed(1, &key);
        let code = record(&conn, &first, "cli").unwrap();
        assert!(matches!(record(&conn, &first, "cli"), Err(RecordError::SerialUsed { .. })));
        let forged = signed(2, &SigningKey::from_bytes(&[4u8; 32]));
        assert!(matches!(record(&conn, &forged, "cli"), Err(RecordError::Referral(ReferralError::SignatureInvalid { .. }))));

        let today = day(2026, 12, 2);
        let nc = HeadquartersCheck::NotConfigured;
        let typed = AttachedReferral { code: code.to_lowercase(), payload: None };
        let (check, claim) = check_and_record(&conn, &typed, "BGD-2026-000001", today, nc).unwrap();
        assert_eq!((check.status, check.reason, claim), (ReferralStatus::Accepted, None, None));
        let again = AttachedReferral { code: code.clone(), payload: Some(first.payload()) };
        let (check, _) = check_and_record(&conn, &again, "BGD-2026-000002", today, nc).unwrap();
        assert_eq!(check.reason, Some(ReferralRefusal::AlreadyUsed));
        let late = AttachedReferral { code: signed(3, &key).referral.short_code(), payload: Some(signed(3, &key).payload()) };
        let (check, _) = check_and_record(&conn, &late, "BGD-2026-000003", day(2027, 1, 1), nc).unwrap();
        assert_eq!(check.reason, Some(ReferralRefusal::Expired));
        let unknown = AttachedReferral { code: signed(9, &key).referral.short_code(), payload: None };
        let (check, _) = check_and_record(&conn, &unknown, "BGD-2026-000004", today, nc).unwrap();
        assert_eq!(check.reason, Some(ReferralRefusal::UnknownCode));
        let forged = AttachedReferral { code: forged.referral.short_code(), payload: Some(forged.payload()) };
        let (check, _) = check_and_record(&conn, &forged, "BGD-2026-000005", today, nc).unwrap();
        assert_eq!(check.reason, Some(ReferralRefusal::SignatureInvalid));
        let garbage = AttachedReferral { code: "hello".into(), payload: None };
        let (check, _) = check_and_record(&conn, &garbage, "BGD-2026-000006", today, nc).unwrap();
        assert_eq!(check.reason, Some(ReferralRefusal::Malformed));

        let report = report(&conn, None).unwrap();
        let wfp = report.iter().find(|l| l.partner == "WFP").unwrap();
        assert_eq!((wfp.issued, wfp.used, wfp.refused), (1, 1, 4), "{report:?}");
        assert_eq!(wfp.refused_by_reason.get("already_used"), Some(&1));
        assert_eq!(wfp.refused_by_reason.get("signature_invalid"), Some(&1));
        assert_eq!(report.iter().find(|l| l.partner == "-").map(|l| l.refused), Some(1), "{report:?}");
        let lookup = lookup(&conn, &ShortCode::parse(&code).unwrap(), today).unwrap().unwrap();
        assert_eq!((lookup.usable, lookup.reason, lookup.household_size), (false, Some(ReferralRefusal::AlreadyUsed), 4));
        let shown = show(&conn, &ShortCode::parse(&code).unwrap()).unwrap().unwrap();
        assert_eq!(shown.uses.len(), 2, "{shown:?}");
    }

    #[test]
    fn the_longest_payload_fits_a_version_7_qr_code_at_medium_error_correction() {
        let longest = Referral {
            partner: "ABCDEF".into(),
            serial: node_protocol::referral::MAX_SERIAL,
            issued_on: day(2026, 12, 1),
            expires_on: day(2027, 12, 1),
            household_size: 30,
            governorate: "ABCD".into(),
            partner_case: "X".repeat(node_protocol::referral::MAX_PARTNER_CASE),
        }
        .sign(&SigningKey::from_bytes(&[5u8; 32]))
        .unwrap()
        .payload();
        let code = qrcode::QrCode::with_error_correction_level(longest.as_bytes(), qrcode::EcLevel::M).unwrap();
        assert_eq!(code.version(), qrcode::Version::Normal(7), "{longest}");
    }
}
