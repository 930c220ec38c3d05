//! Name tables with Zipf-like frequencies: Iraqi Arabic names in Arabic script and Kurdish names
//! in Sorani script, first names by sex and family (tribal) names.
//!
//! The lists are ordered from the most to the least common, as far as public name statistics and
//! registry practice let us judge; the weight of the name at rank `r` is `1 / (r + 1)^s`, so the
//! head of the list (محمد, علي, حسين…) agrees by chance far more often than the tail, which is
//! what a matcher's field frequencies must cope with. Compound names are written with their
//! canonical space (عبد الله, نور الهدى) so that the spacing variants can take it out.

use rand::distributions::{Distribution, WeightedIndex};
use rand::Rng;

/// The script a household writes its names in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    /// Arabic script, Arabic names.
    Arabic,
    /// Kurdish Sorani script (Kurdish names, and Arabic-origin names spelled the Kurdish way).
    Kurdish,
}

/// Iraqi Arabic male first names, most common first.
pub const ARABIC_MALE: &[&str] = &[
    "محمد", "علي", "حسين", "أحمد", "حسن", "عباس", "جاسم", "كاظم", "عبد الله", "مصطفى", "حيدر",
    "كريم", "جعفر", "مهدي", "عمر", "سجاد", "مرتضى", "خالد", "إبراهيم", "يوسف", "قاسم", "محمود",
    "عبد الكريم", "عبد الأمير", "عبد الحسين", "عبد الرحمن", "سعد", "حامد", "حمزة", "صادق", "رعد",
    "ياسر", "فلاح", "ستار", "جبار", "عادل", "فاضل", "ناصر", "منتظر", "أمير", "مؤيد", "رائد", "زيد",
    "عقيل", "هادي", "موسى", "عيسى", "يحيى", "أسامة", "إسماعيل", "نور الدين", "سيف الدين",
    "عبد الزهرة", "عبد الرضا", "صباح", "ضياء", "باسم", "وليد", "سعيد", "ماجد", "طه", "أيوب", "أنور",
    "عدنان", "سلمان", "لطيف", "كامل", "نعمة", "هاشم", "ثامر", "نجم", "غانم", "صالح", "عماد",
    "حميد", "مجيد", "كرم", "حمد", "ناظم", "فضيل", "عليوي", "مالك", "زهير", "إحسان", "مشتاق",
    "أثير", "علاء", "بشير", "لؤي", "جلال", "تحسين", "شاكر", "راضي", "عبد الجبار",
    "عبد", "الرحيم", "عبد الستار", "عبد الوهاب", "عبد العزيز", "عبد المجيد", "عبد الحميد",
    "عبد الرزاق", "عبد القادر", "عبد السلام", "عبد الغني", "عبد اللطيف", "عبد الهادي", "عبد الواحد",
    "عبد الخالق", "عبد الباقي", "عبد الصمد", "عبد المنعم", "عبد الحليم", "عبد الناصر", "عبد الرسول",
    "عبد العباس", "عبد الكاظم", "عبد علي", "عبد الحسن", "عبد المهدي", "عبد السادة", "عبد الإله",
    "أكرم", "أسعد", "إياد", "بلال", "بهاء", "تقي", "ثائر", "جواد", "حارث", "حازم", "حاتم", "حبيب",
    "حمود", "خضير", "خليل", "داود", "رحيم", "رزاق", "رشيد", "رضا", "رياض", "زكي", "سالم", "سامي",
    "سلام", "سليم", "شهاب", "صفاء", "صلاح", "ضرغام", "طارق", "ظافر", "عامر", "عبود", "عدي", "عزيز",
    "علاوي", "عمار", "عون", "غسان", "فارس", "فراس", "فيصل", "قيس", "كاطع", "كمال", "لفتة", "ليث",
    "مازن", "محسن", "مسلم", "مظفر", "معن", "مكي", "منذر", "مهند", "ميثم", "نبيل", "نزار", "نوري",
    "هيثم", "وسام", "وعد", "ياسين", "يعقوب", "يونس", "جليل", "حسام", "خلف", "سرحان",
];

