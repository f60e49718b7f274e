//! Rebuilding the original bytes from a clean text and its notes.
//!
//! The stages are undone last to first, each in place in one buffer: the
//! clean text's own, when it is handed over ([`restore_owned`]). The edits
//! of a stage are all checked before a byte moves, so a text that does not
//! fit its notes is refused with the first edit that does not fit, as
//! before; then the bytes between edits move once ([`splice_in_place`]).
//! UTF-8 (the commonest encoding) is re-encoded in the same buffer.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;
use std::ops::Range;

use encoding_rs::{Encoding, UTF_8};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Header, Note, NotesError, NotesReader};
use crate::stage::Stage;
use crate::stage::decode;

/// Rebuilds the original bytes from the clean text and its notes, and
/// checks them against the size and SHA-256 in the header.
///
/// Copies `clean` once; [`restore_owned`] takes it by value instead.
pub fn restore(clean: &str, header: &Header, notes: &[Note]) -> Result<Vec<u8>, NotesError> {
    restore_owned(clean.to_owned(), header, notes)
}

/// [`restore`], taking the clean text by value: the original is rebuilt in
/// the text's own buffer, so a large document is held about once (plus its
/// notes) instead of two or three times.
pub fn restore_owned(
    clean: String,
    header: &Header,
    notes: &[Note],
) -> Result<Vec<u8>, NotesError> {
    let enc = header_encoding(header)?;
    let bytes = restore_bytes_owned(clean, enc, notes)?;
    check_digest(&bytes, header)?;
    Ok(bytes)
}

/// Rebuilds the original bytes from clean text, the encoding the input was
/// decoded from, and the notes (without a header to check them against).
///
/// Copies `clean` once; [`restore_bytes_owned`] takes it by value instead.
pub fn restore_bytes(
    clean: &str,
    enc: &'static Encoding,
    notes: &[Note],
) -> Result<Vec<u8>, NotesError> {
    restore_bytes_owned(clean.to_owned(), enc, notes)
}

/// [`restore_bytes`], taking the clean text by value and rebuilding the
/// original in its buffer (for UTF-8; another encoding is written into a
/// second buffer at the end).
pub fn restore_bytes_owned(
    clean: String,
    enc: &'static Encoding,
    notes: &[Note],
) -> Result<Vec<u8>, NotesError> {
    let mut text = clean.into_bytes();
    for stage in UNDO_ORDER {
        let mut edits: Vec<&Note> = notes
            .iter()
            .filter(|n| n.stage == stage && !n.finding)
            .collect();
        edits.sort_by_key(|n| (n.at[0], n.at[1]));
        undo(&mut text, &edits, |n| Undo::of(n))?;
    }
    let mut parts = Vec::new();
    for n in notes.iter().filter(|n| n.stage == Stage::Decode) {
        let out = n
            .out
            .ok_or_else(|| Undo::of(n).mismatch("decode note without `out`"))?;
        let bytes = match (&n.removed, &n.removed_bytes) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Some(h)) => {
                decode::from_hex(h).ok_or_else(|| Undo::of(n).mismatch("bad hex"))?
            }
            (None, None) => Vec::new(),
        };
        parts.push((out[0]..out[1], bytes));
    }
    let parts: Vec<_> = parts
        .iter()
        .map(|(r, b)| (r.clone(), b.as_slice()))
        .collect();
    encode_owned(text, enc, &parts)
}

/// The notes of a document packed for [`restore`](Self::restore): of each
/// edit only what undoing it reads, its texts one after another in one
/// string; findings only counted. 48 bytes and the edit's texts per
/// note, where a [`Note`] takes 208 bytes and three or four strings of its
/// own (a 1 GB document has 2.2 million notes: 144 MiB packed). [`read_from`](Self::read_from) reads them line by line.
#[derive(Debug, Default)]
pub struct PackedNotes {
    /// The edits of the stages after decode, sorted by stage, then `at`.
    edits: Vec<PackedEdit>,
    /// Decode's notes, in the order of the file.
    parts: Vec<PackedPart>,
    /// The removed and then the inserted text of each edit.
    text: String,
    /// The original bytes of each decode note.
    bytes: Vec<u8>,
    /// Rule names, each once.
    rules: Vec<Box<str>>,
    /// Notes read (findings too).
    notes: usize,
    /// Findings read.
    findings: usize,
}

/// An edit in [`PackedNotes`]: its texts are `removed` and then
/// `inserted` bytes of `PackedNotes::text` from `text`.
#[derive(Clone, Copy, Debug)]
struct PackedEdit {
    at: [usize; 2],
    text: usize,
    removed: usize,
    inserted: usize,
    rule: u32,
    stage: Stage,
}

