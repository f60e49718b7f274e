//! The pipeline: configuration, and `clean`, which runs the stages in order.

use std::borrow::Cow;
use std::sync::Arc;

use encoding_rs::{Encoding, UTF_8};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::corpus::Corpus;
use crate::edit::{self, OffsetMap};
use crate::error::Error;
use crate::notes::{InputDigest, Note};
use crate::rules::RulesFile;
use crate::stage::decode::{self, Detection, SourceMap};
use crate::stage::{Stage, StageSet};

/// The quotation style of the quotes stage (`--quotes`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QuoteStyle {
    /// “ ” ‘ ’ and the apostrophe ’.
    #[default]
    Curly,
    /// " ' and the apostrophe '.
    Ascii,
    /// Keep the glyphs as they are (repairs of structure still happen).
    Keep,
}

/// What to do with text whose letters were lost (turned into `?`) and
/// cannot be recovered from evidence (`--lossy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LossyMode {
    /// Leave the text as it is; record a finding in the notes.
    #[default]
    Keep,
    /// Replace each lost run with U+FFFD (and record it as an edit).
    Mark,
}

/// How to clean. Build once, share across threads through a [`Pipeline`].
#[derive(Clone, Debug)]
pub struct Config {
    /// The stages to run (`--only`, `--skip`). Without `Decode`, input is
    /// taken as UTF-8 (malformed bytes still become U+FFFD edits, since
    /// text must be valid) and a BOM stays in the text.
    pub stages: StageSet,
    /// The quotation style.
    pub quotes: QuoteStyle,
    /// Lossy-damage handling.
    pub lossy: LossyMode,
    /// A forced input encoding (`--encoding`), instead of detection.
    pub encoding: Option<&'static Encoding>,
    /// A user rules file (`--rules`).
    pub rules: Option<Arc<RulesFile>>,
    /// Whether normalize ends a text that lacks one with a newline (files:
    /// yes; JSON-lines records: no, a record's text is not a file).
    pub final_newline: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            stages: StageSet::ALL,
            quotes: QuoteStyle::default(),
            lossy: LossyMode::default(),
            encoding: None,
            rules: None,
            final_newline: true,
        }
    }
}

/// The configuration as written into the notes header.
#[derive(Serialize)]
pub(crate) struct ConfigInfo<'a> {
    stages: String,
    quotes: QuoteStyle,
    lossy: LossyMode,
    encoding: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    no_final_newline: bool,
}

impl Config {
    pub(crate) fn info(&self) -> ConfigInfo<'_> {
        ConfigInfo {
            stages: self.stages.to_string(),
            quotes: self.quotes,
            lossy: self.lossy,
            encoding: self.encoding.map(Encoding::name),
            rules: self.rules.as_deref().map(RulesFile::source),
            no_final_newline: !self.final_newline,
        }
    }

    fn rule_enabled(&self, rule: &edit::Rule) -> bool {
        self.rules.as_deref().is_none_or(|r| !r.is_disabled(rule))
    }
}

/// What a stage may read besides its input text.
pub struct Context<'a> {
    /// The configuration.
    pub config: &'a Config,
    /// Line counts over the documents of this run, when there are several.
    pub corpus: Option<&'a Corpus>,
}

/// A cleaned document: the text, and the notes that explain and undo it.
#[derive(Clone, Debug)]
pub struct Cleaned {
    /// The clean text.
    pub text: String,
    /// The encoding the input was decoded from.
    pub encoding: &'static Encoding,
    /// How that encoding was chosen.
    pub detection: Detection,
    /// Every edit, in stage order and then in text order.
    pub edits: Vec<Note>,
    /// Size of the input in bytes.
    pub source_len: usize,
    /// [`Corpus::fingerprint`] of the cross-document counts it was cleaned
    /// against, if any (recorded in the notes header).
    pub corpus: Option<u64>,
    /// Cleaned without notes ([`Pipeline::clean_string_without_notes`]):
    /// per stage, in [`Stage::ALL`]'s order, its edits and its findings,
    /// which `edits` then does not hold.
    counted: Option<[(usize, usize); 6]>,
}

