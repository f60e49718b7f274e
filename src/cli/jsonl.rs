//! `mend clean --format jsonl`: streams JSON-lines files (plain, `.gz`,
//! `.zst`), cleaning records in parallel batches with ordered output.
//! Memory is bounded by the batches under way (at most [`IN_FLIGHT_BYTES`]
//! of input, two batches per worker on more than two, plus as much as the
//! longest record under way, up to 32 MB) and the records being cleaned,
//! not by the file. Batches that finish while an earlier one (a long
//! record) is still being cleaned and that window is full wait in a
//! nameless temp file ([`Reorder`]), so the other workers go on.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::channel;
use std::sync::{Condvar, Mutex};

use mend::Pipeline;

use crate::state::ShardState;
use crate::write::AtomicFile;
use mend::jsonl::{self, NotesMode, Options};

use crate::{Failure, Totals};

/// Records per batch, and bytes per batch: whichever comes first (the
/// first batches of an input are smaller: [`batch_target`]).
const BATCH_RECORDS: usize = 4096;
const BATCH_BYTES: usize = 2 << 20;

/// The bytes of the first batches of an input ([`batch_target`]).
const FIRST_BATCH_BYTES: usize = 64 << 10;

/// The bytes a batch of an input takes, at least (unless the input ends
/// first, or [`BATCH_RECORDS`] come first), for the batch numbered `index`
/// (from 0) with `workers` threads cleaning: [`FIRST_BATCH_BYTES`] for the
/// first batch of each worker, twice that for the second, and so on up to
/// [`BATCH_BYTES`].
///
/// A batch is cleaned by one worker ([`clean_batch`]), so an input of a few
/// full batches would keep only a few workers busy: a 1.5 MB input was one
/// batch, cleaned by one thread on any number of cores (measured on two:
/// 32.2 ms with one thread, 32.3 with two; now 24.0 with two, medians of
/// 15 runs). With the
/// small batches first, an input of a megabyte or so is spread over every
/// worker, and so is the start of any input, which the workers no longer
/// wait two full batches for; past the first 2 MB or so per worker, batches
/// are full and the cost per batch stays where it was.
fn batch_target(index: usize, workers: usize) -> usize {
    const DOUBLINGS: usize = (BATCH_BYTES / FIRST_BATCH_BYTES).ilog2() as usize;
    let round = index / workers.max(1);
    FIRST_BATCH_BYTES << round.min(DOUBLINGS)
}

/// One record's output lines: the record, its notes, its attributes.
type Lines = (jsonl::Record, Option<String>, Option<String>);

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

    /// Where lines go: `None` once finished.
    fn writer(&mut self) -> Option<&mut dyn Write> {
        Some(match self.inner.as_mut()? {
            Enc::Stdout(w) => w,
            Enc::Plain(w) => w,
            Enc::Gz(w) => w,
            Enc::Zst(w) => w,
        })
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let Some(w) = self.writer() else {
            return Ok(());
        };
        w.write_all(line)?;
        w.write_all(b"\n")
    }

    /// Writes a record's line, built in `buf` ([`jsonl::Record::write_line`]).
    fn write_record(&mut self, record: &jsonl::Record, buf: &mut Vec<u8>) -> io::Result<()> {
        match self.writer() {
            Some(w) => record.write_line(w, buf),
            None => Ok(()),
        }
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
/// at most (four full batches), besides [`long_record_slack`], on up to two
/// workers ([`short_room`]); a batch of more is long.
const IN_FLIGHT_BYTES: usize = 4 * BATCH_BYTES;

/// Whether a batch (or a line) of `bytes` is long: more than
/// [`IN_FLIGHT_BYTES`], so a batch of its own, counted against
/// [`LONGS_TOGETHER`].
fn is_long(bytes: usize) -> bool {
    bytes > IN_FLIGHT_BYTES
}

/// Bytes of input in the batches under way, at most, besides
/// [`long_record_slack`], with `workers` threads cleaning: two full batches
/// per worker, at least [`IN_FLIGHT_BYTES`]. A batch is cleaned by one
/// worker ([`clean_batch`]), so the pool needs at least one per worker
/// under way, and one more each to go on with while the writer catches up.
fn short_room(workers: usize) -> usize {
    (2 * workers * BATCH_BYTES).max(IN_FLIGHT_BYTES)
}

/// More input allowed in flight beside a batch of `largest` bytes: as much
/// again, up to 32 MB, so that the window counts the long record itself
/// and still lets [`IN_FLIGHT_BYTES`] of short ones in. A long record takes
/// one worker for as long as each other worker takes to clean about as
/// many bytes of short ones; holding those in memory (measured: a 20 MB
/// record, two workers) took peak memory past the target of issue 6, so
/// the batches that finish behind it are spilled instead ([`Reorder`]).
/// The cap keeps a huge record from letting as much again into memory.
fn long_record_slack(largest: usize) -> usize {
    largest.min(32 << 20)
}

/// The input bytes of long batches (each over [`IN_FLIGHT_BYTES`]) that may
/// be cleaned at the same time; a long batch alone may be of any size. A
/// document at its peak takes about three times its size, so two or more
/// long batches together take at most about 96 MB more than the largest
/// alone: within the 100 MB that issue 6's memory target (100 MB plus three
/// times the largest document) allows besides it. Letting the next long
/// record start beside the one under way, rather than after it, is what
/// keeps a second worker from idling behind a chain of long records (the
/// bench corpus's long records of 10, 12 and 20 MB come one after another:
/// 0.90 → 0.80 s, medians of seven alternating runs, before batches were
/// cleaned one per worker; see [`clean_batch`]).
const LONGS_TOGETHER: usize = 32 << 20;

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

/// The outputs of one stream, and where its bad records are reported.
struct Sinks<'a> {
    out: Sink,
    out_name: PathBuf,
    notes: Option<Sink>,
    attrs: Option<Sink>,
    rejects: Option<Sink>,
    name: &'a Path,
    bad: &'a AtomicUsize,
    report: &'a (dyn Fn(&Failure) + Sync),
    /// Where each record's line is built on its way to `out`.
    buf: Vec<u8>,
}

