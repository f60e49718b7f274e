//! `mend clean --format jsonl`: streams JSON-lines files (plain, `.gz`,
//! `.zst`), cleaning records in parallel batches with ordered output.
//! Memory is bounded by the batches under way (at most [`IN_FLIGHT_BYTES`]
//! of input, plus as much as the longest record under way, up to 32 MB) and
//! the records being cleaned, not by the file.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};

use rayon::prelude::*;

use mend::Pipeline;

use crate::state::ShardState;
use crate::write::AtomicFile;
use mend::jsonl::{self, NotesMode, Options};

use crate::{Failure, Totals};

/// Records per batch, and bytes per batch: whichever comes first.
const BATCH_RECORDS: usize = 4096;
const BATCH_BYTES: usize = 2 << 20;

/// One record's output lines: the record, its notes, its attributes.
type Lines = (String, Option<String>, Option<String>);

/// Where one shard's outputs go, and how long a record may be.
pub(crate) struct Targets {
    pub out: Option<PathBuf>,
    pub notes: Option<PathBuf>,
    pub attributes: Option<PathBuf>,
    pub rejects: Option<PathBuf>,
    /// Longer records are reported and skipped without being held in memory.
    pub max_record: usize,
}

/// A compressed input may expand at most this many times its size...
const MAX_RATIO: u64 = 1000;
/// ...or to this many bytes, whichever is more. gzip cannot pass about
/// 1032:1; zstd can reach far more, which only a bomb does on text.
const MIN_EXPANSION_LIMIT: u64 = 4 << 30;

fn open_reader(
    path: Option<&Path>,
    state: Option<&ShardState>,
) -> io::Result<Box<dyn BufRead + Send>> {
    let (raw, size): (Box<dyn Read + Send>, u64) = match path {
        None => (Box::new(io::stdin()), 0),
        Some(p) => {
            let f = File::open(p)?;
            let size = f.metadata().map_or(0, |m| m.len());
            match state {
                Some(s) => (Box::new(s.tap(f)), size),
                None => (Box::new(f), size),
            }
        }
    };
    let name = path
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let limit = size.saturating_mul(MAX_RATIO).max(MIN_EXPANSION_LIMIT);
    let inner: Box<dyn Read + Send> = if name.ends_with(".gz") {
        Box::new(Bounded::new(
            flate2::read::MultiGzDecoder::new(BufReader::new(raw)),
            limit,
        ))
    } else if name.ends_with(".zst") {
        Box::new(Bounded::new(zstd::stream::read::Decoder::new(raw)?, limit))
    } else {
        raw
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, inner)))
}

/// A decompressing reader that fails, rather than go on, once it has
/// produced `limit` bytes: a decompression bomb stops with an error naming
/// the file instead of filling the disk.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R> Bounded<R> {
    fn new(inner: R, limit: u64) -> Self {
        Bounded {
            inner,
            left: limit,
            limit,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => Err(io::Error::other(format!(
                "decompresses to more than {} bytes ({MAX_RATIO} times its size): \
                 a decompression bomb? stopped",
                self.limit
            ))),
        }
    }
}

/// Reads one line (without limit on what is discarded) into `buf`, keeping
/// at most `max` bytes: returns the bytes the line took in the input and
/// whether it was longer than `max` (then `buf` holds only its start, and
/// the rest was read and dropped without being held).
fn read_line_bounded(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(usize, bool)> {
    let mut taken = 0;
    let mut too_long = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((taken, too_long));
        }
        let (end, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if end > room {
            too_long = true;
        }
        buf.extend_from_slice(&chunk[..end.min(room)]);
        reader.consume(end);
        taken += end;
        if done {
            return Ok((taken, too_long));
        }
    }
}

/// A writer to an output file that appears only when complete (see
/// `write::AtomicFile`), compressed by the extension, or to stdout.
pub(crate) struct Sink {
    inner: Option<Enc>,
}

enum Enc {
    Stdout(BufWriter<io::Stdout>),
    Plain(BufWriter<AtomicFile>),
    Gz(flate2::write::GzEncoder<BufWriter<AtomicFile>>),
    Zst(zstd::stream::write::Encoder<'static, BufWriter<AtomicFile>>),
}

impl Sink {
    pub(crate) fn open(path: Option<&Path>) -> io::Result<Sink> {
        let Some(path) = path else {
            return Ok(Sink {
                inner: Some(Enc::Stdout(BufWriter::new(io::stdout()))),
            });
        };
        crate::write::make_dir_of(path)?;
        let buf = BufWriter::with_capacity(1 << 20, AtomicFile::create(path)?);
        let name = path.to_string_lossy();
        let inner = if name.ends_with(".gz") {
            Enc::Gz(flate2::write::GzEncoder::new(
                buf,
                flate2::Compression::default(),
            ))
        } else if name.ends_with(".zst") {
            Enc::Zst(zstd::stream::write::Encoder::new(buf, 3)?)
        } else {
            Enc::Plain(buf)
        };
        Ok(Sink { inner: Some(inner) })
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let w: &mut dyn Write = match self.inner.as_mut() {
            None => return Ok(()),
            Some(Enc::Stdout(w)) => w,
            Some(Enc::Plain(w)) => w,
            Some(Enc::Gz(w)) => w,
            Some(Enc::Zst(w)) => w,
        };
        w.write_all(line)?;
        w.write_all(b"\n")
    }

