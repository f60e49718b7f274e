//! The pipeline: configuration, and `clean`, which runs the stages in order.

use std::borrow::Cow;
use std::sync::Arc;

use encoding_rs::{Encoding, UTF_8};
use serde::Serialize;

use crate::corpus::Corpus;
use crate::edit::{self, Edit, OffsetMap};
use crate::error::Error;
use crate::notes::Note;
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
}

impl Cleaned {
    /// Number of edits (not findings) made by `stage`.
    pub fn edit_count(&self, stage: Stage) -> usize {
        self.edits
            .iter()
            .filter(|n| n.stage == stage && !n.finding)
            .count()
    }

    /// The original bytes, rebuilt from the text and the edits.
    pub fn restore(&self) -> Result<Vec<u8>, crate::notes::NotesError> {
        crate::notes::restore_bytes(&self.text, self.encoding, &self.edits)
    }

    /// Number of findings (things noticed, not changed) of `stage`.
    pub fn finding_count(&self, stage: Stage) -> usize {
        self.edits
            .iter()
            .filter(|n| n.stage == stage && n.finding)
            .count()
    }
}

/// A configured pipeline. Cheap to share: `Send + Sync`, reuse it across threads.
#[derive(Clone, Debug, Default)]
pub struct Pipeline {
    config: Config,
}

impl Pipeline {
    /// A pipeline with `config`.
    pub fn new(config: Config) -> Pipeline {
        Pipeline { config }
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
            decode::Decoded {
                text: Cow::Borrowed(text),
                encoding: UTF_8,
                detection: Detection::Utf8,
                edits: Vec::new(),
            },
            text.as_bytes(),
            None,
        )
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
        Ok(self.run(decoded, bytes, corpus))
    }

    /// Runs the text stages over decoded text and builds the notes.
    fn run(
        &self,
        decoded: decode::Decoded<'_>,
        original: &[u8],
        corpus: Option<&Corpus>,
    ) -> Cleaned {
        let cx = Context {
            config: &self.config,
            corpus,
        };
        let mut text: Cow<'_, str> = Cow::Borrowed(&decoded.text);
        // Per stage that changed or found something: its edits and its offset map.
        let mut done: Vec<(Stage, Vec<Edit>, Cow<'_, str>, OffsetMap)> = Vec::new();
        for stage in self.config.stages.iter().filter(|s| *s != Stage::Decode) {
            let mut edits = Vec::new();
            stage.find(&text, &cx, &mut edits);
            if edits.is_empty() {
                continue;
            }
            edits.retain(|e| self.config.rule_enabled(e.rule()));
            let next = match edit::apply(&text, &mut edits) {
                Cow::Borrowed(_) => None,
                Cow::Owned(s) => Some(s),
            };
            if edits.is_empty() {
                continue;
            }
            let map = OffsetMap::new(&edits);
            let input = match next {
                Some(s) => std::mem::replace(&mut text, Cow::Owned(s)),
                None => text.clone(),
            };
            done.push((stage, edits, input, map));
        }
        let edits = notes_of(&decoded, original, &done);
        Cleaned {
            text: text.into_owned(),
            encoding: decoded.encoding,
            detection: decoded.detection,
            edits,
            source_len: original.len(),
        }
    }
}

/// Builds the notes: each edit with its span in the original bytes.
fn notes_of(
    decoded: &decode::Decoded<'_>,
    original: &[u8],
    done: &[(Stage, Vec<Edit>, Cow<'_, str>, OffsetMap)],
) -> Vec<Note> {
    let total: usize = done.iter().map(|d| d.1.len()).sum();
    let mut notes = Vec::with_capacity(total + decoded.edits.len());
    for e in &decoded.edits {
        notes.push(Note::decode(e, original));
    }
    if done.is_empty() {
        return notes;
    }
    // Every span, mapped back through the earlier stages to decoded text.
    let mut positions: Vec<(usize, bool)> = Vec::with_capacity(total * 2);
    for (k, (_, edits, _, _)) in done.iter().enumerate() {
        for e in edits {
            let mut span = e.span();
            for (_, _, _, map) in done[..k].iter().rev() {
                span = map.span_to_input(span);
            }
            positions.push((span.start, false));
            positions.push((span.end, true));
        }
    }
    SourceMap::new(&decoded.text, decoded.encoding, &decoded.edits).map(&mut positions);
    let mut src = positions
        .chunks_exact(2)
        .map(|p| [p[0].0, p[1].0.max(p[0].0)]);
    for (stage, edits, input, _) in done {
        for e in edits {
            let src = src.next().unwrap_or([0, 0]);
            notes.push(Note::of_edit(*stage, e, input, src));
        }
    }
    notes
}

const _: () = {
    const fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Pipeline>();
    is_send_sync::<Cleaned>();
};
