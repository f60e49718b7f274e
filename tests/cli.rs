//! The real binary on a temporary copy of `raw/`.

use std::fs;
use std::path::Path;

mod common;
use common::cli::*;

#[test]
fn clean_folder_matches_committed_goldens_and_leaves_input_alone() {
    let (tmp, raw) = fixture();
    let before = snapshot(&raw);
    let out = tmp.path().join("clean");
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("5 files"),
        "summary line: {}",
        stderr(&o)
    );
    assert_eq!(snapshot(&raw), before, "input modified");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("clean");
    assert_eq!(
        snapshot(&out),
        snapshot(&golden),
        "CLI output differs from clean/"
    );
    // No temp files left behind.
    assert_eq!(walk(&out).len(), 10);
}

#[test]
fn thread_count_does_not_change_output() {
    let (tmp, raw) = fixture();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    assert!(
        run(mend()
            .args(["clean", "-j", "1"])
            .arg(&raw)
            .arg("-o")
            .arg(&a))
        .status
        .success()
    );
    assert!(
        run(mend()
            .args(["clean", "-j", "2"])
            .arg(&raw)
            .arg("-o")
            .arg(&b))
        .status
        .success()
    );
    assert_eq!(snapshot(&a), snapshot(&b));
}

#[test]
fn rerun_is_safe_and_output_inside_input_is_not_read_back() {
    let (_tmp, raw) = fixture();
    let out = raw.join("clean");
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("5 files"), "{}", stderr(&o));
    let first = snapshot(&out);
    // A re-run finds every output up to date and writes nothing.
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("0 files"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("5 already up to date"),
        "{}",
        stderr(&o)
    );
    // --force redoes them, to the same bytes.
    let o = run(mend()
        .args(["clean", "--force"])
        .arg(&raw)
        .arg("-o")
        .arg(&out));
    assert!(stderr(&o).contains("5 files"), "{}", stderr(&o));
    assert_eq!(walk(&out).len(), 10);
    assert_eq!(snapshot(&out), first);
}

#[test]
fn stdin_to_stdout_with_notes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let notes = tmp.path().join("n.jsonl");
    let o = with_stdin(
        mend().args(["clean", "--notes"]).arg(&notes),
        b"a\xC2\xA0b  \r\n\r\n\r\nc",
    );
    assert!(o.status.success());
    assert_eq!(o.stdout, b"a b\n\nc\n");
    let n = fs::read_to_string(&notes).expect("notes written");
    assert!(n.lines().next().expect("header").contains("\"path\":\"-\""));
    assert!(n.contains("nbsp-run") && n.contains("crlf-line-end"));
}

#[test]
fn check_mode_exit_codes_and_diff() {
    let (_tmp, raw, out) = cleaned_fixture();
    let o = run(mend().arg("check").arg(&raw).arg("-o").arg(&out));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Drift: a hand-edited golden file.
    let f = out.join("000_738c63d233fd7dd5.txt");
    let text = fs::read_to_string(&f)
        .expect("read")
        .replacen("Moscow", "Mosco", 1);
    fs::write(&f, text).expect("write");
    let o = run(mend().arg("check").arg(&raw).arg("-o").arg(&out));
    assert_eq!(o.status.code(), Some(1));
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(
        diff.contains("\n-Mosco ") && diff.contains("\n+Moscow "),
        "{diff}"
    );
}