impl Sinks<'_> {
    /// Writes a good record's lines (its record line already written if
    /// `record` is `None`).
    fn good(
        &mut self,
        record: Option<&[u8]>,
        note: Option<&[u8]>,
        attr: Option<&[u8]>,
    ) -> Result<(), Failure> {
        if let Some(record) = record {
            self.out
                .write_line(record)
                .map_err(|e| Failure::new(&self.out_name, e))?;
        }
        if let (Some(s), Some(l)) = (self.notes.as_mut(), note) {
            s.write_line(l)
                .map_err(|e| Failure::new(Path::new("notes"), e))?;
        }
        if let (Some(s), Some(l)) = (self.attrs.as_mut(), attr) {
            s.write_line(l)
                .map_err(|e| Failure::new(Path::new("attributes"), e))?;
        }
        Ok(())
    }

    /// Reports a bad record (input line `n`) and copies it to the rejects.
    fn bad(&mut self, n: usize, msg: String, line: &[u8]) -> Result<(), Failure> {
        self.bad.fetch_add(1, Ordering::Relaxed);
        (self.report)(&Failure {
            path: format!("{}:{n}", self.name.display()),
            message: msg,
        });
        if let Some(s) = self.rejects.as_mut() {
            s.write_line(line)
                .map_err(|e| Failure::new(Path::new("rejects"), e))?;
        }
        Ok(())
    }

    /// Writes a cleaned batch.
    fn done(&mut self, done: Done) -> Result<(), Failure> {
        for (n, r) in done.results {
            match r {
                Ok((record, note, attr)) => {
                    self.out
                        .write_record(&record, &mut self.buf)
                        .map_err(|e| Failure::new(&self.out_name, e))?;
                    self.good(
                        None,
                        note.as_deref().map(str::as_bytes),
                        attr.as_deref().map(str::as_bytes),
                    )?;
                }
                Err((msg, line)) => self.bad(n, msg, &line)?,
            }
        }
        Ok(())
    }
}

/// Live spilled bytes at most: past this, finished batches wait in memory
/// (and reading waits) as they would without a spill file.
const SPILL_MAX: u64 = 1 << 30;

/// Length of an absent notes or attributes line in a spilled batch.
const ABSENT: usize = usize::MAX;

/// A spilled record: the lengths of its lines, or (bad) its message and
/// the length of its input line.
type SpilledRecord = Result<[usize; 3], (String, usize)>;

/// A batch written to the spill file: where, and how to cut it again.
struct Spilled {
    at: u64,
    len: usize,
    /// Per record: its line number, and the lengths of its record, notes
    /// and attributes lines ([`ABSENT`] when there is none); for a bad
    /// record, the message (and the length of its input line).
    records: Vec<(usize, SpilledRecord)>,
    records_in: usize,
    bytes: usize,
}

/// A finished batch waiting for an earlier one.
enum Slot {
    Ready(Done),
    Spilled(Spilled),
}

/// Puts cleaned batches back in input order. A batch that finishes while
/// an earlier one is still being cleaned waits here: in memory, or, when
/// the caller says memory is short (the window of input under way is full,
/// typically behind one long record), in a temp file, so that reading and
/// the other workers go on. Without it, a 20 MB record left one of two
/// workers idle for most of the time it took (issue 6). The file is
/// nameless (gone however the run ends), reused from its start once
/// nothing in it waits, and holds at most `max` bytes; if it cannot be
/// made or written, batches wait in memory as before.
struct Reorder {
    /// The index of the next batch to write.
    next: usize,
    waiting: BTreeMap<usize, Slot>,
    dir: PathBuf,
    file: Option<File>,
    /// Bytes in the file; spilling stops for good after an error.
    end: u64,
    max: u64,
    broken: bool,
    /// The most bytes the file held at once (for tests and reports).
    peak: u64,
    /// The bytes of the batch being spilled or read back.
    scratch: Vec<u8>,
}

impl Reorder {
    fn new(dir: PathBuf, max: u64) -> Reorder {
        Reorder {
            next: 0,
            waiting: BTreeMap::new(),
            dir,
            file: None,
            end: 0,
            max,
            broken: false,
            peak: 0,
            scratch: Vec::new(),
        }
    }

