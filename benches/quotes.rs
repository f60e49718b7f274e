//! Throughput of the quotes stage (`cargo bench --bench quotes`).
//!
//! Three inputs of about 1 MB each: the five raw articles repeated (mixed
//! English with curly and straight quotes and Russian MT attribution), the
//! same made pure ASCII in ascii style (the fast path that still has work),
//! and plain ASCII prose with no quote, apostrophe or slash (the early exit).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mend::{Config, Pipeline, QuoteStyle, Stage};

fn raw_corpus() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("raw");
    let dir = if dir.is_dir() {
        dir
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/raw")
    };
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.sort();
    let mut one = String::new();
    for p in paths {
        if p.extension().is_some_and(|e| e == "txt") {
            one.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            one.push_str("\n\n");
        }
    }
    if one.is_empty() {
        one = "“We regret, – said Peskov. – Any refusal”. It's \"fine\".\n\n".to_owned();
    }
    repeat_to(&one, 1 << 20)
}

fn repeat_to(s: &str, n: usize) -> String {
    let mut out = String::with_capacity(n + s.len());
    while out.len() < n {
        out.push_str(s);
    }
    out
}

fn pipeline(style: QuoteStyle) -> Pipeline {
    Pipeline::new(Config {
        stages: [Stage::Quotes].into_iter().collect(),
        quotes: style,
        ..Default::default()
    })
}

fn bench(c: &mut Criterion) {
    let mixed = raw_corpus();
    let ascii: String = mixed
        .chars()
        .map(|ch| match ch {
            '“' | '”' => '"',
            '‘' | '’' => '\'',
            '–' | '—' => '-',
            c if c.is_ascii() => c,
            _ => ' ',
        })
        .collect();
    let plain = repeat_to(
        "Russia has been carrying out air strikes in Syria since Sept. 30, officials said on Thursday - and more.\n\n",
        1 << 20,
    );
    let mut g = c.benchmark_group("quotes");
    g.sample_size(20);
    for (name, text, style) in [
        ("raw-mixed-curly", &mixed, QuoteStyle::Curly),
        ("raw-ascii-ascii", &ascii, QuoteStyle::Ascii),
        ("plain-ascii-ascii", &plain, QuoteStyle::Ascii),
    ] {
        let p = pipeline(style);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| black_box(p.clean_str(black_box(text)))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
