//! The `mend` command line: clean, check, explain, restore, rules.
//!
//! This file parses arguments, walks folders, drives the progress bar and
//! sets the exit code; the cleaning itself is `mend::Pipeline`.

use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anstream::{eprintln, println};
use anstyle::{AnsiColor, Style};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use mend::jsonl::{NotesMode, Options as JsonlOptions};
use mend::notes::{self, PackedNotes};
use mend::rules::RulesFile;
use mend::{Cleaned, Config, Corpus, LossyMode, Pipeline, QuoteStyle, Stage, StageSet};

#[path = "cli/interrupt.rs"]
mod interrupt;
#[path = "cli/jsonl.rs"]
mod jsonl_cli;
#[path = "cli/state.rs"]
mod state;
#[path = "cli/walk.rs"]
mod walk;
#[path = "cli/write.rs"]
mod write;

use walk::{Job, collect};
use write::{AtomicFile, make_dir_of, write_atomic};

/// Exit codes, as grep, ripgrep and ruff use them.
const EXIT_OK: u8 = 0;
/// `mend check` found a file that would change.
const EXIT_DRIFT: u8 = 1;
/// A usage error, or some file failed.
const EXIT_ERROR: u8 = 2;
/// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Parser)]
#[command(
    name = "mend",
    version,
    about = "Clean scraped and machine-translated news text, and say exactly what changed"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Clean files and folders into DIR (or stdin to stdout).
    Clean(CleanArgs),
    /// Golden mode: exit 1 with a diff if cleaning PATHs would change DIR.
    Check(CheckArgs),
    /// Show each edit of a cleaned file, readably.
    Explain(ExplainArgs),
    /// Rebuild the original bytes from a clean file and its notes.
    Restore(RestoreArgs),
    /// List every stage and rule (with a rules file: its rules too, and what it disables).
    Rules(RulesArgs),
}

#[derive(Args, Clone)]
struct PipelineArgs {
    /// Run only these stages (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_stage, conflicts_with = "skip")]
    only: Vec<Stage>,
    /// Skip these stages (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_stage)]
    skip: Vec<Stage>,
    /// Quotation style.
    #[arg(long, value_enum, default_value_t = QuotesArg::Curly)]
    quotes: QuotesArg,
    /// Letters lost as `?`: keep the text and note it, or mark each lost run with U+FFFD.
    #[arg(long, value_enum, default_value_t = LossyArg::Keep)]
    lossy: LossyArg,
    /// Force the input encoding (a WHATWG label: windows-1251, koi8-r, utf-16le...).
    #[arg(long, value_name = "NAME", value_parser = parse_encoding)]
    encoding: Option<&'static encoding_rs::Encoding>,
    /// A rules file (TOML) that disables rules or adds boilerplate patterns.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Threads (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum QuotesArg {
    Curly,
    Ascii,
    Keep,
}

#[derive(Clone, Copy, ValueEnum)]
enum LossyArg {
    Keep,
    Mark,
}

#[derive(Args)]
struct CleanArgs {
    /// Files and folders to clean (recursively); none or `-` reads stdin.
    paths: Vec<PathBuf>,
    /// Output folder: each input becomes NAME.txt beside NAME.notes.jsonl.
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Where to write the notes when the text goes to stdout; with
    /// `--format jsonl`: a notes file (a folder for shard folders), or
    /// `inline` for a `mend` field in each record.
    #[arg(long, value_name = "FILE")]
    notes: Option<PathBuf>,
    /// Input format: text files, or JSON-lines records (`.jsonl`, `.jsonl.gz`, `.jsonl.zst`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// JSON lines: the field that holds the text.
    #[arg(long, value_name = "NAME", default_value = "text")]
    text_field: String,
    /// JSON lines: write dolma-style attributes (mend's spans per stage) here.
    #[arg(long, value_name = "FILE")]
    attributes: Option<PathBuf>,
    /// JSON lines: copy records that are not valid JSON or lack the text field here.
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// JSON lines: a longer record is reported and skipped, never held in
    /// memory (bytes; K, M, G suffixes).
    #[arg(long, value_name = "BYTES", default_value = "1G", value_parser = parse_size)]
    max_record: usize,
    /// Follow symbolic links inside folders (links given as arguments are always followed).
    #[arg(long)]
    follow: bool,
    /// Clean every input again, even where DIR already holds its up-to-date outputs.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Jsonl,
}

#[derive(Args)]
struct CheckArgs {
    /// Files and folders to clean in memory.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The folder of committed clean files and notes to compare with.
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
    /// Follow symbolic links inside folders (links given as arguments are always followed).
    #[arg(long)]
    follow: bool,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

#[derive(Args)]
struct ExplainArgs {
    /// A cleaned file (NAME.txt, with NAME.notes.jsonl beside it) or a notes file.
    file: PathBuf,
    /// The notes, if not beside the file.
    #[arg(long, value_name = "FILE")]
    notes: Option<PathBuf>,
}

#[derive(Args)]
struct RulesArgs {
    /// A rules file (TOML): list its boilerplate rules and mark the rules it disables.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
}

#[derive(Args)]
struct RestoreArgs {
    /// A cleaned file.
    clean: PathBuf,
    /// Its notes (default: NAME.notes.jsonl beside it).
    #[arg(long, value_name = "FILE")]
    notes: Option<PathBuf>,
    /// Write the original bytes here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn parse_stage(s: &str) -> Result<Stage, String> {
    Stage::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Stage::ALL.iter().map(|s| s.name()).collect();
        format!("unknown stage {s:?} (stages: {})", names.join(", "))
    })
}

/// `1024`, `64K`, `200M`, `1G` (powers of 1024).
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let (num, shift) = match t.as_bytes().last() {
        Some(b'K' | b'k') => (&t[..t.len() - 1], 10),
        Some(b'M' | b'm') => (&t[..t.len() - 1], 20),
        Some(b'G' | b'g') => (&t[..t.len() - 1], 30),
        _ => (t, 0),
    };
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{s:?} is not a size such as 4096, 64K, 200M or 1G"))
}

fn parse_encoding(s: &str) -> Result<&'static encoding_rs::Encoding, String> {
    encoding_rs::Encoding::for_label(s.as_bytes()).ok_or_else(|| format!("unknown encoding {s:?}"))
}

/// A failure with the file it concerns, printed as `mend: PATH: message`.
#[derive(Debug)]
struct Failure {
    path: String,
    message: String,
}

impl Failure {
    fn new(path: &Path, message: impl ToString) -> Failure {
        Failure {
            path: path.display().to_string(),
            message: message.to_string(),
        }
    }
}

fn report(f: &Failure) {
    eprintln!("mend: {}: {}", f.path, f.message);
}

/// Tunes glibc's allocator for this workload, before any thread starts.
/// By default glibc raises its mmap threshold after freeing a large block
/// and gives each thread its own arena, so a large document's buffers stay
/// in the process after it is written (a 20 MB document kept about 90 MB
/// per thread). Buffers of 1 MB or more from mmap (returned on free) and
/// at most two arenas took the benchmark corpus's peak from 184 MB to 103 MB
/// at a cost within the noise.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called once,
    // first thing in main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Clean(a) => cmd_clean(a),
        Command::Check(a) => cmd_check(a),
        Command::Explain(a) => cmd_explain(a),
        Command::Restore(a) => cmd_restore(a),
        Command::Rules(a) => cmd_rules(a),
    };
    ExitCode::from(code)
}

