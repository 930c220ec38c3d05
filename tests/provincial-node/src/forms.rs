//! The two forms the node serves: `application` and `grievance`.
//!
//! Labels are in Arabic, Kurdish Sorani and English. Each text field has one script so the
//! kiosk's keyboard never mixes directions. The node itself checks only what it must to file a
//! submission (see `api::submissions`); answer validation is the terminal's job, from these
//! rules.

use node_protocol::{ChoiceOption, FieldType, FormDefinition, FormField, FormStep, LocalizedText, Script, SubmissionKind};

/// Version of both forms; travels with every submission (`form_version`).
pub const FORM_VERSION: &str = "2026.1";

fn t(ar: &str, ckb: &str, en: &str) -> LocalizedText {
    LocalizedText::new(ar, ckb, en)
}

fn field(id: &str, label: LocalizedText, field_type: FieldType, required: bool) -> FormField {
    FormField { required, ..FormField::new(id, label, field_type) }
}

fn arabic_text(id: &str, label: LocalizedText, required: bool, min: u32, max: u32) -> FormField {
    FormField {
        script: Some(Script::Arabic),
        min_length: Some(min),
        max_length: Some(max),
        ..field(id, label, FieldType::Text, required)
    }
}

fn national_id(required: bool) -> FormField {
    FormField {
        pattern: Some("^[0-9]{12}$".into()),
        script: Some(Script::Digits),
        hint: Some(t(
            "الرقم المكون من 12 رقماً على البطاقة الوطنية الموحدة",
            "ژمارە 12 ڕەنووسییەکەی سەر کارتی نیشتمانی یەکگرتوو",
            "The 12-digit number on the unified national ID card",
        )),
        ..field("national_id", t("رقم البطاقة الوطنية", "ژمارەی کارتی نیشتمانی", "National ID number"), FieldType::NationalId, required)
    }
}

fn date_of_birth() -> FormField {
    field("date_of_birth", t("تاريخ الميلاد", "ڕێکەوتی لەدایکبوون", "Date of birth"), FieldType::Date, true)
}

fn phone() -> FormField {
    FormField {
        pattern: Some("^07[0-9]{9}$".into()),
        script: Some(Script::Digits),
        hint: Some(t("مثال: 07701234567", "نموونە: 07701234567", "For example 07701234567")),
        ..field("phone", t("رقم الهاتف", "ژمارەی تەلەفۆن", "Phone number"), FieldType::Phone, false)
    }
}

fn choice(id: &str, label: LocalizedText, required: bool, options: &[(&str, &str, &str, &str)]) -> FormField {
    FormField {
        options: options
            .iter()
            .map(|(value, ar, ckb, en)| ChoiceOption { value: (*value).into(), label: t(ar, ckb, en) })
            .collect(),
        ..field(id, label, FieldType::Choice, required)
    }
}

fn number(id: &str, label: LocalizedText, required: bool, min: i64, max: i64) -> FormField {
    FormField { min: Some(min), max: Some(max), ..field(id, label, FieldType::Number, required) }
}

