//! `mend clean --format jsonl`: streams JSON-lines files (plain, `.gz`,
//! `.zst`), cleaning records in parallel batches with ordered output.
//! Memory is bounded by one batch (a few MB of records), not the file.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use mend::Pipeline;
use mend::jsonl::{self, NotesMode, Options};

use crate::{Failure, Totals};

/// Records per batch, and bytes per batch: whichever comes first.
const BATCH_RECORDS: usize = 4096;
const BATCH_BYTES: usize = 8 << 20;

/// One record's output lines: the record, its notes, its attributes.
type Lines = (String, Option<String>, Option<String>);

/// Where one shard's outputs go.
pub(crate) struct Targets {
    pub out: Option<PathBuf>,
    pub notes: Option<PathBuf>,
    pub attributes: Option<PathBuf>,
    pub rejects: Option<PathBuf>,
}

fn open_reader(path: Option<&Path>) -> io::Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = match path {
        None => Box::new(io::stdin()),
        Some(p) => Box::new(File::open(p)?),
    };
    let name = path
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let inner: Box<dyn Read + Send> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(raw)))
    } else if name.ends_with(".zst") {
        Box::new(zstd::stream::read::Decoder::new(raw)?)
    } else {
        raw
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, inner)))
}

/// A writer to a temp file beside `path` (renamed into place by `finish`),
/// compressed by the extension, or to stdout.
pub(crate) struct Sink {
    inner: Option<Box<dyn Write + Send>>,
    tmp: Option<(tempfile::TempPath, PathBuf)>,
}

impl Sink {
    pub(crate) fn open(path: Option<&Path>) -> io::Result<Sink> {
        let Some(path) = path else {
            return Ok(Sink {
                inner: Some(Box::new(BufWriter::new(io::stdout()))),
                tmp: None,
            });
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let (file, tmp) = tempfile::NamedTempFile::new_in(dir)?.into_parts();
        let name = path.to_string_lossy();
        let buf = BufWriter::with_capacity(1 << 20, file);
        let inner: Box<dyn Write + Send> = if name.ends_with(".gz") {
            Box::new(flate2::write::GzEncoder::new(
                buf,
                flate2::Compression::default(),
            ))
        } else if name.ends_with(".zst") {
            Box::new(zstd::stream::write::Encoder::new(buf, 3)?.auto_finish())
        } else {
            Box::new(buf)
        };
        Ok(Sink {
            inner: Some(inner),
            tmp: Some((tmp, path.to_path_buf())),
        })
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        if let Some(w) = self.inner.as_mut() {
            w.write_all(line)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Flushes (and finishes compression), then renames into place.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        if let Some(mut w) = self.inner.take() {
            w.flush()?;
            drop(w); // finishes gzip / zstd frames
        }
        if let Some((tmp, path)) = self.tmp.take() {
            tmp.persist(&path).map_err(|e| e.error)?;
        }
        Ok(())
    }
}

fn open_opt(path: Option<&Path>) -> io::Result<Option<Sink>> {
    path.map(|p| Sink::open(Some(p))).transpose()
}

/// Cleans one JSON-lines stream. Bad records are reported as
/// `mend: FILE:LINE: ...` (and copied to the rejects file); returns how
/// many were bad, or a failure that stopped the shard.
pub(crate) fn run(
    pipeline: &Pipeline,
    input: Option<&Path>,
    targets: &Targets,
    opts: &Options,
    totals: &Totals,
    on_batch: &(dyn Fn(usize, usize) + Sync),
    report: &(dyn Fn(&Failure) + Sync),
) -> Result<usize, Failure> {
    let name = input.map_or_else(|| PathBuf::from("-"), Path::to_path_buf);
    let mut reader = open_reader(input).map_err(|e| Failure::new(&name, e))?;
    let fail = |p: &Path, e: io::Error| Failure::new(p, e);
    let out_name = targets
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("<stdout>"));
    let mut out = Sink::open(targets.out.as_deref()).map_err(|e| fail(&out_name, e))?;
    let notes_path = targets.notes.as_deref();
    let mut notes =
        open_opt(notes_path).map_err(|e| fail(notes_path.unwrap_or(Path::new("")), e))?;
    let attr_path = targets.attributes.as_deref();
    let mut attrs = open_opt(attr_path).map_err(|e| fail(attr_path.unwrap_or(Path::new("")), e))?;
    let rej_path = targets.rejects.as_deref();
    let mut rejects = open_opt(rej_path).map_err(|e| fail(rej_path.unwrap_or(Path::new("")), e))?;
    let opts = Options {
        notes: match (opts.notes, &notes) {
            (NotesMode::Inline, _) => NotesMode::Inline,
            (_, Some(_)) => NotesMode::Line,
            _ => NotesMode::None,
        },
        attributes: attrs.is_some(),
        ..opts.clone()
    };
    let bad = AtomicUsize::new(0);
    let mut line_no = 0usize;
    loop {
        // Read one batch of lines (raw bytes: a line need not be UTF-8).
        let mut batch: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut bytes = 0;
        while batch.len() < BATCH_RECORDS && bytes < BATCH_BYTES {
            let mut buf = Vec::new();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| Failure::new(&name, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            bytes += n;
            batch.push((line_no, buf));
        }
        if batch.is_empty() {
            break;
        }
        if crate::interrupt::requested() {
            // Nothing is renamed into place: the temp files go with the sinks.
            return Err(Failure::new(
                &name,
                format!(
                    "interrupted at line {}; no output written for it",
                    batch[0].0
                ),
            ));
        }
        // Count and drop each record's `Cleaned` inside the parallel map:
        // only the output lines wait for their turn.
        let results: Vec<Result<Lines, String>> = batch
            .par_iter()
            .map(|(_, line)| match std::str::from_utf8(line) {
                Ok(s) => jsonl::clean_record(pipeline, s, &opts)
                    .map(|o| {
                        totals.add(&o.cleaned);
                        (o.record, o.notes, o.attributes)
                    })
                    .map_err(|e| e.to_string()),
                Err(e) => Err(format!("not UTF-8 at byte {}", e.valid_up_to())),
            })
            .collect();
        for ((n, line), r) in batch.iter().zip(results) {
            match r {
                Ok((record, note, attr)) => {
                    out.write_line(record.as_bytes())
                        .map_err(|e| fail(&out_name, e))?;
                    if let (Some(s), Some(l)) = (notes.as_mut(), note) {
                        s.write_line(l.as_bytes())
                            .map_err(|e| fail(Path::new("notes"), e))?;
                    }
                    if let (Some(s), Some(l)) = (attrs.as_mut(), attr) {
                        s.write_line(l.as_bytes())
                            .map_err(|e| fail(Path::new("attributes"), e))?;
                    }
                }
                Err(msg) => {
                    bad.fetch_add(1, Ordering::Relaxed);
                    report(&Failure {
                        path: format!("{}:{n}", name.display()),
                        message: msg,
                    });
                    if let Some(s) = rejects.as_mut() {
                        s.write_line(line)
                            .map_err(|e| fail(Path::new("rejects"), e))?;
                    }
                }
            }
        }
        on_batch(batch.len(), bytes);
    }
    out.finish().map_err(|e| fail(&out_name, e))?;
    for s in [notes, attrs, rejects].into_iter().flatten() {
        s.finish()
            .map_err(|e| fail(Path::new("notes/attributes/rejects"), e))?;
    }
    Ok(bad.load(Ordering::Relaxed))
}
