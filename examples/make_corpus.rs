//! Writes the deterministic news corpus of the performance measurement.
//!
//! ```sh
//! cargo run --release --example make_corpus -- DIR [--dev FILE] [--raw DIR] [--mb N] [--files N] [--seed N]
//! ```
//!
//! `DIR/files/NN/dNNNNNN.txt` (about 20,000 files, many tiny, three of
//! 10 to 20 MB) and `DIR/corpus.jsonl` (the same documents, one
//! `{"id", "text", "url"}` record per line), about 100 MB each. The text is
//! real: the paragraphs of `raw/` and of the development pages
//! (`../shared/dev/boilerplate-aeb-dev.jsonl`), recombined, with the damage
//! of scraped news: boilerplate lines in most documents, mojibake in one
//! paragraph of about 3% of them, HTML entities, curly and
//! machine-translated quotes, NO-BREAK SPACEs, CRLF in some.
//! `DIR/files` is replaced if it exists. `DIR/SIZES` is written last and
//! says the corpus is complete.

#[path = "support/news.rs"]
mod news;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use news::{Damage, Pool, Rng};

/// The sizes of the big documents, in MB, and where they go in file order.
const BIG: [(usize, usize); 3] = [(10, 4_999), (12, 9_999), (20, 14_999)];

struct Args {
    dir: PathBuf,
    dev: PathBuf,
    raw: PathBuf,
    mb: usize,
    files: usize,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = Args {
        dir: PathBuf::new(),
        dev: root.join("../shared/dev/boilerplate-aeb-dev.jsonl"),
        raw: root.join("raw"),
        mb: 100,
        files: 20_000,
        seed: 6,
    };
    let mut dir = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--dev" => args.dev = PathBuf::from(value("--dev")?),
            "--raw" => args.raw = PathBuf::from(value("--raw")?),
            "--mb" => args.mb = value("--mb")?.parse().map_err(|e| format!("--mb: {e}"))?,
            "--files" => {
                args.files = value("--files")?
                    .parse()
                    .map_err(|e| format!("--files: {e}"))?
            }
            "--seed" => {
                args.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "-h" | "--help" => {
                return Err(
                    "usage: make_corpus DIR [--dev FILE] [--raw DIR] [--mb N] [--files N] [--seed N]"
                        .to_owned(),
                );
            }
            _ if a.starts_with('-') => return Err(format!("unknown option {a}")),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    args.dir = dir.ok_or("usage: make_corpus DIR (see --help)")?;
    Ok(args)
}

/// The target size of each document: log-uniform between 100 B and 15 KB
/// (median about 1.2 KB), scaled so that all of them and the big ones
/// make `total` bytes.
fn sizes(rng: &mut Rng, files: usize, total: usize) -> Vec<usize> {
    let big: Vec<(usize, usize)> = if files > 15_000 {
        BIG.iter().map(|&(mb, at)| (mb * 1_000_000, at)).collect()
    } else {
        Vec::new()
    };
    let big_total: usize = big.iter().map(|b| b.0).sum();
    let (lo, hi) = (100f64.ln(), 15_000f64.ln());
    let mut v: Vec<f64> = (0..files)
        .map(|_| (lo + rng.unit() * (hi - lo)).exp())
        .collect();
    // Documents come out about 23% over their target (whole paragraphs,
    // headline and boilerplate lines).
    let small_total = total.saturating_sub(big_total) as f64 / 1.23;
    let scale = small_total / v.iter().sum::<f64>();
    for x in &mut v {
        *x *= scale;
    }
    let mut out: Vec<usize> = v.into_iter().map(|x| x as usize).collect();
    for (size, at) in big {
        if at < out.len() {
            out[at] = size;
        }
    }
    out
}

#[derive(serde::Serialize)]
struct Record<'a> {
    id: &'a str,
    text: &'a str,
    url: &'a str,
}

fn run(args: &Args) -> io::Result<()> {
    let mut pool = Pool::new();
    let articles = news::read_articles(&args.raw)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", args.raw.display())))?;
    pool.add_raw(&articles);
    let dev = fs::read_to_string(&args.dev)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", args.dev.display())))?;
    pool.add_dev(&dev)?;

    let files_dir = args.dir.join("files");
    if files_dir.exists() {
        fs::remove_dir_all(&files_dir)?;
    }
    let _ = fs::remove_file(args.dir.join("SIZES"));
    fs::create_dir_all(&files_dir)?;
    let mut jsonl =
        BufWriter::with_capacity(1 << 20, fs::File::create(args.dir.join("corpus.jsonl"))?);

    let mut rng = Rng::new(args.seed);
    let targets = sizes(&mut rng, args.files, args.mb * 1_000_000);
    let (mut total, mut largest, mut mojibake, mut crlf) = (0usize, 0usize, 0usize, 0usize);
    let mut under_1k = 0usize;
    for (i, &target) in targets.iter().enumerate() {
        let d = Damage::draw(&mut rng);
        let text = news::document(&mut rng, &pool, target, d);
        let sub = files_dir.join(format!("{:02}", i / 1000));
        if i % 1000 == 0 {
            fs::create_dir_all(&sub)?;
        }
        let id = format!("d{i:06}");
        fs::write(sub.join(format!("{id}.txt")), &text)?;
        let url = format!("https://{}/news/{id}", rng.pick(&pool.hosts));
        serde_json::to_writer(
            &mut jsonl,
            &Record {
                id: &id,
                text: &text,
                url: &url,
            },
        )?;
        jsonl.write_all(b"\n")?;
        total += text.len();
        largest = largest.max(text.len());
        mojibake += usize::from(d.mojibake);
        crlf += usize::from(d.crlf);
        under_1k += usize::from(text.len() < 1000);
    }
    jsonl.flush()?;
    let summary = format!(
        "files {}\nbytes {total}\nlargest {largest}\nunder_1k {under_1k}\nmojibake {mojibake}\ncrlf {crlf}\n",
        targets.len()
    );
    fs::write(args.dir.join("SIZES"), &summary)?;
    eprint!("{summary}");
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("make_corpus: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("make_corpus: {e}");
            ExitCode::FAILURE
        }
    }
}
