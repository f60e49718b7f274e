//! JSON-lines records, as LLM-data and search pipelines pass them (dolma,
//! datatrove, NeMo Curator): `{"id": ..., "text": ..., ...}`.
//!
//! [`clean_record`] cleans the text field of one record and keeps every
//! other field byte for byte and in order (fields are held as raw JSON,
//! never re-formatted). It returns the output record, and on request a
//! notes line (the record's id and its edits, the same edit objects as in
//! `.notes.jsonl` files) and a dolma attributes line.
//!
//! ```
//! use mend::jsonl::{clean_record, Options};
//! let p = mend::Pipeline::default();
//! let out = clean_record(&p, r#"{"id":7,"text":"a\u00a0b  \r\n","n":1.50}"#, &Options::default()).unwrap();
//! assert_eq!(out.record, r#"{"id":7,"text":"a b\n","n":1.50}"#);
//! ```

use std::fmt;
use std::io::{self, Write};

use indexmap::IndexMap;
use serde_json::value::RawValue;

use crate::notes::{self, Note};
use crate::pipeline::{Cleaned, Pipeline};
use crate::stage::Stage;

/// Where a record's notes go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NotesMode {
    /// Nowhere.
    #[default]
    None,
    /// A separate notes line per record ([`Output::notes`]).
    Line,
    /// A `mend` field added to the record.
    Inline,
}

/// How to read and write records.
#[derive(Clone, Debug)]
pub struct Options {
    /// The field holding the text (default `text`).
    pub text_field: String,
    /// Where notes go.
    pub notes: NotesMode,
    /// Whether to make a dolma attributes line.
    pub attributes: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            text_field: "text".to_owned(),
            notes: NotesMode::None,
            attributes: false,
        }
    }
}

/// One cleaned record.
#[derive(Debug)]
pub struct Output {
    /// The output record, one line of JSON without its newline.
    pub record: String,
    /// With [`NotesMode::Line`]: `{"id":...,"edits":[...]}`.
    pub notes: Option<String>,
    /// With `attributes`: `{"id":...,"attributes":{"mend__<stage>":[[start,end,1.0],...]}}`,
    /// spans in Unicode code points over the input text.
    pub attributes: Option<String>,
    /// The cleaned text and its edits.
    pub cleaned: Cleaned,
}

/// Why a record could not be cleaned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The line is not a JSON object.
    Json(String),
    /// The text field is missing or not a string.
    NoText(String),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Json(e) => write!(f, "not a JSON object: {e}"),
            RecordError::NoText(field) => write!(f, "no string field {field:?}"),
        }
    }
}

impl std::error::Error for RecordError {}

/// A record's fields, each value still raw JSON borrowed from the line
/// (a large text field is not copied before it is decoded).
type Fields<'a> = IndexMap<String, &'a RawValue>;

/// A record read from its line: every field but the text as raw JSON (in
/// order; `None` marks where the text field goes) and the decoded text.
/// It borrows nothing, so the line can be dropped before the text is
/// cleaned: a large record is not held twice.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    fields: Vec<(String, Option<String>)>,
    text: String,
}

/// Reads a record: a JSON object with a string field `opts.text_field`.
///
/// Most records go through [`parse_fast`], which leaves the text out of
/// serde_json's reading; what it cannot be sure of goes through
/// [`parse_whole`], the definition, which also gives every error.
pub fn parse(line: &str, opts: &Options) -> Result<Parsed, RecordError> {
    match parse_fast(line, opts) {
        Some(parsed) => Ok(parsed),
        None => parse_whole(line, opts),
    }
}

/// [`parse`] by serde_json alone: the whole line into raw fields, then
/// the text field decoded.
fn parse_whole(line: &str, opts: &Options) -> Result<Parsed, RecordError> {
    let fields: Fields =
        serde_json::from_str(line).map_err(|e| RecordError::Json(e.to_string()))?;
    let raw = fields
        .get(&opts.text_field)
        .ok_or_else(|| RecordError::NoText(opts.text_field.clone()))?;
    let text =
        json_string(raw.get()).ok_or_else(|| RecordError::NoText(opts.text_field.clone()))?;
    Ok(Parsed {
        fields: owned_fields(fields, &opts.text_field),
        text,
    })
}

