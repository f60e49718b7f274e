//! Scores mend's boilerplate removal on the article-extraction benchmark
//! dev set (see `../shared/dev/README.md`).
//!
//! ```text
//! cargo run --release --example score_aeb -- [FILE.jsonl] [--verbose]
//! ```
//!
//! For each record, mend cleans `noisy_text` (markup + boilerplate, then the
//! full pipeline) and `noisy_md` (markup + boilerplate). The output is
//! compared with `gold_text` on word 4-gram shingles (tokens are `\w+`):
//! per-document precision and recall, averaged over documents, and F1 of
//! the two averages. Also printed: the share of documents whose output lost
//! more than 20% of the gold tokens. An empty output scores 0 on both.

use std::collections::HashMap;
use std::process::ExitCode;

use mend::{Config, Pipeline, Stage};
use regex::Regex;

struct Scores {
    p: Vec<f64>,
    r: Vec<f64>,
    lost: usize,
}

impl Scores {
    fn new() -> Scores {
        Scores {
            p: Vec::new(),
            r: Vec::new(),
            lost: 0,
        }
    }

    fn add(&mut self, words: &Regex, out: &str, gold: &str) -> (f64, f64, f64) {
        let o: Vec<&str> = words.find_iter(out).map(|m| m.as_str()).collect();
        let g: Vec<&str> = words.find_iter(gold).map(|m| m.as_str()).collect();
        let (os, gs) = (shingles(&o), shingles(&g));
        let tp: usize = os
            .iter()
            .map(|(k, n)| (*n).min(gs.get(k).copied().unwrap_or(0)))
            .sum();
        let (on, gn): (usize, usize) = (os.values().sum(), gs.values().sum());
        let p = if on == 0 { 0.0 } else { tp as f64 / on as f64 };
        let r = if gn == 0 { 1.0 } else { tp as f64 / gn as f64 };
        // Token recall, for the "lost more than 20%" share.
        let mut oc: HashMap<&str, usize> = HashMap::new();
        for t in &o {
            *oc.entry(t).or_insert(0) += 1;
        }
        let mut kept = 0;
        for t in &g {
            if let Some(n) = oc.get_mut(t)
                && *n > 0
            {
                *n -= 1;
                kept += 1;
            }
        }
        let tr = if g.is_empty() {
            1.0
        } else {
            kept as f64 / g.len() as f64
        };
        if tr < 0.8 {
            self.lost += 1;
        }
        self.p.push(p);
        self.r.push(r);
        (p, r, tr)
    }

    fn print(&self, name: &str) {
        let n = self.p.len().max(1) as f64;
        let p = self.p.iter().sum::<f64>() / n;
        let r = self.r.iter().sum::<f64>() / n;
        let f1 = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        println!(
            "{name:<34} F1 {f1:.3}  P {p:.3}  R {r:.3}  lost>20%: {}/{} ({:.1}%)",
            self.lost,
            self.p.len(),
            100.0 * self.lost as f64 / n
        );
    }
}

fn shingles<'a>(tokens: &[&'a str]) -> HashMap<Vec<&'a str>, usize> {
    let mut m = HashMap::new();
    if tokens.len() < 4 {
        if !tokens.is_empty() {
            m.insert(tokens.to_vec(), 1);
        }
        return m;
    }
    for w in tokens.windows(4) {
        *m.entry(w.to_vec()).or_insert(0) += 1;
    }
    m
}

fn main() -> ExitCode {
    let mut path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/dev/boilerplate-aeb-dev.jsonl"
    )
    .to_owned();
    let mut verbose = false;
    let mut dump: Option<usize> = None;
    let mut use_md = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--verbose" || a == "-v" {
            verbose = true;
        } else if a == "--md" {
            use_md = true;
        } else if a == "--dump" {
            dump = args.next().and_then(|n| n.parse().ok());
        } else {
            path = a;
        }
    }
    let data = match std::fs::read_to_string(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("score_aeb: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let Ok(words) = Regex::new(r"\w+") else {
        return ExitCode::from(2);
    };
    let text_stages = Pipeline::new(Config {
        stages: [Stage::Markup, Stage::Boilerplate].into_iter().collect(),
        ..Default::default()
    });
    let full = Pipeline::default();
    let (mut keep_all, mut mb, mut all, mut md) =
        (Scores::new(), Scores::new(), Scores::new(), Scores::new());
    let mut not_idempotent = 0;
    for (n, line) in data.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let rec: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("score_aeb: {path}:{}: {e}", n + 1);
                return ExitCode::from(2);
            }
        };
        let field = |k: &str| rec.get(k).and_then(|v| v.as_str()).unwrap_or("");
        let (noisy, gold, noisy_md) = (field("noisy_text"), field("gold_text"), field("noisy_md"));
        keep_all.add(&words, noisy, gold);
        let out = text_stages.clean_str(noisy).text;
        let (noisy, out) = if use_md {
            (noisy_md, text_stages.clean_str(noisy_md).text)
        } else {
            (noisy, out)
        };
        let (p, r, tr) = mb.add(&words, &out, gold);
        // The stages must be idempotent: a second run changes nothing.
        let again = text_stages.clean_str(&out);
        if again.text != out {
            not_idempotent += 1;
            if verbose {
                for e in again.edits.iter().filter(|e| !e.finding) {
                    println!("    second run: {} {:?}", e.rule, e.removed);
                }
            }
        }
        if dump == Some(n) {
            // Every input line: kept (K) or dropped, and whether gold has it (G).
            let kept: std::collections::HashSet<&str> = out.lines().map(str::trim).collect();
            for l in noisy.lines() {
                let t = l.trim();
                if t.is_empty() {
                    continue;
                }
                let k = if kept.contains(t) { 'K' } else { ' ' };
                let g = if gold.contains(t) { 'G' } else { ' ' };
                println!("{k}{g} {}", t.chars().take(110).collect::<String>());
            }
        }
        let Ok(out_full) = full.clean(noisy.as_bytes()) else {
            eprintln!("score_aeb: record {} refused as binary", n + 1);
            return ExitCode::from(2);
        };
        all.add(&words, &out_full.text, gold);
        if text_stages.clean_str(&out_full.text).text != out_full.text {
            not_idempotent += 1;
            if verbose {
                println!("    markup+boilerplate change the full pipeline's output of record {n}");
            }
        }
        let out_md = text_stages.clean_str(noisy_md).text;
        md.add(&words, &out_md, gold);
        if text_stages.clean_str(&out_md).text != out_md {
            not_idempotent += 1;
            if verbose {
                println!("    second run changes the noisy_md output of record {n}");
            }
        }
        if verbose {
            println!(
                "{:>3} P {p:.2} R {r:.2} tokR {tr:.2}  {}",
                n,
                field("url").chars().take(70).collect::<String>()
            );
        }
    }
    keep_all.print("keep everything (noisy_text)");
    mb.print(if use_md {
        "markup+boilerplate (--md: noisy_md)"
    } else {
        "markup+boilerplate (noisy_text)"
    });
    all.print("full pipeline (noisy_text)");
    md.print("markup+boilerplate (noisy_md)");
    println!("documents where a second run still changes something: {not_idempotent}");
    ExitCode::SUCCESS
}