/// The application for the programme.
pub fn application() -> FormDefinition {
    let members = FormField {
        member_fields: vec![
            arabic_text("name", t("الاسم الثلاثي", "ناوی سیانی", "Full name"), true, 2, 80),
            date_of_birth(),
            choice("relation", t("صلة القرابة", "پەیوەندی خزمایەتی", "Relation"), true, &[
                ("spouse", "زوج أو زوجة", "هاوسەر", "Spouse"),
                ("child", "ابن أو ابنة", "منداڵ", "Child"),
                ("parent", "أب أو أم", "دایک یان باوک", "Parent"),
                ("other", "آخر", "تر", "Other"),
            ]),
            national_id(false),
        ],
        ..field("members", t("أفراد الأسرة", "ئەندامانی خێزان", "Household members"), FieldType::HouseholdMembers, false)
    };
    FormDefinition {
        id: "application".into(),
        kind: SubmissionKind::Application,
        version: FORM_VERSION.into(),
        title: t("طلب شمول بالحماية الاجتماعية", "داواکاری بۆ پاراستنی کۆمەڵایەتی", "Application for social protection"),
        steps: vec![
            FormStep {
                id: "applicant".into(),
                title: t("مقدم الطلب", "داواکار", "Applicant"),
                fields: vec![
                    national_id(true),
                    arabic_text("first_name", t("الاسم", "ناو", "First name"), true, 2, 40),
                    arabic_text("father_name", t("اسم الأب", "ناوی باوک", "Father's name"), true, 2, 40),
                    arabic_text("grandfather_name", t("اسم الجد", "ناوی باپیر", "Grandfather's name"), true, 2, 40),
                    arabic_text("family_name", t("اللقب", "نازناو", "Family name"), false, 2, 40),
                    arabic_text("mother_name", t("اسم الأم الثلاثي", "ناوی سیانی دایک", "Mother's full name"), true, 2, 80),
                    date_of_birth(),
                    choice("gender", t("الجنس", "ڕەگەز", "Sex"), true, &[
                        ("female", "أنثى", "مێ", "Female"),
                        ("male", "ذكر", "نێر", "Male"),
                    ]),
                ],
                show_when: None,
            },
            FormStep {
                id: "address".into(),
                title: t("العنوان", "ناونیشان", "Address"),
                fields: vec![
                    field("governorate", t("المحافظة", "پارێزگا", "Governorate"), FieldType::Governorate, true),
                    field("district", t("القضاء", "قەزا", "District"), FieldType::District, true),
                    arabic_text("locality", t("المحلة أو القرية", "گەڕەک یان گوند", "Neighbourhood or village"), false, 2, 80),
                    phone(),
                ],
                show_when: None,
            },
            FormStep {
                id: "household".into(),
                title: t("الأسرة", "خێزان", "Household"),
                fields: vec![
                    choice("category", t("فئة الطلب", "جۆری داواکاری", "Category"), true, &[
                        ("poor_household", "أسرة فقيرة", "خێزانی هەژار", "Poor household"),
                        ("widow", "أرملة", "بێوەژن", "Widow"),
                        ("orphan", "يتيم", "هەتیو", "Orphan"),
                        ("disability", "شخص ذو إعاقة", "کەسی خاوەن پێداویستی تایبەت", "Person with a disability"),
                    ]),
                    number("household_size", t("عدد أفراد الأسرة", "ژمارەی ئەندامانی خێزان", "Household size"), true, 1, 30),
                    number(
                        "monthly_income_iqd",
                        t("الدخل الشهري بالدينار", "داهاتی مانگانە بە دینار", "Monthly income in dinars"),
                        false,
                        0,
                        10_000_000,
                    ),
                    members,
                ],
                show_when: None,
            },
        ],
    }
}

/// The complaint form.
pub fn grievance() -> FormDefinition {
    FormDefinition {
        id: "grievance".into(),
        kind: SubmissionKind::Grievance,
        version: FORM_VERSION.into(),
        title: t("تقديم شكوى", "تۆمارکردنی سکاڵا", "File a complaint"),
        steps: vec![
            FormStep {
                id: "complainant".into(),
                title: t("مقدم الشكوى", "سکاڵاکار", "About you"),
                fields: vec![
                    national_id(false),
                    arabic_text("full_name", t("الاسم الرباعي", "ناوی چواری", "Full name"), true, 2, 120),
                    date_of_birth(),
                    phone(),
                ],
                show_when: None,
            },
            FormStep {
                id: "complaint".into(),
                title: t("الشكوى", "سکاڵا", "Your complaint"),
                fields: vec![
                    choice("category", t("نوع الشكوى", "جۆری سکاڵا", "Type of complaint"), true, &[
                        ("payment_missing", "لم تصل الدفعة", "پارەکە نەگەیشتووە", "Payment not received"),
                        ("wrong_amount", "المبلغ غير صحيح", "بڕی پارەکە هەڵەیە", "Wrong amount"),
                        ("registration", "مشكلة في التسجيل", "کێشە لە تۆمارکردندا", "Problem with registration"),
                        ("staff_conduct", "سلوك الموظفين", "ڕەفتاری فەرمانبەران", "Staff conduct"),
                        ("other", "أخرى", "تر", "Other"),
                    ]),
                    FormField {
                        script: Some(Script::Latin),
                        max_length: Some(20),
                        pattern: Some("^[A-Z]{3}-[0-9]{4}-[0-9]{6}$".into()),
                        ..field("case_number", t("رقم المعاملة إن وجد", "ژمارەی دۆسیە ئەگەر هەیە", "Case number, if you have one"), FieldType::Text, false)
                    },
                    arabic_text("description", t("اشرح المشكلة", "کێشەکە ڕوون بکەرەوە", "Describe the problem"), true, 10, 1000),
                ],
                show_when: None,
            },
        ],
    }
}

/// Both forms, in the order `GET /v1/config` lists them.
pub fn all() -> Vec<FormDefinition> {
    vec![application(), grievance()]
}
