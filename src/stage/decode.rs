//! Stage 1, decode: bytes to text.
//!
//! Order of decisions, cheapest first:
//! 1. a byte-order mark (UTF-8, UTF-16LE/BE) decides, and is removed as an edit;
//! 2. valid UTF-8 is borrowed as it is (no copy);
//! 3. mostly-valid UTF-8 stays UTF-8, each malformed sequence becoming U+FFFD
//!    with the bytes kept in the edit;
//! 4. NUL bytes in the pattern of UTF-16 without a BOM mean UTF-16; other NUL
//!    bytes mean a binary file, which is an error;
//! 5. anything else is a legacy encoding, guessed by chardetng and decoded by
//!    encoding_rs; malformed sequences become edits as in 3.
//!
//! Every decode is checked to be reversible: re-encoding the text and putting
//! back the bytes of the edits must give the input. If it does not (an
//! encoder that cannot express what its decoder produced), the whole input
//! becomes one edit that keeps its bytes, so nothing is ever lost.

use std::borrow::Cow;
use std::ops::Range;

use encoding_rs::{DecoderResult, EncoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE};

use crate::edit::Rule;
use crate::stage::Stage;

/// A byte-order mark at the start of the input.
///
/// Why: it is an encoding signature, not text; left in, it would be an
/// invisible U+FEFF at the start of the first line.
/// Example: `EF BB BF Moscow` -> `Moscow`
/// Risk: none; the mark is kept in the notes.
pub static BYTE_ORDER_MARK: Rule = Rule::new(
    Stage::Decode,
    "byte-order-mark",
    "byte-order mark removed (its bytes are kept in the notes)",
);

/// A byte sequence that is not valid in the input's encoding.
///
/// Why: a damaged or truncated file; the bytes cannot be text.
/// Example: `caf\xE9 au lait` in a UTF-8 file -> `caf\u{FFFD} au lait`
/// Risk: none; U+FFFD marks the place and the bytes are kept as hex.
pub static INVALID_BYTES: Rule = Rule::new(
    Stage::Decode,
    "invalid-bytes",
    "bytes not valid in the encoding replaced by U+FFFD (bytes kept in the notes)",
);

/// Input that could not be decoded reversibly.
///
/// Why: some legacy encoders cannot express every character their decoder
/// produces; rather than lose bytes, the whole input is kept in the edit.
/// Example: (has not been seen in practice)
/// Risk: none; notes carry the input whole.
pub static IRREVERSIBLE_DECODE: Rule = Rule::new(
    Stage::Decode,
    "irreversible-decode",
    "decoding could not be reversed exactly; original bytes kept whole in the notes",
);

/// The rules of this stage.
pub static RULES: &[&Rule] = &[&BYTE_ORDER_MARK, &INVALID_BYTES, &IRREVERSIBLE_DECODE];

/// How the encoding was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// A byte-order mark.
    Bom,
    /// Valid UTF-8 (or pure ASCII).
    Utf8,
    /// Mostly valid UTF-8 with some malformed sequences.
    Utf8WithErrors,
    /// UTF-16 recognised from its NUL-byte pattern, without a BOM.
    Utf16Pattern,
    /// Guessed by chardetng.
    Guessed,
    /// Given by the user (`--encoding`).
    Forced,
}

impl Detection {
    /// Name for the notes header.
    pub fn name(self) -> &'static str {
        match self {
            Detection::Bom => "bom",
            Detection::Utf8 => "utf-8",
            Detection::Utf8WithErrors => "utf-8-with-errors",
            Detection::Utf16Pattern => "utf-16-pattern",
            Detection::Guessed => "guessed",
            Detection::Forced => "forced",
        }
    }
}

/// One decode edit: bytes `src` of the input became `inserted` at `out` in the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeEdit {
    /// Byte span in the input.
    pub src: Range<usize>,
    /// Byte span in the decoded text.
    pub out: Range<usize>,
    /// The rule.
    pub rule: &'static Rule,
}

/// The result of decoding.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The text.
    pub text: Cow<'a, str>,
    /// The encoding the text was decoded from.
    pub encoding: &'static Encoding,
    /// How that encoding was chosen.
    pub detection: Detection,
    /// Edits, in order: the BOM, malformed sequences.
    pub edits: Vec<DecodeEdit>,
}

/// Why bytes could not be decoded at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A NUL byte outside any UTF-16 pattern: the file is binary.
    Binary {
        /// Offset of the first NUL byte.
        offset: usize,
    },
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::Binary { offset } => {
                write!(f, "binary file, skipped (NUL byte at offset {offset})")
            }
        }
    }
}

