//! The three styles (curly, ascii, keep), CRLF/NBSP input, idempotence, and
//! robustness on arbitrary input.

use mend::{Config, Pipeline, QuoteStyle, Stage};
use proptest::prelude::*;

fn pipeline(style: QuoteStyle) -> Pipeline {
    Pipeline::new(Config {
        stages: [Stage::Quotes].into_iter().collect(),
        quotes: style,
        ..Default::default()
    })
}

fn run(text: &str, style: QuoteStyle) -> String {
    pipeline(style).clean_str(text).text
}

const MT: &str = "«Мы» said: “We can only regret, – said the representative. – Any refusal from the so-called “Islamic state”.\n\n\"It's a shame\", - said Lavrov. \"We hope\".\n\nThe decision /Putin's choice/ stands.";

#[test]
fn ascii_style_is_curly_with_plain_marks() {
    let curly = run(MT, QuoteStyle::Curly);
    let ascii = run(MT, QuoteStyle::Ascii);
    let plain: String = curly
        .chars()
        .map(|c| match c {
            '“' | '”' => '"',
            '‘' | '’' => '\'',
            c => c,
        })
        .collect();
    assert_eq!(ascii, plain);
    assert_eq!(
        ascii,
        "\"Мы\" said: \"We can only regret,\" said the representative. \"Any refusal from the so-called 'Islamic state'\".\n\n\"It's a shame,\" said Lavrov. \"We hope\".\n\nThe decision (Putin's choice) stands."
    );
}

#[test]
fn keep_style_keeps_glyphs_but_repairs_structure() {
    let keep = run(MT, QuoteStyle::Keep);
    assert_eq!(
        keep,
        "«Мы» said: “We can only regret,” said the representative. “Any refusal from the so-called “Islamic state””.\n\n\"It's a shame,\" said Lavrov. \"We hope\".\n\nThe decision (Putin's choice) stands."
    );
}

#[test]
fn every_style_is_idempotent() {
    for style in [QuoteStyle::Curly, QuoteStyle::Ascii, QuoteStyle::Keep] {
        let once = run(MT, style);
        let c = pipeline(style).clean_str(&once);
        assert!(c.edits.is_empty(), "{style:?}: {:?}", c.edits);
    }
}

#[test]
fn crlf_and_nbsp_are_read_as_line_ends_and_spaces() {
    let text = "“We regret,\u{a0}– said\u{a0}Peskov. –\u{a0}Any refusal”.\r\n\r\nNext \"one\".\r\n";
    let out = run(text, QuoteStyle::Curly);
    assert_eq!(
        out,
        "“We regret,” said\u{a0}Peskov. “Any refusal”.\r\n\r\nNext “one”.\r\n"
    );
    assert_eq!(run(&out, QuoteStyle::Curly), out);
}

#[test]
fn ascii_fast_path_text_without_candidates() {
    let text = "Plain ASCII text - with a dash, no quotes and no slashes.\n".repeat(100);
    let c = pipeline(QuoteStyle::Ascii).clean_str(&text);
    assert!(c.edits.is_empty());
    assert_eq!(c.text, text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Arbitrary text made of quote marks, dashes, words and spaces: no
    /// panic, well-formed edits (debug assertions in `apply`), and the notes
    /// restore the input.
    #[test]
    fn never_panics_and_restores(parts in proptest::collection::vec(prop::sample::select(vec![
        "\"", "'", "“", "”", "‘", "’", "«", "»", "„", "‚", "‹", "›", "``", "''", "`", "´", "ʼ",
        " – ", " - ", "—", " ", "\u{a0}", "\n", "\n\n", "\r\n", ",", ".", "?", "!", "/", "6", "s",
        "said", "Putin", "the", "word", "Added", "http://x.y/", "ʻ", "…",
    ]), 0..40)) {
        let text: String = parts.concat();
        for style in [QuoteStyle::Curly, QuoteStyle::Ascii, QuoteStyle::Keep] {
            let p = pipeline(style);
            let cleaned = p.clean(text.as_bytes()).unwrap();
            let notes = mend::notes::write(&cleaned, text.as_bytes(), "-", p.config());
            let (header, edits) = mend::notes::read(&notes).unwrap();
            let back = mend::notes::restore(&cleaned.text, &header, &edits).unwrap();
            prop_assert_eq!(back, text.as_bytes());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]
    /// Sentences built from plausible pieces: a second run makes no edit.
    #[test]
    fn idempotent_on_plausible_text(parts in proptest::collection::vec(prop::sample::select(vec![
        " “We can only regret, – said the representative. – Any refusal of the so-called “Islamic state”.",
        " “Q”, – said the President.",
        " “Yes, they will never be found, – said Putin. We hope so”.",
        " He called it \"difficult\", adding more.",
        " \"It's a shame,\" he said.",
        " ‘Sanctions will fail,’ he says.",
        " the head of «Gazprom» said",
        " er sagte „Wort“ und ging.",
        " the decision of Putin /Medvedev's candidacy/.",
        " He is 6'2\" tall.",
        " in the union.\"We have it\"",
        " « Quote, » he said.",
        " “Q?” – Asked X.",
        " the States' role and the '90s",
        " “A. “B,” he noted.",
        " “Hard,” – Added Zakharova. – “We wait.”",
        " He said ''quoted'' and ‘’double’’ ok.",
        " “We back the “Republic”, – said Aliyev.",
        " “We agree – Peskov said.”",
        "\n\n", " word", ".", " – ",
    ]), 0..30)) {
        let text: String = parts.concat();
        for style in [QuoteStyle::Curly, QuoteStyle::Ascii, QuoteStyle::Keep] {
            let once = run(&text, style);
            let c = pipeline(style).clean_str(&once);
            prop_assert!(c.edits.is_empty(), "{:?}\ninput: {:?}\nonce: {:?}\nedits: {:?}", style, text, once, c.edits.iter().map(|n| (&n.rule, &n.removed, &n.inserted)).collect::<Vec<_>>());
        }
    }
}
