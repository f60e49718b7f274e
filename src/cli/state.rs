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
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

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

/// JSON-lines shards have no header of their own: a hidden state file
/// beside the output (`.NAME.mend-state`) records what made it. It is
/// written only after a shard's outputs are all in place and only when
/// every record was good (a shard with bad records is redone, and its
/// errors reported again).
pub(crate) struct ShardState {
    path: PathBuf,
    want: String,
    outputs: Vec<PathBuf>,
}

impl ShardState {
    /// The state a shard's outputs must record: the input (size, SHA-256),
    /// the mend version, the pipeline configuration and the JSON-lines
    /// options (`settings`), and the set of outputs. `None` for stdin or
    /// stdout, which are never skipped.
    pub(crate) fn new(
        input: Option<&Path>,
        outputs: Vec<PathBuf>,
        settings: &serde_json::Value,
    ) -> io::Result<Option<ShardState>> {
        let (Some(input), Some(out)) = (input, outputs.first()) else {
            return Ok(None);
        };
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut f = File::open(input)?;
        let mut buf = vec![0; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            hasher.update(&buf[..n]);
        }
        let want = serde_json::json!({
            "mend": "jsonl-state",
            "version": env!("CARGO_PKG_VERSION"),
            "input": {"size": size, "sha256": hex(&hasher.finalize())},
            "settings": settings,
            "outputs": outputs.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
        })
        .to_string();
        let name = out.file_name().map_or_else(
            || ".mend-state".into(),
            |n| format!(".{}.mend-state", n.to_string_lossy()),
        );
        Ok(Some(ShardState {
            path: out.with_file_name(name),
            want,
            outputs,
        }))
    }

    /// Whether the outputs are there and were made from this input, this way.
    pub(crate) fn up_to_date(&self) -> bool {
        self.outputs.iter().all(|p| p.is_file())
            && std::fs::read_to_string(&self.path).is_ok_and(|s| s == self.want)
    }

    /// Records that the outputs are complete.
    pub(crate) fn record(&self) -> io::Result<()> {
        crate::write::write_atomic(&self.path, self.want.as_bytes())
    }

    /// Forgets the record (before the outputs are rewritten).
    pub(crate) fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