/// Decodes `bytes`. With `forced`, that encoding is used (a BOM of the same
/// encoding is still removed). With `detect == false` (the decode stage
/// skipped) the input is taken as UTF-8 and a BOM stays in the text.
pub fn decode<'a>(
    bytes: &'a [u8],
    forced: Option<&'static Encoding>,
    detect: bool,
) -> Result<Decoded<'a>, DecodeError> {
    if let Some(enc) = forced {
        let bom = match Encoding::for_bom(bytes) {
            Some((e, len)) if e == enc => len,
            _ => 0,
        };
        return Ok(decode_with(bytes, enc, bom, Detection::Forced));
    }
    if detect && let Some((enc, len)) = Encoding::for_bom(bytes) {
        return Ok(decode_with(bytes, enc, len, Detection::Bom));
    }
    if let Some(offset) = memchr::memchr(0, bytes) {
        if detect && let Some(enc) = utf16_pattern(bytes) {
            return Ok(decode_with(bytes, enc, 0, Detection::Utf16Pattern));
        }
        return Err(DecodeError::Binary { offset });
    }
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            encoding: UTF_8,
            detection: Detection::Utf8,
            edits: Vec::new(),
        });
    }
    if !detect || mostly_utf8(bytes) {
        let detection = if detect {
            Detection::Utf8WithErrors
        } else {
            Detection::Utf8
        };
        return Ok(decode_utf8_lossy(bytes, detection));
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(bytes, true);
    let enc = det.guess(None, false);
    Ok(decode_with(bytes, enc, 0, Detection::Guessed))
}

/// Whether invalid UTF-8 is still better read as UTF-8: its valid
/// multi-byte characters clearly outnumber its runs of malformed bytes.
/// Legacy Cyrillic or Latin text almost never forms valid multi-byte
/// sequences; damaged UTF-8 has a few clumps of bad bytes (a truncated or
/// overlong sequence, an encoded surrogate), each counted once.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let mut valid = 0usize;
    let mut runs = 0usize;
    let mut in_run = false;
    for chunk in bytes.utf8_chunks() {
        let v = chunk.valid();
        valid += v.chars().filter(|c| !c.is_ascii()).count();
        if !v.is_empty() {
            in_run = false;
        }
        if !chunk.invalid().is_empty() {
            runs += usize::from(!in_run);
            in_run = true;
        }
    }
    valid >= 2 * runs
}

/// UTF-16 without a BOM: in text mostly of ASCII, every other byte is NUL.
fn utf16_pattern(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let (mut even, mut odd) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    if odd * 10 >= pairs * 3 && even * 20 <= pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 3 && odd * 20 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// UTF-8 with each maximal malformed subpart replaced by U+FFFD.
fn decode_utf8_lossy(bytes: &[u8], detection: Detection) -> Decoded<'_> {
    let mut text = String::with_capacity(bytes.len() + 16);
    let mut edits = Vec::new();
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        at += chunk.valid().len();
        let bad = chunk.invalid();
        if !bad.is_empty() {
            let out = text.len();
            text.push('\u{FFFD}');
            edits.push(DecodeEdit {
                src: at..at + bad.len(),
                out: out..text.len(),
                rule: &INVALID_BYTES,
            });
            at += bad.len();
        }
    }
    Decoded {
        text: Cow::Owned(text),
        encoding: UTF_8,
        detection,
        edits,
    }
}

/// Decodes with `enc` after a BOM of `bom` bytes, then checks the result
/// is reversible.
fn decode_with<'a>(
    bytes: &'a [u8],
    enc: &'static Encoding,
    bom: usize,
    detection: Detection,
) -> Decoded<'a> {
    let mut edits = Vec::new();
    if bom > 0 {
        edits.push(DecodeEdit {
            src: 0..bom,
            out: 0..0,
            rule: &BYTE_ORDER_MARK,
        });
    }
    let body = &bytes[bom..];
    let text: Cow<'_, str> = if enc == UTF_8 {
        match simdutf8::basic::from_utf8(body) {
            Ok(t) => Cow::Borrowed(t),
            Err(_) => {
                let d = decode_utf8_lossy(body, detection);
                edits.extend(d.edits.into_iter().map(|e| DecodeEdit {
                    src: e.src.start + bom..e.src.end + bom,
                    ..e
                }));
                d.text
            }
        }
    } else {
        Cow::Owned(decode_legacy(body, bom, enc, &mut edits))
    };
    let decoded = Decoded {
        text,
        encoding: enc,
        detection,
        edits,
    };
    if enc == UTF_8 || encode(&decoded.text, enc, &decoded.edits, bytes).as_deref() == Some(bytes) {
        return decoded;
    }
    // Not reversible: keep the bytes whole.
    Decoded {
        edits: vec![DecodeEdit {
            src: 0..bytes.len(),
            out: 0..decoded.text.len(),
            rule: &IRREVERSIBLE_DECODE,
        }],
        ..decoded
    }
}

