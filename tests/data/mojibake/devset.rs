//! The mojibake development set generator (issue 3), shared by
//! `tests/mojibake_devset.rs` and `examples/mojibake_eval.rs`.
//!
//! Real sentences in many languages, written for this set, mangled every
//! way the stage repairs; deterministic, in memory.

#![allow(dead_code)]

#[path = "../../../src/stage/mojibake_tables.rs"]
mod tables;

use encoding_rs::Encoding;

/// Sentences written for this set: news register, many languages.
pub const SENTENCES: &[(&str, &str)] = &[
    (
        "en",
        "The minister said on Thursday that talks would resume next week.",
    ),
    (
        "en",
        "Prices rose by 3% in October, the statistics office reported.",
    ),
    (
        "en",
        "“We don’t expect a deal before the summit,” a diplomat said — off the record.",
    ),
    (
        "fr",
        "Le président a été réélu dimanche avec 52 % des voix.",
    ),
    (
        "fr",
        "« Nous ne céderons pas », a déclaré la ministre à l’Assemblée.",
    ),
    (
        "fr",
        "Les élèves français découvrent l’été à la mer et la forêt.",
    ),
    (
        "de",
        "Die Bundesregierung plant höhere Ausgaben für Straßen und Brücken.",
    ),
    (
        "de",
        "Über 500 Menschen demonstrierten am Wochenende in München.",
    ),
    (
        "de",
        "Der Bürgermeister äußerte sich nicht zu den Vorwürfen.",
    ),
    (
        "es",
        "El presidente español inauguró ayer la exposición en Málaga.",
    ),
    (
        "es",
        "¿Cuántos niños asistieron a la reunión? Más de cien, según él.",
    ),
    (
        "es",
        "La compañía anunció un aumento del 5 % en la producción.",
    ),
    (
        "pl",
        "Prezydent Polski spotkał się z premierem w Łodzi w środę.",
    ),
    (
        "pl",
        "Zażółć gęślą jaźń — mówią ci, którzy uczą się polskiego.",
    ),
    (
        "cs",
        "Předseda vlády řekl, že rozpočet bude schválen v září.",
    ),
    ("cs", "Příliš žluťoučký kůň úpěl ďábelské ódy."),
    (
        "tr",
        "Türkiye Cumhurbaşkanı İstanbul’da gazetecilere açıklama yaptı.",
    ),
    (
        "tr",
        "Güneşli bir günde çocuklar ağaçların altında oynuyordu.",
    ),
    (
        "el",
        "Ο πρωθυπουργός δήλωσε ότι η οικονομία της Ελλάδας ανακάμπτει.",
    ),
    ("el", "Η Αθήνα φιλοξένησε τη σύνοδο κορυφής την Πέμπτη."),
    (
        "ru",
        "Глава дипломатии Сергей Лавров ответил на вопросы депутатов Государственной думы.",
    ),
    (
        "ru",
        "Президент Владимир Путин провел встречу с премьер-министром в Кремле.",
    ),
    (
        "ru",
        "Цены на продукты выросли почти на десять процентов за год.",
    ),
    (
        "ru",
        "Ещё вчера вечером в центре Москвы шёл снег, сообщили синоптики.",
    ),
    (
        "uk",
        "Прем'єр-міністр України прокоментував рішення парламенту щодо бюджету.",
    ),
    (
        "uk",
        "У Харкові відкрили нову станцію метро після тривалої реконструкції.",
    ),
    (
        "uk",
        "Їхня підтримка була важливою для європейської інтеграції країни.",
    ),
    (
        "bg",
        "Министър-председателят на България заяви, че бюджетът е приет.",
    ),
    (
        "bg",
        "В София се проведе среща на външните министри от региона.",
    ),
    (
        "vi",
        "Thủ tướng Việt Nam đã gặp gỡ các nhà đầu tư nước ngoài tại Hà Nội.",
    ),
    (
        "vi",
        "Người dân được khuyến cáo ở trong nhà khi trời mưa lớn.",
    ),
    ("zh", "中国外交部发言人周四表示，双方将继续保持沟通。"),
    ("zh", "北京市政府宣布新的交通措施，以减少空气污染。"),
    ("ja", "日本政府は木曜日、新しい経済対策を発表した。"),
    ("ja", "東京では桜が満開になり、多くの人が花見を楽しんだ。"),
    (
        "ar",
        "قال وزير الخارجية إن المحادثات ستستأنف الأسبوع المقبل.",
    ),
    ("ar", "ارتفعت الأسعار بنسبة ثلاثة في المئة خلال الشهر الماضي."),
    ("he", "ראש הממשלה אמר כי המשא ומתן יימשך בשבוע הבא."),
    ("he", "מחירי הדיור בתל אביב עלו שוב בחודש שעבר."),
    (
        "emoji",
        "Great news from the team 🎉👍 see you all at 10:00 ☕",
    ),
    ("emoji", "Family trip 👨‍👩‍👧 to the beach 🌊 was fun 😀"),
    (
        "math",
        "For all x ∈ ℝ, x² ≥ 0 and √4 = 2; π ≈ 3.14159, Δt → 0.",
    ),
    ("math", "The integral ∫₀¹ x dx = ½ and ∑ 1/n² = π²/6 ≠ 2."),
    (
        "pt",
        "O governo de São Paulo anunciou novas medidas à população.",
    ),
    (
        "it",
        "Il presidente della Repubblica è arrivato ieri a Napoli.",
    ),
    ("ca", "Gràcies a tothom per l’ajuda, va dir la consellera."),
    ("lt", "Lietuvos prezidentė susitiko su ministrais Vilniuje."),
    (
        "sv",
        "Regeringen i Sverige föreslår höjda bidrag för äldre.",
    ),
];

