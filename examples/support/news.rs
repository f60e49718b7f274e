//! News-like test text for the corpus generator and the benchmarks:
//! a deterministic random generator, a pool of real paragraphs and
//! boilerplate lines, and the damage that scraped, machine-translated
//! news text carries.
//!
//! Shared by `examples/make_corpus.rs` and `benches/pipeline.rs`
//! (included with `#[path]`), so each uses only part of it.

#![allow(dead_code)]

use std::fs;
use std::io;
use std::path::Path;

/// SplitMix64: small, fast, and the same sequence on every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize % n.max(1)
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// Clean news paragraphs in scripts other than Latin, written for these
/// tests (Greek, Vietnamese, Polish, Turkish, Chinese, Arabic, Ukrainian,
/// Russian), with the quotation marks each language uses.
pub const NON_ASCII_PARAGRAPHS: &[&str] = &[
    "Η κυβέρνηση ανακοίνωσε την Τετάρτη νέο πρόγραμμα στήριξης για τους αγρότες της Θεσσαλίας, μετά τις πλημμύρες που κατέστρεψαν χιλιάδες στρέμματα καλλιεργειών. «Δεν θα αφήσουμε κανέναν πίσω», δήλωσε ο υπουργός Αγροτικής Ανάπτυξης.",
    "Σύμφωνα με την Ελληνική Στατιστική Αρχή, ο πληθωρισμός υποχώρησε στο 2,9% τον Οκτώβριο, κυρίως λόγω της πτώσης των τιμών της ενέργειας. Οι τιμές των τροφίμων, ωστόσο, παραμένουν υψηλές.",
    "Chính phủ Việt Nam cho biết tăng trưởng kinh tế quý ba đạt 5,3%, cao hơn dự báo của các chuyên gia. Xuất khẩu điện tử và nông sản tiếp tục là động lực chính của nền kinh tế.",
    "Theo Bộ Giao thông Vận tải, tuyến đường sắt cao tốc Bắc – Nam sẽ được khởi công vào năm 2027, với tổng vốn đầu tư dự kiến khoảng 67 tỷ đô la Mỹ.",
    "Rząd w Warszawie zapowiedział w czwartek podwyżkę płacy minimalnej od stycznia przyszłego roku. „To decyzja, na którą czekały miliony pracowników”, powiedział rzecznik rządu na konferencji prasowej.",
    "Türkiye Merkez Bankası politika faizini yüzde 50 seviyesinde sabit tuttu. Bankanın açıklamasında, enflasyonun düşüş eğiliminin önümüzdeki aylarda da süreceği belirtildi.",
    "国家统计局周三公布的数据显示，今年前三个季度全国居民人均可支配收入同比增长5.2%。分析人士指出，消费市场正在逐步恢复。",
    "上海市政府表示，将在明年新建二十所公立学校，以满足人口增长带来的教育需求。“我们必须提前规划”，一位官员说。",
    "أعلنت وزارة الصحة يوم الثلاثاء عن حملة تطعيم جديدة تستهدف الأطفال في المناطق الريفية، وقالت إن الحملة ستستمر ثلاثة أسابيع.",
    "Верховна Рада України ухвалила в першому читанні законопроєкт про державний бюджет на наступний рік. «Головний пріоритет — оборона та відновлення енергетики», — заявив міністр фінансів.",
    "Министр иностранных дел России заявил в среду, что Москва готова к переговорам по любому формату. «Мы никогда не отказывались от диалога», — сказал он журналистам после встречи в Женеве.",
    "По данным Росстата, промышленное производство в сентябре выросло на 3,1% в годовом выражении. Наибольший рост показали обрабатывающие отрасли и строительство.",
    "Die Bundesregierung hat am Mittwoch den Entwurf für den Haushalt des kommenden Jahres beschlossen. „Wir investieren so viel wie nie zuvor in Schiene und Brücken“, sagte der Finanzminister in Berlin.",
    "Le gouvernement français a présenté jeudi un plan de rénovation énergétique des écoles. « C’est un chantier de dix ans », a déclaré la ministre de l’Éducation à l’Assemblée nationale.",
];