/// The fields of a record as [`Parsed`] keeps them: raw JSON, in order,
/// the text field's value left out.
fn owned_fields(fields: Fields<'_>, text_field: &str) -> Vec<(String, Option<String>)> {
    fields
        .into_iter()
        .map(|(k, v)| {
            let raw = (k != text_field).then(|| v.get().to_owned());
            (k, raw)
        })
        .collect()
}

/// [`parse_whole`] for a record whose text is a plain string value of the
/// field's name written as it is (`"text": "..."`), without serde_json
/// reading the text: `None` wherever that is not certain, and for every
/// record [`parse_whole`] refuses.
///
/// serde_json checks a string eight bytes at a time (its `ignore_str` was
/// 304 M of the 6,737 M instructions of a one-thread run on the bench
/// corpus), and the text is most of a record. Here the text is decoded up
/// to its closing quote ([`decode_until_quote`], which refuses a bad
/// escape), checked for control characters in a loop the compiler
/// vectorises, and serde_json reads
/// the rest of the line with the text taken out (`"text":""`). That line
/// is JSON exactly when the whole one is (a string's contents are read
/// apart from the grammar around them); the field found must be the one
/// serde_json keeps (not one inside a nested object or another string, nor
/// an earlier duplicate), which its raw value's place in the line proves.
/// Tested against [`parse_whole`] on records made to mislead it.
fn parse_fast(line: &str, opts: &Options) -> Option<Parsed> {
    let field = opts.text_field.as_bytes();
    if field.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20) {
        return None;
    }
    let b = line.as_bytes();
    // The first occurrence of the name between quotes.
    let at = memchr::memmem::find_iter(b, field)
        .find(|&i| i > 0 && b[i - 1] == b'"' && b.get(i + field.len()) == Some(&b'"'))?;
    let is_space = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
    let mut i = at + field.len() + 1;
    i += b[i..].iter().take_while(|c| is_space(c)).count();
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    i += b[i..].iter().take_while(|c| is_space(c)).count();
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let (text, len) = decode_until_quote(&line[start..])?;
    let end = start + len;
    let body = &line[start..end];
    if has_control(body.as_bytes()) {
        return None;
    }
    let mut rest = String::with_capacity(line.len() - body.len());
    rest.push_str(&line[..start]);
    rest.push_str(&line[end..]);
    let fields: Fields = serde_json::from_str(&rest).ok()?;
    let kept = fields.get(&opts.text_field)?.get();
    if kept != "\"\"" || kept.as_ptr() as usize != rest.as_ptr() as usize + start - 1 {
        return None;
    }
    Some(Parsed {
        fields: owned_fields(fields, &opts.text_field),
        text,
    })
}

/// Whether `b` has a byte under 0x20 (a control character, which a JSON
/// string may not hold unescaped); branch-free in blocks, so vectorised.
fn has_control(b: &[u8]) -> bool {
    b.chunks(64)
        .any(|c| c.iter().fold(false, |any, &x| any | (x < 0x20)))
}

/// Decodes a JSON string literal (quotes included) that serde_json has
/// already checked as JSON: `None` if it is not a string or holds a lone
/// UTF-16 surrogate (which serde_json refuses too). The text is built in
/// one buffer of the literal's size; decoding with serde_json grows a
/// scratch buffer by doubling and then copies it, which for a record of
/// 18 MB meant about 3 times its size in fresh pages (issue 6).
/// [`tests::json_strings_decode_as_serde_json_decodes_them`] checks it
/// against serde_json.
fn json_string(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix('"')?;
    let (text, end) = decode_until_quote(rest)?;
    (end + 1 == rest.len()).then_some(text)
}

