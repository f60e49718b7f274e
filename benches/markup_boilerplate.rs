//! Throughput of the markup and boilerplate stages.
//!
//! Input: the `noisy_text` and `noisy_md` of the AEB dev pages
//! (`../shared/dev/boilerplate-aeb-dev.jsonl`) when present, else the raw
//! articles in `raw/`.
//!
//! ```text
//! cargo bench --bench markup_boilerplate
//! ```

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mend::{Config, Pipeline, Stage};

fn corpus() -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let dev = format!("{root}/../shared/dev/boilerplate-aeb-dev.jsonl");
    if let Ok(data) = std::fs::read_to_string(dev) {
        let mut docs = Vec::new();
        for line in data.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            for k in ["noisy_text", "noisy_md"] {
                if let Some(s) = v.get(k).and_then(|s| s.as_str()) {
                    docs.push(s.to_owned());
                }
            }
        }
        if !docs.is_empty() {
            return docs;
        }
    }
    let mut docs = Vec::new();
    if let Ok(dir) = std::fs::read_dir(format!("{root}/raw")) {
        for e in dir.flatten() {
            if let Ok(s) = std::fs::read_to_string(e.path()) {
                docs.push(s);
            }
        }
    }
    docs
}

fn pipeline(stages: &[Stage]) -> Pipeline {
    Pipeline::new(Config {
        stages: stages.iter().copied().collect(),
        ..Default::default()
    })
}

fn bench(c: &mut Criterion) {
    let docs = corpus();
    let bytes: usize = docs.iter().map(String::len).sum();
    let mut g = c.benchmark_group("markup_boilerplate");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    for (name, stages) in [
        ("markup", &[Stage::Markup][..]),
        ("boilerplate", &[Stage::Boilerplate][..]),
        (
            "markup+boilerplate",
            &[Stage::Markup, Stage::Boilerplate][..],
        ),
    ] {
        let p = pipeline(stages);
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0;
                for d in &docs {
                    n += p.clean_str(d).text.len();
                }
                n
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