/// Boilerplate lines of the kind news pages carry around the article.
const BOILERPLATE: &[&str] = &[
    "Subscribe",
    "Subscribe to our newsletter",
    "Sign up for our daily briefing",
    "Share this article",
    "Advertisement",
    "Follow us on Twitter",
    "Click here to read more",
    "Comments",
    "Most Read",
    "Also Read",
    "Share on Facebook",
    "Related Articles",
    "Sign in",
    "Trending Now",
];

/// Names for photo credits and machine-translated dialogue.
const NAMES: &[&str] = &[
    "Sergei Lavrov",
    "Maria Zakharova",
    "John Smith",
    "Anna Petrova",
    "Dmitry Peskov",
    "Laura Brown",
    "Ahmed Hassan",
    "Elena Ivanova",
];

/// Agencies for photo credits.
const AGENCIES: &[&str] = &["Reuters", "AFP", "AP", "Sputnik", "TASS", "Getty Images"];

/// Paragraphs and lines to build documents from.
pub struct Pool {
    /// Article paragraphs (any script).
    pub body: Vec<String>,
    /// Article paragraphs that are pure ASCII.
    pub ascii: Vec<String>,
    /// Article paragraphs that are mostly not ASCII.
    pub non_ascii: Vec<String>,
    /// Lines that are not article text.
    pub boiler: Vec<String>,
    /// Short lines usable as headlines.
    pub titles: Vec<String>,
    /// Host names for URLs.
    pub hosts: Vec<String>,
}

/// A record of the development data.
#[derive(serde::Deserialize)]
struct DevRecord {
    url: String,
    noisy_text: String,
    gold_text: String,
}

/// Reads the raw articles (`*.txt`, sorted by name) of `dir`.
pub fn read_articles(dir: &Path) -> io::Result<Vec<String>> {
    let mut paths: Vec<_> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned()))
        .collect()
}

fn is_mostly_non_ascii(s: &str) -> bool {
    let n = s.chars().count();
    n > 0 && s.chars().filter(|c| !c.is_ascii()).count() * 2 > n
}

impl Pool {
    /// An empty pool holding only the built-in lines.
    pub fn new() -> Pool {
        Pool {
            body: Vec::new(),
            ascii: Vec::new(),
            non_ascii: NON_ASCII_PARAGRAPHS.iter().map(|s| s.to_string()).collect(),
            boiler: BOILERPLATE.iter().map(|s| s.to_string()).collect(),
            titles: Vec::new(),
            hosts: vec!["news.example.com".to_owned()],
        }
    }

    fn add_paragraph(&mut self, line: &str) {
        let line = line.trim();
        if line.chars().count() < 60 {
            if !line.is_empty() && line.len() < 120 {
                self.boiler.push(line.to_owned());
            }
            return;
        }
        if line.is_ascii() {
            self.ascii.push(line.to_owned());
        } else if is_mostly_non_ascii(line) {
            self.non_ascii.push(line.to_owned());
        }
        self.body.push(line.to_owned());
    }

    /// Adds the raw articles: their long lines are paragraphs (damage and
    /// all), their short lines boilerplate. None of it counts as clean.
    pub fn add_raw(&mut self, articles: &[String]) {
        for a in articles {
            for line in a.lines() {
                let line = line.trim();
                if line.chars().count() >= 60 {
                    self.body.push(line.to_owned());
                } else if !line.is_empty() && line.len() < 120 {
                    self.boiler.push(line.to_owned());
                }
            }
        }
    }

    /// Adds the development data: gold lines are article paragraphs, the
    /// other lines of the page are boilerplate.
    pub fn add_dev(&mut self, jsonl: &str) -> io::Result<()> {
        for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
            let r: DevRecord = serde_json::from_str(line).map_err(io::Error::other)?;
            let gold: std::collections::HashSet<&str> =
                r.gold_text.lines().map(str::trim).collect();
            let mut first = true;
            for g in r.gold_text.lines() {
                let g = g.trim();
                if first && !g.is_empty() && g.len() < 160 {
                    self.titles.push(g.to_owned());
                }
                first = first && g.is_empty();
                self.add_paragraph(g);
            }
            for n in r.noisy_text.lines().map(str::trim) {
                if !n.is_empty() && !gold.contains(n) && n.len() < 120 {
                    self.boiler.push(n.to_owned());
                }
            }
            if let Some(host) = r.url.split('/').nth(2) {
                self.hosts.push(host.to_owned());
            }
        }
        Ok(())
    }

    /// A headline.
    pub fn title(&self, rng: &mut Rng) -> String {
        if self.titles.is_empty() {
            return "News of the day".to_owned();
        }
        rng.pick(&self.titles).clone()
    }

    /// A boilerplate line: a page line, or a generated one.
    pub fn boiler_line(&self, rng: &mut Rng) -> String {
        match rng.below(6) {
            0 => format!("READ MORE: {}", self.title(rng)),
            1 => format!("Photo: {} / {}", rng.pick(NAMES), rng.pick(AGENCIES)),
            2 => format!(
                "© {} {}. All rights reserved.",
                2015 + rng.below(10),
                rng.pick(&self.hosts)
            ),
            _ => rng.pick(&self.boiler).clone(),
        }
    }
}