impl Cleaned {
    /// Number of edits (not findings) made by `stage`.
    pub fn edit_count(&self, stage: Stage) -> usize {
        let noted = self
            .edits
            .iter()
            .filter(|n| n.stage == stage && !n.finding)
            .count();
        noted + self.counted.map_or(0, |c| c[stage as usize].0)
    }

    /// The original bytes, rebuilt from the text and the edits.
    pub fn restore(&self) -> Result<Vec<u8>, crate::notes::NotesError> {
        crate::notes::restore_bytes(&self.text, self.encoding, &self.edits)
    }

    /// Number of findings (things noticed, not changed) of `stage`.
    pub fn finding_count(&self, stage: Stage) -> usize {
        let noted = self
            .edits
            .iter()
            .filter(|n| n.stage == stage && n.finding)
            .count();
        noted + self.counted.map_or(0, |c| c[stage as usize].1)
    }

    /// Whether the notes were made: false for
    /// [`Pipeline::clean_string_without_notes`], whose `edits` is empty
    /// (and whose text [`restore`](Self::restore) cannot undo).
    pub fn has_notes(&self) -> bool {
        self.counted.is_none()
    }
}

/// A configured pipeline. Cheap to share: `Send + Sync`, reuse it across threads.
///
/// Each thread that cleans keeps up to two empty text buffers of at most
/// 32 MB for its next texts (so a long document's texts are built in pages
/// already faulted in); between documents it keeps only the largest, which
/// the next document drops if it needs far less (a quarter, and 1 MB).
#[derive(Clone, Debug)]
pub struct Pipeline {
    config: Config,
    /// The configuration as every notes header records it, serialized once.
    notes_config: Box<RawValue>,
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline::new(Config::default())
    }
}

impl Pipeline {
    /// A pipeline with `config`.
    pub fn new(config: Config) -> Pipeline {
        let notes_config = crate::notes::config_json(&config);
        Pipeline {
            config,
            notes_config,
        }
    }

    /// The notes of `cleaned` (cleaned by this pipeline from `original`,
    /// named `path` in the header): what [`notes::write`](crate::notes::write)
    /// writes, without building the header's configuration again.
    pub fn notes(&self, cleaned: &Cleaned, original: &[u8], path: &str) -> String {
        self.notes_of(cleaned, &InputDigest::of(original), path)
    }

    /// [`notes`](Self::notes) from the input's digest, for a document
    /// cleaned by [`clean_owned_in`](Self::clean_owned_in).
    pub fn notes_of(&self, cleaned: &Cleaned, input: &InputDigest, path: &str) -> String {
        crate::notes::write_with(cleaned, input, path, &self.notes_config)
    }

