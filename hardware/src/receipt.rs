//! Receipts: what the applicant takes home, in Arabic, Kurdish (Sorani) or English, rendered
//! to a 1-bit [`Raster`] for the printer.
//!
//! Text is shaped (HarfRust), reordered for bidi and rasterised (swash) by `cosmic-text`, with
//! Noto Sans and Noto Sans Arabic bundled in the crate (`fonts/`, SIL OFL 1.1): printers do not
//! shape Arabic script, and a receipt must look the same on every terminal whatever fonts its
//! OS has. Glyph coverage is thresholded at 50 %, which keeps strokes solid at 203 dpi.

use std::sync::{Mutex, OnceLock, PoisonError};

use cosmic_text::{fontdb, Align, Attrs, Buffer, Color, Family, FontSystem, Metrics, Shaping, SwashCache, Weight};
use serde::{Deserialize, Serialize};

use crate::printer::PaperWidth;
use crate::Raster;

const FONTS: [&[u8]; 4] = [
    include_bytes!("../fonts/NotoSans-Regular.ttf"),
    include_bytes!("../fonts/NotoSans-Bold.ttf"),
    include_bytes!("../fonts/NotoSansArabic-Regular.ttf"),
    include_bytes!("../fonts/NotoSansArabic-Bold.ttf"),
];

/// Blank dots on each side of the printable width.
const MARGIN: usize = 8;

/// The language a receipt is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Language {
    /// Arabic.
    #[serde(rename = "ar")]
    Arabic,
    /// Central Kurdish (Sorani), in Arabic script.
    #[serde(rename = "ckb")]
    Kurdish,
    /// English.
    #[serde(rename = "en")]
    English,
}

impl Language {
    /// All receipt languages.
    pub const ALL: [Language; 3] = [Language::Arabic, Language::Kurdish, Language::English];

    /// BCP 47 tag: `ar`, `ckb`, `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::Arabic => "ar",
            Language::Kurdish => "ckb",
            Language::English => "en",
        }
    }

    fn is_rtl(self) -> bool {
        !matches!(self, Language::English)
    }

    fn family(self) -> &'static str {
        if self.is_rtl() {
            "Noto Sans Arabic"
        } else {
            "Noto Sans"
        }
    }
}

/// What the receipt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReceiptKind {
    /// An application to the programme was saved.
    Application,
    /// A grievance was saved.
    Grievance,
    /// A status check (or, offline, a slip saying when to come back).
    StatusCheck,
    /// The technician's printer test.
    TestPage,
    /// A referral slip to a service beyond cash (health, education, …), with a signed QR code.
    ReferralSlip,
}

/// One extra "label: value" line, already in the receipt's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptLine {
    /// E.g. "Governorate".
    pub label: String,
    /// E.g. "Basra".
    pub value: String,
}

/// The content of a receipt. Fixed texts (titles, labels, the footer) come from the built-in
/// translations for `language`; the values are printed as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Language of the fixed texts and of the layout direction.
    pub language: Language,
    /// What it is for.
    pub kind: ReceiptKind,
    /// The short reference the applicant quotes, printed large (e.g. `K7QX-4M2P`).
    pub reference: String,
    /// The full submission id (UUIDv7), printed small; `None` to leave it out.
    pub submission_id: Option<String>,
    /// Date and time, already formatted (e.g. `2026-11-24 14:05`).
    pub issued_at: String,
    /// The terminal's id or name.
    pub terminal: String,
    /// Further lines, e.g. the time to come back.
    #[serde(default)]
    pub lines: Vec<ReceiptLine>,
    /// Payload of the QR code; `None` for no QR code.
    pub qr: Option<String>,
}

/// Why a receipt could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The QR payload does not fit a QR code.
    #[error("QR code payload cannot be encoded: {0}")]
    Qr(String),
}

struct Texts {
    ministry: &'static str,
    programme: &'static str,
    title: &'static str,
    reference: &'static str,
    date: &'static str,
    terminal: &'static str,
    id: &'static str,
    footer: &'static str,
}

