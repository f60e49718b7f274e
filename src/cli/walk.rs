//! Finding the input files of a run: paths given on the command line, and
//! the files under folders, in sorted order.
//!
//! Symbolic links found inside a folder are not followed unless `--follow`
//! is given, as ripgrep does: a crawl's folders can link anywhere. Paths
//! given on the command line are always followed. With `--follow`, a link
//! back to one of its own ancestors (a loop) is reported and skipped
//! (walkdir detects it); a link to nothing is reported.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use walkdir::WalkDir;

use crate::Failure;

/// One input file of a run.
pub(crate) struct Job {
    /// The folder it was found in (shared by every file found there), or,
    /// for a file given as an argument, the file itself. (Not each file's
    /// whole path: a million files found in one folder hold its name once,
    /// about 50 MB less.)
    base: Arc<Path>,
    /// Whether `base` is a folder that `rel` is under.
    walked: bool,
    /// Its path relative to the input root (for the output name and the notes header).
    pub rel: PathBuf,
    /// Its size, for the progress bar.
    pub size: u64,
}

impl Job {
    /// A file given as an argument: its output name is its file name.
    pub(crate) fn file(path: &Path, size: u64) -> Job {
        Job {
            base: Arc::from(path),
            walked: false,
            rel: PathBuf::from(path.file_name().unwrap_or(path.as_os_str())),
            size,
        }
    }

    /// The file.
    pub(crate) fn path(&self) -> Cow<'_, Path> {
        if self.walked {
            Cow::Owned(self.base.join(&self.rel))
        } else {
            Cow::Borrowed(&self.base)
        }
    }
}

/// The files of a run, and what was passed over.
#[derive(Default)]
pub(crate) struct Found {
    pub jobs: Vec<Job>,
    /// Symbolic links inside folders that were not followed (no `--follow`).
    pub links_skipped: usize,
}

/// Collects the files under `paths` (sorted, recursively), never entering
/// `skip` (the output folder, when it lies inside an input folder).
pub(crate) fn collect(
    paths: &[PathBuf],
    skip: Option<&Path>,
    follow: bool,
    failures: &mut Vec<Failure>,
) -> Found {
    let skip = skip.and_then(|s| fs::canonicalize(s).ok());
    let mut found = Found::default();
    for root in paths {
        match fs::metadata(root) {
            Ok(m) if m.is_dir() => walk(root, skip.as_deref(), follow, &mut found, failures),
            Ok(m) => found.jobs.push(Job::file(root, m.len())),
            Err(e) => failures.push(Failure::new(root, e)),
        }
    }
    fill_sizes(&mut found.jobs);
    found
}

fn walk(
    root: &Path,
    skip: Option<&Path>,
    follow: bool,
    found: &mut Found,
    failures: &mut Vec<Failure>,
) {
    let base: Arc<Path> = Arc::from(root);
    let mut it = WalkDir::new(root)
        .follow_links(follow)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(root).to_path_buf();
                let message = match (e.loop_ancestor(), e.io_error()) {
                    (Some(a), _) => {
                        format!("symbolic link loop (back to {}), not followed", a.display())
                    }
                    (None, Some(io)) if follow && is_link(&path) => {
                        format!("broken symbolic link: {io}")
                    }
                    (None, Some(io)) => io.to_string(),
                    (None, None) => e.to_string(),
                };
                failures.push(Failure::new(&path, message));
                continue;
            }
        };
        let ft = entry.file_type();
        if ft.is_dir() {
            if skip.is_some() && fs::canonicalize(entry.path()).ok().as_deref() == skip {
                // An output folder inside an input folder is never read back.
                it.skip_current_dir();
            }
        } else if ft.is_symlink() {
            // Only reached without --follow (with it, walkdir reports the target's type).
            found.links_skipped += 1;
        } else if ft.is_file() {
            // Its size comes later ([`fill_sizes`]).
            found.jobs.push(match entry.path().strip_prefix(root) {
                Ok(rel) => Job {
                    base: Arc::clone(&base),
                    walked: true,
                    rel: rel.to_path_buf(),
                    size: 0,
                },
                // Not under the root (walkdir never gives one): its whole
                // path, and its size now.
                Err(_) => Job {
                    rel: entry.path().to_path_buf(),
                    ..Job::file(entry.path(), entry.metadata().map_or(0, |m| m.len()))
                },
            });
        }
        // Sockets, fifos and devices inside a folder are not text files: passed over.
    }
}