/// A decode note in [`PackedNotes`]: where its bytes go, and which bytes of
/// `PackedNotes::bytes` they are (`None`: bad hex, refused on restore).
#[derive(Clone, Debug)]
struct PackedPart {
    at: [usize; 2],
    out: Option<[usize; 2]>,
    bytes: Option<Range<usize>>,
    rule: u32,
}

/// A string of a note, borrowed from its line when it has no escapes.
#[derive(Deserialize)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

/// A note as [`PackedNotes`] reads it: the fields of [`Note`], of the same
/// types (so a line is refused exactly when `Note` refuses it, with the
/// same message; tested), with strings borrowed from the line.
#[derive(Deserialize)]
struct NoteIn<'a> {
    stage: Stage,
    #[serde(borrow)]
    rule: Str<'a>,
    #[serde(rename = "src")]
    _src: [usize; 2],
    at: [usize; 2],
    #[serde(default)]
    out: Option<[usize; 2]>,
    #[serde(default, borrow)]
    removed: Option<Str<'a>>,
    #[serde(default, borrow)]
    removed_bytes: Option<Str<'a>>,
    #[serde(default, borrow)]
    inserted: Option<Str<'a>>,
    #[serde(default, borrow, rename = "text")]
    _text: Option<Str<'a>>,
    #[serde(borrow, rename = "why")]
    _why: Str<'a>,
    #[serde(default)]
    finding: bool,
}

impl PackedNotes {
    /// Reads notes written by [`write()`](super::write) line by line from
    /// `reader`, packed. Refuses what [`read`](super::read) refuses, with
    /// the same errors.
    pub fn read_from(reader: impl BufRead) -> Result<(Header, PackedNotes), NotesError> {
        let mut lines = NotesReader::new(reader)?;
        let mut packed = PackedNotes::default();
        let mut rule_ids: HashMap<Box<str>, u32> = HashMap::new();
        while let Some(line) = lines.next_line() {
            let (number, line) = line?;
            let parse = |message: String| NotesError::Parse {
                line: number,
                message,
            };
            let note: NoteIn = serde_json::from_str(line).map_err(|e| parse(e.to_string()))?;
            let rule = match rule_ids.get(&*note.rule.0) {
                Some(&id) => id,
                None => {
                    let id = u32::try_from(packed.rules.len())
                        .map_err(|_| parse("too many rule names".to_owned()))?;
                    let name: Box<str> = note.rule.0.as_ref().into();
                    packed.rules.push(name.clone());
                    rule_ids.insert(name, id);
                    id
                }
            };
            packed.push(note, rule);
        }
        // Notes are written in stage order, and in text order in a stage.
        if !packed.edits.is_sorted_by_key(PackedEdit::key) {
            packed.edits.sort_by_key(PackedEdit::key);
        }
        Ok((lines.header, packed))
    }

    /// Adds one note, whose rule is `rules[rule]`.
    fn push(&mut self, n: NoteIn<'_>, rule: u32) {
        self.notes += 1;
        self.findings += usize::from(n.finding);
        if n.stage == Stage::Decode {
            let from = self.bytes.len();
            let bytes = match (&n.removed, &n.removed_bytes) {
                (Some(s), _) => Some(s.0.as_bytes().to_vec()),
                (None, Some(h)) => decode::from_hex(&h.0),
                (None, None) => Some(Vec::new()),
            };
            let bytes = bytes.map(|b| {
                self.bytes.extend_from_slice(&b);
                from..self.bytes.len()
            });
            self.parts.push(PackedPart {
                at: n.at,
                out: n.out,
                bytes,
                rule,
            });
        } else if !n.finding {
            let removed = n.removed.as_ref().map_or("", |s| &*s.0);
            let inserted = n.inserted.as_ref().map_or("", |s| &*s.0);
            self.edits.push(PackedEdit {
                at: n.at,
                text: self.text.len(),
                removed: removed.len(),
                inserted: inserted.len(),
                rule,
                stage: n.stage,
            });
            self.text.push_str(removed);
            self.text.push_str(inserted);
        }
    }

    /// How many notes were read, findings included.
    pub fn len(&self) -> usize {
        self.notes
    }

    /// Whether no note was read.
    pub fn is_empty(&self) -> bool {
        self.notes == 0
    }

    /// How many of the notes are findings.
    pub fn findings(&self) -> usize {
        self.findings
    }