    /// Flushes (and finishes compression), then puts the file in place.
    /// A sink dropped without `finish` leaves no file.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        let buf = match self.inner.take() {
            None => return Ok(()),
            Some(Enc::Stdout(mut w)) => return w.flush(),
            Some(Enc::Plain(w)) => w,
            Some(Enc::Gz(w)) => w.finish()?,
            Some(Enc::Zst(w)) => w.finish()?,
        };
        buf.into_inner().map_err(|e| e.into_error())?.commit()
    }
}

fn open_opt(path: Option<&Path>) -> io::Result<Option<Sink>> {
    path.map(|p| Sink::open(Some(p))).transpose()
}

/// Bytes of input in the batches being cleaned or waiting to be written,
/// at most (four full batches), besides [`long_record_slack`].
const IN_FLIGHT_BYTES: usize = 4 * BATCH_BYTES;

/// More input allowed in flight beside a batch of `largest` bytes: as much
/// again, up to 32 MB, so that the window counts the long record itself
/// and still lets [`IN_FLIGHT_BYTES`] of short ones in. A long record takes
/// one worker for as long as each other worker takes to clean about as
/// many bytes of short ones, so the others still run dry behind it; letting
/// in that much (measured: a 20 MB record, two workers) took peak memory
/// past the target of issue 6 for no clear gain. The cap keeps a huge
/// record from letting as much again into memory.
fn long_record_slack(largest: usize) -> usize {
    largest.min(32 << 20)
}

/// One batch of input lines: (line number, raw bytes), and their size.
struct Batch {
    lines: Vec<(usize, Vec<u8>)>,
    bytes: usize,
}

/// A bad record: why, and its input line.
type Rejected = (String, Vec<u8>);

/// A cleaned batch: for each record, its line number and its output lines,
/// or the error and the input line.
struct Done {
    results: Vec<(usize, Result<Lines, Rejected>)>,
    bytes: usize,
}

/// Reads the next batch of non-blank lines (raw bytes: a line need not be
/// UTF-8); empty at the end of the input. A line longer than `max` is
/// reported, counted as bad, and read past without being held.
fn read_batch(
    reader: &mut dyn BufRead,
    name: &Path,
    line_no: &mut usize,
    max: usize,
    bad: &AtomicUsize,
    report: &(dyn Fn(&Failure) + Sync),
) -> Result<Batch, Failure> {
    let mut batch = Batch {
        lines: Vec::new(),
        bytes: 0,
    };
    while batch.lines.len() < BATCH_RECORDS && batch.bytes < BATCH_BYTES {
        let mut buf = Vec::new();
        let (n, too_long) =
            read_line_bounded(reader, &mut buf, max).map_err(|e| Failure::new(name, e))?;
        if n == 0 {
            break;
        }
        *line_no += 1;
        if too_long {
            bad.fetch_add(1, Ordering::Relaxed);
            report(&Failure {
                path: format!("{}:{line_no}", name.display()),
                message: format!("record of {n} bytes, longer than --max-record {max}; skipped"),
            });
            continue;
        }
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        batch.bytes += n;
        batch.lines.push((*line_no, buf));
    }
    Ok(batch)
}

/// Cleans the records of a batch in parallel. Each record's `Cleaned` is
/// counted and dropped here, and its input line once it is parsed:
/// only the output lines (or, for a bad record, its line, for the rejects
/// file) wait for their turn.
fn clean_batch(pipeline: &Pipeline, batch: Batch, opts: &Options, totals: &Totals) -> Done {
    let results = batch
        .lines
        .into_par_iter()
        .map(|(n, line)| {
            let parsed = match std::str::from_utf8(&line) {
                Ok(s) => jsonl::parse(s, opts).map_err(|e| e.to_string()),
                Err(e) => Err(format!("not UTF-8 at byte {}", e.valid_up_to())),
            };
            match parsed {
                Ok(parsed) => {
                    // The line is not needed once read: a large record is
                    // not held twice while it is cleaned.
                    drop(line);
                    let o = jsonl::clean_parsed(pipeline, parsed, opts);
                    totals.add(&o.cleaned);
                    (n, Ok((o.record, o.notes, o.attributes)))
                }
                Err(msg) => (n, Err((msg, line))),
            }
        })
        .collect();
    Done {
        results,
        bytes: batch.bytes,
    }
}

/// Where a run reports: totals, each batch written (records, bytes), each bad record.
pub(crate) struct Progress<'a> {
    pub totals: &'a Totals,
    pub on_batch: &'a (dyn Fn(usize, usize) + Sync),
    pub report: &'a (dyn Fn(&Failure) + Sync),
}

