//! Lines that recur across the documents of one run (site chrome).
//!
//! In a folder run, the CLI first counts, for every distinct trimmed line,
//! the number of documents it occurs in; the boilerplate stage then reads
//! those counts through [`Context::corpus`](crate::pipeline::Context).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hasher};

/// Document frequencies of lines. Deterministic: the same documents give
/// the same counts in any order and on any thread count.
#[derive(Debug, Default, Clone)]
pub struct Corpus {
    counts: HashMap<u64, u32>,
    docs: u32,
    /// Scratch set of one document's lines, kept to reuse its allocation.
    seen: HashSet<u64>,
    /// [`Corpus::fingerprint`], computed once the counts are final.
    fingerprint: std::sync::OnceLock<u64>,
}

/// The key of a line: a hash of its canonical form, so that what later
/// stages change (odd spaces, quotation glyphs, dashes) does not make a
/// line of the raw text and the same line of the clean text differ, and a
/// second run decides as the first did.
fn key(line: &str) -> u64 {
    // SipHash with fixed keys: stable across runs and threads. The canonical
    // form is fed to the hasher in runs, without building it.
    let mut h = DefaultHasher::new();
    let bytes = line.as_bytes();
    // Most lines are already canonical ASCII: one write. (The streaming
    // hasher gives the same hash as the runs the slow path writes.)
    let canonical_ascii = !bytes
        .iter()
        .any(|&b| !(b' '..0x80).contains(&b) || matches!(b, b'"' | b'\'' | b'`'))
        && bytes.first() != Some(&b' ')
        && bytes.last() != Some(&b' ')
        && memchr::memmem::find(bytes, b"  ").is_none();
    if canonical_ascii {
        h.write(bytes);
        return h.finish();
    }
    SCRATCH.with(|scratch| {
        let mut canon = scratch.borrow_mut();
        canon.clear();
        let mut space = false; // a space is due before the next character
        let mut buf = [0u8; 4];
        for c in line.chars() {
            if c.is_whitespace() {
                space = !canon.is_empty();
                continue;
            }
            if matches!(
                c,
                '"' | '\''
                    | '`'
                    | '´'
                    | '“'
                    | '”'
                    | '„'
                    | '‟'
                    | '«'
                    | '»'
                    | '‘'
                    | '’'
                    | '‚'
                    | '‛'
                    | '‹'
                    | '›'
            ) {
                continue;
            }
            if space {
                canon.push(b' ');
                space = false;
            }
            let c = if matches!(c, '–' | '—' | '−') {
                '-'
            } else {
                c
            };
            canon.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        h.write(&canon);
    });
    h.finish()
}

thread_local! {
    /// The canonical form of a line, reused from line to line.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Corpus {
    /// An empty corpus.
    pub fn new() -> Corpus {
        Corpus::default()
    }

    /// Counts the distinct non-empty trimmed lines of one document.
    pub fn add_document(&mut self, text: &str) {
        let mut seen = std::mem::take(&mut self.seen);
        seen.clear();
        for line in text.lines() {
            let line = line.trim();
            if !line.is_empty() {
                let k = key(line);
                if seen.insert(k) {
                    *self.counts.entry(k).or_insert(0) += 1;
                }
            }
        }
        self.seen = seen;
        self.docs += 1;
    }

    /// Adds the counts of `other` (for counting in parallel).
    pub fn merge(&mut self, other: Corpus) {
        for (k, n) in other.counts {
            *self.counts.entry(k).or_insert(0) += n;
        }
        self.docs += other.docs;
    }

    /// In how many documents the trimmed `line` occurs.
    pub fn doc_count(&self, line: &str) -> u32 {
        self.counts.get(&key(line.trim())).copied().unwrap_or(0)
    }

    /// How many documents were counted.
    pub fn docs(&self) -> u32 {
        self.docs
    }

    /// A digest of the counts, the same for the same documents in any
    /// order: a run's notes record it, so that a re-run knows whether its
    /// earlier outputs were cleaned against the same cross-document counts.
    /// Computed on the first call; add no documents after it.
    pub fn fingerprint(&self) -> u64 {
        *self.fingerprint.get_or_init(|| {
            // An order-independent sum of well-mixed (key, count) pairs.
            let mix = |mut x: u64| {
                x ^= x >> 33;
                x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
                x ^= x >> 33;
                x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
                x ^ (x >> 33)
            };
            self.counts
                .iter()
                .fold(mix(u64::from(self.docs)), |acc, (&k, &n)| {
                    acc.wrapping_add(mix(k ^ mix(u64::from(n))))
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_documents_not_occurrences() {
        let mut c = Corpus::new();
        c.add_document("Subscribe\nA story.\nSubscribe\n");
        let mut d = Corpus::new();
        d.add_document("  Subscribe  \nAnother story.\n");
        c.merge(d);
        assert_eq!(c.docs(), 2);
        assert_eq!(c.doc_count("Subscribe"), 2);
        assert_eq!(c.doc_count("A story."), 1);
        assert_eq!(c.doc_count("never seen"), 0);
    }

    #[test]
    fn keys_ignore_what_later_stages_change() {
        assert_eq!(
            key("\u{201C}Follow us\u{201D} on\u{A0}Telegram \u{2013} now "),
            key("\"Follow us\" on Telegram - now")
        );
        assert_eq!(key("plain line"), key(" plain  line"));
        // Negative: different words are different lines.
        assert_ne!(key("Follow us on Telegram"), key("Follow us on Twitter"));
        assert_ne!(key("ab"), key("a b"));
        assert_eq!(key("a–b"), key("a-b"));
        // The fast path and the slow path agree.
        assert_eq!(
            key("Follow us on Telegram"),
            key("Follow us on\u{A0}Telegram")
        );
        assert_eq!(key("it is 5 - 3"), key("it is 5 – 3"));
        assert_ne!(key("a-b"), key("a b"));
    }
}
