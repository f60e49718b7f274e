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
use std::sync::{Arc, Mutex};

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
///
/// The input's BLAKE3 digest is taken as the run reads it
/// ([`ShardState::tap`]), not in a pass of its own; only a re-run over
/// existing outputs of an input of the recorded size reads the input once
/// more to compare. (BLAKE3, not the SHA-256 of the notes header: this
/// file is mend's own, and the reading thread hashed SHA-256 at about
/// 1.6 GB/s with the CPU's SHA instructions, 4-5% of a one-thread run's
/// CPU time; BLAKE3 is several times faster. The notes keep SHA-256, which
/// anyone can check with `sha256sum`.)
pub(crate) struct ShardState {
    path: PathBuf,
    input: PathBuf,
    settings: serde_json::Value,
    outputs: Vec<PathBuf>,
    digest: Arc<Mutex<Digesting>>,
}

/// The digest of the bytes read so far.
#[derive(Default)]
struct Digesting {
    hasher: blake3::Hasher,
    size: u64,
}

impl ShardState {
    /// The state a shard's outputs must record: the input (size, BLAKE3),
    /// the mend version, the pipeline configuration and the JSON-lines
    /// options (`settings`), and the set of outputs. `None` for stdin or
    /// stdout, which are never skipped.
    pub(crate) fn new(
        input: Option<&Path>,
        outputs: Vec<PathBuf>,
        settings: &serde_json::Value,
    ) -> Option<ShardState> {
        let (Some(input), Some(out)) = (input, outputs.first()) else {
            return None;
        };
        let name = out.file_name().map_or_else(
            || ".mend-state".into(),
            |n| format!(".{}.mend-state", n.to_string_lossy()),
        );
        Some(ShardState {
            path: out.with_file_name(name),
            input: input.to_path_buf(),
            settings: settings.clone(),
            outputs,
            digest: Arc::default(),
        })
    }

    /// The state file's contents for an input of `size` bytes and BLAKE3
    /// digest `digest`.
    fn want(&self, size: u64, digest: &blake3::Hash) -> String {
        serde_json::json!({
            "mend": "jsonl-state",
            "version": env!("CARGO_PKG_VERSION"),
            "input": {"size": size, "blake3": digest.to_hex().as_str()},
            "settings": self.settings,
            "outputs": self.outputs.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
        })
        .to_string()
    }

    /// Whether the outputs are there and were made from this input, this
    /// way. Cheap checks first: the input is hashed only when everything
    /// else, its size included, matches.
    pub(crate) fn up_to_date(&self) -> io::Result<bool> {
        if !self.outputs.iter().all(|p| p.is_file()) {
            return Ok(false);
        }
        let Ok(recorded) = std::fs::read_to_string(&self.path) else {
            return Ok(false);
        };
        let size = std::fs::metadata(&self.input)?.len();
        let recorded_size = serde_json::from_str::<serde_json::Value>(&recorded)
            .ok()
            .and_then(|v| v["input"]["size"].as_u64());
        if recorded_size != Some(size) {
            return Ok(false);
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(File::open(&self.input)?)?;
        Ok(recorded == self.want(hasher.count(), &hasher.finalize()))
    }

    /// `raw`, with every byte read from it added to this shard's digest.
    pub(crate) fn tap<R: Read>(&self, raw: R) -> Tap<R> {
        *self.digest.lock().unwrap_or_else(|e| e.into_inner()) = Digesting::default();
        Tap {
            inner: raw,
            digest: Arc::clone(&self.digest),
        }
    }

    /// Records that the outputs are complete, made from the bytes the tap
    /// read (the whole input: call this only after a run that read to its end).
    pub(crate) fn record(&self) -> io::Result<()> {
        let want = {
            let d = self.digest.lock().unwrap_or_else(|e| e.into_inner());
            self.want(d.size, &d.hasher.finalize())
        };
        crate::write::write_atomic(&self.path, want.as_bytes())
    }

    /// Forgets the record (before the outputs are rewritten).
    pub(crate) fn forget(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A reader that adds what it reads to a shard's digest (see [`ShardState::tap`]).
pub(crate) struct Tap<R> {
    inner: R,
    digest: Arc<Mutex<Digesting>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut d = self.digest.lock().unwrap_or_else(|e| e.into_inner());
        d.hasher.update(&buf[..n]);
        d.size += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_up_to_date_only_for_the_bytes_its_tap_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in.jsonl");
        let out = dir.path().join("out.jsonl");
        fs_write(&input, b"{\"text\":\"one\"}\n");
        let settings = serde_json::json!({"k": 1});
        let state = ShardState::new(Some(&input), vec![out.clone()], &settings).expect("state");
        assert!(!state.up_to_date().expect("check"), "no outputs yet");
        // A run: read the input to its end through the tap, write the output.
        let mut tap = state.tap(File::open(&input).expect("open"));
        io::copy(&mut tap, &mut io::sink()).expect("read");
        fs_write(&out, b"done\n");
        state.record().expect("record");
        assert!(state.up_to_date().expect("check"));
        // What it records: the size and BLAKE3 digest of what was read.
        let recorded: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&state.path).expect("state file"))
                .expect("json");
        let bytes = std::fs::read(&input).expect("input");
        assert_eq!(recorded["input"]["size"], bytes.len());
        assert_eq!(
            recorded["input"]["blake3"].as_str(),
            Some(blake3::hash(&bytes).to_hex().as_str())
        );
        // The same size, other bytes: not up to date.
        fs_write(&input, b"{\"text\":\"two\"}\n");
        assert!(!state.up_to_date().expect("check"));
        // Other settings: not up to date either.
        fs_write(&input, b"{\"text\":\"one\"}\n");
        assert!(state.up_to_date().expect("check"));
        let other =
            ShardState::new(Some(&input), vec![out], &serde_json::json!({"k": 2})).expect("state");
        assert!(!other.up_to_date().expect("check"));
    }

    fn fs_write(path: &Path, bytes: &[u8]) {
        std::fs::write(path, bytes).expect("write");
    }
}
