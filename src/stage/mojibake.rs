//! Stage 2, mojibake: text decoded with the wrong codepage, repaired.
//!
//! Four kinds of damage (issue 3):
//!
//! - UTF-8 bytes decoded as a single-byte codepage (`donâ€™t`,
//!   `РџСѓС‚РёРЅ`), once or up to three times. A damaged span is re-encoded
//!   with the codepage and decoded as UTF-8; the round trip must be exact.
//! - Legacy Cyrillic bytes (windows-1251, KOI8, cp866) shown with another
//!   single-byte codepage (`Ïóòèí` -> `Путин`), judged with Russian and
//!   Ukrainian letter-pair statistics.
//! - Sloppy damage: one byte of a UTF-8 sequence lost or replaced by `?` or
//!   U+FFFD, or a NO-BREAK SPACE byte turned into a space (`GrÃ cies`).
//! - Lossy damage: letters turned into `?` (`10 ??????? 2015 ?.`), repaired
//!   only from evidence in the document, otherwise recorded as a finding.
//!
//! Evidence before any change: every non-ASCII character of a touched word
//! must be explained by the repair, the span must score as implausible
//! text (a badness score in the spirit of ftfy) and the repair as
//! plausible, and a quoted lone token is discussion, not damage. When
//! unsure, nothing changes.
//!
//! Speed: pure ASCII returns at once (or, with `??` in it, runs only the
//! lossy check); other text is scanned once with a per-character table,
//! and only lines with a pair of characters that can be a UTF-8 sequence
//! in some codepage (and is not plain Cyrillic) are looked at closely.
//! Plain Cyrillic words, most of the non-ASCII text met, skip the
//! per-character step: 32 bytes at a time after ASCII, by a byte test that
//! proves the step would find nothing there (`clean_cyr_prefix`), and
//! letter by letter elsewhere (`plain_cyr_run`). Both are tested against
//! the general step (`next_trigger::<false>`).

use std::fmt::Write as _;
use std::ops::Range;
use std::sync::LazyLock;

use encoding_rs::Encoding;
use memchr::{memchr, memmem, memrchr};
use regex::Regex;

use crate::edit::{Edit, EditKind, Rule};
use crate::pipeline::{Context, LossyMode};
use crate::stage::Stage;

#[path = "mojibake_tables.rs"]
mod tables;

// ---------------------------------------------------------------- rules

/// UTF-8 text that was decoded as windows-1252.
///
/// Why: the commonest mojibake in scraped pages.
/// Example: `donâ€™t` -> `don’t`
/// Risk: Latin-1 text with an accented capital before a symbol (`Ã©`); guarded by the badness score.
pub static UTF8_AS_CP1252: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-cp1252",
    "UTF-8 read as windows-1252",
);

/// UTF-8 text decoded as ISO-8859-1, with C1 control characters.
///
/// Why: Latin-1 decoders keep bytes 0x80-0x9F as invisible C1 controls.
/// Example: `Ã\u{89}tat` -> `État`
/// Risk: none known; C1 controls never belong in text.
pub static UTF8_AS_LATIN1: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-latin1",
    "UTF-8 read as ISO-8859-1",
);

/// UTF-8 text decoded as windows-1251.
///
/// Why: Russian sites and tools default to windows-1251.
/// Example: `РџСѓС‚РёРЅ` -> `Путин`
/// Risk: Cyrillic capitals before `ё`, `і`, `»`; only words fully explained and implausible are touched.
pub static UTF8_AS_CP1251: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-cp1251",
    "UTF-8 read as windows-1251",
);

/// UTF-8 text decoded as windows-1250.
///
/// Why: Central European pages (Polish, Czech) default to windows-1250.
/// Example: `ĹĽĂłĹ‚w` -> `żółw`
/// Risk: capitals such as `ÓŁ` in all-caps Polish; their repair is implausible and refused.
pub static UTF8_AS_CP1250: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-cp1250",
    "UTF-8 read as windows-1250",
);

/// UTF-8 text decoded as ISO-8859-2.
///
/// Why: the older Central European standard, C1 controls included.
/// Example: `Ĺ\u{81}ĂłdĹş` -> `Łódź`
/// Risk: as for windows-1250.
pub static UTF8_AS_ISO8859_2: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-iso8859-2",
    "UTF-8 read as ISO-8859-2",
);

/// UTF-8 text decoded as windows-1253.
///
/// Why: Greek pages.
/// Example: `Ξ‘ΞΈΞ®Ξ½Ξ±` -> `Αθήνα`
/// Risk: Greek capitals before `Ά`-style letters; refused unless implausible.
pub static UTF8_AS_CP1253: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-cp1253",
    "UTF-8 read as windows-1253",
);

/// UTF-8 text decoded as windows-1254.
///
/// Why: Turkish pages.
/// Example: `Ä°stanbul` -> `İstanbul`
/// Risk: as for windows-1252.
pub static UTF8_AS_CP1254: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-cp1254",
    "UTF-8 read as windows-1254",
);

/// UTF-8 text decoded as windows-1257.
///
/// Why: Baltic pages.
/// Example: `LietuvÄ—` -> `Lietuvė`
/// Risk: as for windows-1252.
pub static UTF8_AS_CP1257: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-cp1257",
    "UTF-8 read as windows-1257",
);

/// UTF-8 text decoded as Mac OS Roman.
///
/// Why: old Mac tools and mail.
/// Example: `caf√©` -> `café`
/// Risk: math with `√` before a symbol; refused unless implausible.
pub static UTF8_AS_MAC_ROMAN: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-mac-roman",
    "UTF-8 read as Mac OS Roman",
);

/// UTF-8 text decoded as code page 437.
///
/// Why: DOS consoles and some log pipelines.
/// Example: `caf├⌐` -> `café`
/// Risk: box drawing next to letters in real text (rare).
pub static UTF8_AS_CP437: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-cp437",
    "UTF-8 read as code page 437",
);

/// UTF-8 text decoded as KOI8-R.
///
/// Why: Russian Unix tools and mail.
/// Example: `п÷я┐я┌п╦п╫` -> `Путин`
/// Risk: box drawing next to letters in real text (rare).
pub static UTF8_AS_KOI8R: Rule =
    Rule::new(Stage::Mojibake, "utf8-as-koi8r", "UTF-8 read as KOI8-R");

/// UTF-8 text decoded as KOI8-U.
///
/// Why: Ukrainian Unix tools and mail.
/// Example: `п╠я√п╩я√` -> `білі`
/// Risk: as for KOI8-R.
pub static UTF8_AS_KOI8U: Rule =
    Rule::new(Stage::Mojibake, "utf8-as-koi8u", "UTF-8 read as KOI8-U");

/// UTF-8 text decoded as code page 866.
///
/// Why: Russian DOS and Windows consoles.
/// Example: `╨Я╤Г╤В╨╕╨╜` -> `Путин`
/// Risk: box drawing next to letters in real text (rare).
pub static UTF8_AS_CP866: Rule = Rule::new(
    Stage::Mojibake,
    "utf8-as-cp866",
    "UTF-8 read as code page 866",
);

/// UTF-8 read as windows-1252 with a byte lost on the way: a third byte
/// dropped or turned into `?` or U+FFFD, or a NO-BREAK SPACE byte turned
/// into a plain space.
///
/// Why: decoders drop the bytes windows-1252 does not define (0x81, 0x8D,
/// 0x8F, 0x90, 0x9D), so `”` (E2 80 9D) often arrives as `â€` or `â€�`.
/// Example: `â€œHiâ€�` -> `“Hi”`, `GrÃ cies` -> `Gràcies`
/// Risk: the lost byte is inferred (from the undefined bytes, the context
/// and, for Cyrillic, letter pairs); when no candidate is clearly best the
/// character becomes U+FFFD.
pub static SLOPPY_UTF8_AS_CP1252: Rule = Rule::new(
    Stage::Mojibake,
    "sloppy-utf8-as-cp1252",
    "UTF-8 read as windows-1252, with a byte lost",
);

/// Windows-1251 Cyrillic shown as windows-1252 or Latin-1.
///
/// Why: legacy Russian pages served without a charset.
/// Example: `Ïóòèí` -> `Путин`
/// Risk: words of accented Latin letters only (Icelandic `þú`); needs words
/// of 3+ letters and a Russian/Ukrainian letter-pair score.
pub static CP1251_AS_CP1252: Rule = Rule::new(
    Stage::Mojibake,
    "cp1251-as-cp1252",
    "windows-1251 Cyrillic read as windows-1252",
);

/// KOI8 Cyrillic shown as windows-1252 or Latin-1.
///
/// Why: Russian mail and Unix text served without a charset.
/// Example: `ðÕÔÉÎ` -> `Путин`
/// Risk: as for `cp1251-as-cp1252`.
pub static KOI8_AS_CP1252: Rule = Rule::new(
    Stage::Mojibake,
    "koi8-as-cp1252",
    "KOI8 Cyrillic read as windows-1252",
);

/// KOI8 Cyrillic shown as windows-1251.
///
/// Why: the classic Russian codepage swap.
/// Example: `рХФЙО` -> `Путин`
/// Risk: brand names with odd capitals (`МегаФон`); the swapped reading
/// must score far better as Russian/Ukrainian.
pub static KOI8_AS_CP1251: Rule = Rule::new(
    Stage::Mojibake,
    "koi8-as-cp1251",
    "KOI8 Cyrillic read as windows-1251",
);

/// Windows-1251 Cyrillic shown as KOI8-R.
///
/// Why: the classic Russian codepage swap, the other way.
/// Example: `оСРХМ` -> `Путин`
/// Risk: as for `koi8-as-cp1251`.
pub static CP1251_AS_KOI8: Rule = Rule::new(
    Stage::Mojibake,
    "cp1251-as-koi8",
    "windows-1251 Cyrillic read as KOI8-R",
);

/// Cp866 (DOS) Cyrillic shown as windows-1251.
///
/// Why: DOS-era Russian files opened in Windows tools.
/// Example: `ЏгвЁ\u{AD}` -> `Путин`
/// Risk: as for `koi8-as-cp1251`.
pub static CP866_AS_CP1251: Rule = Rule::new(
    Stage::Mojibake,
    "cp866-as-cp1251",
    "cp866 Cyrillic read as windows-1251",
);

/// Windows-1251 Cyrillic shown as cp866.
///
/// Why: Windows Russian text printed on a DOS console.
/// Example: `╧єЄшэ` -> `Путин`
/// Risk: as for `koi8-as-cp1251`.
pub static CP1251_AS_CP866: Rule = Rule::new(
    Stage::Mojibake,
    "cp1251-as-cp866",
    "windows-1251 Cyrillic read as cp866",
);

/// Letters lost on the way, each turned into `?`.
///
/// Why: a conversion to a codepage without the letters (Cyrillic into
/// Latin-1) writes `?` for each. Repaired only when the document itself
/// leaves one answer (a date with `?` for the month name, and the
/// document's own numeric date); otherwise a finding, or U+FFFD with
/// `--lossy mark`.
/// Example: `10 ??????? 2015 ?.` -> `10 октября 2015 г.` (document dated `14/10/2015`)
/// Risk: `???` as emphasis is attached to a word and not matched; a
/// spaced `??` run in a line with no other loss is left alone.
pub static LOSSY_QUESTION_MARKS: Rule = Rule::new(
    Stage::Mojibake,
    "lossy-question-marks",
    "letters lost, turned into `?`",
);

/// The rules of this stage.
pub static RULES: &[&Rule] = &[
    &UTF8_AS_CP1252,
    &UTF8_AS_LATIN1,
    &UTF8_AS_CP1251,
    &UTF8_AS_CP1250,
    &UTF8_AS_ISO8859_2,
    &UTF8_AS_CP1253,
    &UTF8_AS_CP1254,
    &UTF8_AS_CP1257,
    &UTF8_AS_MAC_ROMAN,
    &UTF8_AS_CP437,
    &UTF8_AS_KOI8R,
    &UTF8_AS_KOI8U,
    &UTF8_AS_CP866,
    &SLOPPY_UTF8_AS_CP1252,
    &CP1251_AS_CP1252,
    &KOI8_AS_CP1252,
    &KOI8_AS_CP1251,
    &CP1251_AS_KOI8,
    &CP866_AS_CP1251,
    &CP1251_AS_CP866,
    &LOSSY_QUESTION_MARKS,
];

// ---------------------------------------------------------------- codepages

const NCP: usize = 13;
const CP1252: usize = 0;
const LATIN1: usize = 1;
const CP1251: usize = 2;
const KOI8R: usize = 10;
const KOI8U: usize = 11;
const CP866: usize = 12;

