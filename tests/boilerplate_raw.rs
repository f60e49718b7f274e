//! The five raw articles, as an editor would clean them (issue 4): every
//! listed line goes, the headline, dateline, standfirst and every
//! paragraph of reporting stay. Run through markup + boilerplate, and
//! through the full pipeline.

use mend::{Config, Pipeline, Stage};

mod common;

fn raw(stem: &str) -> Vec<u8> {
    common::raw_file(stem).1
}

fn stages() -> Pipeline {
    Pipeline::new(Config {
        stages: [Stage::Markup, Stage::Boilerplate].into_iter().collect(),
        ..Default::default()
    })
}

/// Both runs of one file: (markup+boilerplate text, full pipeline text).
fn clean(stem: &str) -> [String; 2] {
    let bytes = raw(stem);
    [
        stages().clean(&bytes).expect("text").text,
        Pipeline::default().clean(&bytes).expect("text").text,
    ]
}

/// Whether a line starts with `start`, quotation glyphs aside (the full
/// pipeline curls quotes; this test is about which lines stay).
fn has_line_starting(text: &str, start: &str) -> bool {
    let plain = |s: &str| s.replace(['“', '”'], "\"").replace(['‘', '’'], "'");
    let start = plain(start);
    text.lines()
        .any(|l| plain(l.trim_start()).starts_with(&start))
}

fn check(stem: &str, gone: &[&str], kept: &[&str]) {
    for (run, text) in ["markup+boilerplate", "full"].iter().zip(clean(stem)) {
        for g in gone {
            assert!(
                !has_line_starting(&text, g),
                "{stem} ({run}): {g:?} should be removed\n{text}"
            );
        }
        for k in kept {
            assert!(
                has_line_starting(&text, k),
                "{stem} ({run}): {k:?} should stay\n{text}"
            );
        }
        let raw = String::from_utf8_lossy(&raw(stem)).into_owned();
        assert!(
            text.matches("\n\n\n").count() <= raw.matches("\n\n\n").count(),
            "{stem} ({run}): removal left a ghost blank line"
        );
    }
}

/// Every line of the raw file that starts with 40 or more bytes of prose
/// and is not listed as removed must survive (as a prefix of 30 chars).
fn reporting_kept(stem: &str, removed: &[&str]) {
    let raw = String::from_utf8_lossy(&raw(stem)).into_owned();
    let [text, _] = clean(stem);
    for line in raw.lines() {
        let t = line.trim();
        if t.split_whitespace().count() < 12 || removed.iter().any(|r| t.starts_with(r)) {
            continue;
        }
        let probe: String = t.chars().skip(1).take(30).collect();
        assert!(text.contains(&probe), "{stem}: reporting line lost: {t:?}");
    }
}

#[test]
fn raw_000_only_also_read_goes() {
    check(
        "000",
        &["Also Read"],
        &[
            "Moscow \"laments\"",
            "Reiterating the urgency",
            "Diminished IS positions",
        ],
    );
    reporting_kept("000", &[]);
    let [text, _] = clean("000");
    let raw = String::from_utf8_lossy(&raw("000")).into_owned();
    assert_eq!(text, raw.replace("Also Read\n", ""));
}

#[test]
fn raw_001_teasers_and_embed_go_quotations_stay() {
    check(
        "001",
        &[
            "Trends",
            "READ MORE",
            "[READ MORE",
            "US scraps",
            "Posted by",
        ],
        &[
            "US refuses to receive PM Medvedev's delegation",
            "14/10/2015",
            "\"We have proposed to Americans",
            "\"Today we were told",
            "The top Russian diplomat also said",
            "\"We invited our other partners",
            "\"The agreement on the military-technical",
            "\"And then we are ready",
            "\"We should all start",
            "\"Perhaps, the West thinks",
        ],
    );
    reporting_kept("001", &["[READ MORE"]);
    let [text, full] = clean("001");
    // R10: the two italic quotations lose their asterisks and get their marks.
    assert!(!text.contains('*'), "{text}");
    assert!(
        text.contains("the minister stressed. \"Then our actions would speak louder than words")
    );
    assert!(text.contains("discuss [these] things.\""));
    assert!(text.contains("he said. \"But I wouldn't like to think"));
    assert!(text.contains("'simplified' logic.\""));
    assert!(!full.contains('*'));
}