/// Clean texts that look a little like mojibake or are easy to break.
pub const TRICKY_CLEAN: &[&str] = &[
    "the page showed \"Ã©\" instead of \"é\"",
    "A common bug: `â€™` appears where ’ should be.",
    "Rosja: «Газпром» и «РФ» — В\u{A0}Москве 5 °C. Рёв моторов.",
    "Абоненты МегаФон и ВКонтакте довольны. СІЧНЯ 2015 Р.",
    "WSPÓŁPRACA ŁÓDŹ ĆŚ — ŮŽASNÉ",
    "CAFÉ” et « été » à Paris",
    "Þú ert þar, sagði hún.",
    "Amount: 5€, 10£, ¥300, ±2 °C, ×3, ÷4, µm, №5",
    "α≤β, x≤y, ∞, ⌐, ░▒▓ box art │ table │",
    "10/14/2015 — Posted on 10 October 2015.",
    "What??? Really?? Is it ? No.",
    "ROMÂNĂ ȘI MOLDOVA: România și Moldova semnează acordul.",
    "A IRMÃ DE JOÃO, AÇÃO E REAÇÃO — NÃO!",
    "ÉLÉGANTE ET CRÉÉE À PARIS, ÇA VA ? Où ça ? Là-bas.",
    "Az őrült ŐRÜLT tűzoltó űrhajó; ÁRVÍZTŰRŐ TÜKÖRFÚRÓGÉP.",
    "Er sagte: »Das Wetter ist schön« und ging. Han sa: »Hej» till mig.",
    "Ђорђе Џаковић из Љубљане и Њујорка. ЂОРЂЕ ЏАКОВИЋ. Ѓорѓе Ќосев, Ѕвезда.",
    "ПРЕЗИДЕНТ РОССИИ ВЛАДИМИР ПУТИН ЗАЯВИЛ О ГОТОВНОСТИ К ДИАЛОГУ",
    "ПРЕЗИДЕНТ УКРАЇНИ ЗАЯВИВ ПРО ПІДТРИМКУ ЄВРОПЕЙСЬКОЇ ІНТЕГРАЦІЇ",
    "Қазақстан Республикасының Президенті Астанада сөз сөйледі. Монгол улсын Ерөнхийлөгч.",
    "Ёлка, Ёжик, ЁЛКА; Рёв, Сёмга, Рёбра и ещё всё её.",
    "Ελληνικά: ΆΡΗΣ, Έλενα, ΉΡΑ, Ίων, Όλγα, Ύδρα, Ώρα — «ΑΘΉΝΑ».",
    "Türkçe: ÇAĞRI, ŞİİR, İĞNE, ığdır, Ğ ğ ı İ ş Ş.",
    "Lietuviškai: ĄČĘĖĮŠŲŪŽ ąčęėįšųūž. Latviski: ĀČĒĢĪĶĻŅŠŪŽ.",
    "Tiếng Việt: ĐẢNG, Ứng, Ưu, Ơn, ỷ, ỹ, Ỗ, ừ.",
    "Copyright © 2015 Example™ Ltd®, 20 °C, N° 5, nº 7, 1ª, ½ kg, ¼ h, ¾.",
    "∀x∃y: x≠y ⇒ f(x)≤f(y); A∩B ⊂ A∪B; ∑ᵢ aᵢ ≈ ∫ f; λ→0; ℵ₀.",
    "┌──────┐\n│ Box  │\n└──────┘ ░▒▓█",
    "日本語: 東京（とうきょう）と大阪、한국어: 서울특별시, 中文：北京、上海。",
    "Emoji: 👩‍💻 🇺🇦 🇷🇺 🏳️‍🌈 ❤️ ✅ ⚠️ ©️",
    "Ответ: «Нет». — Почему? — «Не знаю…» № 5, т. е. 10 %.",
    "Les « guillemets » et l’apostrophe ‘ simple ’ — tirets – et … points.",
];

