//! Stage 6, normalize: NFC, odd spaces, invisible and control characters,
//! line endings, trailing whitespace, blank-line runs, a final newline.
//!
//! One pass over the lines (memchr), each line scanned once; a pure-ASCII
//! line is scanned as bytes. Every rule is an edit of its own, and the
//! edits of one line never overlap: trailing whitespace is cut as one edit,
//! the line end as another, and characters inside the line as others.

use std::borrow::Cow;

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

/// Finds this stage's edits in `text`.
pub(crate) fn find(text: &str, cx: &Context<'_>, out: &mut Vec<Edit>) {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut seen_text = false;
    // Blank lines waiting for the next line of text: (start of run, end of first line, end of run).
    let mut blank_run: Option<(usize, usize, usize)> = None;
    let mut last_had_end = true;
    while pos < bytes.len() {
        let content_end =
            memchr::memchr2(b'\n', b'\r', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let (term_end, term_rule) = match bytes.get(content_end) {
            Some(b'\r') if bytes.get(content_end + 1) == Some(&b'\n') => {
                (content_end + 2, Some(&CRLF_LINE_END))
            }
            Some(b'\r') => (content_end + 1, Some(&CR_LINE_END)),
            Some(_) => (content_end + 1, None),
            None => (content_end, None),
        };
        let line = &text[pos..content_end];
        let blank = if line.is_ascii() {
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
            line_edits(text, pos, content_end, out);
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

/// Edits inside one line of text `start..end` (no line end, not blank).
fn line_edits(text: &str, start: usize, end: usize, out: &mut Vec<Edit>) {
    let line = &text[start..end];
    let trimmed = if line.is_ascii() {
        line.trim_end_matches(|c: char| c == ' ' || c.is_ascii_control())
    } else {
        line.trim_end_matches(is_blankish)
    };
    let body_end = start + trimmed.len();
    let first = out.len();
    if trimmed.is_ascii() {
        for (i, b) in trimmed.bytes().enumerate() {
            if (b < 0x20 && b != b'\t') || b == 0x7F {
                out.push(Edit::delete(start + i..start + i + 1, &CONTROL_CHAR));
            }
        }
    } else {
        char_edits(trimmed, start, out);
        // A deletion can leave a combining mark after a new neighbour; if
        // the line would come out un-normalized, make the line one NFC edit.
        if out.len() > first || is_nfc_quick(trimmed.chars()) != IsNormalized::Yes {
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

/// Edits for the characters of `s` (non-ASCII), which starts at `base` in the text.
fn char_edits(s: &str, base: usize, out: &mut Vec<Edit>) {
    let mut it = s.char_indices().peekable();
    // The last character before the current one that stays.
    let mut prev: Option<char> = None;
    // The next character that stays after a joiner, and where it is (a
    // run of joiners is scanned once).
    let mut next_kept: Option<(usize, Option<char>)> = None;
    while let Some((i, c)) = it.next() {
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
        }
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