/// Builds the pipeline from flags; a bad rules file is a usage error.
fn build(args: &PipelineArgs, records: bool) -> Result<Pipeline, Failure> {
    let mut stages = StageSet::ALL;
    if !args.only.is_empty() {
        stages = args.only.iter().copied().collect();
    }
    for s in &args.skip {
        stages = stages.without(*s);
    }
    let rules = match &args.rules {
        Some(path) => {
            let text = fs::read_to_string(path).map_err(|e| Failure::new(path, e))?;
            Some(Arc::new(
                RulesFile::parse(&text).map_err(|e| Failure::new(path, e))?,
            ))
        }
        None => None,
    };
    if let Some(n) = args.threads {
        // Fails only if the global pool was already built; then it is in use anyway.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    Ok(Pipeline::new(Config {
        stages,
        quotes: match args.quotes {
            QuotesArg::Curly => QuoteStyle::Curly,
            QuotesArg::Ascii => QuoteStyle::Ascii,
            QuotesArg::Keep => QuoteStyle::Keep,
        },
        lossy: match args.lossy {
            LossyArg::Keep => LossyMode::Keep,
            LossyArg::Mark => LossyMode::Mark,
        },
        encoding: args.encoding,
        rules,
        final_newline: !records,
    }))
}

/// Output paths of a job under `dir`: NAME.txt and NAME.notes.jsonl.
fn outputs(dir: &Path, rel: &Path) -> (PathBuf, PathBuf) {
    let base = dir.join(rel);
    (
        base.with_extension("txt"),
        base.with_extension("notes.jsonl"),
    )
}

/// The jobs, largest first (then in walk order).
fn largest_first(jobs: &[Job]) -> Vec<&Job> {
    largest_first_indices(jobs)
        .into_iter()
        .map(|i| &jobs[i])
        .collect()
}

/// [`largest_first`], as indices into `jobs`.
fn largest_first_indices(jobs: &[Job]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].size));
    order
}

/// How many bytes of input the counting pass may keep for the cleaning
/// pass of a folder run (see [`keep_from`]).
///
/// The kept inputs are the smallest ones, which the cleaning pass (largest
/// first) reaches last, so they are held while the largest documents are
/// cleaned: the run's peak memory grows by up to this much. 24 MiB keeps
/// the benchmark corpus (largest document 20 MB; peak 113 MB before, 137 MB
/// now) under issue 6's target of 100 MB plus three times the largest
/// document, and a corpus of only small files well under 100 MB; on the
/// benchmark corpus it spares a second open and read for 15,800 of its
/// 20,000 files.
const KEEP_BUDGET: u64 = 24 << 20;

/// What keeping an input of `size` bytes costs in memory: its buffer as
/// [`read_sized`] makes it (its size plus one) and the allocator's share
/// of it (a header, rounding, the smallest chunk; 32 bytes is an upper
/// bound for glibc). Without the allocator's share, a million files of 40
/// bytes kept 600,000 of them in about 60 MB, not 24 MiB.
fn kept_cost(size: u64) -> u64 {
    size.saturating_add(1 + 32)
}

/// Where the kept inputs of a run begin in its order (largest first): the
/// smallest jobs, as many as fit in `budget` bytes, each counted at its
/// [`kept_cost`]. Small files first, because the open, read and close of a
/// file cost the most per byte when it is small. Decided from the walk's
/// sizes, before anything is read.
fn keep_from(order: &[&Job], budget: u64) -> usize {
    let mut left = budget;
    let mut from = order.len();
    while let Some(job) = from.checked_sub(1).and_then(|i| order.get(i)) {
        match left.checked_sub(kept_cost(job.size)) {
            Some(l) => left = l,
            None => break,
        }
        from -= 1;
    }
    from
}

/// Counts lines across the documents of a run, for cross-document
/// boilerplate, and keeps what it read of the smallest inputs for the
/// cleaning pass, within `budget` bytes (see [`keep_from`]).
///
/// Unless `budget` is 0 it keeps the largest input too, outside the budget:
/// the cleaning pass takes it first, so its bytes are held only while the
/// count runs, and cleaning it needs more memory than that anyway. This
/// spares the fresh pages of a second large buffer (5,000 page faults for
/// the benchmark corpus's 20 MB document), without raising the peak.
///
/// The second value has one slot per job of `jobs`: the bytes the count
/// read, or `None` where the cleaning pass must read the file itself (not
/// among the smallest, unreadable here, or no longer the size the walk saw,
/// so that the budget holds whatever happens to the files). Kept bytes are
/// exactly the bytes counted: a file that changes between the passes is
/// cleaned (and checked for up-to-date outputs) as the count saw it, where
/// an input that is not kept is read again, as before. An unreadable file
/// is skipped here and read (and reported) by the cleaning pass.
fn corpus_of(
    jobs: &[&Job],
    pipeline: &Pipeline,
    budget: u64,
) -> (Option<Corpus>, Vec<Option<Vec<u8>>>) {
    let mut slots: Vec<Option<Vec<u8>>> = Vec::new();
    slots.resize_with(jobs.len(), || None);
    if !pipeline.wants_corpus(jobs.len()) {
        return (None, slots);
    }
    let from = keep_from(jobs, budget);
    let keep = |i: usize| budget > 0 && (i == 0 || i >= from);
    let (corpus, kept) = jobs
        .par_iter()
        .enumerate()
        .fold(
            || (Corpus::new(), Vec::new()),
            |(mut c, mut kept), (i, job)| {
                if let Ok(bytes) = read_sized(&job.path(), job.size) {
                    pipeline.count_lines(&mut c, &bytes);
                    if keep(i) && bytes.len() as u64 == job.size {
                        kept.push((i, bytes));
                    }
                }
                (c, kept)
            },
        )
        .reduce(
            || (Corpus::new(), Vec::new()),
            |(mut a, mut ka), (b, mut kb)| {
                a.merge(b);
                ka.append(&mut kb);
                (a, ka)
            },
        );
    for (i, bytes) in kept {
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(bytes);
        }
    }
    (Some(corpus), slots)
}

fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    fs::read(path).map_err(|e| Failure::new(path, e))
}

/// Reads a file of a run whose size the walk saw, into a buffer of that
/// size plus one: a file that did not change is read without asking its
/// size again (as `fs::read` does) and without growing or zeroing the
/// buffer. A file that grew meanwhile is read to its end all the same.
fn read_sized(path: &Path, size: u64) -> io::Result<Vec<u8>> {
    let file = fs::File::open(path)?;
    let want = usize::try_from(size)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut buf = Vec::with_capacity(want.min(1 << 30));
    // `Take` hides the file's own `read_to_end`, which would ask the size.
    file.take(u64::MAX).read_to_end(&mut buf)?;
    Ok(buf)
}

fn read_job(job: &Job) -> Result<Vec<u8>, Failure> {
    read_sized(&job.path(), job.size).map_err(|e| Failure::new(&job.path(), e))
}

fn progress(total: u64, files: usize) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let pb = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{bar:30.cyan/blue} {msg} files  {binary_bytes}/{binary_total_bytes}  {binary_bytes_per_sec}  ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_message(format!("0/{files}"));
    pb
}

/// Per-run totals for the summary line.
#[derive(Default)]
struct Totals {
    files: AtomicUsize,
    bytes: AtomicUsize,
    edits: [AtomicUsize; 6],
    lossy_docs: AtomicUsize,
}