/// A single-byte codepage: bytes 0x80..=0xFF as chars (`None` undefined).
struct Cp {
    name: &'static str,
    high: [Option<char>; 128],
}

fn cp(name: &'static str) -> Cp {
    let mut high = [None; 128];
    for b in 0x80u8..=0xFF {
        let c = match name {
            "iso-8859-1" => Some(char::from(b)),
            "cp437" => Some(tables::CP437_HIGH[usize::from(b - 0x80)]),
            _ => {
                let enc = Encoding::for_label(name.as_bytes()).unwrap_or_else(|| panic!("{name}"));
                let bytes = [b];
                let (s, _) = enc.decode_without_bom_handling(&bytes);
                s.chars().next().filter(|c| *c != '\u{FFFD}')
            }
        };
        high[usize::from(b - 0x80)] = c;
    }
    Cp { name, high }
}

impl Cp {
    fn dec(&self, b: u8) -> Option<char> {
        if b < 0x80 {
            Some(char::from(b))
        } else {
            self.high[usize::from(b - 0x80)]
        }
    }
    fn enc(&self, c: char) -> Option<u8> {
        if c.is_ascii() {
            return Some(c as u8);
        }
        self.high
            .iter()
            .position(|x| *x == Some(c))
            .map(|p| 0x80 + p as u8)
    }
    /// UTF-8 bytes of `s` decoded with this codepage.
    fn misread(&self, s: &str) -> Option<String> {
        s.bytes().map(|b| self.dec(b)).collect()
    }
}

const UTF8_CPS: [&str; 13] = [
    "windows-1252",
    "iso-8859-1",
    "windows-1251",
    "windows-1250",
    "iso-8859-2",
    "windows-1253",
    "windows-1254",
    "windows-1257",
    "macintosh",
    "cp437",
    "koi8-r",
    "koi8-u",
    "ibm866",
];

pub struct Case {
    pub kind: &'static str,
    pub clean: String,
    pub damaged: String,
}