/// Iraqi Arabic female first names, most common first.
pub const ARABIC_FEMALE: &[&str] = &[
    "فاطمة", "زينب", "مريم", "نور", "زهراء", "هدى", "سارة", "رقية", "آمنة", "خديجة", "أسماء",
    "إسراء", "إيمان", "منى", "ليلى", "سلمى", "نهى", "ضحى", "بشرى", "حوراء", "بتول", "رباب",
    "سكينة", "غفران", "شيماء", "هبة", "رشا", "دعاء", "آية", "نور الهدى", "أمل", "وفاء", "سعاد",
    "جميلة", "نجلاء", "سهام", "انتصار", "صبيحة", "حسنة", "كريمة", "عذراء", "ابتسام", "هناء",
    "ميسون", "زهرة", "أنوار", "إخلاص", "رحاب", "فرح", "تبارك", "ملاك", "يقين", "عبير", "نادية",
    "بسمة", "سندس", "أزهار", "حنان", "رنا", "وسن", "شهد", "ريام", "مروة", "لمياء", "سناء",
    "أسيل", "أفراح", "إلهام", "أميرة", "بان", "بيداء", "تغريد", "جنان", "حلا", "حليمة", "خلود",
    "دنيا", "رجاء", "رحمة", "رسل", "روان", "ريم", "زمن", "زينة", "سجى", "سرى", "سلوى", "سميرة",
    "سوسن", "شذى", "صابرين", "ضمياء", "عالية", "علياء", "غادة", "فائزة", "فاتن", "فردوس", "قسمة",
    "كوثر", "لبنى", "لقاء", "ماجدة", "مها", "ميادة", "نادرة", "نجاح", "نسرين", "نغم", "نوال",
    "هالة", "هيفاء", "وداد", "ورود", "يسرى", "أم كلثوم", "نور الزهراء", "فاطمة الزهراء",
];

/// Iraqi Arabic family and tribal names, most common first.
pub const ARABIC_FAMILY: &[&str] = &[
    "الجبوري", "الدليمي", "التميمي", "الساعدي", "العبيدي", "الشمري", "الزبيدي", "العزاوي",
    "الكعبي", "الموسوي", "الحسيني", "الخفاجي", "الربيعي", "البياتي", "الجنابي", "العامري",
    "اللامي", "المالكي", "السوداني", "الكناني", "الشويلي", "الحلفي", "الفتلاوي", "الغزي",
    "الطائي", "العنزي", "الدوري", "السامرائي", "النعيمي", "الحمداني", "الكبيسي", "المحمداوي",
    "البدري", "الحكيم", "الياسري", "الأسدي", "الخزرجي", "الزيدي", "المياحي", "الشيباني",
    "العكيلي", "الأعرجي", "الأنصاري", "البهادلي", "الإبراهيمي", "الحلي", "النجفي", "البصري",
    "الموصلي", "الراوي", "العاني", "الهيتي", "الكرخي", "الخالدي", "القيسي", "الجميلي",
    "الكرعاوي", "الحسناوي", "الشمخاني", "الحميداوي", "الجزائري", "العيساوي", "المشهداني", "الفلاحي",
    "الزوبعي", "المحمدي", "الحديثي", "العلواني", "الشبكي", "التكريتي", "الدراجي", "السعدي",
    "الركابي", "الحجامي", "البطاط", "العبودي", "الزاملي", "الغانمي", "الوائلي", "الكلابي",
    "الأزيرجاوي", "الصافي", "البغدادي", "الهاشمي", "العلوي", "المرسومي", "الشريفي", "الجابري",
    "الظالمي", "الإسماعيلي", "العتابي", "السلامي", "المنصوري", "الحربي", "الخزاعي", "الحيدري",
    "الجوادي", "الناصري", "الكاظمي", "الفرطوسي", "الشطري", "العقابي", "المطيري", "الدهلكي",
    "الكروي", "اللهيبي", "المعموري",
];