fn decode_legacy(
    body: &[u8],
    offset: usize,
    enc: &'static Encoding,
    edits: &mut Vec<DecodeEdit>,
) -> String {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let cap = decoder
        .max_utf8_buffer_length_without_replacement(body.len())
        .unwrap_or(body.len() * 3 + 16);
    let mut text = String::with_capacity(cap);
    let mut read_total = 0;
    loop {
        let (result, read) =
            decoder.decode_to_string_without_replacement(&body[read_total..], &mut text, true);
        read_total += read;
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => text.reserve(body.len() - read_total + 64),
            DecoderResult::Malformed(bad, after) => {
                let end = read_total - usize::from(after);
                let start = end - usize::from(bad);
                let out = text.len();
                text.push('\u{FFFD}');
                edits.push(DecodeEdit {
                    src: offset + start..offset + end,
                    out: out..text.len(),
                    rule: &INVALID_BYTES,
                });
            }
        }
    }
    text
}

/// Re-encodes decoded `text` with `enc`, putting back the input bytes of
/// each edit from `original`. `None` if some character cannot be encoded.
pub(crate) fn encode(
    text: &str,
    enc: &'static Encoding,
    edits: &[DecodeEdit],
    original: &[u8],
) -> Option<Vec<u8>> {
    let parts: Vec<(Range<usize>, &[u8])> = edits
        .iter()
        .map(|e| (e.out.clone(), original.get(e.src.clone()).unwrap_or(&[])))
        .collect();
    encode_parts(text, enc, &parts)
}

/// Re-encodes `text` with `enc`, replacing each text span of `parts` by its bytes.
pub(crate) fn encode_parts(
    text: &str,
    enc: &'static Encoding,
    parts: &[(Range<usize>, &[u8])],
) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut pos = 0;
    for (span, bytes) in parts {
        let seg = text.get(pos..span.start)?;
        encode_segment(seg, enc, &mut out)?;
        out.extend_from_slice(bytes);
        pos = span.end;
    }
    encode_segment(text.get(pos..)?, enc, &mut out)?;
    Some(out)
}

fn encode_segment(seg: &str, enc: &'static Encoding, out: &mut Vec<u8>) -> Option<()> {
    if seg.is_empty() {
        return Some(());
    }
    if enc == UTF_8 {
        out.extend_from_slice(seg.as_bytes());
    } else if enc == UTF_16LE || enc == UTF_16BE {
        for unit in seg.encode_utf16() {
            let b = if enc == UTF_16LE {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            };
            out.extend_from_slice(&b);
        }
    } else {
        let mut encoder = enc.new_encoder();
        let mut read_total = 0;
        let mut buf = vec![0u8; seg.len() * 4 + 16];
        loop {
            let (result, read, written) =
                encoder.encode_from_utf8_without_replacement(&seg[read_total..], &mut buf, true);
            out.extend_from_slice(&buf[..written]);
            read_total += read;
            match result {
                EncoderResult::InputEmpty => break,
                EncoderResult::OutputFull => {}
                EncoderResult::Unmappable(_) => return None,
            }
        }
    }
    Some(())
}

/// Maps byte offsets in the decoded text back to byte offsets in the input.
pub(crate) struct SourceMap<'a> {
    text: &'a str,
    encoding: &'static Encoding,
    edits: &'a [DecodeEdit],
}

impl<'a> SourceMap<'a> {
    pub(crate) fn new(text: &'a str, encoding: &'static Encoding, edits: &'a [DecodeEdit]) -> Self {
        SourceMap {
            text,
            encoding,
            edits,
        }
    }