/// The damaged set, in a fixed order.
pub fn damaged_set() -> Vec<Case> {
    let cps: Vec<Cp> = UTF8_CPS.iter().map(|n| cp(n)).collect();
    let mut out = Vec::new();
    let mut push = |kind: &'static str, clean: &str, damaged: Option<String>| {
        if let Some(d) = damaged
            && d != clean
        {
            out.push(Case {
                kind,
                clean: clean.to_string(),
                damaged: d,
            });
        }
    };
    // UTF-8 read once with each codepage.
    for (i, (_, s)) in SENTENCES.iter().enumerate() {
        for (k, c) in cps.iter().enumerate() {
            // Every sentence through windows-1252 and latin-1; the others rotate.
            if k < 2 || (i + k) % 3 == 0 {
                push("utf8-once", s, c.misread(s));
            }
        }
    }
    // Twice and three times.
    let w1252 = &cps[0];
    let w1251 = &cps[2];
    for (i, (_, s)) in SENTENCES.iter().enumerate() {
        let once = w1252.misread(s);
        let twice = once.as_deref().and_then(|o| w1252.misread(o));
        push("utf8-twice", s, twice.clone());
        if i % 2 == 0 {
            push("utf8-three-times", s, twice.and_then(|t| w1252.misread(&t)));
        }
        if i % 3 == 0 {
            // windows-1251 then windows-1252.
            push(
                "utf8-mixed-chain",
                s,
                w1251.misread(s).and_then(|o| w1252.misread(&o)),
            );
        }
    }
    // Partial damage: a name inside a clean English line, a paragraph in a document.
    let names = [
        "François Hollande",
        "Jürgen Müller",
        "Łukasz Wiśniewski",
        "Recep Tayyip Erdoğan",
        "Владимир Путин",
        "Αλέξης Τσίπρας",
        "José Martínez",
        "Søren Kierkegaard",
    ];
    for (i, name) in names.iter().enumerate() {
        for (k, c) in cps
            .iter()
            .enumerate()
            .filter(|(k, _)| [0, 1, 2, 8].contains(k))
        {
            let clean = format!("On Monday {name} met reporters in the capital.");
            let damaged = c
                .misread(name)
                .map(|m| format!("On Monday {m} met reporters in the capital."));
            let _ = (i, k);
            push("partial-name", &clean, damaged);
        }
    }
    for (i, (_, s)) in SENTENCES.iter().enumerate().step_by(2) {
        let other = SENTENCES[(i + 5) % SENTENCES.len()].1;
        let clean = format!("{other}\n\n{s}\n\n{other}\n");
        let damaged = w1252
            .misread(s)
            .map(|m| format!("{other}\n\n{m}\n\n{other}\n"));
        push("partial-paragraph", &clean, damaged);
    }
    // Legacy Cyrillic shown with the wrong single-byte codepage.
    let koi8r = &cps[10];
    let koi8u = &cps[11];
    let cp866 = &cps[12];
    let latin1 = &cps[1];
    let swaps: [(&Cp, &Cp); 8] = [
        (w1251, w1252),
        (w1251, latin1),
        (koi8r, w1252),
        (koi8r, w1251),
        (koi8u, w1251),
        (w1251, koi8r),
        (cp866, w1251),
        (w1251, cp866),
    ];
    for (lang, s) in SENTENCES
        .iter()
        .filter(|(l, _)| matches!(*l, "ru" | "uk" | "bg"))
    {
        for (real, shown) in swaps {
            if *lang == "uk" && real.name == "koi8-r" {
                continue; // KOI8-R has no і ї є ґ
            }
            let damaged: Option<String> = s
                .chars()
                .map(|c| real.enc(c).and_then(|b| shown.dec(b)))
                .collect();
            push("legacy-cyrillic", s, damaged);
        }
        // The same inside an English line.
        let word = s.split(' ').nth(1).unwrap_or("");
        let clean = format!("The agency quoted {word} in its report.");
        let damaged: Option<String> = word
            .chars()
            .map(|c| w1251.enc(c).and_then(|b| w1252.dec(b)))
            .collect();
        if word.chars().count() >= 5 {
            push(
                "legacy-partial",
                &clean,
                damaged.map(|d| format!("The agency quoted {d} in its report.")),
            );
        }
    }
    // Sloppy: the undefined byte of `”` dropped or replaced, NBSP byte made a space.
    for (i, (_, s)) in SENTENCES.iter().enumerate().take(24) {
        let quoted = format!("“{s}”");
        let Some(m) = w1252.misread(&quoted) else {
            continue;
        };
        let variants = [
            m.replace('\u{9D}', ""),
            m.replace('\u{9D}', "?"),
            m.replace('\u{9D}', "\u{FFFD}"),
        ];
        push("sloppy-lost-byte", &quoted, Some(variants[i % 3].clone()));
    }
    // Cyrillic through a windows-1252 decoder that drops the bytes it does
    // not define (0x81 of `с`, 0x8F of `я`...) and makes NBSP a space.
    for (_, s) in SENTENCES.iter().filter(|(l, _)| matches!(*l, "ru" | "bg")) {
        let m: Option<String> = w1252.misread(s).map(|m| {
            m.chars()
                .filter(|c| !('\u{80}'..='\u{9F}').contains(c))
                .map(|c| if c == '\u{A0}' { ' ' } else { c })
                .collect()
        });
        push("sloppy-cyrillic", s, m);
    }
    for s in [
        "Gràcies a tothom per venir avui.",
        "Voilà la réponse à la question.",
        "Prices from 10\u{A0}€ per night, à la carte.",
        "Déjà vu à Paris.",
    ] {
        let m = w1252.misread(s).map(|m| m.replace('\u{A0}', " "));
        push("sloppy-nbsp", s, m);
    }
    out
}

/// The clean control set, as many texts as the damaged set: sentences
/// alone and in pairs across languages, and the tricky texts.
pub fn clean_set(n: usize) -> Vec<String> {
    let mut out: Vec<String> = TRICKY_CLEAN.iter().map(|s| s.to_string()).collect();
    let k = SENTENCES.len();
    let mut i = 0;
    while out.len() < n {
        let a = SENTENCES[i % k].1;
        let b = SENTENCES[(i * 7 + 3) % k].1;
        out.push(match i % 7 {
            0 => a.to_string(),
            1 => format!("{a} {b}"),
            2 => a.to_uppercase(),
            3 => format!("«{}» — {}", a.to_lowercase(), b.to_uppercase()),
            4 => a.replace(' ', "\u{A0}"),
            5 => a
                .split(' ')
                .map(|w| {
                    let mut cs = w.chars();
                    cs.next()
                        .map(|f| f.to_uppercase().chain(cs).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" "),
            _ => format!("{a}\n\n{b}\n"),
        });
        i += 1;
    }
    out
}