/// Where a codepage's table comes from.
enum Source {
    Whatwg(&'static Encoding),
    Latin1,
    Cp437,
}

struct CpDef {
    /// Name used in details (`utf-8 read as windows-1252`).
    name: &'static str,
    rule: &'static Rule,
    source: Source,
}

/// In priority order: on equal evidence the first wins.
static CPS: [CpDef; NCP] = [
    CpDef {
        name: "windows-1252",
        rule: &UTF8_AS_CP1252,
        source: Source::Whatwg(encoding_rs::WINDOWS_1252),
    },
    CpDef {
        name: "iso-8859-1",
        rule: &UTF8_AS_LATIN1,
        source: Source::Latin1,
    },
    CpDef {
        name: "windows-1251",
        rule: &UTF8_AS_CP1251,
        source: Source::Whatwg(encoding_rs::WINDOWS_1251),
    },
    CpDef {
        name: "windows-1250",
        rule: &UTF8_AS_CP1250,
        source: Source::Whatwg(encoding_rs::WINDOWS_1250),
    },
    CpDef {
        name: "iso-8859-2",
        rule: &UTF8_AS_ISO8859_2,
        source: Source::Whatwg(encoding_rs::ISO_8859_2),
    },
    CpDef {
        name: "windows-1253",
        rule: &UTF8_AS_CP1253,
        source: Source::Whatwg(encoding_rs::WINDOWS_1253),
    },
    CpDef {
        name: "windows-1254",
        rule: &UTF8_AS_CP1254,
        source: Source::Whatwg(encoding_rs::WINDOWS_1254),
    },
    CpDef {
        name: "windows-1257",
        rule: &UTF8_AS_CP1257,
        source: Source::Whatwg(encoding_rs::WINDOWS_1257),
    },
    CpDef {
        name: "mac-roman",
        rule: &UTF8_AS_MAC_ROMAN,
        source: Source::Whatwg(encoding_rs::MACINTOSH),
    },
    CpDef {
        name: "cp437",
        rule: &UTF8_AS_CP437,
        source: Source::Cp437,
    },
    CpDef {
        name: "koi8-r",
        rule: &UTF8_AS_KOI8R,
        source: Source::Whatwg(encoding_rs::KOI8_R),
    },
    CpDef {
        name: "koi8-u",
        rule: &UTF8_AS_KOI8U,
        source: Source::Whatwg(encoding_rs::KOI8_U),
    },
    CpDef {
        name: "cp866",
        rule: &UTF8_AS_CP866,
        source: Source::Whatwg(encoding_rs::IBM866),
    },
];

/// Characters below this have table entries; the few above (mac-roman's
/// `ﬁ ﬂ`) are in `extra`.
const LIMIT: usize = 0x2600;

// Bits of a character's info word.
const LEAD_SHIFT: u32 = 0; // 13 bits: codepages where it is a UTF-8 lead byte
const CONT_SHIFT: u32 = 13; // 13 bits: codepages where it is a continuation byte
const MASK13: u64 = (1 << NCP) - 1;
const LEG: u64 = 1 << 26; // a windows-1252 byte >= 0xC0 (a legacy Cyrillic letter)
const CYR_LO: u64 = 1 << 27;
const CYR_UP: u64 = 1 << 28;
const BOXY: u64 = 1 << 29;
const PLAIN_CYR: u64 = 1 << 30;
const SLOPPY_LEAD: u64 = 1 << 31;
const LATIN: u64 = 1 << 32;

struct Tables {
    /// Decoding of bytes 0x80..=0xFF per codepage; `'\0'` = undefined.
    high: [[char; 128]; NCP],
    /// Encoding of chars 0x80..LIMIT per codepage; 0 = not encodable.
    enc: Vec<[u8; NCP]>,
    info: Vec<u64>,
    /// `info` of U+0400..U+047F (lead bytes 0xD0 and 0xD1), by [`cyr_index`].
    cyr: [u64; 128],
    /// [`rarity_slow`] of chars 0x80..LIMIT.
    rare: Vec<u8>,
    class: Vec<K>,
    extra: Vec<(char, [u8; NCP])>,
    /// Letter-pair log probabilities, `NL * NL`.
    bigram: Vec<f32>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(build_tables);

fn build_tables() -> Tables {
    let mut high = [['\0'; 128]; NCP];
    for (k, def) in CPS.iter().enumerate() {
        for b in 0x80u8..=0xFF {
            let c = match def.source {
                Source::Latin1 => char::from(b),
                Source::Cp437 => tables::CP437_HIGH[usize::from(b - 0x80)],
                Source::Whatwg(e) => {
                    let bytes = [b];
                    let (s, _) = e.decode_without_bom_handling(&bytes);
                    s.chars()
                        .next()
                        .filter(|&c| c != '\u{FFFD}')
                        .unwrap_or('\0')
                }
            };
            high[k][usize::from(b - 0x80)] = c;
        }
    }
    let mut enc = vec![[0u8; NCP]; LIMIT - 0x80];
    let mut extra: Vec<(char, [u8; NCP])> = Vec::new();
    for (k, row) in high.iter().enumerate() {
        for (j, &c) in row.iter().enumerate() {
            if c == '\0' {
                continue;
            }
            let b = 0x80 + j as u8;
            let u = c as usize;
            if (0x80..LIMIT).contains(&u) {
                enc[u - 0x80][k] = b;
            } else if u >= LIMIT {
                match extra.iter_mut().find(|e| e.0 == c) {
                    Some(e) => e.1[k] = b,
                    None => {
                        let mut a = [0u8; NCP];
                        a[k] = b;
                        extra.push((c, a));
                    }
                }
            }
        }
    }
    // Each character's class once: `info` and `class` both need it. In
    // `NO_CLASS` (no Latin letters there) the class is worked out when
    // asked: the Unicode look-ups cost more than the rare use.
    let class: Vec<K> = (0x80..LIMIT as u32)
        .map(|u| {
            if NO_CLASS.contains(&u) {
                K::Other
            } else {
                char::from_u32(u).map_or(K::Other, class_slow)
            }
        })
        .collect();
    let mut info = vec![0u64; LIMIT - 0x80];
    for (j, slot) in info.iter_mut().enumerate() {
        let c = char::from_u32((j + 0x80) as u32).unwrap_or('\0');
        let mut v = masks(&enc[j]);
        if enc[j][CP1252] >= 0xC0 || enc[j][LATIN1] >= 0xC0 {
            v |= LEG;
        }
        if is_cyr_lower(c) {
            v |= CYR_LO;
        }
        if is_cyr_upper(c) {
            v |= CYR_UP;
        }
        if is_boxy(c) {
            v |= BOXY;
        }
        if plain_cyr_index(c).is_some() {
            v |= PLAIN_CYR;
        }
        if matches!(c, 'Â' | 'Ã' | 'Ð' | 'Ñ' | 'â') {
            v |= SLOPPY_LEAD;
        }
        if matches!(class[j], K::LatLo | K::LatUp) {
            v |= LATIN;
        }
        *slot = v;
    }
    let mut cyr = [0u64; 128];
    for (k, slot) in cyr.iter_mut().enumerate() {
        *slot = info[0x400 + k - 0x80];
    }
    let rare = (0x80..LIMIT as u32)
        .map(|u| char::from_u32(u).map_or(0, |c| rarity_slow(c) as u8))
        .collect();
    Tables {
        high,
        enc,
        cyr,
        rare,
        info,
        class,
        extra,
        bigram: build_bigram(),
    }
}

fn masks(bytes: &[u8; NCP]) -> u64 {
    let mut v = 0;
    for (k, &b) in bytes.iter().enumerate() {
        if (0xC2..=0xF4).contains(&b) {
            v |= 1 << (LEAD_SHIFT + k as u32);
        } else if (0x80..=0xBF).contains(&b) {
            v |= 1 << (CONT_SHIFT + k as u32);
        }
    }
    v
}

impl Tables {
    #[inline]
    fn info(&self, c: char) -> u64 {
        let u = c as usize;
        if u < 0x80 {
            0
        } else if u < LIMIT {
            self.info[u - 0x80]
        } else {
            self.extra
                .iter()
                .find(|e| e.0 == c)
                .map_or(0, |e| masks(&e.1))
        }
    }

    /// The byte of `c` in codepage `cp` (ASCII maps to itself).
    #[inline]
    fn enc(&self, cp: usize, c: char) -> Option<u8> {
        let u = c as usize;
        let b = if u < 0x80 {
            return Some(u as u8);
        } else if u < LIMIT {
            self.enc[u - 0x80][cp]
        } else {
            self.extra.iter().find(|e| e.0 == c).map_or(0, |e| e.1[cp])
        };
        (b != 0).then_some(b)
    }

