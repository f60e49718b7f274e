//! A minimal folder cleaner written against mend's public API only.
//!
//! ```sh
//! cargo run --release --example clean_folder -- raw /tmp/clean
//! ```
//! Cleans every file directly in IN_DIR on all cores and writes NAME.txt and
//! NAME.notes.jsonl into OUT_DIR, then checks that the notes restore each
//! input exactly.

use std::path::PathBuf;
use std::{env, fs, process};

use rayon::prelude::*;

fn main() {
    let args: Vec<PathBuf> = env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: clean_folder IN_DIR OUT_DIR");
        process::exit(2);
    };
    let pipeline = mend::Pipeline::new(mend::Config::default());
    let mut files: Vec<PathBuf> = match fs::read_dir(input) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect(),
        Err(e) => {
            eprintln!("clean_folder: {}: {e}", input.display());
            process::exit(2);
        }
    };
    files.sort();
    if let Err(e) = fs::create_dir_all(output) {
        eprintln!("clean_folder: {}: {e}", output.display());
        process::exit(2);
    }
    let failed: usize = files
        .par_iter()
        .map(|path| {
            let result = (|| -> Result<usize, String> {
                let bytes = fs::read(path).map_err(|e| e.to_string())?;
                let cleaned = pipeline.clean(&bytes).map_err(|e| e.to_string())?;
                if cleaned.restore().map_err(|e| e.to_string())? != bytes {
                    return Err("notes do not restore the input".to_owned());
                }
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let notes = mend::notes::write(&cleaned, &bytes, &name, pipeline.config());
                let stem = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                fs::write(output.join(format!("{stem}.txt")), &cleaned.text)
                    .map_err(|e| e.to_string())?;
                fs::write(output.join(format!("{stem}.notes.jsonl")), notes)
                    .map_err(|e| e.to_string())?;
                Ok(cleaned.edits.len())
            })();
            match result {
                Ok(n) => {
                    println!("{}: {n} edits", path.display());
                    0
                }
                Err(e) => {
                    eprintln!("clean_folder: {}: {e}", path.display());
                    1
                }
            }
        })
        .sum();
    process::exit(if failed > 0 { 2 } else { 0 });
}
