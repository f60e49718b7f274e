//! Issue 8 on the real binary: hostile inputs and outputs, crashes and
//! interruptions. Each case gets a clear error naming the file, or a
//! recorded edit; nothing is half-written; a re-run finishes the job.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::cli::*;

/// A folder of `n` news-like files of about 16 KB each, made from raw/.
fn many_files(dir: &Path, n: usize) {
    let raw: Vec<Vec<u8>> = walk(&common::raw_dir())
        .into_iter()
        .map(|p| fs::read(p).expect("read raw"))
        .collect();
    fs::create_dir_all(dir).expect("mkdir");
    for i in 0..n {
        let mut doc = Vec::new();
        for k in 0..4 {
            doc.extend_from_slice(&raw[(i + k) % raw.len()]);
            doc.extend_from_slice(format!("\n\nParagraph {i}.{k} of the story.\n\n").as_bytes());
        }
        fs::write(dir.join(format!("d{i:04}.txt")), doc).expect("write");
    }
}

/// `mend clean -j 1 INPUT -o OUT`, which must succeed; its stderr.
fn clean_one_thread(input: &Path, out: &Path) -> String {
    let o = run(mend()
        .args(["clean", "-j", "1"])
        .arg(input)
        .arg("-o")
        .arg(out));
    assert!(o.status.success(), "{}", stderr(&o));
    stderr(&o)
}

/// Every file under `out` must be byte-equal to the same file of the
/// uninterrupted run `reference`: never half-written, never a temp file.
fn all_complete(out: &Path, reference: &[(PathBuf, Vec<u8>)]) {
    if !out.exists() {
        return;
    }
    for (rel, bytes) in snapshot(out) {
        let want = reference
            .iter()
            .find(|(r, _)| *r == rel)
            .unwrap_or_else(|| panic!("{} is not an output of the run", rel.display()));
        assert!(
            want.1 == bytes,
            "{} is incomplete or differs",
            rel.display()
        );
    }
}

#[test]
fn killed_or_interrupted_runs_leave_only_complete_files_and_a_rerun_finishes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    many_files(&input, 160);
    let reference_dir = tmp.path().join("reference");
    let o = run(mend()
        .args(["clean", "-j", "1"])
        .arg(&input)
        .arg("-o")
        .arg(&reference_dir));
    assert!(o.status.success(), "{}", stderr(&o));
    let reference = snapshot(&reference_dir);
    assert_eq!(reference.len(), 320);

    // SIGKILL at three moments: whatever is visible is complete; a re-run
    // (not forced) gives exactly the uninterrupted output.
    for delay_ms in [30, 150, 400] {
        let out = tmp.path().join(format!("killed-{delay_ms}"));
        let mut child = mend()
            .args(["clean", "-j", "1"])
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        all_complete(&out, &reference);
        clean_one_thread(&input, &out);
        assert_eq!(
            snapshot(&out),
            reference,
            "re-run after a kill at {delay_ms} ms"
        );
    }

    // Ctrl-C (SIGINT) once the first outputs appear: a clean stop, exit
    // 130, a message saying how far it got; the re-run does the rest only.
    let out = tmp.path().join("interrupted");
    let child = mend()
        .args(["clean", "-j", "1"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while !out.join("d0000.notes.jsonl").exists() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let o = child.wait_with_output().expect("wait");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("mend: interrupted: "), "{err}");
    all_complete(&out, &reference);
    let done_before = walk(&out).len() / 2;
    assert!(done_before < 160, "the run was not interrupted");
    let err = clean_one_thread(&input, &out);
    assert!(
        err.contains(&format!("{} files,", 160 - done_before))
            || err.contains(&format!("{} files,", 160 - done_before + 1)),
        "only what was left is redone: {err}"
    );
    assert_eq!(snapshot(&out), reference);
}

