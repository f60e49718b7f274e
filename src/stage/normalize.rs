//! Stage 6, normalize: NFC, odd spaces, invisible and control characters,
//! line endings, trailing whitespace, blank-line runs, a final newline.
//!
//! One pass over the lines (memchr), each line scanned once; a pure-ASCII
//! line is scanned as bytes. Every rule is an edit of its own, and the
//! edits of one line never overlap: trailing whitespace is cut as one edit,
//! the line end as another, and characters inside the line as others.

use std::borrow::Cow;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::edit::{Edit, Rule};
use crate::pipeline::Context;
use crate::stage::Stage;

/// A CRLF line end.
///
/// Why: Windows line ends; one convention makes diffs and line tools work.
/// Example: `a\r\nb` -> `a\nb`
/// Risk: none.
pub static CRLF_LINE_END: Rule =
    Rule::new(Stage::Normalize, "crlf-line-end", "CRLF line end made LF");

/// A lone CR line end (old Mac convention).
///
/// Why: a line break that most tools do not see.
/// Example: `a\rb` -> `a\nb`
/// Risk: none.
pub static CR_LINE_END: Rule = Rule::new(Stage::Normalize, "cr-line-end", "CR line end made LF");

/// Spaces and tabs (and other Unicode spaces) at the end of a line.
///
/// Why: invisible, and they make diffs noisy.
/// Example: `said. \u{A0}` -> `said.`
/// Risk: none.
pub static TRAILING_WHITESPACE: Rule = Rule::new(
    Stage::Normalize,
    "trailing-whitespace",
    "whitespace at the end of a line removed",
);

/// Blank lines before the first line of text.
///
/// Why: extraction residue; a document starts with its first line.
/// Example: `\n\nHeadline` -> `Headline`
/// Risk: none.
pub static LEADING_BLANK_LINES: Rule = Rule::new(
    Stage::Normalize,
    "leading-blank-lines",
    "blank lines at the start removed",
);

/// Two or more blank lines in a row.
///
/// Why: one blank line separates paragraphs; more is layout residue.
/// Example: `a\n\n\n\nb` -> `a\n\nb`
/// Risk: poetry or code that spaces with several blank lines.
pub static BLANK_LINE_RUN: Rule = Rule::new(
    Stage::Normalize,
    "blank-line-run",
    "run of blank lines collapsed to one",
);

/// Blank lines after the last line of text.
///
/// Why: a text file ends with its last line and one newline.
/// Example: `end.\n\n\n` -> `end.\n`
/// Risk: none.
pub static TRAILING_BLANK_LINES: Rule = Rule::new(
    Stage::Normalize,
    "trailing-blank-lines",
    "blank lines at the end removed",
);

/// A last line without a newline.
///
/// Why: POSIX text files end with a newline; `cat` and diffs expect it.
/// Example: `end.` -> `end.\n`
/// Risk: none.
pub static MISSING_FINAL_NEWLINE: Rule = Rule::new(
    Stage::Normalize,
    "missing-final-newline",
    "newline added at the end of the text",
);

/// A run of spaces that holds a NO-BREAK, narrow, thin or other fixed-width space.
///
/// Why: web pages use `&nbsp;` for layout; the text wants one plain space
/// (QUOTES.md R9).
/// Example: `on\u{A0}the`, `Nusra\u{A0}— \u{A0}it` -> `on the`, `Nusra — it`
/// Risk: French typography's thin space before `;:!?` becomes a plain space.
pub static NBSP_RUN: Rule = Rule::new(
    Stage::Normalize,
    "nbsp-run",
    "no-break, narrow or thin space made one plain space",
);

/// Zero-width and invisible formatting characters.
///
/// Why: they break search and tokenisation and carry nothing in prose.
/// ZWJ/ZWNJ between two non-ASCII characters are kept: emoji sequences and
/// Persian or Indic spelling need them.
/// Example: `Mos\u{200B}cow` -> `Moscow`
/// Risk: ZWJ/ZWNJ next to ASCII in a script that needs them.
pub static ZERO_WIDTH_CHAR: Rule = Rule::new(
    Stage::Normalize,
    "zero-width-char",
    "zero-width character removed",
);

/// SOFT HYPHEN (U+00AD).
///
/// Why: an invisible hyphenation hint left by CMS editors; it splits words for search.
/// Example: `inter\u{AD}national` -> `international`
/// Risk: none in plain text.
pub static SOFT_HYPHEN: Rule = Rule::new(Stage::Normalize, "soft-hyphen", "soft hyphen removed");

/// C0 and C1 control characters other than tab and newline, and DEL.
///
/// Why: they are not text; left in, they break terminals and parsers.
/// Example: `a\u{7}b` -> `ab`
/// Risk: none; tab and newline are kept.
pub static CONTROL_CHAR: Rule = Rule::new(
    Stage::Normalize,
    "control-char",
    "control character removed",
);

