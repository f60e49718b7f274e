//! The real binary, on temporary copies of `raw/`.
#![allow(dead_code)] // each test file uses a part

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn mend() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mend"));
    c.env("NO_COLOR", "1");
    c
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("mend runs")
}

/// Runs `cmd` with `input` on its stdin; stdout is captured.
pub fn with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write");
    child.wait_with_output().expect("wait")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A temp dir with a copy of raw/ in `raw/`.
pub fn fixture() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let raw = tmp.path().join("raw");
    fs::create_dir(&raw).expect("mkdir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("raw");
    for e in fs::read_dir(src).expect("raw/") {
        let p = e.expect("entry").path();
        fs::copy(&p, raw.join(p.file_name().expect("name"))).expect("copy");
    }
    (tmp, raw)
}

/// [`fixture`], cleaned into `clean/` (which must succeed): the temp dir,
/// `raw/` and `clean/`.
pub fn cleaned_fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (tmp, raw) = fixture();
    let out = tmp.path().join("clean");
    let o = run(mend().arg("clean").arg(&raw).arg("-o").arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    (tmp, raw, out)
}

pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| {
            let b = fs::read(&p).expect("read");
            (p.strip_prefix(dir).expect("prefix").to_path_buf(), b)
        })
        .collect();
    v.sort();
    v
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}
