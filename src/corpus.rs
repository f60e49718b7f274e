//! Lines that recur across the documents of one run (site chrome).
//!
//! In a folder run, the CLI first counts, for every distinct trimmed line,
//! the number of documents it occurs in; the boilerplate stage then reads
//! those counts through [`Context::corpus`](crate::pipeline::Context).
//!
//! # Bounded memory
//! The table holds at most [`MAX_LINES`] distinct lines (about 80 MB),
//! whatever the number of documents. Past that, it keeps only the lines
//! whose key falls in a shrinking share of the key space (half, then a
//! quarter, ...), with exact counts for those; the others read as seen
//! once. Which lines are kept depends only on the set of lines, never on
//! the order or the thread count, so runs stay deterministic. A line not
//! kept can only be kept in the text (never wrongly dropped): the cost of
//! the bound is some missed cross-document chrome on very large runs.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// Hashes the line keys (already hashes) in the count tables: fixed seed,
/// so counting is the same on every run.
type KeyState = foldhash::fast::FixedState;

/// The most distinct lines a [`Corpus`] holds (see the module docs).
pub const MAX_LINES: usize = 1 << 22;

/// Document frequencies of lines. Deterministic: the same documents give
/// the same counts in any order and on any thread count.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Lines whose key, mixed, is above this are not counted.
    cutoff: u64,
    /// [`MAX_LINES`], or less in tests.
    limit: usize,
    /// For each line key: in how many documents it occurs, and the last
    /// document (numbered from 1 in this table) that counted it, so that
    /// a line repeated in one document counts once. Merged counts carry 0.
    counts: HashMap<u64, (u32, u32), KeyState>,
    docs: u32,
    /// [`Corpus::fingerprint`], computed once the counts are final.
    fingerprint: std::sync::OnceLock<u64>,
}

/// What a byte of a line is, for its canonical form.
const PLAIN: u8 = 0;
/// ASCII whitespace (`char::is_whitespace`).
const SPACE: u8 = 1;
/// `"`, `'` and `` ` ``: dropped.
const QUOTE: u8 = 2;
/// The first byte of a non-ASCII character that may be whitespace, a
/// quotation mark or a dash (decoded to decide): U+0080..U+00BF (`C2`),
/// U+1000..U+1FFF (`E1`), U+2000..U+2FFF (`E2`), U+3000..U+3FFF (`E3`).
/// Every other non-ASCII byte stays as it is.
const MULTI: u8 = 3;

/// The class of each byte.
static CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    t[0xC2] = MULTI;
    t[0xE1] = MULTI;
    t[0xE2] = MULTI;
    t[0xE3] = MULTI;
    t[b'\t' as usize] = SPACE;
    t[b'\n' as usize] = SPACE;
    t[0x0B] = SPACE;
    t[0x0C] = SPACE;
    t[b'\r' as usize] = SPACE;
    t[b' ' as usize] = SPACE;
    t[b'"' as usize] = QUOTE;
    t[b'\'' as usize] = QUOTE;
    t[b'`' as usize] = QUOTE;
    t
};

/// The key of a line: a hash of its canonical form, so that what later
/// stages change (odd spaces, quotation glyphs, dashes) does not make a
/// line of the raw text and the same line of the clean text differ, and a
/// second run decides as the first did.
///
/// The canonical form: whitespace runs made one space (none at the ends),
/// quotation marks dropped, en and em dashes and minus made `-`. It is
/// hashed with a fixed-seed hash, so keys are stable across runs and threads.
fn key(line: &str) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `key_avx2` needs AVX2, which the CPU has (checked just
        // above).
        return unsafe { key_avx2(line) };
    }
    key_with(line, special_mask)
}

/// [`key`] with [`special_mask_avx2`] inlined: one check of the CPU per
/// line, not per block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn key_avx2(line: &str) -> u64 {
    key_with(line, |chunk| special_mask_avx2(chunk))
}

