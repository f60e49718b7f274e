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
use serde_json::value::RawValue;

type Fields = std::collections::BTreeMap<String, Box<RawValue>>;

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
    // Fields as raw JSON, as mend keeps them (a number such as 1e400 is
    // valid JSON that a `Value` cannot hold); a repeated key: the last.
    let input: Fields = serde_json::from_str(line).expect("accepted line is a JSON object");
    let text: String = serde_json::from_str(input["text"].get()).expect("a string text field");
    let record: Fields = serde_json::from_str(&out.record).expect("output record is an object");
    let clean: String = serde_json::from_str(record["text"].get()).expect("a string text field");
    assert_eq!(clean, out.cleaned.text);
    for (k, v) in &input {
        if k != "text" && !(k == "mend" && opts.notes == NotesMode::Inline) {
            let kept = record.get(k).map(|r| r.get());
            assert_eq!(kept, Some(v.get()), "field {k:?} not kept byte for byte");
        }
    }
    mend_fuzz::check_spans(&out.cleaned, text.as_bytes());
    let notes = match opts.notes {
        NotesMode::Line => Some(out.notes.clone().expect("notes line")),
        NotesMode::Inline => Some(record["mend"].get().to_owned()),
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
