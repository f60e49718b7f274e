//! Golden files: every file in `raw/` cleaned in memory must equal
//! `clean/NAME.txt` and `clean/NAME.notes.jsonl`, and restore must give
//! back `raw/` byte for byte.
//!
//! `MEND_UPDATE=1 cargo test --test golden` rewrites `clean/` (review with
//! `git diff clean/`); `MEND_GOLDEN=substr` narrows the run.

use std::fs;
use std::path::{Path, PathBuf};

use mend::{Corpus, Pipeline};

fn raw_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("raw");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("raw/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn golden() {
    let update = std::env::var_os("MEND_UPDATE").is_some();
    let filter = std::env::var("MEND_GOLDEN").unwrap_or_default();
    let clean_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("clean");
    let pipeline = Pipeline::default();
    let files = raw_files();
    assert!(files.len() >= 5, "raw/ should hold the five articles");
    // As `mend clean raw -o clean` does: lines counted across the whole folder.
    let mut corpus = Corpus::new();
    for f in &files {
        pipeline.count_lines(&mut corpus, &fs::read(f).expect("read raw"));
    }
    let mut mismatches = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.to_string_lossy().contains(&filter))
    {
        let bytes = fs::read(f).expect("read raw");
        let cleaned = pipeline
            .clean_in(&bytes, Some(&corpus))
            .expect("raw files are text");
        let name = f
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let notes = mend::notes::write(&cleaned, &bytes, &name, pipeline.config());

        // Restore must give back the raw bytes exactly.
        let (header, edits) = mend::notes::read(&notes).expect("notes parse");
        let restored = mend::notes::restore(&cleaned.text, &header, &edits).expect("restores");
        assert_eq!(restored, bytes, "{name}: restore differs from raw");

        // Idempotent: cleaning the clean text changes nothing.
        let again = pipeline
            .clean(cleaned.text.as_bytes())
            .expect("clean text is text");
        assert!(
            again.edits.is_empty(),
            "{name}: cleaning the output again made edits: {:#?}",
            again.edits
        );

        let stem = name.strip_suffix(".txt").unwrap_or(&name);
        for (path, want) in [
            (clean_dir.join(format!("{stem}.txt")), cleaned.text.as_str()),
            (
                clean_dir.join(format!("{stem}.notes.jsonl")),
                notes.as_str(),
            ),
        ] {
            if update {
                fs::create_dir_all(&clean_dir).expect("create clean/");
                fs::write(&path, want).expect("write golden");
                continue;
            }
            let have = fs::read_to_string(&path).unwrap_or_default();
            if have != want {
                let diff = similar::TextDiff::from_lines(have.as_str(), want)
                    .unified_diff()
                    .context_radius(2)
                    .header(&path.display().to_string(), "now")
                    .to_string();
                mismatches.push(diff);
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden files differ (MEND_UPDATE=1 cargo test --test golden to bless, then read `git diff clean/`):\n{}",
        mismatches.join("\n")
    );
}
