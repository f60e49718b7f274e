//! JSON-lines records: `clean_record` on an arbitrary line. No panic; a
//! good record gives a JSON object whose text field is the clean text and
//! whose other fields are kept; the notes (line or inline) restore the
//! record's text; spans are in range; cleaning the text again changes
//! nothing. The first byte picks the options (`mend_fuzz::options`, with
//! bits 4-5 the notes mode and bit 6 attributes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mend::jsonl::{NotesMode, Options, clean_record, restore_text};
use mend::{Pipeline, StageSet};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let (b, rest) = mend_fuzz::split(data);
    let Ok(line) = std::str::from_utf8(rest) else {
        return;
    };
    let mut config = mend_fuzz::options(b, StageSet::ALL);
    config.final_newline = false; // as `--format jsonl`
    let p = Pipeline::new(config);
    let opts = Options {
        text_field: "text".to_owned(),
        notes: match (b >> 4) & 3 {
            1 => NotesMode::Line,
            2 => NotesMode::Inline,
            _ => NotesMode::None,
        },
        attributes: b & 0x40 != 0,
    };
    let Ok(out) = clean_record(&p, line, &opts) else {
        return;
    };
    let input: Value = serde_json::from_str(line).expect("accepted line is JSON");
    let text = input["text"]
        .as_str()
        .expect("accepted record has a string text");
    let record: Value = serde_json::from_str(&out.record).expect("output record is JSON");
    let fields = record.as_object().expect("output record is an object");
    assert_eq!(fields["text"].as_str(), Some(out.cleaned.text.as_str()));
    for (k, v) in input.as_object().expect("object") {
        if k != "text" && !(k == "mend" && opts.notes == NotesMode::Inline) {
            assert_eq!(fields.get(k), Some(v), "field {k:?} changed");
        }
    }
    mend_fuzz::check_spans(&out.cleaned, text.as_bytes());
    let notes = match opts.notes {
        NotesMode::Line => Some(out.notes.clone().expect("notes line")),
        NotesMode::Inline => Some(fields["mend"].to_string()),
        NotesMode::None => None,
    };
    if let Some(notes) = notes {
        let _: Value = serde_json::from_str(&notes).expect("notes are JSON");
        let restored = restore_text(&out.cleaned.text, &notes).expect("record restores");
        assert!(restored == text, "restore(clean(record)) != record");
    }
    if let Some(attrs) = &out.attributes {
        let _: Value = serde_json::from_str(attrs).expect("attributes are JSON");
    }
    assert!(out.cleaned.restore().expect("Cleaned::restore") == text.as_bytes());
    if mend_fuzz::cross_stage_idempotence() {
        mend_fuzz::check_idempotent(&p, &out.cleaned.text);
    }
});
