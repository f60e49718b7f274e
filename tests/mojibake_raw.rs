//! The mojibake stage on the real articles in `raw/`: raw/001's lossy
//! date is repaired from the document's own date, and nothing else in the
//! five files is touched.

use mend::{Config, LossyMode, Pipeline, Stage};

mod common;

fn raw(prefix: &str) -> (String, Vec<u8>) {
    let (path, bytes) = common::raw_file(prefix);
    (path.display().to_string(), bytes)
}

fn decode_and_mojibake(lossy: LossyMode) -> Pipeline {
    Pipeline::new(Config {
        stages: [Stage::Decode, Stage::Mojibake].into_iter().collect(),
        lossy,
        ..Config::default()
    })
}

#[test]
fn raw_001_date_line_is_repaired_from_the_document_date() {
    let (_, bytes) = raw("001_");
    for lossy in [LossyMode::Keep, LossyMode::Mark] {
        let out = decode_and_mojibake(lossy).clean(&bytes).expect("text");
        assert!(
            out.text
                .contains("Posted by [RT Play](#) on 10 октября 2015 г.\n"),
            "date line not repaired"
        );
        assert!(!out.text.contains("??"));
        let notes: Vec<_> = out
            .edits
            .iter()
            .filter(|n| n.stage == Stage::Mojibake)
            .collect();
        assert_eq!(notes.len(), 1, "{notes:?}");
        let n = notes[0];
        assert_eq!(n.rule, "lossy-question-marks");
        assert_eq!(n.removed.as_deref(), Some("??????? 2015 ?"));
        assert_eq!(n.inserted.as_deref(), Some("октября 2015 г"));
        assert!(n.why.contains("14/10/2015"), "{}", n.why);
        // The source span points at the `?` run in the raw bytes.
        assert_eq!(&bytes[n.src[0]..n.src[0] + 7], b"???????");
        // Idempotent on its own output.
        let again = decode_and_mojibake(lossy).clean_str(&out.text);
        assert!(again.edits.is_empty(), "{:?}", again.edits);
    }
}

#[test]
fn raw_001_without_its_date_line_gets_a_finding_only() {
    let (_, bytes) = raw("001_");
    let text = String::from_utf8(bytes).expect("utf-8");
    let undated = text.replace("14/10/2015", "Wednesday");
    let out = decode_and_mojibake(LossyMode::Keep).clean_str(&undated);
    assert_eq!(out.text, undated);
    assert_eq!(out.edit_count(Stage::Mojibake), 0);
    assert_eq!(out.finding_count(Stage::Mojibake), 2);
    let marked = decode_and_mojibake(LossyMode::Mark).clean_str(&undated);
    assert!(marked.text.contains("on 10 \u{FFFD} 2015 \u{FFFD}.\n"));
}

#[test]
fn other_raw_files_get_no_mojibake_edits() {
    for prefix in ["000_", "002_", "003_", "004_"] {
        let (path, bytes) = raw(prefix);
        let out = decode_and_mojibake(LossyMode::Mark)
            .clean(&bytes)
            .expect("text");
        let notes: Vec<_> = out
            .edits
            .iter()
            .filter(|n| n.stage == Stage::Mojibake)
            .collect();
        assert!(notes.is_empty(), "{path}: {notes:?}");
    }
    let (_, bytes) = raw("003_");
    let out = decode_and_mojibake(LossyMode::Keep)
        .clean(&bytes)
        .expect("text");
    assert!(out.text.contains("Заголовок открываемого материала"));
}

#[test]
fn full_pipeline_keeps_the_repair_and_is_idempotent() {
    let (_, bytes) = raw("001_");
    let out = Pipeline::default().clean(&bytes).expect("text");
    // Boilerplate then drops the embed line, but the repair is in the notes.
    assert!(
        out.edits.iter().any(|n| n.stage == Stage::Mojibake
            && n.rule == "lossy-question-marks"
            && n.inserted.as_deref() == Some("октября")
            || n.inserted.as_deref().is_some_and(|i| i.contains("октября"))),
        "{:?}",
        out.edits
    );
    assert!(!out.text.contains("Posted by"));
    let again = decode_and_mojibake(LossyMode::Keep).clean_str(&out.text);
    assert_eq!(again.edit_count(Stage::Mojibake), 0);
}