    /// Rebuilds the original bytes from the clean text, in its buffer, and
    /// checks them against the size and SHA-256 in the header: what
    /// [`restore_owned`] gives for the same notes.
    pub fn restore(&self, clean: String, header: &Header) -> Result<Vec<u8>, NotesError> {
        let enc = header_encoding(header)?;
        let bytes = self.restore_bytes(clean, enc)?;
        check_digest(&bytes, header)?;
        Ok(bytes)
    }

    /// Rebuilds the original bytes from the clean text and the encoding the
    /// input was decoded from, without a header to check them against:
    /// what [`restore_bytes_owned`] gives for the same notes.
    pub fn restore_bytes(
        &self,
        clean: String,
        enc: &'static Encoding,
    ) -> Result<Vec<u8>, NotesError> {
        let mut text = clean.into_bytes();
        for stage in UNDO_ORDER {
            let from = self.edits.partition_point(|e| e.stage < stage);
            let to = self.edits.partition_point(|e| e.stage <= stage);
            undo(&mut text, &self.edits[from..to], |e| self.undo_of(e))?;
        }
        let parts = self
            .parts
            .iter()
            .map(|p| {
                let what = |what| {
                    Undo {
                        stage: Stage::Decode,
                        rule: &self.rules[p.rule as usize],
                        at: p.at,
                        removed: "",
                        inserted: "",
                    }
                    .mismatch(what)
                };
                let out = p.out.ok_or_else(|| what("decode note without `out`"))?;
                let bytes = p.bytes.clone().ok_or_else(|| what("bad hex"))?;
                Ok((out[0]..out[1], &self.bytes[bytes]))
            })
            .collect::<Result<Vec<_>, NotesError>>()?;
        encode_owned(text, enc, &parts)
    }

    /// What undoing reads of `e`.
    fn undo_of<'a>(&'a self, e: &PackedEdit) -> Undo<'a> {
        let removed_end = e.text + e.removed;
        Undo {
            stage: e.stage,
            rule: &self.rules[e.rule as usize],
            at: e.at,
            removed: &self.text[e.text..removed_end],
            inserted: &self.text[removed_end..removed_end + e.inserted],
        }
    }
}

impl PackedEdit {
    /// The order a stage's edits are undone in: as `restore_bytes` sorts
    /// them, in stage order.
    fn key(&self) -> (Stage, usize, usize) {
        (self.stage, self.at[0], self.at[1])
    }
}

/// The stages `restore` undoes, in the order it undoes them: every stage
/// but decode, last first. (Decode's notes are the bytes put back when the
/// text is encoded.)
pub(super) const UNDO_ORDER: [Stage; 5] = [
    Stage::Normalize,
    Stage::Quotes,
    Stage::Boilerplate,
    Stage::Markup,
    Stage::Mojibake,
];

/// The header's encoding.
pub(super) fn header_encoding(header: &Header) -> Result<&'static Encoding, NotesError> {
    Encoding::for_label(header.encoding.as_bytes()).ok_or_else(|| NotesError::Parse {
        line: 1,
        message: format!("unknown encoding {:?}", header.encoding),
    })
}

/// Checks restored bytes against the size and SHA-256 in the header.
pub(super) fn check_digest(bytes: &[u8], header: &Header) -> Result<(), NotesError> {
    if bytes.len() != header.source.size
        || decode::to_hex(&Sha256::digest(bytes)) != header.source.sha256
    {
        return Err(NotesError::Mismatch {
            message: "restored bytes differ from the original's size or sha256".to_owned(),
        });
    }
    Ok(())
}

/// What undoing reads of one edit.
#[derive(Clone, Copy, Debug)]
pub(super) struct Undo<'a> {
    pub(super) stage: Stage,
    pub(super) rule: &'a str,
    /// The span in the stage's input (the text being rebuilt).
    pub(super) at: [usize; 2],
    pub(super) removed: &'a str,
    pub(super) inserted: &'a str,
}

