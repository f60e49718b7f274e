//! The notes of a cleaned document (JSON Lines), and `restore`.
//!
//! Line 1 is a [`Header`]; every further line is a [`Note`]: one edit (or
//! finding) with its stage, rule, spans, the text it removed and inserted,
//! and why. `at` is the span in the stage's own input, which is what
//! [`restore`] undoes, stage by stage, last stage first; `src` is the byte
//! span in the original file, for people.

use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::edit::{Edit, EditKind};
use crate::pipeline::{Cleaned, Config};
use crate::stage::Stage;
use crate::stage::decode::{self, DecodeEdit};

mod restore;

pub use restore::{PackedNotes, restore, restore_bytes, restore_bytes_owned, restore_owned};

/// Version of the notes format. Bumped on any incompatible change.
pub const FORMAT: u32 = 1;

/// One edit or finding, as written to the notes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// The stage that made it.
    pub stage: Stage,
    /// The rule's name.
    pub rule: Cow<'static, str>,
    /// Byte span in the original file.
    pub src: [usize; 2],
    /// Byte span in the stage's input (for decode: the original file).
    pub at: [usize; 2],
    /// Decode only: byte span of the inserted text in the decoded text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<[usize; 2]>,
    /// The text removed (absent for a finding, or when the bytes were not UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
    /// The bytes removed, in hex, when they were not valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_bytes: Option<String>,
    /// The text inserted (absent for a finding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inserted: Option<String>,
    /// A finding: the text it is about (nothing was changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why.
    pub why: Cow<'static, str>,
    /// Whether this is a finding rather than a change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub finding: bool,
}

impl Note {
    pub(crate) fn decode(e: &DecodeEdit, original: &[u8]) -> Note {
        let bytes = original.get(e.src.clone()).unwrap_or(&[]);
        let (removed, removed_bytes) = match std::str::from_utf8(bytes) {
            Ok(s) => (Some(s.to_owned()), None),
            Err(_) => (None, Some(decode::to_hex(bytes))),
        };
        Note {
            stage: Stage::Decode,
            rule: Cow::Borrowed(e.rule.name),
            src: [e.src.start, e.src.end],
            at: [e.src.start, e.src.end],
            out: Some([e.out.start, e.out.end]),
            removed,
            removed_bytes,
            inserted: None,
            text: None,
            why: Cow::Borrowed(e.rule.summary),
            finding: false,
        }
    }

    pub(crate) fn of_edit(stage: Stage, e: &Edit, input: &str, src: [usize; 2]) -> Note {
        let span = e.span();
        let removed = input.get(span.clone()).unwrap_or("").to_owned();
        let finding = e.kind() == EditKind::Finding;
        let (removed, text) = if finding {
            (None, Some(removed))
        } else {
            (Some(removed), None)
        };
        Note {
            stage,
            rule: Cow::Borrowed(e.rule().name),
            src,
            at: [span.start, span.end],
            out: None,
            removed,
            removed_bytes: None,
            inserted: (!finding).then(|| e.inserted().to_owned()),
            text,
            why: e.reason_static(),
            finding,
        }
    }
}

/// The first line of a notes file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always `"notes"`: marks the file.
    pub mend: String,
    /// [`FORMAT`].
    pub format: u32,
    /// The original file.
    pub source: SourceInfo,
    /// The encoding it was decoded from (an encoding_rs name).
    pub encoding: String,
    /// How the encoding was chosen.
    pub detection: String,
    /// The mend version that wrote the notes.
    pub version: String,
    /// The configuration, as it was.
    pub config: serde_json::Value,
    /// Fingerprint (hex) of the cross-document line counts the text was
    /// cleaned against, in a run over several documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpus: Option<String>,
}

/// The original file, in the header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Path relative to the input root given on the command line, or `-` for stdin.
    pub path: String,
    /// Size in bytes.
    pub size: usize,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
}