/// [`key`], with `mask` for [`special_mask`].
#[inline(always)]
fn key_with(line: &str, mask_of: impl Fn(&[u8; BLOCK + 1]) -> u64) -> u64 {
    let bytes = line.as_bytes();
    SCRATCH.with(|scratch| {
        let mut canon = scratch.borrow_mut();
        canon.clear();
        // Runs of plain bytes (and single spaces inside them) are copied
        // whole; `run` is where the current one starts.
        let mut run = 0;
        let mut space = false; // a space is due before the next character
        let mut i = 0;
        // `mask` has a bit for each byte of `base..covered` that
        // [`special_mask`] says needs a look; the others are skipped.
        let (mut mask, mut base, mut covered) = (0u64, 0, 0);
        while i < bytes.len() {
            // A space is kept only after a kept byte (`i > run`): the
            // mask assumes that, so a space that starts a run needs a look.
            if i > run || bytes[i] != b' ' {
                if i >= covered {
                    let rest = &bytes[i..];
                    mask = match rest.first_chunk::<{ BLOCK + 1 }>() {
                        Some(chunk) => mask_of(chunk),
                        None => {
                            let mut chunk = [0u8; BLOCK + 1];
                            chunk[..rest.len()].copy_from_slice(rest);
                            mask_of(&chunk)
                        }
                    };
                    if rest.len() < BLOCK {
                        mask &= (1u64 << rest.len()) - 1;
                    }
                    base = i;
                    covered = i + rest.len().min(BLOCK);
                }
                let ahead = mask >> (i - base);
                if ahead == 0 {
                    i = covered;
                    continue;
                }
                let skip = ahead.trailing_zeros() as usize;
                if skip > 0 {
                    i += skip;
                    continue;
                }
            }
            let class = CLASS[usize::from(bytes[i])];
            if class == PLAIN
                || (bytes[i] == b' '
                    && i > run
                    && bytes
                        .get(i + 1)
                        .is_some_and(|&n| CLASS[usize::from(n)] == PLAIN))
            {
                i += 1;
                continue;
            }
            let c = match class {
                MULTI => line[i..].chars().next().unwrap_or(' '),
                _ => char::from(bytes[i]),
            };
            let dash = matches!(c, '\u{2013}' | '\u{2014}' | '\u{2212}');
            if class == MULTI && !is_space(c) && !is_quote(c) && !dash {
                i += c.len_utf8();
                continue;
            }
            if i > run {
                if space {
                    canon.push(b' ');
                    space = false;
                }
                canon.extend_from_slice(&bytes[run..i]);
            }
            if is_space(c) {
                space = !canon.is_empty();
            } else if dash {
                if space {
                    canon.push(b' ');
                    space = false;
                }
                canon.push(b'-');
            }
            i += c.len_utf8();
            run = i;
        }
        // A line that needed no change is hashed where it is.
        let tail = &bytes[run..];
        if canon.is_empty() {
            return hash(tail);
        }
        if !tail.is_empty() {
            if space {
                canon.push(b' ');
            }
            canon.extend_from_slice(tail);
        }
        hash(&canon)
    })
}

/// How many bytes [`special_mask`] looks at in one call.
const BLOCK: usize = 64;

/// Whether a byte may go into the canonical form as it is (given that the
/// byte before it does): not a space or control, not an ASCII quotation
/// mark, not a lead byte of the class `MULTI`.
fn kept(b: u8) -> bool {
    (b > b' ')
        & (b != b'"')
        & (b != b'\'')
        & (b != b'`')
        & (b != 0xC2)
        & !(0xE1..=0xE3).contains(&b)
}

/// One bit for each of the first [`BLOCK`] bytes of `chunk` that may not go
/// into the canonical form as it is, given that the byte before it does:
/// set for every byte that is not [`kept`] but single spaces before a kept
/// byte. (Controls are `PLAIN`: their bit only sends them to the
/// byte-by-byte path, which keeps them.) A zero byte after the text
/// (padding) is not kept, so a final space has its bit.
///
/// With AVX2 when the CPU has it (32 bytes per compare), else SSE2 (every
/// x86_64 CPU, 16 bytes); elsewhere, [`special_mask_portable`]. [`key`]
/// checks the CPU once per line.
fn special_mask(chunk: &[u8; BLOCK + 1]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: `special_mask_avx2` needs AVX2, which the CPU has
            // (checked just above; the answer is cached after the first call).
            return unsafe { special_mask_avx2(chunk) };
        }
        // SAFETY: `special_mask_sse2` needs only SSE2, which is part of the
        // x86_64 baseline: every x86_64 CPU has it and every x86_64 target
        // enables it, so the call cannot reach an unsupported instruction.
        unsafe { special_mask_sse2(chunk) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    special_mask_portable(chunk)
}