    #[inline]
    fn dec(&self, cp: usize, b: u8) -> Option<char> {
        if b < 0x80 {
            return Some(char::from(b));
        }
        let c = self.high[cp][usize::from(b - 0x80)];
        (c != '\0').then_some(c)
    }
}

// ---------------------------------------------------------------- character classes

fn is_cyr_lower(c: char) -> bool {
    matches!(c, '\u{430}'..='\u{45F}' | 'ґ')
}

fn is_cyr_upper(c: char) -> bool {
    matches!(c, '\u{400}'..='\u{42F}' | 'Ґ')
}

fn is_boxy(c: char) -> bool {
    matches!(
        c,
        '\u{2500}'
            ..='\u{25A0}'
                | '⌐'
                | '⌠'
                | '⌡'
                | '∙'
                | '√'
                | '≈'
                | '≤'
                | '≥'
                | '≡'
                | '∩'
                | '∞'
                | 'ⁿ'
                | '₧'
    )
}

/// Punctuation that may stand next to a damaged word without being part of it.
fn is_clean_punct(c: char) -> bool {
    matches!(
        c,
        '“' | '”'
            | '‘'
            | '’'
            | '«'
            | '»'
            | '„'
            | '–'
            | '—'
            | '…'
            | '\u{A0}'
            | '‹'
            | '›'
            | '•'
            | '№'
    )
}

fn is_quote(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | '`'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '«'
            | '»'
            | '„'
            | '‹'
            | '›'
            | '('
            | ')'
            | '['
            | ']'
    )
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum K {
    Space,
    AsciiLetter,
    Digit,
    AsciiPunct,
    LatLo,
    LatUp,
    CyrLo,
    CyrUp,
    GrLo,
    GrUp,
    OtherLetter,
    Punct,
    Sym,
    Boxy,
    C1,
    Repl,
    Other,
}

/// Characters with no entry in `Tables::class` (Armenian to Mongolian and
/// the like): no codepage maps to them, and none is a Latin letter.
const NO_CLASS: Range<u32> = 0x530..0x1E00;

/// The class of `c`: a table look-up below U+2600 (but [`NO_CLASS`]).
#[inline]
fn class(c: char) -> K {
    let u = c as usize;
    if u < 0x80 {
        match c {
            ' ' | '\t' | '\n' | '\r' => K::Space,
            'a'..='z' | 'A'..='Z' => K::AsciiLetter,
            '0'..='9' => K::Digit,
            _ => K::AsciiPunct,
        }
    } else if u < LIMIT && !NO_CLASS.contains(&(u as u32)) {
        TABLES.class[u - 0x80]
    } else {
        class_slow(c)
    }
}

fn class_slow(c: char) -> K {
    match c {
        ' ' | '\t' | '\n' | '\r' | '\u{A0}' => K::Space,
        'a'..='z' | 'A'..='Z' => K::AsciiLetter,
        '0'..='9' => K::Digit,
        '\0'..='\u{7F}' => K::AsciiPunct,
        '\u{80}'..='\u{9F}' => K::C1,
        '\u{FFFD}' => K::Repl,
        '“' | '”' | '‘' | '’' | '«' | '»' | '„' | '‚' | '–' | '—' | '…' | '‹' | '›' | '¿' | '¡'
        | '·' | '•' => K::Punct,
        'ª' | 'º' | 'µ' | 'ƒ' | '\u{AD}' | 'ˆ' | '˜' | '˚' | 'ˇ' | '˘' | '˙' | '˛' | '˝' | '΄'
        | '΅' | '¨' | '¯' | '´' | '¸' => K::Sym,
        _ if is_boxy(c) => K::Boxy,
        'À'..='Ö' | 'Ø'..='Þ' => K::LatUp,
        'ß'..='ö' | 'ø'..='ÿ' => K::LatLo,
        '\u{100}'..='\u{24F}' | '\u{1E00}'..='\u{1EFF}' => {
            if c.is_lowercase() {
                K::LatLo
            } else {
                K::LatUp
            }
        }
        '\u{386}'..='\u{3FF}' => {
            if c.is_lowercase() {
                K::GrLo
            } else if c.is_uppercase() {
                K::GrUp
            } else {
                K::Sym
            }
        }
        _ if is_cyr_upper(c) => K::CyrUp,
        _ if is_cyr_lower(c) => K::CyrLo,
        '\u{A1}'..='\u{BF}' | '×' | '÷' | '\u{2000}'..='\u{2BFF}' => K::Sym,
        _ if c.is_alphabetic() => K::OtherLetter,
        _ => K::Other,
    }
}

fn script(k: K) -> u8 {
    match k {
        K::AsciiLetter | K::LatLo | K::LatUp => 2,
        K::CyrLo | K::CyrUp => 3,
        K::GrLo | K::GrUp => 4,
        K::OtherLetter => 5,
        _ => 0,
    }
}

/// A character unlikely in real text (weight of its badness): a table
/// look-up below U+2600.
#[inline]
fn rarity(c: char) -> u32 {
    let u = c as usize;
    if (0x80..LIMIT).contains(&u) {
        u32::from(TABLES.rare[u - 0x80])
    } else {
        rarity_slow(c)
    }
}

fn rarity_slow(c: char) -> u32 {
    let u = c as u32;
    match u {
        0x80..=0x9F => 3,
        0x180..=0x24F => match u {
            0x1A0 | 0x1A1 | 0x1AF | 0x1B0 | 0x1CD..=0x1DC | 0x218..=0x21B => 0,
            _ => 2,
        },
        0x250..=0x2AF => 2,
        0x2B0..=0x2FF => 1,
        0x300..=0x36F => 2,
        0x370..=0x385 | 0x3E2..=0x3FF => 2,
        0x460..=0x48F | 0x4C0..=0x52F => 2,
        0x492..=0x4BF => 1,
        0x530..=0x58F | 0x700..=0x8FF => 2,
        0xE000..=0xF8FF | 0xFFF0..=0xFFFC => 2,
        // Blocks a stray UTF-8 sequence lands in more often than text does.
        0x0F00..=0x0FFF
        | 0x1100..=0x11FF
        | 0x1400..=0x18AF
        | 0x2800..=0x28FF
        | 0x2B00..=0x2DFF
        | 0xA000..=0xABFF
        | 0x20000..=0x10FFFF => 2,
        _ => 0,
    }
}

/// Badness: how implausible a run of characters is as text. Zero for
/// almost all real text in any script; mojibake scores one to three per
/// character pair.
fn badness(s: impl Iterator<Item = char>) -> u32 {
    let mut bad = 0;
    let mut prev: Option<(char, K)> = None;
    let mut prev2: Option<(char, K)> = None;
    for c in s {
        let k = class(c);
        bad += rarity(c);
        if k == K::Repl {
            bad += 1;
        }
        if let Some((p, pk)) = prev {
            bad += pair_badness(p, pk, c, k);
            if let Some((q, qk)) = prev2 {
                bad += triple_badness(q, qk, p, pk, c, k);
            }
        }
        prev2 = prev;
        prev = Some((c, k));
    }
    bad
}

fn is_letter(k: K) -> bool {
    script(k) != 0
}

/// A small letter, for a character of class `k`.
fn is_small(c: char, k: K) -> bool {
    match k {
        K::AsciiLetter => c.is_ascii_lowercase(),
        K::LatLo | K::CyrLo | K::GrLo => true,
        K::OtherLetter => c.is_lowercase(),
        _ => false,
    }
}

/// Patterns of three: a non-ASCII capital inside a word before a small
/// letter (`BĂźrger`), a guillemet glued between a letter and a symbol
/// (`Thá»§`).
fn triple_badness(q: char, qk: K, p: char, pk: K, c: char, k: K) -> u32 {
    let mut bad = 0;
    if is_letter(qk)
        && matches!(pk, K::LatUp | K::CyrUp | K::GrUp)
        && !p.is_ascii()
        && is_small(c, k)
    {
        bad += 3;
    }
    if is_letter(qk)
        && !q.is_ascii()
        && matches!(p, '»' | '«' | '‹' | '›')
        && !c.is_ascii()
        && !c.is_whitespace()
        && !matches!(c, '—' | '–' | '…')
    {
        bad += 2;
    }
    // A capital after a small letter, before a non-letter (`prezidentÄ—`, `nhĂ\u{A0}`).
    if (qk == K::LatLo || (qk == K::AsciiLetter && q.is_ascii_lowercase()))
        && pk == K::LatUp
        && !p.is_ascii()
        && !c.is_ascii()
        && !is_letter(k)
    {
        bad += 2;
    }
    bad
}

/// Symbols that never follow a letter directly in real text.
fn odd_after_letter(c: char) -> bool {
    matches!(
        c,
        '€' | '‚'
            | 'ƒ'
            | '„'
            | '†'
            | '‡'
            | 'ˆ'
            | '‰'
            | '‹'
            | '›'
            | '¤'
            | '¦'
            | '¨'
            | '¬'
            | '¯'
            | '´'
            | '¸'
            | '˜'
            | '¡'
            | '¿'
            | '×'
            | '÷'
            | '¹'
            | '¼'
            | '¾'
            | '¶'
            | '§'
            | '¢'
            | '£'
            | '¥'
    )
}

fn pair_badness(p: char, pk: K, c: char, k: K) -> u32 {
    use K::*;
    // `Ã` and `Â` before anything but an ASCII letter or digit: the
    // signature of UTF-8 read as Latin-1.
    if matches!(p, 'Ã' | 'Â') && !matches!(k, AsciiLetter | Digit | AsciiPunct) {
        return 3;
    }
    if p == 'Ă' && !c.is_ascii() && !is_letter(k) && c != '\u{A0}' {
        return 3;
    }
    let (ps, cs) = (script(pk), script(k));
    if ps != 0 && !p.is_ascii() && odd_after_letter(c) {
        return 3;
    }
    if ps != 0 && !p.is_ascii() && matches!(c, 'ª' | 'º') {
        return 3;
    }
    // Mac OS Roman's lead for U+0080..U+00BF.
    if p == '¬' && !c.is_ascii() && !c.is_whitespace() {
        return 3;
    }
    if ps != 0 && !p.is_ascii() && c == '\u{A0}' {
        return 1;
    }
    if matches!(pk, LatUp | CyrUp | GrUp) && !p.is_ascii() && matches!(c, '«' | '»') {
        return 1;
    }
    match (pk, k) {
        (_, C1) | (C1, _) => 0,
        // Exponents follow letters in formulas (`Π²`).
        (LatUp | CyrUp | GrUp | LatLo | CyrLo | GrLo, Sym) if matches!(c, '¹' | '²' | '³') => 0,
        (LatUp | CyrUp | GrUp, Sym) => 3,
        (LatLo | CyrLo | GrLo, Sym) => 2,
        (AsciiLetter, Sym)
            if matches!(
                c,
                '€' | '‚' | '„' | '‰' | '¤' | '¦' | '¬' | '¨' | '¸' | '¯' | '´' | '¢'
            ) =>
        {
            2
        }
        (Sym, Sym) => 1,
        (Sym, LatLo | LatUp | CyrLo | CyrUp | GrLo | GrUp) => 1,
        (Sym, Repl | AsciiPunct) if c == '?' || k == Repl => 1,
        // Math before a Greek letter is a formula (`≈π`, `√α`).
        (Boxy, GrLo | GrUp) if !('\u{2500}'..='\u{25A0}').contains(&p) => 1,
        (Boxy, _) if cs != 0 && !c.is_ascii() => 3,
        (Boxy, _) if cs != 0 => 1,
        (_, Boxy) if ps != 0 => 2,
        (Boxy, Sym | Punct) => 3,
        (Boxy, Boxy) | (Sym | Punct, Boxy) => 2,
        (Punct, Sym) if !p.is_ascii() => 2,
        (Sym, Punct) if !c.is_ascii() => 1,
        (LatUp, Punct | LatLo) if !p.is_ascii() && c as u32 >= 0x80 && k == Punct => 1,
        (CyrLo, CyrUp) | (GrLo, GrUp) => 1,
        (LatLo | AsciiLetter, LatUp) if !c.is_ascii() && is_small(p, pk) => 2,
        _ if ps != 0 && cs != 0 && ps != cs => {
            let ascii_involved = pk == AsciiLetter || k == AsciiLetter;
            match (ascii_involved, ps == 5 || cs == 5) {
                (true, true) => 0,
                (true, false) => 2,
                (false, _) => 3,
            }
        }
        _ => 0,
    }
}

// ---------------------------------------------------------------- letter pairs

/// Letters of the pair table: а..я, ё, і, ї, є, ґ, and a word boundary.
const NL: usize = 38;
const BOUNDARY: usize = 37;

fn plain_cyr_index(c: char) -> Option<usize> {
    let u = c as u32;
    let lower = match u {
        0x410..=0x42F => u + 0x20,
        0x400..=0x40F => u + 0x50,
        0x490 => 0x491,
        _ => u,
    };
    Some(match lower {
        0x430..=0x44F => (lower - 0x430) as usize,
        0x451 => 32,
        0x456 => 33,
        0x457 => 34,
        0x454 => 35,
        0x491 => 36,
        _ => return None,
    })
}

fn build_bigram() -> Vec<f32> {
    let mut counts = vec![0u32; NL * NL];
    let mut prev = BOUNDARY;
    for c in tables::CYRILLIC_SAMPLE.chars() {
        let cur = plain_cyr_index(c).unwrap_or(BOUNDARY);
        if !(cur == BOUNDARY && prev == BOUNDARY) {
            counts[prev * NL + cur] += 1;
        }
        prev = cur;
    }
    let mut out = vec![0f32; NL * NL];
    for a in 0..NL {
        let row: u32 = counts[a * NL..(a + 1) * NL].iter().sum();
        for b in 0..NL {
            let p = (counts[a * NL + b] as f32 + 0.2) / (row as f32 + 0.2 * NL as f32);
            out[a * NL + b] = p.ln();
        }
    }
    out
}

/// Sum of letter-pair log probabilities and number of pairs, over the
/// Cyrillic words of `s`. A letter outside the table costs a fixed -8.
fn pair_score(t: &Tables, s: impl Iterator<Item = char>, acc: &mut (f32, u32)) {
    pair_score_in(t, s, acc, false);
}

/// As [`pair_score`]; with `word`, `s` is one word and any non-letter in
/// it costs like a letter outside the table.
fn pair_score_in(t: &Tables, s: impl Iterator<Item = char>, acc: &mut (f32, u32), word: bool) {
    let mut prev = BOUNDARY;
    for c in s.chain(std::iter::once(' ')) {
        let cur = if is_letter(class(c)) || (word && c != ' ') {
            match plain_cyr_index(c) {
                Some(i) => i,
                None => {
                    acc.0 -= 8.0;
                    acc.1 += 1;
                    prev = BOUNDARY;
                    continue;
                }
            }
        } else {
            BOUNDARY
        };
        if !(cur == BOUNDARY && prev == BOUNDARY) {
            acc.0 += t.bigram[prev * NL + cur];
            acc.1 += 1;
        }
        prev = cur;
    }
}

fn mean(acc: (f32, u32)) -> f32 {
    if acc.1 == 0 {
        -99.0
    } else {
        acc.0 / acc.1 as f32
    }
}

/// Lower-case letter followed by a capital inside a Cyrillic word.
fn case_anomalies(s: &str) -> usize {
    let mut n = 0;
    let mut prev_lower = false;
    for c in s.chars() {
        if is_cyr_upper(c) && prev_lower {
            n += 1;
        }
        prev_lower = is_cyr_lower(c);
    }
    n
}

// ---------------------------------------------------------------- the stage

/// Finds this stage's edits in `text`.
///
/// A repair changes the line around it, and with it the evidence for
/// another span of the same line, so a second run could repair what the
/// first left. The stage reads its own result again until it is stable
/// (`edit::settle`, at most [`MAX_PASSES`] passes; if that is not enough it
/// repairs nothing and keeps its findings), so a second run changes nothing.
pub(crate) fn find(text: &str, cx: &Context<'_>, out: &mut Vec<Edit>) {
    let first = out.len();
    find_once(text, cx, out);
    if out[first..].iter().all(|e| e.kind() == EditKind::Finding) {
        return;
    }
    let mine = out.split_off(first);
    match crate::edit::settle(text, mine.clone(), MAX_PASSES, |t, o| find_once(t, cx, o)) {
        Some(edits) => out.extend(edits),
        None => out.extend(mine.into_iter().filter(|e| e.kind() == EditKind::Finding)),
    }
}

/// Passes of the stage over its own result, at most (see [`find`]).
const MAX_PASSES: usize = 4;

/// One pass of the stage over `text`.
fn find_once(text: &str, cx: &Context<'_>, out: &mut Vec<Edit>) {
    let has_lossy = memmem::find(text.as_bytes(), b"??").is_some();
    if text.is_ascii() {
        if has_lossy {
            lossy(text, cx, out);
        }
        return;
    }
    let t = &*TABLES;
    let first = out.len();
    let mut scratch = Scratch::default();
    let mut st = Scan::default();
    let mut i = 0;
    while let Some(at) = next_trigger::<true>(text, i, t, &mut st) {
        i = line_and_next(text, at, t, &mut scratch, out);
    }
    if has_lossy {
        let mut lossy_edits = Vec::new();
        lossy(text, cx, &mut lossy_edits);
        let done: Vec<Range<usize>> = out[first..].iter().map(Edit::span).collect();
        lossy_edits.retain(|e| {
            let s = e.span();
            !done.iter().any(|d| d.start < s.end && s.start < d.end)
        });
        out.extend(lossy_edits);
    }
}

/// What the scan for triggers carries from one character to the next.
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct Scan {
    /// Info of the previous character (0 after ASCII or a trigger).
    prev: u64,
    /// Whether the character before `prev` is a Latin letter.
    latin2: bool,
    /// Whether the previous character is a Latin letter.
    prev_latin: bool,
    /// windows-1252 letters of 0xC0.. in a row.
    leg_run: u32,
    /// Cyrillic capitals in a row.
    caps_run: u32,
}

/// The next byte at or after `i` where a line must be looked at closely
/// (the scan resumes from where [`line_and_next`] says, with `st` as left),
/// or `None` at the end of `text`.
///
/// With `FAST`, plain Cyrillic words after ASCII are passed in bulk by
/// [`clean_cyr_prefix`] and other runs of plain Cyrillic letters by
/// [`plain_cyr_run`]; without it (tests only), every character goes
/// through the general per-character step, which defines the result.
#[inline]
fn next_trigger<const FAST: bool>(
    text: &str,
    mut i: usize,
    t: &Tables,
    st: &mut Scan,
) -> Option<usize> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    while i < n {
        let b = bytes[i];
        if b < 0x80 {
            if st.prev & SLOPPY_LEAD != 0 && (b == b' ' || b == b'?') {
                st.prev = 0;
                return Some(i);
            }
            // The rest of an ASCII run changes nothing but the last byte.
            let j = ascii_run_end(bytes, i + 1);
            st.prev = 0;
            st.prev_latin = bytes[j - 1].is_ascii_alphabetic();
            st.leg_run = 0;
            st.caps_run = 0;
            i = j;
            if FAST && bytes.get(j).is_some_and(|&b| b & 0xFE == 0xD0) {
                // After ASCII: plain Cyrillic words in bulk.
                let a = clean_cyr_prefix(bytes, j);
                if a != j {
                    st.prev_latin = bytes[a - 1].is_ascii_alphabetic();
                    st.latin2 = false;
                    i = a;
                }
            }
            continue;
        }
        if FAST {
            let j = plain_cyr_run(bytes, i, t, st);
            if j != i {
                i = j;
                continue;
            }
        }
        // Decode by hand: `text` is valid UTF-8, `b` is a lead byte.
        let cont = |k: usize| u32::from(bytes.get(i + k).copied().unwrap_or(0x80) & 0x3F);
        let (u, len) = if b < 0xE0 {
            ((u32::from(b & 0x1F) << 6) | cont(1), 2)
        } else if b < 0xF0 {
            ((u32::from(b & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
        } else {
            (
                (u32::from(b & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
                4,
            )
        };
        let info = if (u as usize) < LIMIT {
            t.info[u as usize - 0x80]
        } else {
            char::from_u32(u).map_or(0, |c| t.info(c))
        };
        let prev = st.prev;
        let lead_cont = prev & (info >> CONT_SHIFT) & MASK13;
        st.leg_run = if info & LEG != 0 { st.leg_run + 1 } else { 0 };
        st.caps_run = if info & CYR_UP != 0 {
            st.caps_run + 1
        } else {
            0
        };
        let cyr = CYR_LO | CYR_UP;
        // Cheap signs, all evaluated (no branches between them).
        let sign = (st.leg_run >= 3)
            | (st.caps_run >= 6)
            | ((prev & CYR_LO != 0) & (info & CYR_UP != 0))
            | ((info & BOXY != 0) & (prev & cyr != 0))
            | ((prev & BOXY != 0) & (info & cyr != 0))
            | ((u == 0xFFFD) & (prev != 0));
        // Two plain Cyrillic letters are clean Russian or Ukrainian unless
        // glued to a Latin letter (`SГёren`).
        let both_plain = (prev & info & PLAIN_CYR != 0) & !st.latin2;
        // One well-predicted branch: almost always false in clean text.
        if (sign | ((lead_cont != 0) & !both_plain)) && (sign || sequence_at(text, i, t, lead_cont))
        {
            st.prev = 0;
            st.leg_run = 0;
            st.caps_run = 0;
            return Some(i);
        }
        st.latin2 = st.prev_latin;
        st.prev_latin = info & LATIN != 0;
        st.prev = info;
        i += len;
    }
    None
}

/// Reads plain Cyrillic letters (U+0400..U+047F) from `i` for as long as
/// the general step of [`next_trigger`] would pass them without a
/// trigger, updating `st` as it would; returns where it stopped (`i` when
/// it read nothing).
///
/// Such a letter is no trigger when it follows ASCII or a character with
/// no info (no codepage pair, no sign), or another plain letter not glued
/// to a Latin one (`both_plain`), unless it is a capital after a small
/// letter or the sixth capital in a row. Plain letters are never `LEG`,
/// `BOXY`, `LATIN` or `SLOPPY_LEAD` (checked by a test), so the rest of the
/// step has nothing to add. This is most of the time in Russian text.
#[inline(never)]
fn plain_cyr_run(bytes: &[u8], i: usize, t: &Tables, st: &mut Scan) -> usize {
    let Some(rest) = bytes.get(i..) else {
        return i;
    };
    // The first letter, after anything.
    let (b0, b1, mut rest) = match rest {
        [b0, b1, tail @ ..] => (*b0, *b1, tail),
        _ => return i,
    };
    if b0 & 0xFE != 0xD0 {
        return i;
    }
    let info = t.cyr[cyr_index(b0, b1)];
    let prev = st.prev;
    let after_ok = prev == 0 || (prev & PLAIN_CYR != 0 && !st.latin2);
    let upper = info & CYR_UP != 0;
    let caps = if upper { st.caps_run + 1 } else { 0 };
    if info & PLAIN_CYR == 0 || !after_ok || caps >= 6 || (upper && prev & CYR_LO != 0) {
        return i;
    }
    st.leg_run = 0;
    st.latin2 = st.prev_latin;
    st.prev_latin = false;
    if st.latin2 {
        // The next letter is glued to a Latin one: the general step decides.
        st.caps_run = caps;
        st.prev = info;
        return i + 2;
    }
    // From here the previous character is a plain letter not glued to a
    // Latin one (so `latin2` stays false), and a capital exactly when
    // `caps > 0`: only the capitals rule is left to check.
    let mut caps = caps;
    let mut prev = info;
    while let &[b0, b1, ref tail @ ..] = rest {
        if b0 & 0xFE != 0xD0 {
            break;
        }
        let info = t.cyr[cyr_index(b0, b1)];
        if info & PLAIN_CYR == 0 {
            break;
        }
        if info & CYR_UP != 0 {
            if caps == 0 || caps >= 5 {
                break;
            }
            caps += 1;
        } else {
            caps = 0;
        }
        prev = info;
        rest = tail;
    }
    st.caps_run = caps;
    st.prev = prev;
    bytes.len() - rest.len()
}

/// Whether the byte `b` (after `p`, before `c`) keeps a stretch of text
/// from being provably trigger-free (see [`clean_cyr_prefix`]): a lead
/// byte of anything but a letter `А`..`я` (U+0410..U+044F, all plain), or
/// of a letter right after an ASCII letter, or of a capital after anything
/// but an ASCII non-letter. (`ё`, `і` and the like are plain too, but rare
/// enough to leave to the per-character step.)
#[inline(always)]
fn cyr_bad(p: u8, b: u8, c: u8) -> bool {
    let d0 = b == 0xD0;
    let lead = b & 0xFE == 0xD0;
    // `c` is a continuation byte after 0xD0 or 0xD1: D0 90..BF is А..п,
    // D1 80..8F is р..я; the capitals are D0 90..AF.
    let high = c >= 0x90;
    let letter = d0 == high;
    let upper = d0 & (c < 0xB0);
    let p_letter = (p | 0x20).wrapping_sub(b'a') < 26;
    let other_lead = (b >= 0xC0) & !lead;
    other_lead | (lead & (!letter | p_letter | (upper & (p >= 0x80))))
}

/// Bit `k` set when `cyr_bad(w[k], w[k + 1], w[k + 2])`: flags computed
/// side by side (the compiler vectorises the loop), then gathered eight at
/// a time by a multiplication.
#[inline(always)]
fn cyr_bad_mask(w: &[u8; 34]) -> u32 {
    let mut f = [0u8; 32];
    for (k, slot) in f.iter_mut().enumerate() {
        *slot = u8::from(cyr_bad(w[k], w[k + 1], w[k + 2]));
    }
    let mut m = 0u32;
    for (q, c) in f.chunks_exact(8).enumerate() {
        let mut x = [0u8; 8];
        x.copy_from_slice(c);
        // Byte `i` (0 or 1) lands on bit `i` of the top byte; no carries.
        let bits = u64::from_le_bytes(x).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        m |= (bits as u32) << (8 * q);
    }
    m
}

/// The end of the longest stretch of `bytes` from `s` (a character right
/// after an ASCII byte, with the scan in the state that byte leaves) that
/// [`next_trigger`] passes without a trigger, by a test that reads 32
/// bytes at a time; cut just after an ASCII byte, so that the scan goes on
/// in the state that byte leaves (and `latin2` false). `s` when there is
/// no such stretch.
///
/// A stretch qualifies when every non-ASCII character in it is a plain
/// Cyrillic letter (of `А`..`я`), none follows an ASCII letter, and
/// every capital follows an ASCII non-letter. Then each letter either
/// follows ASCII (no info before it: no pair, no sign; at most one capital
/// in a row) or a small plain letter, itself not after a Latin letter
/// (`both_plain`, no sign), and no ASCII byte follows a `SLOPPY_LEAD`.
#[inline(never)]
fn clean_cyr_prefix(bytes: &[u8], s: usize) -> usize {
    let n = bytes.len();
    let mut k = s;
    let mut bad = None;
    while let Some(w) = k
        .checked_sub(1)
        .and_then(|p| bytes.get(p..))
        .and_then(<[u8]>::first_chunk::<34>)
    {
        let m = cyr_bad_mask(w);
        if m != 0 {
            bad = Some(k + m.trailing_zeros() as usize);
            break;
        }
        k += 32;
    }
    let end = bad.unwrap_or_else(|| {
        // The last bytes, one at a time.
        let at = |j: usize| bytes.get(j).copied().unwrap_or(0x80);
        (k..n)
            .find(|&j| cyr_bad(at(j.wrapping_sub(1)), bytes[j], at(j + 1)))
            .unwrap_or(n)
    });
    match bytes[s..end].iter().rposition(|&b| b < 0x80) {
        Some(r) => s + r + 1,
        None => s,
    }
}

/// The index in `Tables::cyr` of the character `b0 b1`, for `b0` 0xD0 or 0xD1.
#[inline(always)]
fn cyr_index(b0: u8, b1: u8) -> usize {
    (usize::from(b0 & 1) << 6) | usize::from(b1 & 0x3F)
}

/// The end of the run of ASCII bytes that starts at `i`: a first word of
/// eight bytes (most runs in non-Latin text are a space or two), then 32
/// bytes at a time, then eight.
fn ascii_run_end(bytes: &[u8], mut i: usize) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |k: usize| {
        bytes
            .get(k..)
            .and_then(<[u8]>::first_chunk::<8>)
            .map(|w| u64::from_le_bytes(*w))
    };
    if let Some(w) = word(i) {
        if w & HIGH != 0 {
            return i + ((w & HIGH).trailing_zeros() / 8) as usize;
        }
        i += 8;
        while let Some(block) = bytes.get(i..).and_then(<[u8]>::first_chunk::<32>) {
            let any = block.iter().fold(0u8, |a, &b| a | b);
            if any >= 0x80 {
                break;
            }
            i += 32;
        }
    }
    while let Some(w) = word(i) {
        if w & HIGH != 0 {
            return i + ((w & HIGH).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i] < 0x80 {
        i += 1;
    }
    i
}

/// Whether a full UTF-8 sequence (in one of the codepages of `cps`) ends
/// at the character at `at`, not made only of plain Cyrillic letters
/// (clean Russian and Ukrainian give such sequences in KOI8 and cp866).
fn sequence_at(text: &str, at: usize, t: &Tables, cps: u64) -> bool {
    let before = &text[..at];
    let mut back = before.chars().rev();
    let Some(lead) = back.next() else {
        return false;
    };
    // Plain Cyrillic pairs count only glued to a Latin letter (`SГёren`).
    let latin_before = back
        .next()
        .is_some_and(|c| matches!(class(c), K::AsciiLetter | K::LatLo | K::LatUp));
    let tail = text[at..].chars().take(3);
    for cp in 0..NCP {
        if cps & (1 << cp) == 0 {
            continue;
        }
        let Some(b) = t.enc(cp, lead) else { continue };
        let need = utf8_need(b);
        let mut buf = [b, 0, 0, 0];
        let mut plain = t.info(lead) & PLAIN_CYR != 0;
        let mut k = 0;
        for c in tail.clone() {
            if k == need {
                break;
            }
            match t.enc(cp, c) {
                Some(x) if c as u32 >= 0x80 && (0x80..=0xBF).contains(&x) => {
                    buf[k + 1] = x;
                    plain &= t.info(c) & PLAIN_CYR != 0;
                    k += 1;
                }
                _ => break,
            }
        }
        if k == need && (!plain || latin_before) && std::str::from_utf8(&buf[..=need]).is_ok() {
            return true;
        }
        // A sloppy sequence: its last byte lost.
        if (cp == CP1252 || cp == LATIN1) && need >= 2 && k + 1 == need {
            return true;
        }
    }
    false
}

fn utf8_need(b: u8) -> usize {
    match b {
        0xC2..=0xDF => 1,
        0xE0..=0xEF => 2,
        0xF0..=0xF4 => 3,
        _ => 0,
    }
}

/// The most a repair window reaches on either side of its trigger. A
/// line is the unit of repair (its scripts decide between codepages), but
/// repairing costs more than linear time in the window, so a line longer
/// than this (a whole file with no newline) is repaired in windows cut at
/// spaces. News paragraphs are far shorter, so they are whole lines.
const WINDOW: usize = 8192;

/// Repairs the line holding byte `at` (or a window of it, see [`WINDOW`]);
/// returns where scanning goes on, always past `at`.
fn line_and_next(
    text: &str,
    at: usize,
    t: &Tables,
    scratch: &mut Scratch,
    out: &mut Vec<Edit>,
) -> usize {
    let (line, next) = line_bounds(text.as_bytes(), at);
    repair_line(text, line, t, scratch, out);
    next
}

/// The line holding byte `at` (or a window of it, see [`WINDOW`]), and
/// where scanning goes on after it, always past `at`.
fn line_bounds(bytes: &[u8], at: usize) -> (Range<usize>, usize) {
    let lo = at.saturating_sub(WINDOW);
    let start = match memrchr(b'\n', &bytes[lo..at]) {
        Some(p) => lo + p + 1,
        None if lo == 0 => 0,
        None => cut_after(bytes, lo, at),
    };
    let hi = (at + WINDOW).min(bytes.len());
    let (end, next) = match memchr(b'\n', &bytes[at..hi]) {
        Some(p) => (at + p, at + p + 1),
        None if hi == bytes.len() => (hi, hi),
        None => {
            let e = cut_before(bytes, at, hi);
            (e, e)
        }
    };
    (start..end, next)
}

/// Where a window may start at or after `from` (before `limit`): just
/// after a space that follows an ASCII byte (a space after a non-ASCII
/// byte may belong to damage, an NBSP that became a space), else at a
/// character boundary.
fn cut_after(bytes: &[u8], from: usize, limit: usize) -> usize {
    (from..limit)
        .find(|&k| bytes[k] == b' ' && k > 0 && bytes[k - 1] < 0x80)
        .map(|k| k + 1)
        .or_else(|| (from..limit).find(|&k| is_char_start(bytes, k)))
        .unwrap_or(limit)
}

/// Where a window may end, after `at` and at or before `limit`: at such a
/// space, else at a character boundary; always past `at`.
fn cut_before(bytes: &[u8], at: usize, limit: usize) -> usize {
    let floor = at + 1;
    (floor..limit)
        .rev()
        .find(|&k| bytes[k] == b' ' && bytes[k - 1] < 0x80)
        .or_else(|| (floor..=limit).rev().find(|&k| is_char_start(bytes, k)))
        .unwrap_or(limit)
}

fn is_char_start(bytes: &[u8], k: usize) -> bool {
    bytes.get(k).is_none_or(|&b| (b as i8) >= -0x40)
}

#[derive(Default)]
struct Scratch {
    chars: Vec<(usize, char)>,
    /// `Tables::info` of each of `chars`.
    infos: Vec<u64>,
    /// `script(class(c))` of each of `chars`.
    scripts: Vec<u8>,
    per_cp: Vec<Vec<Hit>>,
}

/// One UTF-8 sequence found in a line, as char indices.
#[derive(Clone, Debug, PartialEq)]
struct Hit {
    i: usize,
    n: usize,
    ch: char,
    sloppy: Option<Lost>,
}

/// How a sloppy sequence lost its last byte.
#[derive(Clone, Debug, PartialEq)]
struct Lost {
    /// The byte became this character (`?`, U+FFFD, or a space for 0xA0);
    /// `None` when it was dropped.
    marker: Option<char>,
    /// The characters it may have been, best first.
    cands: Vec<char>,
}

/// Bytes windows-1252 leaves undefined; sloppy decoders drop them or write
/// `?` or U+FFFD.
const UNDEFINED_1252: [u8; 5] = [0x9D, 0x81, 0x8D, 0x8F, 0x90];

/// The UTF-8 sequences of codepage `cp` in `cs` (with `infos`, their
/// `Tables::info`), sloppy ones included, left to right.
///
/// A character is a lead byte in `cp` exactly when its `LEAD` bit for `cp`
/// is set, and a continuation byte when its `CONT` bit is, so the info
/// words pick the characters to look at (`find_hits_slow`, in tests, asks
/// the codepage of each).
fn find_hits(cs: &[(usize, char)], infos: &[u64], cp: usize, t: &Tables, out: &mut Vec<Hit>) {
    out.clear();
    let lead_bit = 1u64 << (LEAD_SHIFT + cp as u32);
    let cont_bit = 1u64 << (CONT_SHIFT + cp as u32);
    // Only windows-1252 and Latin-1 know sloppy sequences; elsewhere a lead
    // counts only before a continuation.
    let sloppy_cp = cp == CP1252 || cp == LATIN1;
    let mut i = 0;
    while i < cs.len() {
        // To the next character worth a look, in a tight loop.
        let rest = infos.get(i..).unwrap_or_default();
        let skip = if sloppy_cp {
            rest.iter().position(|&x| x & lead_bit != 0)
        } else {
            rest.windows(2)
                .position(|w| w[0] & lead_bit != 0 && w[1] & cont_bit != 0)
        };
        match skip {
            Some(d) => i += d,
            None => break,
        }
        let Some(b) = t.enc(cp, cs[i].1) else {
            i += 1;
            continue;
        };
        let need = utf8_need(b);
        if need == 0 {
            i += 1;
            continue;
        }
        let mut buf = [b, 0, 0, 0];
        let mut k = 0;
        while k < need && i + 1 + k < cs.len() && infos[i + 1 + k] & cont_bit != 0 {
            match t.enc(cp, cs[i + 1 + k].1) {
                Some(x) => {
                    buf[k + 1] = x;
                    k += 1;
                }
                None => break,
            }
        }
        if k == need {
            if let Some(ch) = std::str::from_utf8(&buf[..=need])
                .ok()
                .and_then(|s| s.chars().next())
            {
                out.push(Hit {
                    i,
                    n: need + 1,
                    ch,
                    sloppy: None,
                });
                i += need + 1;
                continue;
            }
            i += 1;
            continue;
        }
        if (cp == CP1252 || cp == LATIN1) && k + 1 == need {
            let next = cs.get(i + 1 + k).map(|x| x.1);
            // A space for NO-BREAK SPACE when that gives Latin-1 or plain
            // Cyrillic (`Ã ` is `à`, `Ð ` is `Р`); `Ñ ` is `с` with its
            // byte dropped before a real space.
            let nbsp_reads = std::str::from_utf8(&[b, 0xA0])
                .ok()
                .and_then(|s| s.chars().next())
                .is_some_and(|c| matches!(c as u32, 0xA0..=0xFF) || plain_cyr_index(c).is_some());
            let (marker, bytes): (Option<char>, &[u8]) = match next {
                Some(' ') if need == 1 && nbsp_reads => (Some(' '), &[0xA0]),
                Some(m @ ('?' | '\u{FFFD}')) => (Some(m), &UNDEFINED_1252),
                _ => (None, &UNDEFINED_1252),
            };
            let mut cands = Vec::new();
            for &x in bytes {
                buf[need] = x;
                if let Some(ch) = std::str::from_utf8(&buf[..=need])
                    .ok()
                    .and_then(|s| s.chars().next())
                {
                    cands.push(ch);
                }
            }
            if !cands.is_empty() {
                let n = need + usize::from(marker.is_some());
                out.push(Hit {
                    i,
                    n,
                    ch: cands[0],
                    sloppy: Some(Lost { marker, cands }),
                });
                i += n;
                continue;
            }
        }
        i += 1;
    }
}

#[cfg(test)]
fn find_hits_slow(cs: &[(usize, char)], cp: usize, t: &Tables, out: &mut Vec<Hit>) {
    out.clear();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i].1;
        let b = match t.enc(cp, c) {
            Some(b) if c as u32 >= 0x80 => b,
            _ => {
                i += 1;
                continue;
            }
        };
        let need = utf8_need(b);
        if need == 0 {
            i += 1;
            continue;
        }
        let mut buf = [b, 0, 0, 0];
        let mut k = 0;
        while k < need && i + 1 + k < cs.len() {
            let c2 = cs[i + 1 + k].1;
            match t.enc(cp, c2) {
                Some(x) if c2 as u32 >= 0x80 && (0x80..=0xBF).contains(&x) => {
                    buf[k + 1] = x;
                    k += 1;
                }
                _ => break,
            }
        }
        if k == need {
            if let Some(ch) = std::str::from_utf8(&buf[..=need])
                .ok()
                .and_then(|s| s.chars().next())
            {
                out.push(Hit {
                    i,
                    n: need + 1,
                    ch,
                    sloppy: None,
                });
                i += need + 1;
                continue;
            }
            i += 1;
            continue;
        }
        if (cp == CP1252 || cp == LATIN1) && k + 1 == need {
            let next = cs.get(i + 1 + k).map(|x| x.1);
            // A space for NO-BREAK SPACE when that gives Latin-1 or plain
            // Cyrillic (`Ã ` is `à`, `Ð ` is `Р`); `Ñ ` is `с` with its
            // byte dropped before a real space.
            let nbsp_reads = std::str::from_utf8(&[b, 0xA0])
                .ok()
                .and_then(|s| s.chars().next())
                .is_some_and(|c| matches!(c as u32, 0xA0..=0xFF) || plain_cyr_index(c).is_some());
            let (marker, bytes): (Option<char>, &[u8]) = match next {
                Some(' ') if need == 1 && nbsp_reads => (Some(' '), &[0xA0]),
                Some(m @ ('?' | '\u{FFFD}')) => (Some(m), &UNDEFINED_1252),
                _ => (None, &UNDEFINED_1252),
            };
            let mut cands = Vec::new();
            for &x in bytes {
                buf[need] = x;
                if let Some(ch) = std::str::from_utf8(&buf[..=need])
                    .ok()
                    .and_then(|s| s.chars().next())
                {
                    cands.push(ch);
                }
            }
            if !cands.is_empty() {
                let n = need + usize::from(marker.is_some());
                out.push(Hit {
                    i,
                    n,
                    ch: cands[0],
                    sloppy: Some(Lost { marker, cands }),
                });
                i += n;
                continue;
            }
        }
        i += 1;
    }
}

/// A repair of a span of a line, in char indices of the line.
struct Repair {
    start: usize,
    end: usize,
    text: String,
    rule: &'static Rule,
    detail: String,
    score: f32,
}

fn repair_line(
    text: &str,
    line: Range<usize>,
    t: &Tables,
    scratch: &mut Scratch,
    out: &mut Vec<Edit>,
) {
    let s = &text[line.clone()];
    let Scratch {
        chars: cs,
        infos,
        scripts: char_scripts,
        per_cp,
    } = scratch;
    cs.clear();
    cs.extend(s.char_indices().map(|(o, c)| (o + line.start, c)));
    infos.clear();
    infos.extend(cs.iter().map(|x| t.info(x.1)));
    char_scripts.clear();
    char_scripts.extend(cs.iter().map(|x| script(class(x.1))));
    let mut all_scripts = [0usize; 6];
    for &sc in char_scripts.iter() {
        all_scripts[usize::from(sc)] += 1;
    }
    let byte_at = |ci: usize, cs: &[(usize, char)]| cs.get(ci).map_or(line.end, |x| x.0);

    // 1. UTF-8 through a single-byte codepage: the codepage whose
    // sequences cover the most characters first.
    per_cp.resize_with(NCP, Vec::new);
    let non_ascii = cs.iter().filter(|x| !x.1.is_ascii()).count();
    // Codepages in which some character of the line is a lead byte.
    let leads = infos.iter().fold(0u64, |m, x| m | x) & MASK13;
    let mut repairs: Vec<Repair> = Vec::new();
    let mut scripts;
    let mut next_cp = 0;
    // In rounds: the codepages up to the first that explains every
    // non-ASCII character, best coverage first; then, if characters are
    // left unexplained, the rest.
    while next_cp < NCP {
        let mut order: Vec<(usize, usize)> = Vec::new();
        while next_cp < NCP {
            let cp = next_cp;
            next_cp += 1;
            let hits = &mut per_cp[cp];
            hits.clear();
            if leads & (1 << cp) == 0 {
                continue;
            }
            find_hits(cs, infos, cp, t, hits);
            let cover: usize = hits
                .iter()
                .filter(|h| h.sloppy.is_none())
                .map(|h| h.n)
                .sum();
            let sloppy = hits.iter().any(|h| h.sloppy.is_some());
            if cover > 0 || sloppy {
                order.push((cover, cp));
            }
            if cover == non_ascii && !sloppy {
                break;
            }
        }
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, cp) in &order {
            if !repairs.is_empty() && all_explained(cs, &repairs) {
                break;
            }
            // The line's scripts, without the characters suspected of
            // being mojibake in this codepage (hits are disjoint).
            scripts = all_scripts;
            for h in &per_cp[cp] {
                for &sc in char_scripts.get(h.i..h.i + h.n).into_iter().flatten() {
                    scripts[usize::from(sc)] -= 1;
                }
            }
            let mut found = Vec::new();
            for cluster in clusters(cs, &per_cp[cp]) {
                if repairs
                    .iter()
                    .any(|r| r.start < cluster_end(cluster) && cluster[0].i < r.end)
                {
                    continue;
                }
                if let Some(r) = judge_utf8(cs, cluster, cp, t, &scripts) {
                    found.push(r);
                }
            }
            repairs.extend(found);
        }
        if !repairs.is_empty() && all_explained(cs, &repairs) {
            break;
        }
    }

    // 2. Legacy Cyrillic read with the wrong single-byte codepage, when
    // characters are left that look like it.
    if legacy_signs(cs, t, &repairs) {
        legacy(cs, t, &mut repairs);
    }

    repairs.sort_by_key(|r| r.start);
    for r in repairs {
        let span = byte_at(r.start, cs)..byte_at(r.end, cs);
        out.push(Edit::replace(span, r.text, r.rule).with_detail(r.detail));
    }
}

/// Whether the repairs cover every non-ASCII character of the line but
/// clean punctuation.
fn all_explained(cs: &[(usize, char)], repairs: &[Repair]) -> bool {
    let mut k = 0;
    let mut sorted: Vec<(usize, usize)> = repairs.iter().map(|r| (r.start, r.end)).collect();
    sorted.sort_unstable();
    cs.iter().enumerate().all(|(ci, x)| {
        while k < sorted.len() && sorted[k].1 <= ci {
            k += 1;
        }
        x.1.is_ascii() || is_clean_punct(x.1) || (k < sorted.len() && sorted[k].0 <= ci)
    })
}

/// Signs of legacy Cyrillic among the characters no repair covers: three
/// windows-1252 letters of 0xC0.. in a row, a Cyrillic small letter before
/// a capital, box drawing next to a Cyrillic letter, six Cyrillic capitals
/// in a row, or a Cyrillic word with a non-letter inside.
fn legacy_signs(cs: &[(usize, char)], t: &Tables, repairs: &[Repair]) -> bool {
    let mut leg = 0;
    let mut caps = 0;
    let mut prev = 0u64;
    for (ci, x) in cs.iter().enumerate() {
        if x.1.is_ascii() || repairs.iter().any(|r| r.start <= ci && ci < r.end) {
            leg = 0;
            caps = 0;
            prev = 0;
            continue;
        }
        let info = t.info(x.1);
        leg = if info & LEG != 0 { leg + 1 } else { 0 };
        caps = if info & CYR_UP != 0 { caps + 1 } else { 0 };
        let cyr = CYR_LO | CYR_UP;
        if leg >= 3
            || caps >= 6
            || (prev & CYR_LO != 0 && info & CYR_UP != 0)
            || (prev & BOXY != 0 && info & cyr != 0)
            || (prev & cyr != 0 && info & BOXY != 0)
            || (prev & cyr != 0 && info & cyr == 0 && !x.1.is_whitespace() && !is_clean_punct(x.1))
        {
            return true;
        }
        prev = info;
    }
    false
}

fn cluster_end(c: &[Hit]) -> usize {
    c.last().map_or(0, |h| h.i + h.n)
}

/// Groups hits into damaged spans: hits in one word, or separated only by
/// spaces, digits and ASCII punctuation.
fn clusters<'h>(cs: &[(usize, char)], hits: &'h [Hit]) -> Vec<&'h [Hit]> {
    let mut out = Vec::new();
    let mut start = 0;
    for k in 1..=hits.len() {
        let split = k == hits.len() || {
            let gap = &cs[hits[k - 1].i + hits[k - 1].n..hits[k].i];
            let spaced = gap.iter().any(|x| x.1.is_whitespace());
            spaced
                && (gap.len() > 40
                    || gap
                        .iter()
                        .any(|x| x.1.is_ascii_alphabetic() || !x.1.is_ascii()))
        };
        if split {
            out.push(&hits[start..k]);
            start = k;
        }
    }
    out
}

fn judge_utf8(
    cs: &[(usize, char)],
    cluster: &[Hit],
    cp: usize,
    t: &Tables,
    scripts: &[usize; 6],
) -> Option<Repair> {
    let start = cluster.first()?.i;
    let end = cluster_end(cluster);
    // Every non-ASCII character of the touched words must be explained.
    let mut ws = start;
    while ws > 0 && !cs[ws - 1].1.is_whitespace() {
        ws -= 1;
    }
    let mut we = end;
    while we < cs.len() && !cs[we].1.is_whitespace() {
        we += 1;
    }
    // Hits are in order: walk them alongside.
    let mut hi = 0;
    for (ci, &(_, c)) in cs.iter().enumerate().take(we).skip(ws) {
        while hi < cluster.len() && cluster[hi].i + cluster[hi].n <= ci {
            hi += 1;
        }
        let covered = hi < cluster.len() && cluster[hi].i <= ci;
        if !c.is_ascii() && !covered && !is_clean_punct(c) {
            return None;
        }
    }
    // Sequences made of plain Cyrillic letters (and NO-BREAK SPACE) are
    // what clean Russian and Ukrainian look like in KOI8 and cp866 (`Ёлка`,
    // `ЕЁ`, `В\u{A0}`): no evidence unless glued to a Latin letter.
    let glued_latin =
        start > 0 && matches!(class(cs[start - 1].1), K::AsciiLetter | K::LatLo | K::LatUp);
    let plain_only = cluster.iter().all(|h| {
        cs[h.i..h.i + h.n]
            .iter()
            .all(|x| plain_cyr_index(x.1).is_some() || x.1 == '\u{A0}')
    });
    // In a Latin line, with no Cyrillic letter next to it, such a span is
    // foreign and counts (`Г\u{A0}` for `à`, `тИС` for `∑`).
    let cyr_next = |k: Option<&(usize, char)>| k.is_some_and(|x| plain_cyr_index(x.1).is_some());
    let isolated = dominant_script(scripts) == 2
        && !cyr_next(start.checked_sub(1).and_then(|k| cs.get(k)))
        && !cyr_next(cs.get(end));
    if plain_only && !glued_latin && !isolated {
        return None;
    }
    let strong = cluster.iter().filter(|h| h.sloppy.is_none()).count();
    // Sloppy sequences need company or a telling shape.
    for h in cluster.iter() {
        let Some(lost) = &h.sloppy else { continue };
        let len_present = h.n - usize::from(lost.marker.is_some());
        let prev = h.i.checked_sub(1).map(|k| cs[k].1);
        // `â€` is telling; `à\u{A0}` before `?` is French typography.
        let telling = len_present >= 2
            && cs[h.i + 1..h.i + len_present]
                .iter()
                .all(|x| !x.1.is_whitespace() && !is_letter(class(x.1)));
        let ok = strong > 0
            || telling
            || (lost.marker == Some(' ')
                && cs[h.i].1 == 'Ã'
                && prev.is_none_or(|p| p.is_whitespace() || p.is_lowercase())
                && cs
                    .get(h.i + 2)
                    .is_some_and(|x| x.1.is_alphabetic() || x.1 == ' '));
        if !ok {
            return None;
        }
        if lost.marker.is_none() && len_present < 2 {
            // A lone lead with its byte dropped: only between two sequences.
            let before = cluster
                .iter()
                .any(|g| g.i + g.n == h.i && g.sloppy.is_none());
            let after = cluster
                .iter()
                .any(|g| g.i == h.i + h.n && g.sloppy.is_none());
            // In a Cyrillic word (`Ð¾ÑÑÐ¸Ñ`: the 0x81 of `с` dropped twice),
            // one neighbour in the word will do: letter pairs choose the letter.
            let cyrillic = matches!(cs[h.i].1, 'Ð' | 'Ñ') && strong >= 2;
            if !(cyrillic || (before && after)) {
                return None;
            }
        }
    }
    // Build the repair, resolving lost bytes from context.
    let plain_isolated = plain_only;
    let mut r = String::new();
    let mut lost_notes = Vec::new();
    let mut ci = start;
    let mut hi = 0;
    while ci < end {
        if hi < cluster.len() && cluster[hi].i == ci {
            let h = &cluster[hi];
            match &h.sloppy {
                None => r.push(h.ch),
                Some(lost) => {
                    let (ch, why) = resolve_lost(cs, cluster, hi, lost, t);
                    r.push(ch);
                    lost_notes.push(why);
                }
            }
            ci += h.n;
            hi += 1;
        } else {
            r.push(cs[ci].1);
            ci += 1;
        }
    }
    let before = start.checked_sub(1).map(|k| cs[k].1);
    let after = cs.get(end).map(|x| x.1);
    let dominant = dominant_script(scripts);
    // Further layers: the same damage applied twice or three times.
    let mut chain = vec![cp];
    let mut cur = r;
    for _ in 0..2 {
        match peel(&cur, t, before, after, dominant) {
            Some((next, cp2)) => {
                chain.push(cp2);
                cur = next;
            }
            None => break,
        }
    }
    // A span explained only by NO-BREAK SPACE bytes (`Ã\u{A0}`) may only
    // become Latin-1 (`à`, NBSP): `OÙ\u{A0}` is French before `?`.
    let nbsp_only = cluster
        .iter()
        .all(|h| h.n == 2 && cs.get(h.i + 1).is_some_and(|x| x.1 == '\u{A0}'));
    if nbsp_only
        && !cur
            .chars()
            .all(|c| matches!(c as u32, 0x20..=0x7E | 0xA0..=0xFF))
    {
        return None;
    }
    // A lone plain-Cyrillic span may only become Latin-1 letters,
    // punctuation, symbols or emoji (`à`, `∑`, `🎉`), never other letters.
    if plain_isolated
        && (cur.trim().is_empty()
            || !cur.chars().all(|c| {
                matches!(c as u32, 0x20..=0x7E | 0xC0..=0xFF | 0x2000..=0x2BFF | 0x1F000..=0x1FAFF)
            }))
    {
        return None;
    }
    let long_seqs: u32 = cluster
        .iter()
        .map(|h| match h.n {
            3 => 1,
            4 => 2,
            _ => 0,
        })
        .sum();
    let bad_s =
        bad_in_context(before, cs[start..end].iter().map(|x| x.1), after, dominant) + long_seqs;
    // A repair may be in another script than the line (a Russian name in
    // English): no foreign-script cost for the result, unless it is one or
    // two letters (`Π²` in a formula is not `в`).
    let short = cur.chars().filter(|c| !c.is_ascii()).count() <= 2;
    let bad_r = bad_in_context(before, cur.chars(), after, if short { dominant } else { 0 });
    if bad_s < 3 || bad_r * 3 >= bad_s || bad_r > 2 + (end - start) as u32 / 8 {
        return None;
    }
    // Cyrillic results must read as Russian or Ukrainian, when they are words.
    if cur
        .chars()
        .filter(|c| plain_cyr_index(*c).is_some())
        .count()
        >= 4
    {
        let mut acc = (0.0, 0);
        pair_score(t, cur.chars(), &mut acc);
        if mean(acc) < -4.2 {
            return None;
        }
    }
    if is_discussion(cs, start, end, ws, we, &cur) {
        return None;
    }
    // The round trip must be lossless: re-encoding the repair gives back
    // the damaged text exactly (sloppy bytes aside).
    if lost_notes.is_empty() && !round_trips(&cs[start..end], &cur, &chain, t) {
        return None;
    }
    let mut detail = String::from("utf-8 read as ");
    let first = CPS[chain[0]].name;
    if chain.iter().all(|&c| c == chain[0]) {
        detail.push_str(first);
        match chain.len() {
            2 => detail.push_str(", twice"),
            3 => detail.push_str(", three times"),
            _ => {}
        }
    } else {
        // chain[0] is the last misreading; name them in the order they happened.
        let names: Vec<&str> = chain.iter().rev().map(|&c| CPS[c].name).collect();
        detail.push_str(&names.join(", then as "));
    }
    let _ = write!(detail, "; badness {bad_s} -> {bad_r}");
    let rule = if lost_notes.is_empty() {
        CPS[chain[0]].rule
    } else {
        for n in &lost_notes {
            detail.push_str("; ");
            detail.push_str(n);
        }
        &SLOPPY_UTF8_AS_CP1252
    };
    Some(Repair {
        start,
        end,
        text: cur,
        rule,
        detail,
        score: 0.0,
    })
}

/// The script most letters of the line outside `start..end` are in
/// (0 when there are none).
/// The script most letters of the line are in, from `n` (letters by
/// script, without the suspected mojibake); 0 when there is no clear one.
fn dominant_script(n: &[usize; 6]) -> u8 {
    // Only a clear Latin, Cyrillic or Greek majority counts: CJK and
    // Arabic text mixes in Latin words as a matter of course.
    let letters: usize = n[1..].iter().sum();
    let best = (2..5).max_by_key(|&i| n[i]).unwrap_or(0);
    if n[best] >= 3 && n[best] * 3 >= letters * 2 {
        best as u8
    } else {
        0
    }
}

/// Badness of `mid` between its neighbours, plus two for each letter of a
/// script foreign to the line.
fn bad_in_context(
    before: Option<char>,
    mid: impl Iterator<Item = char> + Clone,
    after: Option<char>,
    dominant: u8,
) -> u32 {
    let foreign = if dominant == 0 {
        0
    } else {
        mid.clone()
            .filter(|&c| {
                let s = script(class(c));
                s != 0 && s != dominant && !c.is_ascii()
            })
            .count() as u32
            * 2
    };
    badness(before.into_iter().chain(mid).chain(after)) + foreign
}

/// Undoes one more layer of UTF-8-through-a-codepage in `s`, when every
/// non-ASCII character of it is part of a sequence and the result is
/// less bad.
fn peel(
    s: &str,
    t: &Tables,
    before: Option<char>,
    after: Option<char>,
    dominant: u8,
) -> Option<(String, usize)> {
    if s.is_ascii() {
        return None;
    }
    let mut prev = 0u64;
    let mut any = false;
    for c in s.chars() {
        let info = t.info(c);
        if (prev >> LEAD_SHIFT) & (info >> CONT_SHIFT) & MASK13 != 0 {
            any = true;
            break;
        }
        prev = info;
    }
    if !any {
        return None;
    }
    let cs: Vec<(usize, char)> = s.char_indices().collect();
    let infos: Vec<u64> = cs.iter().map(|x| t.info(x.1)).collect();
    let mut hits = Vec::new();
    let base = bad_in_context(before, s.chars(), after, dominant);
    let mut best: Option<(u32, String, usize)> = None;
    for cp in 0..NCP {
        find_hits(&cs, &infos, cp, t, &mut hits);
        if hits.is_empty() || hits.iter().any(|h| h.sloppy.is_some()) {
            continue;
        }
        let mut out = String::with_capacity(s.len());
        let mut ci = 0;
        let mut hi = 0;
        let mut all = true;
        while ci < cs.len() {
            if hi < hits.len() && hits[hi].i == ci {
                out.push(hits[hi].ch);
                ci += hits[hi].n;
                hi += 1;
            } else {
                let c = cs[ci].1;
                if !c.is_ascii() && !is_clean_punct(c) {
                    all = false;
                    break;
                }
                out.push(c);
                ci += 1;
            }
        }
        if !all {
            continue;
        }
        let b = bad_in_context(before, out.chars(), after, dominant);
        if b < base && best.as_ref().is_none_or(|x| b < x.0) {
            best = Some((b, out, cp));
        }
    }
    best.map(|(_, s, cp)| (s, cp))
}

fn round_trips(orig: &[(usize, char)], repaired: &str, chain: &[usize], t: &Tables) -> bool {
    let mut cur = repaired.to_string();
    for &cp in chain.iter().rev() {
        let mut next = String::with_capacity(cur.len() * 2);
        for b in cur.bytes() {
            match t.dec(cp, b) {
                Some(c) => next.push(c),
                None => return false,
            }
        }
        cur = next;
    }
    cur.chars().eq(orig.iter().map(|x| x.1))
}

/// Picks the character a sloppy sequence lost, from context.
fn resolve_lost(
    cs: &[(usize, char)],
    cluster: &[Hit],
    hi: usize,
    lost: &Lost,
    t: &Tables,
) -> (char, String) {
    let h = &cluster[hi];
    let marker = match lost.marker {
        Some(' ') => {
            return (
                lost.cands[0],
                "the NO-BREAK SPACE byte became a space".into(),
            );
        }
        Some('?') => "`?`",
        Some(_) => "U+FFFD",
        None => "nothing",
    };
    let cands = &lost.cands;
    if cands.len() == 1 {
        return (cands[0], format!("the last byte became {marker}"));
    }
    // E2 80 xx: `”` (0x9D) unless between emoji, where it is a ZWJ.
    if cands.contains(&'”') {
        let prev = cluster.get(hi.wrapping_sub(1)).map(|g| g.ch);
        let next = cluster.get(hi + 1).map(|g| g.ch);
        let emoji = |c: Option<char>| c.is_some_and(|c| c as u32 >= 0x1F000);
        if emoji(prev) && emoji(next) {
            return (
                '\u{200D}',
                format!("the last byte became {marker}; ZWJ between emoji"),
            );
        }
        return (
            '”',
            format!("the last byte became {marker}; `”` (0x9D, undefined in windows-1252)"),
        );
    }
    // Cyrillic: the candidate that makes the word read best.
    if cands.iter().any(|c| plain_cyr_index(*c).is_some()) {
        let mut ws = h.i;
        while ws > 0 && !cs[ws - 1].1.is_whitespace() {
            ws -= 1;
        }
        let mut we = h.i + h.n;
        while we < cs.len() && !cs[we].1.is_whitespace() {
            we += 1;
        }
        let mut scored: Vec<(f32, char)> = Vec::new();
        for &cand in cands.iter().filter(|c| plain_cyr_index(**c).is_some()) {
            // The word as repaired, other lost letters as a break.
            let mut word = String::new();
            let mut ci = ws;
            let mut k = cluster.partition_point(|g| g.i < ws);
            while ci < we {
                if k < cluster.len() && cluster[k].i == ci {
                    let g = &cluster[k];
                    word.push(match (k == hi, &g.sloppy) {
                        (true, _) => cand,
                        (false, None) => g.ch,
                        (false, Some(_)) => ' ',
                    });
                    ci += g.n;
                    k += 1;
                } else {
                    word.push(cs[ci].1);
                    ci += 1;
                }
            }
            let mut acc = (0.0, 0);
            pair_score(t, word.chars(), &mut acc);
            scored.push((mean(acc), cand));
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        if let [best, second, ..] = scored.as_slice() {
            if best.0 > second.0 {
                return (
                    best.1,
                    format!(
                        "the last byte became {marker}; `{}` reads best as Russian/Ukrainian",
                        best.1
                    ),
                );
            }
        } else if let [only] = scored.as_slice() {
            return (only.1, format!("the last byte became {marker}"));
        }
    }
    (
        '\u{FFFD}',
        format!("the last byte became {marker}; the character is lost"),
    )
}

/// A quoted lone token in otherwise clean text, or one next to its repaired
/// form or to words about encodings, is someone discussing mojibake.
fn is_discussion(
    cs: &[(usize, char)],
    start: usize,
    end: usize,
    ws: usize,
    we: usize,
    r: &str,
) -> bool {
    let prefix = &cs[ws..start];
    let suffix = &cs[end..we];
    let lone = prefix.iter().chain(suffix).all(|x| !x.1.is_alphanumeric());
    if !lone {
        return false;
    }
    let quoted = prefix.last().is_some_and(|x| is_quote(x.1))
        || suffix.first().is_some_and(|x| is_quote(x.1));
    if quoted && end - start <= 6 {
        return true;
    }
    // A long damaged span is damage whatever the line says.
    if end - start > 6 {
        return false;
    }
    let line: String = cs.iter().map(|x| x.1).collect();
    let rest: String = cs[..ws].iter().chain(&cs[we..]).map(|x| x.1).collect();
    if rest.contains(r) {
        return true;
    }
    [
        "mojibake",
        "Mojibake",
        "encoding",
        "Encoding",
        "instead of",
        "garbled",
        "displayed as",
        "shows up as",
        "кракозябр",
        "Кракозябр",
        "кодировк",
        "Кодировк",
    ]
    .iter()
    .any(|w| line.contains(w))
}

// ---------------------------------------------------------------- legacy Cyrillic

struct Legacy {
    shown: usize,
    real: usize,
    rule: &'static Rule,
}

static LEGACY: [Legacy; 10] = [
    Legacy {
        shown: CP1252,
        real: CP1251,
        rule: &CP1251_AS_CP1252,
    },
    Legacy {
        shown: LATIN1,
        real: CP1251,
        rule: &CP1251_AS_CP1252,
    },
    Legacy {
        shown: CP1252,
        real: KOI8R,
        rule: &KOI8_AS_CP1252,
    },
    Legacy {
        shown: CP1252,
        real: KOI8U,
        rule: &KOI8_AS_CP1252,
    },
    Legacy {
        shown: LATIN1,
        real: KOI8R,
        rule: &KOI8_AS_CP1252,
    },
    Legacy {
        shown: CP1251,
        real: KOI8R,
        rule: &KOI8_AS_CP1251,
    },
    Legacy {
        shown: CP1251,
        real: KOI8U,
        rule: &KOI8_AS_CP1251,
    },
    Legacy {
        shown: KOI8R,
        real: CP1251,
        rule: &CP1251_AS_KOI8,
    },
    Legacy {
        shown: CP1251,
        real: CP866,
        rule: &CP866_AS_CP1251,
    },
    Legacy {
        shown: CP866,
        real: CP1251,
        rule: &CP1251_AS_CP866,
    },
];

fn legacy(cs: &[(usize, char)], t: &Tables, repairs: &mut Vec<Repair>) {
    // Again after each round: a region found first can hide a longer one.
    for _ in 0..3 {
        let n = repairs.len();
        legacy_round(cs, t, repairs);
        if repairs.len() == n {
            break;
        }
    }
}

fn legacy_round(cs: &[(usize, char)], t: &Tables, repairs: &mut Vec<Repair>) {
    let mut cands: Vec<Repair> = Vec::new();
    let taken = |ci: usize| repairs.iter().any(|r| r.start <= ci && ci < r.end);
    for (li, lg) in LEGACY.iter().enumerate() {
        let shown_cyr = lg.shown == CP1251 || lg.shown == KOI8R || lg.shown == CP866;
        // Words: maximal runs of non-ASCII characters that the swap turns
        // into Cyrillic letters, not touching ASCII letters.
        let mut words: Vec<(usize, usize, String, bool)> = Vec::new();
        // A character that stands for a quote or punctuation mark in the
        // real codepage too (`«` `»` in windows-1251 shown as windows-1252)
        // ends a word and may sit between the words of a region: `«Ì» ëàäç`
        // reads as `"Ì" ëàäç` does once the quotes stage has restyled it.
        let real = |c: char| t.enc(lg.shown, c).and_then(|b| t.dec(lg.real, b));
        let is_mark = |c: char| {
            real(c)
                .is_some_and(|d| plain_cyr_index(d).is_none() && (is_quote(d) || is_clean_punct(d)))
        };
        let mut ci = 0;
        while ci < cs.len() {
            let in_word = |k: usize| {
                let c = cs[k].1;
                let letter = real(c).is_some_and(|d| plain_cyr_index(d).is_some());
                !c.is_ascii() && !taken(k) && (letter || (!c.is_whitespace() && !is_mark(c)))
            };
            if !in_word(ci) {
                ci += 1;
                continue;
            }
            let ws = ci;
            let mut w = String::new();
            let mut ok = true;
            while ci < cs.len() && in_word(ci) {
                let c = cs[ci].1;
                match t.enc(lg.shown, c).and_then(|b| t.dec(lg.real, b)) {
                    Some(d) if plain_cyr_index(d).is_some() => w.push(d),
                    _ => ok = false,
                }
                ci += 1;
            }
            let touches_ascii_letter = (ws > 0 && cs[ws - 1].1.is_ascii_alphabetic())
                || cs.get(ci).is_some_and(|x| x.1.is_ascii_alphabetic());
            if !ok || touches_ascii_letter {
                continue;
            }
            // Dashes and quotes alone (`—`, `«`) are no word, whatever they map to.
            if shown_cyr
                && cs[ws..ci]
                    .iter()
                    .all(|x| is_clean_punct(x.1) || is_quote(x.1))
            {
                continue;
            }
            // For a Cyrillic-to-Cyrillic swap, each word must read better
            // swapped than as shown.
            let improves = if shown_cyr {
                let mut a = (0.0, 0);
                let mut b = (0.0, 0);
                pair_score_in(t, cs[ws..ci].iter().map(|x| x.1), &mut a, true);
                pair_score(t, w.chars(), &mut b);
                w.chars().count() <= 2 || mean(b) > mean(a) + 0.5
            } else {
                true
            };
            words.push((ws, ci, w, improves));
        }
        // Regions: runs of improving words separated by ASCII non-letters
        // and marks.
        // A short or all-capital word that reads either way joins when a
        // neighbour improves.
        let gap_ok = |a: usize, b: usize| {
            cs[words[a].1..words[b].0]
                .iter()
                .all(|x| (x.1.is_ascii() && !x.1.is_ascii_alphabetic()) || is_mark(x.1))
        };
        let joins: Vec<bool> = (0..words.len())
            .map(|k| {
                let w = &words[k];
                let weak = w.1 - w.0 <= 3 || cs[w.0..w.1].iter().all(|x| !x.1.is_lowercase());
                w.3 || (weak
                    && ((k > 0 && words[k - 1].3 && gap_ok(k - 1, k))
                        || (k + 1 < words.len() && words[k + 1].3 && gap_ok(k, k + 1))))
            })
            .collect();
        let mut k = 0;
        while k < words.len() {
            if !joins[k] {
                k += 1;
                continue;
            }
            let mut j = k;
            while j + 1 < words.len() && joins[j + 1] && gap_ok(j, j + 1) {
                j += 1;
            }
            let region = &words[k..=j];
            k = j + 1;
            if !region.iter().any(|w| w.3) {
                continue;
            }
            let letters: usize = region.iter().map(|w| w.1 - w.0).sum();
            let longest = region.iter().map(|w| w.1 - w.0).max().unwrap_or(0);
            if letters < 5 || longest < 3 {
                continue;
            }
            let (start, end) = (region[0].0, region[region.len() - 1].1);
            let mut r = String::new();
            let mut acc_r = (0.0, 0);
            let mut acc_s = (0.0, 0);
            let mut anomalies_r = 0;
            let mut pos = start;
            for w in region {
                r.extend(cs[pos..w.0].iter().map(|x| x.1));
                r.push_str(&w.2);
                pos = w.1;
                pair_score(t, w.2.chars(), &mut acc_r);
                pair_score_in(t, cs[w.0..w.1].iter().map(|x| x.1), &mut acc_s, !shown_cyr);
                anomalies_r += case_anomalies(&w.2);
            }
            let (sr, ss) = (mean(acc_r), mean(acc_s));
            let words_n = region.len();
            let floor: f32 = if letters >= 8 { -3.5 } else { -3.3 };
            let floor = if letters < 12 {
                floor.max(-3.25)
            } else {
                floor
            };
            if anomalies_r > words_n / 4 || sr < floor {
                continue;
            }
            if shown_cyr {
                let s_text: String = cs[start..end].iter().map(|x| x.1).collect();
                let in_words = region.iter().flat_map(|w| cs[w.0..w.1].iter().map(|x| x.1));
                let weird = case_anomalies(&s_text) > 0
                    || in_words
                        .clone()
                        .any(|c| is_boxy(c) || !c.is_alphabetic() || plain_cyr_index(c).is_none())
                    || in_words.clone().all(|c| !c.is_lowercase());
                if !weird || sr < ss + 1.0 {
                    continue;
                }
            }
            let mut detail = format!(
                "{} text read as {}; Russian/Ukrainian letter-pair score {sr:.2}",
                CPS[lg.real].name, CPS[lg.shown].name
            );
            if shown_cyr {
                let _ = write!(detail, " (as shown {ss:.2})");
            }
            cands.push(Repair {
                start,
                end,
                text: r,
                rule: lg.rule,
                detail,
                score: sr - li as f32 * 0.001,
            });
        }
    }
    // The longest reading first, then the best scoring.
    cands.sort_by(|a, b| {
        (b.end - b.start)
            .cmp(&(a.end - a.start))
            .then(b.score.total_cmp(&a.score))
    });
    for c in cands {
        if repairs.iter().any(|r| r.start < c.end && c.start < r.end) {
            continue;
        }
        repairs.push(c);
    }
}

// ---------------------------------------------------------------- lossy `?`

static DOC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^0-9])([0-9]{1,2})[./]([0-9]{1,2})[./]([0-9]{4})(?:[^0-9]|$)|([0-9]{4})-([0-9]{2})-([0-9]{2})")
        .unwrap_or_else(|_| unreachable!())
});