    /// Takes batch `index`: writes it, and every batch waiting behind it,
    /// when it is the next; otherwise keeps it, spilled if `spill` (and the
    /// file takes it). Returns whether the batch left memory (written or
    /// spilled).
    fn add(
        &mut self,
        index: usize,
        done: Done,
        spill: bool,
        sinks: &mut Sinks<'_>,
        on_batch: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<bool, Failure> {
        if index != self.next {
            let slot = if spill {
                self.spill(done)
            } else {
                Slot::Ready(done)
            };
            let spilled = matches!(slot, Slot::Spilled(_));
            self.waiting.insert(index, slot);
            return Ok(spilled);
        }
        let (records, bytes) = (done.results.len(), done.bytes);
        sinks.done(done)?;
        on_batch(records, bytes);
        self.next += 1;
        while let Some(slot) = self.waiting.remove(&self.next) {
            match slot {
                Slot::Ready(done) => {
                    let (records, bytes) = (done.results.len(), done.bytes);
                    sinks.done(done)?;
                    on_batch(records, bytes);
                }
                Slot::Spilled(s) => {
                    self.unspill(&s, sinks)?;
                    on_batch(s.records_in, s.bytes);
                }
            }
            self.next += 1;
        }
        if self.end > 0 && !self.waiting.values().any(|s| matches!(s, Slot::Spilled(_))) {
            // Nothing in the file waits: start it again from the beginning.
            if let Some(f) = &self.file {
                self.broken |= f.set_len(0).is_err();
            }
            self.end = 0;
        }
        Ok(true)
    }

    /// Writes `done` to the spill file; keeps it in memory if it cannot.
    fn spill(&mut self, done: Done) -> Slot {
        if self.broken {
            return Slot::Ready(done);
        }
        // One buffer for every batch spilled or read back: its pages are
        // faulted in once, not once per batch.
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let mut records = Vec::with_capacity(done.results.len());
        for (n, r) in &done.results {
            match r {
                Ok((record, note, attr)) => {
                    let mut lens = [ABSENT; 3];
                    let start = buf.len();
                    record.push_to(&mut buf);
                    lens[0] = buf.len() - start;
                    for (len, s) in lens[1..].iter_mut().zip([note, attr]) {
                        if let Some(s) = s {
                            buf.extend_from_slice(s.as_bytes());
                            *len = s.len();
                        }
                    }
                    records.push((*n, Ok(lens)));
                }
                Err((msg, line)) => {
                    buf.extend_from_slice(line);
                    records.push((*n, Err((msg.clone(), line.len()))));
                }
            }
        }
        let len = buf.len();
        let written = self.end + len as u64 <= self.max && self.write_at_end(&buf).is_ok();
        self.scratch = buf;
        if !written {
            return Slot::Ready(done);
        }
        let s = Spilled {
            at: self.end,
            len,
            records,
            records_in: done.results.len(),
            bytes: done.bytes,
        };
        self.end += len as u64;
        self.peak = self.peak.max(self.end);
        Slot::Spilled(s)
    }

    fn write_at_end(&mut self, buf: &[u8]) -> io::Result<()> {
        let result = (|| {
            if self.file.is_none() {
                self.file = Some(tempfile::tempfile_in(&self.dir)?);
            }
            let f = self
                .file
                .as_mut()
                .ok_or_else(|| io::Error::other("no spill file"))?;
            f.seek(SeekFrom::Start(self.end))?;
            f.write_all(buf)
        })();
        // A file that failed once (a full disk) is not tried again.
        self.broken |= result.is_err();
        result
    }

    /// Reads a spilled batch back and writes it.
    fn unspill(&mut self, s: &Spilled, sinks: &mut Sinks<'_>) -> Result<(), Failure> {
        let lost = |e: io::Error| {
            Failure::new(
                sinks.name,
                format!("reading back finished records from a temp file: {e}"),
            )
        };
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| lost(io::Error::other("no spill file")))?;
        let mut buf = std::mem::take(&mut self.scratch);
        buf.resize(s.len, 0);
        f.seek(SeekFrom::Start(s.at)).map_err(lost)?;
        f.read_exact(&mut buf).map_err(lost)?;
        let mut rest = &buf[..];
        let mut take = |len: usize| -> Option<&[u8]> {
            if len == ABSENT {
                return None;
            }
            let (head, tail) = rest.split_at(len.min(rest.len()));
            rest = tail;
            Some(head)
        };
        for (n, r) in &s.records {
            match r {
                Ok([record, note, attr]) => {
                    let record = take(*record).unwrap_or_default();
                    let (note, attr) = (take(*note), take(*attr));
                    sinks.good(Some(record), note, attr)?;
                }
                Err((msg, len)) => {
                    let line = take(*len).unwrap_or_default();
                    sinks.bad(*n, msg.clone(), line)?;
                }
            }
        }
        self.scratch = buf;
        Ok(())
    }
}

/// What the reading thread and the writer thread share: the input bytes
/// of each batch read and not yet written or spilled, which long batches
/// are under way, and whether reading is over or writing failed.
struct Window {
    state: Mutex<WindowState>,
    changed: Condvar,
}

struct WindowState {
    held: BTreeMap<usize, usize>,
    /// The long batches started and not yet out of memory (written or
    /// spilled), not only until they are cleaned: their output is as large.
    longs: Vec<usize>,
    /// [`short_room`].
    room: usize,
    at_end: bool,
    failed: bool,
}

impl WindowState {
    /// Whether a long batch of `bytes` may start now: alone, or beside the
    /// long batches under way if together they come to at most
    /// [`LONGS_TOGETHER`].
    fn long_may_start(&self, bytes: usize) -> bool {
        let under_way: usize = self.longs.iter().filter_map(|i| self.held.get(i)).sum();
        self.longs.is_empty() || under_way + bytes <= LONGS_TOGETHER
    }

    /// Whether the batches held fill the window.
    fn full(&self) -> bool {
        let largest = self.held.values().copied().max().unwrap_or(0);
        self.held.values().sum::<usize>() >= self.room + long_record_slack(largest)
    }
}

type Guard<'a> = std::sync::MutexGuard<'a, WindowState>;