/// Text not in Unicode Normalization Form C.
///
/// Why: `é` as `e` + U+0301 and as U+00E9 must compare equal.
/// Example: `Cafe\u{301}` -> `Café`
/// Risk: none for text (NFC is canonical equivalence).
pub static NON_NFC: Rule = Rule::new(Stage::Normalize, "non-nfc", "text composed to NFC");

/// The rules of this stage.
pub static RULES: &[&Rule] = &[
    &CRLF_LINE_END,
    &CR_LINE_END,
    &TRAILING_WHITESPACE,
    &LEADING_BLANK_LINES,
    &BLANK_LINE_RUN,
    &TRAILING_BLANK_LINES,
    &MISSING_FINAL_NEWLINE,
    &NBSP_RUN,
    &ZERO_WIDTH_CHAR,
    &SOFT_HYPHEN,
    &CONTROL_CHAR,
    &NON_NFC,
];

/// A fixed-width or no-break space that stands for a plain space.
fn is_odd_space(c: char) -> bool {
    matches!(
        c,
        '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}'
    )
}

/// Invisible characters removed wherever they are (ZWJ/ZWNJ are handled apart).
fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{180E}')
}

fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

fn is_control(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n' && c != '\r') || c == '\u{7F}'
}

/// Whitespace for the purpose of blank lines and line ends: also the
/// invisible characters this stage removes, so that a line of nothing but
/// those counts as blank (and the result is stable).
fn is_blankish(c: char) -> bool {
    c.is_whitespace() || is_zero_width(c) || is_joiner(c) || c == '\u{AD}' || is_control(c)
}

/// Whether `c` starts a new normalization segment: nothing before it can
/// compose with it.
fn is_stable_starter(c: char) -> bool {
    (c as u32) < 0x300 || is_plain(c) || stable_starter_uncached(c)
}

fn stable_starter_uncached(c: char) -> bool {
    // The common letters of Latin-1/Extended, Cyrillic, general punctuation,
    // kana, CJK and Hangul syllables are all stable starters (combining
    // class 0, NFC quick check Yes): answer those without a table lookup.
    let u = c as u32;
    if u < 0x300
        || (0x400..=0x482).contains(&u)
        || (0x48A..=0x52F).contains(&u)
        || (0x2010..=0x2027).contains(&u)
        || (0x3041..=0x3096).contains(&u)
        || (0x30A1..=0x30FA).contains(&u)
        || (0x4E00..=0x9FFF).contains(&u)
        || (0xAC00..=0xD7A3).contains(&u)
    {
        return true;
    }
    canonical_combining_class(c) == 0 && is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes
}

/// Whether a character can never take part in an edit of this stage: a
/// stable starter that is not a space, invisible, soft hyphen or control.
/// A line of such characters (and ASCII spaces and tabs) is already NFC and
/// has nothing to change inside it.
fn is_plain(c: char) -> bool {
    let u = c as u32;
    if u >= 0x1_0000 {
        return plain_uncached(c);
    }
    is_plain_bmp(u)
}

/// [`is_plain`] for a code point of the Basic Multilingual Plane, from a
/// bit table filled one block of 256 code points at a time, when a
/// character of the block first comes.
#[inline]
fn is_plain_bmp(u: u32) -> bool {
    let block = (u >> 8) as usize & 0xFF;
    if !PLAIN_READY[block].load(Ordering::Acquire) {
        fill_plain_block(block);
    }
    (PLAIN_BITS[(u >> 6) as usize & 0x3FF].load(Ordering::Relaxed) >> (u & 63)) & 1 != 0
}

#[cold]
fn fill_plain_block(block: usize) {
    for word in 0..4 {
        let mut bits = 0u64;
        for bit in 0..64 {
            let v = ((block << 8) | (word << 6) | bit) as u32;
            if char::from_u32(v).is_some_and(plain_uncached) {
                bits |= 1 << bit;
            }
        }
        // Threads that fill one block at once store the same bits.
        PLAIN_BITS[block * 4 + word].store(bits, Ordering::Relaxed);
    }
    PLAIN_READY[block].store(true, Ordering::Release);
}

fn plain_uncached(c: char) -> bool {
    stable_starter_uncached(c)
        && !is_odd_space(c)
        && !is_zero_width(c)
        && !is_joiner(c)
        && c != '\u{AD}'
        && !is_control(c)
}

/// [`is_plain`] of U+0000..U+07FF (every char of one or two bytes in
/// UTF-8), one bit each: the table [`scan_line`] reads for two-byte chars,
/// without the readiness check of [`is_plain_bmp`].
static PLAIN_LOW: LazyLock<[u64; 32]> = LazyLock::new(|| {
    let mut bits = [0u64; 32];
    for (w, word) in bits.iter_mut().enumerate() {
        for bit in 0..64 {
            let v = ((w << 6) | bit) as u32;
            if char::from_u32(v).is_some_and(plain_uncached) {
                *word |= 1 << bit;
            }
        }
    }
    bits
});