/// Runs of `?` standing for lost letters, with evidence repairs.
fn lossy(text: &str, cx: &Context<'_>, out: &mut Vec<Edit>) {
    lossy_with(text, cx, out, None);
}

/// A date of the document: (day, month, year, as written).
type Date = (u32, u32, u32, String);

/// The document's dates, as `lossy` reads them.
enum Dates {
    /// All of them, read beforehand (as the stage once did for every
    /// document with a run of `?`; tests).
    All(Vec<Date>),
    /// Those of each year asked for, read when first asked ([`year_dates`]).
    ByYear(Vec<(u32, Vec<Date>)>),
}

impl Dates {
    /// The dates of year `year` (written `digits`), in document order.
    fn of_year(&mut self, text: &str, digits: &str, year: u32) -> Vec<Date> {
        match self {
            Dates::All(all) => all.iter().filter(|d| d.2 == year).cloned().collect(),
            Dates::ByYear(read) => {
                if let Some((_, v)) = read.iter().find(|(y, _)| *y == year) {
                    return v.clone();
                }
                let v = year_dates(text, digits.as_bytes(), year);
                read.push((year, v.clone()));
                v
            }
        }
    }
}

/// [`lossy`], with the document's dates read beforehand or on demand.
fn lossy_with(text: &str, cx: &Context<'_>, out: &mut Vec<Edit>, dates: Option<Vec<Date>>) {
    let mut dates = dates.map_or(Dates::ByYear(Vec::new()), Dates::All);
    let bytes = text.as_bytes();
    // Runs of `?` that are whole words.
    let mut runs: Vec<Range<usize>> = Vec::new();
    let mut i = 0;
    while let Some(p) = memchr(b'?', &bytes[i..]) {
        let s = i + p;
        let mut e = s;
        while e < bytes.len() && bytes[e] == b'?' {
            e += 1;
        }
        i = e;
        let before = text[..s].chars().next_back();
        let after = text[e..].chars().next();
        let open =
            before.is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '[' | '"' | '«' | '“'));
        let close = after.is_none_or(|c| {
            c.is_whitespace() || matches!(c, '.' | ',' | ';' | ':' | ')' | ']' | '"' | '»' | '”')
        });
        if open && close {
            runs.push(s..e);
        }
    }
    if runs.is_empty() {
        return;
    }
    // Keep runs in lines with real loss: a run of 3+, or two runs of 2+.
    let line_of = |r: &Range<usize>| memrchr(b'\n', &bytes[..r.start]).map_or(0, |p| p + 1);
    let mut keep = vec![false; runs.len()];
    let mut a = 0;
    while a < runs.len() {
        let ls = line_of(&runs[a]);
        let mut b = a;
        while b + 1 < runs.len() && line_of(&runs[b + 1]) == ls {
            b += 1;
        }
        let long = runs[a..=b].iter().filter(|r| r.len() >= 3).count();
        let two = runs[a..=b].iter().filter(|r| r.len() >= 2).count();
        if long >= 1 || two >= 2 {
            for (k, r) in (a..=b).zip(&runs[a..=b]) {
                // A single `?` counts only next to a longer run (`2015 ?.`).
                keep[k] = r.len() >= 2
                    || (runs[a..=b].iter().any(|o| o.len() >= 3) && text[r.end..].starts_with('.'));
            }
        }
        a = b + 1;
    }
    // The document's dates are read only when a run is placed like a
    // month (between a day and a year), and only those of its year: most
    // documents with `??` have none.
    let mut k = 0;
    while k < runs.len() {
        if !keep[k] {
            k += 1;
            continue;
        }
        let r = runs[k].clone();
        // `DD ???? YYYY ?.`: a month name, and a year abbreviation.
        if let Some((edit, used)) = date_repair(
            text,
            &r,
            runs.get(k + 1).filter(|_| keep.get(k + 1) == Some(&true)),
            &mut dates,
        ) {
            out.push(edit);
            k += used;
            continue;
        }
        let n = r.len();
        let detail = format!(
            "{n} character{} lost (turned into `?`) at byte {}; no evidence for what they were",
            if n == 1 { "" } else { "s" },
            r.start
        );
        match cx.config.lossy {
            LossyMode::Keep => out.push(Edit::finding(r, &LOSSY_QUESTION_MARKS, detail)),
            LossyMode::Mark => {
                out.push(Edit::replace(r, "\u{FFFD}", &LOSSY_QUESTION_MARKS).with_detail(detail))
            }
        }
        k += 1;
    }
}