/// Kurdish male first names in Sorani script, most common first.
pub const KURDISH_MALE: &[&str] = &[
    "محەمەد", "ئەحمەد", "عومەر", "عەلی", "ئازاد", "هێمن", "ڕێباز", "کاروان", "ئاوات", "هەژار",
    "حەسەن", "کەریم", "عەبدوڵڵا", "دلێر", "ڕێبوار", "سەرهەنگ", "بەختیار", "شوان", "ئاراس", "هۆشیار",
    "نەوزاد", "گۆران", "سیروان", "کامەران", "ئارام", "مەحموود", "جەمال", "سەلاح", "ئیبراهیم",
    "فەرهاد", "دیار", "زانا", "هاوڕێ", "پشتیوان", "ڕزگار", "شۆڕش", "سامان", "ئاسۆ", "بەهرۆز", "ژیار",
    "چیا", "ڤەژین", "هەڵۆ", "کۆسرەت", "ئاکۆ", "بەرزان", "هێرش", "حوسێن", "یاسین", "موسڵح",
    "ئاریان", "باوان", "بێستون", "پەیام", "تاریق", "تەها", "جەلال", "حاجی", "خالید", "دڵشاد",
    "ڕەوەند", "ڕەحیم", "ڕەسوڵ", "زریان", "ساڵح", "سەردار", "سۆران", "شاخەوان", "شێرزاد", "فەرەیدون",
    "قادر", "کاوە", "لوقمان", "مەریوان", "نەبەز", "هاوار", "هیوا", "وریا", "یوسف", "ئەنوەر",
    "هەڵگورد", "ئیدریس", "عوسمان",
];

/// Kurdish female first names in Sorani script, most common first.
pub const KURDISH_FEMALE: &[&str] = &[
    "شیلان", "ڤیان", "نەسرین", "ژیان", "هێرۆ", "ڕوناک", "فاتیمە", "شنە", "لانە", "ئاواز",
    "بەفرین", "گوڵاڵە", "پەخشان", "سۆما", "چنار", "دلنیا", "کوێستان", "هەتاو", "ئەستێرە", "سازان",
    "تارا", "زەینەب", "ئامینە", "خەدیجە", "شیرین", "ڕۆژان", "نیان", "هاوژین", "بێریڤان", "سەروە",
    "گەشە", "ئاسیا", "پاکیزە", "نازدار", "شادان", "ڕێزان", "ڤینۆس", "کەژاڵ", "هەلاڵە", "ژینۆ",
    "ئاڤین", "ئەڤین", "بەهار", "پەرێز", "تریفە", "خونچە", "دیمەن", "ڕەنگین", "زارا", "ژینا",
    "سەرگوڵ", "شەونم", "شەهلا", "گوڵستان", "گوڵشەن", "لەیلا", "مەهاباد", "نازەنین", "نیگار", "هێڤی",
    "یاسمین", "سەیران", "شادی", "هاژە", "ئاڤان",
];

/// Kurdish family and tribal names in Sorani script, most common first.
pub const KURDISH_FAMILY: &[&str] = &[
    "جاف", "بارزانی", "تاڵەبانی", "هەورامی", "زەنگەنە", "سورچی", "دزەیی", "کاکەیی", "بالەکی",
    "مەنگوڕ", "پشدەری", "هەرکی", "زێباری", "دۆسکی", "گەردی", "شوانی", "ڕۆژبەیانی", "خۆشناو",
    "بەرزنجی", "نەقشبەندی", "کوردی", "مەحموودی", "ئەحمەدی", "سلێمانی", "هەولێری", "بابانی",
    "هەمەوەند", "دەشتی", "بیتوێنی", "شەریفی", "جەباری", "کۆچەر", "قەرەداغی", "کەرکووکی", "سۆرانی",
    "بادینی", "مزووری", "گەڵاڵی", "ئامێدی", "بەرواری", "ڕێکانی", "دۆڵەمەڕی",
];

/// Brothers' names one or two letters apart: the hard non-duplicates of kind `near-name brother`.
pub const NEAR_NAMES: &[(&str, &str)] = &[
    ("حسن", "حسين"),
    ("محمد", "محمود"),
    ("أحمد", "حمد"),
    ("سعد", "سعيد"),
    ("جاسم", "قاسم"),
    ("كريم", "كرم"),
    ("علي", "عليوي"),
    ("حامد", "حميد"),
    ("كاظم", "ناظم"),
    ("فاضل", "فضيل"),
    ("ماجد", "مجيد"),
    ("حسەن", "حوسێن"),
    ("ڕێباز", "ڕێبوار"),
    ("ئارام", "ئاراس"),
    ("محەمەد", "مەحموود"),
];

/// The partner of `name` in [`NEAR_NAMES`], if it has one.
pub fn near_name(name: &str) -> Option<&'static str> {
    NEAR_NAMES.iter().find_map(|&(a, b)| {
        if a == name {
            Some(b)
        } else if b == name {
            Some(a)
        } else {
            None
        }
    })
}