/// Decodes the contents of a JSON string literal from just after its
/// opening quote up to the first `"` that no backslash escapes: the text,
/// and where that quote is in `rest`. `None` for a bad escape (or a lone
/// surrogate), or no closing quote. Control characters are not looked
/// for (serde_json has checked them, or [`parse_fast`] does). The buffer
/// is taken at `rest`'s length, which holds the text.
fn decode_until_quote(rest: &str) -> Option<(String, usize)> {
    let mut out = String::with_capacity(rest.len());
    let mut at = 0;
    loop {
        let i = at + memchr::memchr2(b'"', b'\\', &rest.as_bytes()[at..])?;
        out.push_str(&rest[at..i]);
        let (c, len) = match rest.as_bytes().get(i + 1) {
            _ if rest.as_bytes()[i] == b'"' => return Some((out, i)),
            None => return None,
            Some(b'"') => ('"', 2),
            Some(b'\\') => ('\\', 2),
            Some(b'/') => ('/', 2),
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            Some(b'u') => {
                let unit = hex4(rest.get(i + 2..i + 6)?)?;
                match unit {
                    0xD800..=0xDBFF => {
                        // A high surrogate needs a low one, escaped, next.
                        let low = rest
                            .get(i + 6..i + 12)?
                            .strip_prefix("\\u")
                            .and_then(hex4)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(c)?, 12)
                    }
                    _ => (char::from_u32(unit)?, 6),
                }
            }
            Some(_) => return None,
        };
        out.push(c);
        at = i + len;
    }
}

/// Four hex digits as a number.
fn hex4(s: &str) -> Option<u32> {
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// Cleans the text field of one JSON-lines record.
pub fn clean_record(
    pipeline: &Pipeline,
    line: &str,
    opts: &Options,
) -> Result<Output, RecordError> {
    Ok(clean_parsed(pipeline, parse(line, opts)?, opts))
}

/// Cleans the text of a record read by [`parse`] and builds its output.
pub fn clean_parsed(pipeline: &Pipeline, parsed: Parsed, opts: &Options) -> Output {
    let Unwritten {
        record,
        notes,
        attributes,
        mut cleaned,
    } = unwritten(pipeline, parsed, opts, true);
    let mut line = Vec::new();
    record.push_to(&mut line);
    cleaned.text = record.text;
    Output {
        record: into_string(line),
        notes,
        attributes,
        cleaned,
    }
}

/// A cleaned record whose JSON line is not yet written ([`clean_unwritten`]):
/// its fields as read, the cleaned text for the text field, and its notes
/// for a `mend` field ([`NotesMode::Inline`]). It is written straight into
/// a writer's buffer, a piece at a time ([`Record::write_line`]), or into
/// memory ([`Record::push_to`]). `mend clean --format jsonl` writes it on
/// its writer thread: the workers do not build each record a second time,
/// in a buffer of its size (for a long record, fresh pages), only to have
/// it copied out (issue 6: building, checking and copying the records took
/// 12% of a one-thread run's user time).
#[derive(Debug)]
pub struct Record {
    /// Every field in input order: its name, and its raw JSON, or `None`
    /// for the text field.
    fields: Vec<(String, Option<String>)>,
    /// The cleaned text.
    text: String,
    /// With [`NotesMode::Inline`]: the record's notes as a JSON array.
    inline_notes: Option<String>,
}

/// A cleaned record ([`clean_unwritten`]): what [`Output`] holds, with the
/// record's line not yet written and the cleaned text in the record.
#[derive(Debug)]
pub struct Unwritten {
    /// The record, to be written.
    pub record: Record,
    /// With [`NotesMode::Line`]: `{"id":...,"edits":[...]}`.
    pub notes: Option<String>,
    /// With `attributes`: as [`Output::attributes`].
    pub attributes: Option<String>,
    /// What cleaning did: its text is empty (it is in `record`), and its
    /// edits too unless notes or attributes were asked for (see
    /// [`clean_unwritten`]).
    pub cleaned: Cleaned,
}

/// How many bytes [`Record::write_line`] gathers before it writes them:
/// as many as `mend`'s output buffer holds, so that a long record's
/// pieces go past that buffer to the file, not through it.
const FLUSH_AT: usize = 1 << 20;

impl Record {
    /// The cleaned text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// About the length of the record's JSON line: enough for the text
    /// with some escapes.
    fn len_hint(&self) -> usize {
        let others: usize = self
            .fields
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, String::len) + 4)
            .sum();
        let notes = self.inline_notes.as_ref().map_or(0, |n| n.len() + 20);
        self.text.len() * 9 / 8 + others + notes + 8
    }

    /// Appends the record's JSON line, without its newline, to `out`.
    pub fn push_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.len_hint());
        // Nothing is written out, so nothing can fail.
        let _ = self.build(out, |_| Ok(()));
    }

    /// Writes the record's JSON line and its newline to `w`, built in
    /// `buf` (emptied first; kept by the caller from one record to the
    /// next) in pieces of about 1 MB, however long the text.
    pub fn write_line<W: Write + ?Sized>(&self, w: &mut W, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        self.build(buf, |b| {
            w.write_all(b)?;
            b.clear();
            Ok(())
        })?;
        buf.push(b'\n');
        w.write_all(buf)
    }

    /// Builds the record's JSON line in `buf`, and hands `buf` to `flush`
    /// whenever it holds [`FLUSH_AT`] bytes or more, within a long text
    /// too. What is left at the end is not flushed.
    fn build(
        &self,
        buf: &mut Vec<u8>,
        mut flush: impl FnMut(&mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let push_json = notes::push_json_str;
        buf.push(b'{');
        let mut first = true;
        for (k, v) in &self.fields {
            if self.inline_notes.is_some() && k == "mend" {
                continue; // replaced below
            }
            if !first {
                buf.push(b',');
            }
            first = false;
            push_json(buf, k);
            buf.push(b':');
            match v {
                None => {
                    buf.push(b'"');
                    let mut rest = self.text.as_str();
                    while !rest.is_empty() {
                        let mut cut = rest.len().min(FLUSH_AT);
                        while !rest.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        let (piece, tail) = rest.split_at(cut);
                        notes::push_json_body(buf, piece);
                        if buf.len() >= FLUSH_AT {
                            flush(buf)?;
                        }
                        rest = tail;
                    }
                    buf.push(b'"');
                }
                Some(raw) => buf.extend_from_slice(raw.as_bytes()),
            }
            if buf.len() >= FLUSH_AT {
                flush(buf)?;
            }
        }
        if let Some(n) = &self.inline_notes {
            if !first {
                buf.push(b',');
            }
            buf.extend_from_slice(b"\"mend\":{\"edits\":");
            buf.extend_from_slice(n.as_bytes());
            buf.push(b'}');
        }
        buf.push(b'}');
        Ok(())
    }
}

