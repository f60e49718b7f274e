//! Throughput of the whole pipeline and of each stage alone, on three
//! inputs of about 256 KB each, cut into news-sized documents:
//!
//! - `ascii`: clean English news paragraphs, pure ASCII (the gold text of
//!   the development pages when `../shared/dev` is there, else the ASCII
//!   lines of `raw/`);
//! - `non-ascii`: clean news paragraphs in Cyrillic, Greek, Vietnamese,
//!   CJK, Arabic and accented Latin, with their curly quotes;
//! - `damaged`: the `raw/` articles recombined, with boilerplate lines,
//!   mojibake, HTML entities, curly and machine-translated quotes,
//!   NO-BREAK SPACEs and CRLF in every document.
//!
//! A stage alone runs as `decode` + that stage (decode makes bytes into
//! text). `cargo bench --bench pipeline` takes a few minutes.

#[path = "../examples/support/news.rs"]
mod news;

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mend::{Config, Pipeline, Stage};

use news::{Damage, Pool, Rng};

/// Bytes per input.
const TOTAL: usize = 256 * 1024;
/// Bytes per document.
const DOC: usize = 4 * 1024;

/// The three inputs, each a list of documents.
fn inputs() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let articles = news::read_articles(&root.join("raw")).unwrap_or_default();
    let mut rng = Rng::new(6);

    let mut dev = Pool::new();
    if let Ok(s) = std::fs::read_to_string(root.join("../shared/dev/boilerplate-aeb-dev.jsonl")) {
        let _ = dev.add_dev(&s);
    }
    let mut ascii = dev.ascii.clone();
    if ascii.is_empty() {
        ascii = articles
            .iter()
            .flat_map(|a| a.lines())
            .filter(|l| l.is_ascii() && l.len() > 80)
            .map(str::to_owned)
            .collect();
    }
    let non_ascii: Vec<String> = news::NON_ASCII_PARAGRAPHS
        .iter()
        .map(|s| s.to_string())
        .chain(
            dev.non_ascii
                .iter()
                .skip(news::NON_ASCII_PARAGRAPHS.len())
                .cloned(),
        )
        .collect();

    let mut raw = Pool::new();
    raw.titles = dev.titles.clone();
    raw.add_raw(&articles);
    let mut damaged = Vec::new();
    let mut sum = 0;
    while sum < TOTAL {
        let doc = news::document(&mut rng, &raw, DOC, Damage::all());
        sum += doc.len();
        damaged.push(doc);
    }

    let bytes = |docs: Vec<String>| docs.into_iter().map(String::into_bytes).collect();
    vec![
        (
            "ascii",
            bytes(news::clean_documents(&mut rng, &ascii, DOC, TOTAL)),
        ),
        (
            "non-ascii",
            bytes(news::clean_documents(&mut rng, &non_ascii, DOC, TOTAL)),
        ),
        ("damaged", bytes(damaged)),
    ]
}

fn bench(c: &mut Criterion) {
    let mut runs: Vec<(String, Pipeline)> = vec![("all".to_owned(), Pipeline::default())];
    for stage in Stage::ALL {
        let config = Config {
            stages: [Stage::Decode, stage].into_iter().collect(),
            ..Default::default()
        };
        runs.push((stage.name().to_owned(), Pipeline::new(config)));
    }
    for (name, docs) in inputs() {
        let total: usize = docs.iter().map(Vec::len).sum();
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(total as u64));
        for (run, pipeline) in &runs {
            group.bench_with_input(BenchmarkId::from_parameter(run), &docs, |b, docs| {
                b.iter(|| {
                    for d in docs {
                        let _ = black_box(pipeline.clean(black_box(d)));
                    }
                });
            });
        }
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench
}
criterion_main!(benches);