impl<'a> Undo<'a> {
    /// The parts of `n` that undoing reads (an absent text is empty).
    fn of(n: &'a Note) -> Undo<'a> {
        Undo {
            stage: n.stage,
            rule: &n.rule,
            at: n.at,
            removed: n.removed.as_deref().unwrap_or(""),
            inserted: n.inserted.as_deref().unwrap_or(""),
        }
    }

    /// The error for this edit: `what` is wrong with it.
    pub(super) fn mismatch(&self, what: &str) -> NotesError {
        NotesError::Mismatch {
            message: format!("{}/{} at {:?}: {what}", self.stage, self.rule, self.at),
        }
    }
}

/// Undoes one stage in place: `text` holds the stage's output and becomes
/// its input. `edits` are the stage's edits sorted by `at`, read through
/// `view`.
///
/// Every edit is checked first (its span against its removed text, its
/// order, its inserted text where the notes say, on character boundaries),
/// so on an error `text` is as it was and the error names the first edit
/// that does not fit. A text that was UTF-8 stays UTF-8: everything kept
/// is cut at character boundaries and everything put back is a `str`.
pub(super) fn undo<'a, T>(
    text: &mut Vec<u8>,
    edits: &'a [T],
    view: impl Fn(&'a T) -> Undo<'a> + Copy,
) -> Result<(), NotesError> {
    let mut delta: isize = 0; // offset in `text` minus offset in the stage's input
    let mut pos = 0; // in `text`: where the last edit's inserted text ends
    for e in edits.iter().map(view) {
        if e.at[1] < e.at[0] || e.at[1] - e.at[0] != e.removed.len() {
            return Err(e.mismatch("span length differs from the removed text"));
        }
        let start = e.at[0]
            .checked_add_signed(delta)
            .ok_or_else(|| e.mismatch("span out of order"))?;
        let fits = start
            .checked_add(e.inserted.len())
            .is_some_and(|end| holds(text, start..end, e.inserted.as_bytes()));
        if start < pos || !fits {
            return Err(e.mismatch(&format!("expected {:?} at byte {start}", e.inserted)));
        }
        pos = start + e.inserted.len();
        delta += e.inserted.len() as isize - e.removed.len() as isize;
    }
    if !edits.is_empty() {
        splice_in_place(
            text,
            UndoSplices {
                edits,
                view,
                front: 0,
                back: delta,
            },
        );
    }
    Ok(())
}

/// Whether `text[span]` is `want`, cut at character boundaries (as
/// `str::get` would have it).
fn holds(text: &[u8], span: Range<usize>, want: &[u8]) -> bool {
    is_boundary(text, span.start) && is_boundary(text, span.end) && text.get(span) == Some(want)
}

/// Whether `at` is a character boundary of the UTF-8 `text` (its end
/// included; past it, not).
fn is_boundary(text: &[u8], at: usize) -> bool {
    match text.get(at) {
        // Not a continuation byte (0b10xx_xxxx).
        Some(&b) => (b as i8) >= -0x40,
        None => at == text.len(),
    }
}

/// Re-encodes the rebuilt text in `enc`, putting each decode part's
/// original bytes where its span is: for UTF-8 in `text`'s own buffer,
/// otherwise through [`decode::encode_parts`] into a new one.
pub(super) fn encode_owned(
    mut text: Vec<u8>,
    enc: &'static Encoding,
    parts: &[(Range<usize>, &[u8])],
) -> Result<Vec<u8>, NotesError> {
    let cannot = || NotesError::Mismatch {
        message: format!("text cannot be encoded back to {}", enc.name()),
    };
    if enc != UTF_8 {
        let text = String::from_utf8(text).map_err(|_| cannot())?;
        return decode::encode_parts(&text, enc, parts).ok_or_else(cannot);
    }
    // The parts in order, on character boundaries, as `encode_parts` asks.
    let mut pos = 0;
    for (span, _) in parts {
        if span.start < pos
            || span.end < span.start
            || !is_boundary(&text, span.start)
            || !is_boundary(&text, span.end)
        {
            return Err(cannot());
        }
        pos = span.end;
    }
    splice_in_place(
        &mut text,
        parts.iter().map(|(span, bytes)| Splice {
            span: span.clone(),
            bytes,
        }),
    );
    Ok(text)
}

/// One replacement in a buffer being rebuilt in place: `bytes` go where
/// `span` (in the buffer as it is) was.
#[derive(Clone, Debug)]
pub(super) struct Splice<'a> {
    span: Range<usize>,
    bytes: &'a [u8],
}

/// The splices that undo a stage's checked edits: each edit's inserted
/// text, found in the stage's output, goes back to its removed text.
struct UndoSplices<'a, T, F> {
    edits: &'a [T],
    view: F,
    /// Offset in the text minus offset in the input, before `edits[0]`.
    front: isize,
    /// The same after the last of `edits`.
    back: isize,
}

// Not derived: the derive would ask `T: Clone`.
impl<T, F: Copy> Clone for UndoSplices<'_, T, F> {
    fn clone(&self) -> Self {
        UndoSplices { ..*self }
    }
}

impl<'a, T, F: Fn(&'a T) -> Undo<'a>> Iterator for UndoSplices<'a, T, F> {
    type Item = Splice<'a>;

    fn next(&mut self) -> Option<Splice<'a>> {
        let (first, rest) = self.edits.split_first()?;
        self.edits = rest;
        let e = (self.view)(first);
        let start = e.at[0].wrapping_add_signed(self.front);
        self.front += e.inserted.len() as isize - e.removed.len() as isize;
        Some(Splice {
            span: start..start + e.inserted.len(),
            bytes: e.removed.as_bytes(),
        })
    }
}