/// Cleans the text of a record read by [`parse`] and makes its notes and
/// attributes lines; the record's own line is written later
/// ([`Record::write_line`]). [`clean_parsed`] is this, with the line
/// built in memory. When `opts` asks for neither notes nor attributes,
/// the record is cleaned without notes
/// ([`Pipeline::clean_string_without_notes`]): [`Unwritten::cleaned`]
/// then counts the edits but does not hold them.
pub fn clean_unwritten(pipeline: &Pipeline, parsed: Parsed, opts: &Options) -> Unwritten {
    unwritten(pipeline, parsed, opts, false)
}

/// [`clean_unwritten`]; with `all_edits`, the edits are kept even if no
/// line needs them.
fn unwritten(pipeline: &Pipeline, parsed: Parsed, opts: &Options, all_edits: bool) -> Unwritten {
    let Parsed { fields, text } = parsed;
    // The input text is needed again only for attributes; otherwise it is
    // handed over, and a large record is not held beside its texts.
    let (mut cleaned, text) = if opts.attributes {
        (pipeline.clean_str(&text), Some(text))
    } else if all_edits || opts.notes != NotesMode::None {
        (pipeline.clean_string(text), None)
    } else {
        (pipeline.clean_string_without_notes(text), None)
    };
    let id = fields
        .iter()
        .find(|(k, _)| k == "id")
        .and_then(|(_, v)| v.as_deref())
        .unwrap_or("null");
    let inline_notes = (opts.notes == NotesMode::Inline).then(|| {
        let mut array = Vec::with_capacity(2 + cleaned.edits.len() * 160);
        notes::push_notes_array(&mut array, &cleaned.edits);
        into_string(array)
    });
    let notes = (opts.notes == NotesMode::Line).then(|| {
        let mut line = Vec::with_capacity(64 + cleaned.edits.len() * 160);
        line.extend_from_slice(b"{\"id\":");
        line.extend_from_slice(id.as_bytes());
        line.extend_from_slice(b",\"edits\":");
        notes::push_notes_array(&mut line, &cleaned.edits);
        line.push(b'}');
        into_string(line)
    });
    let attributes = text.map(|text| attributes_line(id, &text, &cleaned, pipeline));
    let text = std::mem::take(&mut cleaned.text);
    Unwritten {
        record: Record {
            fields,
            text,
            inline_notes,
        },
        notes,
        attributes,
        cleaned,
    }
}