/// [`special_mask`] with SSE2: the bytes that are not kept and the spaces,
/// 16 at a time, each compare result gathered with one `pmovmskb`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn special_mask_sse2(chunk: &[u8; BLOCK + 1]) -> u64 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x,
        _mm_set1_epi8, _mm_sub_epi8,
    };
    let byte = |b: u8| _mm_set1_epi8(b as i8);
    let (mut not_kept, mut space) = (0u64, 0u64);
    for (n, c) in chunk.as_chunks::<16>().0.iter().enumerate() {
        // One 16-byte load (the two halves are put back together).
        let x = u128::from_le_bytes(*c);
        let v = _mm_set_epi64x((x >> 64) as i64, x as i64);
        // `b <= b' '` and `0xE1 <= b <= 0xE3`, unsigned: `min(x, m) == x`.
        let low = _mm_cmpeq_epi8(_mm_min_epu8(v, byte(b' ')), v);
        let e = _mm_sub_epi8(v, byte(0xE1));
        let lead = _mm_cmpeq_epi8(_mm_min_epu8(e, byte(2)), e);
        let marks = _mm_or_si128(
            _mm_or_si128(
                _mm_cmpeq_epi8(v, byte(b'"')),
                _mm_cmpeq_epi8(v, byte(b'\'')),
            ),
            _mm_or_si128(_mm_cmpeq_epi8(v, byte(b'`')), _mm_cmpeq_epi8(v, byte(0xC2))),
        );
        let out = _mm_or_si128(_mm_or_si128(low, lead), marks);
        not_kept |= u64::from(_mm_movemask_epi8(out) as u16) << (n * 16);
        let sp = _mm_cmpeq_epi8(v, byte(b' '));
        space |= u64::from(_mm_movemask_epi8(sp) as u16) << (n * 16);
    }
    let keep = !not_kept;
    let next = (keep >> 1) | (u64::from(kept(chunk[BLOCK])) << (BLOCK - 1));
    !(keep | (space & next))
}

/// [`special_mask_sse2`] with AVX2: 32 bytes per compare.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn special_mask_avx2(chunk: &[u8; BLOCK + 1]) -> u64 {
    use std::arch::x86_64::{
        _mm256_cmpeq_epi8, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set_epi64x, _mm256_set1_epi8, _mm256_sub_epi8,
    };
    let byte = |b: u8| _mm256_set1_epi8(b as i8);
    let (mut not_kept, mut space) = (0u64, 0u64);
    for (n, c) in chunk.as_chunks::<32>().0.iter().enumerate() {
        // One 32-byte load (the four quarters are put back together).
        let (q, _) = c.as_chunks::<16>();
        let (lo, hi) = (u128::from_le_bytes(q[0]), u128::from_le_bytes(q[1]));
        let v = _mm256_set_epi64x((hi >> 64) as i64, hi as i64, (lo >> 64) as i64, lo as i64);
        let low = _mm256_cmpeq_epi8(_mm256_min_epu8(v, byte(b' ')), v);
        let e = _mm256_sub_epi8(v, byte(0xE1));
        let lead = _mm256_cmpeq_epi8(_mm256_min_epu8(e, byte(2)), e);
        let marks = _mm256_or_si256(
            _mm256_or_si256(
                _mm256_cmpeq_epi8(v, byte(b'"')),
                _mm256_cmpeq_epi8(v, byte(b'\'')),
            ),
            _mm256_or_si256(
                _mm256_cmpeq_epi8(v, byte(b'`')),
                _mm256_cmpeq_epi8(v, byte(0xC2)),
            ),
        );
        let out = _mm256_or_si256(_mm256_or_si256(low, lead), marks);
        not_kept |= u64::from(_mm256_movemask_epi8(out) as u32) << (n * 32);
        let sp = _mm256_cmpeq_epi8(v, byte(b' '));
        space |= u64::from(_mm256_movemask_epi8(sp) as u32) << (n * 32);
    }
    let keep = !not_kept;
    let next = (keep >> 1) | (u64::from(kept(chunk[BLOCK])) << (BLOCK - 1));
    !(keep | (space & next))
}