#[test]
fn raw_002_nothing_goes() {
    let bytes = raw("002");
    let c = stages().clean(&bytes).expect("text");
    assert_eq!(c.edit_count(Stage::Boilerplate), 0, "{:?}", c.edits);
    assert_eq!(c.text.as_bytes(), &bytes[..]);
}

#[test]
fn raw_003_chrome_captions_teasers_and_widget_tail_go() {
    check(
        "003",
        &[
            "- Sputnik International",
            "World",
            "Get the latest news from around the world",
            "© Sputnik",
            "Russian Foreign Minister Sergei Lavrov - Sputnik International",
            "Subscribe",
            "In this Thursday, Sept. 19, 2013 photo",
            "Interview: Who Is This 'Moderate Opposition'",
            "In this image posted on Thursday, Oct. 8, 2015",
            "1000s of Iranian Troops Enter Syria",
            "Newsfeed",
            "0",
            "To participate in the discussion",
            "log in or register",
            "loader",
            "Chats",
            "Загловок",
        ],
        &[
            "US Not Coordinating on Free Syrian Army With Russia",
            "Moscow, on the other hand, is ready",
            "MOSCOW (Sputnik)",
            "Russia has called on",
            "The minister noted that Russia",
            "The foreign minister also explained",
            "Lavrov stressed that",
            "\"Our US colleagues responded",
            "\"[We] were open",
            "Russian Foregn Ministry also reminded",
        ],
    );
    reporting_kept(
        "003",
        &[
            "Get the latest",
            "In this",
            "Interview:",
            "1000s of",
            "\u{A9} Sputnik",
        ],
    );
}

#[test]
fn raw_004_support_caption_contact_and_appeal_go() {
    check(
        "004",
        &[
            "Support The Moscow Times!",
            "President Vladinir Putin Denis Abramov / Vedomosti",
            "Contact the author at",
            "\u{2026} we have a small favor to ask.",
            "As you may have heard",
            "We, the journalists of The Moscow Times",
            "Your support, no matter how small",
            "Continue",
            "Read more",
        ],
        &[
            "Putin Slams U.S. Refusal to Meet With Russian Delegation",
            "President Vladimir Putin called the position",
            "Putin said Tuesday that Russian authorities",
            "On Wednesday, Russia's Foreign Minister",
            "The White House isn't interested",
            "Commenting on the refusal",
            "He added that Russia",
            "Russia has been carrying out air strikes",
            "Russian and U.S. military experts did",
        ],
    );
    reporting_kept(
        "004",
        &[
            "As you may have heard",
            "We, the journalists",
            "Your support",
        ],
    );
}

#[test]
fn raw_001_with_repaired_posted_by_line() {
    // The mojibake stage may have restored the Russian date.
    let text = String::from_utf8_lossy(&raw("001")).replace(
        "10 ??????? 2015 ?.",
        "10 \u{43E}\u{43A}\u{442}\u{44F}\u{431}\u{440}\u{44F} 2015 \u{433}.",
    );
    let out = stages().clean_str(&text).text;
    assert!(!has_line_starting(&out, "Posted by"), "{out}");
    assert!(!has_line_starting(&out, "US scraps"), "{out}");
    assert!(has_line_starting(&out, "14/10/2015"));
}

#[test]
fn stages_are_idempotent_on_raw_files() {
    let only = |s: Stage| {
        Pipeline::new(Config {
            stages: [s].into_iter().collect(),
            ..Default::default()
        })
    };
    for stem in ["000", "001", "002", "003", "004"] {
        let [text, full] = clean(stem);
        for stage in [Stage::Markup, Stage::Boilerplate] {
            for t in [&text, &full] {
                let again = only(stage).clean_str(t);
                assert_eq!(
                    again.edit_count(stage),
                    0,
                    "{stem}: {stage} not idempotent: {:?}",
                    again.edits
                );
            }
        }
    }
}