/// `mend check` on several drifting files: diffs in input order (not the
/// largest-first order it cleans in) on any thread count; a missing golden
/// file is drift even where the text now cleans to nothing; a golden file
/// that cannot be read is an error naming it.
#[test]
fn check_reports_drift_in_input_order_and_missing_or_unreadable_goldens() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    fs::create_dir(&raw).expect("mkdir");
    // Sorted by name: a (short), b (long), c (blank: cleans to nothing).
    fs::write(raw.join("a.txt"), "Short one.\n").expect("write");
    fs::write(raw.join("b.txt"), "A longer line of text.\n".repeat(50)).expect("write");
    fs::write(raw.join("c.txt"), " \n\n").expect("write");
    let out = tmp.path().join("clean");
    assert!(
        run(mend().arg("clean").arg(&raw).arg("-o").arg(&out))
            .status
            .success()
    );
    assert_eq!(fs::read(out.join("c.txt")).expect("c"), b"");
    let check = |j: &str| {
        run(mend()
            .args(["check", "-j", j])
            .arg(&raw)
            .arg("-o")
            .arg(&out))
    };
    assert_eq!(check("2").status.code(), Some(0));

    fs::write(out.join("a.txt"), "Short 1.\n").expect("write");
    fs::write(out.join("b.txt"), "changed\n").expect("write");
    fs::remove_file(out.join("c.txt")).expect("rm");
    let mut seen = Vec::new();
    for j in ["1", "2"] {
        let o = check(j);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let diff = String::from_utf8_lossy(&o.stdout).into_owned();
        let at = |s: &str| diff.find(s).unwrap_or_else(|| panic!("{s} in {diff}"));
        assert!(at("a.txt") < at("b.txt") && at("b.txt") < at("c.txt (missing)"));
        assert!(diff.contains("+Short one.") && diff.contains("-changed"));
        assert!(
            stderr(&o).contains("3 of 3 files would change"),
            "{}",
            stderr(&o)
        );
        seen.push(diff);
    }
    assert_eq!(seen[0], seen[1]);

    // A notes file that is a folder, and one that is not UTF-8: errors.
    fs::remove_file(out.join("a.notes.jsonl")).expect("rm");
    fs::create_dir(out.join("a.notes.jsonl")).expect("mkdir");
    fs::write(out.join("b.notes.jsonl"), b"\xff\xfe").expect("write");
    let o = check("2");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("a.notes.jsonl: cannot read it to compare"),
        "{err}"
    );
    assert!(
        err.contains("b.notes.jsonl: cannot read it to compare"),
        "{err}"
    );
}

#[test]
fn bad_files_are_reported_and_the_run_goes_on() {
    let (tmp, raw) = fixture();
    fs::write(
        raw.join("image.png"),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    )
    .expect("write");
    let out = tmp.path().join("clean");
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&out));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("image.png: binary file, skipped (NUL byte at offset 8)"),
        "{err}"
    );
    assert!(err.contains("5 files"), "{err}");
    assert!(out.join("000_738c63d233fd7dd5.txt").exists());
    assert!(!out.join("image.txt").exists());
    // A missing input path.
    let o = run(mend()
        .arg("clean")
        .arg(tmp.path().join("nope"))
        .arg("-o")
        .arg(&out));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope: "), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, raw) = fixture();
    let f = raw.join("locked.txt");
    fs::write(&f, "text").expect("write");
    fs::set_permissions(&f, fs::Permissions::from_mode(0o000)).expect("chmod");
    if fs::read(&f).is_ok() {
        return; // running as root: permissions do not stop reads
    }
    let o = run(mend()
        .arg("clean")
        .arg(&raw)
        .arg("-o")
        .arg(tmp.path().join("out")));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("locked.txt: "), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn broken_link_is_reported_with_follow_and_passed_over_without() {
    let (tmp, raw) = fixture();
    std::os::unix::fs::symlink(tmp.path().join("gone.txt"), raw.join("link.txt")).expect("symlink");
    let out = tmp.path().join("out");
    let o = run(mend()
        .args(["clean", "--follow"])
        .arg(&raw)
        .arg("-o")
        .arg(&out));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("link.txt: broken symbolic link"), "{err}");
    assert!(err.contains("5 files") && err.contains("1 failed"), "{err}");
    let o = run(mend()
        .arg("clean")
        .arg(&raw)
        .arg("-o")
        .arg(tmp.path().join("out2")));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 symbolic links not followed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unreadable_folder_entry_via_directory_as_file() {
    // A path that is a directory where a file is expected by restore.
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = run(mend().arg("restore").arg(tmp.path()));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("mend: "), "{}", stderr(&o));
}

#[test]
fn restore_and_explain() {
    let (_tmp, raw, out) = cleaned_fixture();
    for e in fs::read_dir(&raw).expect("raw") {
        let src = e.expect("entry").path();
        let name = src
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let o = run(mend().arg("restore").arg(out.join(&name)));
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(o.stdout, fs::read(&src).expect("read"), "{name}");
    }
    let o = run(mend()
        .arg("explain")
        .arg(out.join("003_81dea07041226e15.txt")));
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("boilerplate/photo-credit 7:1 "), "{s}");
    assert!(s.contains("normalize/nbsp-run 14:"), "{s}");
    assert!(!s.contains('\u{1b}'), "colour with NO_COLOR");
    // A tampered clean file is refused.
    let f = out.join("003_81dea07041226e15.txt");
    fs::write(&f, "something else\n").expect("write");
    let o = run(mend().arg("restore").arg(&f));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("does not match its notes"),
        "{}",
        stderr(&o)
    );
}

