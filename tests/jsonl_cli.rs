//! `mend clean --format jsonl` with the real binary.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};

fn mend() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mend"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("mend runs")
}

fn records(n: usize) -> String {
    (0..n)
        .map(|i| format!("{{\"id\":{i},\"text\":\"doc {i}\\u00a0text  \\r\\n\\r\\n\\r\\nend\",\"n\":{i}.50}}\n"))
        .collect()
}

/// Cleans `input` (JSON lines, with `args`) with one thread and with two
/// into `dir`; asserts both succeed with the same output, and returns it.
fn same_with_one_and_two_threads(dir: &Path, input: &Path, args: &[&str]) -> String {
    let mut outs = Vec::new();
    for j in ["1", "2"] {
        let out = dir.join(format!("out{j}.jsonl"));
        let o = run(mend()
            .args(["clean", "--format", "jsonl", "-j", j])
            .args(args)
            .arg(input)
            .arg("-o")
            .arg(&out));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outs.push(fs::read_to_string(&out).expect("read"));
    }
    assert_eq!(outs[0], outs[1]);
    outs.swap_remove(0)
}

#[test]
fn order_is_kept_whatever_the_thread_count_and_fields_are_untouched() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in.jsonl");
    fs::write(&input, records(10_000)).expect("write");
    let out = same_with_one_and_two_threads(tmp.path(), &input, &[]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 10_000);
    assert_eq!(
        lines[9_999],
        "{\"id\":9999,\"text\":\"doc 9999 text\\n\\nend\",\"n\":9999.50}"
    );
}

/// Long records (each a batch of its own, more than the usual window lets
/// in behind it) among many short ones: every record comes out once, in
/// input order, the same with one thread and two.
#[test]
fn long_records_among_short_ones_keep_their_order() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in.jsonl");
    let long = "Long paragraph of the record. ".repeat(100_000);
    let mut text = String::new();
    for i in 0..30_000 {
        if i % 10_000 == 5_000 {
            text.push_str(&format!("{{\"id\":{i},\"text\":\"{long}{i}\"}}\n"));
        } else {
            text.push_str(&format!("{{\"id\":{i},\"text\":\"short {i}\"}}\n"));
        }
    }
    fs::write(&input, text).expect("write");
    let out = same_with_one_and_two_threads(tmp.path(), &input, &["--only", "normalize"]);
    let ids: Vec<usize> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            let id = v["id"].as_u64().expect("id") as usize;
            let text = v["text"].as_str().expect("text");
            assert!(
                text.ends_with(&id.to_string()),
                "record {id} has another's text"
            );
            id
        })
        .collect();
    assert_eq!(ids, (0..30_000).collect::<Vec<_>>());
}

#[test]
fn compressed_shards_notes_attributes_and_rejects() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let shards = tmp.path().join("shards");
    fs::create_dir(&shards).expect("mkdir");
    let body = format!(
        "{}not json\n{{\"id\":\"x\",\"body\":\"no text\"}}\n",
        records(3)
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).expect("gz");
    fs::write(shards.join("a.jsonl.gz"), gz.finish().expect("gz")).expect("write");
    fs::write(
        shards.join("b.jsonl.zst"),
        zstd::encode_all(records(2).as_bytes(), 3).expect("zst"),
    )
    .expect("write");
    let out = tmp.path().join("out");
    let notes = tmp.path().join("notes");
    let attrs = tmp.path().join("attributes");
    let rejects = tmp.path().join("rejects");
    let o = run(mend()
        .args(["clean", "--format", "jsonl"])
        .arg(&shards)
        .arg("-o")
        .arg(&out)
        .arg("--notes")
        .arg(&notes)
        .arg("--attributes")
        .arg(&attrs)
        .arg("--rejects")
        .arg(&rejects));
    assert_eq!(
        o.status.code(),
        Some(2),
        "bad records make the run fail at the end"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("a.jsonl.gz:4: not a JSON object"), "{err}");
    assert!(
        err.contains("a.jsonl.gz:5: no string field \"text\""),
        "{err}"
    );
    let mut a = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(out.join("a.jsonl.gz")).expect("out a"))
        .read_to_string(&mut a)
        .expect("gunzip");
    assert_eq!(a.lines().count(), 3);
    let b =
        zstd::decode_all(fs::File::open(out.join("b.jsonl.zst")).expect("out b")).expect("unzstd");
    assert_eq!(String::from_utf8(b).expect("utf8").lines().count(), 2);
    // Notes restore each record's text.
    let mut n = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(notes.join("a.jsonl.gz")).expect("notes a"))
        .read_to_string(&mut n)
        .expect("gunzip");
    for (rec, note) in a.lines().zip(n.lines()) {
        let v: serde_json::Value = serde_json::from_str(rec).expect("json");
        let clean = v["text"].as_str().expect("text");
        let original = mend::jsonl::restore_text(clean, note).expect("restore");
        assert!(original.ends_with("\r\n\r\n\r\nend"), "{original:?}");
    }
    assert!(attrs.join("b.jsonl.zst").exists());
    let mut r = String::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(rejects.join("a.jsonl.gz")).expect("rejects"))
        .read_to_string(&mut r)
        .expect("gunzip");
    assert_eq!(r, "not json\n{\"id\":\"x\",\"body\":\"no text\"}\n");
}

#[test]
fn text_field_and_inline_notes_from_stdin() {
    let mut child = mend()
        .args([
            "clean",
            "--format",
            "jsonl",
            "--text-field",
            "body",
            "--notes",
            "inline",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"{\"body\":\"a\\u00a0b\",\"text\":\"a\\u00a0b\"}\n")
        .expect("write");
    let o = child.wait_with_output().expect("wait");
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.starts_with("{\"body\":\"a b\",\"text\":\"a\\u00a0b\",\"mend\":{\"edits\":[{"),
        "{s}"
    );
    assert!(Path::new(env!("CARGO_BIN_EXE_mend")).exists());
}