impl Totals {
    fn add(&self, c: &Cleaned) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(c.source_len, Ordering::Relaxed);
        for (i, s) in Stage::ALL.iter().enumerate() {
            self.edits[i].fetch_add(c.edit_count(*s), Ordering::Relaxed);
        }
        if c.finding_count(Stage::Mojibake) > 0 {
            self.lossy_docs.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn summary(&self, failed: usize, secs: f64) -> String {
        let edits: Vec<String> = Stage::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{} {}", s.name(), self.edits[i].load(Ordering::Relaxed)))
            .collect();
        let mb = self.bytes.load(Ordering::Relaxed) as f64 / 1e6;
        format!(
            "mend: {} files, {:.2} MB in {:.2} s; edits: {}; {} with unrecoverable loss; {} failed",
            self.files.load(Ordering::Relaxed),
            mb,
            secs,
            edits.join(", "),
            self.lossy_docs.load(Ordering::Relaxed),
            failed
        )
    }
}

fn is_stdin(paths: &[PathBuf]) -> bool {
    paths.is_empty() || (paths.len() == 1 && paths[0].as_os_str() == "-")
}

fn cmd_clean(args: CleanArgs) -> u8 {
    let pipeline = match build(&args.pipeline, args.format == Format::Jsonl) {
        Ok(p) => p,
        Err(f) => {
            report(&f);
            return EXIT_ERROR;
        }
    };
    if args.format == Format::Jsonl {
        return clean_jsonl(&pipeline, &args);
    }
    if is_stdin(&args.paths) {
        return clean_stdin(&pipeline, args.notes.as_deref());
    }
    let Some(out_dir) = args.output.as_deref() else {
        if let [file] = args.paths.as_slice()
            && fs::metadata(file).is_ok_and(|m| m.is_file())
        {
            return clean_one_to_stdout(&pipeline, file, args.notes.as_deref());
        }
        eprintln!("mend: a folder or several files need an output folder: -o DIR");
        return EXIT_ERROR;
    };
    clean_folder(&pipeline, &args, out_dir)
}

/// What became of one input of a folder run.
enum Outcome {
    /// Cleaned and written.
    Cleaned,
    /// Its outputs were already up to date; not written again.
    UpToDate,
}

/// `mend clean PATHS -o DIR`: every input file to DIR, in parallel.
fn clean_folder(pipeline: &Pipeline, args: &CleanArgs, out_dir: &Path) -> u8 {
    clean_folder_keeping(pipeline, args, out_dir, KEEP_BUDGET)
}

/// [`clean_folder`], with the counting pass keeping up to `budget` bytes of
/// input for the cleaning pass (see [`corpus_of`]); what is kept changes
/// only how often a file is opened, never the outputs.
fn clean_folder_keeping(pipeline: &Pipeline, args: &CleanArgs, out_dir: &Path, budget: u64) -> u8 {
    let start = Instant::now();
    let interrupted = interrupt::install();
    let mut failures = Vec::new();
    let found = collect(&args.paths, Some(out_dir), args.follow, &mut failures);
    let mut jobs = found.jobs;
    // Two inputs that map to one output name: the first one wins.
    // (A hash of each output name, and the first job with it: a million
    // files cost 16 MB here, not a copy of every name. The others are then
    // dropped in place, not moved to a second list.)
    let mut seen: std::collections::HashMap<u64, usize> =
        std::collections::HashMap::with_capacity(jobs.len());
    let mut keep = vec![true; jobs.len()];
    let state = std::hash::RandomState::new();
    for (i, job) in jobs.iter().enumerate() {
        // The output name is the folder and the stem (see `outputs`).
        let key = std::hash::BuildHasher::hash_one(&state, (job.rel.parent(), job.rel.file_stem()));
        match seen.get(&key) {
            Some(&first) if outputs(out_dir, &jobs[first].rel) == outputs(out_dir, &job.rel) => {
                failures.push(Failure::new(
                    &job.path(),
                    "another input maps to the same output name; skipped",
                ));
                keep[i] = false;
            }
            _ => {
                seen.insert(key, i);
            }
        }
    }
    drop(seen);
    let mut keep = keep.into_iter();
    jobs.retain(|_| keep.next().unwrap_or(true));
    // Largest first: a large file started last would leave the other
    // threads idle while it runs.
    let order = largest_first(&jobs);
    let (corpus, kept) = corpus_of(&order, pipeline, budget);
    // Folders that cannot be made, or lead out of DIR: their files fail.
    let made = write::make_dirs(
        out_dir,
        jobs.iter()
            .filter_map(|j| j.rel.parent().map(|d| out_dir.join(d))),
    );
    let refused: std::collections::HashSet<PathBuf> = made
        .bad
        .into_iter()
        .map(|(dir, e)| {
            failures.push(Failure::new(&dir, e));
            dir
        })
        .collect();
    // Outputs in folders this run made cannot be up to date already.
    let fresh = made.fresh;
    let total: u64 = jobs.iter().map(|j| j.size).sum();
    let pb = progress(total, jobs.len());
    let totals = Totals::default();
    let done = AtomicUsize::new(0);
    let up_to_date = AtomicUsize::new(0);
    let config = notes::config_value(pipeline.config());
    // Each job with what the count kept of it: the cleaning pass takes the
    // bytes by value and frees them once the job is done. Outcomes are
    // counted, not kept (failures are reported as they happen).
    let failed_jobs = AtomicUsize::new(0);
    let not_run = AtomicUsize::new(0);
    order.into_par_iter().zip(kept).for_each(|(job, kept)| {
        if interrupted.load(Ordering::Relaxed) {
            not_run.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let paths = outputs(out_dir, &job.rel);
        let dir = paths.0.parent();
        let r = match dir {
            Some(d) if refused.contains(d) => Err(Failure::new(
                &job.path(),
                "its output folder was refused (see above); not cleaned",
            )),
            _ => clean_job(
                pipeline,
                (job, kept),
                &paths,
                corpus.as_ref(),
                &config,
                args.force || dir.is_some_and(|d| fresh.contains(d)),
                &totals,
            ),
        };
        pb.inc(job.size);
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        pb.set_message(format!("{n}/{}", jobs.len()));
        match &r {
            Err(f) => {
                failed_jobs.fetch_add(1, Ordering::Relaxed);
                pb.suspend(|| report(f));
            }
            Ok(Outcome::UpToDate) => {
                up_to_date.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Outcome::Cleaned) => {}
        }
    });
    pb.finish_and_clear();
    for f in &failures {
        report(f);
    }
    let failed = failures.len() + failed_jobs.into_inner();
    let not_run = not_run.into_inner();
    let mut summary = totals.summary(failed, start.elapsed().as_secs_f64());
    let skipped = up_to_date.load(Ordering::Relaxed);
    if skipped > 0 {
        summary.push_str(&format!("; {skipped} already up to date (--force to redo)"));
    }
    if found.links_skipped > 0 {
        summary.push_str(&format!(
            "; {} symbolic links not followed (--follow)",
            found.links_skipped
        ));
    }
    eprintln!("{summary}");
    if not_run > 0 || interrupted.load(Ordering::Relaxed) {
        eprintln!(
            "mend: interrupted: {} of {} files done, {not_run} not started; run the same command again to finish",
            jobs.len() - not_run,
            jobs.len()
        );
        return EXIT_INTERRUPTED;
    }
    if failed > 0 { EXIT_ERROR } else { EXIT_OK }
}

fn clean_jsonl(pipeline: &Pipeline, args: &CleanArgs) -> u8 {
    interrupt::install();
    let inline = args.notes.as_deref() == Some(Path::new("inline"));
    let opts = JsonlOptions {
        text_field: args.text_field.clone(),
        notes: if inline {
            NotesMode::Inline
        } else {
            NotesMode::None
        },
        attributes: false,
    };
    let notes = if inline { None } else { args.notes.clone() };
    let totals = Totals::default();
    let start = Instant::now();
    let pb = progress_records();
    let on_batch = |records: usize, bytes: usize| {
        pb.inc(bytes as u64);
        let n = totals.files.load(Ordering::Relaxed);
        pb.set_message(format!("{n} records (+{records})"));
    };
    let report_bad = |f: &Failure| pb.suspend(|| report(f));
    let mut failures = Vec::new();
    let mut bad = 0;
    let folder = args.paths.iter().any(|p| p.is_dir()) || args.paths.len() > 1;
    // (input, its targets): one stream, or each shard of the folders.
    let mut streams: Vec<(Option<PathBuf>, jsonl_cli::Targets)> = Vec::new();
    if !folder {
        let input = args.paths.first().filter(|p| p.as_os_str() != "-").cloned();
        let targets = jsonl_cli::Targets {
            out: args.output.clone(),
            notes,
            attributes: args.attributes.clone(),
            rejects: args.rejects.clone(),
            max_record: args.max_record,
        };
        streams.push((input, targets));
    } else {
        let Some(out_dir) = args.output.as_deref() else {
            eprintln!("mend: a folder of JSON-lines shards needs an output folder: -o DIR");
            return EXIT_ERROR;
        };
        let under = |dir: &Option<PathBuf>, rel: &Path| dir.as_ref().map(|d| d.join(rel));
        for shard in collect(&args.paths, Some(out_dir), args.follow, &mut failures).jobs {
            let targets = jsonl_cli::Targets {
                out: Some(out_dir.join(&shard.rel)),
                notes: under(&notes, &shard.rel),
                attributes: under(&args.attributes, &shard.rel),
                rejects: under(&args.rejects, &shard.rel),
                max_record: args.max_record,
            };
            streams.push((Some(shard.path().into_owned()), targets));
        }
    }
    let settings = serde_json::json!({
        "config": notes::config_value(pipeline.config()),
        "text_field": args.text_field,
        "notes": if inline { "inline" } else { "" },
        "max_record": args.max_record,
    });
    let mut up_to_date = 0;
    for (input, targets) in &streams {
        if interrupt::requested() {
            break;
        }
        let input = input.as_deref();
        let outputs: Vec<PathBuf> = [&targets.out, &targets.notes, &targets.attributes]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let shard_state = targets
            .out
            .as_ref()
            .and_then(|_| state::ShardState::new(input, outputs, &settings));
        if let Some(s) = &shard_state {
            match if args.force {
                Ok(false)
            } else {
                s.up_to_date()
            } {
                Ok(true) => {
                    up_to_date += 1;
                    continue;
                }
                Ok(_) => s.forget(),
                Err(e) => {
                    failures.push(Failure::new(input.unwrap_or(Path::new("-")), e));
                    continue;
                }
            }
        }
        match jsonl_cli::run(
            pipeline,
            input,
            shard_state.as_ref(),
            targets,
            &opts,
            &jsonl_cli::Progress {
                totals: &totals,
                on_batch: &on_batch,
                report: &report_bad,
            },
        ) {
            Ok(n) => {
                bad += n;
                if let (0, Some(s)) = (n, &shard_state)
                    && let Err(e) = s.record()
                {
                    failures.push(Failure::new(input.unwrap_or(Path::new("-")), e));
                }
            }
            Err(f) => failures.push(f),
        }
    }
    pb.finish_and_clear();
    for f in &failures {
        report(f);
    }
    let skipped = if up_to_date > 0 {
        format!("; {up_to_date} shards already up to date (--force to redo)")
    } else {
        String::new()
    };
    eprintln!(
        "{} ({bad} bad records){skipped}",
        totals
            .summary(failures.len(), start.elapsed().as_secs_f64())
            .replacen(" files,", " records,", 1)
    );
    if interrupt::requested() {
        eprintln!("mend: interrupted; run the same command again to redo what was not written");
        return EXIT_INTERRUPTED;
    }
    if failures.is_empty() && bad == 0 {
        EXIT_OK
    } else {
        EXIT_ERROR
    }
}

fn progress_records() -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    let style = ProgressStyle::with_template(
        "{spinner} {msg}  {binary_bytes}  {binary_bytes_per_sec}  {elapsed}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_spinner());
    pb.set_style(style);
    pb
}

/// Cleans one input of a folder run into its two outputs, from the bytes
/// the counting pass kept of it (see [`corpus_of`]), or else from the file.
fn clean_job(
    pipeline: &Pipeline,
    (job, kept): (&Job, Option<Vec<u8>>),
    (text_path, notes_path): &(PathBuf, PathBuf),
    corpus: Option<&Corpus>,
    config: &serde_json::Value,
    // Whether to clean without looking for up-to-date outputs (`--force`,
    // or a folder that this run made).
    force: bool,
    totals: &Totals,
) -> Result<Outcome, Failure> {
    let bytes = match kept {
        Some(bytes) => bytes,
        None => read_job(job)?,
    };
    let rel = rel_name(&job.rel);
    if !force
        && state::up_to_date(&state::Want {
            text: text_path,
            notes: notes_path,
            input: &bytes,
            rel: &rel,
            config,
            corpus: corpus.map(Corpus::fingerprint),
        })
    {
        return Ok(Outcome::UpToDate);
    }
    // The input is handed over: a large one is not held beside its texts.
    let digest = notes::InputDigest::of(&bytes);
    let mut cleaned = pipeline
        .clean_owned_in(bytes, corpus)
        .map_err(|e| Failure::new(&job.path(), e))?;
    // The text first, then its notes: a run killed between the two leaves
    // notes that do not describe the text, which the next run redoes.
    write_atomic(text_path, cleaned.text.as_bytes()).map_err(|e| Failure::new(text_path, e))?;
    // The text is written: a large one is not held while its notes are
    // made, and those are written as they are made, not held whole.
    drop(std::mem::take(&mut cleaned.text));
    write_notes(pipeline, &cleaned, &digest, &rel, notes_path)
        .map_err(|e| Failure::new(notes_path, e))?;
    totals.add(&cleaned);
    Ok(Outcome::Cleaned)
}

/// A job's path relative to its root, as the notes header names it.
fn rel_name(rel: &Path) -> String {
    rel.to_string_lossy().replace('\\', "/")
}

fn clean_stdin(pipeline: &Pipeline, notes_path: Option<&Path>) -> u8 {
    let mut bytes = Vec::new();
    if let Err(e) = io::stdin().lock().read_to_end(&mut bytes) {
        report(&Failure::new(Path::new("-"), e));
        return EXIT_ERROR;
    }
    emit(pipeline, bytes, Path::new("-"), "-", notes_path)
}

fn clean_one_to_stdout(pipeline: &Pipeline, file: &Path, notes_path: Option<&Path>) -> u8 {
    match read_input(file) {
        Ok(bytes) => {
            let name = file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            emit(pipeline, bytes, file, &name, notes_path)
        }
        Err(f) => {
            report(&f);
            EXIT_ERROR
        }
    }
}

/// Writes the notes of `cleaned` (input `digest`, named `name`) to `path`
/// atomically, as they are made ([`Pipeline::write_notes_of`]): a large
/// document's notes are not held whole.
fn write_notes(
    pipeline: &Pipeline,
    cleaned: &mend::Cleaned,
    digest: &notes::InputDigest,
    name: &str,
    path: &Path,
) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    pipeline.write_notes_of(cleaned, digest, name, &mut file)?;
    file.commit()
}

/// Cleans `bytes` to stdout, notes to `notes_path` if given. The input is
/// handed over, and the text dropped once written, as in a folder run.
fn emit(
    pipeline: &Pipeline,
    bytes: Vec<u8>,
    path: &Path,
    name: &str,
    notes_path: Option<&Path>,
) -> u8 {
    let digest = notes::InputDigest::of(&bytes);
    let mut cleaned = match pipeline.clean_owned_in(bytes, None) {
        Ok(c) => c,
        Err(e) => {
            report(&Failure::new(path, e));
            return EXIT_ERROR;
        }
    };
    let mut out = io::stdout().lock();
    if let Err(e) = out
        .write_all(cleaned.text.as_bytes())
        .and_then(|()| out.flush())
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        report(&Failure::new(Path::new("<stdout>"), e));
        return EXIT_ERROR;
    }
    drop(std::mem::take(&mut cleaned.text));
    if let Some(np) = notes_path {
        let written =
            make_dir_of(np).and_then(|()| write_notes(pipeline, &cleaned, &digest, name, np));
        if let Err(e) = written {
            report(&Failure::new(np, e));
            return EXIT_ERROR;
        }
    }
    EXIT_OK
}

