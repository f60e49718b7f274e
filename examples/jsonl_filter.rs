//! A JSON-lines filter written against mend's public API only: reads
//! records on stdin, cleans each record's `text`, writes the records to
//! stdout (every other field kept as it is), and drops records whose
//! cleaned text is empty (for example a page that was all boilerplate).
//!
//! ```sh
//! cargo run --release --example jsonl_filter < in.jsonl > out.jsonl
//! ```

use std::io::{self, BufRead, BufWriter, Write};
use std::process;

use mend::jsonl::{Options, clean_record};

fn main() {
    let pipeline = mend::Pipeline::new(mend::Config {
        final_newline: false,
        ..mend::Config::default()
    });
    let opts = Options::default();
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut bad = 0;
    for (i, line) in stdin.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("jsonl_filter: line {}: {e}", i + 1);
                process::exit(2);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match clean_record(&pipeline, &line, &opts) {
            Ok(o) if o.cleaned.text.trim().is_empty() => {}
            Ok(o) => {
                if writeln!(out, "{}", o.record).is_err() {
                    process::exit(2);
                }
            }
            Err(e) => {
                eprintln!("jsonl_filter: line {}: {e}", i + 1);
                bad += 1;
            }
        }
    }
    if out.flush().is_err() || bad > 0 {
        process::exit(2);
    }
}