impl<'a, T, F: Fn(&'a T) -> Undo<'a>> DoubleEndedIterator for UndoSplices<'a, T, F> {
    fn next_back(&mut self) -> Option<Splice<'a>> {
        let (last, rest) = self.edits.split_last()?;
        self.edits = rest;
        let e = (self.view)(last);
        self.back -= e.inserted.len() as isize - e.removed.len() as isize;
        let start = e.at[0].wrapping_add_signed(self.back);
        Some(Splice {
            span: start..start + e.inserted.len(),
            bytes: e.removed.as_bytes(),
        })
    }
}

/// Makes every splice in `buf`, in place. The splices must be sorted, not
/// overlapping and within `buf` (the callers check them).
///
/// Each kept byte moves once. A pass that goes forwards is safe while the
/// rebuilt text never runs ahead of the text it is made from; one that goes
/// backwards, while it never falls behind. A stage's undo mostly lengthens
/// the text, so it goes backwards; when the rebuilt text is ahead in one
/// place and behind in another, the text is first moved right by the most
/// it runs ahead, then rebuilt forwards.
fn splice_in_place<'a, I>(buf: &mut Vec<u8>, splices: I)
where
    I: DoubleEndedIterator<Item = Splice<'a>> + Clone,
{
    // `lead`: offset in the rebuilt text minus offset in `buf`, after each splice.
    let (mut lead, mut least, mut most) = (0isize, 0isize, 0isize);
    for s in splices.clone() {
        lead += s.bytes.len() as isize - s.span.len() as isize;
        least = least.min(lead);
        most = most.max(lead);
    }
    let have = buf.len();
    let len = have.wrapping_add_signed(lead);
    if least >= 0 {
        // Never behind: backwards, from the end of the longer text.
        buf.reserve_exact(len - have);
        buf.resize(len, 0);
        let (mut w, mut r) = (len, have);
        for s in splices.rev() {
            let kept = r - s.span.end;
            buf.copy_within(s.span.end..r, w - kept);
            w -= kept + s.bytes.len();
            buf[w..w + s.bytes.len()].copy_from_slice(s.bytes);
            r = s.span.start;
        }
        debug_assert_eq!(w, r, "the text before the first splice stays where it is");
    } else {
        // Ahead somewhere (or never): forwards, from `shift` bytes to the right.
        let shift = most.unsigned_abs();
        if shift > 0 {
            buf.reserve_exact(shift);
            buf.resize(have + shift, 0);
            buf.copy_within(0..have, shift);
        }
        let (mut w, mut r) = (0, 0);
        for s in splices {
            let kept = s.span.start - r;
            buf.copy_within(shift + r..shift + s.span.start, w);
            w += kept;
            buf[w..w + s.bytes.len()].copy_from_slice(s.bytes);
            w += s.bytes.len();
            r = s.span.end;
        }
        buf.copy_within(shift + r..shift + have, w);
        debug_assert_eq!(w + have - r, len);
        buf.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::pipeline::Pipeline;

    /// Undoing as it was done before undoing in place: into a new string.
    /// The reference the in-place undo is checked against.
    fn undo_reference(text: &str, edits: &[&Note]) -> Result<String, NotesError> {
        let mut out = String::with_capacity(text.len());
        let mut delta: isize = 0;
        let mut pos = 0;
        for n in edits {
            let e = Undo::of(n);
            if e.at[1] < e.at[0] || e.at[1] - e.at[0] != e.removed.len() {
                return Err(e.mismatch("span length differs from the removed text"));
            }
            let start = usize::try_from(e.at[0] as isize + delta)
                .map_err(|_| e.mismatch("span out of order"))?;
            let end = start + e.inserted.len();
            if start < pos || text.get(start..end) != Some(e.inserted) {
                return Err(e.mismatch(&format!("expected {:?} at byte {start}", e.inserted)));
            }
            out.push_str(&text[pos..start]);
            out.push_str(e.removed);
            pos = end;
            delta += e.inserted.len() as isize - e.removed.len() as isize;
        }
        out.push_str(text.get(pos..).unwrap_or(""));
        Ok(out)
    }

    /// A normalize note that replaced `input[at]` by `inserted`.
    fn note(input: &str, at: Range<usize>, inserted: &str) -> Note {
        Note {
            stage: Stage::Normalize,
            rule: Cow::Borrowed("test-rule"),
            src: [at.start, at.end],
            at: [at.start, at.end],
            out: None,
            removed: Some(input[at].to_owned()),
            removed_bytes: None,
            inserted: Some(inserted.to_owned()),
            text: None,
            why: Cow::Borrowed("test"),
            finding: false,
        }
    }

    /// `input` with each note's span replaced by its inserted text: what the
    /// stage made.
    fn output(input: &str, notes: &[Note]) -> String {
        let mut out = String::new();
        let mut pos = 0;
        for n in notes {
            out.push_str(&input[pos..n.at[0]]);
            out.push_str(n.inserted.as_deref().unwrap_or(""));
            pos = n.at[1];
        }
        out + &input[pos..]
    }

    /// Undoes `notes` on `text` in place and the reference way; both must
    /// agree (text or error), and on an error the text is left as it was.
    fn undo_both(text: &str, notes: &[Note]) -> Result<String, String> {
        let refs: Vec<&Note> = notes.iter().collect();
        let want = undo_reference(text, &refs).map_err(|e| e.to_string());
        let mut buf = text.as_bytes().to_vec();
        let got = undo(&mut buf, &refs, |n| Undo::of(n)).map_err(|e| e.to_string());
        match got {
            Ok(()) => {
                let s = String::from_utf8(buf).expect("an undone text stays UTF-8");
                assert_eq!(Ok(s.clone()), want);
                Ok(s)
            }
            Err(e) => {
                assert_eq!(buf, text.as_bytes(), "the text is left as it was");
                assert_eq!(Err(e.clone()), want);
                Err(e)
            }
        }
    }

    /// Each way of moving the bytes: the rebuilt text always ahead (undo
    /// lengthens: backwards), always behind (forwards), ahead then behind
    /// and behind then ahead (moved right first), and edits at both ends.
    #[test]
    fn undoing_in_place_rebuilds_the_input_whichever_way_it_moves() {
        let input = "ab  cd\u{a0}é  ef\r\ngh  ";
        let cases: [&[(Range<usize>, &str)]; 6] = [
            &[(2..4, " "), (6..8, " "), (14..16, "\n")],
            &[(0..1, "AAA"), (6..8, "  \u{2009} "), (14..16, "\r\n\r\n")],
            &[(0..2, "xyzw"), (2..4, ""), (6..8, ""), (10..12, "")],
            &[(2..4, ""), (6..8, ""), (18..20, "long tail")],
            &[(0..0, "start "), (20..20, " end")],
            &[],
        ];
        for edits in cases {
            let notes: Vec<Note> = edits
                .iter()
                .map(|(at, ins)| note(input, at.clone(), ins))
                .collect();
            let made = output(input, &notes);
            assert_eq!(undo_both(&made, &notes).as_deref(), Ok(input), "{edits:?}");
        }
    }

    /// A text that does not fit its notes is refused with the first edit
    /// that does not fit, as before, and is left as it was: an inserted
    /// text that is not there, a span whose length is not the removed
    /// text's, edits out of order, a deletion put back inside a character.
    #[test]
    fn undoing_refuses_what_does_not_fit_and_leaves_the_text() {
        let input = "ab  cd é";
        let good = [note(input, 2..4, " "), note(input, 6..7, "_")];
        let made = output(input, &good);
        assert_eq!(made, "ab cd_é");
        let changed = "ab cd-é";
        let err = undo_both(changed, &good).expect_err("changed text");
        assert!(err.contains("normalize/test-rule at [6, 7]"), "{err}");
        assert!(err.contains("expected \"_\" at byte 5"), "{err}");
        let mut long = good.clone();
        long[0].removed = Some("   ".to_owned());
        let err = undo_both(&made, &long).expect_err("span length");
        assert!(err.contains("span length differs"), "{err}");
        let swapped = [good[1].clone(), good[0].clone()];
        assert!(undo_both(&made, &swapped).is_err());
        // Inside `é` (bytes 6..8 of `made`): not a character boundary.
        let mut inside = [note("x", 0..1, "")];
        inside[0].at = [7, 8];
        let err = undo_both(&made, &inside).expect_err("inside a character");
        assert!(err.contains("expected \"\" at byte 7"), "{err}");
        // A span too far out to add the offset to: an error, not a panic.
        let mut far = note(input, 2..4, " ");
        far.at = [usize::MAX - 1, usize::MAX];
        far.removed = Some(" ".to_owned());
        let mut buf = made.as_bytes().to_vec();
        let shrink = [good[0].clone(), far];
        let refs: Vec<&Note> = shrink.iter().collect();
        assert!(undo(&mut buf, &refs, |n| Undo::of(n)).is_err());
        assert_eq!(buf, made.as_bytes());
    }

    /// Decode's parts are put back in the text's own buffer for UTF-8, as
    /// `encode_parts` puts them back into a new one; parts out of order,
    /// off a character boundary or past the end are refused, and so is a
    /// part whose span ends before it starts (`encode_parts` read the
    /// text between its end and start twice).
    #[test]
    fn utf8_parts_are_put_back_in_place() {
        let text = "\u{feff}a\u{fffd}b é\u{fffd}";
        let bad: &[u8] = b"\xff\xfe";
        let ok = [
            (0..3, &b"\xef\xbb\xbf"[..]),
            (4..7, bad),
            (8..8, b"inserted"),
            (9..11, b"e\xcc\x81"),
            (11..14, b"\xc3"),
        ];
        for n in 0..=ok.len() {
            let parts = &ok[..n];
            let want = decode::encode_parts(text, UTF_8, parts).expect("encodes");
            let got = encode_owned(text.as_bytes().to_vec(), UTF_8, parts).expect("encodes");
            assert_eq!(got, want, "{n} parts");
        }
        let refused: [&[(Range<usize>, &[u8])]; 4] = [
            &[(4..7, bad), (0..3, bad)],
            &[(5..7, bad)],
            &[(11..15, bad)],
            &[(Range { start: 7, end: 4 }, bad)],
        ];
        for parts in refused {
            let err = encode_owned(text.as_bytes().to_vec(), UTF_8, parts);
            assert!(
                err.is_err_and(|e| e.to_string().contains("cannot be encoded back to UTF-8")),
                "{parts:?}"
            );
        }
    }

    /// Handing the text over gives what borrowing it gives, for every
    /// encoding path (UTF-8 with and without bad bytes, UTF-16, a legacy
    /// codepage), and the check against the header still holds.
    #[test]
    fn restoring_owned_text_gives_the_original() {
        let inputs: [&[u8]; 5] = [
            b"\xEF\xBB\xBFline one  \r\n\r\n\r\n\r\nbad \xFF byte\xC2\xA0here",
            b"plain\n",
            b"\xFF\xFEh\x00i\x00 \x00 \x00\r\x00\n\x00",
            b"\xcf\xf0\xe8\xe2\xe5\xf2,  \xec\xe8\xf0\r\n\xab\xe4\xe0\xbb",
            b"",
        ];
        let p = Pipeline::default();
        for input in inputs {
            let c = p.clean(input).expect("cleans");
            let notes = super::super::write(&c, input, "x", p.config());
            let (h, n) = super::super::read(&notes).expect("reads");
            assert_eq!(restore(&c.text, &h, &n).expect("restores"), input);
            assert_eq!(
                restore_owned(c.text.clone(), &h, &n).expect("restores"),
                input
            );
            assert_eq!(
                restore_bytes_owned(c.text.clone(), c.encoding, &c.edits).expect("restores"),
                input
            );
            let mut other = h.clone();
            other.source.size += 1;
            assert!(restore_owned(c.text.clone(), &other, &n).is_err());
        }
    }

    /// The notes of `input` cleaned with the default pipeline, as a file.
    fn notes_of(input: &[u8]) -> (String, String) {
        let p = Pipeline::default();
        let c = p.clean(input).expect("cleans");
        let notes = super::super::write(&c, input, "x", p.config());
        (c.text, notes)
    }

    /// Restoring from packed notes gives what restoring from `Note`s
    /// gives, bytes or error: for clean texts that fit and that do not
    /// (a letter changed, a line dropped, a stray byte at the end), for
    /// every encoding path, and for notes whose lines are in another
    /// order (sorted again on reading).
    #[test]
    fn packed_notes_restore_what_notes_restore() {
        let inputs: [&[u8]; 5] = [
            b"\xEF\xBB\xBFline one  \r\n\r\n\r\n\r\nbad \xFF byte\xC2\xA0here &amp; \xe2\x80\x9cq\xe2\x80\x9d\r\nPhoto: A / AFP\r\n",
            b"plain\n",
            b"\xFF\xFEh\x00i\x00 \x00 \x00\r\x00\n\x00",
            b"\xcf\xf0\xe8\xe2\xe5\xf2,  \xec\xe8\xf0\r\n\xab\xe4\xe0\xbb",
            b"",
        ];
        for input in inputs {
            let (text, notes) = notes_of(input);
            let mut lines: Vec<&str> = notes.lines().collect();
            let header = lines.remove(0);
            // Decode's parts must stay in order (as before); the rest are
            // sorted again.
            let (decode, rest): (Vec<&str>, Vec<&str>) = lines
                .iter()
                .partition(|l| l.starts_with(r#"{"stage":"decode""#));
            let reversed = std::iter::once(header)
                .chain(decode)
                .chain(rest.into_iter().rev())
                .collect::<Vec<_>>()
                .join("\n");
            let texts = [
                text.clone(),
                text.replacen('e', "E", 1),
                text.lines().skip(1).collect::<Vec<_>>().join("\n"),
                text.clone() + "x",
            ];
            for notes in [&notes, &reversed] {
                let (h, n) = super::super::read(notes).expect("reads");
                let (ph, packed) = PackedNotes::read_from(notes.as_bytes()).expect("reads");
                assert_eq!(ph, h);
                assert_eq!(packed.len(), n.len());
                assert_eq!(packed.findings(), n.iter().filter(|n| n.finding).count());
                for t in &texts {
                    let want = restore_owned(t.clone(), &h, &n).map_err(|e| e.to_string());
                    let got = packed.restore(t.clone(), &h).map_err(|e| e.to_string());
                    assert_eq!(got, want, "{t:?}");
                }
                assert_eq!(packed.restore(text.clone(), &h).expect("restores"), input);
            }
        }
    }

    /// A notes line is refused by the packed reader exactly when it is
    /// refused as a `Note`, with the same message and line number: fields
    /// missing, of the wrong type, null, escaped, unknown, repeated.
    #[test]
    fn packed_notes_refuse_the_lines_notes_refuse() {
        let (_, notes) = notes_of(b"a  \r\n");
        let header = notes.lines().next().expect("header");
        let good = r#"{"stage":"normalize","rule":"r","src":[0,1],"at":[0,1],"removed":"a","inserted":"b","why":"w"}"#;
        let lines = [
            good.to_owned(),
            good.replace(r#""why":"w""#, r#""why":"w\"\u00e9""#),
            good.replace(r#","why":"w""#, ""),
            good.replace(r#""rule":"r","#, ""),
            good.replace(r#""src":[0,1],"#, ""),
            good.replace(r#""at":[0,1]"#, r#""at":[0]"#),
            good.replace(r#""at":[0,1]"#, r#""at":[-1,1]"#),
            good.replace(r#""rule":"r""#, r#""rule":3"#),
            good.replace(r#""why":"w""#, r#""why":null"#),
            good.replace(r#""inserted":"b""#, r#""inserted":null"#),
            good.replace(r#""inserted":"b""#, r#""inserted":5"#),
            good.replace(r#""inserted":"b""#, r#""text":[1]"#),
            good.replace(r#""stage":"normalize""#, r#""stage":"other""#),
            good.replace(r#""stage":"normalize""#, r#""stage":"decode","out":"x""#),
            good.replace(
                r#""stage":"normalize""#,
                r#""stage":"decode","removed_bytes":"zz""#,
            ),
            good.replace(r#""inserted":"b""#, r#""finding":"yes""#),
            good.replace(r#""inserted":"b""#, r#""extra":{"a":[1,2]}"#),
            good.replace(r#""inserted":"b""#, r#""inserted":"b","inserted":"c""#),
            "[1,2]".to_owned(),
            "{".to_owned(),
        ];
        for line in lines {
            let notes = format!("{header}\n\n{line}\n");
            let want = super::super::read(&notes)
                .map(|_| ())
                .map_err(|e| e.to_string());
            let got = PackedNotes::read_from(notes.as_bytes())
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert_eq!(got, want, "{line}");
            if let Err(e) = got {
                assert!(e.starts_with("notes line 3: "), "{e}");
            }
        }
    }

    proptest::proptest! {
        /// Any edits of any text, undone in place, give back the text the
        /// reference undo gives back (the stage's input), whichever way
        /// the bytes have to move.
        #[test]
        fn undoing_in_place_matches_the_reference(
            input in "[ab \u{a0}é\u{2009}日\r\n]{0,40}",
            picks in proptest::collection::vec((0usize..50, 0usize..4, "[xy \u{a0}é]{0,5}"), 0..8),
        ) {
            let bounds: Vec<usize> = (0..=input.len()).filter(|&i| input.is_char_boundary(i)).collect();
            let mut notes = Vec::new();
            let mut pos = 0;
            let mut picks = picks;
            picks.sort_by_key(|p| p.0);
            for (at, len, ins) in picks {
                let Some(&start) = bounds.iter().find(|&&b| b >= pos.max(at.min(input.len()))) else { break };
                let end = bounds.iter().copied().filter(|&b| b >= start).nth(len).unwrap_or(start);
                notes.push(note(&input, start..end, &ins));
                pos = end + 1;
            }
            let made = output(&input, &notes);
            proptest::prop_assert_eq!(undo_both(&made, &notes), Ok(input));
        }
    }
}