impl Window {
    /// The window for `workers` cleaning threads ([`short_room`]).
    fn new(workers: usize) -> Window {
        Window {
            state: Mutex::new(WindowState {
                held: BTreeMap::new(),
                longs: Vec::new(),
                room: short_room(workers),
                at_end: false,
                failed: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> Guard<'_> {
        // A panic while the lock was held leaves plain numbers: go on.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits while `wait` holds (and writing has not failed).
    fn wait_while<'a>(
        &'a self,
        mut state: Guard<'a>,
        wait: impl Fn(&WindowState) -> bool,
    ) -> Guard<'a> {
        while wait(&state) && !state.failed {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        state
    }

    /// Waits until a batch may be read; false if writing failed.
    fn wait_for_room(&self) -> bool {
        !self.wait_while(self.lock(), WindowState::full).failed
    }

    /// Counts batch `index` of `bytes` in, and waits, if it is `long`, until
    /// it may start beside the long batches under way
    /// ([`WindowState::long_may_start`]). False if writing failed.
    fn start(&self, index: usize, bytes: usize, long: bool) -> bool {
        let mut state = self.lock();
        if long {
            state = self.wait_while(state, |s| !s.long_may_start(bytes));
            state.longs.push(index);
        }
        state.held.insert(index, bytes);
        !state.failed
    }

    /// Whether a long batch of `bytes` would have to wait to start.
    fn long_must_wait(&self, bytes: usize) -> bool {
        !self.lock().long_may_start(bytes)
    }

    /// Waits until a long batch of `bytes` may start; false if writing failed.
    fn wait_long_room(&self, bytes: usize) -> bool {
        !self
            .wait_while(self.lock(), |s| !s.long_may_start(bytes))
            .failed
    }

    /// Reading is over: nothing is spilled any more (it would gain nothing).
    fn end(&self) {
        self.lock().at_end = true;
    }

    /// Whether a batch that finished before an earlier one should be spilled.
    fn spill(&self) -> bool {
        let state = self.lock();
        !state.at_end && state.full()
    }

    /// Batch `index` left memory (if `left`), and every batch before
    /// `next` is written.
    fn release(&self, index: usize, left: bool, next: usize) {
        let mut state = self.lock();
        if left {
            state.held.remove(&index);
        }
        state.held.retain(|i, _| *i >= next);
        let WindowState { held, longs, .. } = &mut *state;
        longs.retain(|l| held.contains_key(l));
        drop(state);
        self.changed.notify_all();
    }

    /// Writing failed: reading stops.
    fn fail(&self) {
        self.lock().failed = true;
        self.changed.notify_all();
    }
}

/// A batch read while it must wait: on disk, or in memory if the temp
/// file could not be written.
enum Parked {
    Disk {
        file: File,
        lines: Vec<(usize, usize)>,
        bytes: usize,
    },
    Memory(Batch),
}

impl Parked {
    /// The input bytes of the batch.
    fn bytes(&self) -> usize {
        match self {
            Parked::Disk { bytes, .. } => *bytes,
            Parked::Memory(batch) => batch.bytes,
        }
    }
}

/// Puts a long batch that must wait for the long ones before it into a
/// nameless temp file in `dir`: while they are cleaned (at their peak, a
/// few times their size) and written, this one is not held in memory too.
fn park(batch: Batch, dir: &Path) -> Parked {
    let written = (|| -> io::Result<(File, Vec<(usize, usize)>)> {
        let mut file = BufWriter::new(tempfile::tempfile_in(dir)?);
        let mut lines = Vec::with_capacity(batch.lines.len());
        for (n, line) in &batch.lines {
            file.write_all(line)?;
            lines.push((*n, line.len()));
        }
        let mut file = file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        Ok((file, lines))
    })();
    match written {
        Ok((file, lines)) => Parked::Disk {
            file,
            lines,
            bytes: batch.bytes,
        },
        Err(_) => Parked::Memory(batch),
    }
}

/// The batch [`park`] put away.
fn unpark(parked: Parked) -> io::Result<Batch> {
    match parked {
        Parked::Memory(batch) => Ok(batch),
        Parked::Disk {
            mut file,
            lines,
            bytes,
        } => {
            let mut batch = Batch {
                lines: Vec::with_capacity(lines.len()),
                bytes,
            };
            for (n, len) in lines {
                let mut line = vec![0; len];
                file.read_exact(&mut line)?;
                batch.lines.push((n, line));
            }
            Ok(batch)
        }
    }
}

/// The writer thread: takes cleaned batches as they come, writes them in
/// input order (or spills them, see [`Reorder`]), and tells the reading
/// thread what memory left. Returns the sinks, to be finished.
fn write_in_order<'a>(
    batches: std::sync::mpsc::Receiver<(usize, Option<Done>)>,
    window: &Window,
    mut order: Reorder,
    mut sinks: Sinks<'a>,
    on_batch: &(dyn Fn(usize, usize) + Sync),
) -> Result<Sinks<'a>, Failure> {
    let lost = |sinks: &Sinks<'_>| {
        Failure::new(sinks.name, "a batch of records was lost (a worker failed)")
    };
    let result = (|| {
        for (index, done) in batches {
            let done = done.ok_or_else(|| lost(&sinks))?;
            let spill = index != order.next && window.spill();
            let left = order.add(index, done, spill, &mut sinks, on_batch)?;
            window.release(index, left, order.next);
        }
        if order.waiting.is_empty() {
            Ok(())
        } else {
            Err(lost(&sinks))
        }
    })();
    match result {
        Ok(()) => Ok(sinks),
        Err(f) => {
            window.fail();
            Err(f)
        }
    }
}

/// Reads lines of input into batches.
struct BatchReader<'a> {
    reader: &'a mut dyn BufRead,
    name: &'a Path,
    line_no: usize,
    /// Longer lines are reported and read past.
    max: usize,
    /// A long line read after the batch before it had begun: it starts the
    /// next batch (its line number, bytes, and the bytes it took in the input).
    next: Option<(usize, Vec<u8>, usize)>,
    /// Threads cleaning the batches, and batches read so far: the size of
    /// the next one ([`batch_target`]).
    workers: usize,
    batches: usize,
}

impl BatchReader<'_> {
    /// Reads the next batch of non-blank lines (raw bytes: a line need not
    /// be UTF-8); empty at the end of the input. A line longer than `max` is
    /// reported, counted as bad, and read past without being held. A long
    /// line (over [`IN_FLIGHT_BYTES`]) is a batch of its own: the window
    /// then counts the long record alone ([`LONGS_TOGETHER`]), and the short
    /// records before it are written without waiting for it to be cleaned.
    fn read_batch(
        &mut self,
        bad: &AtomicUsize,
        report: &(dyn Fn(&Failure) + Sync),
    ) -> Result<Batch, Failure> {
        let mut batch = Batch {
            lines: Vec::new(),
            bytes: 0,
        };
        if let Some((n, line, taken)) = self.next.take() {
            batch.bytes = taken;
            batch.lines.push((n, line));
        }
        let target = batch_target(self.batches, self.workers);
        self.batches += 1;
        while batch.lines.len() < BATCH_RECORDS && batch.bytes < target {
            let mut buf = Vec::new();
            let (n, too_long) = read_line_bounded(self.reader, &mut buf, self.max)
                .map_err(|e| Failure::new(self.name, e))?;
            if n == 0 {
                break;
            }
            self.line_no += 1;
            let line_no = self.line_no;
            if too_long {
                bad.fetch_add(1, Ordering::Relaxed);
                report(&Failure {
                    path: format!("{}:{line_no}", self.name.display()),
                    message: format!(
                        "record of {n} bytes, longer than --max-record {}; skipped",
                        self.max
                    ),
                });
                continue;
            }
            while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                buf.pop();
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if is_long(n) && !batch.lines.is_empty() {
                self.next = Some((line_no, buf, n));
                break;
            }
            batch.bytes += n;
            batch.lines.push((line_no, buf));
        }
        Ok(batch)
    }
}