/// Sets the size of each file found in a folder (for the progress bar and
/// the largest-first order; a file that cannot be looked at counts as
/// empty, and its read fails later with the reason), in parallel, and each
/// relative to its folder where it can. One look at each file by its whole
/// path, on the walking thread, was about 35 ms of the first 60 ms of a
/// 20,000-file run, while the other core idled.
fn fill_sizes(jobs: &mut [Job]) {
    use rayon::prelude::*;
    jobs.par_chunks_mut(256).for_each(|chunk| {
        let mut dir = Folder::default();
        for job in chunk.iter_mut().filter(|j| j.walked) {
            job.size = dir.size_of(job).unwrap_or(0);
        }
    });
}

/// The folder of the last file looked at, open, so that the next file in
/// it is looked at by its name alone (no walk down the whole path again).
#[derive(Default)]
struct Folder {
    #[cfg(target_os = "linux")]
    open: Option<(PathBuf, rustix::fd::OwnedFd)>,
}

impl Folder {
    /// The size of `job`'s file (the target's, for a symbolic link).
    fn size_of(&mut self, job: &Job) -> Option<u64> {
        #[cfg(target_os = "linux")]
        if let (Some(parent), Some(name)) = (job.rel.parent(), job.rel.file_name()) {
            use rustix::fs::{AtFlags, Mode, OFlags};
            if self.open.as_ref().is_none_or(|(p, _)| p != parent) {
                let fd = rustix::fs::open(
                    job.base.join(parent),
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                );
                self.open = fd.ok().map(|fd| (parent.to_path_buf(), fd));
            }
            if let Some((_, fd)) = &self.open
                && let Ok(st) = rustix::fs::statat(fd, name, AtFlags::empty())
            {
                return u64::try_from(st.st_size).ok();
            }
        }
        fs::metadata(job.path()).ok().map(|m| m.len())
    }
}

fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sizes [`fill_sizes`] finds, relative to each file's folder, are
    /// the ones a look at its whole path gives, in nested folders, across
    /// chunk boundaries, for a link followed; a file gone since the walk
    /// counts as empty.
    #[test]
    fn sizes_are_each_files_own() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut want = Vec::new();
        for d in ["", "a", "a/b", "c"] {
            fs::create_dir_all(root.join(d)).unwrap();
            for i in 0..300 {
                let rel = Path::new(d).join(format!("f{i:03}.txt"));
                let len = (i * 7 + d.len() * 1000) % 2000;
                fs::write(root.join(&rel), vec![b'x'; len]).unwrap();
                want.push((rel, len as u64));
            }
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("a/f001.txt"), root.join("c/link.txt")).unwrap();
        let mut failures = Vec::new();
        let found = collect(&[root.to_path_buf()], None, true, &mut failures);
        assert!(failures.is_empty());
        let got: std::collections::HashMap<PathBuf, u64> =
            found.jobs.iter().map(|j| (j.rel.clone(), j.size)).collect();
        for (rel, len) in &want {
            assert_eq!(got.get(rel), Some(len), "{}", rel.display());
        }
        #[cfg(unix)]
        assert_eq!(
            got.get(Path::new("c/link.txt")),
            got.get(Path::new("a/f001.txt"))
        );
        for job in &found.jobs {
            assert_eq!(job.size, fs::metadata(job.path()).unwrap().len());
        }
        // A file gone between the walk and the look at its size.
        let mut jobs = collect(&[root.join("a")], None, false, &mut failures).jobs;
        fs::remove_file(root.join("a/f002.txt")).unwrap();
        fill_sizes(&mut jobs);
        let gone = jobs
            .iter()
            .find(|j| j.rel == Path::new("f002.txt"))
            .unwrap();
        assert_eq!(gone.size, 0);
        assert!(jobs.iter().any(|j| j.size > 0));
    }
}