/// [`is_plain`] of each code point of the Basic Multilingual Plane, valid for
/// the blocks marked in `PLAIN_READY`.
static PLAIN_BITS: [AtomicU64; 1024] = [const { AtomicU64::new(0) }; 1024];
static PLAIN_READY: [AtomicBool; 256] = [const { AtomicBool::new(false) }; 256];

/// The length of the longest prefix of `b` made of printable ASCII
/// (`0x20..=0x7E`), eight bytes at a time.
#[inline]
fn printable_ascii_prefix(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let not_printable = |word: &[u8; 8]| {
        let x = u64::from_le_bytes(*word);
        // Per byte, without carries between bytes: bit 7 of `low + 1` is
        // set for 0x7F, bit 7 of `low + 0x60` for 0x20 and above.
        let low = x & !HIGH;
        ((low + ONES) | x | !(low + 0x60 * ONES)) & HIGH
    };
    // The first eight bytes alone: runs between non-ASCII words are short.
    let Some(first) = b.first_chunk::<8>() else {
        return b
            .iter()
            .position(|&c| !(0x20..0x7F).contains(&c))
            .unwrap_or(b.len());
    };
    let bad = not_printable(first);
    if bad != 0 {
        return (bad.trailing_zeros() / 8) as usize;
    }
    let mut i = 8;
    // Then 32 bytes at a time: a branch-free fold that the compiler turns
    // into vector code; the chunk that holds the first other byte is
    // looked at again eight bytes at a time (below).
    while let Some(chunk) = b[i..].first_chunk::<32>() {
        let other = chunk
            .iter()
            .fold(0u8, |acc, &c| acc | u8::from(c.wrapping_sub(0x20) >= 0x5F));
        if other != 0 {
            break;
        }
        i += 32;
    }
    while let Some(word) = b[i..].first_chunk::<8>() {
        let bad = not_printable(word);
        if bad != 0 {
            return i + (bad.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| !(0x20..0x7F).contains(&c))
        .unwrap_or(b.len() - i)
}

/// What [`scan_line`] found in a line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scan {
    /// Printable ASCII, tabs and [`is_plain`] characters: nothing inside
    /// the line can change.
    Plain,
    /// Only stable starters: the line is NFC, and stays NFC whatever is
    /// deleted from it or made a space.
    Starters,
    /// Anything else.
    Other,
}

/// Scans the line that starts at `pos`: where its content ends (at `\r`,
/// `\n` or the end of the text), and what it holds.
fn scan_line(text: &str, pos: usize) -> (usize, Scan) {
    let bytes = text.as_bytes();
    let cont = |k: usize| u32::from(bytes.get(k).copied().unwrap_or(0x80) & 0x3F);
    let low: &[u64; 32] = &PLAIN_LOW;
    // Whether the chars of the lead bytes D0 and D1 (U+0400..U+047F) are all plain.
    let cyrillic_plain = low[0x10] == u64::MAX && low[0x11] == u64::MAX;
    let mut i = pos;
    let mut scan = Scan::Plain;
    loop {
        let Some(&b) = bytes.get(i) else {
            return (i, scan);
        };
        // Characters of the Basic Multilingual Plane are decoded by hand
        // (`text` is valid UTF-8) and looked up in the table.
        let (plain, len) = match b {
            0x20..=0x7E => {
                i += printable_ascii_prefix(&bytes[i..]);
                continue;
            }
            b'\n' | b'\r' => return (i, scan),
            b'\t' => (true, 1),
            0..=0x7F => (false, 1),
            0x80..=0xDF => {
                // A run of two-byte chars, maybe with single spaces between
                // them (Cyrillic, Greek, accented Latin), read in this loop
                // while they are plain. Below U+0800: the index is below 32.
                let mut j = i;
                loop {
                    // Four Cyrillic letters of U+0400..U+047F (lead byte D0
                    // or D1, whose 64 chars are all plain) at a time.
                    if cyrillic_plain {
                        while let Some(w) = bytes.get(j..j + 8).and_then(|w| w.first_chunk::<8>()) {
                            // Even bytes D0 or D1, odd bytes continuation bytes.
                            let x = u64::from_le_bytes(*w);
                            if x & 0xC0FE_C0FE_C0FE_C0FE != 0x80D0_80D0_80D0_80D0 {
                                break;
                            }
                            j += 8;
                        }
                        if !matches!(bytes.get(j), Some(0x80..=0xDF)) {
                            break;
                        }
                    }
                    let lead = bytes.get(j).copied().unwrap_or(0);
                    let u = (u32::from(lead & 0x1F) << 6) | cont(j + 1);
                    if (low[(u >> 6) as usize & 31] >> (u & 63)) & 1 == 0 {
                        break;
                    }
                    j += 2;
                    match bytes.get(j) {
                        Some(0x80..=0xDF) => {}
                        Some(b' ') if matches!(bytes.get(j + 1), Some(0x80..=0xDF)) => j += 1,
                        _ => break,
                    }
                }
                if j > i {
                    i = j;
                    continue;
                }
                (false, 2)
            }
            0xE0..=0xEF => {
                let u = (u32::from(b & 0x0F) << 12) | (cont(i + 1) << 6) | cont(i + 2);
                (is_plain_bmp(u), 3)
            }
            _ => (text[i..].chars().next().is_some_and(plain_uncached), 4),
        };
        if !plain {
            let c = text[i..].chars().next().unwrap_or('\0');
            if !is_stable_starter(c) {
                break;
            }
            scan = Scan::Starters;
        }
        i += len;
    }
    let end = memchr::memchr2(b'\n', b'\r', &bytes[i..]).map_or(bytes.len(), |k| i + k);
    (end, Scan::Other)
}

/// Finds this stage's edits in `text`.
pub(crate) fn find(text: &str, cx: &Context<'_>, out: &mut Vec<Edit>) {
    find_lines(text, cx, true, out);
}

/// [`find`]; without `fast`, every line is looked at character by
/// character (the tests check that this finds the same).
fn find_lines(text: &str, cx: &Context<'_>, fast: bool, out: &mut Vec<Edit>) {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut seen_text = false;
    // Blank lines waiting for the next line of text: (start of run, end of first line, end of run).
    let mut blank_run: Option<(usize, usize, usize)> = None;
    let mut last_had_end = true;
    while pos < bytes.len() {
        let (content_end, scan) = scan_line(text, pos);
        let scan = if fast { scan } else { Scan::Other };
        let (term_end, term_rule) = match bytes.get(content_end) {
            Some(b'\r') if bytes.get(content_end + 1) == Some(&b'\n') => {
                (content_end + 2, Some(&CRLF_LINE_END))
            }
            Some(b'\r') => (content_end + 1, Some(&CR_LINE_END)),
            Some(_) => (content_end + 1, None),
            None => (content_end, None),
        };
        let line = &text[pos..content_end];
        let blank = if line
            .as_bytes()
            .first()
            .is_some_and(|&b| b > b' ' && b < 0x7F)
        {
            false
        } else if line.is_ascii() {
            line.bytes().all(|b| b <= b' ' || b == 0x7F)
        } else {
            line.chars().all(is_blankish)
        };
        if blank {
            blank_run = Some(match blank_run {
                Some((s, first, _)) => (s, first, term_end),
                None => (pos, term_end, term_end),
            });
        } else {
            if let Some((s, first, end)) = blank_run.take() {
                if seen_text {
                    if &text[s..first] != "\n" {
                        let rule = if bytes[s] == b'\r' {
                            if first - s == 2 {
                                &CRLF_LINE_END
                            } else {
                                &CR_LINE_END
                            }
                        } else {
                            &TRAILING_WHITESPACE
                        };
                        out.push(Edit::replace(s..first, "\n", rule));
                    }
                    if end > first {
                        out.push(Edit::delete(first..end, &BLANK_LINE_RUN));
                    }
                } else {
                    out.push(Edit::delete(s..end, &LEADING_BLANK_LINES));
                }
            }
            seen_text = true;
            line_edits(text, pos, content_end, scan, fast, out);
            if let Some(rule) = term_rule {
                out.push(Edit::replace(content_end..term_end, "\n", rule));
            }
            last_had_end = term_end > content_end;
        }
        pos = term_end;
    }
    match blank_run {
        Some((s, _, end)) => {
            let rule = if seen_text {
                &TRAILING_BLANK_LINES
            } else {
                &LEADING_BLANK_LINES
            };
            out.push(Edit::delete(s..end, rule));
        }
        None if seen_text && !last_had_end && cx.config.final_newline => {
            out.push(Edit::insert(bytes.len(), "\n", &MISSING_FINAL_NEWLINE))
        }
        None => {}
    }
}

/// Edits inside one line of text `start..end` (no line end, not blank),
/// which holds what `scan` says; `fast` as for [`find_lines`].
fn line_edits(text: &str, start: usize, end: usize, scan: Scan, fast: bool, out: &mut Vec<Edit>) {
    let line = &text[start..end];
    if scan == Scan::Plain
        && line
            .as_bytes()
            .last()
            .is_some_and(|&b| b > b' ' && b < 0x7F)
    {
        return;
    }
    let trimmed = if line.is_ascii() {
        line.trim_end_matches(|c: char| c == ' ' || c.is_ascii_control())
    } else {
        line.trim_end_matches(is_blankish)
    };
    let body_end = start + trimmed.len();
    let first = out.len();
    if scan == Scan::Plain {
        // Nothing inside the line to change.
    } else if trimmed.is_ascii() {
        for (i, b) in trimmed.bytes().enumerate() {
            if (b < 0x20 && b != b'\t') || b == 0x7F {
                out.push(Edit::delete(start + i..start + i + 1, &CONTROL_CHAR));
            }
        }
    } else {
        if fast {
            char_edits_regions(trimmed, start, out);
        } else {
            char_edits::<false>(trimmed, start, out);
        }
        // A deletion can leave a combining mark after a new neighbour; if
        // the line would come out un-normalized, make the line one NFC edit.
        if scan == Scan::Other
            && (out.len() > first || is_nfc_quick(trimmed.chars()) != IsNormalized::Yes)
        {
            let mut local: Vec<Edit> = out[first..]
                .iter()
                .map(|e| {
                    let s = e.span();
                    Edit::replace(
                        s.start - start..s.end - start,
                        e.inserted().to_owned(),
                        e.rule(),
                    )
                })
                .collect();
            let result = crate::edit::apply(trimmed, &mut local);
            if !unicode_normalization::is_nfc(&result) {
                let fixed: String = result.nfc().collect();
                out.truncate(first);
                out.push(Edit::replace(start..body_end, fixed, &NON_NFC));
            }
        }
    }
    if body_end < end {
        out.push(Edit::delete(body_end..end, &TRAILING_WHITESPACE));
    }
}

/// Characters this stage removes, or may (joiners): a joiner's neighbours
/// are read past them, so that a second run, which sees them gone, keeps
/// or removes it the same way (`â` ZWNJ ZWJ `(` loses both joiners at once).
fn is_removed(c: char) -> bool {
    is_zero_width(c) || is_joiner(c) || c == '\u{AD}' || is_control(c)
}

/// The end of the run of chars from `i` that are spaces or could take part
/// in no edit of [`char_edits`] on their own: printable ASCII, tabs and
/// [`is_plain`] chars.
fn plain_run_end(s: &str, mut i: usize) -> usize {
    let b = s.as_bytes();
    loop {
        i += printable_ascii_prefix(&b[i..]);
        match b.get(i) {
            None => return i,
            Some(b'\t') => i += 1,
            Some(&c) if c >= 0x80 => match s[i..].chars().next() {
                Some(c) if is_plain(c) => i += c.len_utf8(),
                _ => return i,
            },
            Some(_) => return i,
        }
    }
}

/// [`char_edits`] read only around the chars that can take part in an
/// edit: a long line with one NO-BREAK SPACE is not read char by char.
///
/// The line is cut into regions, each read by [`char_edits`] on its own. A
/// region ends just after the first non-space char of a run of
/// [`plain_run_end`] chars, and the next one starts at the last non-space
/// char of that run (if the run has two); what lies between them makes no
/// edit. Why each region finds what the whole line finds: a run of spaces
/// never crosses a non-space char; the char after a region's last
/// interesting char (what a space run, a joiner or a normalization
/// segment looks at next) is in the region, or is a plain char, which is
/// a stable starter, read as the end of the text is; and a region starts
/// with a char that stays, so a joiner in it sees the same char before it.
fn char_edits_regions(s: &str, base: usize, out: &mut Vec<Edit>) {
    let b = s.as_bytes();
    // The start of the region being read, once an interesting char is met.
    let mut region: Option<usize> = None;
    let mut i = 0;
    loop {
        let end = plain_run_end(s, i);
        // The first and the last non-space char of the run.
        let first = b[i..end].iter().position(|&c| c != b' ').map(|k| i + k);
        let last = b[i..end].iter().rposition(|&c| c != b' ').map(|k| {
            // The start of the char whose last byte is at `i + k`.
            let mut st = i + k;
            while st > i && (b[st] & 0xC0) == 0x80 {
                st -= 1;
            }
            st
        });
        let cut = match (first, last) {
            (Some(f), Some(l)) if l > f => Some((f, l)),
            _ => None,
        };
        if let Some(r) = region {
            let close = match cut {
                Some((f, _)) => Some(f + s[f..].chars().next().map_or(1, char::len_utf8)),
                None if end == s.len() => Some(end),
                None => None,
            };
            if let Some(close) = close {
                char_edits::<true>(&s[r..close], base + r, out);
                region = None;
            }
        }
        if end == s.len() {
            return;
        }
        if region.is_none() {
            region = Some(match (cut, last) {
                (Some((_, l)), _) => l,
                // A run with one non-space char: the region starts there.
                (None, Some(l)) => l,
                (None, None) if i == 0 => 0,
                (None, None) => i,
            });
        }
        // Past the interesting char at `end`.
        i = end + s[end..].chars().next().map_or(1, char::len_utf8);
    }
}

/// Edits for the characters of `s` (non-ASCII), which starts at `base` in the text.
///
/// With `FAST`, a char that can take part in no edit ([`is_plain`], or
/// printable ASCII other than the space, or a tab) and that starts no
/// normalization segment (the next char is a stable starter) is passed
/// over at once: all the loop below would do with it is make it `prev`.
/// The tests check that both ways find the same.
fn char_edits<const FAST: bool>(s: &str, base: usize, out: &mut Vec<Edit>) {
    let mut it = s.char_indices().peekable();
    // The last character before the current one that stays.
    let mut prev: Option<char> = None;
    // The next character that stays after a joiner, and where it is (a
    // run of joiners is scanned once).
    let mut next_kept: Option<(usize, Option<char>)> = None;
    while let Some((i, c)) = it.next() {
        if FAST {
            let plain = if c.is_ascii() {
                (c > ' ' && c < '\u{7F}') || c == '\t'
            } else {
                is_plain(c)
            };
            if plain && it.peek().is_none_or(|&(_, d)| is_stable_starter(d)) {
                prev = Some(c);
                continue;
            }
        }
        if c == ' ' || is_odd_space(c) || is_zero_width(c) {
            // A run of spaces and invisibles.
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = it.peek() {
                if d == ' ' || is_odd_space(d) || is_zero_width(d) {
                    end = j + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            let next = it.peek().map(|&(_, d)| d);
            let mut run = &s[i..end];
            if next.is_some_and(|d| !is_stable_starter(d) && is_combining_mark(d)) {
                // NBSP + combining mark is how an isolated mark is written:
                // the space that carries the mark stays. (Only before a
                // mark: a compatibility ideograph such as U+F900 is no
                // stable starter either, but NFC makes it one, and a second
                // run would then replace the space.)
                if let Some(last) = run.chars().last().filter(|&l| is_odd_space(l) || l == ' ') {
                    run = &run[..run.len() - last.len_utf8()];
                }
            }
            let odd = run.chars().any(is_odd_space);
            let zw = run.chars().any(is_zero_width);
            let spaces = run.contains(' ');
            if odd || zw {
                if odd || spaces {
                    if run != " " {
                        let rule = if odd { &NBSP_RUN } else { &ZERO_WIDTH_CHAR };
                        out.push(Edit::replace(base + i..base + i + run.len(), " ", rule));
                    }
                } else {
                    out.push(Edit::delete(
                        base + i..base + i + run.len(),
                        &ZERO_WIDTH_CHAR,
                    ));
                }
            }
            if let Some(x) = s[i..end].chars().rev().find(|&x| !is_removed(x)) {
                prev = Some(x);
            }
            continue;
        }
        let len = c.len_utf8();
        if is_joiner(c) {
            let next = match next_kept {
                Some((at, x)) if at > i => x,
                _ => {
                    let found = s[i + len..]
                        .char_indices()
                        .find(|&(_, x)| !is_removed(x))
                        .map(|(j, x)| (i + len + j, x));
                    next_kept = Some(found.map_or((s.len(), None), |(j, x)| (j, Some(x))));
                    found.map(|f| f.1)
                }
            };
            let joins = |x: Option<char>| x.is_some_and(|x| !x.is_ascii() && !x.is_whitespace());
            if !(joins(prev) && joins(next)) {
                out.push(Edit::delete(base + i..base + i + len, &ZERO_WIDTH_CHAR));
            }
        } else if c == '\u{AD}' {
            out.push(Edit::delete(base + i..base + i + len, &SOFT_HYPHEN));
        } else if is_control(c) {
            out.push(Edit::delete(base + i..base + i + len, &CONTROL_CHAR));
        } else if !c.is_ascii() && !is_stable_starter(c)
            || it.peek().is_some_and(|&(_, d)| !is_stable_starter(d))
        {
            // A normalization segment: c and the marks that follow it.
            let mut end = i + len;
            while let Some(&(j, d)) = it.peek() {
                if is_stable_starter(d)
                    || is_control(d)
                    || is_zero_width(d)
                    || is_odd_space(d)
                    || d == ' '
                {
                    break;
                }
                end = j + d.len_utf8();
                it.next();
            }
            let seg = &s[i..end];
            if is_nfc_quick(seg.chars()) != IsNormalized::Yes {
                let nfc: Cow<'_, str> = if unicode_normalization::is_nfc(seg) {
                    Cow::Borrowed(seg)
                } else {
                    Cow::Owned(seg.nfc().collect())
                };
                if nfc != seg {
                    out.push(Edit::replace(
                        base + i..base + end,
                        nfc.into_owned(),
                        &NON_NFC,
                    ));
                }
            }
            if let Some(x) = seg.chars().rev().find(|&x| !is_removed(x)) {
                prev = Some(x);
            }
            continue;
        }
        if !is_removed(c) {
            prev = Some(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Config;

    fn norm(s: &str) -> String {
        let config = Config::default();
        let cx = Context {
            config: &config,
            corpus: None,
        };
        let mut edits = Vec::new();
        find(s, &cx, &mut edits);
        let once = crate::edit::apply(s, &mut edits).into_owned();
        // Idempotent: a second pass finds nothing.
        let mut again = Vec::new();
        find(&once, &cx, &mut again);
        assert!(again.is_empty(), "second pass on {once:?} found {again:?}");
        once
    }

    fn rules(s: &str) -> Vec<&'static str> {
        let config = Config::default();
        let cx = Context {
            config: &config,
            corpus: None,
        };
        let mut edits = Vec::new();
        find(s, &cx, &mut edits);
        edits.iter().map(|e| e.rule().name).collect()
    }

    #[test]
    fn line_ends() {
        assert_eq!(norm("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(rules("a\r\nb\rc\n"), ["crlf-line-end", "cr-line-end"]);
        assert!(rules("a\nb\n").is_empty());
    }

    #[test]
    fn blank_lines() {
        assert_eq!(norm("\n \n\nHead\n\n\n\nBody\n\n \n"), "Head\n\nBody\n");
        assert_eq!(
            rules("\n\nHead\n\n\nBody\n\n"),
            [
                "leading-blank-lines",
                "blank-line-run",
                "trailing-blank-lines"
            ]
        );
        // Negative: one blank line between paragraphs stays.
        assert!(rules("Head\n\nBody\n").is_empty());
        assert_eq!(norm("a\r\n\r\n\r\nb\r\n"), "a\n\nb\n");
        assert_eq!(norm("a\n \t\nb\n"), "a\n\nb\n");
    }

    #[test]
    fn final_newline() {
        assert_eq!(norm("end."), "end.\n");
        assert_eq!(rules("end."), ["missing-final-newline"]);
        assert_eq!(norm(""), "");
        assert_eq!(norm("\n\n"), "");
    }

    #[test]
    fn trailing_whitespace() {
        assert_eq!(norm("said. \u{A0}\nnext\t\n"), "said.\nnext\n");
        assert!(rules("said.\n").is_empty());
    }

    #[test]
    fn odd_spaces() {
        assert_eq!(
            norm("on\u{A0}the Nusra\u{A0}— \u{A0}it\n"),
            "on the Nusra — it\n"
        );
        assert_eq!(norm("10\u{202F}000 and 5\u{2009}km\n"), "10 000 and 5 km\n");
        assert_eq!(rules("on\u{A0}the\n"), ["nbsp-run"]);
        // Negative: an ideographic space in CJK text and NBSP before a combining mark stay.
        assert!(rules("東京\u{3000}大阪\n").is_empty());
        assert!(rules("mark \u{A0}\u{301} here\n").is_empty());
    }

    #[test]
    fn invisibles_and_controls() {
        assert_eq!(
            norm("Mos\u{200B}cow inter\u{AD}national a\u{7}b\u{85}c\n"),
            "Moscow international abc\n"
        );
        assert_eq!(norm("a \u{200B}b\n"), "a b\n");
        // Negative: tab stays; emoji ZWJ sequence and Persian ZWNJ stay.
        assert!(rules("a\tb\n").is_empty());
        assert!(rules("👩\u{200D}💻 می\u{200C}خواهم\n").is_empty());
        assert_eq!(rules("a\u{200D}b\n"), ["zero-width-char"]);
    }

    #[test]
    fn stable_starter_fast_ranges_agree_with_the_tables() {
        let slow = |c: char| {
            canonical_combining_class(c) == 0
                && is_nfc_quick(std::iter::once(c)) == IsNormalized::Yes
        };
        for c in (0u32..0xE000)
            .chain(0xF900..0x11000)
            .filter_map(char::from_u32)
        {
            assert_eq!(is_stable_starter(c), slow(c), "{c:?} U+{:04X}", c as u32);
            assert_eq!(
                stable_starter_uncached(c),
                slow(c),
                "{c:?} U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn plain_table_agrees_with_the_predicates() {
        for c in (0u32..0x1_0000).filter_map(char::from_u32) {
            assert_eq!(is_plain(c), plain_uncached(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn plain_low_table_agrees_with_the_predicate() {
        for c in (0u32..0x800).filter_map(char::from_u32) {
            let u = c as u32;
            let bit = (PLAIN_LOW[(u >> 6) as usize] >> (u & 63)) & 1 != 0;
            assert_eq!(bit, plain_uncached(c), "U+{:04X}", u);
        }
    }

    #[test]
    fn printable_prefix_long() {
        let s: Vec<u8> = (0..200u8).map(|k| b' ' + k % 95).collect();
        for len in [0, 1, 7, 8, 9, 31, 40, 41, 72, 73, 200] {
            let s = &s[..len];
            assert_eq!(printable_ascii_prefix(s), len);
            for cut in 0..len {
                for bad in [0u8, b'\t', b'\n', 0x1F, 0x7F, 0x80, 0xD0, 0xFF] {
                    let mut v = s.to_vec();
                    v[cut] = bad;
                    assert_eq!(printable_ascii_prefix(&v), cut, "{len} {cut} {bad}");
                }
            }
        }
    }

    proptest::proptest! {
        /// Passing over plain chars finds what the full character loop finds.
        #[test]
        fn char_edits_skip_finds_the_same(
            text in "[ a-zA-Z.,\t\u{1}\u{7F}\u{85}\u{A0}\u{AD}é\u{301}\u{327}\u{483}\u{200B}\u{200C}\u{200D}\u{2009}\u{3000}\u{212B}\u{F900}ПуҐ東\u{1F600}\u{1D15E}]{0,60}"
        ) {
            let (mut fast, mut slow, mut regions) = (Vec::new(), Vec::new(), Vec::new());
            char_edits::<true>(&text, 3, &mut fast);
            char_edits::<false>(&text, 3, &mut slow);
            char_edits_regions(&text, 3, &mut regions);
            proptest::prop_assert_eq!(&fast, &slow);
            proptest::prop_assert_eq!(regions, slow);
        }

        /// Reading by regions finds what the full character loop finds, on
        /// long text with few interesting chars.
        #[test]
        fn char_edits_regions_find_the_same(
            text in "([ a.\t\u{A0}\u{AD}é\u{301}\u{200B}\u{200C}\u{200D}\u{2009}\u{7}Пу東\u{1F600}]|  |ab|Путин |the fox |\u{A0}\u{301}|\u{200D}\u{200B}){0,50}"
        ) {
            let (mut slow, mut regions) = (Vec::new(), Vec::new());
            char_edits::<false>(&text, 7, &mut slow);
            char_edits_regions(&text, 7, &mut regions);
            proptest::prop_assert_eq!(regions, slow);
        }

        /// Long lines of mixed text: the fast paths find what the slow ones find.
        #[test]
        fn fast_path_finds_the_same_long_lines(
            text in "([ a-zA-Z.,\r\n\u{A0}\u{AD}é\u{301}\u{200B}\u{200D}ПуҐ東\u{2014}\u{2019}]|Путин сказал |the quick brown fox jumps over |\u{A0}\n\n){0,40}"
        ) {
            fast_and_slow_agree(&text)?;
        }
    }

    #[test]
    fn printable_prefix() {
        let s = b"0123456789abcdef~ xyz";
        for cut in 0..s.len() {
            for bad in [0u8, b'\t', b'\n', 0x1F, 0x7F, 0x80, 0xC3, 0xFF] {
                let mut v = s.to_vec();
                v[cut] = bad;
                assert_eq!(printable_ascii_prefix(&v), cut, "{v:?}");
            }
        }
        assert_eq!(printable_ascii_prefix(s), s.len());
        assert_eq!(printable_ascii_prefix(b""), 0);
    }

    proptest::proptest! {
        /// The plain-line fast path finds exactly what the character loop finds.
        #[test]
        fn fast_path_finds_the_same(
            text in "[ a-zA-Z.,\t\r\n\u{1}\u{7F}\u{85}\u{A0}\u{AD}é\u{301}\u{327}\u{200B}\u{200D}\u{2009}\u{3000}\u{212B}Пу東\u{1F600}\u{1D15E}]{0,40}"
        ) {
            fast_and_slow_agree(&text)?;
        }
    }

    /// `find_lines` with its fast paths finds exactly what it finds without them.
    fn fast_and_slow_agree(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let config = Config::default();
        let cx = Context {
            config: &config,
            corpus: None,
        };
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        find_lines(text, &cx, true, &mut fast);
        find_lines(text, &cx, false, &mut slow);
        proptest::prop_assert_eq!(fast, slow);
        Ok(())
    }

    #[test]
    fn nfc() {
        assert_eq!(norm("Cafe\u{301} and \u{212B}\n"), "Café and Å\n");
        assert_eq!(rules("Cafe\u{301}\n"), ["non-nfc"]);
        // Negative: composed text, Hangul, Vietnamese in NFC stay.
        assert!(rules("Café 한국어 Tiếng Việt Ελληνικά Путин\n").is_empty());
        // A deletion that leaves a mark after a new base is still normalized.
        assert_eq!(norm("e\u{7}\u{301}\n"), "é\n");
    }
}
