//! Writing outputs: atomically, and only inside the output folder.
//!
//! A file under the output folder is either absent, the previous complete
//! version, or the new complete version: never half-written, whenever the
//! process is killed and however full the disk is. On Linux the data goes
//! to an anonymous `O_TMPFILE` inode first, which has no name until it is
//! complete (killed before that, the kernel frees it); it is then linked
//! under its name, or, if a file of that name exists, under a hidden
//! temporary name and renamed over it. Elsewhere (or on a file system
//! without `O_TMPFILE`) a named temporary file in the same folder is
//! written and renamed.
//!
//! Nothing is fsync'd: a killed process loses nothing the kernel has, but
//! a power cut may lose the last files written (the next run redoes them).

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `data` to `path` atomically (see the module docs). The folder
/// must exist.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    if let Some(r) = linux::write_tmpfile(path, data) {
        return r;
    }
    write_named_temp(path, data)
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The portable way: a named temp file beside `path`, renamed over it.
fn write_named_temp(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".mend-")
        .suffix(".tmp")
        .tempfile_in(parent(path))?;
    tmp.write_all(data)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io::{self, Write};
    use std::os::fd::AsRawFd;
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    /// `None` when `O_TMPFILE` (or linking it through `/proc`) is not
    /// available here: the caller falls back to a named temp file.
    pub(super) fn write_tmpfile(path: &Path, data: &[u8]) -> Option<io::Result<()>> {
        let dir = super::parent(path);
        let fd = match rustix::fs::open(
            dir,
            OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC,
            Mode::from_bits_truncate(0o666),
        ) {
            Ok(fd) => fd,
            // No O_TMPFILE on this file system (or kernel): fall back.
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL | Errno::NOSYS) => return None,
            Err(e) => return Some(Err(e.into())),
        };
        let mut file = File::from(fd);
        if let Err(e) = file.write_all(data) {
            return Some(Err(e)); // dropped: the kernel frees the nameless inode
        }
        let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
        let link =
            |to: &Path| rustix::fs::linkat(CWD, proc.as_str(), CWD, to, AtFlags::SYMLINK_FOLLOW);
        match link(path) {
            Ok(()) => Some(Ok(())),
            Err(Errno::EXIST) => {
                // Replace: link under a hidden temp name, rename over the old file.
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                let name = format!(".mend-{}-{n}.tmp", std::process::id());
                let tmp = dir.join(name);
                match link(&tmp) {
                    Ok(()) => Some(std::fs::rename(&tmp, path).inspect_err(|_| {
                        let _ = std::fs::remove_file(&tmp);
                    })),
                    Err(e) => Some(Err(e.into())),
                }
            }
            // No /proc: fall back (the data is written again, rarely).
            Err(Errno::NOENT) if !Path::new("/proc/self/fd").exists() => None,
            Err(e) => Some(Err(e.into())),
        }
    }
}

/// Creates the folders of `files`, each once. A folder that would lie
/// outside `root` once symbolic links are resolved (an existing link inside
/// the output folder pointing elsewhere) is refused: mend never writes
/// through a link out of its output folder. Returns the folders refused or
/// not created, with why.
pub(crate) fn make_dirs<'a>(
    root: &Path,
    files: impl Iterator<Item = &'a Path>,
) -> Vec<(PathBuf, io::Error)> {
    let dirs: std::collections::BTreeSet<&Path> = files.filter_map(Path::parent).collect();
    let mut bad = Vec::new();
    let real_root = fs::create_dir_all(root).and_then(|()| fs::canonicalize(root));
    let real_root = match real_root {
        Ok(r) => r,
        Err(e) => {
            bad.push((root.to_path_buf(), e));
            return bad;
        }
    };
    for d in dirs {
        let r = fs::create_dir_all(d).and_then(|()| fs::canonicalize(d));
        match r {
            Ok(real) if real.starts_with(&real_root) => {}
            Ok(real) => bad.push((
                d.to_path_buf(),
                io::Error::other(format!(
                    "leads outside the output folder (to {}) through a symbolic link; not written",
                    real.display()
                )),
            )),
            Err(e) => bad.push((d.to_path_buf(), e)),
        }
    }
    bad
}

/// Creates the folder of `path` if it has one.
pub(crate) fn make_dir_of(path: &Path) -> io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(d) => fs::create_dir_all(d),
        None => Ok(()),
    }
}