impl Default for Pool {
    fn default() -> Pool {
        Pool::new()
    }
}

/// What damage a document gets.
#[derive(Clone, Copy, Default)]
pub struct Damage {
    /// Boilerplate lines around and inside the article.
    pub boilerplate: bool,
    /// One paragraph read with the wrong codepage.
    pub mojibake: bool,
    /// HTML entities left in the text.
    pub entities: bool,
    /// Straight quotes made curly, and machine-translated dialogue.
    pub quotes: bool,
    /// NO-BREAK SPACEs instead of spaces.
    pub nbsp: bool,
    /// CRLF line ends.
    pub crlf: bool,
}

impl Damage {
    /// Damage drawn at the rates of scraped news.
    pub fn draw(rng: &mut Rng) -> Damage {
        Damage {
            boilerplate: rng.chance(0.8),
            mojibake: rng.chance(0.03),
            entities: rng.chance(0.12),
            quotes: rng.chance(0.35),
            nbsp: rng.chance(0.2),
            crlf: rng.chance(0.1),
        }
    }

    /// Every kind of damage.
    pub fn all() -> Damage {
        Damage {
            boilerplate: true,
            mojibake: true,
            entities: true,
            quotes: true,
            nbsp: true,
            crlf: true,
        }
    }
}

/// Straight double quotes made curly, in pairs.
fn curly_quotes(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 8);
    let mut open = true;
    for c in p.chars() {
        if c == '"' {
            out.push(if open { '\u{201C}' } else { '\u{201D}' });
            open = !open;
        } else if c == '\'' {
            out.push('\u{2019}');
        } else {
            out.push(c);
        }
    }
    out
}

/// The first sentence-like piece of a paragraph, without its final stop.
fn clause(p: &str) -> &str {
    let end = p.find(". ").unwrap_or(p.len());
    let s = &p[..end];
    s.trim_end_matches('.')
}

/// A line of dialogue as machine translation from Russian renders it:
/// `“Quote, – said X. – More”`.
fn mt_dialogue(rng: &mut Rng, a: &str, b: &str) -> String {
    format!(
        "\u{201C}{}, – said {}. – {}\u{201D}",
        clause(a),
        rng.pick(NAMES),
        clause(b)
    )
}

/// Some characters written as HTML entities.
fn entities(rng: &mut Rng, p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 32);
    for c in p.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' if rng.chance(0.7) => out.push_str("&quot;"),
            '\'' if rng.chance(0.7) => out.push_str("&#8217;"),
            '\u{2014}' => out.push_str("&mdash;"),
            ' ' if rng.chance(0.02) => out.push_str("&nbsp;"),
            _ => out.push(c),
        }
    }
    out
}

