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
    let mut f = AtomicFile::create(path)?;
    f.write_all(data)?;
    f.commit()
}

/// A file being written that appears under its name, complete, only on
/// [`AtomicFile::commit`]; dropped without a commit, it leaves nothing (or,
/// without `O_TMPFILE`, a hidden temp file is removed).
pub(crate) struct AtomicFile {
    file: fs::File,
    path: PathBuf,
    /// Without `O_TMPFILE`: the named temp file to rename.
    named: Option<tempfile::TempPath>,
}

impl AtomicFile {
    /// Starts writing `path` (whose folder must exist).
    pub(crate) fn create(path: &Path) -> io::Result<AtomicFile> {
        #[cfg(target_os = "linux")]
        if let Some(file) = linux::open_tmpfile(parent(path))? {
            return Ok(AtomicFile {
                file,
                path: path.to_path_buf(),
                named: None,
            });
        }
        let (file, tmp) = tempfile::Builder::new()
            .prefix(".mend-")
            .suffix(".tmp")
            .tempfile_in(parent(path))?
            .into_parts();
        Ok(AtomicFile {
            file,
            path: path.to_path_buf(),
            named: Some(tmp),
        })
    }

    /// Puts the complete file under its name (replacing any file there).
    pub(crate) fn commit(self) -> io::Result<()> {
        match self.named {
            Some(tmp) => tmp.persist(&self.path).map(drop).map_err(|e| e.error),
            #[cfg(target_os = "linux")]
            None => linux::link_tmpfile(&self.file, &self.path),
            #[cfg(not(target_os = "linux"))]
            None => Err(io::Error::other("no temp file")),
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};

    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use rustix::io::Errno;

    /// A nameless file in `dir`, or `None` where `O_TMPFILE` (or `/proc`,
    /// needed to give it a name) is not available: the caller then falls
    /// back to a named temp file.
    pub(super) fn open_tmpfile(dir: &Path) -> io::Result<Option<File>> {
        static HAS_PROC: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if !*HAS_PROC.get_or_init(|| Path::new("/proc/self/fd").exists()) {
            return Ok(None);
        }
        match rustix::fs::open(
            dir,
            OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC,
            Mode::from_bits_truncate(0o666),
        ) {
            Ok(fd) => Ok(Some(File::from(fd))),
            // No O_TMPFILE on this file system (or kernel).
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL | Errno::NOSYS) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives the nameless `file` the name `path`: linked there directly if
    /// the name is free, else under a hidden temp name renamed over it.
    pub(super) fn link_tmpfile(file: &File, path: &Path) -> io::Result<()> {
        match link_at(file, path) {
            Ok(()) => Ok(()),
            Err(Errno::EXIST) => {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                let name = format!(".mend-{}-{n}.tmp", std::process::id());
                let tmp = super::parent(path).join(name);
                link_at(file, &tmp)?;
                std::fs::rename(&tmp, path).inspect_err(|_| {
                    let _ = std::fs::remove_file(&tmp);
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Links the nameless `file` as `to`: by the descriptor itself
    /// (`AT_EMPTY_PATH`, which needs CAP_DAC_READ_SEARCH and skips a walk
    /// through /proc), else through `/proc/self/fd`. Which one works is
    /// found once.
    fn link_at(file: &File, to: &Path) -> Result<(), Errno> {
        use std::sync::atomic::AtomicU8;
        const UNKNOWN: u8 = 0;
        const EMPTY_PATH: u8 = 1;
        const PROC: u8 = 2;
        static HOW: AtomicU8 = AtomicU8::new(UNKNOWN);
        if HOW.load(Ordering::Relaxed) != PROC {
            match rustix::fs::linkat(file, "", CWD, to, AtFlags::EMPTY_PATH) {
                Err(Errno::PERM | Errno::NOENT | Errno::INVAL | Errno::ACCESS)
                    if HOW.load(Ordering::Relaxed) == UNKNOWN =>
                {
                    HOW.store(PROC, Ordering::Relaxed);
                }
                r => {
                    HOW.store(EMPTY_PATH, Ordering::Relaxed);
                    return r;
                }
            }
        }
        let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
        rustix::fs::linkat(CWD, proc.as_str(), CWD, to, AtFlags::SYMLINK_FOLLOW)
    }
}

/// Creates the folders `dirs` (repeats are fine), each once. A folder that would lie
/// outside `root` once symbolic links are resolved (an existing link inside
/// the output folder pointing elsewhere) is refused: mend never writes
/// through a link out of its output folder. Returns the folders refused or
/// not created, with why, and the folders that are new.
pub(crate) fn make_dirs(root: &Path, dirs: impl Iterator<Item = PathBuf>) -> Made {
    let dirs: std::collections::BTreeSet<PathBuf> = dirs.collect();
    let mut made = Made::default();
    let root_is_new = !root.exists();
    let real_root = fs::create_dir_all(root).and_then(|()| fs::canonicalize(root));
    let real_root = match real_root {
        Ok(r) => r,
        Err(e) => {
            made.bad.push((root.to_path_buf(), e));
            return made;
        }
    };
    for d in dirs {
        let is_new = root_is_new || !d.exists();
        let r = fs::create_dir_all(&d).and_then(|()| fs::canonicalize(&d));
        match r {
            Ok(real) if real.starts_with(&real_root) => {
                if is_new {
                    made.fresh.insert(d);
                }
            }
            Ok(real) => made.bad.push((
                d,
                io::Error::other(format!(
                    "leads outside the output folder (to {}) through a symbolic link; not written",
                    real.display()
                )),
            )),
            Err(e) => made.bad.push((d, e)),
        }
    }
    made
}

/// What [`make_dirs`] did.
#[derive(Default)]
pub(crate) struct Made {
    /// The folders that could not be made or lead out of the root.
    pub bad: Vec<(PathBuf, io::Error)>,
    /// The folders this call made (they held nothing before): outputs in
    /// them need no check for an earlier run's.
    pub fresh: std::collections::HashSet<PathBuf>,
}

/// Creates the folder of `path` if it has one.
pub(crate) fn make_dir_of(path: &Path) -> io::Result<()> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(d) => fs::create_dir_all(d),
        None => Ok(()),
    }
}