/// [`special_mask`] in plain Rust: branch-free, so that the comparisons
/// compile to vector instructions; the bits are gathered eight bytes at a
/// time. The SSE2 version is tested against it.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn special_mask_portable(chunk: &[u8; BLOCK + 1]) -> u64 {
    let mut keep = [false; BLOCK + 1];
    for k in 0..=BLOCK {
        keep[k] = kept(chunk[k]);
    }
    let mut special = [0u8; BLOCK];
    for k in 0..BLOCK {
        let ok = keep[k] | ((chunk[k] == b' ') & keep[k + 1]);
        special[k] = u8::from(!ok);
    }
    let mut mask = 0;
    for n in 0..BLOCK / 8 {
        // Bytes 0 or 1: the multiplication moves byte `j`'s bit to bit
        // `56 + j`, without carries.
        let v = u64::from_le_bytes(std::array::from_fn(|j| special[n * 8 + j]));
        mask |= (v.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (n * 8);
    }
    mask
}

/// `str::trim`, with a fast path: ASCII whitespace (the line end) is cut
/// byte by byte, and the character-by-character trim runs only when a
/// non-ASCII byte or U+000B (which `trim_ascii` keeps) is then at an end.
fn trim(line: &str) -> &str {
    let t = line.trim_ascii();
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(&a), Some(&z)) if a.is_ascii() && z.is_ascii() && a != 0x0B && z != 0x0B => t,
        _ => t.trim(),
    }
}

/// `char::is_whitespace`, without a table lookup.
fn is_space(c: char) -> bool {
    matches!(
        c as u32,
        0x9..=0xD | 0x20 | 0x85 | 0xA0 | 0x1680 | 0x2000..=0x200A | 0x2028 | 0x2029 | 0x202F | 0x205F | 0x3000
    )
}

/// Quotation marks other than the ASCII ones: dropped from keys.
fn is_quote(c: char) -> bool {
    matches!(
        c,
        '\u{B4}'
            | '\u{201C}'
            | '\u{201D}'
            | '\u{201E}'
            | '\u{201F}'
            | '\u{AB}'
            | '\u{BB}'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201A}'
            | '\u{201B}'
            | '\u{2039}'
            | '\u{203A}'
    )
}

/// The hash of a canonical line.
fn hash(canonical: &[u8]) -> u64 {
    let mut h = foldhash::quality::FixedState::with_seed(0x6d65_6e64).build_hasher();
    h.write(canonical);
    h.finish()
}

thread_local! {
    /// The canonical form of a line, reused from line to line.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Default for Corpus {
    fn default() -> Self {
        Corpus::with_limit(MAX_LINES)
    }
}

/// Where a key falls in the key space, for the sampling of a full table
/// (a bijective mix, so that it does not follow the table's own hash).
fn sample(k: u64) -> u64 {
    let mut x = k ^ (k >> 31);
    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29)
}

impl Corpus {
    /// An empty corpus.
    pub fn new() -> Corpus {
        Corpus::default()
    }

    /// An empty corpus that holds at most `limit` distinct lines.
    pub fn with_limit(limit: usize) -> Corpus {
        Corpus {
            cutoff: u64::MAX,
            limit: limit.max(1),
            counts: HashMap::default(),
            docs: 0,
            fingerprint: std::sync::OnceLock::new(),
        }
    }

    fn admitted(&self, k: u64) -> bool {
        sample(k) <= self.cutoff
    }