#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_are_cleaned_under_the_same_name() {
    use std::os::unix::ffi::OsStrExt;
    let (tmp, raw) = fixture();
    let name = std::ffi::OsStr::from_bytes(b"caf\xE9.txt");
    fs::write(raw.join(name), "Caf\u{e9} news \"quoted\".\n").expect("write");
    let out = tmp.path().join("out");
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = fs::read_to_string(out.join(name)).expect("clean file under the raw name");
    assert_eq!(text, "Caf\u{e9} news \u{201c}quoted\u{201d}.\n");
    let notes_name = std::ffi::OsStr::from_bytes(b"caf\xE9.notes.jsonl");
    let notes = fs::read_to_string(out.join(notes_name)).expect("notes");
    assert!(notes.contains("\"path\":\"caf\u{FFFD}.txt\""), "{notes}");
    let o = run(mend().arg("check").arg(&raw).arg("-o").arg(&out));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn symbolic_links_loops_and_links_out_of_the_output_folder() {
    use std::os::unix::fs::symlink;
    let (tmp, raw) = fixture();
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&elsewhere).expect("mkdir");
    fs::write(elsewhere.join("linked.txt"), "A linked story.\n").expect("write");
    let sub = raw.join("sub");
    fs::create_dir(&sub).expect("mkdir");
    fs::write(sub.join("a.txt"), "A story in a subfolder.\n").expect("write");
    symlink(&raw, sub.join("loop")).expect("symlink loop");
    symlink(&elsewhere, raw.join("linked")).expect("symlink dir");

    // Without --follow: links are passed over and counted.
    let out = tmp.path().join("out");
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&out));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("6 files"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 symbolic links not followed"),
        "{}",
        stderr(&o)
    );
    assert!(!out.join("linked").exists());

    // With --follow: the loop is reported, the rest is cleaned.
    let out2 = tmp.path().join("out2");
    let o = run(mend()
        .args(["clean", "--follow"])
        .arg(&raw)
        .arg("-o")
        .arg(&out2));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("loop: symbolic link loop (back to"), "{err}");
    assert!(out2.join("linked/linked.txt").exists(), "{err}");
    assert!(out2.join("sub/a.txt").exists(), "{err}");
    assert!(err.contains("7 files") && err.contains("1 failed"), "{err}");

    // A link given on the command line is followed.
    let o = run(mend()
        .arg("clean")
        .arg(raw.join("linked"))
        .arg("-o")
        .arg(tmp.path().join("out3")));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(tmp.path().join("out3/linked.txt").exists());

    // A link inside the output folder that leads out of it is never
    // written through.
    let out4 = tmp.path().join("out4");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&out4).expect("mkdir");
    fs::create_dir(&outside).expect("mkdir");
    symlink(&outside, out4.join("sub")).expect("symlink");
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&out4));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("leads outside the output folder"), "{err}");
    assert!(
        err.contains("a.txt: its output folder was refused"),
        "{err}"
    );
    assert_eq!(fs::read_dir(&outside).expect("read").count(), 0);
    assert!(out4.join("000_738c63d233fd7dd5.txt").exists());
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    /// Mounts a tmpfs at `dir` with `options`; `None` when this process may
    /// not mount (not root): the caller then says it skipped.
    fn tmpfs(dir: &Path, options: &str) -> Option<Mount> {
        fs::create_dir_all(dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_or_a_read_only_output_folder_leaves_no_partial_file() {
    let (tmp, raw) = fixture();
    // One input far larger than the disk, between the small ones.
    let mut big = Vec::new();
    while big.len() < 400_000 {
        big.extend_from_slice(b"A long report that does not fit on the disk. ");
    }
    fs::write(raw.join("001_big.txt"), &big).expect("write");
    let reference_dir = tmp.path().join("reference");
    assert!(
        run(mend().arg("clean").arg(&raw).arg("-o").arg(&reference_dir))
            .status
            .success()
    );
    let reference = snapshot(&reference_dir);

    let full = tmp.path().join("full");
    let Some(_mount) = Mount::tmpfs(&full, "size=128k") else {
        eprintln!("skipped: cannot mount a tmpfs here (not root)");
        return;
    };
    let o = run(mend()
        .args(["clean", "-j", "1"])
        .arg(&raw)
        .arg("-o")
        .arg(&full));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("001_big.txt: No space left on device"),
        "{err}"
    );
    all_complete(&full, &reference);
    assert!(full.join("000_738c63d233fd7dd5.txt").exists(), "{err}");

    let ro = tmp.path().join("ro");
    let Some(_mount) = Mount::tmpfs(&ro, "ro,size=64k") else {
        return;
    };
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(ro.join("out")));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("Read-only file system"), "{err}");
}

#[test]
fn an_output_folder_that_is_a_file_is_an_error() {
    let (tmp, raw) = fixture();
    let file = tmp.path().join("file");
    fs::write(&file, "x").expect("write");
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&file));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("mend: {}: ", file.display())),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&file).expect("read"), "x");
}

