//! The quotes stage on the real articles in `raw/` (from `../shared/raw`).

use std::path::PathBuf;

use mend::{Config, Pipeline, QuoteStyle, Stage};

fn raw_dir() -> PathBuf {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("raw");
    if local.is_dir() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/raw")
    }
}

fn raw(prefix: &str) -> String {
    let dir = raw_dir();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".txt"))
        })
        .collect();
    entries.sort();
    let path = entries.first().unwrap_or_else(|| panic!("no raw/{prefix}*.txt"));
    std::fs::read_to_string(path).unwrap()
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

#[test]
#[ignore = "prints the changed lines of every raw file; run with --ignored --nocapture"]
fn show_raw_changes() {
    for p in ["000", "001", "002", "003", "004"] {
        let text = raw(p);
        for style in [QuoteStyle::Curly, QuoteStyle::Ascii, QuoteStyle::Keep] {
            let (out, notes) = clean(&text, style);
            println!("=== raw/{p} {style:?}: {} edits", notes.len());
            for n in &notes {
                println!(
                    "  {} {:?} {:?} -> {:?} ({})",
                    n.rule, n.at, n.removed, n.inserted, n.why
                );
            }
            if style == QuoteStyle::Curly {
                for (a, b) in text.lines().zip(out.lines()) {
                    if a != b {
                        println!("- {a}\n+ {b}");
                    }
                }
            }
        }
    }
}