/// Some spaces made NO-BREAK SPACE: after numbers, and a few others.
fn nbsp(rng: &mut Rng, p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 16);
    let mut prev = ' ';
    for c in p.chars() {
        if c == ' ' && (prev.is_ascii_digit() || rng.chance(0.03)) {
            out.push('\u{A0}');
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

/// A paragraph as it looks after its UTF-8 bytes were decoded with the
/// wrong codepage: windows-1251 for Cyrillic (`РџСѓС‚РёРЅ`), else windows-1252
/// (`donâ€™t`). Pure ASCII gets curly quotes and a dash first, so that the
/// damage shows.
pub fn mojibake(p: &str) -> String {
    let mut src = if p.is_ascii() {
        curly_quotes(p)
    } else {
        p.to_owned()
    };
    if src.is_ascii() {
        src = src.replacen(", ", " \u{2014} ", 1);
    }
    let cyrillic = src.chars().any(|c| ('\u{400}'..='\u{4FF}').contains(&c));
    let enc = if cyrillic {
        encoding_rs::WINDOWS_1251
    } else {
        encoding_rs::WINDOWS_1252
    };
    let (text, _) = enc.decode_without_bom_handling(src.as_bytes());
    text.into_owned()
}

/// Damages paragraphs in place (not the boilerplate framing).
pub fn damage_paragraphs(rng: &mut Rng, paras: &mut [String], d: Damage, rate: f64) {
    if paras.is_empty() {
        return;
    }
    for i in 0..paras.len() {
        if d.quotes && rng.chance(rate) {
            paras[i] = if rng.chance(0.25) && i + 1 < paras.len() {
                mt_dialogue(rng, &paras[i], &paras[i + 1])
            } else {
                curly_quotes(&paras[i])
            };
        }
        if d.entities && rng.chance(rate) {
            paras[i] = entities(rng, &paras[i]);
        }
        if d.nbsp && rng.chance(rate) {
            paras[i] = nbsp(rng, &paras[i]);
        }
    }
    if d.mojibake {
        // Prefer a Cyrillic paragraph when there is one.
        let k = paras
            .iter()
            .position(|p| p.chars().any(|c| ('\u{400}'..='\u{4FF}').contains(&c)))
            .unwrap_or_else(|| rng.below(paras.len()));
        paras[k] = mojibake(&paras[k]);
    }
}

/// One news document of about `target` bytes from `pool`: a headline,
/// runs of consecutive paragraphs, and the damage `d`.
pub fn document(rng: &mut Rng, pool: &Pool, target: usize, d: Damage) -> String {
    let source = if pool.body.is_empty() {
        &pool.non_ascii
    } else {
        &pool.body
    };
    // Pick paragraphs in runs, to keep some of an article's flow.
    let mut paras: Vec<String> = Vec::new();
    let mut len = 0;
    // Occasionally a document in another script.
    let other_script = rng.chance(0.05);
    while len < target || paras.is_empty() {
        let list = if other_script {
            &pool.non_ascii
        } else {
            source
        };
        let start = rng.below(list.len());
        let run = 1 + rng.below(5);
        for p in list.iter().skip(start).take(run) {
            if len >= target && !paras.is_empty() {
                break;
            }
            len += p.len() + 2;
            paras.push(p.clone());
        }
    }
    // Mostly one damaged paragraph per few thousand bytes.
    let rate = (0.3 * 4000.0 / target.max(1) as f64).min(0.3);
    damage_paragraphs(rng, &mut paras, d, rate.max(0.01));

    let mut lines: Vec<String> = Vec::with_capacity(paras.len() + 8);
    if d.boilerplate {
        for _ in 0..rng.below(4) {
            lines.push(pool.boiler_line(rng));
        }
    }
    lines.push(pool.title(rng));
    let every = 4 + rng.below(8);
    for (i, p) in paras.into_iter().enumerate() {
        if d.boilerplate && i > 0 && i % every == 0 {
            lines.push(pool.boiler_line(rng));
        }
        lines.push(p);
    }
    if d.boilerplate {
        for _ in 0..1 + rng.below(4) {
            lines.push(pool.boiler_line(rng));
        }
    }
    let sep = if rng.chance(0.3) { "\n" } else { "\n\n" };
    let mut text = lines.join(sep);
    text.push('\n');
    if d.crlf {
        text = text.replace('\n', "\r\n");
    }
    text
}

/// Clean documents of about `target` bytes each, `total` bytes in all,
/// from `paras` (no damage, no boilerplate).
pub fn clean_documents(
    rng: &mut Rng,
    paras: &[String],
    target: usize,
    total: usize,
) -> Vec<String> {
    let mut docs = Vec::new();
    let mut sum = 0;
    while sum < total {
        let mut doc = String::with_capacity(target + 512);
        let mut order: Vec<usize> = (0..paras.len()).collect();
        rng.shuffle(&mut order);
        for &k in &order {
            if doc.len() >= target {
                break;
            }
            doc.push_str(&paras[k]);
            doc.push_str("\n\n");
        }
        doc.pop();
        sum += doc.len();
        docs.push(doc);
    }
    docs
}