fn cmd_check(args: CheckArgs) -> u8 {
    let pipeline = match build(&args.pipeline, false) {
        Ok(p) => p,
        Err(f) => {
            report(&f);
            return EXIT_ERROR;
        }
    };
    let mut failures = Vec::new();
    let jobs = collect(&args.paths, Some(&args.output), args.follow, &mut failures).jobs;
    // Checked largest first, as `clean` cleans, with the bytes the count
    // kept (each input read once, mostly); the diffs are then put back in
    // input order, whatever the thread count.
    let by_size = largest_first_indices(&jobs);
    let order: Vec<&Job> = by_size.iter().map(|&i| &jobs[i]).collect();
    let (corpus, kept) = corpus_of(&order, &pipeline, KEEP_BUDGET);
    let mut results: Vec<(usize, Result<Vec<String>, Failure>)> = by_size
        .into_par_iter()
        .zip(kept)
        .map(|(i, kept)| {
            let r = check_job(&pipeline, (&jobs[i], kept), &args.output, corpus.as_ref());
            (i, r)
        })
        .collect();
    results.sort_unstable_by_key(|r| r.0);
    let results = results.into_iter().map(|r| r.1);
    let mut drift = 0;
    let mut out = io::stdout().lock();
    for r in results {
        match r {
            Ok(diffs) => {
                drift += usize::from(!diffs.is_empty());
                for d in diffs {
                    let _ = out.write_all(d.as_bytes());
                }
            }
            Err(f) => failures.push(f),
        }
    }
    for f in &failures {
        report(f);
    }
    if !failures.is_empty() {
        EXIT_ERROR
    } else if drift > 0 {
        eprintln!("mend: {drift} of {} files would change", jobs.len());
        EXIT_DRIFT
    } else {
        EXIT_OK
    }
}

