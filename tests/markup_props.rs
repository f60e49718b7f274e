//! Properties of the markup and boilerplate stages on arbitrary text: no
//! panic (the applier's debug assertions catch overlapping or misplaced
//! edits), notes restore the input, and a second run changes nothing.

use mend::{Config, Pipeline, Stage};
use proptest::prelude::*;

fn only(stages: &[Stage]) -> Pipeline {
    Pipeline::new(Config {
        stages: stages.iter().copied().collect(),
        ..Default::default()
    })
}

/// Pieces that exercise the rules: markup shapes, quotes, scripts, phrases.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "&amp;",
        "&amp;quot;",
        "&#8217;",
        "&#x41;",
        "&lt;p&gt;",
        "&nosuch;",
        "&",
        ";",
        "<br>",
        "<p class=\"x\">",
        "</div>",
        "<!-- c -->",
        "<",
        ">",
        "a < b",
        "[",
        "]",
        "(",
        ")",
        "[x](#)",
        "![i](s)",
        "[![i](s)](u)",
        "\\",
        "\\$",
        "\\\\",
        "\\[",
        "\\]",
        "*",
        "*word*",
        "\"",
        "\u{201D}",
        "*But it is.\"*",
        " said. ",
        "the minister stressed. ",
        "*Then we will see it all.*",
        "Subscribe",
        "READ MORE: ",
        "Also Read",
        "Newsfeed",
        "\u{A9} Sputnik / X",
        " - Site Name",
        "In this photo, ",
        "Posted by X on 10 May",
        "\u{417}\u{430}\u{433}\u{43B}\u{43E}\u{432}",
        "Moscow",
        "word",
        "The ministry said on Tuesday that talks would go on for weeks.",
        " ",
        "\n",
        "\n\n",
        "\r\n",
        "\u{A0}",
        "\u{200B}",
        "é",
        "日本",
    ])
}

/// Pieces glued without separators: adversarial shapes.
fn glued() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..60).prop_map(|v| v.concat())
}

/// Pieces separated by spaces (the pieces hold their own line breaks).
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..60).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn edits_are_well_formed_and_restore_on_any_text(t in glued()) {
        for stages in [&[Stage::Markup][..], &[Stage::Boilerplate][..], &[Stage::Markup, Stage::Boilerplate][..]] {
            let p = only(stages);
            let once = p.clean_str(&t);
            let notes = mend::notes::write(&once, t.as_bytes(), "-", p.config());
            let (header, edits) = mend::notes::read(&notes).expect("notes parse");
            let restored = mend::notes::restore(&once.text, &header, &edits).expect("restores");
            prop_assert_eq!(restored, t.as_bytes().to_vec());
        }
    }

    #[test]
    fn stages_are_well_formed_and_idempotent(t in text()) {
        for stages in [&[Stage::Markup][..], &[Stage::Boilerplate][..], &[Stage::Markup, Stage::Boilerplate][..]] {
            let p = only(stages);
            let once = p.clean_str(&t);
            let again = p.clean_str(&once.text);
            for s in stages {
                prop_assert_eq!(again.edit_count(*s), 0, "{:?} not idempotent on {:?}: {:?}", s, once.text, again.edits);
            }
            let notes = mend::notes::write(&once, t.as_bytes(), "-", p.config());
            let (header, edits) = mend::notes::read(&notes).expect("notes parse");
            let restored = mend::notes::restore(&once.text, &header, &edits).expect("restores");
            prop_assert_eq!(restored, t.as_bytes().to_vec());
        }
    }
}