fn texts(language: Language, kind: ReceiptKind) -> Texts {
    match language {
        Language::Arabic => Texts {
            ministry: "وزارة العمل والشؤون الاجتماعية",
            programme: "شبكة الحماية الاجتماعية",
            title: match kind {
                ReceiptKind::Application => "إيصال طلب تسجيل",
                ReceiptKind::Grievance => "إيصال شكوى",
                ReceiptKind::StatusCheck => "استعلام عن الحالة",
                ReceiptKind::TestPage => "صفحة اختبار الطابعة",
                ReceiptKind::ReferralSlip => "ورقة إحالة إلى خدمة",
            },
            reference: "الرقم المرجعي",
            date: "التاريخ",
            terminal: "الجهاز",
            id: "المعرّف",
            footer: "احتفظ بهذا الإيصال. استخدم الرقم المرجعي للاستعلام عن حالتك.",
        },
        Language::Kurdish => Texts {
            ministry: "وەزارەتی کار و کاروباری کۆمەڵایەتی",
            programme: "تۆڕی پاراستنی کۆمەڵایەتی",
            title: match kind {
                ReceiptKind::Application => "پسوولەی داواکاریی تۆمارکردن",
                ReceiptKind::Grievance => "پسوولەی سکاڵا",
                ReceiptKind::StatusCheck => "پرسینی دۆخ",
                ReceiptKind::TestPage => "پەڕەی تاقیکردنەوەی چاپکەر",
                ReceiptKind::ReferralSlip => "پسوولەی ڕەوانەکردن بۆ خزمەتگوزاری",
            },
            reference: "ژمارەی ئاماژە",
            date: "بەروار",
            terminal: "ئامێر",
            id: "ناسێنەر",
            footer: "ئەم پسوولەیە بپارێزە. ژمارەی ئاماژە بەکاربهێنە بۆ زانینی دۆخەکەت.",
        },
        Language::English => Texts {
            ministry: "Ministry of Labour and Social Affairs",
            programme: "Social Protection Network",
            title: match kind {
                ReceiptKind::Application => "Enrollment application receipt",
                ReceiptKind::Grievance => "Grievance receipt",
                ReceiptKind::StatusCheck => "Status check",
                ReceiptKind::TestPage => "Printer test page",
                ReceiptKind::ReferralSlip => "Referral to a service",
            },
            reference: "Reference number",
            date: "Date",
            terminal: "Terminal",
            id: "ID",
            footer: "Keep this receipt. Use the reference number to check your status.",
        },
    }
}

/// Lays out and rasterises text with the bundled fonts. Building one parses the fonts (tens of
/// milliseconds); [`render_receipt`] keeps one for the life of the process.
pub struct ReceiptRenderer {
    fonts: FontSystem,
    glyphs: SwashCache,
}

impl Default for ReceiptRenderer {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Copy)]
struct Style {
    size: f32,
    bold: bool,
    align: Option<Align>,
}

impl ReceiptRenderer {
    /// A renderer with the bundled fonts only (no system fonts, so output is reproducible).
    pub fn new() -> Self {
        let mut db = fontdb::Database::new();
        for font in FONTS {
            db.load_font_data(font.to_vec());
        }
        ReceiptRenderer {
            fonts: FontSystem::new_with_locale_and_db("en-US".into(), db),
            glyphs: SwashCache::new(),
        }
    }

    /// Renders `receipt` for `paper`.
    pub fn render(&mut self, receipt: &Receipt, paper: PaperWidth) -> Result<Raster, RenderError> {
        let width = paper.dots();
        let scale = width as f32 / PaperWidth::Mm58.dots() as f32;
        let t = texts(receipt.language, receipt.kind);
        let lang = receipt.language;
        let center = |size: f32, bold: bool| Style { size: size * scale.sqrt(), bold, align: Some(Align::Center) };
        // `None` lets cosmic-text align each paragraph to its own start: right for Arabic script.
        let start = |size: f32| Style { size: size * scale.sqrt(), bold: false, align: None };

        let mut page = Raster::new(width, 0);
        let gap = |page: &mut Raster, rows: usize| page.append(&Raster::new(width, rows));
        gap(&mut page, 8);
        page.append(&self.text(width, t.ministry, lang, center(19.0, false)));
        page.append(&self.text(width, t.programme, lang, center(26.0, true)));
        gap(&mut page, 6);
        page.append(&rule(width, 3));
        gap(&mut page, 6);
        page.append(&self.text(width, t.title, lang, center(24.0, true)));
        gap(&mut page, 10);
        page.append(&self.text(width, t.reference, lang, center(21.0, false)));
        page.append(&self.text(width, &receipt.reference, lang, center(44.0, true)));
        gap(&mut page, 10);
        let mut lines = vec![(t.date, receipt.issued_at.as_str()), (t.terminal, receipt.terminal.as_str())];
        lines.extend(receipt.lines.iter().map(|l| (l.label.as_str(), l.value.as_str())));
        for (label, value) in lines {
            let text = format!("{label}: {}", isolate(value));
            page.append(&self.text(width, &text, lang, start(21.0)));
        }
        if let Some(id) = &receipt.submission_id {
            page.append(&self.text(width, &format!("{}: {}", t.id, isolate(id)), lang, start(15.0)));
        }
        if let Some(payload) = &receipt.qr {
            gap(&mut page, 12);
            page.append(&qr_block(width, payload)?);
        }
        gap(&mut page, 8);
        page.append(&rule(width, 1));
        gap(&mut page, 6);
        page.append(&self.text(width, t.footer, lang, center(19.0, false)));
        gap(&mut page, 8);
        Ok(page)
    }