    /// Input offsets of `positions` (decoded-text offsets, each flagged
    /// `true` when it ends a span), written in place. Free for UTF-8; one
    /// pass over the text for other encodings.
    ///
    /// A position strictly inside an edit's text maps to the edit's input
    /// start (for a start) or end (for an end). At a removed BOM, a start
    /// maps after it and an end before it.
    pub(crate) fn map(&self, positions: &mut [(usize, bool)]) {
        let mut order: Vec<usize> = (0..positions.len()).collect();
        order.sort_by_key(|&i| positions[i]);
        // Walk cursor for legacy encodings: (base edit index + 1 or 0, text offset, input offset).
        let mut cursor: (usize, usize, usize) = (usize::MAX, 0, 0);
        for i in order {
            let (pos, end) = positions[i];
            let inside = self.edits.partition_point(|e| e.out.end <= pos);
            if let Some(e) = self.edits.get(inside).filter(|e| e.out.start < pos) {
                positions[i].0 = if end { e.src.end } else { e.src.start };
                continue;
            }
            // The last edit wholly before pos is the base of its segment.
            let base = self.edits.partition_point(|e| {
                e.out.end < pos || (e.out.end == pos && !(end && e.out.is_empty()))
            });
            let (out_base, src_base) = match base.checked_sub(1) {
                Some(k) => (self.edits[k].out.end, self.edits[k].src.end),
                None => (0, 0),
            };
            let Some(seg) = self.text.get(out_base..pos) else {
                positions[i].0 = src_base;
                continue;
            };
            positions[i].0 = if self.encoding == UTF_8 {
                src_base + seg.len()
            } else {
                if cursor.0 != base || cursor.1 > pos {
                    cursor = (base, out_base, src_base);
                }
                let walked = self.text.get(cursor.1..pos).unwrap_or("");
                cursor.2 += walked.chars().map(|c| self.encoded_len(c)).sum::<usize>();
                cursor.1 = pos;
                cursor.2
            };
        }
    }

    fn encoded_len(&self, c: char) -> usize {
        if self.encoding == UTF_16LE || self.encoding == UTF_16BE {
            c.len_utf16() * 2
        } else if self.encoding.is_single_byte() {
            1
        } else {
            let mut buf = [0u8; 4];
            let mut out = Vec::new();
            match encode_segment(c.encode_utf8(&mut buf), self.encoding, &mut out) {
                Some(()) => out.len(),
                None => c.len_utf8(),
            }
        }
    }
}