/// The dates of year `year` (written `digits`, four ASCII digits) among
/// the matches of [`DOC_DATE`] over the whole text, in order.
///
/// The regex runs only over the pieces of text around each place `digits`
/// is written: the year of a match is written in it. A piece ends at a
/// cut, a place between two non-digits (the second ASCII): no match holds
/// both (inside a match, a non-digit has a digit on one side at least),
/// and no anchor matches there (a match next to `^` or `$` has a digit
/// there). So the matches in the pieces are the matches of the text there,
/// the same and in the same order (`doc_dates_slow`, in tests, runs the
/// regex over everything).
fn year_dates(text: &str, digits: &[u8], year: u32) -> Vec<Date> {
    let b = text.as_bytes();
    let digit = |k: usize| b.get(k).is_some_and(u8::is_ascii_digit);
    // Whether `k` is a cut (see above); the ends of the text are.
    let cut = |k: usize| k == 0 || k >= b.len() || (!digit(k - 1) && !digit(k) && b[k] < 0x80);
    let mut out = Vec::new();
    // The end of the last piece read (a cut).
    let mut done = 0;
    for at in memmem::find_iter(b, digits) {
        if at < done {
            continue;
        }
        let mut start = at;
        while start > done && !cut(start) {
            start -= 1;
        }
        let mut end = at + digits.len();
        while !cut(end) {
            end += 1;
        }
        let end = end.min(b.len());
        dates_in(&text[start..end], &mut out);
        done = end;
    }
    out.retain(|d| d.2 == year);
    out
}