/// Restore and explain read the notes line by line: a bad line is refused
/// with the notes file's name and the line's number (blank lines
/// counted), a line that is not UTF-8 too; explain, which reads the notes
/// twice, reads notes from a pipe (read once into memory) as from a file.
#[test]
fn restore_and_explain_read_notes_line_by_line() {
    let (_tmp, _, out) = cleaned_fixture();
    let clean = out.join("003_81dea07041226e15.txt");
    let notes_path = out.join("003_81dea07041226e15.notes.jsonl");
    let notes = fs::read_to_string(&notes_path).expect("notes");
    let from_file = run(mend().arg("explain").arg(&clean));
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    let from_pipe = with_stdin(
        mend()
            .arg("explain")
            .arg(&clean)
            .args(["--notes", "/dev/stdin"]),
        notes.as_bytes(),
    );
    assert!(from_pipe.status.success(), "{}", stderr(&from_pipe));
    assert_eq!(
        String::from_utf8_lossy(&from_pipe.stdout),
        String::from_utf8_lossy(&from_file.stdout)
    );
    assert!(from_file.stdout.len() > 1000);

    let mut lines: Vec<&str> = notes.lines().collect();
    lines.insert(1, "");
    lines[4] = "{\"stage\":\"normalize\"}";
    fs::write(&notes_path, lines.join("\n")).expect("write");
    for cmd in ["restore", "explain"] {
        let o = run(mend().arg(cmd).arg(&clean));
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!(
                "mend: {}: notes line 5: missing field",
                notes_path.display()
            )),
            "{cmd}: {err}"
        );
    }
    let mut bytes = notes.into_bytes();
    bytes.extend_from_slice(b"\n{\"why\":\"\xff\"}\n");
    let last = bytes.iter().filter(|&&b| b == b'\n').count();
    fs::write(&notes_path, bytes).expect("write");
    let o = run(mend().arg("restore").arg(&clean));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("notes line {last}: not UTF-8 at byte 8")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn legacy_encoding_and_force() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = tmp.path().join("ru.txt");
    let (bytes, _, _) = encoding_rs::WINDOWS_1251
        .encode("Президент России заявил, что переговоры продолжатся в Москве.\n");
    fs::write(&f, &bytes).expect("write");
    let o = run(mend()
        .arg("clean")
        .arg(&f)
        .arg("--notes")
        .arg(tmp.path().join("n")));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Президент России заявил, что переговоры продолжатся в Москве.\n"
    );
    let n = fs::read_to_string(tmp.path().join("n")).expect("notes");
    assert!(n.contains("\"encoding\":\"windows-1251\""), "{n}");
    // Forced wrongly, and with the mojibake stage off (it would repair
    // windows-1251 read as KOI8-R), the text is not the Russian sentence.
    let o = run(mend()
        .args(["clean", "--skip", "mojibake", "--encoding", "koi8-r"])
        .arg(&f));
    assert!(o.status.success());
    assert_ne!(
        String::from_utf8_lossy(&o.stdout),
        "Президент России заявил, что переговоры продолжатся в Москве.\n"
    );
    let o = run(mend().args(["clean", "--encoding", "klingon"]).arg(&f));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn usage_errors_and_rules() {
    let o = run(mend().args(["clean", "--only", "nosuch"]));
    assert_eq!(o.status.code(), Some(2));
    let tmp = tempfile::tempdir().expect("tempdir");
    let o = run(mend().arg("clean").arg(tmp.path()));
    assert_eq!(o.status.code(), Some(2), "folder without -o");
    let bad = tmp.path().join("rules.toml");
    fs::write(&bad, "disable = [\"no-such-rule\"]").expect("write");
    let o = run(mend().arg("clean").arg("--rules").arg(&bad).arg("-"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("rules.toml: line 1: unknown rule"),
        "{}",
        stderr(&o)
    );
    let o = run(mend().arg("rules"));
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    for stage in [
        "decode",
        "mojibake",
        "markup",
        "boilerplate",
        "quotes",
        "normalize",
    ] {
        assert!(s.contains(stage));
    }
    assert!(s.contains("nbsp-run"));
    assert!(!s.contains("(disabled)") && !s.contains("(user rule)"));
    // With a rules file: its rules are listed and what it disables is marked.
    let good = tmp.path().join("good.toml");
    fs::write(
        &good,
        "disable = [\"soft-hyphen\"]\n[[boilerplate]]\nname = \"acme\"\npattern = \"^ACME\"\n",
    )
    .expect("write");
    let o = run(mend().arg("rules").arg("--rules").arg(&good));
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        s.lines()
            .any(|l| l.contains("soft-hyphen") && l.ends_with("(disabled)")),
        "{s}"
    );
    assert!(
        s.lines()
            .any(|l| l.trim_start().starts_with("acme") && l.ends_with("(user rule)")),
        "{s}"
    );
    assert!(
        !s.lines()
            .any(|l| l.contains("nbsp-run") && l.contains("(disabled)")),
        "{s}"
    );
}

