//! Runs the mojibake stage alone on the development set and prints
//! repaired / total and false changes / clean total; with arguments, shows
//! the edits made to each argument.
//!
//! `cargo run --release --example mojibake_eval [TEXT...]`

#[path = "../tests/data/mojibake/devset.rs"]
mod devset;

use mend::{Config, Pipeline, Stage};

fn main() {
    let p = Pipeline::new(Config {
        stages: [Stage::Mojibake].into_iter().collect(),
        ..Config::default()
    });
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        for a in &args {
            let out = p.clean_str(a);
            println!("{a:?}\n -> {:?}", out.text);
            for n in &out.edits {
                println!(
                    "    {} {:?} -> {:?}: {}",
                    n.rule, n.removed, n.inserted, n.why
                );
            }
        }
        return;
    }
    let damaged = devset::damaged_set();
    let repaired = damaged
        .iter()
        .filter(|c| p.clean_str(&c.damaged).text == c.clean)
        .count();
    let clean = devset::clean_set(damaged.len());
    let false_changes = clean.iter().filter(|s| p.clean_str(s).text != **s).count();
    println!("repaired {repaired}/{}", damaged.len());
    println!("false changes {false_changes}/{}", clean.len());
}
