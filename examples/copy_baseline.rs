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
//! validates and writes each file in parallel. JSON-lines mode streams the
//! file in chunks of whole lines (about 1 MB each), parses every record of
//! a batch of chunks in parallel with serde_json into a `Value` (which
//! keeps every field), re-serializes it, and writes the chunks in input
//! order. It prints
//! `files N bytes B invalid K` (or `records ...`) to stderr.

use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
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

/// Parses, validates and re-serializes the records of one chunk of whole lines.
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

/// Reads whole lines into `chunk` until it holds about `size` bytes.
fn read_chunk(input: &mut impl BufRead, size: usize) -> io::Result<Vec<u8>> {
    let mut chunk = Vec::with_capacity(size + (size >> 2));
    while chunk.len() < size && input.read_until(b'\n', &mut chunk)? > 0 {}
    Ok(chunk)
}

fn copy_jsonl(input: &Path, output: &Path) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 20, fs::File::open(input)?);
    let mut out = BufWriter::with_capacity(1 << 20, fs::File::create(output)?);
    let (mut records, mut bytes) = (0, 0);
    // Batches of 1 MB chunks: parsed in parallel, written in order; memory
    // stays at a few batches (or one record, if a record is larger).
    let batch = 2 * rayon::current_num_threads();
    loop {
        let mut chunks = Vec::with_capacity(batch);
        for _ in 0..batch {
            let c = read_chunk(&mut reader, 1 << 20)?;
            if c.is_empty() {
                break;
            }
            bytes += c.len();
            chunks.push(c);
        }
        if chunks.is_empty() {
            break;
        }
        let done: Vec<(Vec<u8>, usize)> = chunks
            .par_iter()
            .map(|c| copy_chunk(c))
            .collect::<io::Result<_>>()?;
        for (data, n) in done {
            out.write_all(&data)?;
            records += n;
        }
    }
    out.flush()?;
    eprintln!("records {records} bytes {bytes}");
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
