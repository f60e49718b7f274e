//! The cost of writing one output file, by the ways mend could write it:
//! the floor under a folder run, where each input makes two outputs.
//!
//! ```sh
//! cargo run --release --example write_floor -- DIR [FILES] [BYTES]
//! ```
//!
//! DIR should be on the file system the outputs go to (a tmpfs for the
//! benchmark); it is made if needed and FILES (default 20,000) files of
//! BYTES bytes (default 3,000) are written into a fresh subfolder per way,
//! one thread. Prints microseconds per file for each way:
//!
//! - `create`: open(O_CREAT|O_TRUNC), write, close: what the copy
//!   baseline does; not atomic (a crash leaves half a file under its name);
//! - `tmpfile+link`: open(O_TMPFILE), write, linkat by descriptor, close:
//!   what mend does on Linux;
//! - `tmpfile+link@dir`: the same relative to a descriptor of the folder,
//!   opened once (`openat(dirfd, ".", O_TMPFILE)`, `linkat` to a bare
//!   name): no walk of the folder's path per call;
//! - `temp+rename`: open a hidden name (O_EXCL), write, close, rename: the
//!   portable atomic way.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

#[cfg(target_os = "linux")]
fn tmpfile_link(dir: &Path, name: &Path, data: &[u8]) -> std::io::Result<()> {
    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    let fd = rustix::fs::open(
        dir,
        OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o666),
    )?;
    let mut file = fs::File::from(fd);
    file.write_all(data)?;
    rustix::fs::linkat(&file, "", CWD, name, AtFlags::EMPTY_PATH)?;
    Ok(())
}

/// `tmpfile_link` relative to the folder's descriptor, opened on first use.
#[cfg(target_os = "linux")]
fn tmpfile_link_at(dir: &Path, name: &Path, data: &[u8]) -> std::io::Result<()> {
    use rustix::fs::{AtFlags, Mode, OFlags};
    use std::os::fd::OwnedFd;
    thread_local! {
        static DIR: std::cell::RefCell<Option<(std::path::PathBuf, OwnedFd)>> = const { std::cell::RefCell::new(None) };
    }
    DIR.with_borrow_mut(|cached| {
        if cached.as_ref().is_none_or(|(p, _)| p != dir) {
            let fd = rustix::fs::open(
                dir,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            *cached = Some((dir.to_path_buf(), fd));
        }
        let Some((_, dirfd)) = cached.as_ref() else {
            return Err(std::io::Error::other("no folder"));
        };
        let fd = rustix::fs::openat(
            dirfd,
            ".",
            OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o666),
        )?;
        let mut file = fs::File::from(fd);
        file.write_all(data)?;
        let leaf = name.file_name().unwrap_or_default();
        rustix::fs::linkat(&file, "", dirfd, leaf, AtFlags::EMPTY_PATH)?;
        Ok(())
    })
}

#[cfg(not(target_os = "linux"))]
fn tmpfile_link_at(_: &Path, _: &Path, _: &[u8]) -> std::io::Result<()> {
    Err(std::io::Error::other("O_TMPFILE is Linux only"))
}

#[cfg(not(target_os = "linux"))]
fn tmpfile_link(_: &Path, _: &Path, _: &[u8]) -> std::io::Result<()> {
    Err(std::io::Error::other("O_TMPFILE is Linux only"))
}

fn run(dir: &Path, files: usize, bytes: usize) -> std::io::Result<()> {
    let data = vec![b'a'; bytes];
    type Way = fn(&Path, &Path, &[u8]) -> std::io::Result<()>;
    let ways: [(&str, Way); 4] = [
        ("create", |_, name, data| fs::write(name, data)),
        ("tmpfile+link", tmpfile_link),
        ("tmpfile+link@dir", tmpfile_link_at),
        ("temp+rename", |dir, name, data| {
            let tmp = dir.join(format!(
                ".{}.tmp",
                name.file_name().unwrap_or_default().to_string_lossy()
            ));
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(data)?;
            drop(f);
            fs::rename(&tmp, name)
        }),
    ];
    for (label, way) in ways {
        let sub = dir.join(label);
        let _ = fs::remove_dir_all(&sub);
        fs::create_dir_all(&sub)?;
        let names: Vec<_> = (0..files)
            .map(|i| sub.join(format!("f{i:07}.txt")))
            .collect();
        let t0 = Instant::now();
        for name in &names {
            way(&sub, name, &data)?;
        }
        let us = t0.elapsed().as_secs_f64() * 1e6 / files as f64;
        println!("{label:>16}: {us:6.2} µs per file");
        fs::remove_dir_all(&sub)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: write_floor DIR [FILES] [BYTES]");
        return ExitCode::from(2);
    };
    let files = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let bytes = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3_000);
    match run(Path::new(dir), files, bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("write_floor: {dir}: {e}");
            ExitCode::FAILURE
        }
    }
}