/// Errors reading notes or restoring from them.
#[derive(Debug)]
#[non_exhaustive]
pub enum NotesError {
    /// A line of the notes is not what it should be.
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The clean text does not match the notes (edited by hand?).
    Mismatch {
        /// Which edit, and what was expected.
        message: String,
    },
    /// Reading the notes failed.
    Io {
        /// The cause.
        source: std::io::Error,
    },
}

impl fmt::Display for NotesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotesError::Parse { line, message } => write!(f, "notes line {line}: {message}"),
            NotesError::Mismatch { message } => {
                write!(f, "clean text does not match its notes: {message}")
            }
            NotesError::Io { source } => write!(f, "{source}"),
        }
    }
}

impl std::error::Error for NotesError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NotesError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Writes the notes of `cleaned` (header then one line per edit) as JSON Lines.
///
/// Builds the header's `config` from `config` on every call; a run over
/// many documents uses [`Pipeline::notes`](crate::Pipeline::notes), which
/// builds it once.
pub fn write(cleaned: &Cleaned, original: &[u8], path: &str, config: &Config) -> String {
    write_with(
        cleaned,
        &InputDigest::of(original),
        path,
        &config_json(config),
    )
}

/// What a notes header records of the input: its size and SHA-256. Taken
/// before the input is handed to [`Pipeline::clean_owned_in`](crate::Pipeline::clean_owned_in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputDigest {
    size: usize,
    sha256: [u8; 32],
}

impl InputDigest {
    /// The digest of `original`.
    pub fn of(original: &[u8]) -> InputDigest {
        InputDigest {
            size: original.len(),
            sha256: Sha256::digest(original).into(),
        }
    }
}

/// [`write()`] with the header's `config` already serialized ([`config_json`]).
pub(crate) fn write_with(
    cleaned: &Cleaned,
    input: &InputDigest,
    path: &str,
    config: &RawValue,
) -> String {
    let mut out = Vec::with_capacity(256 + cleaned.edits.len() * 160);
    // Writing into a `Vec` cannot fail, and nothing is passed on.
    let _ = push_notes(cleaned, input, path, config, &mut out, usize::MAX, |_| {
        Ok(())
    });
    // SAFETY: everything written is UTF-8: ASCII punctuation, keys and
    // digits, and serde_json's output for `str`s and for the header (which
    // serde_json's own `to_string` turns into a `String` the same way).
    // Checking it again took 2% of a folder run's instructions.
    unsafe { String::from_utf8_unchecked(out) }
}

/// How many bytes of notes [`write_to`] gathers before it writes them
/// (in unit tests, a few notes' worth, so that they write in pieces).
const NOTES_CHUNK: usize = if cfg!(test) { 300 } else { 256 << 10 };

/// [`write_with`], written to `to` in pieces of about [`NOTES_CHUNK`]
/// bytes: the same bytes, without the whole notes in memory (a 1 GB
/// document's are about 400 MB, beside its note list). Notes under that
/// size take one `write`.
pub(crate) fn write_to(
    cleaned: &Cleaned,
    input: &InputDigest,
    path: &str,
    config: &RawValue,
    to: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut buf =
        Vec::with_capacity((256 + cleaned.edits.len() * 160).min(NOTES_CHUNK + (4 << 10)));
    push_notes(cleaned, input, path, config, &mut buf, NOTES_CHUNK, |b| {
        to.write_all(b)?;
        b.clear();
        Ok(())
    })?;
    to.write_all(&buf)
}

/// Appends the notes of `cleaned` (header, then one line per note) to
/// `out`, handing it to `pass_on` each time it holds `chunk` bytes or more
/// (which empties it, or fails).
fn push_notes(
    cleaned: &Cleaned,
    input: &InputDigest,
    path: &str,
    config: &RawValue,
    out: &mut Vec<u8>,
    chunk: usize,
    mut pass_on: impl FnMut(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let header = HeaderOut {
        mend: "notes",
        format: FORMAT,
        source: SourceOut {
            path,
            size: input.size,
            sha256: decode::to_hex(&input.sha256),
        },
        encoding: cleaned.encoding.name(),
        detection: cleaned.detection.name(),
        version: env!("CARGO_PKG_VERSION"),
        config,
        corpus: cleaned.corpus.map(|f| format!("{f:016x}")),
    };
    push_line(out, &header);
    for note in &cleaned.edits {
        push_note(out, note);
        out.push(b'\n');
        if out.len() >= chunk {
            pass_on(out)?;
        }
    }
    Ok(())
}

/// A [`Header`] as [`write_with`] writes it: the same fields in the same
/// order, borrowed, with `config` already serialized.
#[derive(Serialize)]
struct HeaderOut<'a> {
    mend: &'static str,
    format: u32,
    source: SourceOut<'a>,
    encoding: &'static str,
    detection: &'static str,
    version: &'static str,
    config: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    corpus: Option<String>,
}

