//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test file uses a part

use std::path::PathBuf;

pub mod cli;

/// The project's `raw/` folder.
pub fn raw_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("raw")
}

/// The path and bytes of the raw file whose name starts with `prefix`.
pub fn raw_file(prefix: &str) -> (PathBuf, Vec<u8>) {
    let dir = raw_dir();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
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
    let path = entries
        .pop()
        .unwrap_or_else(|| panic!("no raw/{prefix}*.txt"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path, bytes)
}