/// Hex of `bytes`, lower case, for the notes.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Bytes of lower- or upper-case hex; `None` if malformed.
pub(crate) fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks_exact(2)
        .map(|p| {
            let d = |b: u8| (b as char).to_digit(16);
            Some((d(p[0])? * 16 + d(p[1])?) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{KOI8_R, WINDOWS_1251, WINDOWS_1252};

    fn round_trip(bytes: &[u8]) -> Decoded<'_> {
        let d = decode(bytes, None, true).expect("decodes");
        let back = encode(&d.text, d.encoding, &d.edits, bytes).expect("encodes");
        assert_eq!(back, bytes, "not reversible: {:?}", d);
        d
    }

    #[test]
    fn valid_utf8_is_borrowed() {
        let d = round_trip("Путин said “hi”".as_bytes());
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert_eq!(d.detection, Detection::Utf8);
        assert!(d.edits.is_empty());
    }

    #[test]
    fn utf8_bom_is_an_edit() {
        let d = round_trip(b"\xEF\xBB\xBFabc");
        assert_eq!(d.text, "abc");
        assert_eq!(d.edits[0].rule, &BYTE_ORDER_MARK);
        assert_eq!(d.edits[0].src, 0..3);
        // Negative: a U+FEFF later in the text is not a BOM.
        let d = round_trip("a\u{FEFF}b".as_bytes());
        assert!(d.edits.is_empty());
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let mut le = vec![0xFF, 0xFE];
        for u in "Привет, world".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        let d = round_trip(&le);
        assert_eq!(d.text, "Привет, world");
        assert_eq!(d.encoding, UTF_16LE);
        let mut be = Vec::new();
        for u in "Hello there, world".encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        let d = round_trip(&be);
        assert_eq!(d.encoding, UTF_16BE);
        assert_eq!(d.detection, Detection::Utf16Pattern);
        assert_eq!(d.text, "Hello there, world");
    }

    #[test]
    fn malformed_utf8_becomes_edits() {
        let bytes = "caf\u{e9} – ok, “fine” and "
            .as_bytes()
            .iter()
            .copied()
            .chain(*b"\xE9\xFF end")
            .collect::<Vec<_>>();
        let d = round_trip(&bytes);
        assert_eq!(d.detection, Detection::Utf8WithErrors);
        assert_eq!(d.edits.len(), 2);
        assert!(d.text.ends_with("\u{FFFD}\u{FFFD} end"));
    }

    #[test]
    fn clumps_of_bad_bytes_count_once() {
        // Four clumps (truncated, overlong, surrogate, out of range) among
        // eleven valid multi-byte characters: still UTF-8.
        let mut bytes = "na\u{ef}ve r\u{e9}sum\u{e9}, \u{41c}\u{43e}\u{441}\u{43a}\u{432}\u{430}, Z\u{fc}rich: "
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(b"\xE2\x82 \xC0\xAF \xED\xA0\x80 \xF5\xFF.");
        assert!(mostly_utf8(&bytes));
        // Legacy Latin text: a bad byte in every accented word, nothing valid.
        let (cp1252, _, _) =
            encoding_rs::WINDOWS_1252.encode("na\u{ef}ve r\u{e9}sum\u{e9} caf\u{e9}");
        assert!(!mostly_utf8(&cp1252));
    }

    #[test]
    fn legacy_cyrillic_is_detected() {
        let src = "Президент России Владимир Путин заявил в среду, что переговоры продолжатся.";
        let (cp1251, _, _) = WINDOWS_1251.encode(src);
        let d = round_trip(&cp1251);
        assert_eq!(d.encoding, WINDOWS_1251);
        assert_eq!(d.text, src);
        let (koi, _, _) = KOI8_R.encode(src);
        let d = round_trip(&koi);
        // chardetng reports KOI8-U for KOI8-R text (a superset for these letters).
        assert!(
            d.encoding == KOI8_R || d.encoding == encoding_rs::KOI8_U,
            "{:?}",
            d.encoding
        );
        assert_eq!(d.text, src);
    }

    #[test]
    fn legacy_latin_is_detected() {
        let src = "Le café était fermé, déjà à midi ; la rédaction s’est excusée.";
        let (bytes, _, _) = WINDOWS_1252.encode(src);
        let d = round_trip(&bytes);
        assert_eq!(d.text, src);
    }

    #[test]
    fn irreversible_decode_keeps_the_bytes_whole() {
        // ISO-2022-JP: a redundant escape to ASCII decodes to nothing, and
        // the encoder does not write it back.
        let bytes = b"\x1b(Babc";
        let d = decode(bytes, Some(encoding_rs::ISO_2022_JP), true).expect("decodes");
        assert_eq!(d.text, "abc");
        assert_eq!(d.edits.len(), 1);
        assert_eq!(d.edits[0].rule, &IRREVERSIBLE_DECODE);
        assert_eq!(d.edits[0].src, 0..bytes.len());
        let back = encode(&d.text, d.encoding, &d.edits, bytes).expect("encodes");
        assert_eq!(back, bytes);
        // Negative: text that round-trips needs no such edit.
        let d = decode(b"abc", Some(encoding_rs::ISO_2022_JP), true).expect("decodes");
        assert!(d.edits.is_empty());
    }

    #[test]
    fn binary_is_an_error() {
        assert_eq!(
            decode(
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x01\x02\xff",
                None,
                true
            )
            .unwrap_err(),
            DecodeError::Binary { offset: 8 }
        );
    }

    #[test]
    fn forced_encoding() {
        let d = decode("Ã©".as_bytes(), Some(WINDOWS_1252), true).expect("decodes");
        assert_eq!(d.text, "Ã\u{192}Â©");
        assert_eq!(d.detection, Detection::Forced);
    }

    #[test]
    fn source_map_legacy() {
        let src = "Путин said";
        let (bytes, _, _) = WINDOWS_1251.encode(src);
        let d = decode(&bytes, Some(WINDOWS_1251), true).expect("decodes");
        let m = SourceMap::new(&d.text, d.encoding, &d.edits);
        let mut p = vec![(10, false), (11, false), (15, true)];
        m.map(&mut p);
        assert_eq!(p, vec![(5, false), (6, false), (10, true)]);
    }

    #[test]
    fn source_map_utf8_with_bom_and_errors() {
        let bytes = b"\xEF\xBB\xBFab\xFFcd";
        let d = decode(bytes, None, true).expect("decodes");
        assert_eq!(d.text, "ab\u{FFFD}cd");
        let m = SourceMap::new(&d.text, d.encoding, &d.edits);
        let mut p = vec![(0, false), (2, false), (5, true), (5, false), (7, true)];
        m.map(&mut p);
        assert_eq!(
            p,
            vec![(3, false), (5, false), (6, true), (6, false), (8, true)]
        );
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(to_hex(&[0, 0xAB, 0xFF]), "00abff");
        assert_eq!(from_hex("00abFF"), Some(vec![0, 0xAB, 0xFF]));
        assert_eq!(from_hex("0"), None);
        assert_eq!(from_hex("zz"), None);
    }
}