    /// One paragraph, wrapped to the printable width, as a full-width raster.
    fn text(&mut self, width: usize, text: &str, lang: Language, style: Style) -> Raster {
        let inner = (width - 2 * MARGIN) as f32;
        let metrics = Metrics::new(style.size, (style.size * 1.45).ceil());
        let mut buffer = Buffer::new(&mut self.fonts, metrics);
        buffer.set_size(&mut self.fonts, Some(inner), None);
        let weight = if style.bold { Weight::BOLD } else { Weight::NORMAL };
        let attrs = Attrs::new().family(Family::Name(lang.family())).weight(weight);
        let text = paragraphs_as_line_feeds(text);
        buffer.set_text(&mut self.fonts, &text, &attrs, Shaping::Advanced, style.align);
        buffer.shape_until_scroll(&mut self.fonts, false);
        let height = buffer
            .layout_runs()
            .map(|run| run.line_top + run.line_height)
            .fold(0.0f32, f32::max)
            .ceil() as usize;
        let mut out = Raster::new(width, height);
        buffer.draw(&mut self.fonts, &mut self.glyphs, Color::rgb(0, 0, 0), |x, y, w, h, color| {
            if color.a() < 128 {
                return;
            }
            for dy in 0..h as i32 {
                for dx in 0..w as i32 {
                    let (px, py) = (x + dx + MARGIN as i32, y + dy);
                    if px >= 0 && py >= 0 {
                        out.set(px as usize, py as usize, true);
                    }
                }
            }
        });
        out
    }
}

/// `text` with every character the Unicode bidirectional algorithm takes as a paragraph separator
/// (class B: U+001C–U+001E, U+0085 NEXT LINE, U+2029 PARAGRAPH SEPARATOR) made a line feed.
/// cosmic-text breaks lines only at CR and LF but asserts that each line is one bidi paragraph
/// of one direction, so an RTL value holding U+0085 followed by Latin text panicked inside it
/// (found by the `receipt_text` fuzz target).
fn paragraphs_as_line_feeds(text: &str) -> std::borrow::Cow<'_, str> {
    let separator = |c: char| matches!(c, '\u{1C}'..='\u{1E}' | '\u{85}' | '\u{2029}');
    if text.contains(separator) {
        text.replace(separator, "\n").into()
    } else {
        text.into()
    }
}

/// Wraps a value in a first-strong isolate (U+2068 … U+2069) so its direction is its own:
/// without it, a date like `2026-11-24` after an Arabic label is laid out right to left as
/// `24-11-2026`.
fn isolate(value: &str) -> String {
    format!("\u{2068}{value}\u{2069}")
}

/// A horizontal line across the printable width.
fn rule(width: usize, thickness: usize) -> Raster {
    let mut r = Raster::new(width, thickness);
    r.fill(MARGIN, 0, width - 2 * MARGIN, thickness);
    r
}

/// Smallest module, in dots, a large code gets when the printable width allows: 0.5 mm at
/// 203 dpi, what phones and 2D scanners read reliably off thermal paper.
const QR_LEGIBLE_MODULE: usize = 4;

/// A QR code (error correction M), centred, with its 4-module quiet zone, modules as large as
/// fit in 60 % of the width (at most 6 dots, at least 2); a large code (a signed referral slip,
/// version 11) may take the printable width to keep [`QR_LEGIBLE_MODULE`] dots a module.
fn qr_block(width: usize, payload: &str) -> Result<Raster, RenderError> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    let modules = code.width();
    let quiet = 4;
    let mut module = (width * 6 / 10 / (modules + 2 * quiet)).clamp(2, 6);
    if module < QR_LEGIBLE_MODULE && (modules + 2 * quiet) * QR_LEGIBLE_MODULE <= width - 2 * MARGIN {
        module = QR_LEGIBLE_MODULE;
    }
    let side = (modules + 2 * quiet) * module;
    if side > width {
        return Err(RenderError::Qr(format!("{modules} modules do not fit {width} dots")));
    }
    let left = (width - side) / 2 + quiet * module;
    let mut r = Raster::new(width, side);
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == qrcode::Color::Dark {
            let (mx, my) = (i % modules, i / modules);
            r.fill(left + mx * module, (quiet + my) * module, module, module);
        }
    }
    Ok(r)
}

/// Renders `receipt` for `paper` with a renderer shared by the whole process (the first call
/// loads the fonts).
pub fn render_receipt(receipt: &Receipt, paper: PaperWidth) -> Result<Raster, RenderError> {
    static RENDERER: OnceLock<Mutex<ReceiptRenderer>> = OnceLock::new();
    let renderer = RENDERER.get_or_init(|| Mutex::new(ReceiptRenderer::new()));
    // A panic mid-render leaves only caches behind, which stay valid.
    let mut renderer = renderer.lock().unwrap_or_else(PoisonError::into_inner);
    renderer.render(receipt, paper)
}

impl Receipt {
    /// The technician's test page: every fixed text, a sample reference and a QR code.
    pub fn test_page(language: Language, terminal: &str, issued_at: &str) -> Self {
        Receipt {
            language,
            kind: ReceiptKind::TestPage,
            reference: "TEST-0000".into(),
            submission_id: None,
            issued_at: issued_at.into(),
            terminal: terminal.into(),
            lines: Vec::new(),
            qr: Some(format!("TEST:{terminal}")),
        }
    }
}
