//! What goes on a receipt: the submission's reference, kind and time, the terminal and its
//! province, a QR code of the reference — or, for a status check, the answer or the time to
//! come back. Rendering and printing are the `hardware` crate's ([`hardware::Receipt`]).
//!
//! Nothing an applicant typed is printed on a submission receipt (the terminal cannot read
//! it back anyway: it is sealed); a status slip carries only what the node answered.

use chrono::{DateTime, Utc};
use hardware::{Language, Receipt, ReceiptKind, ReceiptLine};
use local_api::display::Conventions;
use node_protocol::{BenefitState, SubmissionKind};

use crate::capture::outbox::SubmissionRecord;
use crate::clock::ClockStatus;

pub use local_api::display::iraq_time;

/// `24/11/2026 14:05` in Iraq's time, in the receipt language's digits and isolated from the
/// bidirectional algorithm ([`local_api::display`]: the kiosk shows dates the same way).
pub fn format_time(at: DateTime<Utc>, conventions: Conventions) -> String {
    conventions.date_time(&at.with_timezone(&iraq_time()))
}

/// When a receipt was issued, or "time not set" when the terminal's clock cannot be true, or
/// the time marked "(unverified)" when the node had not confirmed the clock yet
/// ([`crate::clock`]): a receipt must not carry a false date as if it were a true one.
fn issued_at(at: DateTime<Utc>, clock: ClockStatus, language: Language, conventions: Conventions) -> String {
    if !crate::clock::is_set(at) || clock == ClockStatus::NotSet {
        return match language {
            Language::Arabic => "الوقت غير مضبوط".into(),
            Language::Kurdish => "کات ڕێک نەخراوە".into(),
            Language::English => "time not set".into(),
        };
    }
    let time = format_time(at, conventions);
    if clock == ClockStatus::Verified {
        return time;
    }
    let unverified = match language {
        Language::Arabic => "(غير مؤكد)",
        Language::Kurdish => "(پشتڕاست نەکراوەتەوە)",
        Language::English => "(unverified)",
    };
    format!("{time} {unverified}")
}

/// A language tag (`ar`, `ckb`, `en`) as a receipt language.
pub fn language(tag: &str) -> Option<Language> {
    Language::ALL.into_iter().find(|l| l.tag() == tag)
}

fn label(language: Language, en: &'static str) -> String {
    let (ar, ckb) = match en {
        "Governorate" => ("المحافظة", "پارێزگا"),
        "Status" => ("الحالة", "دۆخ"),
        "Case number" => ("رقم الملف", "ژمارەی دۆسیە"),
        "Come back after" => ("راجعنا بعد", "دوای ئەم کاتە بگەڕێوە"),
        "Note" => ("ملاحظة", "تێبینی"),
        "Last change" => ("آخر تغيير", "دوایین گۆڕانکاری"),
        "Next payment" => ("الدفعة القادمة", "پارەدانی داهاتوو"),
        _ => (en, en),
    };
    match language {
        Language::Arabic => ar.into(),
        Language::Kurdish => ckb.into(),
        Language::English => en.into(),
    }
}

fn offline_note(language: Language) -> &'static str {
    match language {
        Language::Arabic => "تعذر الاتصال بالمكتب الإقليمي الآن",
        Language::Kurdish => "ئێستا پەیوەندی بە نووسینگەی پارێزگاوە نییە",
        Language::English => "The provincial office could not be reached",
    }
}

/// The receipt of a submission captured on this terminal; `clock` is what can be said of its
/// capture time ([`crate::delivery::node_clock::NodeClock::status_at`]).
pub fn for_submission(record: &SubmissionRecord, clock: ClockStatus, language: Language, conventions: Conventions, terminal_id: &str, province: &str) -> Receipt {
    let reference = node_protocol::reference::short_reference(&record.id);
    Receipt {
        language,
        kind: match record.kind {
            SubmissionKind::Application => ReceiptKind::Application,
            SubmissionKind::Grievance => ReceiptKind::Grievance,
        },
        reference: reference.clone(),
        submission_id: Some(record.id.to_string()),
        issued_at: issued_at(record.created_at, clock, language, conventions),
        terminal: terminal_id.into(),
        lines: vec![ReceiptLine { label: label(language, "Governorate"), value: province.into() }],
        qr: Some(reference),
    }
}