/// Cleans one input of `mend check` (from the bytes the count kept of it,
/// or else from the file) and compares its two outputs with those in
/// `dir`: a unified diff for each that would change. A missing output is
/// a change (its diff is headed "missing"); one that cannot be read, or is
/// not UTF-8, is an error naming it.
fn check_job(
    pipeline: &Pipeline,
    (job, kept): (&Job, Option<Vec<u8>>),
    dir: &Path,
    corpus: Option<&Corpus>,
) -> Result<Vec<String>, Failure> {
    let bytes = match kept {
        Some(bytes) => bytes,
        None => read_job(job)?,
    };
    let cleaned = pipeline
        .clean_in(&bytes, corpus)
        .map_err(|e| Failure::new(&job.path(), e))?;
    let notes = pipeline.notes(&cleaned, &bytes, &rel_name(&job.rel));
    // Only the two outputs are compared: the input and the edits go first
    // (a long document's are as large as its outputs).
    drop(bytes);
    let text = cleaned.text;
    let (text_path, notes_path) = outputs(dir, &job.rel);
    let mut diffs = Vec::new();
    for (path, want) in [(&text_path, text.as_str()), (&notes_path, notes.as_str())] {
        let (have, missing) = match fs::read_to_string(path) {
            Ok(have) => (have, false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (String::new(), true),
            Err(e) => {
                return Err(Failure::new(
                    path,
                    format!("cannot read it to compare: {e}"),
                ));
            }
        };
        let same = !missing
            && if path == &notes_path {
                same_notes(&have, want)
            } else {
                have == want
            };
        if !same {
            let name = path.display().to_string();
            let old_name = if missing {
                format!("{name} (missing)")
            } else {
                name.clone()
            };
            let new_name = format!("{name} (now)");
            let mut diff = similar::TextDiff::from_lines(have.as_str(), want)
                .unified_diff()
                .context_radius(2)
                .header(&old_name, &new_name)
                .to_string();
            if diff.is_empty() {
                // A missing file that would be empty: no line differs.
                diff = format!("--- {old_name}\n+++ {new_name}\n");
            }
            diffs.push(diff);
        }
    }
    Ok(diffs)
}

/// Whether two notes files say the same, their headers' run metadata left
/// out (`version`, and the `corpus` fingerprint, which depends on how lines
/// are hashed): a new mend version alone is not drift; the text and the
/// edits are what is checked. Compared in place: a long document's notes
/// are not copied.
fn same_notes(a: &str, b: &str) -> bool {
    let (head_a, rest_a) = a.split_once('\n').unwrap_or((a, ""));
    let (head_b, rest_b) = b.split_once('\n').unwrap_or((b, ""));
    rest_a == rest_b
        && (head_a == head_b
            || matches!((run_blanked(head_a), run_blanked(head_b)), (Some(x), Some(y)) if x == y))
}

/// A notes header without its run metadata (see [`same_notes`]); `None`
/// if it is not JSON.
fn run_blanked(head: &str) -> Option<serde_json::Value> {
    let mut v = serde_json::from_str::<serde_json::Value>(head).ok()?;
    if let Some(o) = v.as_object_mut() {
        o.remove("version");
        o.remove("corpus");
    }
    Some(v)
}

/// Finds a clean file and its notes from either path.
fn clean_and_notes(file: &Path, notes: Option<&Path>) -> (PathBuf, PathBuf) {
    let name = file.to_string_lossy();
    if let Some(stem) = name.strip_suffix(".notes.jsonl") {
        return (
            PathBuf::from(format!("{stem}.txt")),
            notes.map_or_else(|| file.to_path_buf(), Path::to_path_buf),
        );
    }
    let np = notes.map_or_else(|| file.with_extension("notes.jsonl"), Path::to_path_buf);
    (file.to_path_buf(), np)
}

/// Where the notes of `restore` and `explain` are read from: a file, or
/// (for `explain`, which reads them twice, when they are not a regular
/// file: a pipe) their bytes, read once.
enum NotesSource<'a> {
    Path(&'a Path),
    Bytes(&'a Path, Vec<u8>),
}

impl NotesSource<'_> {
    /// The notes at `path`, to be read twice.
    fn twice(path: &Path) -> Result<NotesSource<'_>, Failure> {
        if fs::metadata(path).is_ok_and(|m| m.is_file()) {
            return Ok(NotesSource::Path(path));
        }
        let bytes = fs::read(path).map_err(|e| Failure::new(path, e))?;
        Ok(NotesSource::Bytes(path, bytes))
    }

    fn path(&self) -> &Path {
        match self {
            NotesSource::Path(p) | NotesSource::Bytes(p, _) => p,
        }
    }

    /// The notes from the start, line by line.
    fn reader(&self) -> Result<Box<dyn io::BufRead + '_>, Failure> {
        Ok(match self {
            NotesSource::Path(p) => {
                let f = fs::File::open(p).map_err(|e| Failure::new(p, e))?;
                Box::new(io::BufReader::with_capacity(1 << 18, f))
            }
            NotesSource::Bytes(_, b) => Box::new(&b[..]),
        })
    }
}

