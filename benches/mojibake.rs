//! Throughput of the mojibake stage (issue 3): clean ASCII, clean non-ASCII
//! text in many scripts, clean Cyrillic, and damaged text.
//!
//! `cargo bench --bench mojibake`

#[path = "../tests/data/mojibake/devset.rs"]
mod devset;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mend::{Config, Pipeline, Stage};

/// About `size` bytes of `pieces`, one per paragraph, repeated.
fn corpus<'a>(pieces: impl Iterator<Item = &'a str> + Clone, size: usize) -> String {
    let mut out = String::with_capacity(size + 1024);
    while out.len() < size {
        for p in pieces.clone() {
            out.push_str(p);
            out.push_str("\n\n");
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let p = Pipeline::new(Config {
        stages: [Stage::Mojibake].into_iter().collect(),
        ..Config::default()
    });
    let size = 1 << 20;
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/raw/000_738c63d233fd7dd5.txt"
    ))
    .unwrap_or_else(|_| "The minister said on Thursday that talks would resume.".into());
    let ascii: String = corpus(std::iter::once(raw.as_str()), size)
        .chars()
        .filter(char::is_ascii)
        .collect();
    let cyrillic = corpus(
        devset::SENTENCES
            .iter()
            .filter(|(l, _)| matches!(*l, "ru" | "uk" | "bg"))
            .map(|(_, s)| *s),
        size,
    );
    let mixed = corpus(devset::SENTENCES.iter().map(|(_, s)| *s), size);
    let cases = devset::damaged_set();
    let damaged = corpus(cases.iter().map(|c| c.damaged.as_str()), size);

    let mut g = c.benchmark_group("mojibake");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    for (name, text) in [
        ("clean-ascii", &ascii),
        ("clean-cyrillic", &cyrillic),
        ("clean-mixed-scripts", &mixed),
        ("damaged", &damaged),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| p.clean_str(black_box(text))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