/// The document's dates: the regex over the whole text, the definition
/// [`year_dates`] must match.
#[cfg(test)]
fn doc_dates_slow(text: &str) -> Vec<Date> {
    let mut out = Vec::new();
    dates_in(text, &mut out);
    out
}

/// The dates of the matches of [`DOC_DATE`] in `text`, appended to `out`.
fn dates_in(text: &str, out: &mut Vec<Date>) {
    for c in DOC_DATE.captures_iter(text) {
        let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
        let whole = c.get(0).map_or("", |m| {
            m.as_str().trim_matches(|ch: char| !ch.is_ascii_digit())
        });
        if let (Some(d), Some(m), Some(y)) = (num(1), num(2), num(3)) {
            // DD/MM/YYYY; MM/DD/YYYY when the first number cannot be a month... and is not a day.
            if (1..=12).contains(&m) && (1..=31).contains(&d) {
                out.push((d, m, y, whole.to_string()));
            }
            if d != m && (1..=12).contains(&d) && (13..=31).contains(&m) {
                out.push((m, d, y, whole.to_string()));
            }
        } else if let (Some(y), Some(m), Some(d)) = (num(4), num(5), num(6))
            && (1..=12).contains(&m)
            && (1..=31).contains(&d)
        {
            out.push((d, m, y, whole.to_string()));
        }
    }
}