/// A [`SourceInfo`] as [`write_with`] writes it.
#[derive(Serialize)]
struct SourceOut<'a> {
    path: &'a str,
    size: usize,
    sha256: String,
}

/// The configuration as the notes header records it.
pub fn config_value(config: &Config) -> serde_json::Value {
    serde_json::to_value(config.info()).unwrap_or(serde_json::Value::Null)
}

/// [`config_value`], serialized: what [`write_with`] puts in every header.
/// (Through a `Value`, whose keys are sorted, so that it is written exactly
/// as a `Header` read back and written again would be.)
pub(crate) fn config_json(config: &Config) -> Box<RawValue> {
    // A `Value` always serializes (the default is `null`).
    serde_json::value::to_raw_value(&config_value(config)).unwrap_or_default()
}

/// Writes `note` as one JSON object, byte for byte as its `Serialize`
/// derive does (the same fields in the same order, the same ones skipped;
/// tested), with the keys and numbers written directly: serde's struct
/// machinery escaped every key of every note anew, 5% of a folder run's
/// instructions. Strings are escaped by [`push_json_str`].
fn push_note(out: &mut Vec<u8>, n: &Note) {
    fn span(out: &mut Vec<u8>, key: &[u8], [a, b]: [usize; 2]) {
        let mut num = itoa::Buffer::new();
        out.extend_from_slice(key);
        out.push(b'[');
        out.extend_from_slice(num.format(a).as_bytes());
        out.push(b',');
        out.extend_from_slice(num.format(b).as_bytes());
        out.push(b']');
    }
    fn string(out: &mut Vec<u8>, key: &[u8], s: &str) {
        out.extend_from_slice(key);
        push_json_str(out, s);
    }
    // Stage names are lowercase ASCII letters: nothing to escape.
    out.extend_from_slice(b"{\"stage\":\"");
    out.extend_from_slice(n.stage.name().as_bytes());
    out.push(b'"');
    string(out, b",\"rule\":", &n.rule);
    span(out, b",\"src\":", n.src);
    span(out, b",\"at\":", n.at);
    if let Some(o) = n.out {
        span(out, b",\"out\":", o);
    }
    for (key, value) in [
        (&b",\"removed\":"[..], &n.removed),
        (b",\"removed_bytes\":", &n.removed_bytes),
        (b",\"inserted\":", &n.inserted),
        (b",\"text\":", &n.text),
    ] {
        if let Some(s) = value {
            string(out, key, s);
        }
    }
    string(out, b",\"why\":", &n.why);
    if n.finding {
        out.extend_from_slice(b",\"finding\":true");
    }
    out.push(b'}');
}

/// Appends `notes` to `out` as a JSON array, byte for byte as serde_json
/// writes the slice (each note by [`push_note`]).
pub(crate) fn push_notes_array(out: &mut Vec<u8>, notes: &[Note]) {
    out.push(b'[');
    for (i, n) in notes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_note(out, n);
    }
    out.push(b']');
}

/// Appends `s` to `out` as a JSON string literal, byte for byte as
/// `serde_json::to_writer` writes it (tested against it): `"` and `\`
/// escaped, `\n`, `\r`, `\t`, `\u{8}` and `\u{c}` by their short escapes,
/// other control characters below U+0020 as `\u00XX` (lowercase hex),
/// everything else (DEL, non-ASCII) as it is.
///
/// serde_json looks at each byte in turn; this looks at eight bytes at a
/// time ([`escape_mask`]): text rarely needs an escape.
pub(crate) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    push_json_body(out, s);
    out.push(b'"');
}