#[test]
fn awkward_bytes_are_edits_and_binary_files_are_skipped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    fs::create_dir(&input).expect("mkdir");
    let cases: &[(&str, &[u8])] = &[
        ("empty.txt", b""),
        ("bom.txt", b"\xEF\xBB\xBF"),
        ("utf16le.txt", b"\xFF\xFEh\x00i\x00\n\x00"),
        ("utf16be.txt", b"\xFE\xFF\x00h\x00i\x00\n"),
        (
            "utf16le-nobom.txt",
            b"h\x00e\x00l\x00l\x00o\x00 \x00t\x00h\x00e\x00r\x00e\x00\n\x00",
        ),
        (
            "utf16be-nobom.txt",
            b"\x00h\x00e\x00l\x00l\x00o\x00 \x00t\x00h\x00e\x00r\x00e\x00\n",
        ),
        ("invalid.txt", b""), // written below
        ("nul.txt", b"text\x00with a NUL\n"),
    ];
    // (A `&str` cannot hold invalid bytes: build that one by hand.) Mostly
    // valid UTF-8, so it stays UTF-8 and each bad sequence becomes U+FFFD.
    let mut invalid = "Caf\u{e9} \u{201c}ok\u{201d}: na\u{ef}ve r\u{e9}sum\u{e9} in Z\u{fc}rich and \u{41c}\u{43e}\u{441}\u{43a}\u{432}\u{430}; truncated "
        .as_bytes()
        .to_vec();
    invalid.extend_from_slice(
        b"\xE2\x82, overlong \xC0\xAF, surrogate \xED\xA0\x80, high \xF5\xFF.\n",
    );
    for (name, bytes) in cases {
        let bytes = if *name == "invalid.txt" {
            &invalid[..]
        } else {
            bytes
        };
        fs::write(input.join(name), bytes).expect("write");
    }
    let out = tmp.path().join("out");
    let o = run(mend().arg("clean").arg(&input).arg("-o").arg(&out));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("nul.txt: binary file, skipped"), "{err}");
    assert!(err.contains("7 files") && err.contains("1 failed"), "{err}");
    let read = |n: &str| fs::read_to_string(out.join(n)).expect("clean file");
    assert_eq!(read("empty.txt"), "");
    assert_eq!(read("bom.txt"), "");
    assert_eq!(read("utf16le.txt"), "hi\n");
    assert_eq!(read("utf16be.txt"), "hi\n");
    assert_eq!(read("utf16le-nobom.txt"), "hello there\n");
    assert_eq!(read("utf16be-nobom.txt"), "hello there\n");
    let fixed = read("invalid.txt");
    assert!(
        fixed.contains(
            "\u{41c}\u{43e}\u{441}\u{43a}\u{432}\u{430}; truncated \u{FFFD}, overlong \u{FFFD}"
        ),
        "{fixed}"
    );
    // Every input comes back byte for byte from its clean text and notes.
    for (name, _) in cases.iter().filter(|(n, _)| *n != "nul.txt") {
        let restored = tmp.path().join(format!("{name}.restored"));
        let o = run(mend()
            .arg("restore")
            .arg(out.join(name))
            .arg("-o")
            .arg(&restored));
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert_eq!(
            fs::read(&restored).expect("restored"),
            fs::read(input.join(name)).expect("input"),
            "{name}"
        );
    }
}

#[test]
fn bad_json_lines_records_are_reported_by_line_and_the_rest_is_cleaned() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in.jsonl");
    let long = "x".repeat(5000);
    let lines = [
        r#"{"id":1,"text":"fine\u00a0one"}"#.to_owned(),
        "not json at all".to_owned(),
        r#"{"id":3,"body":"no text field"}"#.to_owned(),
        r#"{"id":4,"text":42}"#.to_owned(),
        format!(r#"{{"id":5,"text":"{long}"}}"#),
        r#"{"id":6,"text":"fine two"#.to_owned(),
        "\u{FEFF}[1,2]".to_owned(),
        r#"{"id":8,"text":"fine three"}"#.to_owned(),
    ];
    let mut bytes = lines.join("\n").into_bytes();
    bytes.extend_from_slice(b"\n{\"id\":9,\"text\":\"bad \xFF utf-8\"}\n");
    fs::write(&input, bytes).expect("write");
    let out = tmp.path().join("out.jsonl");
    let o = run(mend()
        .args(["clean", "--format", "jsonl", "--max-record", "4K"])
        .arg(&input)
        .arg("-o")
        .arg(&out));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for (line, what) in [
        (2, "not a JSON object"),
        (3, "no string field \"text\""),
        (4, "no string field \"text\""),
        (5, "longer than --max-record 4096; skipped"),
        (6, "not a JSON object"),
        (7, "not a JSON object"),
        (9, "not UTF-8 at byte"),
    ] {
        assert!(
            err.contains(&format!("in.jsonl:{line}: ")),
            "line {line}: {err}"
        );
        let msg = err
            .lines()
            .find(|l| l.contains(&format!("in.jsonl:{line}: ")))
            .unwrap_or_default();
        assert!(msg.contains(what), "line {line}: {msg}");
    }
    assert!(err.contains("(7 bad records)"), "{err}");
    let cleaned = fs::read_to_string(&out).expect("output");
    let ids: Vec<i64> = cleaned
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["id"]
                .as_i64()
                .unwrap_or(-1)
        })
        .collect();
    assert_eq!(ids, [1, 8]);
    assert!(cleaned.contains("\"fine one\""), "{cleaned}");
}