#[test]
fn only_and_skip() {
    let o = with_stdin(mend().args(["clean", "--skip", "normalize"]), b"a  \r\n");
    assert_eq!(o.stdout, b"a  \r\n");
}

/// A folder of three articles sharing a chrome line.
fn site(dir: &Path) {
    fs::create_dir_all(dir).expect("mkdir");
    for (i, topic) in ["the budget", "the elections", "the harvest"]
        .iter()
        .enumerate()
    {
        let body: String = (0..4)
            .map(|k| format!("Paragraph {k} of the report on {topic} says that officials met on Tuesday and agreed on several joint steps, the ministry said.\n\n"))
            .collect();
        let text = format!(
            "Headline about {topic}\n\n{body}Follow our channel for updates\n\nACME promo: get ACME Premium now\n"
        );
        fs::write(dir.join(format!("{i}.txt")), text).expect("write");
    }
}

#[test]
fn cross_document_lines_and_user_rules() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("site");
    site(&dir);
    let rules = tmp.path().join("rules.toml");
    fs::write(
        &rules,
        "[[boilerplate]]\nname = \"acme-promo\"\npattern = \"^ACME promo:\"\nwhy = \"ACME's promotion\"\n",
    )
    .expect("write");
    let out = tmp.path().join("out");
    let o = run(mend()
        .arg("clean")
        .arg(&dir)
        .arg("-o")
        .arg(&out)
        .arg("--rules")
        .arg(&rules));
    assert!(o.status.success(), "{}", stderr(&o));
    for i in 0..3 {
        let text = fs::read_to_string(out.join(format!("{i}.txt"))).expect("out");
        assert!(!text.contains("Follow our channel"), "{text}");
        assert!(!text.contains("ACME promo"), "{text}");
        assert!(text.contains("Paragraph 3 of the report"), "{text}");
        let notes = fs::read_to_string(out.join(format!("{i}.notes.jsonl"))).expect("notes");
        assert!(
            notes.contains("\"rule\":\"repeated-across-documents\""),
            "{notes}"
        );
        assert!(notes.contains("3 of 3 documents"), "{notes}");
        assert!(
            notes.contains("\"rule\":\"acme-promo\",") && notes.contains("ACME's promotion"),
            "{notes}"
        );
    }
    // One file alone: no cross-document decision, and the user rule can be disabled away.
    let one = tmp.path().join("one");
    fs::create_dir(&one).expect("mkdir");
    fs::copy(dir.join("0.txt"), one.join("0.txt")).expect("copy");
    let o = run(mend()
        .arg("clean")
        .arg(&one)
        .arg("-o")
        .arg(tmp.path().join("out1")));
    assert!(o.status.success());
    let notes = fs::read_to_string(tmp.path().join("out1/0.notes.jsonl")).expect("notes");
    assert!(!notes.contains("repeated-across-documents"), "{notes}");
}

#[test]
fn disabled_rule_is_not_applied() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rules = tmp.path().join("rules.toml");
    fs::write(&rules, "disable = [\"normalize/nbsp-run\"]\n").expect("write");
    let o = with_stdin(
        mend().arg("clean").arg("--rules").arg(&rules),
        "a\u{a0}b  \n".as_bytes(),
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "a\u{a0}b\n");
}