/// Appends `s` to `out` escaped as in a JSON string literal, without the
/// quotes around it ([`push_json_str`]). Escaping goes byte by byte and
/// never touches a byte of a multi-byte character, so a text may be
/// written in pieces split anywhere: the pieces' escapes make the whole's.
pub(crate) fn push_json_body(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len());
    // `bytes[run..]` needs no escape up to the next one, and is not yet copied.
    let mut run = 0;
    while let Some(at) = next_escape(bytes, run) {
        let b = bytes[at];
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0C => b'f',
            _ => b'u',
        };
        out.extend_from_slice(&bytes[run..at]);
        out.push(b'\\');
        out.push(short);
        if short == b'u' {
            out.extend_from_slice(&[
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xF)],
            ]);
        }
        run = at + 1;
    }
    out.extend_from_slice(&bytes[run..]);
}

/// The first byte at or after `from` that JSON must escape (`"`, `\` or
/// below 0x20). Blocks with none are passed over 64 bytes at a time (a test
/// of every byte with no early exit, which the compiler turns into vector
/// compares); the block with one is then read eight bytes at a time
/// ([`escape_mask`]), and the last few bytes one at a time. (Eight bytes at
/// a time alone took 3.3 instructions a byte of the bench corpus's records.)
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(block) = bytes.get(i..).and_then(|r| r.first_chunk::<64>()) {
        let any = block.iter().fold(false, |any, &b| {
            any | (b < 0x20) | (b == b'"') | (b == b'\\')
        });
        if any {
            break;
        }
        i += 64;
    }
    while let Some(&word) = bytes.get(i..).and_then(|r| r.first_chunk::<8>()) {
        match escape_mask(u64::from_le_bytes(word)) {
            0 => i += 8,
            mask => return Some(i + (mask.trailing_zeros() / 8) as usize),
        }
    }
    let rest = bytes.get(i..)?;
    rest.iter()
        .position(|&b| escape_mask(u64::from(b)) & 0x80 != 0)
        .map(|p| i + p)
}

/// The high bit of each byte of `w` that JSON must escape: `"`, `\` or
/// below 0x20. Exact per byte (no carry crosses a byte: each sum is of
/// seven-bit values), so the lowest set bit is the first such byte of a
/// little-endian word.
fn escape_mask(w: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const LOW: u64 = ONES * 0x7F;
    const HIGH: u64 = ONES * 0x80;
    // A byte is zero iff neither it nor its low seven bits plus 0x7F has
    // the high bit.
    let zero = |x: u64| !(((x & LOW) + LOW) | x) & HIGH;
    // A byte is below 0x20 iff neither it nor its low seven bits plus
    // 0x60 has the high bit.
    let below_space = !(((w & LOW) + ONES * 0x60) | w) & HIGH;
    below_space | zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\')))
}

/// One JSON line, serialized straight into `out` (no string per line).
fn push_line<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    // Serializing these plain structs into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
    out.push(b'\n');
}

/// Reads notes written by [`write()`].
pub fn read(notes: &str) -> Result<(Header, Vec<Note>), NotesError> {
    read_from(notes.as_bytes())
}

/// Reads notes written by [`write()`] line by line from `reader`, so that
/// the whole file is never in memory as text (a 1 GB document's notes are
/// about 400 MB). The same notes and errors as [`read`].
pub fn read_from(reader: impl BufRead) -> Result<(Header, Vec<Note>), NotesError> {
    let mut notes = NotesReader::new(reader)?;
    let edits = notes.by_ref().collect::<Result<Vec<Note>, NotesError>>()?;
    Ok((notes.header, edits))
}

/// Notes read line by line: [`new`](Self::new) reads the header, then each
/// item is the next note, or the error of its line (and nothing after an
/// error). Blank lines are passed over but counted, so errors name the
/// line of the file.
pub struct NotesReader<R> {
    reader: R,
    /// The header (line 1).
    header: Header,
    /// The line read last, without its line end.
    line: String,
    /// Its 1-based number.
    number: usize,
    /// An error was returned: nothing more is read.
    failed: bool,
}