#[test]
fn a_killed_json_lines_run_leaves_no_output_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in.jsonl");
    let raw: Vec<String> = walk(&common::raw_dir())
        .into_iter()
        .map(|p| String::from_utf8_lossy(&fs::read(p).expect("read")).into_owned())
        .collect();
    let mut body = String::new();
    for i in 0..3000 {
        let rec = serde_json::json!({"id": i, "text": raw[i % raw.len()]});
        body.push_str(&rec.to_string());
        body.push('\n');
    }
    fs::write(&input, body).expect("write");
    let out_dir = tmp.path().join("out");
    fs::create_dir(&out_dir).expect("mkdir");
    let mut child = mend()
        .args(["clean", "--format", "jsonl", "-j", "1"])
        .arg(&input)
        .arg("-o")
        .arg(out_dir.join("out.jsonl.gz"))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(300));
    let finished = child.try_wait().expect("try_wait").is_some();
    let _ = child.kill();
    let _ = child.wait();
    let left: Vec<String> = fs::read_dir(&out_dir)
        .expect("read")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    if finished {
        // Its output, and the record that the output is complete.
        let mut left = left;
        left.sort();
        assert_eq!(
            left,
            [".out.jsonl.gz.mend-state", "out.jsonl.gz"],
            "a finished run leaves exactly its output and its state"
        );
    } else {
        assert!(left.is_empty(), "a killed run left {left:?}");
    }
    // The re-run writes the whole output (or, after a finished run, finds
    // it up to date).
    let o = run(mend()
        .args(["clean", "--format", "jsonl"])
        .arg(&input)
        .arg("-o")
        .arg(out_dir.join("out.jsonl.gz")));
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = if finished {
        "1 shards already up to date"
    } else {
        "3000 records"
    };
    assert!(stderr(&o).contains(expected), "{}", stderr(&o));
}

#[test]
fn two_inputs_with_one_output_name_the_first_wins() {
    let (tmp, raw) = fixture();
    fs::write(raw.join("a.md"), "From the md file.\n").expect("write");
    fs::write(raw.join("a.txt"), "From the txt file.\n").expect("write");
    fs::write(raw.join("b.md"), "Only one b.\n").expect("write");
    let out = tmp.path().join("out");
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&out));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("a.txt: another input maps to the same output name; skipped"),
        "{err}"
    );
    assert!(!err.contains("b.md: another"), "{err}");
    assert_eq!(
        fs::read_to_string(out.join("a.txt")).expect("a"),
        "From the md file.\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("b.txt")).expect("b"),
        "Only one b.\n"
    );
}

#[test]
fn json_lines_shards_that_are_up_to_date_are_skipped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let shards = tmp.path().join("shards");
    fs::create_dir(&shards).expect("mkdir");
    let rec = |i: usize| format!("{{\"id\":{i},\"text\":\"doc\\u00a0{i}  \"}}\n");
    fs::write(shards.join("a.jsonl"), rec(1) + &rec(2)).expect("write");
    fs::write(shards.join("b.jsonl"), rec(3)).expect("write");
    let out = tmp.path().join("out");
    let clean = |extra: &[&str]| {
        let o = run(mend()
            .args(["clean", "--format", "jsonl"])
            .args(extra)
            .arg(&shards)
            .arg("-o")
            .arg(&out));
        assert!(o.status.success(), "{}", stderr(&o));
        stderr(&o)
    };
    assert!(clean(&[]).contains("3 records"));
    let first = fs::read(out.join("a.jsonl")).expect("a");
    let err = clean(&[]);
    assert!(
        err.contains("0 records") && err.contains("2 shards already up to date"),
        "{err}"
    );
    // A changed shard is redone, the other is not.
    fs::write(shards.join("b.jsonl"), rec(3) + &rec(4)).expect("write");
    let err = clean(&[]);
    assert!(
        err.contains("2 records") && err.contains("1 shards already up to date"),
        "{err}"
    );
    // Other settings, or --force, redo everything.
    assert!(clean(&["--text-field", "text", "--quotes", "ascii"]).contains("4 records"));
    assert!(clean(&["--quotes", "ascii", "--force"]).contains("4 records"));
    assert!(clean(&[]).contains("4 records"));
    assert_eq!(fs::read(out.join("a.jsonl")).expect("a"), first);
}