/// The clean text and its notes, packed for restore: read line by line,
/// never whole (a 1 GB document's notes are about 400 MB as text, and 2.2
/// million `Note`s of 208 bytes each before their strings).
fn load(
    clean: &Path,
    notes: &NotesSource<'_>,
) -> Result<(String, notes::Header, PackedNotes), Failure> {
    let text = fs::read_to_string(clean).map_err(|e| Failure::new(clean, e))?;
    let (h, packed) =
        PackedNotes::read_from(notes.reader()?).map_err(|e| Failure::new(notes.path(), e))?;
    Ok((text, h, packed))
}

fn cmd_restore(args: RestoreArgs) -> u8 {
    let (clean, np) = clean_and_notes(&args.clean, args.notes.as_deref());
    let result = load(&clean, &NotesSource::Path(&np)).and_then(|(text, h, packed)| {
        packed
            .restore(text, &h)
            .map_err(|e| Failure::new(&clean, e))
    });
    let bytes = match result {
        Ok(b) => b,
        Err(f) => {
            report(&f);
            return EXIT_ERROR;
        }
    };
    let written = match &args.output {
        Some(p) => make_dir_of(p)
            .and_then(|()| write_atomic(p, &bytes))
            .map_err(|e| Failure::new(p, e)),
        None => {
            let mut out = io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map_err(|e| Failure::new(Path::new("<stdout>"), e))
        }
    };
    match written {
        Ok(()) => EXIT_OK,
        Err(f) => {
            report(&f);
            EXIT_ERROR
        }
    }
}

fn cmd_explain(args: ExplainArgs) -> u8 {
    match explain(&args) {
        Ok(()) => EXIT_OK,
        Err(f) => {
            report(&f);
            EXIT_ERROR
        }
    }
}

/// `mend explain`: the notes, one a line, with where each edit is in the
/// source. The source is rebuilt from the packed notes, which then go; the
/// notes are read a second time, one at a time, to be printed.
fn explain(args: &ExplainArgs) -> Result<(), Failure> {
    let (clean, np) = clean_and_notes(&args.file, args.notes.as_deref());
    let source = NotesSource::twice(&np)?;
    let (text, header, packed) = load(&clean, &source)?;
    let (count, findings) = (packed.len(), packed.findings());
    // Line and column in the source need the source: rebuild it.
    let original = packed.restore(text, &header).unwrap_or_default();
    drop(packed);
    let mut positions = Positions::new(&original);
    let stage_style = Style::new().fg_color(Some(AnsiColor::Cyan.into())).bold();
    let del = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let ins = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let dim = Style::new().dimmed();
    println!(
        "{}: {} edits, {findings} findings ({}, {})",
        clean.display(),
        count - findings,
        header.encoding,
        header.source.path
    );
    let failed = |e| Failure::new(source.path(), e);
    for n in notes::NotesReader::new(source.reader()?).map_err(failed)? {
        let n = n.map_err(failed)?;
        let (line, col) = positions.of(n.src[0]);
        let before = match (&n.removed, &n.removed_bytes, &n.text) {
            (Some(s), _, _) | (None, None, Some(s)) => format!("{s:?}"),
            (None, Some(h), _) => format!("bytes {h}"),
            _ => "\"\"".to_owned(),
        };
        let after = if n.finding {
            "(unchanged)".to_owned()
        } else {
            format!("{:?}", n.inserted.as_deref().unwrap_or(""))
        };
        println!(
            "{stage_style}{}/{}{stage_style:#} {line}:{col}  {del}{}{del:#} -> {ins}{}{ins:#}  {dim}{}{dim:#}",
            n.stage,
            n.rule,
            truncate(&before, 70),
            truncate(&after, 70),
            n.why
        );
    }
    Ok(())
}

/// Line and column (1-based; the column in characters) of byte offsets
/// in a source, for `explain`.
struct Positions<'a> {
    text: &'a [u8],
    /// Where each line starts.
    line_starts: Vec<usize>,
    /// Whether `text` is UTF-8: then a column is counted on from the last
    /// offset asked for, when the next is after it on the same line (a
    /// stage's notes come in text order). Counting each column from its
    /// line's start took time quadratic in the line's length: `explain` of
    /// a 100 MB line with 160,000 notes did not finish.
    utf8: bool,
    /// The last offset asked for, its line start and its column.
    last: (usize, usize, usize),
}

impl<'a> Positions<'a> {
    fn new(text: &'a [u8]) -> Positions<'a> {
        Positions {
            text,
            line_starts: std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', text).map(|i| i + 1))
                .collect(),
            utf8: std::str::from_utf8(text).is_ok(),
            last: (0, 0, 1),
        }
    }

    /// The line and column of byte `off` (past the end: column 1 of the
    /// last line, as when the source could not be rebuilt).
    fn of(&mut self, off: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|&s| s <= off);
        let start = self.line_starts[line.saturating_sub(1)];
        if off > self.text.len() {
            return (line.max(1), 1);
        }
        let (last, last_start, last_col) = self.last;
        let col = if !self.utf8 {
            String::from_utf8_lossy(&self.text[start..off])
                .chars()
                .count()
                + 1
        } else if last_start == start && last <= off {
            last_col + chars(&self.text[last..off])
        } else {
            chars(&self.text[start..off]) + 1
        };
        self.last = (off, start, col);
        (line.max(1), col)
    }
}

/// The characters in UTF-8 `bytes`: the bytes that do not continue one.
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