// The slip the kiosk asks for (in `POST /v1/receipts`) is the local API's.
pub use local_api::StatusSlip;

/// Longest text accepted in any slip field: a slip is a few lines on 58 mm paper.
pub const MAX_SLIP_TEXT: usize = 300;

/// How long the offline slip asks the applicant to wait, unless the kiosk says otherwise.
pub const DEFAULT_COME_BACK_AFTER: chrono::Duration = chrono::Duration::hours(24);

fn state_text(state: BenefitState, language: Language) -> &'static str {
    let (ar, ckb, en) = match state {
        BenefitState::Received => ("تم الاستلام", "وەرگیرا", "Received"),
        BenefitState::UnderReview => ("قيد المراجعة", "لە پێداچوونەوەدایە", "Under review"),
        BenefitState::Active => ("فعّال", "چالاک", "Active"),
        BenefitState::Suspended => ("موقوف", "ڕاگیراو", "Suspended"),
        BenefitState::Rejected => ("مرفوض", "ڕەتکراوە", "Rejected"),
        BenefitState::NotFound => ("غير موجود", "نەدۆزرایەوە", "Not found"),
    };
    match language {
        Language::Arabic => ar,
        Language::Kurdish => ckb,
        Language::English => en,
    }
}

/// Checks a slip's language and lengths; the error names the field.
pub fn check_slip(slip: &StatusSlip, languages: &[String]) -> Result<Language, String> {
    let language = Some(&slip.language)
        .filter(|l| languages.contains(l))
        .and_then(|l| language(l))
        .ok_or_else(|| format!("status_slip.language: use one of {}", languages.join(", ")))?;
    if slip.reference.as_ref().is_some_and(|r| r.chars().count() > 64) {
        return Err("status_slip.reference: at most 64 characters (the code printed on a receipt)".into());
    }
    if let Some(status) = &slip.status {
        let long = |t: &str| t.chars().count() > MAX_SLIP_TEXT;
        if long(&status.message.ar) || long(&status.message.ckb) || long(&status.message.en) {
            return Err(format!("status_slip.status.message: at most {MAX_SLIP_TEXT} characters per language"));
        }
        if status.case_number.as_ref().is_some_and(|c| c.chars().count() > 64) {
            return Err("status_slip.status.case_number: at most 64 characters".into());
        }
    }
    Ok(language)
}

/// A status slip as a receipt, issued at `now` (the terminal's time, whose status is `clock`).
pub fn for_status_slip(slip: &StatusSlip, language: Language, conventions: Conventions, terminal_id: &str, now: DateTime<Utc>, clock: ClockStatus) -> Receipt {
    let mut lines = Vec::new();
    match &slip.status {
        None => {
            let at = slip.come_back_at.unwrap_or(now + DEFAULT_COME_BACK_AFTER);
            lines.push(ReceiptLine { label: label(language, "Note"), value: offline_note(language).into() });
            lines.push(ReceiptLine { label: label(language, "Come back after"), value: format_time(at, conventions) });
        }
        Some(status) => {
            lines.push(ReceiptLine { label: label(language, "Status"), value: state_text(status.state, language).into() });
            if let Some(case) = &status.case_number {
                lines.push(ReceiptLine { label: label(language, "Case number"), value: case.clone() });
            }
            if let Some(on) = status.next_payment_on {
                lines.push(ReceiptLine { label: label(language, "Next payment"), value: conventions.date(on) });
            }
            if let Some(on) = status.updated_on {
                lines.push(ReceiptLine { label: label(language, "Last change"), value: conventions.date(on) });
            }
            let message = match language {
                Language::Arabic => &status.message.ar,
                Language::Kurdish => &status.message.ckb,
                Language::English => &status.message.en,
            };
            if !message.trim().is_empty() {
                lines.push(ReceiptLine { label: label(language, "Note"), value: message.clone() });
            }
        }
    }
    let reference = slip.reference.clone().filter(|r| !r.trim().is_empty());
    Receipt {
        language,
        kind: ReceiptKind::StatusCheck,
        reference: reference.clone().unwrap_or_else(|| "—".into()),
        submission_id: None,
        issued_at: issued_at(now, clock, language, conventions),
        terminal: terminal_id.into(),
        lines,
        qr: reference,
    }
}

