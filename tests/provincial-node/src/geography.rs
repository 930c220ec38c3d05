//! Master data: Iraq's governorates and their districts, with names in Arabic, Kurdish Sorani
//! and English.
//!
//! The list holds the eighteen governorates of the 2003 constitution plus Halabja, which the
//! Kurdistan Region made a governorate in 2014 and the federal parliament recognised in 2025 as
//! the nineteenth. Districts are the qadhas a One-Stop-Shop form needs; codes are stable and
//! unique within their governorate (they travel in submissions, so never renumber them).

use node_protocol::{District, Governorate, LocalizedText, MasterData};

/// One row of the table below: code, Arabic, Kurdish Sorani, English.
type Names = (&'static str, &'static str, &'static str, &'static str);

/// Governorate names, then its districts.
const GOVERNORATES: &[(Names, &[Names])] = &[
    (("BGD", "بغداد", "بەغدا", "Baghdad"), &[
        ("RSF", "الرصافة", "ڕەسافە", "Resafa"),
        ("KRK", "الكرخ", "کەرخ", "Karkh"),
        ("ADH", "الأعظمية", "ئەعزەمییە", "Adhamiya"),
        ("KDH", "الكاظمية", "کازمییە", "Kadhimiya"),
        ("SDR", "مدينة الصدر", "شاری سەدر", "Sadr City"),
        ("MHM", "المحمودية", "مەحموودییە", "Mahmudiya"),
        ("AGH", "أبو غريب", "ئەبو غرێب", "Abu Ghraib"),
        ("TRM", "الطارمية", "تارمییە", "Tarmiya"),
        ("MDN", "المدائن", "مەدائین", "Mada'in"),
    ]),
    (("BSR", "البصرة", "بەسرە", "Basra"), &[
        ("BSR", "البصرة", "بەسرە", "Basra"),
        ("AKH", "أبو الخصيب", "ئەبولخەسیب", "Abu al-Khasib"),
        ("ZBR", "الزبير", "زوبەیر", "Zubair"),
        ("QRN", "القرنة", "قورنە", "Qurna"),
        ("FAW", "الفاو", "فاو", "Faw"),
        ("SHA", "شط العرب", "شەتولعەرەب", "Shatt al-Arab"),
        ("MDA", "المدينة", "مەدینە", "Al-Midaina"),
    ]),
    (("NIN", "نينوى", "نەینەوا", "Nineveh"), &[
        ("MSL", "الموصل", "مووسڵ", "Mosul"),
        ("TLA", "تلعفر", "تەلەعفەر", "Tel Afar"),
        ("SNJ", "سنجار", "شنگال", "Sinjar"),
        ("HMD", "الحمدانية", "حەمدانییە", "Al-Hamdaniya"),
        ("TKF", "تلكيف", "تەلکێف", "Tel Kaif"),
        ("SHK", "الشيخان", "شێخان", "Shekhan"),
        ("BAJ", "البعاج", "بەعاج", "Al-Ba'aj"),
        ("HTR", "الحضر", "حەزەر", "Hatra"),
        ("MKH", "مخمور", "مەخموور", "Makhmur"),
    ]),
    (("ERB", "أربيل", "هەولێر", "Erbil"), &[
        ("ERB", "أربيل", "هەولێر", "Erbil"),
        ("SRN", "سوران", "سۆران", "Soran"),
        ("SHQ", "شقلاوة", "شەقڵاوە", "Shaqlawa"),
        ("KOY", "كويسنجق", "کۆیە", "Koya"),
        ("MRG", "ميركه سور", "مێرگەسۆر", "Mergasur"),
        ("CHM", "جومان", "چۆمان", "Choman"),
        ("KHB", "خبات", "خەبات", "Khabat"),
    ]),
    (("SUL", "السليمانية", "سلێمانی", "Sulaymaniyah"), &[
        ("SUL", "السليمانية", "سلێمانی", "Sulaymaniyah"),
        ("CHC", "جمجمال", "چەمچەماڵ", "Chamchamal"),
        ("DRB", "دربندخان", "دەربەندیخان", "Darbandikhan"),
        ("DKN", "دوكان", "دووکان", "Dukan"),
        ("PNJ", "بنجوين", "پێنجوێن", "Penjwen"),
        ("PSH", "بشدر", "پشدەر", "Pshdar"),
        ("RNY", "رانية", "ڕانیە", "Rania"),
        ("SHZ", "شاربازير", "شارباژێڕ", "Sharbazher"),
        ("KLR", "كلار", "کەلار", "Kalar"),
        ("MWT", "ماوت", "ماوەت", "Mawat"),
    ]),
    (("DHK", "دهوك", "دهۆک", "Duhok"), &[
        ("DHK", "دهوك", "دهۆک", "Duhok"),
        ("ZKH", "زاخو", "زاخۆ", "Zakho"),
        ("AMD", "العمادية", "ئامێدی", "Amedi"),
        ("SML", "سميل", "سێمێل", "Semel"),
        ("AKR", "عقرة", "ئاکرێ", "Akre"),
    ]),
    (("HLB", "حلبجة", "هەڵەبجە", "Halabja"), &[
        ("HLB", "حلبجة", "هەڵەبجە", "Halabja"),
        ("KHR", "خورمال", "خورماڵ", "Khurmal"),
        ("SRW", "سيروان", "سیروان", "Sirwan"),
        ("BYR", "بيارة", "بیارە", "Biyara"),
    ]),
    (("KRK", "كركوك", "کەرکووک", "Kirkuk"), &[
        ("KRK", "كركوك", "کەرکووک", "Kirkuk"),
        ("HWJ", "الحويجة", "حەویجە", "Hawija"),
        ("DAQ", "داقوق", "داقووق", "Daquq"),
        ("DBS", "دبس", "دوبز", "Dibis"),
    ]),
    (("DYL", "ديالى", "دیالە", "Diyala"), &[
        ("BQB", "بعقوبة", "بەعقووبە", "Baqubah"),
        ("MQD", "المقدادية", "موقدادییە", "Muqdadiya"),
        ("KHN", "خانقين", "خانەقین", "Khanaqin"),
        ("KHL", "الخالص", "خالس", "Al-Khalis"),
        ("KFR", "كفري", "کفری", "Kifri"),
        ("BLD", "بلدروز", "بەلەدرووز", "Baladruz"),
    ]),
    (("ANB", "الأنبار", "ئەنبار", "Anbar"), &[
        ("RMD", "الرمادي", "ڕومادی", "Ramadi"),
        ("FLJ", "الفلوجة", "فەللووجە", "Fallujah"),
        ("HDT", "حديثة", "حەدیسە", "Haditha"),
        ("HIT", "هيت", "هیت", "Hit"),
        ("ANA", "عنه", "عانە", "Anah"),
        ("RWA", "راوة", "ڕاوە", "Rawa"),
        ("QAI", "القائم", "قائیم", "Al-Qa'im"),
        ("RTB", "الرطبة", "ڕوتبە", "Rutba"),
    ]),
    (("SLD", "صلاح الدين", "سەلاحەدین", "Salah al-Din"), &[
        ("TKR", "تكريت", "تکریت", "Tikrit"),
        ("SMR", "سامراء", "سامەڕا", "Samarra"),
        ("BJI", "بيجي", "بێجی", "Baiji"),
        ("BLD", "بلد", "بەلەد", "Balad"),
        ("DOR", "الدور", "دوور", "Al-Dour"),
        ("TUZ", "طوز خورماتو", "دووزخورماتوو", "Tuz Khurmatu"),
        ("SHR", "الشرقاط", "شەرقات", "Al-Shirqat"),
        ("DJL", "الدجيل", "دوجەیل", "Dujail"),
    ]),
    (("BBL", "بابل", "بابل", "Babil"), &[
        ("HLA", "الحلة", "حیللە", "Hillah"),
        ("MSY", "المسيب", "موسەییب", "Al-Musayyib"),
        ("MHW", "المحاويل", "مەحاویل", "Al-Mahawil"),
        ("HSH", "الهاشمية", "هاشمییە", "Al-Hashimiya"),
    ]),
    (("KRB", "كربلاء", "کەربەلا", "Karbala"), &[
        ("KRB", "كربلاء", "کەربەلا", "Karbala"),
        ("AIT", "عين التمر", "عەین تەمر", "Ain al-Tamr"),
        ("HND", "الهندية", "هیندییە", "Al-Hindiya"),
    ]),
    (("NJF", "النجف", "نەجەف", "Najaf"), &[
        ("NJF", "النجف", "نەجەف", "Najaf"),
        ("KUF", "الكوفة", "کووفە", "Kufa"),
        ("MNZ", "المناذرة", "مەنازیرە", "Al-Manathera"),
    ]),
    (("WST", "واسط", "واست", "Wasit"), &[
        ("KUT", "الكوت", "کووت", "Kut"),
        ("SWR", "الصويرة", "سوەیرە", "Al-Suwaira"),
        ("HAI", "الحي", "حەی", "Al-Hai"),
        ("NMN", "النعمانية", "نوعمانییە", "Al-Nu'maniya"),
        ("BDR", "بدرة", "بەدرە", "Badra"),
        ("AZZ", "العزيزية", "عەزیزییە", "Al-Aziziya"),
    ]),
    (("QAD", "القادسية", "قادسییە", "Al-Qadisiyah"), &[
        ("DIW", "الديوانية", "دیوانییە", "Diwaniyah"),
        ("AFK", "عفك", "عەفەک", "Afak"),
        ("SHM", "الشامية", "شامییە", "Al-Shamiya"),
        ("HMZ", "الحمزة", "حەمزە", "Al-Hamza"),
    ]),
    (("MTH", "المثنى", "موسەننا", "Al-Muthanna"), &[
        ("SMW", "السماوة", "سەماوە", "Samawah"),
        ("RMT", "الرميثة", "ڕومەیسە", "Al-Rumaitha"),
        ("KHD", "الخضر", "خدر", "Al-Khidhir"),
        ("SLM", "السلمان", "سەلمان", "Al-Salman"),
    ]),
    (("DHQ", "ذي قار", "زیقار", "Dhi Qar"), &[
        ("NSR", "الناصرية", "ناسرییە", "Nasiriyah"),
        ("SHT", "الشطرة", "شەترە", "Al-Shatra"),
        ("RIF", "الرفاعي", "ڕیفاعی", "Al-Rifa'i"),
        ("SSH", "سوق الشيوخ", "سووق شیوخ", "Suq al-Shuyukh"),
        ("CHB", "الجبايش", "چەبایش", "Al-Chibayish"),
    ]),
    (("MYS", "ميسان", "مەیسان", "Maysan"), &[
        ("AMR", "العمارة", "عەمارە", "Amarah"),
        ("AGR", "علي الغربي", "عەلی غەربی", "Ali al-Gharbi"),
        ("MJK", "المجر الكبير", "مەجەڕی گەورە", "Al-Majar al-Kabir"),
        ("QSL", "قلعة صالح", "قەڵای ساڵح", "Qal'at Salih"),
        ("MMN", "الميمونة", "مەیموونە", "Al-Maimouna"),
    ]),
];