fn cmd_rules(args: RulesArgs) -> u8 {
    let file = match &args.rules {
        Some(path) => {
            let parsed = fs::read_to_string(path)
                .map_err(|e| Failure::new(path, e))
                .and_then(|t| RulesFile::parse(&t).map_err(|e| Failure::new(path, e)));
            match parsed {
                Ok(f) => Some(f),
                Err(f) => {
                    report(&f);
                    return EXIT_ERROR;
                }
            }
        }
        None => None,
    };
    let bold = Style::new().bold();
    let dim = Style::new().dimmed();
    for stage in Stage::ALL {
        println!("{bold}{}{bold:#}", stage.name());
        for r in stage.rules() {
            if file.as_ref().is_some_and(|f| f.is_disabled(r)) {
                println!("  {dim}{:<28} {} (disabled){dim:#}", r.name, r.summary);
            } else {
                println!("  {:<28} {}", r.name, r.summary);
            }
        }
        if stage == Stage::Boilerplate {
            for u in file.iter().flat_map(|f| &f.boilerplate) {
                println!("  {:<28} {} (user rule)", u.rule.name, u.rule.summary);
            }
        }
    }
    EXIT_OK
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::ffi::OsStr;

    /// Positions counted on from the last one are the positions counted
    /// from each line's start, as `explain` counted them: offsets in order
    /// and not, on and off character boundaries, past the end, in UTF-8
    /// and in bytes that are not.
    #[test]
    fn positions_counted_on_are_counted_from_the_line_start() {
        let naive = |text: &[u8], off: usize| {
            let starts: Vec<usize> = std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', text).map(|i| i + 1))
                .collect();
            let line = starts.partition_point(|&s| s <= off);
            let col = text.get(starts[line.saturating_sub(1)]..off).unwrap_or(&[]);
            (
                line.max(1),
                String::from_utf8_lossy(col).chars().count() + 1,
            )
        };
        let texts: [&[u8]; 4] = [
            "ab é日\nx\u{a0}yz 😀 q\n\nlast line".as_bytes(),
            b"one \xff\xfe line\nand \xc3 more",
            b"",
            b"\n\n",
        ];
        for text in texts {
            let n = text.len() + 3;
            let orders: [Vec<usize>; 3] = [
                (0..n).collect(),
                (0..n).rev().collect(),
                (0..n).map(|i| (i * 7) % n).collect(),
            ];
            for offsets in orders {
                let mut p = Positions::new(text);
                for off in offsets {
                    assert_eq!(p.of(off), naive(text, off), "{text:?} at {off}");
                }
            }
        }
    }

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn output_names() {
        let (t, n) = outputs(Path::new("out"), Path::new("a/b.html"));
        assert_eq!(t, Path::new("out/a/b.txt"));
        assert_eq!(n, Path::new("out/a/b.notes.jsonl"));
    }

    /// A fresh, empty folder for one test, under the system's temp folder.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mend-main-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn job(size: u64) -> Job {
        Job::file(Path::new("x"), size)
    }

    /// Every file under `dir`, by relative path, with its bytes.
    fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut found = Vec::new();
        let jobs = collect(&[dir.to_path_buf()], None, false, &mut Vec::new()).jobs;
        for j in jobs {
            let bytes = fs::read(j.path()).unwrap();
            found.push((j.rel, bytes));
        }
        found
    }

    fn clean_args(input: &Path, out: &Path) -> CleanArgs {
        let argv = [
            OsStr::new("mend"),
            OsStr::new("clean"),
            OsStr::new("--force"),
            input.as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
        ];
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Clean(a) => a,
            _ => unreachable!(),
        }
    }

    /// Lines that exercise every stage: boilerplate that recurs across the
    /// documents (so the counts matter), non-ASCII, CRLF, NBSP, mojibake,
    /// markup, quotes, empty and long lines.
    const LINES: [&str; 12] = [
        "Subscribe to our newsletter for the latest news.",
        "Share this article on Facebook\r",
        "Le président a dit « bonjour » à l’équipe.",
        "Prix\u{a0}: 100\u{a0}€",
        "",
        "They donâ€™t know yet.",
        "<b>Bold</b> &amp; an entity",
        "“Curly” and ‘single’ quotes",
        "Copyright © 2024 News Corp. All rights reserved.",
        "Привет, мир! Новости дня.",
        "Read more: https://example.com/news",
        "   indented\ttext  ",
    ];

    fn document(picks: &[(usize, String)], long: usize) -> Vec<u8> {
        let mut doc = String::new();
        for (i, (pick, free)) in picks.iter().enumerate() {
            doc.push_str(LINES[pick % LINES.len()]);
            if i % 3 == 0 {
                doc.push_str(free);
            }
            doc.push('\n');
        }
        doc.push_str(&"word ".repeat(long));
        doc.into_bytes()
    }

    #[test]
    fn keep_from_takes_the_smallest_within_the_budget() {
        let jobs: Vec<Job> = [50, 40, 9, 9, 4, 0].into_iter().map(job).collect();
        let order: Vec<&Job> = jobs.iter().collect();
        // Each job counts its size plus 33 (read_sized's buffer and the
        // allocator's share).
        assert_eq!(keep_from(&order, 0), 6);
        assert_eq!(keep_from(&order, 33), 5);
        assert_eq!(keep_from(&order, 69), 5);
        assert_eq!(keep_from(&order, 70), 4);
        assert_eq!(keep_from(&order, 33 + 37 + 42 + 42), 2);
        assert_eq!(keep_from(&order, 33 + 37 + 42 + 41), 3);
        assert_eq!(keep_from(&order, 500), 0);
        assert_eq!(keep_from(&[], 200), 0);
        // Sizes near the limit saturate; they never wrap into the budget.
        let huge = [job(u64::MAX), job(u64::MAX)];
        let order: Vec<&Job> = huge.iter().collect();
        assert_eq!(keep_from(&order, u64::MAX), 1);
    }

    proptest::proptest! {
        #[test]
        fn keep_from_respects_the_budget(
            mut sizes in proptest::collection::vec(0u64..5000, 0..60),
            budget in 0u64..40_000,
        ) {
            sizes.sort_unstable_by(|a, b| b.cmp(a));
            let jobs: Vec<Job> = sizes.into_iter().map(job).collect();
            let order: Vec<&Job> = jobs.iter().collect();
            let from = keep_from(&order, budget);
            let kept: u64 = jobs[from..].iter().map(|j| kept_cost(j.size)).sum();
            proptest::prop_assert!(kept <= budget);
            if let Some(next) = from.checked_sub(1) {
                proptest::prop_assert!(kept + kept_cost(jobs[next].size) > budget);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
        /// A folder run writes the same bytes whatever the counting pass
        /// kept: nothing, some, or everything.
        #[test]
        fn kept_inputs_clean_as_read_ones(
            docs in proptest::collection::vec(
                (
                    proptest::collection::vec((0usize..100, "\\PC{0,12}"), 0..14),
                    proptest::prop_oneof![proptest::strategy::Just(0usize), 0usize..3000],
                ),
                2..9,
            ),
        ) {
            let root = scratch("kept-same");
            let input = root.join("in");
            fs::create_dir_all(input.join("sub")).unwrap();
            let mut sizes = Vec::new();
            for (i, (picks, long)) in docs.iter().enumerate() {
                let bytes = document(picks, *long);
                sizes.push(kept_cost(bytes.len() as u64));
                let name = if i % 2 == 0 { format!("d{i}.txt") } else { format!("sub/d{i}.html") };
                fs::write(input.join(name), bytes).unwrap();
            }
            // Latin-1, so that decode has work that is not UTF-8.
            let latin1 = b"caf\xe9 cr\xe8me\r\nSubscribe to our newsletter for the latest news.\r\n";
            fs::write(input.join("latin1.txt"), latin1).unwrap();
            sizes.push(kept_cost(latin1.len() as u64));
            sizes.sort_unstable();
            let half: u64 = sizes[..sizes.len() / 2].iter().sum();
            let pipeline = build(&clean_args(&input, &root).pipeline, false).unwrap();
            // The middle run keeps the smaller half of the inputs.
            let jobs = collect(std::slice::from_ref(&input), None, false, &mut Vec::new()).jobs;
            proptest::prop_assert_eq!(keep_from(&largest_first(&jobs), half), jobs.len() - jobs.len() / 2);
            let mut outputs = Vec::new();
            for (n, budget) in [0, half, u64::MAX].into_iter().enumerate() {
                let out = root.join(format!("out{n}"));
                let code = clean_folder_keeping(&pipeline, &clean_args(&input, &out), &out, budget);
                proptest::prop_assert_eq!(code, EXIT_OK);
                outputs.push(files_under(&out));
            }
            proptest::prop_assert_eq!(outputs[0].len(), 2 * docs.len() + 2);
            proptest::prop_assert_eq!(&outputs[0], &outputs[1]);
            proptest::prop_assert_eq!(&outputs[0], &outputs[2]);
            let _ = fs::remove_dir_all(&root);
        }
    }

    /// The counting pass keeps exactly the smallest inputs within its budget,
    /// and only those it read whole at the size the walk saw.
    #[test]
    fn corpus_of_keeps_what_it_counted() {
        let root = scratch("keeps");
        for (name, len) in [("a", 300), ("b", 200), ("c", 100), ("d", 10), ("e", 0)] {
            fs::write(root.join(name), "Subscribe now.\n".repeat(len)).unwrap();
        }
        let pipeline = build(&clean_args(&root, &root).pipeline, false).unwrap();
        let mut jobs = collect(std::slice::from_ref(&root), None, false, &mut Vec::new()).jobs;
        let order = largest_first(&jobs);
        let sizes: Vec<u64> = order.iter().map(|j| j.size).collect();
        assert_eq!(sizes, [4500, 3000, 1500, 150, 0]);
        let lens = |kept: &[Option<Vec<u8>>]| -> Vec<Option<usize>> {
            kept.iter().map(|k| k.as_ref().map(Vec::len)).collect()
        };
        let fits = kept_cost(1500) + kept_cost(150) + kept_cost(0);
        let (corpus, kept) = corpus_of(&order, &pipeline, fits);
        assert!(corpus.is_some());
        // The smallest within the budget, and the largest (cleaned first).
        assert_eq!(
            lens(&kept),
            [Some(4500), None, Some(1500), Some(150), Some(0)]
        );
        let (_, kept) = corpus_of(&order, &pipeline, fits - 1);
        assert_eq!(lens(&kept), [Some(4500), None, None, Some(150), Some(0)]);
        let (corpus, kept) = corpus_of(&order, &pipeline, 0);
        assert!(corpus.is_some());
        assert_eq!(lens(&kept), [None; 5]);
        // Within budget, but no longer the size the walk saw: not kept (the
        // budget holds), and the cleaning pass reads it again.
        fs::write(root.join("d"), "Subscribe now.\n".repeat(11)).unwrap();
        // A file gone since the walk: skipped by the count, as before.
        fs::remove_file(root.join("e")).unwrap();
        let order = largest_first(&jobs);
        let (_, kept) = corpus_of(&order, &pipeline, u64::MAX);
        assert_eq!(
            lens(&kept),
            [Some(4500), Some(3000), Some(1500), None, None]
        );
        // One document: no counting pass, nothing kept.
        jobs.truncate(1);
        let (corpus, kept) = corpus_of(&largest_first(&jobs), &pipeline, u64::MAX);
        assert!(corpus.is_none());
        assert_eq!(kept.len(), 1);
        assert!(kept[0].is_none());
        let _ = fs::remove_dir_all(&root);
    }

    /// A file that changes between the two passes: when kept, it is cleaned
    /// as counted (better than before: count and cleaning see one version);
    /// when not kept, the cleaning pass reads the new version, as before.
    /// A file gone since the count fails as it did.
    #[test]
    fn a_file_changed_between_the_passes() {
        let root = scratch("changed");
        let input = root.join("in");
        fs::create_dir_all(&input).unwrap();
        let old = "Subscribe to our newsletter.\nOld news, “quoted”.\n";
        let new = "Subscribe to our newsletter.\nNew news, “quoted”!\n";
        fs::write(input.join("a.txt"), old).unwrap();
        fs::write(
            input.join("b.txt"),
            "Subscribe to our newsletter.\nOther.\n",
        )
        .unwrap();
        let out = root.join("out");
        let args = clean_args(&input, &out);
        let pipeline = build(&args.pipeline, false).unwrap();
        let config = notes::config_value(pipeline.config());
        let jobs = collect(std::slice::from_ref(&input), None, false, &mut Vec::new()).jobs;
        let order = largest_first(&jobs);
        let a = order
            .iter()
            .position(|j| j.rel == Path::new("a.txt"))
            .unwrap();
        let (corpus, mut kept) = corpus_of(&order, &pipeline, u64::MAX);
        let corpus = corpus.unwrap();
        fs::write(input.join("a.txt"), new).unwrap();
        fs::create_dir_all(&out).unwrap();
        let paths = outputs(&out, &order[a].rel);
        let totals = Totals::default();
        let clean = |bytes: &str| {
            pipeline
                .clean_in(bytes.as_bytes(), Some(&corpus))
                .unwrap()
                .text
        };
        let kept_a = kept[a].take();
        assert_eq!(kept_a.as_deref(), Some(old.as_bytes()));
        // Cleans input `a` from the kept bytes given (none: read again).
        let run = |kept: Option<Vec<u8>>, force: bool| {
            clean_job(
                &pipeline,
                (order[a], kept),
                &paths,
                Some(&corpus),
                &config,
                force,
                &totals,
            )
        };
        assert!(matches!(run(kept_a, true), Ok(Outcome::Cleaned)));
        assert_eq!(fs::read_to_string(&paths.0).unwrap(), clean(old));
        // The outputs are up to date for the bytes that were cleaned.
        let again = run(Some(old.as_bytes().to_vec()), false);
        assert!(matches!(again, Ok(Outcome::UpToDate)));
        assert!(matches!(run(None, true), Ok(Outcome::Cleaned)));
        assert_eq!(fs::read_to_string(&paths.0).unwrap(), clean(new));
        // Gone: the cleaning pass reports it exactly as read_job does.
        fs::remove_file(input.join("a.txt")).unwrap();
        let want = read_job(order[a]).err().unwrap();
        let Err(got) = run(None, true) else {
            panic!("a missing input must fail");
        };
        assert_eq!((got.path, got.message), (want.path, want.message));
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn version_is_not_drift() {
        let a = "{\"mend\":\"notes\",\"version\":\"0.1.0\"}\n{\"x\":1}\n";
        let b = "{\"mend\":\"notes\",\"version\":\"0.2.0\"}\n{\"x\":1}\n";
        assert!(same_notes(a, b));
        // The corpus fingerprint is not drift either; anything else is.
        let c = "{\"mend\":\"notes\",\"corpus\":\"ab\"}\n{\"x\":1}\n";
        assert!(same_notes(a, c));
        assert!(!same_notes(a, "{\"mend\":\"notes\"}\n{\"x\":2}\n"));
        assert!(!same_notes(a, "{\"mend\":\"other\"}\n{\"x\":1}\n"));
        assert!(!same_notes(a, "{\"mend\":\"notes\"}"));
        // Headers that are not JSON are compared as they are.
        assert!(same_notes("x\n{}\n", "x\n{}\n"));
        assert!(!same_notes("x\n{}\n", "y\n{}\n"));
    }
}