/// What a referral slip says.
pub struct SlipContent<'a> {
    /// The service referred to.
    pub service: &'a node_protocol::service_directory::Service,
    /// Its category's name, when the directory has it.
    pub category: Option<&'a node_protocol::LocalizedText>,
    /// The household's reference, if any.
    pub reference: Option<&'a str>,
    /// The signed QR payload ([`node_protocol::slip::SignedSlip::payload`]).
    pub payload: String,
}

/// A referral slip as a receipt: the household's reference printed large (or "—"), the
/// service's name, category, address, opening hours and phone in `language` (the phone in the
/// language's digits), and the signed QR payload the receiving service verifies offline.
/// Nothing else about the household is printed.
pub fn for_referral_slip(
    content: SlipContent<'_>,
    language: Language,
    conventions: Conventions,
    terminal_id: &str,
    now: DateTime<Utc>,
    clock: ClockStatus,
) -> Receipt {
    let SlipContent { service, category, reference, payload } = content;
    let tag = language.tag();
    let (service_label, category_label, address_label, hours_label, phone_label, for_label) = match language {
        Language::Arabic => ("الخدمة", "النوع", "العنوان", "أوقات الدوام", "الهاتف", "لمن"),
        Language::Kurdish => ("خزمەتگوزاری", "جۆر", "ناونیشان", "کاتی کارکردن", "تەلەفۆن", "بۆ کێ"),
        Language::English => ("Service", "Kind", "Address", "Opening hours", "Phone", "For"),
    };
    let mut lines = vec![ReceiptLine { label: service_label.into(), value: service.name.get(tag).into() }];
    if let Some(category) = category {
        lines.push(ReceiptLine { label: category_label.into(), value: category.get(tag).into() });
    }
    lines.push(ReceiptLine { label: address_label.into(), value: service.address.get(tag).into() });
    lines.push(ReceiptLine { label: hours_label.into(), value: service.hours.get(tag).into() });
    // Left to right whatever the language ("+964 …" keeps its order), in the language's digits.
    lines.push(ReceiptLine { label: phone_label.into(), value: local_api::display::isolate(&conventions.digits(&service.phone)) });
    if !service.eligibility.get(tag).trim().is_empty() {
        lines.push(ReceiptLine { label: for_label.into(), value: service.eligibility.get(tag).into() });
    }
    Receipt {
        language,
        kind: ReceiptKind::ReferralSlip,
        reference: reference.map_or_else(|| "—".into(), str::to_string),
        submission_id: None,
        issued_at: issued_at(now, clock, language, conventions),
        terminal: terminal_id.into(),
        lines,
        qr: Some(payload),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use node_protocol::StatusResponse;
    use crate::capture::outbox::SubmissionPlace;
    use chrono::TimeZone;
    use uuid::Uuid;

    #[test]
    fn a_receipt_captured_with_the_clock_at_1970_says_time_not_set_in_each_language() {
        let id = Uuid::now_v7();
        let created_at = Utc.with_ymd_and_hms(1970, 1, 1, 0, 2, 5).unwrap();
        let record = SubmissionRecord { id, kind: SubmissionKind::Application, created_at, place: SubmissionPlace::Waiting };
        let printed: Vec<String> = [Language::Arabic, Language::Kurdish, Language::English]
            .into_iter()
            .map(|language| for_submission(&record, ClockStatus::NotSet, language, Conventions::default(), "T-0001", "Erbil").issued_at)
            .collect();
        assert_eq!(printed, ["الوقت غير مضبوط", "کات ڕێک نەخراوە", "time not set"]);
        // Everything else is as on any receipt: the reference is what the applicant needs.
        let r = for_submission(&record, ClockStatus::Verified, Language::English, Conventions::default(), "T-0001", "Erbil");
        assert_eq!(r.reference, node_protocol::reference::short_reference(&id));
    }

    #[test]
    fn a_time_the_node_had_not_confirmed_is_marked_unverified_in_each_language() {
        let created_at = Utc.with_ymd_and_hms(2026, 11, 24, 11, 5, 0).unwrap();
        let record = SubmissionRecord { id: Uuid::now_v7(), kind: SubmissionKind::Application, created_at, place: SubmissionPlace::Waiting };
        let printed: Vec<String> = [Language::Arabic, Language::Kurdish, Language::English]
            .into_iter()
            .map(|language| local_api::display::without_isolates(&for_submission(&record, ClockStatus::Unverified, language, Conventions::default(), "T-0001", "Erbil").issued_at))
            .collect();
        assert_eq!(printed, ["24/11/2026 14:05 (غير مؤكد)", "24/11/2026 14:05 (پشتڕاست نەکراوەتەوە)", "24/11/2026 14:05 (unverified)"]);
        // A 1970 time is "not set" whatever the status says.
        let at_1970 = SubmissionRecord { created_at: Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 9).unwrap(), ..record };
        assert_eq!(for_submission(&at_1970, ClockStatus::Verified, Language::English, Conventions::default(), "T-0001", "Erbil").issued_at, "time not set");
    }

    #[test]
    fn a_submission_receipt_carries_reference_time_terminal_and_province() {
        let id = Uuid::now_v7();
        let created_at = Utc.with_ymd_and_hms(2026, 11, 24, 11, 5, 0).unwrap();
        let record = SubmissionRecord { id, kind: SubmissionKind::Grievance, created_at, place: SubmissionPlace::Waiting };
        let r = for_submission(&record, ClockStatus::Verified, Language::Kurdish, Conventions::default(), "T-0001", "Erbil");
        assert_eq!(r.kind, ReceiptKind::Grievance);
        assert_eq!(r.reference, node_protocol::reference::short_reference(&id));
        assert_eq!(r.qr.as_deref(), Some(r.reference.as_str()));
        assert_eq!(r.issued_at, "\u{2066}24/11/2026 14:05\u{2069}", "Iraq time, UTC+3, day first, isolated");
        let eastern = Conventions { digits: node_protocol::Digits::Eastern };
        let r = for_submission(&record, ClockStatus::Verified, Language::Kurdish, eastern, "T-0001", "Erbil");
        assert_eq!(local_api::display::without_isolates(&r.issued_at), "٢٤/١١/٢٠٢٦ ١٤:٠٥");
        assert_eq!(r.reference, node_protocol::reference::short_reference(&id), "a reference keeps its digits: it is typed back");
        assert_eq!(r.lines[0].value, "Erbil");
        assert_eq!(r.lines[0].label, "پارێزگا");
    }

    #[test]
    fn a_referral_slip_names_the_service_in_the_language_and_nothing_about_the_person() {
        use node_protocol::service_directory::Service;
        let t = |ar: &str, ckb: &str, en: &str| node_protocol::LocalizedText::new(ar, ckb, en);
        let service = Service {
            id: "BGD-H-0001".into(),
            category: "health".into(),
            governorate: "BGD".into(),
            district: Some("RSF".into()),
            name: t("مركز الرصافة", "ناوەندی ڕەسافە", "Resafa centre"),
            eligibility: t("", "", ""),
            address: t("شارع فلسطين", "شەقامی فەلەستین", "Palestine Street"),
            hours: t("الأحد", "یەکشەممە", "Sunday"),
            phone: "+964 770 000 0101".into(),
        };
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        let eastern = Conventions { digits: node_protocol::Digits::Eastern };
        let category = t("الصحة", "تەندروستی", "Health");
        let content = |category, reference| SlipContent { service: &service, category, reference, payload: "S1.PAYLOAD".into() };
        let r = for_referral_slip(content(Some(&category), Some("7K2QX-M4B9R")), Language::Kurdish, eastern, "T-1", now, ClockStatus::Verified);
        assert_eq!(r.kind, ReceiptKind::ReferralSlip);
        assert_eq!((r.reference.as_str(), r.qr.as_deref()), ("7K2QX-M4B9R", Some("S1.PAYLOAD")));
        let values: Vec<String> = r.lines.iter().map(|l| local_api::display::without_isolates(&l.value)).collect();
        assert_eq!(values, ["ناوەندی ڕەسافە", "تەندروستی", "شەقامی فەلەستین", "یەکشەممە", "+٩٦٤ ٧٧٠ ٠٠٠ ٠١٠١"], "no eligibility line when the hint is empty");
        let english = for_referral_slip(content(None, None), Language::English, Conventions::default(), "T-1", now, ClockStatus::Unverified);
        assert_eq!(english.reference, "—");
        assert_eq!(english.lines[0].value, "Resafa centre");
        assert!(english.issued_at.ends_with("(unverified)"), "{}", english.issued_at);
    }

    #[test]
    fn slips_are_checked_and_laid_out() {
        let languages = vec!["ar".to_string(), "en".to_string()];
        let offline = StatusSlip { language: "en".into(), status: None, reference: None, come_back_at: None };
        let language = check_slip(&offline, &languages).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let r = for_status_slip(&offline, language, Conventions::default(), "T-1", now, ClockStatus::Verified);
        assert_eq!(r.kind, ReceiptKind::StatusCheck);
        assert!(r.qr.is_none());
        let back = r.lines.iter().find(|l| l.label == "Come back after").unwrap();
        assert_eq!(local_api::display::without_isolates(&back.value), "25/11/2026 12:00", "tomorrow, Iraq time");

        let answered = StatusSlip {
            status: Some(StatusResponse {
                state: BenefitState::Active,
                case_number: Some("BGD-2025-000142".into()),
                updated_on: chrono::NaiveDate::from_ymd_opt(2025, 9, 1),
                next_payment_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
                message: node_protocol::LocalizedText::new("نشط", "چالاک", "Active: next payment on the 1st"),
            }),
            reference: Some("7K2QX-M4B9R".into()),
            ..offline.clone()
        };
        let r = for_status_slip(&answered, Language::English, Conventions::default(), "T-1", now, ClockStatus::Verified);
        assert_eq!(r.reference, "7K2QX-M4B9R");
        assert_eq!(r.qr.as_deref(), Some("7K2QX-M4B9R"));
        assert!(r.lines.iter().any(|l| l.value == "BGD-2025-000142"));
        assert!(r.lines.iter().any(|l| l.value == "Active"));
        let line = |label: &str| r.lines.iter().find(|l| l.label == label).map(|l| l.value.clone());
        assert_eq!(line("Next payment").as_deref(), Some("\u{2066}01/12/2026\u{2069}"));
        assert_eq!(line("Last change").as_deref(), Some("\u{2066}01/09/2025\u{2069}"));

        let mut bad = offline.clone();
        bad.language = "ckb".into();
        assert!(check_slip(&bad, &languages).unwrap_err().contains("status_slip.language"));
        let mut bad = offline;
        bad.reference = Some("x".repeat(65));
        assert!(check_slip(&bad, &languages).unwrap_err().contains("status_slip.reference"));
    }
}
