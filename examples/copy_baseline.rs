//! The physical limit of the performance measurement: a program that only
//! reads, validates UTF-8 and writes.
//!
//! ```sh
//! copy_baseline DIR_IN DIR_OUT        # every file under DIR_IN to DIR_OUT (same relative path)
//! copy_baseline --jsonl FILE OUT      # each JSON-lines record parsed, validated, re-serialized
//! ```
//!
//! Both run in parallel on all cores (rayon; `RAYON_NUM_THREADS` sets the
//! count). Folder mode makes the output folders first, then reads,
//! validates and writes each file in parallel. JSON-lines mode reads the
//! file, splits it into chunks of whole lines (about 1 MB each), parses
//! every record with serde_json into a `Value` (which keeps every field),
//! re-serializes it, and writes the chunks in input order. It prints
//! `files N bytes B invalid K` (or `records ...`) to stderr.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rayon::prelude::*;

/// Collects the files under `dir`, recursively, sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let ft = e.file_type()?;
        if ft.is_dir() {
            walk(&e.path(), out)?;
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
    Ok(())
}

fn copy_folder(input: &Path, output: &Path) -> io::Result<()> {
    let mut files = Vec::new();
    walk(input, &mut files)?;
    let rels: Vec<&Path> = files
        .iter()
        .map(|p| p.strip_prefix(input).unwrap_or(p))
        .collect();
    let mut dirs: Vec<PathBuf> = rels
        .iter()
        .filter_map(|r| r.parent().map(|p| output.join(p)))
        .collect();
    dirs.dedup();
    fs::create_dir_all(output)?;
    for d in &dirs {
        fs::create_dir_all(d)?;
    }
    let (bytes, invalid) = files
        .par_iter()
        .zip(rels.par_iter())
        .map(|(path, rel)| -> io::Result<(usize, usize)> {
            let data = fs::read(path)?;
            let bad = usize::from(std::str::from_utf8(&data).is_err());
            fs::write(output.join(rel), &data)?;
            Ok((data.len(), bad))
        })
        .try_reduce(|| (0, 0), |a, b| Ok((a.0 + b.0, a.1 + b.1)))?;
    eprintln!("files {} bytes {bytes} invalid {invalid}", files.len());
    Ok(())
}

/// Splits `data` into chunks of whole lines of about `size` bytes.
fn line_chunks(data: &[u8], size: usize) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let want = (start + size).min(data.len());
        let end = match memchr::memchr(b'\n', &data[want..]) {
            Some(i) => want + i + 1,
            None => data.len(),
        };
        let end = if want == data.len() { data.len() } else { end };
        chunks.push(&data[start..end]);
        start = end;
    }
    chunks
}

/// Parses, validates and re-serializes the records of one chunk.
fn copy_chunk(chunk: &[u8]) -> io::Result<(Vec<u8>, usize)> {
    let text = std::str::from_utf8(chunk).map_err(io::Error::other)?;
    let mut out = Vec::with_capacity(chunk.len() + 64);
    let mut records = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(io::Error::other)?;
        if !v.get("text").is_some_and(serde_json::Value::is_string) {
            return Err(io::Error::other("a record without a string \"text\""));
        }
        serde_json::to_writer(&mut out, &v)?;
        out.push(b'\n');
        records += 1;
    }
    Ok((out, records))
}

fn copy_jsonl(input: &Path, output: &Path) -> io::Result<()> {
    let data = fs::read(input)?;
    let chunks = line_chunks(&data, 1 << 20);
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(output)?);
    let mut records = 0;
    // Batches of chunks: parallel inside a batch, written in order.
    let batch = 4 * rayon::current_num_threads();
    for group in chunks.chunks(batch) {
        let done: Vec<(Vec<u8>, usize)> = group
            .par_iter()
            .map(|c| copy_chunk(c))
            .collect::<io::Result<_>>()?;
        for (bytes, n) in done {
            out.write_all(&bytes)?;
            records += n;
        }
    }
    out.flush()?;
    eprintln!("records {records} bytes {}", data.len());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag, file, out] if flag == "--jsonl" => copy_jsonl(Path::new(file), Path::new(out)),
        [input, output] if !input.starts_with('-') => {
            copy_folder(Path::new(input), Path::new(output))
        }
        _ => {
            eprintln!("usage: copy_baseline DIR_IN DIR_OUT | copy_baseline --jsonl FILE OUT");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("copy_baseline: {e}");
            ExitCode::FAILURE
        }
    }
}