/// An output line built as bytes from `&str`s and JSON written from them
/// (so only UTF-8 went in), checked with SIMD (std's check was 3.7% of a
/// JSON-lines run) and made a `String` without a copy.
fn into_string(bytes: Vec<u8>) -> String {
    match simdutf8::basic::from_utf8(&bytes) {
        // SAFETY: just checked to be UTF-8.
        Ok(_) => unsafe { String::from_utf8_unchecked(bytes) },
        Err(_) => String::new(),
    }
}

/// Dolma attributes: per stage, the spans it changed, in code points of the input text.
fn attributes_line(id: &str, text: &str, cleaned: &Cleaned, pipeline: &Pipeline) -> String {
    // Byte offset -> code point offset, for the offsets we need only.
    let mut offsets: Vec<usize> = cleaned.edits.iter().flat_map(|n| n.src).collect();
    offsets.sort_unstable();
    offsets.dedup();
    let mut cps = Vec::with_capacity(offsets.len());
    let mut cp = 0usize;
    let mut chars = text.char_indices().peekable();
    for &off in &offsets {
        while let Some(&(at, _)) = chars.peek() {
            if at >= off {
                break;
            }
            chars.next();
            cp += 1;
        }
        cps.push((off, cp));
    }
    let to_cp = |off: usize| {
        cps.binary_search_by_key(&off, |p| p.0)
            .map_or(0, |i| cps[i].1)
    };
    let mut out = format!("{{\"id\":{id},\"attributes\":{{");
    let mut first = true;
    for stage in pipeline
        .config()
        .stages
        .iter()
        .filter(|s| *s != Stage::Decode)
    {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&format!("\"mend__{}\":[", stage.name()));
        let mut first_span = true;
        for n in cleaned
            .edits
            .iter()
            .filter(|n| n.stage == stage && !n.finding)
        {
            if !first_span {
                out.push(',');
            }
            first_span = false;
            out.push_str(&format!("[{},{},1.0]", to_cp(n.src[0]), to_cp(n.src[1])));
        }
        out.push(']');
    }
    out.push_str("}}");
    out
}