/// Cleans the records of a batch, one after another: batches run in
/// parallel, each on one worker. (Records cleaned in parallel within a
/// batch meant rayon joins, and a worker waiting in a join runs whatever
/// job it can take meanwhile, a long record's batch too: every batch behind
/// the one it was joining then waited for the long record. Traced on the
/// bench corpus, the five batches read after a 12 MB record's came back
/// after it, 230 ms late, while a worker sat idle.) Each record's `Cleaned`
/// is counted and dropped here, and its input line once it is parsed: only
/// the output lines (or, for a bad record, its line, for the rejects file)
/// wait for their turn.
fn clean_batch(pipeline: &Pipeline, batch: Batch, opts: &Options, totals: &Totals) -> Done {
    let results = batch
        .lines
        .into_iter()
        .map(|(n, line)| {
            // SIMD check first (std's was 3.6% of a run); std's only to
            // say where a bad line goes wrong.
            let parsed = match simdutf8::basic::from_utf8(&line) {
                Ok(s) => jsonl::parse(s, opts).map_err(|e| e.to_string()),
                Err(_) => Err(not_utf8(&line)),
            };
            match parsed {
                Ok(parsed) => {
                    // The line is not needed once read: a large record is
                    // not held twice while it is cleaned.
                    drop(line);
                    let o = jsonl::clean_unwritten(pipeline, parsed, opts);
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

/// Why a line that is not UTF-8 is rejected: where its first bad byte is.
fn not_utf8(line: &[u8]) -> String {
    let at = std::str::from_utf8(line).map_or_else(|e| e.valid_up_to(), str::len);
    format!("not UTF-8 at byte {at}")
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
    let out = Sink::open(targets.out.as_deref()).map_err(|e| fail(&out_name, e))?;
    let notes_path = targets.notes.as_deref();
    let notes = open_opt(notes_path).map_err(|e| fail(notes_path.unwrap_or(Path::new("")), e))?;
    let attr_path = targets.attributes.as_deref();
    let attrs = open_opt(attr_path).map_err(|e| fail(attr_path.unwrap_or(Path::new("")), e))?;
    let rej_path = targets.rejects.as_deref();
    let rejects = open_opt(rej_path).map_err(|e| fail(rej_path.unwrap_or(Path::new("")), e))?;
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
    let mut lines = BatchReader {
        reader: &mut *reader,
        name: &name,
        line_no: 0,
        max: targets.max_record,
        next: None,
        workers: rayon::current_num_threads(),
        batches: 0,
    };
    let sinks = Sinks {
        out,
        out_name,
        notes,
        attrs,
        rejects,
        name: &name,
        bad: &bad,
        report,
        buf: Vec::new(),
    };
    // Spilled batches go beside the output (same file system), or to the
    // temp folder when the output is stdout.
    let spill_dir = targets
        .out
        .as_deref()
        .and_then(Path::parent)
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .map_or_else(std::env::temp_dir, Path::to_path_buf);
    let order = Reorder::new(spill_dir.clone(), SPILL_MAX);
    // Batches are cleaned on the thread pool while this thread reads the
    // next ones and a writer thread writes the finished ones, in input
    // order: reading, cleaning and writing overlap, and a long record holds
    // up one worker, not the whole pool. At most `IN_FLIGHT_BYTES` of input
    // (and the slack a long record allows) are held at once; batches that
    // finish behind an unfinished one while that window is full are
    // spilled to a temp file (see `Reorder`), so that the other workers go
    // on, and a long record starts beside the long ones under way only
    // while they come to at most `LONGS_TOGETHER` (else it waits on disk).
    let window = Window::new(rayon::current_num_threads());
    let sinks = rayon::in_place_scope(|scope| {
        std::thread::scope(|threads| -> Result<Sinks<'_>, Failure> {
            // Each batch's index, and its records (none if its worker panicked).
            let (tx, rx) = channel::<(usize, Option<Done>)>();
            let writer = threads.spawn(|| write_in_order(rx, &window, order, sinks, on_batch));
            let read = (|| -> Result<(), Failure> {
                let mut index = 0usize;
                loop {
                    if !window.wait_for_room() {
                        return Ok(()); // the writer failed: its error is the one reported
                    }
                    let batch = lines.read_batch(&bad, report)?;
                    if batch.lines.is_empty() {
                        window.end();
                        return Ok(());
                    }
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
                    let long = is_long(batch.bytes);
                    // A long batch that must wait for the one before waits
                    // on disk, not in memory (see `park`).
                    let batch = if long && window.long_must_wait(batch.bytes) {
                        let parked = park(batch, &spill_dir);
                        if !window.wait_long_room(parked.bytes()) {
                            return Ok(());
                        }
                        unpark(parked).map_err(|e| {
                            Failure::new(
                                &name,
                                format!("reading back a record from a temp file: {e}"),
                            )
                        })?
                    } else {
                        batch
                    };
                    if !window.start(index, batch.bytes, long) {
                        return Ok(());
                    }
                    let (tx, opts) = (tx.clone(), &opts);
                    scope.spawn(move |_| {
                        let done = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            clean_batch(pipeline, batch, opts, totals)
                        }));
                        // The receiver is gone only when writing failed.
                        let _ = tx.send((index, done.ok()));
                    });
                    index += 1;
                }
            })();
            // The writer ends once every batch under way has come back.
            drop(tx);
            let written = writer
                .join()
                .unwrap_or_else(|_| Err(Failure::new(&name, "the writer thread failed")));
            read?;
            written
        })
    })?;
    let Sinks {
        out,
        out_name,
        notes,
        attrs,
        rejects,
        ..
    } = sinks;
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
    fn a_line_that_is_not_utf8_is_placed_at_its_first_bad_byte() {
        let opts = Options::default();
        let pipeline = Pipeline::new(Default::default());
        let totals = Totals::default();
        let lines = vec![
            (0, b"{\"text\":\"caf\xC3\xA9 \xE9t\xE9\"}".to_vec()),
            (1, "{\"text\":\"café été\"}".as_bytes().to_vec()),
        ];
        let bytes = lines.iter().map(|l| l.1.len()).sum();
        let done = clean_batch(&pipeline, Batch { lines, bytes }, &opts, &totals);
        let mut results = done.results;
        results.sort_by_key(|r| r.0);
        match &results[0].1 {
            // `{"text":"café ` is 15 bytes; the lone 0xE9 follows.
            Err((msg, _)) => assert_eq!(msg, "not UTF-8 at byte 15"),
            Ok(_) => panic!("a line with a lone 0xE9 was taken as UTF-8"),
        }
        // Negative: the same text in UTF-8 is cleaned.
        assert!(results[1].1.is_ok());
    }

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

    /// The record of a JSON line, cleaned by decode alone (so as it is).
    fn record(line: &str) -> jsonl::Record {
        let config = mend::Config {
            stages: [mend::Stage::Decode].into_iter().collect(),
            ..crate::Config::default()
        };
        let opts = jsonl::Options::default();
        let parsed = jsonl::parse(line, &opts).expect("parses");
        jsonl::clean_unwritten(&Pipeline::new(config), parsed, &opts).record
    }

    /// Cleaned batches `0..count`: records of varied shape (with and
    /// without notes and attributes, empty, non-ASCII) and a bad one.
    fn batches(count: usize) -> Vec<Done> {
        (0..count)
            .map(|b| Done {
                results: (0..=b % 4)
                    .map(|r| {
                        let n = b * 10 + r;
                        let lines = match r {
                            0 => Ok((
                                record(&format!("{{\"id\":{n},\"text\":\"\"}}")),
                                Some(format!("n{n}")),
                                None,
                            )),
                            1 => Ok((
                                record(&format!("{{\"text\":\"«Путин» {n}\"}}")),
                                None,
                                Some(format!("a{n}")),
                            )),
                            2 => Err((format!("bad {n}"), format!("raw line {n}").into_bytes())),
                            _ => Ok((
                                record(r#"{"text":""}"#),
                                Some(String::new()),
                                Some("x".repeat(n)),
                            )),
                        };
                        (n, lines)
                    })
                    .collect(),
                bytes: 100 + b,
            })
            .collect()
    }

    /// Runs `batches(count)` through a [`Reorder`] in the order `arrival`,
    /// spilling those that `spill` picks, into `file` if given, else into
    /// files in `spill_dir` or a new folder; returns (output, notes,
    /// attributes, rejects, bad reports, written (records, bytes) per
    /// batch, peak spill bytes, spill bytes left, whether spilling broke
    /// (a write to the file failed)).
    fn reorder(
        count: usize,
        arrival: &[usize],
        spill: impl Fn(usize) -> bool,
        spill_dir: Option<&Path>,
        max: u64,
        file: Option<File>,
    ) -> (Vec<String>, Vec<(usize, usize)>, u64, u64, bool) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |s: &str| dir.path().join(s);
        let bad = AtomicUsize::new(0);
        let reports = std::sync::Mutex::new(Vec::new());
        let report = |f: &Failure| {
            if let Ok(mut r) = reports.lock() {
                r.push(format!("{}: {}", f.path, f.message));
            }
        };
        let written = std::sync::Mutex::new(Vec::new());
        let on_batch = |records: usize, bytes: usize| {
            if let Ok(mut w) = written.lock() {
                w.push((records, bytes));
            }
        };
        let open = |s: &str| Sink::open(Some(&path(s))).expect("sink");
        let mut sinks = Sinks {
            out: open("out"),
            out_name: path("out"),
            notes: Some(open("notes")),
            attrs: Some(open("attrs")),
            rejects: Some(open("rejects")),
            name: Path::new("in.jsonl"),
            bad: &bad,
            report: &report,
            buf: Vec::new(),
        };
        let mut order = Reorder::new(spill_dir.unwrap_or(dir.path()).to_path_buf(), max);
        order.file = file;
        let mut all: Vec<Option<Done>> = batches(count).into_iter().map(Some).collect();
        for &i in arrival {
            let done = all[i].take().expect("each batch arrives once");
            let was_next = i == order.next;
            let waiting = order.waiting.len();
            match order.add(i, done, spill(i), &mut sinks, &on_batch) {
                // Written, or spilled: nothing more waits in memory.
                Ok(true) => {
                    assert!(was_next || matches!(order.waiting.get(&i), Some(Slot::Spilled(_))))
                }
                // Kept in memory.
                Ok(false) => {
                    assert!(!was_next && matches!(order.waiting.get(&i), Some(Slot::Ready(_))));
                    assert_eq!(order.waiting.len(), waiting + 1);
                }
                Err(f) => panic!("{}: {}", f.path, f.message),
            }
        }
        assert_eq!(order.next, count, "every batch written");
        let Sinks {
            out,
            notes,
            attrs,
            rejects,
            ..
        } = sinks;
        for s in [Some(out), notes, attrs, rejects].into_iter().flatten() {
            s.finish().expect("finish");
        }
        let mut texts: Vec<String> = ["out", "notes", "attrs", "rejects"]
            .iter()
            .map(|s| std::fs::read_to_string(path(s)).expect("read"))
            .collect();
        texts.push(reports.into_inner().unwrap_or_default().join("\n"));
        assert_eq!(
            bad.load(Ordering::Relaxed),
            (0..count).filter(|b| b % 4 >= 2).count()
        );
        (
            texts,
            written.into_inner().unwrap_or_default(),
            order.peak,
            order.end,
            order.broken,
        )
    }

    /// What `count` batches written in order give, and the arrival order
    /// with the first batch last (a long record).
    fn in_order_and_late_first(count: usize) -> (Vec<String>, Vec<usize>) {
        let in_order: Vec<usize> = (0..count).collect();
        let want = reorder(count, &in_order, |_| false, None, 0, None).0;
        (want, (1..count).chain([0]).collect())
    }

    /// A disk that fills up in the middle of a spill: the spill file (a
    /// memfd sealed against growing, so writes past its size fail as on a
    /// full disk) takes the first batches, then refuses one. That batch
    /// and every later one wait in memory; those already spilled come back
    /// from the file; the output is what in-order writing gives.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_spill_file_that_fills_up_midway_loses_nothing() {
        use rustix::fs::{MemfdFlags, SealFlags};
        let count = 12;
        let (want, late_first) = in_order_and_late_first(count);
        // Everything behind batch 0, spilled with room: how many bytes.
        let (_, _, all, _, _) = reorder(count, &late_first, |_| true, None, SPILL_MAX, None);
        for room in [1, all / 3, all / 2, all - 1] {
            let fd = rustix::fs::memfd_create("mend-spill-test", MemfdFlags::ALLOW_SEALING)
                .expect("memfd");
            let file = File::from(fd);
            file.set_len(room).expect("size");
            rustix::fs::fcntl_add_seals(&file, SealFlags::GROW).expect("seal");
            let (got, _, peak, _, broken) =
                reorder(count, &late_first, |_| true, None, SPILL_MAX, Some(file));
            assert_eq!(got, want, "room {room}");
            assert!(broken, "room {room}: the file filled up");
            assert!(peak <= room, "room {room}: {peak} bytes spilled");
            if room > all / 4 {
                assert!(peak > 0, "room {room}: some batches were spilled first");
            }
        }
        // Negative: with room for everything, nothing breaks.
        let (got, _, peak, _, broken) =
            reorder(count, &late_first, |_| true, None, SPILL_MAX, None);
        assert_eq!((got, peak, broken), (want, all, false));
    }

    #[test]
    fn batches_are_written_in_order_from_memory_or_spill_file() {
        let count = 12;
        let in_order: Vec<usize> = (0..count).collect();
        let (want, want_batches, peak, _, _) =
            reorder(count, &in_order, |_| true, None, SPILL_MAX, None);
        // In order, nothing waits, so nothing is spilled.
        assert_eq!(peak, 0);
        assert!(want[0].contains("{\"text\":\"«Путин» 11\"}\n"));
        assert!(want[0].contains("{\"id\":10,\"text\":\"\"}\n{\"text\":\"«Путин» 11\"}\n"));
        assert!(want[3].contains("raw line 22\n"));
        assert!(want[4].contains("in.jsonl:22: bad 22"), "{}", want[4]);
        // The first batch last (a long record), then a few shuffles; every
        // other batch spilled, or all, or none.
        let late_first: Vec<usize> = (1..count).chain([0]).collect();
        let shuffled = [3, 1, 2, 0, 7, 5, 6, 4, 11, 9, 10, 8];
        for arrival in [&late_first[..], &shuffled, &in_order] {
            for pick in [|i: usize| i % 2 == 1, |_| true, |_| false] {
                let (got, got_batches, _, left, _) =
                    reorder(count, arrival, pick, None, SPILL_MAX, None);
                assert_eq!(got, want, "arrival {arrival:?}");
                assert_eq!(got_batches, want_batches);
                assert_eq!(left, 0, "the spill file is emptied once read");
            }
        }
        let (_, _, peak, _, _) = reorder(count, &late_first, |_| true, None, SPILL_MAX, None);
        assert!(peak > 0, "batches behind the first were spilled");
    }

    #[test]
    fn without_room_or_a_folder_batches_wait_in_memory() {
        let count = 8;
        let (want, late_first) = in_order_and_late_first(count);
        // No room in the file: kept in memory, same output.
        let (got, _, peak, _, _) = reorder(count, &late_first, |_| true, None, 0, None);
        assert_eq!((got, peak), (want.clone(), 0));
        // A folder that is not there: the file cannot be made.
        let gone = Path::new("/nonexistent/mend-spill");
        let (got, _, peak, _, _) =
            reorder(count, &late_first, |_| true, Some(gone), SPILL_MAX, None);
        assert_eq!((got, peak), (want, 0));
    }

    /// The window the reading thread waits on: a second long batch that
    /// would take the long ones under way past [`LONGS_TOGETHER`] waits for
    /// the first to leave memory, a full window for a release, and a failed
    /// writer lets every waiter go.
    #[test]
    fn the_window_parks_a_second_long_batch_and_waits_for_room() {
        use std::sync::mpsc::RecvTimeoutError;
        use std::time::Duration;
        let w = Window::new(2);
        let long = LONGS_TOGETHER / 2 + 1;
        assert!(long > IN_FLIGHT_BYTES);
        assert!(w.wait_for_room());
        assert!(w.start(0, long, true));
        let wait = Duration::from_millis(100);
        let (tx, rx) = channel();
        std::thread::scope(|t| {
            t.spawn(|| {
                let tx = tx;
                // Parked until batch 0 is cleaned and written.
                let _ = tx.send(("started", w.start(1, long, true)));
            });
            assert_eq!(rx.recv_timeout(wait), Err(RecvTimeoutError::Timeout));
            w.release(0, true, 1);
            assert_eq!(
                rx.recv_timeout(Duration::from_secs(10)),
                Ok(("started", true))
            );
        });
        // Batch 1 (long) and 2 fill the window: reading waits for a release.
        assert!(w.start(2, IN_FLIGHT_BYTES, false));
        assert!(w.lock().full());
        let (tx, rx) = channel();
        std::thread::scope(|t| {
            t.spawn(|| {
                let tx = tx;
                let _ = tx.send(("room", w.wait_for_room()));
            });
            assert_eq!(rx.recv_timeout(wait), Err(RecvTimeoutError::Timeout));
            // Batch 1 spilled (it left memory though 0.. are not written).
            w.release(1, true, 1);
            assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(("room", true)));
        });
        // The long batch left memory: another long one starts at once.
        assert!(w.lock().longs.is_empty());
        assert!(!w.long_must_wait(long));
        // Spilling only while the window is full and reading goes on.
        assert!(!w.spill());
        assert!(w.start(3, IN_FLIGHT_BYTES * 2, false));
        assert!(w.spill());
        w.end();
        assert!(!w.spill());
        // A failed writer frees a waiting reader, which then stops.
        std::thread::scope(|t| {
            let waiter = t.spawn(|| w.wait_for_room());
            std::thread::sleep(Duration::from_millis(20));
            w.fail();
            assert_eq!(waiter.join().ok(), Some(false));
        });
        assert!(!w.start(4, 1, false));
    }

    /// Long batches start side by side while they come to at most
    /// [`LONGS_TOGETHER`], and one that would pass it waits until enough
    /// have left memory; a long batch alone starts whatever its size.
    #[test]
    fn long_batches_start_together_within_their_budget() {
        let w = Window::new(2);
        let (a, b) = (LONGS_TOGETHER / 3, LONGS_TOGETHER / 2);
        assert!(a > IN_FLIGHT_BYTES);
        assert!(w.start(0, a, true));
        assert!(!w.long_must_wait(b));
        assert!(w.start(1, b, true));
        // a + b + a is over the budget: a third waits...
        assert!(a + b + a > LONGS_TOGETHER);
        assert!(w.long_must_wait(a));
        // ...until batch 0 is written; batch 1 still counts.
        w.release(0, true, 1);
        assert!(!w.long_must_wait(a));
        assert!(w.long_must_wait(LONGS_TOGETHER - b + 1));
        // Short batches do not count, nor wait on long ones.
        assert!(w.start(2, IN_FLIGHT_BYTES, false));
        assert!(!w.long_must_wait(LONGS_TOGETHER - b));
        w.release(1, true, 3);
        // Alone, a long batch of any size may start.
        assert!(!w.long_must_wait(usize::MAX / 2));
        assert!(w.start(3, usize::MAX / 2, true));
        assert!(w.long_must_wait(IN_FLIGHT_BYTES + 1));
    }

    /// The first batch of each worker is the smallest; each round of one
    /// batch per worker doubles it, up to full batches.
    #[test]
    fn batches_start_small_and_double_per_round_of_workers() {
        for workers in [1, 2, 3, 8] {
            let sizes: Vec<usize> = (0..8 * workers).map(|i| batch_target(i, workers)).collect();
            for (i, &size) in sizes.iter().enumerate() {
                let round = i / workers;
                let want = if round >= 5 {
                    BATCH_BYTES
                } else {
                    FIRST_BATCH_BYTES * (1 << round)
                };
                assert_eq!(size, want, "batch {i} of {workers} workers");
            }
            assert_eq!(batch_target(usize::MAX, workers), BATCH_BYTES);
        }
        // No worker count makes a batch empty (none counts as one).
        assert_eq!(batch_target(1, 0), 2 * FIRST_BATCH_BYTES);
    }

    /// An input of a few hundred KB is cut into at least one batch per
    /// worker, each near its target, and every line comes out once, in order.
    #[test]
    fn a_small_input_is_cut_into_a_batch_per_worker() {
        let line = "z".repeat(1023);
        let input: String = (0..400).map(|_| format!("{line}\n")).collect();
        let mut reader = io::Cursor::new(input.into_bytes());
        let workers = 4;
        let mut lines = BatchReader {
            reader: &mut reader,
            name: Path::new("in.jsonl"),
            line_no: 0,
            max: IN_FLIGHT_BYTES,
            next: None,
            workers,
            batches: 0,
        };
        let bad = AtomicUsize::new(0);
        let report = |_: &Failure| {};
        let mut numbers = Vec::new();
        let mut sizes = Vec::new();
        loop {
            let batch = lines.read_batch(&bad, &report).unwrap();
            if batch.lines.is_empty() {
                break;
            }
            sizes.push(batch.bytes);
            numbers.extend(batch.lines.iter().map(|(n, _)| *n));
        }
        assert_eq!(numbers, (1..=400).collect::<Vec<_>>());
        // 64 lines of 1 KB reach 64 KB: four such batches, then 128 KB ones.
        assert_eq!(&sizes[..workers], &[64 << 10; 4]);
        assert_eq!(sizes[workers], 128 << 10);
        assert!(sizes.len() > workers, "{sizes:?}");
    }

    /// A long line ends the batch of short ones before it and makes a
    /// batch of its own; a line over the limit is reported and skipped.
    #[test]
    fn a_long_line_is_a_batch_of_its_own() {
        let long = "x".repeat(IN_FLIGHT_BYTES + 1);
        let input = format!("a\n\nb\n{long}\nc\n{}\nd\n", "y".repeat(100));
        let mut reader = io::Cursor::new(input.into_bytes());
        let mut lines = BatchReader {
            reader: &mut reader,
            name: Path::new("in.jsonl"),
            line_no: 0,
            max: IN_FLIGHT_BYTES * 2,
            next: None,
            workers: 2,
            batches: 0,
        };
        let bad = AtomicUsize::new(0);
        let reported = Mutex::new(Vec::new());
        let report = |f: &Failure| reported.lock().unwrap().push(f.path.clone());
        let mut got = Vec::new();
        loop {
            let batch = lines.read_batch(&bad, &report).unwrap();
            if batch.lines.is_empty() {
                break;
            }
            let sum: usize = batch.lines.iter().map(|(_, l)| l.len() + 1).sum();
            assert_eq!(batch.bytes, sum);
            got.push(
                batch
                    .lines
                    .iter()
                    .map(|(n, l)| (*n, l.len()))
                    .collect::<Vec<_>>(),
            );
        }
        assert_eq!(
            got,
            vec![
                vec![(1, 1), (3, 1)],
                vec![(4, IN_FLIGHT_BYTES + 1)],
                vec![(5, 1), (6, 100), (7, 1)],
            ]
        );
        // With a lower limit the long line is reported and read past.
        let input = format!("a\n{long}\nc\n");
        let mut reader = io::Cursor::new(input.into_bytes());
        lines.reader = &mut reader;
        lines.line_no = 0;
        lines.max = IN_FLIGHT_BYTES;
        let batch = lines.read_batch(&bad, &report).unwrap();
        let got: Vec<_> = batch.lines.iter().map(|(n, l)| (*n, l.len())).collect();
        assert_eq!(got, vec![(1, 1), (3, 1)]);
        assert_eq!(bad.load(Ordering::Relaxed), 1);
        assert_eq!(*reported.lock().unwrap(), vec!["in.jsonl:2".to_owned()]);
    }

    #[test]
    fn a_parked_batch_comes_back_as_it_was() {
        let batch = || Batch {
            lines: vec![
                (3, b"{\"text\":\"\xc3\xa9\"}".to_vec()),
                (4, Vec::new()),
                (7, vec![b'x'; 100_000]),
            ],
            bytes: 100_020,
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let parked = park(batch(), dir.path());
        assert!(matches!(parked, Parked::Disk { .. }), "on disk");
        let back = unpark(parked).expect("read back");
        assert_eq!((back.lines, back.bytes), (batch().lines, batch().bytes));
        // No folder for the temp file: kept in memory instead.
        let parked = park(batch(), Path::new("/nonexistent/mend-park"));
        assert!(matches!(parked, Parked::Memory(_)));
        let back = unpark(parked).expect("in memory");
        assert_eq!((back.lines, back.bytes), (batch().lines, batch().bytes));
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