    /// Halves the share of lines kept until the table fits its limit.
    fn shrink(&mut self) {
        while self.counts.len() > self.limit {
            self.cutoff >>= 1;
            let cutoff = self.cutoff;
            self.counts.retain(|&k, _| sample(k) <= cutoff);
        }
    }

    /// Counts the distinct non-empty trimmed lines of one document.
    pub fn add_document(&mut self, text: &str) {
        // This document's number: above every mark in the table (those of
        // merged tables are 0).
        let doc = self.docs.wrapping_add(1);
        // Lines split at `\n` with memchr; the trim drops a `\r` before it.
        let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
        let mut start = 0;
        for end in ends {
            let line = trim(&text[start..end]);
            start = end + 1;
            if !line.is_empty() {
                let k = key(line);
                if self.admitted(k) {
                    let (n, last) = self.counts.entry(k).or_insert((0, 0));
                    if *last != doc {
                        *n += 1;
                        *last = doc;
                    }
                    if self.counts.len() > self.limit {
                        self.shrink();
                    }
                }
            }
        }
        self.docs += 1;
    }

    /// Adds the counts of `other` (for counting in parallel).
    pub fn merge(&mut self, other: Corpus) {
        if other.cutoff < self.cutoff {
            self.cutoff = other.cutoff;
            let cutoff = self.cutoff;
            self.counts.retain(|&k, _| sample(k) <= cutoff);
        }
        for (k, (n, _)) in other.counts {
            if self.admitted(k) {
                self.counts.entry(k).or_insert((0, 0)).0 += n;
            }
        }
        self.shrink();
        self.docs += other.docs;
    }