impl<R: BufRead> NotesReader<R> {
    /// Reads up to and including the header, which must be a mend notes
    /// header of this [`FORMAT`].
    pub fn new(reader: R) -> Result<NotesReader<R>, NotesError> {
        let mut notes = NotesReader {
            reader,
            header: empty_header(),
            line: String::new(),
            number: 0,
            failed: false,
        };
        if !notes.advance()? {
            return Err(NotesError::Parse {
                line: 1,
                message: "empty notes file".to_owned(),
            });
        }
        let header: Header = serde_json::from_str(&notes.line).map_err(|e| NotesError::Parse {
            line: 1,
            message: format!("not a mend notes header: {e}"),
        })?;
        if header.mend != "notes" || header.format != FORMAT {
            return Err(NotesError::Parse {
                line: 1,
                message: format!(
                    "unsupported notes format {} (this mend reads {FORMAT})",
                    header.format
                ),
            });
        }
        notes.header = header;
        Ok(notes)
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The next line that is not blank, with its number; `None` at the end.
    pub(crate) fn next_line(&mut self) -> Option<Result<(usize, &str), NotesError>> {
        match self.advance() {
            Ok(true) => Some(Ok((self.number, &self.line))),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// Reads the next line that is not blank into `self.line`; false at
    /// the end (or after an error). Lines end at `\n` or `\r\n`, as
    /// `str::lines` has them.
    fn advance(&mut self) -> Result<bool, NotesError> {
        let mut buf = std::mem::take(&mut self.line).into_bytes();
        while !self.failed {
            buf.clear();
            let line = self.number + 1;
            match self.reader.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => self.number = line,
                Err(source) => return Err(self.fail(NotesError::Io { source })),
            }
            if buf.last() == Some(&b'\n') {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
            }
            match String::from_utf8(buf) {
                Ok(text) if text.trim().is_empty() => buf = text.into_bytes(),
                Ok(text) => {
                    self.line = text;
                    return Ok(true);
                }
                Err(e) => {
                    let message = format!("not UTF-8 at byte {}", e.utf8_error().valid_up_to());
                    return Err(self.fail(NotesError::Parse { line, message }));
                }
            }
        }
        self.line = String::from_utf8(buf).unwrap_or_default();
        Ok(false)
    }

    /// Stops reading after `e`.
    fn fail(&mut self, e: NotesError) -> NotesError {
        self.failed = true;
        e
    }
}

impl<R: BufRead> Iterator for NotesReader<R> {
    type Item = Result<Note, NotesError>;

    fn next(&mut self) -> Option<Result<Note, NotesError>> {
        let parsed = match self.next_line()? {
            Ok((line, text)) => serde_json::from_str(text).map_err(|e| NotesError::Parse {
                line,
                message: e.to_string(),
            }),
            Err(e) => Err(e),
        };
        Some(parsed.map_err(|e| self.fail(e)))
    }
}

/// A header to fill [`NotesReader`] with until the real one is read.
fn empty_header() -> Header {
    Header {
        mend: String::new(),
        format: 0,
        source: SourceInfo {
            path: String::new(),
            size: 0,
            sha256: String::new(),
        },
        encoding: String::new(),
        detection: String::new(),
        version: String::new(),
        config: serde_json::Value::Null,
        corpus: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Pipeline;

    #[test]
    fn write_read_restore_round_trip() {
        let input = b"\xEF\xBB\xBFline one  \r\n\r\n\r\n\r\nbad \xFF byte\xC2\xA0here";
        let p = Pipeline::default();
        let c = p.clean(input).expect("cleans");
        let notes = write(&c, input, "x.txt", p.config());
        let (h, n) = read(&notes).expect("reads");
        assert_eq!(h.source.size, input.len());
        assert!(n.iter().any(|n| n.removed_bytes.as_deref() == Some("ff")));
        assert_eq!(restore(&c.text, &h, &n).expect("restores"), input);
    }

    /// Notes written as they are made are the notes made whole, and come
    /// in pieces of about `NOTES_CHUNK` bytes: never more than that and
    /// one more note.
    #[test]
    fn notes_written_in_pieces_are_the_notes_made_whole() {
        struct Pieces(Vec<usize>, Vec<u8>);
        impl std::io::Write for Pieces {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.push(b.len());
                self.1.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let p = Pipeline::default();
        let line = "a&amp;b  \r\nPhoto: A / AFP\r\n\u{201C}x\u{201D}\u{a0}y\r\n";
        for input in [String::new(), line.to_owned(), line.repeat(40)] {
            let c = p.clean(input.as_bytes()).expect("cleans");
            let digest = InputDigest::of(input.as_bytes());
            let whole = p.notes_of(&c, &digest, "d/x.txt");
            let mut to = Pieces(Vec::new(), Vec::new());
            p.write_notes_of(&c, &digest, "d/x.txt", &mut to)
                .expect("writes");
            assert_eq!(String::from_utf8(to.1).expect("UTF-8"), whole);
            let longest = whole.lines().map(str::len).max().unwrap_or(0) + 1;
            assert!(
                to.0.iter().all(|&n| n < NOTES_CHUNK + longest),
                "{:?}",
                to.0
            );
            if whole.len() > 3 * NOTES_CHUNK {
                assert!(to.0.len() >= 3, "{:?}", to.0);
            }
        }
    }

    #[test]
    fn restore_detects_a_changed_clean_text() {
        let input = b"a  \r\nb\r\n";
        let p = Pipeline::default();
        let c = p.clean(input).expect("cleans");
        let (h, n) = read(&write(&c, input, "x", p.config())).expect("reads");
        let tampered = c.text.replace('b', "c");
        assert!(restore(&tampered, &h, &n).is_err());
    }

    /// The header written with the configuration serialized once is the
    /// one a `Header` value makes, field for field and byte for byte, for
    /// every kind of configuration (rules text with quotes and newlines, a
    /// forced encoding, records without a final newline, a corpus).
    #[test]
    fn pipeline_notes_match_write_and_the_header_type() {
        use crate::pipeline::{Config, LossyMode, QuoteStyle};
        use crate::rules::RulesFile;
        use std::sync::Arc;
        let rules = RulesFile::parse(
            "disable = [\"normalize/nbsp-run\"]\n[[boilerplate]]\nname = \"acme\"\npattern = \"^ACME \\\"x\\\"\"\n",
        )
        .expect("parses");
        let configs = [
            Config::default(),
            Config {
                quotes: QuoteStyle::Ascii,
                lossy: LossyMode::Mark,
                encoding: Some(encoding_rs::KOI8_R),
                rules: Some(Arc::new(rules)),
                final_newline: false,
                stages: [Stage::Decode, Stage::Quotes].into_iter().collect(),
            },
        ];
        let input = "\u{FEFF}“Привет, – сказал он. – Да” \r\n\u{a0}\n".as_bytes();
        for config in configs {
            let p = Pipeline::new(config);
            let mut c = p.clean(input).expect("cleans");
            for corpus in [None, Some(0x00ab_cdef_0123_4567)] {
                c.corpus = corpus;
                let fast = p.notes(&c, input, "dir/\"a\".txt");
                assert_eq!(fast, write(&c, input, "dir/\"a\".txt", p.config()));
                let (header, _) = read(&fast).expect("reads");
                let mut again = serde_json::to_string(&header).expect("serializes");
                again.push('\n');
                assert_eq!(fast.lines().next(), again.lines().next());
                assert_eq!(header.config, config_value(p.config()));
                assert_eq!(header.corpus.is_some(), corpus.is_some());
            }
        }
    }

    /// `push_note` writes what the `Serialize` derive writes, for every
    /// stage, every optional field present or not, and strings that need
    /// escaping (quotes, backslashes, control characters, U+2028, non-ASCII).
    #[test]
    fn push_note_matches_the_derive() {
        let strings = [
            "",
            "plain",
            "a \"quoted\" \\ path\n\t\r\u{1}\u{1f}\u{7f}",
            "“Путин” – 日本\u{2028}\u{a0}",
        ];
        let mut n = 0usize;
        for (k, stage) in Stage::ALL.into_iter().enumerate() {
            for bits in 0u32..64 {
                let s = |i: usize| strings[(k + i + bits as usize) % strings.len()].to_owned();
                let opt = |bit: u32, i: usize| (bits & (1 << bit) != 0).then(|| s(i));
                let note = Note {
                    stage,
                    rule: Cow::Owned(s(0)),
                    src: [n, n * 7 + 3],
                    at: [usize::MAX - n, 0],
                    out: (bits & 1 != 0).then_some([n * 1000, 10]),
                    removed: opt(1, 1),
                    removed_bytes: opt(2, 2),
                    inserted: opt(3, 3),
                    text: opt(4, 4),
                    why: Cow::Owned(s(5)),
                    finding: bits & (1 << 5) != 0,
                };
                let mut fast = Vec::new();
                push_note(&mut fast, &note);
                let derived = serde_json::to_vec(&note).expect("serializes");
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&derived)
                );
                n += 12_345;
            }
        }
    }

    /// `push_json_str` writes what serde_json writes: every ASCII byte and
    /// some non-ASCII characters alone and at each place in an 8-byte word,
    /// and arbitrary strings.
    #[test]
    fn json_strings_are_written_as_serde_json_writes_them() {
        let serde = |s: &str| serde_json::to_string(s).expect("serializes");
        let fast = |s: &str| {
            let mut out = b"x".to_vec();
            push_json_str(&mut out, s);
            String::from_utf8(out).expect("UTF-8")
        };
        let mut chars: Vec<char> = (0u8..0x80).map(char::from).collect();
        chars.extend(['\u{80}', '\u{a0}', 'é', 'П', '\u{2028}', '“', '日', '😀']);
        for &c in &chars {
            for pad in 0..17 {
                let s = format!("{}{c}{}", "a".repeat(pad), "b".repeat(16 - pad));
                assert_eq!(fast(&s), format!("x{}", serde(&s)), "{s:?}");
            }
        }
        // Negative: a plain string comes back only quoted.
        assert_eq!(fast("plain text, 8+ bytes"), "x\"plain text, 8+ bytes\"");
    }

    /// `push_notes_array` writes what serde_json writes for the slice:
    /// none, one and several notes of a real document.
    #[test]
    fn notes_arrays_match_serde_json() {
        let p = Pipeline::new(Config::default());
        let c = p
            .clean("\u{FEFF}“Привет, – сказал он. – Да” \r\n\u{a0}\nREAD MORE: x\n".as_bytes())
            .expect("cleans");
        assert!(c.edits.len() >= 3, "{:?}", c.edits);
        for n in [0, 1, c.edits.len()] {
            let mut fast = Vec::new();
            push_notes_array(&mut fast, &c.edits[..n]);
            assert_eq!(fast, serde_json::to_vec(&c.edits[..n]).expect("serializes"));
        }
    }

    /// `escape_mask` marks exactly the bytes to escape, whatever their
    /// neighbours: every byte value at every place among bytes that need
    /// no escape, low and high ones (carries would show there).
    #[test]
    fn escape_masks_are_exact_per_byte() {
        let needs = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        for filler in [b'a', b' ', b'!', b'#', b'[', b']', 0x7F, 0x80, 0xFF] {
            for b in 0..=255u8 {
                for at in 0..8 {
                    let mut word = [filler; 8];
                    word[at] = b;
                    let want = if needs(b) { 0x80u64 << (8 * at) } else { 0 };
                    assert_eq!(
                        escape_mask(u64::from_le_bytes(word)),
                        want,
                        "{b:#x} at {at}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn json_strings_match_serde_json(s in "(\\PC|[\\x00-\\x1f\"\\\\\\x7f\u{2028}]){0,40}") {
            let mut out = Vec::new();
            push_json_str(&mut out, &s);
            proptest::prop_assert_eq!(out, serde_json::to_vec(&s).expect("serializes"));
        }

        /// Long runs with nothing to escape, where the 64-byte blocks of
        /// `next_escape` are passed over, and escapes at any place in or
        /// after them.
        #[test]
        fn long_json_strings_match_serde_json(
            s in "([a-z ]{0,150}|\\PC{0,90}|[\\x00-\\x1f\"\\\\]){0,12}"
        ) {
            let mut out = Vec::new();
            push_json_str(&mut out, &s);
            proptest::prop_assert_eq!(out, serde_json::to_vec(&s).expect("serializes"));
        }

        /// A text escaped in pieces, cut at any character boundaries, is
        /// the text escaped whole (a long JSON-lines record is written so).
        #[test]
        fn json_strings_escape_alike_in_pieces(
            s in "(\\PC|[\\x00-\\x1f\"\\\\\\x7f\u{2028}]){0,40}",
            cuts in proptest::collection::vec(0usize..200, 0..4),
        ) {
            let mut cuts: Vec<usize> = cuts
                .into_iter()
                .filter(|&c| c <= s.len() && s.is_char_boundary(c))
                .collect();
            cuts.sort_unstable();
            let mut pieces = vec![b'"'];
            let mut from = 0;
            for cut in cuts.into_iter().chain([s.len()]) {
                push_json_body(&mut pieces, &s[from..cut]);
                from = cut;
            }
            pieces.push(b'"');
            let mut whole = Vec::new();
            push_json_str(&mut whole, &s);
            proptest::prop_assert_eq!(pieces, whole);
        }
    }

    /// Notes read line by line are the notes read whole, with line ends
    /// `\n` or `\r\n` and blank lines passed over but counted: an error
    /// names the line of the file, a line that is not UTF-8 too, and a
    /// failing reader gives its error once and then nothing.
    #[test]
    fn notes_read_line_by_line_name_the_line() {
        let input = b"a&amp;b  \r\nPhoto: A / AFP\r\n\xe2\x80\x9cx\xe2\x80\x9d\xc2\xa0y\r\n";
        let p = Pipeline::default();
        let c = p.clean(input).expect("cleans");
        let notes = write(&c, input, "x.txt", p.config());
        let crlf = notes.replace('\n', "\r\n\r\n");
        for text in [&notes, &crlf] {
            let (h, n) = read_from(text.as_bytes()).expect("reads");
            assert_eq!((h, n.clone()), read(&notes).expect("reads"));
            assert_eq!(n, c.edits);
        }
        let first = notes.lines().next().expect("header");
        let bad = format!("{first}\n\n  \n{{\"stage\":1}}\n");
        let err = read_from(bad.as_bytes()).expect_err("bad line");
        assert!(err.to_string().starts_with("notes line 4: "), "{err}");
        let mut not_utf8 = format!("{first}\n\n").into_bytes();
        not_utf8.extend_from_slice(b"{\"why\":\"\xff\"}\n");
        let err = read_from(&not_utf8[..]).expect_err("not UTF-8");
        assert_eq!(err.to_string(), "notes line 3: not UTF-8 at byte 8");

        /// Gives its bytes, then fails.
        struct Failing<'a>(&'a [u8]);
        impl std::io::Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("disk on fire"));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let cut = notes.len() - 10;
        let reader = std::io::BufReader::with_capacity(16, Failing(&notes.as_bytes()[..cut]));
        let mut lines = NotesReader::new(reader).expect("header");
        let got: Vec<_> = lines.by_ref().collect();
        assert!(got.len() >= 2, "{got:?}");
        let (last, rest) = got.split_last().expect("some");
        assert!(rest.iter().all(Result::is_ok));
        assert!(
            matches!(last, Err(NotesError::Io { source }) if source.to_string() == "disk on fire"),
            "{last:?}"
        );
        assert!(lines.next().is_none(), "nothing after an error");
    }

    #[test]
    fn read_rejects_garbage() {
        assert!(read("").is_err());
        assert!(read("{\"hello\":1}\n").is_err());
    }
}
