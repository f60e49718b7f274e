//! The quotes stage on the real articles in `raw/`.

use mend::{Config, Pipeline, QuoteStyle, Stage};

mod common;

fn raw(prefix: &str) -> String {
    String::from_utf8(common::raw_file(prefix).1).expect("raw files are UTF-8")
}

fn quotes(style: QuoteStyle) -> Pipeline {
    Pipeline::new(Config {
        stages: [Stage::Quotes].into_iter().collect(),
        quotes: style,
        ..Default::default()
    })
}

fn clean(text: &str, style: QuoteStyle) -> (String, Vec<mend::notes::Note>) {
    let c = quotes(style).clean_str(text);
    (c.text, c.edits)
}

/// The lines of raw/002 as the issue requires them (curly style).
const RAW_002_EXPECTED: &[&str] = &[
    "“We can only Express regret,” said the representative of the Kremlin. “Any refusal of dialogue, especially in such a sensitive situation as we have in Syria, it is not conducive to, say, the speedy salvation of this country and of the region from the so-called ‘Islamic state’”.",
    "Peskov assured that Moscow will continue “to support offensive operations of the Syrian army”.",
    "“This decision of the head of state, the decision of Putin [Medvedev’s candidacy]. This underlines that Russia offers a very high level to discuss such important issues,” said Peskov. “We know that foreign Minister Lavrov is in constant contact with my colleague Kerry, but in this case emphasized was offered a higher level”.",
    "That Moscow is ready to send to the U.S. delegation on the Syrian issue, said on the eve of President Vladimir Putin. “I said that he would be willing to send a large delegation to Washington to discuss, primarily, issues of the Syrian settlement. We believe it would be, it could be a serious representative delegation from Russia headed by Chairman of RF government Dmitry Medvedev,” said the President. According to him, this delegation could enter the military at the level of Deputy chief of the General staff, representatives of special services.",
    "“We need to transfer this work to a serious level, on subject, if we are to work effectively,” said the Russian leader, noting that it is equally important to work with countries in the region, such as Turkey, Jordan, UAE, Iraq. “Yes, there’s a lot of mutual suspicion and mutual claims, but if not work if not look for solutions, they will never be found,” said Putin. “We hope very much that we will be able to move exactly along the path of resolving political issues”.",
    "Meanwhile, as reported by the Minister of foreign Affairs of Russia Sergey Lavrov, the US refused to accept the Russian delegation to discuss Syria and we’ve refused to go to Moscow. According to him, the American side expressed readiness “to agree on measures to prevent unintended incidents in the air space over the region of the crisis”. “And such measures are agreed. Today, we officially said that the delegation was in Moscow to send them not, to accept in Washington the delegation does not work too and that the only thing that interested us colleagues, is to agree on steps that will enable incidents to be avoided,” the Minister said.",
    "“It’s a shame. It is important that our military, who work in the skies over Syria, and American military pilots understand who does what, and to avoid any accidents. Our President is actively supported. But we are ready to go much further, to coordinate much deeper, including to reach the goal that the coalition, created over a year ago, has announced is to destroy ISIS,” said Lavrov. “A waiver of such interaction, of course, suggestive”.",
];

#[test]
fn raw_002_comes_out_as_the_issue_shows() {
    let text = raw("002");
    let (out, _) = clean(&text, QuoteStyle::Curly);
    let lines: Vec<&str> = out.lines().collect();
    for want in RAW_002_EXPECTED {
        assert!(
            lines.contains(want),
            "missing line:\n{want}\noutput:\n{out}"
        );
    }
    // Nothing else changed: the other lines are as in the input.
    for (a, b) in text.lines().zip(out.lines()) {
        if a != b {
            assert!(
                RAW_002_EXPECTED.contains(&b),
                "unexpected change:\n- {a}\n+ {b}"
            );
        }
    }
    assert_eq!(text.lines().count(), out.lines().count());
}