/// Rebuilds a record's original text from its cleaned text and its notes
/// line (as [`Output::notes`] writes it) or inline `mend` field.
pub fn restore_text(clean_text: &str, notes_json: &str) -> Result<String, notes::NotesError> {
    #[derive(serde::Deserialize)]
    struct Edits {
        edits: Vec<Note>,
    }
    let parsed: Edits = serde_json::from_str(notes_json).map_err(|e| notes::NotesError::Parse {
        line: 1,
        message: e.to_string(),
    })?;
    let bytes = notes::restore_bytes(clean_text, encoding_rs::UTF_8, &parsed.edits)?;
    String::from_utf8(bytes).map_err(|_| notes::NotesError::Mismatch {
        message: "restored text is not UTF-8".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json makes of a JSON string literal, as `json_string` must.
    fn serde_string(raw: &str) -> Option<String> {
        serde_json::from_str::<&RawValue>(raw).ok()?;
        serde_json::from_str::<String>(raw).ok()
    }

    #[test]
    fn json_strings_decode_as_serde_json_decodes_them() {
        for raw in [
            r#""""#,
            r#""plain""#,
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            r#""\u00e9\u00A0\u2014 \u0000""#,
            r#""😀 \ud83d\ude00 \uD83D\uDE00""#,
            r#""Путин \u041f""#,
            // Lone and misordered surrogates: refused by both.
            r#""\ud83d""#,
            r#""\ude00""#,
            r#""\ud83d\u0041""#,
            r#""\ud83dx\ude00""#,
            r#""\ude00\ud83d""#,
        ] {
            assert_eq!(json_string(raw), serde_string(raw), "{raw}");
        }
        // Not a string.
        assert_eq!(json_string("12"), None);
        assert_eq!(json_string("\""), None);
    }

    use proptest::strategy::Strategy as _;

    /// A record line made of `parts` (see [`record_parts`]): keys and
    /// values that mislead a search for the text field, whitespace around
    /// the colon, escapes and raw control characters in strings.
    fn record(parts: &[(usize, usize, usize)], junk: &str) -> String {
        const KEYS: [&str; 6] = [
            r#""text""#,
            r#""id""#,
            r#""te\u0078t""#,
            r#""texts""#,
            r#""meta""#,
            r#""x\"text""#,
        ];
        const VALUES: [&str; 14] = [
            r#""plain words""#,
            r#""a\"b \\ c\n\u00e9 \ud83d\ude00""#,
            "\"raw\ncontrol\"",
            r#""bad \x escape""#,
            r#""lone \ud83d""#,
            r#""""#,
            "12",
            "-1.5e3",
            "null",
            r#"{"text":"inner","n":[1,2]}"#,
            r#"["text",{"text":"in a list"}]"#,
            r#""\"text\":\"not a key\"""#,
            r#""ends with a backslash \\""#,
            r#""\\\"""#,
        ];
        const SPACES: [&str; 4] = ["", " ", "\n\t ", "\r\n"];
        let mut line = String::from("{");
        for (n, &(k, v, sp)) in parts.iter().enumerate() {
            if n > 0 {
                line.push(',');
            }
            line.push_str(SPACES[sp % 4]);
            line.push_str(KEYS[k % KEYS.len()]);
            line.push_str(SPACES[(sp / 4) % 4]);
            line.push(':');
            line.push_str(SPACES[(sp / 16) % 4]);
            line.push_str(VALUES[v % VALUES.len()]);
        }
        line.push('}');
        line.push_str(junk);
        line
    }

    /// Parts of [`record`]: (key, value, spacing) indexes.
    fn record_parts() -> impl proptest::strategy::Strategy<Value = Vec<(usize, usize, usize)>> {
        proptest::collection::vec((0usize..6, 0usize..14, 0usize..64), 0..6)
    }

    #[test]
    fn the_fast_parse_takes_ordinary_records() {
        let opts = Options::default();
        for line in [
            r#"{"id":1,"text":"Plain \"news\".\nSecond line.","meta":{"url":"x"}}"#,
            r#"{ "text" : "" }"#,
            r#"{"text":"\u041f\u0443\u0442\u0438\u043d","n":[1,{"text":2}]}"#,
        ] {
            let fast = parse_fast(line, &opts).expect("fast path");
            assert_eq!(Ok(fast), parse_whole(line, &opts), "{line}");
        }
        // Where it cannot be sure, it leaves the record to the whole parse.
        for line in [
            r#"{"meta":{"text":"inner"},"text":"outer"}"#,
            r#"{"text":"first","text":"second"}"#,
            // The value kept is an empty string too: only its place tells.
            r#"{"meta":{"text":"inner"},"text":""}"#,
            r#"{"text":"first","text":""}"#,
            r#"{"text":12}"#,
            "{\"text\":\"raw\ttab\"}",
            r#"{"text":"bad \x"}"#,
            r#"{"text":"a"} trailing"#,
            r#"{"text":"a""#,
        ] {
            assert_eq!(parse_fast(line, &opts), None, "{line}");
        }
    }

    proptest::proptest! {
        /// Whatever the fast parse gives, the whole parse gives too, on
        /// records made to mislead it (nested and escaped keys, duplicates,
        /// quotes and backslashes at string ends, control characters, bad
        /// escapes, trailing junk); and the public parse is the whole
        /// parse, errors included.
        #[test]
        fn the_fast_parse_agrees_with_the_whole_parse(
            parts in record_parts(),
            junk in proptest::sample::select(vec!["", " ", "\n", "x", ",", "}", "\"", "\\"]),
            cut in 0usize..400,
        ) {
            let opts = Options::default();
            let line = record(&parts, junk);
            let mut lines = vec![line.clone()];
            // Cut short (at a char boundary): invalid JSON of every kind.
            if let Some((i, _)) = line.char_indices().nth(cut % (line.chars().count() + 1)) {
                lines.push(line[..i].to_owned());
            }
            for l in &lines {
                let whole = parse_whole(l, &opts);
                if let Some(fast) = parse_fast(l, &opts) {
                    proptest::prop_assert_eq!(Ok(&fast), whole.as_ref(), "{}", l);
                }
                proptest::prop_assert_eq!(parse(l, &opts), whole, "{}", l);
            }
        }

        /// Any string serde_json writes, and literals made of escapes and
        /// characters at random (surrogates included), decode alike.
        #[test]
        fn json_strings_decode_alike(
            text in "[a-zé\"\\/\n\t\u{0}-\u{1f}\u{a0}\u{2014}😀Ж ]{0,40}",
            pieces in proptest::collection::vec(proptest::prop_oneof![
                proptest::string::string_regex("[a-z Ж😀]{1,3}").unwrap_or_else(|_| unreachable!()),
                proptest::sample::select(vec![
                    "\\n", "\\\"", "\\\\", "\\/", "\\u0041", "\\u00e9", "\\uD83D", "\\uDE00",
                    "\\udbff", "\\udfff", "\\ud800", "\\udc00", "\\u", "\\x",
                ]).prop_map(str::to_owned),
            ], 0..12),
        ) {
            let written = serde_json::to_string(&text).unwrap_or_default();
            proptest::prop_assert_eq!(json_string(&written), Some(text));
            let made = format!("\"{}\"", pieces.concat());
            if let Some(want) = serde_string(&made) {
                proptest::prop_assert_eq!(json_string(&made), Some(want));
            } else if serde_json::from_str::<&RawValue>(&made).is_ok() {
                // Valid JSON that serde_json cannot make a String of.
                proptest::prop_assert_eq!(json_string(&made), None);
            }
        }
    }

    /// A writer that keeps what it is given, call by call.
    #[derive(Default)]
    struct Calls(Vec<Vec<u8>>);

    impl Write for Calls {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.push(b.to_vec());
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_long_record_is_written_in_pieces_that_make_the_line_built_in_memory() {
        // Two-byte, three-byte and four-byte characters across each place
        // the text is cut (every FLUSH_AT bytes, moved back to a character
        // boundary), and escapes among them.
        let unit = "ab\"c\nЖ€😀\u{1}\t".repeat(3);
        let text = unit.repeat(2 * FLUSH_AT / unit.len() + 7);
        let record = Record {
            fields: vec![
                ("id".to_owned(), Some(r#""d\\1""#.to_owned())),
                ("text".to_owned(), None),
                ("n".to_owned(), Some("[1, 2]".to_owned())),
            ],
            text: text.clone(),
            inline_notes: Some("[]".to_owned()),
        };
        let mut whole = Vec::new();
        record.push_to(&mut whole);
        whole.push(b'\n');
        let (mut calls, mut buf) = (Calls::default(), Vec::new());
        record.write_line(&mut calls, &mut buf).expect("writes");
        assert!(calls.0.len() > 2, "{} writes", calls.0.len());
        // Each piece is the text of at most FLUSH_AT bytes escaped (at
        // most six bytes for one) after less than FLUSH_AT bytes.
        assert!(calls.0.iter().all(|c| c.len() < 7 * FLUSH_AT));
        assert_eq!(calls.0.concat(), whole);
        // And the line is the JSON of the record.
        let v: serde_json::Value = serde_json::from_slice(&whole).expect("JSON");
        assert_eq!(v["text"].as_str(), Some(text.as_str()));
        assert_eq!(v["id"], "d\\1");
        assert_eq!(v["n"], serde_json::json!([1, 2]));
        assert_eq!(v["mend"], serde_json::json!({"edits": []}));

        // A short record: one write, the same bytes as in memory.
        let short = Record {
            fields: vec![("text".to_owned(), None)],
            text: "a\"b".to_owned(),
            inline_notes: None,
        };
        let (mut calls, mut line) = (Calls::default(), Vec::new());
        short.write_line(&mut calls, &mut buf).expect("writes");
        short.push_to(&mut line);
        assert_eq!(calls.0, vec![b"{\"text\":\"a\\\"b\"}\n".to_vec()]);
        assert_eq!(line, br#"{"text":"a\"b"}"#);
    }

    #[test]
    fn keeps_other_fields_exactly_and_in_order() {
        let p = Pipeline::default();
        let line = r#"{"z":1e5,"text":"x\u00a0y\r\n","a":{"b":[1, 2]},"id":"d1"}"#;
        let out = clean_record(&p, line, &Options::default()).expect("cleans");
        assert_eq!(
            out.record,
            r#"{"z":1e5,"text":"x y\n","a":{"b":[1, 2]},"id":"d1"}"#
        );
        assert!(out.notes.is_none() && out.attributes.is_none());
    }

    #[test]
    fn a_parsed_record_owns_its_fields_and_cleans_like_the_line() {
        let p = Pipeline::default();
        let line = String::from(r#"{"id":3,"text":"a\u00a0\"b\"","tags":["x"]}"#);
        let parsed = parse(&line, &Options::default()).expect("parses");
        drop(line); // nothing borrowed
        assert_eq!(parsed.text, "a\u{a0}\"b\"");
        let out = clean_parsed(&p, parsed, &Options::default());
        assert_eq!(out.record, r#"{"id":3,"text":"a “b”\n","tags":["x"]}"#);
        let err = parse(r#"{"id":3,"text":7}"#, &Options::default()).unwrap_err();
        assert_eq!(err, RecordError::NoText("text".to_owned()));
    }

    #[test]
    fn notes_line_restores_the_text() {
        let p = Pipeline::default();
        let opts = Options {
            notes: NotesMode::Line,
            attributes: true,
            ..Options::default()
        };
        let line = r#"{"id":3,"text":"Путин\u00a0said  \r\n\r\n\r\nok"}"#;
        let out = clean_record(&p, line, &opts).expect("cleans");
        let notes = out.notes.expect("notes");
        assert!(notes.starts_with("{\"id\":3,\"edits\":[{"), "{notes}");
        assert_eq!(
            restore_text(&out.cleaned.text, &notes).expect("restores"),
            "Путин\u{a0}said  \r\n\r\n\r\nok"
        );
        // Code points, not bytes: the NBSP is at code point 5.
        let attrs = out.attributes.expect("attributes");
        assert!(attrs.contains("\"mend__normalize\":[[5,6,1.0]"), "{attrs}");
    }

    #[test]
    fn inline_notes_replace_an_old_mend_field() {
        let p = Pipeline::default();
        let opts = Options {
            notes: NotesMode::Inline,
            ..Options::default()
        };
        let out = clean_record(&p, r#"{"text":"a ","mend":{"old":true}}"#, &opts).expect("cleans");
        assert!(
            out.record
                .starts_with(r#"{"text":"a\n","mend":{"edits":[{"stage":"normalize""#),
            "{}",
            out.record
        );
        assert!(!out.record.contains("old"));
    }

    #[test]
    fn bad_records() {
        let p = Pipeline::default();
        let o = Options::default();
        assert!(matches!(
            clean_record(&p, "not json", &o),
            Err(RecordError::Json(_))
        ));
        assert!(matches!(
            clean_record(&p, "[1,2]", &o),
            Err(RecordError::Json(_))
        ));
        assert_eq!(
            clean_record(&p, r#"{"body":"x"}"#, &o).unwrap_err(),
            RecordError::NoText("text".to_owned())
        );
        assert!(matches!(
            clean_record(&p, r#"{"text":5}"#, &o),
            Err(RecordError::NoText(_))
        ));
    }
}