/// Cleans one JSON-lines stream. Bad records are reported as
/// `mend: FILE:LINE: ...` (and copied to the rejects file); returns how
/// many were bad, or a failure that stopped the shard.
pub(crate) fn run(
    pipeline: &Pipeline,
    input: Option<&Path>,
    // The shard's state, which takes the input's digest as it is read.
    state: Option<&ShardState>,
    targets: &Targets,
    opts: &Options,
    progress: &Progress<'_>,
) -> Result<usize, Failure> {
    let Progress {
        totals,
        on_batch,
        report,
    } = *progress;
    let name = input.map_or_else(|| PathBuf::from("-"), Path::to_path_buf);
    let mut reader = open_reader(input, state).map_err(|e| Failure::new(&name, e))?;
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
    let max = targets.max_record;
    // Batches are cleaned on the thread pool while this thread reads the
    // next ones and writes the finished ones, in input order: reading,
    // cleaning and writing overlap, and a long record holds up one worker,
    // not the whole pool. At most `IN_FLIGHT_BYTES` of input (and the slack
    // a long record allows) are held at once.
    rayon::in_place_scope(|scope| -> Result<(), Failure> {
        // Each batch under way, with its input bytes; and their sum.
        let mut in_flight: VecDeque<(Receiver<Done>, usize)> = VecDeque::new();
        let mut held = 0usize;
        loop {
            let batch = read_batch(&mut reader, &name, &mut line_no, max, &bad, report)?;
            let at_end = batch.lines.is_empty();
            if !at_end {
                if crate::interrupt::requested() {
                    // Nothing is renamed into place: the temp files go with the sinks.
                    return Err(Failure::new(
                        &name,
                        format!(
                            "interrupted at line {}; no output written for it",
                            batch.lines[0].0
                        ),
                    ));
                }
                let (tx, rx) = sync_channel(1);
                let opts = &opts;
                let bytes = batch.bytes;
                scope.spawn(move |_| {
                    // The receiver is gone only when writing failed.
                    let _ = tx.send(clean_batch(pipeline, batch, opts, totals));
                });
                in_flight.push_back((rx, bytes));
                held += bytes;
            }
            loop {
                let largest = in_flight.iter().map(|b| b.1).max().unwrap_or(0);
                let full = held >= IN_FLIGHT_BYTES + long_record_slack(largest);
                if !(full || at_end) {
                    break;
                }
                let Some((rx, bytes)) = in_flight.pop_front() else {
                    break;
                };
                held -= bytes;
                let done = rx.recv().map_err(|_| {
                    Failure::new(&name, "a batch of records was lost (a worker failed)")
                })?;
                let records = done.results.len();
                for (n, r) in done.results {
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
                        Err((msg, line)) => {
                            bad.fetch_add(1, Ordering::Relaxed);
                            report(&Failure {
                                path: format!("{}:{n}", name.display()),
                                message: msg,
                            });
                            if let Some(s) = rejects.as_mut() {
                                s.write_line(&line)
                                    .map_err(|e| fail(Path::new("rejects"), e))?;
                            }
                        }
                    }
                }
                on_batch(records, done.bytes);
            }
            if at_end {
                return Ok(());
            }
        }
    })?;
    out.finish().map_err(|e| fail(&out_name, e))?;
    for s in [notes, attrs, rejects].into_iter().flatten() {
        s.finish()
            .map_err(|e| fail(Path::new("notes/attributes/rejects"), e))?;
    }
    Ok(bad.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bomb_stops_at_its_limit() {
        let zeros = vec![b'0'; 10_000];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&zeros).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let mut r = Bounded::new(flate2::read::MultiGzDecoder::new(&gz[..]), 4096);
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).expect_err("stopped");
        assert!(e.to_string().contains("decompression bomb"), "{e}");
        assert!(out.len() <= 4096);
        // Under the limit, everything comes through.
        let mut r = Bounded::new(flate2::read::MultiGzDecoder::new(&gz[..]), 10_000);
        let mut out = Vec::new();
        r.read_to_end(&mut out).expect("fits");
        assert_eq!(out, zeros);
    }

    #[test]
    fn long_lines_are_measured_not_held() {
        let input = format!("short\n{}\nlast", "x".repeat(100_000));
        // A small buffer, so that the long line spans many reads.
        let mut r = BufReader::with_capacity(64, input.as_bytes());
        let mut buf = Vec::new();
        assert_eq!(
            read_line_bounded(&mut r, &mut buf, 1000).expect("read"),
            (6, false)
        );
        assert_eq!(buf, b"short\n");
        buf.clear();
        assert_eq!(
            read_line_bounded(&mut r, &mut buf, 1000).expect("read"),
            (100_001, true)
        );
        assert_eq!(buf.len(), 1000);
        buf.clear();
        assert_eq!(
            read_line_bounded(&mut r, &mut buf, 1000).expect("read"),
            (4, false)
        );
        assert_eq!(buf, b"last");
        buf.clear();
        assert_eq!(
            read_line_bounded(&mut r, &mut buf, 1000).expect("read"),
            (0, false)
        );
    }
}
