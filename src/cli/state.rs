//! Whether an input's outputs are already up to date, so that a re-run
//! (after an interruption, or over a folder that gained a few files) does
//! only the work that is left.
//!
//! Up to date means: the notes header records this input (its relative
//! path, size and SHA-256), this mend version, this configuration and the
//! same cross-document line counts, and the clean text is there. The text
//! is written before its notes, so a run killed between the two leaves
//! notes of the old text, which do not match, and the input is redone.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use mend::notes::{self, Header};
use sha2::{Digest, Sha256};

/// What the outputs of one input must record to be up to date.
pub(crate) struct Want<'a> {
    pub text: &'a Path,
    pub notes: &'a Path,
    pub input: &'a [u8],
    pub rel: &'a str,
    pub config: &'a serde_json::Value,
    pub corpus: Option<u64>,
}

/// Whether the outputs named in `want` are up to date (see the module docs).
/// Any doubt (no notes, a header that does not parse) means no.
pub(crate) fn up_to_date(want: &Want<'_>) -> bool {
    let Some(h) = header(want.notes) else {
        return false;
    };
    // Cheap checks first; the hash of the input last.
    h.mend == "notes"
        && h.format == notes::FORMAT
        && h.version == env!("CARGO_PKG_VERSION")
        && h.source.size == want.input.len()
        && h.source.path == want.rel
        && &h.config == want.config
        && h.corpus == want.corpus.map(|f| format!("{f:016x}"))
        && want.text.is_file()
        && h.source.sha256 == hex(&Sha256::digest(want.input))
}

/// The header (first line) of a notes file.
fn header(path: &Path) -> Option<Header> {
    let mut line = String::new();
    BufReader::new(File::open(path).ok()?)
        .read_line(&mut line)
        .ok()?;
    serde_json::from_str(&line).ok()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