fn text(names: &Names) -> LocalizedText {
    LocalizedText::new(names.1, names.2, names.3)
}

/// All governorates with their districts, as `GET /v1/config` serves them.
pub fn master_data() -> MasterData {
    MasterData {
        governorates: GOVERNORATES
            .iter()
            .map(|(g, districts)| Governorate {
                code: g.0.into(),
                name: text(g),
                districts: districts.iter().map(|d| District { code: d.0.into(), name: text(d) }).collect(),
            })
            .collect(),
    }
}

/// The governorate a `--province` value names: its code (`BGD`) or its name in any of the
/// three languages, case-insensitively.
pub fn find_governorate(name_or_code: &str) -> Option<Governorate> {
    let wanted = name_or_code.trim();
    master_data().governorates.into_iter().find(|g| {
        g.code.eq_ignore_ascii_case(wanted)
            || g.name.en.eq_ignore_ascii_case(wanted)
            || g.name.ar == wanted
            || g.name.ckb == wanted
    })
}

/// English names of every governorate, for error messages.
pub fn governorate_names() -> Vec<&'static str> {
    GOVERNORATES.iter().map(|(g, _)| g.3).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_every_governorate_has_districts() {
        let data = master_data();
        let mut codes: Vec<_> = data.governorates.iter().map(|g| g.code.clone()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), data.governorates.len());
        for g in &data.governorates {
            assert!(!g.districts.is_empty(), "{} has no districts", g.code);
            let mut d: Vec<_> = g.districts.iter().map(|d| &d.code).collect();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), g.districts.len(), "duplicate district code in {}", g.code);
        }
    }

    #[test]
    fn provinces_are_found_by_code_or_name() {
        assert_eq!(find_governorate("baghdad").map(|g| g.code), Some("BGD".into()));
        assert_eq!(find_governorate("هەولێر").map(|g| g.code), Some("ERB".into()));
        assert_eq!(find_governorate("hlb").map(|g| g.code), Some("HLB".into()));
        assert!(find_governorate("Atlantis").is_none());
    }
}