/// The repair of the run `run` (and of `next`, the year abbreviation) from
/// the document's dates.
fn date_repair(
    text: &str,
    run: &Range<usize>,
    next: Option<&Range<usize>>,
    dates: &mut Dates,
) -> Option<(Edit, usize)> {
    let before = text[..run.start].strip_suffix(' ')?;
    let day_digits = before.bytes().rev().take_while(u8::is_ascii_digit).count();
    if !(1..=2).contains(&day_digits) {
        return None;
    }
    let after = text[run.end..].strip_prefix(' ')?;
    let year_digits = after.bytes().take_while(u8::is_ascii_digit).count();
    if year_digits != 4 {
        return None;
    }
    let year: u32 = after[..4].parse().ok()?;
    let dates = dates.of_year(text, &after[..4], year);
    let letters = run.len();
    let mut found: Vec<(&str, &str, &str, &str)> = Vec::new();
    // Each reading of each date of that year, in each language: the month
    // names with as many letters as were lost.
    for (_, month, _, written) in &dates {
        for (lang, abbr, names) in tables::MONTHS {
            let Some(name) = (*month as usize).checked_sub(1).and_then(|m| names.get(m)) else {
                continue;
            };
            if name.chars().count() == letters && !found.iter().any(|f| f.1 == *name) {
                found.push((lang, name, abbr, written));
            }
        }
    }
    let [(lang, name, abbr, written)] = found.as_slice() else {
        return None;
    };
    // The year abbreviation: `YYYY ?.` right after.
    let year_end = run.end + 1 + 4;
    let (end, inserted, used) = match next {
        Some(n) if n.start == year_end + 1 && n.len() == 1 && text[n.end..].starts_with('.') => {
            let mut s = String::from(*name);
            s.push_str(&text[run.end..n.start]);
            s.push_str(abbr.trim_end_matches('.'));
            (n.end, s, 2)
        }
        _ => (run.end, String::from(*name), 1),
    };
    let detail = format!(
        "{letters} letters lost (turned into `?`); the document's date {written} gives the month, \
         and only {lang} `{name}` has {letters} letters{}",
        if used == 2 {
            format!("; `?.` after the year is `{abbr}`")
        } else {
            String::new()
        }
    );
    Some((
        Edit::replace(run.start..end, inserted, &LOSSY_QUESTION_MARKS).with_detail(detail),
        used,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::apply;
    use crate::pipeline::Config;

    fn run_with(text: &str, lossy: LossyMode) -> (String, Vec<Edit>) {
        let config = Config {
            lossy,
            ..Config::default()
        };
        let cx = Context {
            config: &config,
            corpus: None,
        };
        let mut edits = Vec::new();
        find(text, &cx, &mut edits);
        let out = apply(text, &mut edits).into_owned();
        (out, edits)
    }

    fn fix(text: &str) -> String {
        run_with(text, LossyMode::Keep).0
    }

    #[test]
    fn ascii_runs_end_at_the_first_non_ascii_byte() {
        let s = "0123456789abcdefghij".as_bytes();
        for from in 0..s.len() {
            for cut in from..s.len() {
                let mut v = s.to_vec();
                v[cut] = 0xC3;
                assert_eq!(ascii_run_end(&v, from), cut);
            }
            assert_eq!(ascii_run_end(s, from), s.len());
        }
    }

    fn rules_of(text: &str) -> Vec<&'static str> {
        run_with(text, LossyMode::Keep)
            .1
            .iter()
            .map(|e| e.rule().name)
            .collect()
    }

    /// Mangles `s` as UTF-8 read with codepage `cp`.
    fn mangle(s: &str, cp: usize) -> String {
        let t = &*TABLES;
        s.bytes()
            .map(|b| t.dec(cp, b).unwrap_or('\u{FFFD}'))
            .collect()
    }

    fn legacy_mangle(s: &str, real: usize, shown: usize) -> String {
        let t = &*TABLES;
        s.chars()
            .map(|c| t.enc(real, c).and_then(|b| t.dec(shown, b)).unwrap_or('?'))
            .collect()
    }

    #[test]
    fn a_line_longer_than_the_window_is_repaired_in_windows() {
        // One "line" of 60 KB (a file with no newline): damage at both
        // ends, clean Russian in between that must stay as it is.
        let clean_ru =
            "В планах вернуться к ПП было сразу после родов, так как кормить собиралась грудью. ";
        let mut line = String::from("the cafÃ© is open. ");
        while line.len() < 30_000 {
            line.push_str(clean_ru);
        }
        line.push_str("donâ€™t stop. ");
        while line.len() < 60_000 {
            line.push_str(clean_ru);
        }
        line.push_str(&mangle("Президент Путин заявил", CP1251));
        let fixed = fix(&line);
        assert!(fixed.starts_with("the café is open. "), "{}", &fixed[..40]);
        assert!(fixed.contains("don’t stop. "));
        assert!(fixed.ends_with("Президент Путин заявил"));
        assert_eq!(
            fixed.matches(clean_ru).count(),
            line.matches(clean_ru).count()
        );
        // Negative: without damage, nothing is touched.
        let plain: String = clean_ru.repeat(1000);
        assert_eq!(fix(&plain), plain);
    }

    #[test]
    fn utf8_as_cp1252() {
        assert_eq!(fix("donâ€™t stop"), "don’t stop");
        assert_eq!(fix("the cafÃ© is open"), "the café is open");
        assert_eq!(rules_of("the cafÃ© is open"), ["utf8-as-cp1252"]);
        // Negative: real text with the same letters.
        assert_eq!(fix("São Paulo, NÃO, Ångström"), "São Paulo, NÃO, Ångström");
    }

    #[test]
    fn every_codepage_positive_and_negative() {
        let samples = [
            (CP1252, "Le président a été réélu à Zürich"),
            (LATIN1, "Élysée: l’État français"),
            (CP1251, "Президент Путин заявил"),
            (3, "Prezydent Łódź żółw"),
            (4, "Prezydent Łódź żółw"),
            (5, "Η Αθήνα είναι η πρωτεύουσα"),
            (6, "İstanbul’da güneşli bir gün 😀"),
            (7, "Prezidentė gėrė kavą Café Vilniuje"),
            (8, "The café in Zürich is très bien"),
            (9, "The café in Zürich is très bien"),
            (KOI8R, "Президент Путин заявил"),
            (KOI8U, "Президент України заявив"),
            (CP866, "Президент Путин заявил"),
        ];
        for (cp, clean) in samples {
            let bad = mangle(clean, cp);
            assert_ne!(bad, clean);
            let (out, edits) = run_with(&bad, LossyMode::Keep);
            assert_eq!(out, clean, "{} from {bad:?}: {edits:?}", CPS[cp].name);
            // The rule names the codepage; where codepages agree on the
            // damaged bytes the first in priority order is named.
            let exact = [CP1252, LATIN1, CP1251, 5, 8, 9, KOI8R, CP866].contains(&cp);
            assert!(edits.iter().any(|e| e.rule().name == CPS[cp].rule.name) || !exact);
            for e in &edits {
                assert!(e.rule().name.starts_with("utf8-as-"), "{bad:?}");
                assert!(e.reason().starts_with("utf-8 read as "), "{}", e.reason());
            }
            // Negative: the clean text is left alone.
            assert_eq!(fix(clean), clean);
        }
    }

    #[test]
    fn twice_and_three_times() {
        let once = mangle("Café “crème”", CP1252);
        let twice = mangle(&once, CP1252);
        let (out, edits) = run_with(&twice, LossyMode::Keep);
        assert_eq!(out, "Café “crème”");
        assert!(edits[0].reason().contains("twice"), "{}", edits[0].reason());
        let thrice = mangle(&twice, CP1252);
        assert_eq!(fix(&thrice), "Café “crème”");
    }

    #[test]
    fn partial_damage_only_the_span() {
        let text = "President FranÃ§ois Hollande met Путин in Paris.";
        let (out, edits) = run_with(text, LossyMode::Keep);
        assert_eq!(out, "President François Hollande met Путин in Paris.");
        assert_eq!(edits.len(), 1);
        assert_eq!(&text[edits[0].span()], "Ã§");
    }

    #[test]
    fn sloppy_utf8_as_cp1252() {
        assert_eq!(fix("â€œHelloâ€� she said"), "“Hello” she said");
        assert_eq!(fix("â€œHelloâ€? she said"), "“Hello” she said");
        assert_eq!(fix("â€œHelloâ€ she said"), "“Hello” she said");
        assert_eq!(fix("GrÃ cies a tothom"), "Gràcies a tothom");
        assert_eq!(rules_of("GrÃ cies a tothom"), ["sloppy-utf8-as-cp1252"]);
        // Negative: a question after a capital.
        assert_eq!(fix("Is it the ÉCOLE? Yes"), "Is it the ÉCOLE? Yes");
    }

    #[test]
    fn legacy_cyrillic() {
        assert_eq!(fix("President Ïóòèí said"), "President Путин said");
        let clean = "Министр иностранных дел России Сергей Лавров заявил в четверг";
        for (real, shown, rule) in [
            (CP1251, CP1252, "cp1251-as-cp1252"),
            (KOI8R, CP1252, "koi8-as-cp1252"),
            (KOI8R, CP1251, "koi8-as-cp1251"),
            (CP1251, KOI8R, "cp1251-as-koi8"),
            (CP866, CP1251, "cp866-as-cp1251"),
            (CP1251, CP866, "cp1251-as-cp866"),
        ] {
            let bad = legacy_mangle(clean, real, shown);
            let (out, edits) = run_with(&bad, LossyMode::Keep);
            assert_eq!(out, clean, "{rule}: {bad}");
            assert!(
                edits.iter().all(|e| e.rule().name == rule),
                "{rule}: {edits:?}"
            );
        }
        // Negative: Icelandic and brand names.
        assert_eq!(fix("Þú ert þar"), "Þú ert þar");
        assert_eq!(
            fix("Абоненты МегаФон довольны"),
            "Абоненты МегаФон довольны"
        );
    }

    #[test]
    fn lossy_question_marks() {
        let doc = "Title\n\n14/10/2015\n\nPosted by [RT Play](#) on 10 ??????? 2015 ?.\n";
        let (out, edits) = run_with(doc, LossyMode::Keep);
        assert!(out.contains("on 10 октября 2015 г.\n"), "{out}");
        assert_eq!(edits.len(), 1);
        assert!(edits[0].reason().contains("14/10/2015"));
        // Without evidence: a finding, or U+FFFD in mark mode.
        let nodate = "Posted on 10 ??????? 2015 ?.\n";
        let (out, edits) = run_with(nodate, LossyMode::Keep);
        assert_eq!(out, nodate);
        assert_eq!(edits.len(), 2);
        assert!(edits[0].reason().starts_with("7 characters lost"));
        let (out, _) = run_with(nodate, LossyMode::Mark);
        assert_eq!(out, "Posted on 10 \u{FFFD} 2015 \u{FFFD}.\n");
        // Negative: emphasis and a lone question.
        assert_eq!(
            run_with("What??? Really?? Is it ?", LossyMode::Mark)
                .1
                .len(),
            0
        );
    }

    /// `lossy` with the dates read on demand finds what it found with them
    /// read first (for every document with a run of `?`).
    fn assert_lazy_dates(text: &str) {
        for mode in [LossyMode::Keep, LossyMode::Mark] {
            let config = Config {
                lossy: mode,
                ..Config::default()
            };
            let cx = Context {
                config: &config,
                corpus: None,
            };
            let (mut lazy, mut eager) = (Vec::new(), Vec::new());
            lossy_with(text, &cx, &mut lazy, None);
            lossy_with(text, &cx, &mut eager, Some(doc_dates_slow(text)));
            assert_eq!(lazy, eager, "{text:?}");
        }
    }

    #[test]
    fn lossy_dates_read_on_demand_change_nothing() {
        for doc in [
            "Title\n\n14/10/2015\n\nPosted by [RT Play](#) on 10 ??????? 2015 ?.\n",
            "2015-10-14\r\nOn 10 ??????? 2015 ?. and 3 ???? 2015 ?.\r\n",
            "14.10.2015 10/14/2015 on 10 ??????? 2015 ?.",
            "Posted on 10 ??????? 2015 ?.\n",
            "What??? Really?? Is it ?",
            "\u{a0}?? ??\u{a0}10 ???? 2016\n\n01/02/2016 ???",
            "",
        ] {
            assert_lazy_dates(doc);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn lossy_dates_read_on_demand_on_random_text(
            pieces in proptest::collection::vec(0usize..18, 0..40),
        ) {
            const PIECES: [&str; 18] = [
                "?", "??", "???????", " ", "\n", "\r\n", "\u{a0}", "10", "2015", "14/10/2015",
                "2015-10-14", ".", "г.", "октября", "word", "3.7.2015", "?.", LONG,
            ];
            const LONG: &str = "a long line of plain words without any marks in it at all, ";
            let s: String = pieces.iter().map(|&k| PIECES[k]).collect();
            assert_lazy_dates(&s);
        }
    }

    /// `year_dates` finds, for each year written in `doc` (and one that is
    /// not), the dates of that year the regex finds over the whole text.
    fn assert_year_dates(doc: &str) {
        let all = doc_dates_slow(doc);
        let b = doc.as_bytes();
        let mut years: Vec<&str> = (0..b.len().saturating_sub(3))
            .filter(|&k| b[k..k + 4].iter().all(u8::is_ascii_digit))
            .filter_map(|k| doc.get(k..k + 4))
            .collect();
        years.push("1999");
        for digits in years {
            let Ok(year) = digits.parse::<u32>() else {
                continue;
            };
            let want: Vec<Date> = all.iter().filter(|d| d.2 == year).cloned().collect();
            assert_eq!(
                year_dates(doc, digits.as_bytes(), year),
                want,
                "{digits} in {doc:?}"
            );
        }
    }

    #[test]
    fn doc_dates_in_pieces_are_the_dates_of_the_whole_text() {
        for doc in [
            "",
            "14/10/2015",
            "On 14/10/2015 and 2015-10-14.",
            "1/2/2015 3/4/2015 5.6.2015\n7/8/2015",
            "x1/2/20151/2/2015",
            "2015-10-14-2016-01-02 12/13/2014 13/12/2014",
            "\u{a0}3.7.2015\u{a0}Путин 01.02.2003г.\r\n04-05-2006",
            "1.2.3.4.5.6.7.8.9.2010/11/12/2013",
            "page 1-2, 3.5 per cent, 24/7, 10.10.10",
        ] {
            assert_year_dates(doc);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn year_dates_are_the_dates_of_the_whole_text(
            pieces in proptest::collection::vec(0usize..20, 0..80),
        ) {
            const PIECES: [&str; 20] = [
                "1", "2", "12", "31", "2015", "0", "9", ".", "/", "-", " ", "\n", "\r\n",
                "\u{a0}", "г", "a", "?", "14/10/2015", "2015-10-14",
                "a long line of words with no digits in it at all, ",
            ];
            let s: String = pieces.iter().map(|&k| PIECES[k]).collect();
            assert_year_dates(&s);
        }
    }

    #[test]
    fn clean_text_in_any_script_is_left_alone() {
        for clean in [
            "Путин заявил, что «Газпром» готов. Рёв моторов. В\u{A0}Москве — 5 °C.",
            "Сірий кіт і їжак. СІЧНЯ. Ні, дякую.",
            "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
            "İstanbul’da güneşli bir gün, ağaçlar yeşil.",
            "Zażółć gęślą jaźń. WSPÓŁPRACA, ŁÓDŹ, ĆŚ.",
            "Příliš žluťoučký kůň úpěl ďábelské ódy. ŮŽ",
            "Tiếng Việt có dấu: người, được, Hà Nội.",
            "中文文本，日本語のテキスト、한국어",
            "العربية لغة جميلة. עברית שפה יפה.",
            "Emoji 😀👍🏽 and math: x ≤ y, √2 ≈ 1.414, α≤β, ∞.",
            "« Il a été élu », dit-il. CAFÉ” ÉCOLE",
            "the page showed \"Ã©\" instead of \"é\"",
            "Le 14 octobre 2015, à Paris. Am 14. Oktober 2015 in München.",
        ] {
            let (out, edits) = run_with(clean, LossyMode::Keep);
            assert_eq!(out, clean, "{edits:?}");
        }
    }

    #[test]
    fn idempotent() {
        for bad in ["donâ€™t", "РџСѓС‚РёРЅ Р·Р°СЏРІРёР»", "Ïóòèí ñêàçàë"]
        {
            let once = fix(bad);
            let (twice, edits) = run_with(&once, LossyMode::Keep);
            assert_eq!(twice, once);
            assert!(edits.is_empty());
        }
    }

    /// Trigger positions with the scan state at each, and the state at the
    /// end, as `find_once` meets them.
    fn triggers<const FAST: bool>(text: &str) -> Vec<(usize, Scan)> {
        let t = &*TABLES;
        let mut st = Scan::default();
        let mut i = 0;
        let mut v = Vec::new();
        while let Some(at) = next_trigger::<FAST>(text, i, t, &mut st) {
            v.push((at, st));
            i = line_bounds(text.as_bytes(), at).1;
        }
        v.push((text.len(), st));
        v
    }

    fn assert_fast_scan(text: &str) {
        assert_eq!(triggers::<true>(text), triggers::<false>(text), "{text:?}");
    }

    #[test]
    fn plain_letters_carry_no_other_sign() {
        let t = &*TABLES;
        for u in 0x400..0x480u32 {
            let Some(c) = char::from_u32(u) else { continue };
            let info = t.info(c);
            let mut buf = [0u8; 2];
            let b = c.encode_utf8(&mut buf).as_bytes();
            assert_eq!(t.cyr[cyr_index(b[0], b[1])], info, "{c}");
            if info & PLAIN_CYR != 0 {
                assert_eq!(info & (LEG | BOXY | LATIN | SLOPPY_LEAD), 0, "{c}");
                assert!((info & CYR_LO != 0) != (info & CYR_UP != 0), "{c}");
            }
        }
    }

    /// `cyr_bad` on every byte triple that valid UTF-8 can hold, against
    /// the character tables.
    #[test]
    fn cyr_bad_agrees_with_the_tables() {
        let t = &*TABLES;
        for b in 0..=255u8 {
            let conts: Vec<u8> = if b >= 0xC0 {
                (0x80..=0xBF).collect()
            } else {
                (0..=255).collect()
            };
            for &c in &conts {
                let letter = match b {
                    0xD0 | 0xD1 => {
                        let info = t.cyr[cyr_index(b, c)];
                        let u = 0x400 + cyr_index(b, c);
                        assert!(!(0x410..0x450).contains(&u) || info & PLAIN_CYR != 0);
                        (0x410..0x450).contains(&u).then_some(info & CYR_UP != 0)
                    }
                    _ => None,
                };
                for p in 0..=255u8 {
                    let want = match (b, letter) {
                        (0..=0xBF, _) => false,
                        (_, None) => true,
                        (_, Some(upper)) => p.is_ascii_alphabetic() || (upper && p >= 0x80),
                    };
                    assert_eq!(cyr_bad(p, b, c), want, "{p:x} {b:x} {c:x}");
                }
            }
        }
    }

    #[test]
    fn cyr_bad_mask_is_cyr_bad_at_each_byte() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let pool = [
            0x20, b'a', b'.', 0xD0, 0xD1, 0xD2, 0xC3, 0xE2, 0x80, 0x90, 0xB0, 0x81, 0x91, 0xBF,
        ];
        for _ in 0..20_000 {
            let mut w = [0u8; 34];
            for x in w.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *x = pool[(seed % pool.len() as u64) as usize];
            }
            let mut want = 0u32;
            for k in 0..32 {
                want |= u32::from(cyr_bad(w[k], w[k + 1], w[k + 2])) << k;
            }
            assert_eq!(cyr_bad_mask(&w), want, "{w:x?}");
        }
    }

    const SCAN_CHARS: [&str; 30] = [
        " ", "a", "S", "1", ".", "?", "\n", "\r\n", "\u{A0}", "Г", "ё", "я", "Я", "Ё", "ї", "ґ",
        "Ѓ", "ѕ", "р", "Р", "Ã", "â", "Ð", "Ñ", "©", "╨", "€", "«", "\u{FFFD}", "é",
    ];

    /// Every string of up to three of the characters that matter to the
    /// scan, and of five of the Cyrillic ones with separators.
    #[test]
    fn fast_scan_is_the_slow_scan_on_short_strings() {
        let n = SCAN_CHARS.len();
        for first in SCAN_CHARS {
            for b in 0..=n {
                for c in 0..=n {
                    let mut s = String::from(first);
                    for k in [b, c] {
                        if k < n {
                            s.push_str(SCAN_CHARS[k]);
                        }
                    }
                    assert_fast_scan(&s);
                }
            }
        }
        let few = [
            " ", "a", "\n", "Г", "ё", "я", "Я", "р", "Р", "\u{A0}", "Ѓ", "?",
        ];
        let m = few.len();
        for code in 0..m.pow(5) {
            let mut s = String::new();
            let mut x = code;
            for _ in 0..5 {
                s.push_str(few[x % m]);
                x /= m;
            }
            assert_fast_scan(&s);
        }
    }

    #[test]
    fn fast_scan_is_the_slow_scan_on_long_text() {
        let para = "Президент Владимир Путин заявил, что «Газпром» готов. \
            В\u{A0}Москве — 5 °C. ПРАВИТЕЛЬСТВО РОССИИ. Сірий кіт і їжак ґанок. \
            SГёren and Ñ and РџСѓС‚РёРЅ Р·Р°СЏРІРёР» and Ïóòèí and donâ€™t. ";
        let mut text = String::new();
        for k in 0..400 {
            text.push_str(para);
            text.push_str(["\n", "\r\n", " ", "", "\n\n"][k % 5]);
        }
        assert_fast_scan(&text);
        // One line longer than the window, clean and damaged.
        assert_fast_scan(&text.replace(['\n', '\r'], " "));
        let clean = "Министр иностранных дел России Сергей Лавров заявил в четверг. ";
        assert_fast_scan(&clean.repeat(500));
        assert_fast_scan(&format!("{}Ã©{}", clean.repeat(300), clean.repeat(300)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn fast_scan_is_the_slow_scan(
            pieces in proptest::collection::vec(
                (0..SCAN_CHARS.len() + 8, 1..40usize),
                0..120,
            ),
        ) {
            const WORDS: [&str; 8] = [
                "Путин", "заявил", "ПРАВИТЕЛЬСТВО", "дел России", "Москва",
                "МегаФон", "Бјорн", "ещё",
            ];
            let mut s = String::new();
            for (k, reps) in pieces {
                let piece = match SCAN_CHARS.get(k) {
                    Some(c) => c,
                    None => WORDS[k - SCAN_CHARS.len()],
                };
                for _ in 0..reps.min(if piece.chars().count() > 1 { 3 } else { 40 }) {
                    s.push_str(piece);
                }
            }
            proptest::prop_assert_eq!(triggers::<true>(&s), triggers::<false>(&s));
        }
    }

    #[test]
    fn class_table_is_class_slow() {
        let t = &*TABLES;
        for u in 0x80..LIMIT as u32 {
            let Some(c) = char::from_u32(u) else { continue };
            let k = class_slow(c);
            assert_eq!(class(c), k, "{c:?}");
            let latin = matches!(k, K::LatLo | K::LatUp);
            assert_eq!(t.info(c) & LATIN != 0, latin, "{c:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        #[test]
        fn find_hits_is_find_hits_slow(
            ks in proptest::collection::vec(0..SCAN_CHARS.len() + 12, 0..60),
        ) {
            const MORE: [&str; 12] = [
                "€", "™", "œ", "¤", "ï", "Ï", "ð", "╤", "√", "ﬁ", "\u{81}", "\u{9D}",
            ];
            let s: String = ks
                .iter()
                .map(|&k| SCAN_CHARS.get(k).copied().unwrap_or_else(|| MORE[k - SCAN_CHARS.len()]))
                .collect();
            let t = &*TABLES;
            let cs: Vec<(usize, char)> = s.char_indices().collect();
            let infos: Vec<u64> = cs.iter().map(|x| t.info(x.1)).collect();
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            for cp in 0..NCP {
                find_hits(&cs, &infos, cp, t, &mut fast);
                find_hits_slow(&cs, cp, t, &mut slow);
                proptest::prop_assert_eq!(&fast, &slow, "{} {:?}", cp, s);
                // Sorted, disjoint, inside the line (`repair_line` counts
                // scripts by subtraction).
                let mut end = 0;
                for h in &fast {
                    proptest::prop_assert!(h.i >= end && h.n > 0 && h.i + h.n <= cs.len());
                    end = h.i + h.n;
                }
            }
        }
    }

    #[test]
    fn find_hits_is_find_hits_slow_on_mojibake() {
        let t = &*TABLES;
        let text = "donâ€™t РџСѓС‚РёРЅ Ã©tÃ© â€œHiâ€� GrÃ cies п÷я┐я┌п╦п╫ ╨Я╤Г caf√© ĹĽĂłĹ‚w Ξ‘ΞΈΞ®Ξ½Ξ± Ä°stanbul LietuvÄ— caf├⌐";
        let cs: Vec<(usize, char)> = text.char_indices().collect();
        let infos: Vec<u64> = cs.iter().map(|x| t.info(x.1)).collect();
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for cp in 0..NCP {
            find_hits(&cs, &infos, cp, t, &mut fast);
            find_hits_slow(&cs, cp, t, &mut slow);
            assert_eq!(fast, slow, "{cp}");
        }
    }

    #[test]
    fn rarity_table_is_rarity_slow() {
        for u in 0..0x11_0000u32 {
            let Some(c) = char::from_u32(u) else { continue };
            assert_eq!(rarity(c), rarity_slow(c), "{c:?}");
        }
    }

    /// The scripts of a line without a codepage's hits are counted by
    /// subtraction: hits are sorted, disjoint and inside the line.
    #[test]
    fn hits_are_sorted_disjoint_and_inside_the_line() {
        let t = &*TABLES;
        let text = "donâ€™t РџСѓС‚РёРЅ Ã©tÃ© â€œHiâ€� â€ GrÃ cies ÃƒÂ© Ð¾ÑÑÐ¸Ñ п÷я┐я┌ ╨Я╤Г caf√© ĹĽĂłĹ‚w Ä°stanbul Ã? Ã\u{FFFD} ÐŸ";
        let cs: Vec<(usize, char)> = text.char_indices().collect();
        let infos: Vec<u64> = cs.iter().map(|x| t.info(x.1)).collect();
        let mut hits = Vec::new();
        for cp in 0..NCP {
            find_hits(&cs, &infos, cp, t, &mut hits);
            let mut end = 0;
            for h in &hits {
                assert!(h.i >= end && h.n > 0 && h.i + h.n <= cs.len(), "{cp} {h:?}");
                end = h.i + h.n;
            }
        }
    }

    #[test]
    fn rules_are_listed_once() {
        let mut names: Vec<_> = RULES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
    }
}