    /// [`notes_of`](Self::notes_of), written to `to` in pieces as they are
    /// made (the same bytes): a large document's notes are not held in
    /// memory whole.
    pub fn write_notes_of(
        &self,
        cleaned: &Cleaned,
        input: &InputDigest,
        path: &str,
        to: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        crate::notes::write_to(cleaned, input, path, &self.notes_config, to)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Cleans the bytes of one document.
    ///
    /// Errors only when the input cannot be text at all (a binary file).
    pub fn clean(&self, bytes: &[u8]) -> Result<Cleaned, Error> {
        self.clean_in(bytes, None)
    }

    /// Cleans text that is already decoded (no decode stage edits).
    pub fn clean_str(&self, text: &str) -> Cleaned {
        self.run(
            utf8(Cow::Borrowed(text)),
            Vec::new(),
            text.len(),
            None,
            true,
        )
    }

    /// [`clean_str`](Self::clean_str), taking the text: its buffer is
    /// reused for a later stage's text once a stage has changed it, so a
    /// large document is held in memory once less.
    pub fn clean_string(&self, text: String) -> Cleaned {
        let len = text.len();
        self.run(utf8(Cow::Owned(text)), Vec::new(), len, None, true)
    }

    /// [`clean_string`](Self::clean_string) for a caller that needs the
    /// clean text and how many edits each stage made, not the notes: the
    /// same text, [`Cleaned::edit_count`] and [`Cleaned::finding_count`],
    /// but `edits` is empty. Making each edit's note (its texts, its span
    /// in the source) is about 3% of the instructions of cleaning news
    /// text and 6% of its CPU time (`mend clean --format jsonl` without
    /// `--notes` or `--attributes` cleans so).
    pub fn clean_string_without_notes(&self, text: String) -> Cleaned {
        let len = text.len();
        self.run(utf8(Cow::Owned(text)), Vec::new(), len, None, false)
    }

    /// Counts the lines of one document of a run into `corpus`, decoding it
    /// as [`clean_in`](Self::clean_in) will. Binary input is skipped.
    pub fn count_lines(&self, corpus: &mut Corpus, bytes: &[u8]) {
        let detect = self.config.stages.contains(Stage::Decode);
        if let Ok(d) = decode::decode(bytes, self.config.encoding, detect) {
            corpus.add_document(&d.text);
        }
    }

    /// Whether a run over several documents should count lines first
    /// (the boilerplate stage uses lines that recur across documents).
    pub fn wants_corpus(&self, documents: usize) -> bool {
        documents > 1 && self.config.stages.contains(Stage::Boilerplate)
    }

    /// Cleans one document of a run over several, with their line counts.
    pub fn clean_in(&self, bytes: &[u8], corpus: Option<&Corpus>) -> Result<Cleaned, Error> {
        // Without the decode stage, input is taken as UTF-8 (no BOM or
        // encoding detection). Decode's own rules cannot be disabled: its
        // edits are what makes bytes into text.
        let detect = self.config.stages.contains(Stage::Decode);
        let decoded = decode::decode(bytes, self.config.encoding, detect).map_err(|e| match e {
            decode::DecodeError::Binary { offset } => Error::Binary { offset },
        })?;
        let decode_notes = decoded
            .edits
            .iter()
            .map(|e| Note::decode(e, bytes))
            .collect();
        Ok(self.run(decoded, decode_notes, bytes.len(), corpus, true))
    }

    /// [`clean_in`](Self::clean_in), taking the bytes. Input that is all
    /// UTF-8 (no BOM, nothing malformed) becomes the first text without a
    /// copy, and that buffer is reused for a later stage's text: a large
    /// document is held in memory once less. Input decoded into a text of
    /// its own (another encoding, malformed UTF-8) is dropped once decoded.
    /// The notes need the input's digest: take it first
    /// ([`InputDigest::of`], [`notes_of`](Self::notes_of)).
    pub fn clean_owned_in(
        &self,
        bytes: Vec<u8>,
        corpus: Option<&Corpus>,
    ) -> Result<Cleaned, Error> {
        let detect = self.config.stages.contains(Stage::Decode);
        let decoded =
            decode::decode(&bytes, self.config.encoding, detect).map_err(|e| match e {
                decode::DecodeError::Binary { offset } => Error::Binary { offset },
            })?;
        // The text is the input itself: the same bytes, seen as a `str`.
        let whole = matches!(decoded.text, Cow::Borrowed(t)
            if t.as_ptr() == bytes.as_ptr() && t.len() == bytes.len())
            && decoded.edits.is_empty();
        if !whole {
            let decode_notes = decoded
                .edits
                .iter()
                .map(|e| Note::decode(e, &bytes))
                .collect();
            let source_len = bytes.len();
            let decode::Decoded {
                text,
                encoding,
                detection,
                edits,
            } = decoded;
            let text = match text {
                // Decoded into a text of its own (another encoding, or
                // malformed UTF-8): the input is read no more once its decode
                // notes are made, so it is not held beside the stages' texts.
                Cow::Owned(text) => {
                    drop(bytes);
                    Cow::Owned(text)
                }
                Cow::Borrowed(text) => Cow::Borrowed(text),
            };
            let decoded = decode::Decoded {
                text,
                encoding,
                detection,
                edits,
            };
            return Ok(self.run(decoded, decode_notes, source_len, corpus, true));
        }
        let (encoding, detection) = (decoded.encoding, decoded.detection);
        drop(decoded);
        // SAFETY: `decoded.text` was a `&str` over exactly these bytes (same
        // start and length), so they are valid UTF-8. (`String::from_utf8`
        // would check them again: 3% of a run's instructions.)
        let text = unsafe { String::from_utf8_unchecked(bytes) };
        let len = text.len();
        let decoded = decode::Decoded {
            text: Cow::Owned(text),
            encoding,
            detection,
            edits: Vec::new(),
        };
        Ok(self.run(decoded, Vec::new(), len, corpus, true))
    }

    /// Runs the text stages over decoded text and builds the notes, after
    /// the decode notes (`notes`) of an input of `source_len` bytes; or,
    /// unless `with_notes`, only counts the text stages' edits.
    fn run(
        &self,
        mut decoded: decode::Decoded<'_>,
        mut notes: Vec<Note>,
        source_len: usize,
        corpus: Option<&Corpus>,
        with_notes: bool,
    ) -> Cleaned {
        let cx = Context {
            config: &self.config,
            corpus,
        };
        // The text after the last stage that changed it (none: the decoded
        // text). Each change is built in a buffer the thread kept (from a
        // stage before, or a document before: `edit::take_buffer`), and
        // the text it replaces is kept in turn, so a large document's
        // texts are not built in fresh pages, stage after stage.
        let mut current: Option<String> = None;
        edit::keep_buffers_for(Some(decoded.text.len()));
        // Whether decoded offsets are the source's: UTF-8 with no decode
        // edit. Then the decoded text is not needed for the source spans,
        // and an owned one can serve as a buffer once a stage has changed it.
        let identity = decoded.encoding == UTF_8 && decoded.edits.is_empty();
        // Per stage that changed or found something: the index of its first
        // note and its offset map. Notes are made while the stage's input is
        // at hand, so at most two texts are alive at a time.
        let mut maps: Vec<(usize, OffsetMap)> = Vec::new();
        let mut counted = [(0, 0); 6];
        let mut edits = Vec::new();
        for stage in self.config.stages.iter().filter(|s| *s != Stage::Decode) {
            let text: &str = current.as_deref().unwrap_or(&decoded.text);
            edits.clear();
            stage.find(text, &cx, &mut edits);
            if edits.is_empty() {
                continue;
            }
            edits.retain(|e| self.config.rule_enabled(e.rule()));
            let next = edit::apply_kept(text, &mut edits);
            if edits.is_empty() {
                continue;
            }
            if with_notes {
                maps.push((notes.len(), OffsetMap::new(&edits)));
                notes.extend(edits.iter().map(|e| Note::of_edit(stage, e, text, [0, 0])));
            } else {
                let found = edits
                    .iter()
                    .filter(|e| e.kind() == edit::EditKind::Finding)
                    .count();
                let (changed, findings) = &mut counted[stage as usize];
                *changed += edits.len() - found;
                *findings += found;
            }
            let Some(next) = next else {
                continue;
            };
            match current.replace(next) {
                Some(old) => edit::keep_buffer(old),
                // The first change: the decoded text is read no more.
                None if identity => {
                    if let Cow::Owned(text) = &mut decoded.text {
                        edit::keep_buffer(std::mem::take(text));
                    }
                }
                None => {}
            }
        }
        edit::keep_buffers_for(None);
        if let Some(text) = &mut current {
            edit::shrink_text(text);
        }
        // With identity offsets the decoded text may be gone (see above).
        let source = (!identity && with_notes)
            .then(|| SourceMap::new(&decoded.text, decoded.encoding, &decoded.edits));
        set_sources(source, &mut notes, &maps);
        Cleaned {
            text: current.unwrap_or_else(|| decoded.text.into_owned()),
            encoding: decoded.encoding,
            detection: decoded.detection,
            edits: notes,
            source_len,
            corpus: corpus.map(Corpus::fingerprint),
            counted: (!with_notes).then_some(counted),
        }
    }
}

/// Decoded text that came as UTF-8 text.
fn utf8(text: Cow<'_, str>) -> decode::Decoded<'_> {
    decode::Decoded {
        text,
        encoding: UTF_8,
        detection: Detection::Utf8,
        edits: Vec::new(),
    }
}

/// Fills in each note's `src`: its span mapped back through the earlier
/// stages to the decoded text, then to the original bytes by `source`
/// (`None`: the decoded text's offsets are the original's).
fn set_sources(source: Option<SourceMap<'_>>, notes: &mut [Note], maps: &[(usize, OffsetMap)]) {
    let Some(&(first, _)) = maps.first() else {
        return;
    };
    let mut positions: Vec<(usize, bool)> = Vec::with_capacity((notes.len() - first) * 2);
    for (k, (start, _)) in maps.iter().enumerate() {
        let end = maps.get(k + 1).map_or(notes.len(), |m| m.0);
        for n in &notes[*start..end] {
            let mut span = n.at[0]..n.at[1];
            for (_, map) in maps[..k].iter().rev() {
                span = map.span_to_input(span);
            }
            positions.push((span.start, false));
            positions.push((span.end, true));
        }
    }
    if let Some(source) = source {
        source.map(&mut positions);
    }
    for (n, p) in notes[first..].iter_mut().zip(positions.chunks_exact(2)) {
        n.src = [p[0].0, p[1].0.max(p[0].0)];
    }
}

const _: () = {
    const fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Pipeline>();
    is_send_sync::<Cleaned>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn src_spans_point_into_the_original_bytes() {
        // windows-1251: one byte per letter; 0xA0 is NO-BREAK SPACE.
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode("Путин\u{a0}сказал  \r\nда");
        let c = Pipeline::default().clean(&bytes).expect("cleans");
        assert_eq!(c.text, "Путин сказал\nда\n");
        let spans: Vec<(&str, [usize; 2])> = c.edits.iter().map(|n| (&*n.rule, n.src)).collect();
        assert_eq!(
            spans,
            [
                ("nbsp-run", [5, 6]),
                ("trailing-whitespace", [12, 14]),
                ("crlf-line-end", [14, 16]),
                ("missing-final-newline", [18, 18])
            ]
        );
        assert_eq!(c.restore().expect("restores"), bytes.as_ref());
    }

    /// Handing the bytes over gives what borrowing them gives, for a text
    /// past `edit::BUFFER_MAX` (whose buffers are not kept) and a small one, in
    /// UTF-8 (whose buffer is reused) and in windows-1251 (which keeps its
    /// decoded text for the source spans), with several stages changing it.
    #[test]
    fn owned_input_cleans_as_borrowed_input() {
        let line = "Путин\u{a0}сказал  &amp; \"да\"\r\n";
        let big = line.repeat(edit::BUFFER_MAX / line.len() + 10);
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(line);
        let config = Config {
            stages: [
                Stage::Decode,
                Stage::Markup,
                Stage::Quotes,
                Stage::Normalize,
            ]
            .into_iter()
            .collect(),
            ..Config::default()
        };
        let p = Pipeline::new(config);
        for bytes in [line.as_bytes(), big.as_bytes(), &cp1251, b"no change\n"] {
            let borrowed = p.clean_in(bytes, None).expect("cleans");
            let owned = p.clean_owned_in(bytes.to_vec(), None).expect("cleans");
            assert_eq!(owned.text, borrowed.text);
            assert_eq!(owned.edits, borrowed.edits);
            assert_eq!(owned.source_len, bytes.len());
            assert_eq!(owned.restore().expect("restores"), bytes);
        }
        // Source spans: bytes of UTF-8 (“Путин” is 10), of windows-1251 (5).
        let nbsp_src = |c: &Cleaned| c.edits.iter().find(|n| n.rule == "nbsp-run").map(|n| n.src);
        let owned = p
            .clean_owned_in(line.as_bytes().to_vec(), None)
            .expect("cleans");
        assert_eq!(nbsp_src(&owned), Some([10, 12]));
        let owned = p.clean_owned_in(cp1251.to_vec(), None).expect("cleans");
        assert_eq!(owned.encoding, encoding_rs::WINDOWS_1251);
        assert_eq!(nbsp_src(&owned), Some([5, 6]));
        assert_eq!(p.clean_string(big.clone()).edits, p.clean_str(&big).edits);
    }

    /// The buffers a thread keeps from document to document change
    /// nothing: documents cleaned one after another, large (past
    /// `edit::BUFFER_MAX`, and about it) and small, by one thread, come out
    /// as each does on a thread of its own, with no buffer kept.
    #[test]
    fn cleaning_without_notes_gives_the_same_text_and_counts() {
        let raw = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("raw");
        let mut docs: Vec<String> = std::fs::read_dir(&raw)
            .expect("raw/")
            .map(|e| std::fs::read(e.expect("entry").path()).expect("read"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect();
        docs.sort();
        // Lost letters (a finding, kept or marked), mojibake, entities,
        // quotes, NO-BREAK SPACEs; and a text with nothing to change.
        docs.push("10 ??????? 2015 ?. Ð¡ÐµÐ³Ð¾Ð´Ð½Ñ &amp; “a” b\u{a0}c  \r\n".repeat(3));
        docs.push("Clean.\n".to_owned());
        assert!(docs.len() >= 7);
        let mut findings = 0;
        for lossy in [LossyMode::Keep, LossyMode::Mark] {
            let p = Pipeline::new(Config {
                lossy,
                ..Config::default()
            });
            for d in &docs {
                let full = p.clean_string(d.clone());
                let bare = p.clean_string_without_notes(d.clone());
                assert!(full.has_notes() && !bare.has_notes());
                assert_eq!(bare.text, full.text);
                assert!(bare.edits.is_empty());
                for s in Stage::ALL {
                    assert_eq!(bare.edit_count(s), full.edit_count(s), "{s:?}");
                    assert_eq!(bare.finding_count(s), full.finding_count(s), "{s:?}");
                }
                findings += full.finding_count(Stage::Mojibake);
            }
        }
        // Both kinds were counted.
        assert!(findings > 0);
    }

    #[test]
    fn kept_buffers_change_no_output() {
        let line = "Путин\u{a0}сказал  &amp;amp; \u{201C}да\u{201D} don\u{e2}\u{20ac}\u{2122}t\r\n";
        let docs: Vec<String> = [
            edit::BUFFER_MAX / line.len() + 10,
            edit::BUFFER_MAX / line.len() - 10,
            edit::BUFFER_MAX / line.len() / 3,
            1,
            edit::BUFFER_MAX / line.len() / 2,
            200,
        ]
        .into_iter()
        .map(|n| line.repeat(n))
        .collect();
        let p = Pipeline::default();
        let alone: Vec<Cleaned> = docs
            .iter()
            .map(|d| {
                let (p, d) = (p.clone(), d.clone());
                std::thread::spawn(move || p.clean_owned_in(d.into_bytes(), None))
                    .join()
                    .expect("no panic")
                    .expect("cleans")
            })
            .collect();
        for order in [[0, 1, 2, 3, 4, 5], [3, 5, 2, 4, 1, 0], [1, 0, 4, 2, 5, 3]] {
            for &i in &order {
                let c = p
                    .clean_owned_in(docs[i].clone().into_bytes(), None)
                    .expect("cleans");
                assert_eq!(c.text, alone[i].text, "document {i}");
                assert_eq!(c.edits, alone[i].edits, "document {i}");
                let len = c.text.len();
                assert!(c.text.capacity() <= len + (len / 4).max(4096));
                let s = p.clean_str(&docs[i]);
                assert_eq!(s.text, alone[i].text, "document {i}");
                assert_eq!(s.edits, alone[i].edits, "document {i}");
            }
        }
    }

    #[test]
    fn utf8_bom_shifts_src_but_not_at() {
        let c = Pipeline::default()
            .clean(b"\xEF\xBB\xBFa\xC2\xA0b")
            .expect("cleans");
        let nbsp = c
            .edits
            .iter()
            .find(|n| n.rule == "nbsp-run")
            .expect("nbsp edit");
        assert_eq!(nbsp.at, [1, 3]);
        assert_eq!(nbsp.src, [4, 6]);
    }
}