#[test]
fn raw_002_ascii_is_curly_with_plain_marks() {
    let text = raw("002");
    let (curly, _) = clean(&text, QuoteStyle::Curly);
    let (ascii, _) = clean(&text, QuoteStyle::Ascii);
    let plain: String = curly
        .chars()
        .map(|c| match c {
            '“' | '”' => '"',
            '‘' | '’' => '\'',
            c => c,
        })
        .collect();
    assert_eq!(ascii, plain);
}

/// The correct English articles: only glyphs change in curly style (and the one
/// Russian-placed attribution comma of raw/003).
#[test]
fn raw_english_articles_only_change_glyphs() {
    for p in ["000", "001", "003", "004"] {
        let text = raw(p);
        let (out, notes) = clean(&text, QuoteStyle::Curly);
        for n in &notes {
            let ok = matches!(&*n.rule, "r1-quote-style-glyph" | "r7-apostrophe-glyph")
                || (p == "003" && n.rule == "r4-attribution-comma");
            assert!(
                ok,
                "raw/{p}: unexpected {} {:?} -> {:?}",
                n.rule, n.removed, n.inserted
            );
        }
        // Same text once every quote glyph is made straight.
        let straight = |s: &str| -> String {
            s.chars()
                .map(|c| match c {
                    '“' | '”' => '"',
                    '‘' | '’' => '\'',
                    c => c,
                })
                .collect::<String>()
        };
        if p != "003" {
            assert_eq!(straight(&out), straight(&text), "raw/{p}");
        }
        // No straight quote left in curly style.
        assert!(!out.contains('"'), "raw/{p} keeps a straight double quote");
    }
    let (out, _) = clean(&raw("003"), QuoteStyle::Curly);
    assert!(out.contains(
        "it is open and remains open,” the ministry’s spokeswoman Zakharova stated earlier."
    ));
    assert!(out.contains("MOSCOW (Sputnik) – However"));
    assert!(out.contains("Jebhat al-Nusra\u{a0}—"));
    assert!(out.contains("Заголовок открываемого материала"));
    let (out, _) = clean(&raw("001"), QuoteStyle::Curly);
    assert!(out.contains("[READ MORE: ‘We are seeking bigger role for Russia than Americans’ - Iraq defense committee chairman](#)"));
    assert!(out.contains("14/10/2015"));
}

#[test]
fn raw_files_are_idempotent_in_every_style() {
    for p in ["000", "001", "002", "003", "004"] {
        let text = raw(p);
        for style in [QuoteStyle::Curly, QuoteStyle::Ascii, QuoteStyle::Keep] {
            let (once, _) = clean(&text, style);
            let (twice, notes) = clean(&once, style);
            assert!(
                notes.is_empty(),
                "raw/{p} {style:?}: second run edits {notes:?}"
            );
            assert_eq!(once, twice);
        }
    }
}

#[test]
fn raw_files_restore_from_notes() {
    for p in ["000", "001", "002", "003", "004"] {
        let text = raw(p);
        let pipeline = quotes(QuoteStyle::Curly);
        let cleaned = pipeline.clean(text.as_bytes()).unwrap();
        let notes = mend::notes::write(&cleaned, text.as_bytes(), "-", pipeline.config());
        let (header, edits) = mend::notes::read(&notes).unwrap();
        let back = mend::notes::restore(&cleaned.text, &header, &edits).unwrap();
        assert_eq!(back, text.as_bytes(), "raw/{p}");
    }
}

#[test]
fn full_pipeline_output_is_stable_under_quotes() {
    for p in ["000", "001", "002", "003", "004"] {
        let text = raw(p);
        let full = Pipeline::default().clean_str(&text).text;
        let (_, notes) = clean(&full, QuoteStyle::Curly);
        assert!(
            notes.is_empty(),
            "raw/{p}: quotes edits the final output: {notes:?}"
        );
    }
}
