//! The six stages of the pipeline, in the order they run.
//!
//! The order lives only in [`Stage::ALL`]. The set is closed on purpose: a
//! `match` over this enum is the whole dispatch, so adding a stage is a
//! compile error everywhere it has to be handled.

use std::fmt;

use crate::edit::{Edit, Rule};
use crate::pipeline::Context;

pub mod boilerplate;
pub mod decode;
pub mod markup;
pub mod mojibake;
pub mod normalize;
pub mod quotes;

/// One stage of the pipeline.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Bytes to text: BOMs, UTF-8/UTF-16, legacy codepages.
    Decode,
    /// Text decoded with the wrong codepage, repaired.
    Mojibake,
    /// Residue of HTML and Markdown.
    Markup,
    /// Lines and blocks that are not the article.
    Boilerplate,
    /// One consistent quotation style.
    Quotes,
    /// NFC, spaces, control characters, line endings, blank lines.
    Normalize,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 6] = [
        Stage::Decode,
        Stage::Mojibake,
        Stage::Markup,
        Stage::Boilerplate,
        Stage::Quotes,
        Stage::Normalize,
    ];

    /// The stage's name as used on the command line and in notes.
    pub const fn name(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::Mojibake => "mojibake",
            Stage::Markup => "markup",
            Stage::Boilerplate => "boilerplate",
            Stage::Quotes => "quotes",
            Stage::Normalize => "normalize",
        }
    }

    /// Parses a stage name (`"decode"`, `"quotes"`, ...).
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// A bit for [`StageSet`].
    const fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The built-in rules of this stage, for `mend rules`.
    pub fn rules(self) -> &'static [&'static Rule] {
        match self {
            Stage::Decode => decode::RULES,
            Stage::Mojibake => mojibake::RULES,
            Stage::Markup => markup::RULES,
            Stage::Boilerplate => boilerplate::RULES,
            Stage::Quotes => quotes::RULES,
            Stage::Normalize => normalize::RULES,
        }
    }

    /// Runs a text stage (every stage but [`Stage::Decode`], which turns
    /// bytes into text and is run by the pipeline itself).
    pub(crate) fn find(self, text: &str, cx: &Context<'_>, out: &mut Vec<Edit>) {
        match self {
            Stage::Decode => {}
            Stage::Mojibake => mojibake::find(text, cx, out),
            Stage::Markup => markup::find(text, cx, out),
            Stage::Boilerplate => boilerplate::find(text, cx, out),
            Stage::Quotes => quotes::find(text, cx, out),
            Stage::Normalize => normalize::find(text, cx, out),
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of stages, for `--only` and `--skip`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StageSet(u8);

impl StageSet {
    /// Every stage.
    pub const ALL: StageSet = StageSet(0b11_1111);
    /// No stage.
    pub const NONE: StageSet = StageSet(0);

    /// Whether `stage` is in the set.
    pub const fn contains(self, stage: Stage) -> bool {
        self.0 & stage.bit() != 0
    }

    /// The set with `stage` added.
    #[must_use]
    pub const fn with(self, stage: Stage) -> StageSet {
        StageSet(self.0 | stage.bit())
    }

    /// The set with `stage` removed.
    #[must_use]
    pub const fn without(self, stage: Stage) -> StageSet {
        StageSet(self.0 & !stage.bit())
    }

    /// The stages of the set, in pipeline order.
    pub fn iter(self) -> impl Iterator<Item = Stage> {
        Stage::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl Default for StageSet {
    fn default() -> Self {
        StageSet::ALL
    }
}

impl FromIterator<Stage> for StageSet {
    fn from_iter<I: IntoIterator<Item = Stage>>(iter: I) -> Self {
        iter.into_iter().fold(StageSet::NONE, StageSet::with)
    }
}

impl fmt::Debug for StageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Display for StageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in self.iter() {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(s.name())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order_is_fixed() {
        for s in Stage::ALL {
            assert_eq!(Stage::from_name(s.name()), Some(s));
        }
        assert_eq!(Stage::from_name("nope"), None);
        let names: Vec<_> = Stage::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "decode",
                "mojibake",
                "markup",
                "boilerplate",
                "quotes",
                "normalize"
            ]
        );
    }

    #[test]
    fn stage_set_ops() {
        let s = StageSet::ALL.without(Stage::Quotes);
        assert!(!s.contains(Stage::Quotes));
        assert!(s.contains(Stage::Normalize));
        assert_eq!(
            s.to_string(),
            "decode,mojibake,markup,boilerplate,normalize"
        );
        let only: StageSet = [Stage::Normalize, Stage::Decode].into_iter().collect();
        assert_eq!(only.to_string(), "decode,normalize");
    }

    #[test]
    fn rule_names_are_unique_kebab_case_and_belong_to_their_stage() {
        let mut seen = std::collections::HashSet::new();
        for s in Stage::ALL {
            for r in s.rules() {
                assert_eq!(r.stage, s, "{} listed under the wrong stage", r.name);
                assert!(seen.insert((s, r.name)), "duplicate rule {}", r.name);
                assert!(
                    r.name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                    "rule name not kebab-case: {}",
                    r.name
                );
                assert!(!r.summary.is_empty());
            }
        }
    }
}