    /// In how many documents the trimmed `line` occurs.
    pub fn doc_count(&self, line: &str) -> u32 {
        let k = key(trim(line));
        if !self.admitted(k) {
            return 1; // not counted: read as seen once, so never chrome
        }
        self.counts.get(&k).map_or(0, |&(n, _)| n)
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
                .fold(mix(u64::from(self.docs)), |acc, (&k, &(n, _))| {
                    acc.wrapping_add(mix(k ^ mix(u64::from(n))))
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents with many distinct lines and some shared ones.
    fn documents() -> Vec<String> {
        (0..60)
            .map(|d| {
                let mut doc = String::from("Subscribe to our newsletter\nAll rights reserved.\n");
                for l in 0..40 {
                    doc.push_str(&format!("Line {l} of story {d}, shared {}.\n", l % 7));
                }
                doc
            })
            .collect()
    }

    #[test]
    fn a_full_table_keeps_a_share_of_lines_whatever_the_order() {
        let docs = documents();
        let count = |order: &[usize], parts: usize| {
            let mut total = Corpus::with_limit(100);
            for chunk in order.chunks(order.len().div_ceil(parts)) {
                let mut c = Corpus::with_limit(100);
                for &i in chunk {
                    c.add_document(&docs[i]);
                }
                total.merge(c);
            }
            total
        };
        let forward: Vec<usize> = (0..docs.len()).collect();
        let backward: Vec<usize> = forward.iter().rev().copied().collect();
        let a = count(&forward, 1);
        let b = count(&backward, 3);
        let c = count(&forward, 7);
        assert!(
            a.counts.len() <= 100 && a.cutoff < u64::MAX,
            "{}",
            a.counts.len()
        );
        let counts = |c: &Corpus| -> HashMap<u64, u32> {
            c.counts.iter().map(|(&k, &(n, _))| (k, n)).collect()
        };
        assert_eq!(counts(&a), counts(&b));
        assert_eq!(counts(&a), counts(&c));
        assert_eq!(a.fingerprint(), c.fingerprint());
        // Kept lines have exact counts; the others read as seen once.
        let full = count(&forward, 1).counts.len();
        assert!(full > 0);
        let unbounded = {
            let mut u = Corpus::new();
            for d in &docs {
                u.add_document(d);
            }
            u
        };
        let mut kept = 0;
        for line in docs.iter().flat_map(|d| d.lines()) {
            let n = a.doc_count(line);
            if a.admitted(key(line.trim())) {
                kept += 1;
                assert_eq!(n, unbounded.doc_count(line), "{line}");
            } else {
                assert_eq!(n, 1, "{line}");
            }
        }
        assert!(kept > 0);
        // Negative: under the limit nothing is dropped.
        assert_eq!(unbounded.cutoff, u64::MAX);
        assert_eq!(unbounded.doc_count("Subscribe to our newsletter"), 60);
    }

    #[test]
    fn trim_is_str_trim() {
        for s in [
            // Ends in ASCII after the ASCII cut.
            "  Subscribe \r",
            "x",
            "",
            " \t ",
            // Negative: the full trim is needed.
            "\u{A0}Subscribe\u{3000}\r",
            "\u{B}Subscribe\u{B}",
            "Путин ",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn is_space_is_char_is_whitespace() {
        for c in (0..0x11_0000).filter_map(char::from_u32) {
            assert_eq!(is_space(c), c.is_whitespace(), "{c:?}");
        }
    }

    #[test]
    fn counts_documents_not_occurrences() {
        let mut c = Corpus::new();
        c.add_document("Subscribe\r\nA story.\nSubscribe");
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

    /// The canonical form, built the plain way, one character at a time.
    fn canonical(line: &str) -> String {
        let mut canon = String::new();
        let mut space = false;
        for c in line.chars() {
            if c.is_whitespace() {
                space = !canon.is_empty();
                continue;
            }
            if matches!(c, '"' | '\'' | '`') || is_quote(c) {
                continue;
            }
            if space {
                canon.push(' ');
                space = false;
            }
            canon.push(if matches!(c, '–' | '—' | '−') {
                '-'
            } else {
                c
            });
        }
        canon
    }

    #[test]
    fn keys_hash_the_canonical_form() {
        let lines = [
            "",
            " ",
            "\"\"",
            "plain line",
            "  two  spaces  ",
            "a \" b",
            "\" Hello\"",
            "said \"Hello\" and 'bye'",
            "x\u{A0}\u{A0}y\u{3000}z\u{85}",
            "\u{201C}Follow us\u{201D} on\u{A0}Telegram \u{2013} now ",
            "tab\there\x0bvt\x0cff\rcr",
            "ctrl\u{1}\u{1f}\u{7f} x",
            "a —b— c − d",
            "«Путин» сказал: „да“ ‹x› ‚y‛ ´z",
            "end with space ",
            "a ' b",
            "'a' \"b\" `c`",
            "a \u{2019}b",
            "emoji 👩\u{200D}💻 ok",
        ];
        for line in lines {
            assert_eq!(key(line), hash(canonical(line).as_bytes()), "{line:?}");
        }
    }

    #[test]
    fn long_keys_skip_plain_blocks_and_look_at_the_rest() {
        // Plain lines longer than a block: skipped 64 bytes at a time.
        let plain = "The ministry said on Tuesday that the talks would go on next week";
        assert_eq!(key(plain), hash(plain.as_bytes()));
        assert_eq!(special_mask(&[b'a'; BLOCK + 1]), 0);
        // Negative: bytes that need a look have their bit, wherever they are.
        let mut chunk = [b'a'; BLOCK + 1];
        chunk[0] = b'"';
        chunk[5] = b' ';
        chunk[6] = b' ';
        chunk[20] = 0xE2;
        chunk[31] = b' ';
        chunk[32] = 0xC2;
        chunk[40] = b'`';
        chunk[47] = 0xE3;
        chunk[48] = 0xE4;
        chunk[50] = b'\t';
        chunk[63] = b' ';
        chunk[64] = b'\'';
        // Byte 6, a space before a plain byte, has none: after byte 5 it starts
        // a run, which `key` checks itself.
        let want = 1 | 1 << 5 | 1 << 20 | 1 << 31 | 1 << 32 | 1 << 40 | 1 << 47 | 1 << 50 | 1 << 63;
        assert_eq!(special_mask(&chunk), want);
        assert_eq!(special_mask_portable(&chunk), want);
        assert_eq!(simd_masks(&chunk), [want; 2]);
        for line in [
            format!("{plain} \u{201C}quoted\u{201D}  twice {plain}"),
            format!("{plain}\" {plain}"),
            format!("{plain} \u{2013} {plain} ' {plain}\u{A0}"),
            format!("{}\u{2014}x", "a".repeat(31)),
            format!("{}\u{2014}x", "a".repeat(63)),
            format!("{} \"  b{}", "a".repeat(30), "c".repeat(40)),
            format!("{} \"  b{}", "a".repeat(62), "c".repeat(70)),
            format!("{}\t\u{1}{} ", "a".repeat(32), "b ".repeat(40)),
            format!("{} {}", "a".repeat(63), "b".repeat(64)),
            format!("{}  {}", "a".repeat(64), "b".repeat(64)),
        ] {
            assert_eq!(key(&line), hash(canonical(&line).as_bytes()), "{line:?}");
        }
    }

    /// [`special_mask_sse2`] and [`special_mask_avx2`] (the portable
    /// answer for each one the CPU lacks).
    fn simd_masks(chunk: &[u8; BLOCK + 1]) -> [u64; 2] {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is in the x86_64 baseline; AVX2 is checked.
            let sse2 = unsafe { special_mask_sse2(chunk) };
            let avx2 = if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: checked just above.
                unsafe { special_mask_avx2(chunk) }
            } else {
                special_mask_portable(chunk)
            };
            [sse2, avx2]
        }
        #[cfg(not(target_arch = "x86_64"))]
        [special_mask_portable(chunk); 2]
    }

    #[test]
    fn special_mask_with_sse2_and_avx2_is_the_portable_one() {
        // Every byte value at every position, before and after each class.
        let probes = [
            0u8, 1, 9, 0x0B, b' ', b'!', b'"', b'\'', b'`', b'a', 0x7F, 0x80, 0xC1, 0xC2, 0xC3,
            0xD0, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xF0, 0xFF,
        ];
        for b in 0..=255u8 {
            for &p in &probes {
                for at in [0, 1, 15, 16, 31, 32, 47, 48, 62, 63, 64] {
                    let mut chunk = [p; BLOCK + 1];
                    chunk[at] = b;
                    assert_eq!(
                        special_mask(&chunk),
                        special_mask_portable(&chunk),
                        "{b:#x} {p:#x} {at}"
                    );
                    let want = [special_mask_portable(&chunk); 2];
                    assert_eq!(simd_masks(&chunk), want, "{b:#x} {p:#x} {at}");
                }
            }
        }
        // Random chunks over the bytes that matter.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            let chunk: [u8; BLOCK + 1] = std::array::from_fn(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                probes[(seed >> 33) as usize % probes.len()]
            });
            assert_eq!(
                special_mask(&chunk),
                special_mask_portable(&chunk),
                "{chunk:?}"
            );
            let want = [special_mask_portable(&chunk); 2];
            assert_eq!(simd_masks(&chunk), want, "{chunk:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn keys_hash_the_canonical_form_of_any_line(
            line in "[ a-z\"'`\t\u{A0}\u{2013}\u{201C}\u{2019}\u{3000}\u{1}é\u{1EA0}\u{1680}\u{2026}\u{B4}\u{A9}\u{2212}\u{2014}Пд東]{0,24}|([a-zП-я]{1,9} ?){0,12}( |  |'|\u{A0}|\u{201C}|\t|\u{2013}|\u{A9})?([a-zП-я]{1,9} ?){0,12}"
        ) {
            proptest::prop_assert_eq!(key(&line), hash(canonical(&line).as_bytes()));
        }

        #[test]
        fn keys_of_long_lines_hash_the_canonical_form(
            line in "([a-zП-я]{1,12}( |  |'|\"|\u{A0}|\u{201C}|\t|\u{2013}|\u{A9}| \u{2019} |, )){0,40}"
        ) {
            proptest::prop_assert_eq!(key(&line), hash(canonical(&line).as_bytes()));
        }
    }
}