/// A list of names with Zipf-like weights.
#[derive(Debug, Clone)]
pub struct NameTable {
    names: &'static [&'static str],
    weights: WeightedIndex<f64>,
}

impl NameTable {
    /// Weights `1 / (rank + 1)^exponent` over `names`, given most common first.
    pub fn zipf(names: &'static [&'static str], exponent: f64) -> NameTable {
        let weights = WeightedIndex::new((0..names.len()).map(|r| 1.0 / ((r + 1) as f64).powf(exponent)))
            .expect("name tables are non-empty with positive weights");
        NameTable { names, weights }
    }

    /// A name drawn by frequency.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> &'static str {
        self.names[self.weights.sample(rng)]
    }

    /// A name drawn by frequency that is not in `avoid` (siblings do not share a first name).
    pub fn sample_avoiding<R: Rng>(&self, rng: &mut R, avoid: &[&str]) -> &'static str {
        for _ in 0..64 {
            let name = self.sample(rng);
            if !avoid.contains(&name) {
                return name;
            }
        }
        // A long list of siblings exhausted the head: walk the tail.
        self.names.iter().rev().find(|n| !avoid.contains(n)).copied().unwrap_or(self.names[0])
    }

    /// Whether `name` is among the `n` most common names of the table.
    pub fn is_among_most_common(&self, name: &str, n: usize) -> bool {
        self.names.iter().take(n).any(|&x| x == name)
    }
}

/// All the tables of one script.
#[derive(Debug, Clone)]
pub struct ScriptNames {
    /// Male first names.
    pub male: NameTable,
    /// Female first names.
    pub female: NameTable,
    /// Family names.
    pub family: NameTable,
}

/// The name tables of both scripts.
#[derive(Debug, Clone)]
pub struct Names {
    /// Arabic-script names.
    pub arabic: ScriptNames,
    /// Kurdish-script names.
    pub kurdish: ScriptNames,
}

impl Names {
    /// The built-in tables. First names are steeper (a handful of names cover a large share of
    /// men) than family names, which spread over many tribes.
    pub fn iraqi() -> Names {
        Names {
            arabic: ScriptNames {
                male: NameTable::zipf(ARABIC_MALE, 0.9),
                female: NameTable::zipf(ARABIC_FEMALE, 0.9),
                family: NameTable::zipf(ARABIC_FAMILY, 0.7),
            },
            kurdish: ScriptNames {
                male: NameTable::zipf(KURDISH_MALE, 0.9),
                female: NameTable::zipf(KURDISH_FEMALE, 0.8),
                family: NameTable::zipf(KURDISH_FAMILY, 0.7),
            },
        }
    }

    /// The tables of `script`.
    pub fn of(&self, script: Script) -> &ScriptNames {
        match script {
            Script::Arabic => &self.arabic,
            Script::Kurdish => &self.kurdish,
        }
    }
}

/// Letters that only Kurdish Sorani script uses (not Arabic).
pub const KURDISH_LETTERS: &[char] = &['ی', 'ک', 'ە', 'ێ', 'ۆ', 'ڕ', 'ڵ', 'ڤ', 'گ', 'چ', 'پ', 'ژ'];

/// Whether `text` is written in Kurdish Sorani script (it has a letter Arabic does not use).
pub fn is_kurdish_script(text: &str) -> bool {
    text.chars().any(|c| KURDISH_LETTERS.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kurdish_tables_are_in_kurdish_script_and_arabic_ones_are_not() {
        // Kurdish names without a Kurdish-only letter exist (ئازاد, ئاوات); most have one.
        let kurdish = KURDISH_MALE.iter().chain(KURDISH_FEMALE).filter(|n| is_kurdish_script(n)).count();
        assert!(kurdish * 10 >= (KURDISH_MALE.len() + KURDISH_FEMALE.len()) * 7, "{kurdish}");
        for name in ARABIC_MALE.iter().chain(ARABIC_FEMALE).chain(ARABIC_FAMILY) {
            assert!(!is_kurdish_script(name), "{name} has a Kurdish letter");
        }
    }

    #[test]
    fn near_names_are_symmetric() {
        assert_eq!(near_name("حسن"), Some("حسين"));
        assert_eq!(near_name("حسين"), Some("حسن"));
        assert_eq!(near_name("عباس"), None);
    }
}
