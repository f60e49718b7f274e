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
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            found.jobs.push(match entry.path().strip_prefix(root) {
                Ok(rel) => Job {
                    base: Arc::clone(&base),
                    walked: true,
                    rel: rel.to_path_buf(),
                    size,
                },
                // Not under the root (walkdir never gives one): its whole path.
                Err(_) => Job {
                    rel: entry.path().to_path_buf(),
                    ..Job::file(entry.path(), size)
                },
            });
        }
        // Sockets, fifos and devices inside a folder are not text files: passed over.
    }
}

fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}
